"""The .film abstract syntax tree: plain, immutable nodes with exact spans.

The parser (`syntax.py`) builds these from lark's parse tree; nothing here
knows about meaning. `lower.py` turns them into the typed IR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .source import Span

AtomKind = Literal["string", "quantity", "hex", "resolution", "timecode", "ref", "comma", "arrow"]


@dataclass(frozen=True, slots=True)
class Atom:
    """One value token in a property: `"text"`, `8.2s`, `#c9a227`, `std.noir`, `,`, `->`."""

    kind: AtomKind
    text: str
    span: Span

    @property
    def string_value(self) -> str:
        """The decoded value of a string atom."""
        body = self.text[1:-1]
        return body.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n")


@dataclass(frozen=True, slots=True)
class Ref:
    parts: tuple[str, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Property:
    key: str
    key_span: Span
    atoms: tuple[Atom, ...]
    block: Block | None
    span: Span


@dataclass(frozen=True, slots=True)
class Event:
    """A continuity event: `rae becomes bloody`, `rae takes baton`, `rae exits`."""

    subject: str
    subject_span: Span
    verb: str
    atoms: tuple[Atom, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Dialogue:
    speaker: str
    speaker_span: Span
    parens: tuple[tuple[str, Span], ...]
    text: str
    text_span: Span
    span: Span


@dataclass(frozen=True, slots=True)
class Shot:
    name: str | None
    type: Ref
    duration: Atom | None
    subjects: tuple[tuple[str, Span], ...]
    block: Block | None
    span: Span
    header_span: Span


Statement = Property | Event | Dialogue | Shot


@dataclass(frozen=True, slots=True)
class Block:
    stmts: tuple[Statement, ...]
    span: Span

    def properties(self) -> list[Property]:
        return [s for s in self.stmts if isinstance(s, Property)]


@dataclass(frozen=True, slots=True)
class Film:
    title: str
    title_span: Span
    block: Block
    span: Span


@dataclass(frozen=True, slots=True)
class Import:
    target: str
    is_std: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Act:
    number: str
    title: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Definition:
    kind: str
    name: str
    name_span: Span
    title: str | None
    extends: Ref | None
    block: Block | None
    span: Span


@dataclass(frozen=True, slots=True)
class Member:
    """A cast member in a scene header, with its declared starting state `(bloody, not tired)`."""

    name: str
    name_span: Span
    paren: str | None
    paren_span: Span | None
    span: Span


@dataclass(frozen=True, slots=True)
class Scene:
    name: str
    name_span: Span
    title: str | None
    location: Ref
    time: str
    time_span: Span
    cast: tuple[Member, ...]
    block: Block
    span: Span
    header_span: Span


Item = Film | Import | Act | Definition | Scene


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    span: Span
    trailing: bool  # on the same line as code before it


@dataclass(slots=True)
class Module:
    path: str
    items: list[Item]
    comments: list[Comment] = field(default_factory=list)
