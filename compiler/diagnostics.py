"""Diagnostics: what every pass returns instead of raising.

Rendered like rustc: `error[E0402]: message`, a `-->` location, the source
line with carets under the span, secondary labels, and a `help:` line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from .source import SourceFile, Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Label:
    """A secondary span with a note, e.g. 'first defined here'."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    hint: str | None = None
    label: str | None = None
    labels: tuple[Label, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def severity(self) -> Severity:
        return Severity.WARNING if self.code.startswith("W") else Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        s = self.span
        return (s.file, s.line, s.col, self.code) if s else ("", 0, 0, self.code)

    def to_json(self) -> dict:
        def span_json(s: Span | None) -> dict | None:
            return s.model_dump() if s else None

        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "span": span_json(self.span),
            "label": self.label,
            "hint": self.hint,
            "labels": [{"span": span_json(lb.span), "message": lb.message} for lb in self.labels],
            "notes": list(self.notes),
        }


class Sink:
    """Collects diagnostics from a pass; passes never raise for user errors."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, d: Diagnostic) -> None:
        self.items.append(d)

    def error(self, code: str, message: str, span: Span | None, **kw) -> None:
        self.items.append(Diagnostic(code, message, span, **kw))

    warn = error

    def extend(self, ds: Iterable[Diagnostic]) -> None:
        self.items.extend(ds)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)


# --- rendering -------------------------------------------------------------

_ANSI = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "bold": "\x1b[1m",
    "blue": "\x1b[1;34m",
    "help": "\x1b[1;36m",
    "reset": "\x1b[0m",
}


def _style(text: str, key: str, colour: bool) -> str:
    return f"{_ANSI[key]}{text}{_ANSI['reset']}" if colour else text


def _excerpt(
    src: SourceFile, span: Span, label: str | None, gutter: int, colour: bool, mark: str, key: str
) -> list[str]:
    bar = _style(" " * gutter + " |", "blue", colour)
    lines = []
    text = src.line_text(span.line).expandtabs(1)
    num = _style(str(span.line).rjust(gutter) + " |", "blue", colour)
    lines.append(f"{num} {text}")
    end_col = span.end_col if span.end_line == span.line else len(text) + 1
    width = max(1, end_col - span.col)
    carets = " " * (span.col - 1) + mark * width
    suffix = f" {label}" if label else ""
    lines.append(f"{bar} {_style(carets + suffix, key, colour)}")
    return lines


def render(d: Diagnostic, sources: dict[str, SourceFile], colour: bool = False) -> str:
    sev = d.severity.value
    head = _style(f"{sev}[{d.code}]", sev, colour) + _style(f": {d.message}", "bold", colour)
    out = [head]
    spans = [d.span] + [lb.span for lb in d.labels] if d.span else [lb.span for lb in d.labels]
    gutter = max((len(str(s.line)) for s in spans), default=1)
    if d.span:
        out.append(f"{' ' * gutter}{_style('-->', 'blue', colour)} {d.span}")
        src = sources.get(d.span.file)
        if src:
            out.append(_style(" " * gutter + " |", "blue", colour))
            out.extend(_excerpt(src, d.span, d.label, gutter, colour, "^", sev))
    for lb in d.labels:
        src = sources.get(lb.span.file)
        if not src:
            continue
        if not d.span or lb.span.file != d.span.file:
            out.append(f"{' ' * gutter}{_style('::>', 'blue', colour)} {lb.span}")
        out.append(_style(" " * gutter + " |", "blue", colour))
        out.extend(_excerpt(src, lb.span, lb.message, gutter, colour, "-", "blue"))
    tail = []
    for note in d.notes:
        tail.append(f"{' ' * gutter} = {_style('note', 'bold', colour)}: {note}")
    if d.hint:
        tail.append(f"{' ' * gutter} = {_style('help', 'help', colour)}: {d.hint}")
    if tail:
        out.append(_style(" " * gutter + " |", "blue", colour))
        out.extend(tail)
    return "\n".join(out)


def render_all(ds: Iterable[Diagnostic], sources: dict[str, SourceFile], colour: bool = False) -> str:
    ds = sorted(ds, key=Diagnostic.sort_key)
    parts = [render(d, sources, colour) for d in ds]
    errors = sum(d.is_error for d in ds)
    warnings = len(ds) - errors
    if errors or warnings:
        summary = []
        if errors:
            summary.append(f"{errors} error{'s' if errors != 1 else ''}")
        if warnings:
            summary.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        parts.append(", ".join(summary) + " emitted")
    return "\n\n".join(parts)


def to_json(ds: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in sorted(ds, key=Diagnostic.sort_key)], indent=2)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Closest candidate by edit distance, rustc-style, or None if none is close."""
    import difflib

    pool = sorted(set(candidates))
    match = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            return lowered[name.lower()]
        return None
    return match[0]
