"""`filmc fmt`: one canonical layout for .film files, built from the AST and its comments.

The formatter re-emits every token exactly as it was lexed (strings,
quantities, colours, parentheticals) and only changes the layout around
them: two-space indents, one statement per line, K&R braces, one space
between atoms, a blank line between top-level items. Comments stay where
the reader left them: a comment after code stays at the end of that line,
a comment on its own line stays before the statement that follows it.

Because only whitespace and statement separators change, the checked film
cannot change; every result is re-parsed and compared with the original
AST (spans aside) before anything is written, so a formatter bug can never
silently rewrite a film.
"""

from __future__ import annotations

import bisect
import difflib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path

from filmc.atomic import write_text

from . import ast
from .diagnostics import Diagnostic, render_all
from .modules import display_path
from .source import SourceFile, Span
from .syntax import parse_source

INDENT = "  "
_STRING = re.compile(r'"([^"\\\n]|\\.)*"')
_BARE_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
# A bare number followed by one of these words would lex as one quantity (`-20 dB`).
_SPACED_UNITS = {"dB", "LUFS", "wpm"}
_DIFF_LINES = 40

Pos = tuple[int, int]


class FormatError(Exception):
    """The file has syntax errors: it is reported, never rewritten."""

    def __init__(self, diagnostics: list[Diagnostic], source: SourceFile) -> None:
        super().__init__(f"{source.path}: {len(diagnostics)} syntax error(s)")
        self.diagnostics = diagnostics
        self.source = source

    def render(self, colour: bool = False) -> str:
        return render_all(self.diagnostics, {self.source.path: self.source}, colour)


class FormatterBug(RuntimeError):
    """The layout would have changed the film's meaning; nothing is written."""


# --- public API -----------------------------------------------------------------


def format_source(text: str, path: str = "<input>") -> str:
    """The canonical layout of `text`; raises `FormatError` when it has syntax errors."""
    src = SourceFile(path, text)
    module, diags = parse_source(src)
    if diags:
        raise FormatError(diags, src)
    out = _Printer(src, module).run()
    _ensure_same_meaning(module, out, path)
    return out


def format_paths(files: Iterable[Path], check: bool, colour: bool) -> int:
    """Format files in place (or, with `check`, only report).

    Exit status: 0 all formatted, 1 syntax errors (or, with `check`, files that would
    change), 2 unreadable files, 3 a formatter bug (that file is left untouched)."""
    status = 0
    for path in files:
        shown = display_path(Path(path))
        try:
            raw = Path(path).read_bytes()
        except OSError as err:
            print(f"filmc: error: cannot read {shown}: {err.strerror or err}", file=sys.stderr)
            status = max(status, 2)
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            print(f"filmc: error: {shown} is not valid UTF-8 (byte {err.start}); not formatted", file=sys.stderr)
            status = max(status, 2)
            continue
        try:
            formatted = format_source(text, shown)
        except FormatError as err:
            print(err.render(colour), file=sys.stderr)
            status = max(status, 1)
            continue
        except FormatterBug as err:
            print(f"filmc: internal error: {err}\n  = note: this is a bug in filmc fmt, not in your film; "
                  "please report it with the file", file=sys.stderr)
            status = max(status, 3)
            continue
        if formatted.encode("utf-8") == raw:
            continue
        if check:
            print(f"would reformat {shown}")
            print(_short_diff(text, formatted, shown, colour))
            status = max(status, 1)
        else:
            _write_atomically(Path(path), formatted)
            print(f"reformatted {shown}")
    return status


# --- output ----------------------------------------------------------------------


def _short_diff(before: str, after: str, shown: str, colour: bool) -> str:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), f"{shown} (original)",
                                      f"{shown} (formatted)", n=1, lineterm=""))
    more = len(lines) - _DIFF_LINES
    lines = lines[:_DIFF_LINES]
    if colour:
        paint = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}
        lines = [f"{paint[ln[0]]}{ln}\x1b[0m" if ln[:1] in paint else ln for ln in lines]
    if more > 0:
        lines.append(f"... ({more} more diff lines)")
    return "\n".join(lines)


def _write_atomically(path: Path, text: str) -> None:
    write_text(path, text, keep_mode=True)


# --- the safety net --------------------------------------------------------------


def ast_shape(node: object) -> object:
    """An AST node as nested tuples with every span left out: what the film *means* to the parser."""
    if isinstance(node, Span):
        return None
    if isinstance(node, ast.Module):
        return tuple(ast_shape(i) for i in node.items)
    if is_dataclass(node):
        return (type(node).__name__,) + tuple(
            ast_shape(getattr(node, f.name)) for f in fields(node) if not f.name.endswith("span"))
    if isinstance(node, tuple | list):
        return tuple(ast_shape(x) for x in node)
    return node


def _ensure_same_meaning(module: ast.Module, out: str, path: str) -> None:
    again, diags = parse_source(SourceFile(path, out))
    same = (not diags and ast_shape(again) == ast_shape(module)
            and [c.text for c in again.comments] == [c.text for c in module.comments])
    if not same:
        raise FormatterBug(f"formatting {path} would change its meaning or lose a comment; the file is left as is")


# --- layout ----------------------------------------------------------------------


def _start(span: Span) -> Pos:
    return (span.line, span.col)


def _end(span: Span) -> Pos:
    return (span.end_line, span.end_col)


def _block_open(block: ast.Block) -> Pos:
    """Where the `{` token ends."""
    return (block.span.line, block.span.col + 1)


@dataclass
class _Line:
    depth: int
    text: str
    anchor: Pos | None = None
    """End of the last source token on this line; trailing comments attach here."""
    blank_before: bool = False


@dataclass
class _Element:
    """One thing at one level of nesting: a statement, an item or a standalone comment."""

    node: object
    start: Pos
    end_line: int


class _Printer:
    def __init__(self, src: SourceFile, module: ast.Module) -> None:
        self.src = src
        self.module = module
        self.lines: list[_Line] = []
        anchors = sorted(set(self._anchors()))
        self.trailing: dict[Pos, ast.Comment] = {}
        standalone: list[ast.Comment] = []
        for c in module.comments:
            at = _start(c.span)
            i = bisect.bisect_right(anchors, at) - 1
            if c.trailing and i >= 0 and anchors[i][0] == at[0] and anchors[i] not in self.trailing:
                self.trailing[anchors[i]] = c
            else:
                standalone.append(c)
        self.standalone = sorted(standalone, key=lambda c: _start(c.span))

    # --- anchors: the tokens a comment can follow on its line --------------------

    def _anchors(self) -> Iterator[Pos]:
        for item in self.module.items:
            yield _end(item.span)
            block = getattr(item, "block", None)
            if block is not None:
                yield from self._block_anchors(block)

    def _block_anchors(self, block: ast.Block) -> Iterator[Pos]:
        yield _block_open(block)
        yield _end(block.span)
        for stmt in block.stmts:
            yield _end(stmt.span)
            inner = getattr(stmt, "block", None)
            if inner is not None:
                yield from self._block_anchors(inner)

    # --- source helpers -----------------------------------------------------------

    def offset(self, pos: Pos) -> int:
        return self.src._line_starts[pos[0] - 1] + pos[1] - 1

    def text_of(self, span: Span) -> str:
        return self.src.text[self.offset(_start(span)):self.offset(_end(span))]

    def string_after(self, pos: Pos) -> str:
        """The first string token at or after `pos`, exactly as written."""
        m = _STRING.search(self.src.text, self.offset(pos))
        assert m is not None
        return m.group(0)

    def blank_between(self, end_line: int, start_line: int) -> bool:
        return any(not self.src.line_text(n).strip() for n in range(end_line + 1, start_line))

    # --- driver -------------------------------------------------------------------

    def run(self) -> str:
        self.top_level()
        return self.render()

    def render(self) -> str:
        out: list[str] = []
        for line in self.lines:
            if line.blank_before and out:
                out.append("")
            text = INDENT * line.depth + line.text
            comment = self.trailing.get(line.anchor) if line.anchor else None
            if comment is not None:
                text += " " + comment.text
            out.append(text)
        return "\n".join(out) + "\n" if out else ""

    def take_comments_before(self, pos: Pos) -> list[ast.Comment]:
        taken = []
        while self.standalone and _start(self.standalone[0].span) < pos:
            taken.append(self.standalone.pop(0))
        return taken

    def emit_comment(self, c: ast.Comment, depth: int, blank: bool) -> None:
        self.lines.append(_Line(depth, c.text, None, blank))

    # --- top level ----------------------------------------------------------------

    def top_level(self) -> None:
        previous: _Element | None = None
        previous_item: ast.Item | None = None
        for item in self.module.items:
            comments = self.take_comments_before(_start(item.span))
            for i, c in enumerate(comments):
                blank = previous is not None and self.blank_between(previous.end_line, c.span.line)
                if i == 0 and previous_item is not None and not _groupable(previous_item, item):
                    blank = True
                self.emit_comment(c, 0, blank)
                previous = _Element(c, _start(c.span), c.span.line)
            blank = previous is not None and self.blank_between(previous.end_line, item.span.line)
            if not comments and previous_item is not None and not _groupable(previous_item, item):
                blank = True
            self.item(item, blank)
            previous = _Element(item, _start(item.span), item.span.end_line)
            previous_item = item
        for c in self.take_comments_before((sys.maxsize, 0)):
            blank = previous is not None and self.blank_between(previous.end_line, c.span.line)
            self.emit_comment(c, 0, blank)
            previous = _Element(c, _start(c.span), c.span.line)

    def item(self, item: ast.Item, blank: bool) -> None:
        if isinstance(item, ast.Film):
            self.with_block(f"film {self.text_of(item.title_span)}", item.block, 0, blank)
        elif isinstance(item, ast.Import):
            target = item.target if item.is_std else self.string_after(_start(item.span))
            self.lines.append(_Line(0, f"import {target}", _end(item.span), blank))
        elif isinstance(item, ast.Act):
            words = ["act", item.number]
            if item.title is not None:
                # The number is a quantity; the title is the only string after it.
                words.append(self.string_after((item.span.line, item.span.col + 3)))
            self.lines.append(_Line(0, " ".join(words), _end(item.span), blank))
        elif isinstance(item, ast.Definition):
            self.definition(item, blank)
        elif isinstance(item, ast.Scene):
            self.with_block(self.scene_header(item), item.block, 0, blank)
        else:  # pragma: no cover - the AST has no other items
            raise TypeError(f"unknown item {type(item).__name__}")

    def definition(self, d: ast.Definition, blank: bool) -> None:
        words = [d.kind, d.name]
        if d.title is not None:
            words.append(self.string_after(_end(d.name_span)))
        if d.extends is not None:
            words += ["extends", d.extends.dotted]
        header = " ".join(words)
        if d.block is None:
            self.lines.append(_Line(0, header, _end(d.span), blank))
        else:
            self.with_block(header, d.block, 0, blank)

    def scene_header(self, s: ast.Scene) -> str:
        words = ["scene", s.name]
        if s.title is not None:
            words.append(self.string_after(_end(s.name_span)))
        words += ["at", f"{s.location.dotted},", s.time]
        if s.cast:
            members = []
            for m in s.cast:
                members.append(m.name if m.paren_span is None else f"{m.name} {self.text_of(m.paren_span)}")
            words += ["with", ", ".join(members)]
        return " ".join(words)

    # --- blocks and statements -------------------------------------------------------

    def with_block(self, header: str, block: ast.Block, depth: int, blank: bool) -> None:
        """`header {`, the statements one level deeper, then `}`; an empty block stays `{}`."""
        inside = any(_start(block.span) < _start(c.span) < _end(block.span)
                     for c in [*self.standalone, *self.trailing.values()])
        if not block.stmts and not inside:
            self.lines.append(_Line(depth, header + " {}", _end(block.span), blank))
            return
        self.lines.append(_Line(depth, header + " {", _block_open(block), blank))
        previous_end = block.span.line
        first = True
        for stmt in block.stmts:
            for c in self.take_comments_before(_start(stmt.span)):
                self.emit_comment(c, depth + 1, not first and self.blank_between(previous_end, c.span.line))
                previous_end, first = c.span.line, False
            self.statement(stmt, depth + 1, not first and self.blank_between(previous_end, stmt.span.line))
            previous_end, first = stmt.span.end_line, False
        for c in self.take_comments_before(_start(_end_token(block))):
            self.emit_comment(c, depth + 1, not first and self.blank_between(previous_end, c.span.line))
            previous_end, first = c.span.line, False
        self.lines.append(_Line(depth, "}", _end(block.span)))

    def statement(self, stmt: ast.Statement, depth: int, blank: bool) -> None:
        if isinstance(stmt, ast.Property):
            header = self.words([stmt.key], stmt.atoms, depth)
            block = stmt.block
        elif isinstance(stmt, ast.Event):
            header = self.words([stmt.subject, stmt.verb], stmt.atoms, depth)
            block = None
        elif isinstance(stmt, ast.Dialogue):
            cue = " ".join([stmt.speaker] + [self.text_of(span) for _, span in stmt.parens])
            header = f"{cue}: {self.text_of(stmt.text_span)}"
            block = None
        elif isinstance(stmt, ast.Shot):
            words = ["shot"]
            if stmt.name is not None:
                words.append(f"{stmt.name}:")
            words.append(stmt.type.dotted)
            if stmt.duration is not None:
                words.append(stmt.duration.text)
            if stmt.subjects:
                words += ["on", ", ".join(name for name, _ in stmt.subjects)]
            header = " ".join(words)
            block = stmt.block
        else:  # pragma: no cover - the AST has no other statements
            raise TypeError(f"unknown statement {type(stmt).__name__}")
        if block is None:
            self.lines.append(_Line(depth, header, _end(stmt.span), blank))
        else:
            self.with_block(header, block, depth, blank)

    def words(self, head: list[str], atoms: tuple[ast.Atom, ...], depth: int) -> str:
        """`key a, b -> c`: one space between atoms, `, ` after commas, tokens as lexed."""
        text = " ".join(head)
        previous: ast.Atom | None = None
        for atom in atoms:
            if atom.kind == "comma":
                text += ","
            elif (previous is not None and previous.kind == "quantity" and _BARE_NUMBER.match(previous.text)
                  and atom.kind == "ref" and atom.text.split(".")[0] in _SPACED_UNITS):
                # `5` then the name `dB` must not become the quantity `5 dB`: continue the line instead.
                text += " \\\n" + INDENT * (depth + 2) + atom.text
            else:
                text += " " + atom.text
            previous = atom
        return text


def _end_token(block: ast.Block) -> Span:
    """The span of a block's closing `}`."""
    s = block.span
    return Span.model_construct(file=s.file, line=s.end_line, col=s.end_col - 1, end_line=s.end_line,
                                end_col=s.end_col)


def _group(item: ast.Item) -> tuple[str, ...] | None:
    """Items that may sit on consecutive lines without a blank line between them."""
    if isinstance(item, ast.Import):
        return ("import",)
    if isinstance(item, ast.Act):
        return ("act",)
    if isinstance(item, ast.Definition) and item.block is None:
        return ("definition", item.kind)
    return None


def _groupable(a: ast.Item, b: ast.Item) -> bool:
    group = _group(a)
    return group is not None and group == _group(b)
