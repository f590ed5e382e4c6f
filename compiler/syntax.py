"""Parsing: .film text -> AST (`ast.Module`) plus syntax diagnostics.

Uses the LALR grammar in `grammar/film.lark`. On a syntax error the file is
re-parsed one top-level item at a time, so every broken item is reported
once and every intact item still reaches the checker.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import lark
from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lark import PostLex

from . import ast
from .diagnostics import Diagnostic
from .source import SourceFile, Span

GRAMMAR_PATH = Path(__file__).resolve().parent.parent / "grammar" / "film.lark"
_PACKAGED_GRAMMAR = Path(__file__).resolve().parent / "film.lark"

TOP_LEVEL_KEYWORDS = (
    "film", "import", "act", "scene", "style", "grade", "voice", "character", "location", "prop",
    "shot_type", "camera_move", "camera_speed", "angle", "transition", "profile", "ambience",
    "music", "sfx", "time_of_day",
)  # fmt: skip
_ITEM_START = re.compile(r"^(?:{})\b".format("|".join(TOP_LEVEL_KEYWORDS)), re.M)


class _MergeNewlines(PostLex):
    """Collapse runs of statement ends (split by comment lines) into one `_NL`."""

    always_accept = ("_NL",)

    def process(self, stream):
        previous_was_newline = False
        for tok in stream:
            if tok.type == "_NL":
                if previous_was_newline:
                    continue
                previous_was_newline = True
            else:
                previous_was_newline = False
            yield tok


def grammar_text() -> str:
    path = GRAMMAR_PATH if GRAMMAR_PATH.exists() else _PACKAGED_GRAMMAR
    return path.read_text(encoding="utf-8")


# Comment tokens of the parse in progress. Lark binds lexer callbacks when it
# first builds each state's scanner, so the callback is fixed at construction
# and hands tokens to whichever parse is running.
_comment_lists: list[list[Token]] = []


def _on_comment(tok: Token) -> Token:
    if _comment_lists:
        _comment_lists[-1].append(tok)
    return tok


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    return lark.Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=_MergeNewlines(),
        lexer_callbacks={"COMMENT": _on_comment},
        cache=True,  # parser tables cached in the temp dir: ~9 ms instead of ~75 ms at start-up
    )


# --- errors in words ---------------------------------------------------------

_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a string ("...")',
    "QUANTITY": "a number (e.g. `6s`, `35mm`)",
    "HEX": "a colour (`#rrggbb`)",
    "RESOLUTION": "a resolution (`1920x1080`)",
    "TIMECODE": "a timecode (`01:00:00:00`)",
    "PAREN": "a parenthetical (`(V.O.)`)",
    "COMMA": "`,`",
    "ARROW": "`->`",
    "_NL": "end of line",
    "$END": "end of file",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "COLON": "`:`",
    "DOT": "`.`",
    "SEMICOLON": "`;`",
}


def _words(terminals: set[str]) -> str:
    names = []
    for t in sorted(terminals):
        if t in _TERMINAL_WORDS:
            names.append(_TERMINAL_WORDS[t])
        elif t.isupper() and t.isalpha():
            names.append(f"`{t.lower()}`")
        else:
            names.append(f"`{t}`")
    names = sorted(set(names))
    if len(names) > 8:
        names = names[:8] + ["..."]
    return ", ".join(names)


def _token_words(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_NL":
        return "end of line"
    if tok.type not in _TERMINAL_WORDS:
        return f"`{tok.value}`"
    noun = _TERMINAL_WORDS[tok.type].removeprefix("a ").removeprefix("an ").split(" (")[0]
    if noun.startswith("`"):  # punctuation names itself: "unexpected `{`", not "unexpected `{` `{`"
        return noun
    return f"{noun} `{tok.value}`"


def _syntax_diagnostic(err: UnexpectedInput, src: SourceFile) -> Diagnostic:
    if isinstance(err, UnexpectedCharacters):
        span = src.span(err.pos_in_stream, err.pos_in_stream + 1)
        ch = src.text[err.pos_in_stream] if err.pos_in_stream < len(src.text) else ""
        hint = None
        if ch == '"':
            hint = "strings must close on the same line: add the closing `\"`"
        elif ch == "#":
            hint = "comments start with `# ` (hash then space); colours are `#rrggbb`"
        return Diagnostic(
            "E0102",
            f"unexpected character `{ch}`",
            span,
            label="not valid here",
            hint=hint or f"expected {_words(set(err.allowed or ()))}",
        )
    if isinstance(err, UnexpectedToken | UnexpectedEOF):
        tok = err.token
        if tok.type == "$END" or isinstance(err, UnexpectedEOF):
            end = len(src.text)
            return Diagnostic(
                "E0103",
                "unexpected end of file",
                src.span(max(0, end - 1), end),
                label="file ends here",
                hint=f"expected {_words(set(err.expected))}; is a `}}` missing?",
            )
        start = tok.start_pos if tok.start_pos is not None else 0
        end = tok.end_pos if tok.end_pos is not None else start + 1
        if tok.type == "_NL":
            end = start + 1
        return Diagnostic(
            "E0101",
            f"unexpected {_token_words(tok)}",
            src.span(start, end),
            label="not expected here",
            hint=f"expected {_words(set(err.expected))}",
        )
    raise err  # pragma: no cover - lark raises only the kinds above


# --- tree -> AST -------------------------------------------------------------


class _Builder:
    """Turns lark's tree into `ast` nodes; one method per grammar rule."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.file = src.path

    def tok_span(self, t: Token) -> Span:
        return Span.model_construct(file=self.file, line=t.line, col=t.column, end_line=t.end_line, end_col=t.end_column)

    def meta_span(self, tree: Tree) -> Span:
        m = tree.meta
        if getattr(m, "empty", True):
            return Span.model_construct(file=self.file, line=1, col=1, end_line=1, end_col=1)
        return Span.model_construct(file=self.file, line=m.line, col=m.column, end_line=m.end_line, end_col=m.end_column)

    def join(self, a: Span, b: Span) -> Span:
        return Span.model_construct(file=self.file, line=a.line, col=a.col, end_line=b.end_line, end_col=b.end_col)

    def module(self, tree: Tree) -> list[ast.Item]:
        items: list[ast.Item] = []
        for child in tree.children:
            method = getattr(self, child.data)
            items.append(method(child))
        return items

    _ATOM_KIND = {
        "STRING": "string",
        "QUANTITY": "quantity",
        "HEX": "hex",
        "RESOLUTION": "resolution",
        "TIMECODE": "timecode",
        "COMMA": "comma",
        "ARROW": "arrow",
    }

    def atoms(self, children) -> tuple[ast.Atom, ...]:
        out = []
        for c in children:
            if isinstance(c, Tree):
                if c.data == "ref":
                    ref = self.ref(c)
                    out.append(ast.Atom("ref", ref.dotted, ref.span))
            elif c.type in self._ATOM_KIND:
                out.append(ast.Atom(self._ATOM_KIND[c.type], str(c), self.tok_span(c)))
        return tuple(out)

    def ref(self, tree: Tree) -> ast.Ref:
        parts = tuple(str(t) for t in tree.children)
        return ast.Ref(parts, self.meta_span(tree))

    def block(self, tree: Tree) -> ast.Block:
        stmts = []
        for c in tree.children:
            if isinstance(c, Tree):
                stmts.append(getattr(self, c.data)(c))
        return ast.Block(tuple(stmts), self.meta_span(tree))

    def film(self, tree: Tree) -> ast.Film:
        title, block = tree.children
        return ast.Film(ast.Atom("string", str(title), self.tok_span(title)).string_value,
                        self.tok_span(title), self.block(block), self.meta_span(tree))

    def import_(self, tree: Tree) -> ast.Import:
        (target,) = tree.children
        if isinstance(target, Token):
            value = ast.Atom("string", str(target), self.tok_span(target)).string_value
            return ast.Import(value, False, self.meta_span(tree))
        ref = self.ref(target)
        return ast.Import(ref.dotted, True, self.meta_span(tree))

    def act(self, tree: Tree) -> ast.Act:
        number = str(tree.children[0])
        title = None
        if len(tree.children) > 1:
            t = tree.children[1]
            title = ast.Atom("string", str(t), self.tok_span(t)).string_value
        return ast.Act(number, title, self.meta_span(tree))

    def definition(self, tree: Tree) -> ast.Definition:
        kind_tree, name, *rest = tree.children
        title = extends = block = None
        for c in rest:
            if isinstance(c, Token):
                title = ast.Atom("string", str(c), self.tok_span(c)).string_value
            elif c.data == "extends":
                extends = self.ref(c.children[0])
            elif c.data == "block":
                block = self.block(c)
        return ast.Definition(str(kind_tree.children[0]), str(name), self.tok_span(name), title,
                              extends, block, self.meta_span(tree))

    def property(self, tree: Tree) -> ast.Property:
        key = tree.children[0]
        block = None
        rest = tree.children[1:]
        if rest and isinstance(rest[-1], Tree) and rest[-1].data == "block":
            block = self.block(rest[-1])
            rest = rest[:-1]
        return ast.Property(str(key), self.tok_span(key), self.atoms(rest), block, self.meta_span(tree))

    def event(self, tree: Tree) -> ast.Event:
        subject, verb, *rest = tree.children
        return ast.Event(str(subject), self.tok_span(subject), str(verb.children[0]), self.atoms(rest),
                         self.meta_span(tree))

    def dialogue(self, tree: Tree) -> ast.Dialogue:
        speaker, *rest = tree.children
        text = rest[-1]
        parens = tuple((str(p)[1:-1].strip(), self.tok_span(p)) for p in rest[:-1])
        value = ast.Atom("string", str(text), self.tok_span(text)).string_value
        return ast.Dialogue(str(speaker), self.tok_span(speaker), parens, value, self.tok_span(text),
                            self.meta_span(tree))

    def shot(self, tree: Tree) -> ast.Shot:
        name = duration = block = None
        shot_type: ast.Ref | None = None
        subjects: tuple[tuple[str, Span], ...] = ()
        header_end = None
        for c in tree.children:
            if isinstance(c, Token):
                duration = ast.Atom("quantity", str(c), self.tok_span(c))
                header_end = duration.span
            elif c.data == "shot_name":
                name = str(c.children[0])
            elif c.data == "ref":
                shot_type = self.ref(c)
                header_end = shot_type.span
            elif c.data == "subjects":
                subjects = tuple((str(t), self.tok_span(t)) for t in c.children if t.type == "NAME")
                header_end = self.meta_span(c)
            elif c.data == "block":
                block = self.block(c)
        span = self.meta_span(tree)
        assert shot_type is not None and header_end is not None
        return ast.Shot(name, shot_type, duration, subjects, block, span, self.join(span, header_end))

    def scene(self, tree: Tree) -> ast.Scene:
        children = list(tree.children)
        name = children.pop(0)
        title = None
        if isinstance(children[0], Token) and children[0].type == "STRING":
            t = children.pop(0)
            title = ast.Atom("string", str(t), self.tok_span(t)).string_value
        location = self.ref(children.pop(0))
        children.pop(0)  # comma
        time = children.pop(0)
        cast: tuple[ast.Member, ...] = ()
        block = None
        for c in children:
            if c.data == "cast":
                cast = tuple(self.member(m) for m in c.children if isinstance(m, Tree))
            elif c.data == "block":
                block = self.block(c)
        assert block is not None
        span = self.meta_span(tree)
        header_end = cast[-1].span if cast else self.tok_span(time)
        return ast.Scene(str(name), self.tok_span(name), title, location, str(time), self.tok_span(time),
                         cast, block, span, self.join(span, header_end))

    def member(self, tree: Tree) -> ast.Member:
        name = tree.children[0]
        paren = paren_span = None
        if len(tree.children) > 1:
            p = tree.children[1]
            paren, paren_span = str(p)[1:-1], self.tok_span(p)
        return ast.Member(str(name), self.tok_span(name), paren, paren_span, self.meta_span(tree))


# --- entry points ------------------------------------------------------------


def _collect_comments(src: SourceFile, comment_tokens: list[Token]) -> list[ast.Comment]:
    out = []
    for t in comment_tokens:
        line_before = src.line_text(t.line)[: t.column - 1]
        out.append(ast.Comment(str(t).rstrip(), Span.model_construct(
            file=src.path, line=t.line, col=t.column, end_line=t.line, end_col=t.column + len(str(t).rstrip())),
            trailing=bool(line_before.strip())))
    return out


def _chunks(text: str) -> list[tuple[int, int]]:
    """Top-level items by their keyword at column 0: the unit of error recovery."""
    starts = [m.start() for m in _ITEM_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return [(s, e) for s, e in zip(starts, starts[1:] + [len(text)], strict=True)]


def parse_source(src: SourceFile) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file. Never raises for bad input: errors come back as diagnostics."""
    parser = _parser()
    builder = _Builder(src)
    comments: list[Token] = []
    try:
        tree = _parse_collecting(parser, src.text, comments)
        return ast.Module(src.path, builder.module(tree), _collect_comments(src, comments)), []
    except UnexpectedInput:
        pass
    items: list[ast.Item] = []
    diags: list[Diagnostic] = []
    comments = []
    for start, end in _chunks(src.text):
        # Pad with blank lines so positions in the chunk are positions in the file.
        prefix = src.text[:start]
        padded = re.sub(r"[^\n]", " ", prefix) + src.text[start:end]
        try:
            tree = _parse_collecting(parser, padded, comments)
            items.extend(builder.module(tree))
        except UnexpectedInput as err:
            diags.append(_syntax_diagnostic(err, src if end == len(src.text) else _Clipped(src, end)))
    return ast.Module(src.path, items, _collect_comments(src, comments)), diags


class _Clipped(SourceFile):
    """A view of a file that 'ends' where a chunk ends (for end-of-input errors)."""

    def __init__(self, src: SourceFile, end: int) -> None:
        self.path = src.path
        self.text = src.text[:end].rstrip()
        self._line_starts = src._line_starts


def _parse_collecting(parser: lark.Lark, text: str, comments: list[Token]) -> Tree:
    found: list[Token] = []
    _comment_lists.append(found)
    try:
        tree = parser.parse(text)
    finally:
        _comment_lists.pop()
    comments.extend(found)
    return tree


def parse_text(text: str, path: str = "<input>") -> tuple[ast.Module, list[Diagnostic]]:
    return parse_source(SourceFile(path, text))
