"""Whatever the input, the parser, the formatter and the whole checker answer without crashing.

Cheap parser-only properties run many examples; the full checker (which
also loads the standard library, about 50 ms a film) runs fewer. Inputs:
arbitrary unicode, soups of .film tokens, and mutations of real films
(token deletions, duplications and swaps, stray braces and quotes, random
characters, truncation).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from filmc.compiler.check import check_file
from filmc.compiler.diagnostics import render_all
from filmc.compiler.fmt import FormatError, ast_shape, format_source
from filmc.compiler.source import SourceFile
from filmc.compiler.syntax import parse_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
CORPUS = [p.read_text(encoding="utf-8") for p in sorted(
    [*ROOT.glob("examples/*/*.film"), *ROOT.glob("stdlib/*.film"), *ROOT.glob("tests/golden/fmt/*.input.film"),
     *ROOT.glob("tests/golden/diagnostics/*.film")]) if p.stat().st_size < 20_000]
SYNTAX_CODES = {"E0101", "E0102", "E0103"}


def scaled(examples: int) -> int:
    """FILMC_FUZZ_SCALE=20 runs twenty times the examples (a deep run; CI uses the default of 1)."""
    return max(1, round(examples * float(os.environ.get("FILMC_FUZZ_SCALE", "1"))))


MANY = settings(max_examples=scaled(1000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=scaled(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=scaled(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHECKED = settings(max_examples=scaled(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\\\r?\n|[ \t]+|\r?\n|[A-Za-z_][\w-]*|[+-]?\.?\d[\w.:%]*|.', re.S)
_VOCABULARY = [
    "film", "import", "act", "scene", "shot", "at", "with", "on", "extends", "when", "continuous",
    "character", "location", "prop", "style", "voice", "grade", "transition", "rae", "kai", "lot", "night",
    "enters", "exits", "becomes", "sheds", "takes", "drops", "gives", "to", "wears", "std", ".", "std.noir",
    "{", "}", "{", "}", "(", ")", ":", ",", "->", ";", "\n", "\n", "\r\n", "\\\n", " ", "\t",
    '"text"', '"esc \\" aped"', '"unterminated', '"', "5s", "0s", "-20 dB", "-14 LUFS", "35mm", "80%", "72f",
    "1920x1080", "1921x1081", "01:00:00:00", "#c9a227", "#ABC", "#12", "# comment", "#", "(V.O.)", "(bloody, not wet)",
    "(", "1.5", ".5", "-", "+", "x", "é", "東", "\x00", "\u2028", "\x0c", "\\",
]
_INSERTS = ["{", "}", '"', "(", ")", ":", ";", "\n", "\\", "#", ",", "->", "\x00", "\ufeff", "\u2028", "\t"]


def film_soup() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(_VOCABULARY), max_size=60).map(" ".join) | \
        st.lists(st.sampled_from(_VOCABULARY), max_size=60).map("".join)


@st.composite
def mutated(draw, sources: st.SearchStrategy[str]) -> str:
    """A real film after one to five edits that a typing accident might make."""
    tokens = _TOKEN.findall(draw(sources))
    for _ in range(draw(st.integers(1, 5))):
        if not tokens:
            tokens = [draw(st.sampled_from(_INSERTS))]
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "unicode", "unterminate", "truncate"]))
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "insert":
            tokens.insert(i, draw(st.sampled_from(_INSERTS)))
        elif op == "unicode":
            tokens.insert(i, draw(st.text(min_size=1, max_size=3)))
        elif op == "unterminate":
            quoted = [k for k, t in enumerate(tokens) if t.startswith('"') and len(t) > 1]
            if quoted:
                k = quoted[i % len(quoted)]
                tokens[k] = tokens[k][:-1]
        else:
            del tokens[i:]
    return "".join(tokens)


corpus = st.sampled_from(CORPUS)


def assert_parses_safely(text: str) -> None:
    """Parsing returns diagnostics (never raises), they point into the file, and they render."""
    src = SourceFile("fuzz.film", text)
    module, diags = parse_source(src)
    assert {d.code for d in diags} <= SYNTAX_CODES
    for d in diags:
        assert d.span is not None and 1 <= d.span.line <= src.line_count
    render_all(diags, {"fuzz.film": src})
    for c in module.comments:
        assert c.text.startswith("#")


def assert_formats_safely(text: str) -> None:
    """The formatter either refuses (syntax errors) or gives an idempotent layout of the same AST."""
    try:
        once = format_source(text, "fuzz.film")
    except FormatError as err:
        assert err.diagnostics and {d.code for d in err.diagnostics} <= SYNTAX_CODES
        err.render()
        return
    assert format_source(once, "fuzz.film") == once
    assert ast_shape(parse_source(SourceFile("a", once))[0]) == ast_shape(parse_source(SourceFile("a", text))[0])


# --- parser and formatter: many cheap examples -----------------------------------------------------


@MANY
@given(st.text(max_size=300))
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    assert_parses_safely(text)


@MANY
@given(film_soup())
def test_parser_and_formatter_on_token_soup(text: str) -> None:
    assert_parses_safely(text)
    assert_formats_safely(text)


@SOME
@given(mutated(corpus))
def test_parser_and_formatter_on_mutated_films(text: str) -> None:
    assert_parses_safely(text)
    assert_formats_safely(text)


@FEW
@given(data=st.data())
def test_parser_and_formatter_on_mutated_generated_films(data, film_program_strategy) -> None:
    text = data.draw(mutated(film_program_strategy), label="mutated")
    assert_parses_safely(text)
    assert_formats_safely(text)


# --- the whole checker: fewer, dearer examples ------------------------------------------------------


@CHECKED
@given(raw=st.one_of(st.text(max_size=200).map(str.encode), st.binary(max_size=200),
                     film_soup().map(str.encode), mutated(corpus).map(str.encode)))
def test_checker_never_raises(raw: bytes, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.film"
    path.write_bytes(raw)
    result = check_file(path)
    render_all(result.diagnostics, result.sources)
    if result.film is not None:
        result.film.model_dump_json()
