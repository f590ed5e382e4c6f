"""Property tests for `filmc fmt` on generated films: idempotent, meaning-preserving, canonical.

The generator (`film_programs` in conftest.py) writes valid films with random
layout: spacing, tabs, form feeds, line continuations, `;`, blank lines,
CRLF, comments in every position, one-line and multi-line blocks.
"""

from __future__ import annotations

import os
import re

from filmc.compiler.fmt import ast_shape, format_source
from filmc.compiler.syntax import parse_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def scaled(examples: int) -> int:
    """FILMC_FUZZ_SCALE=20 runs twenty times the examples (a deep run; CI uses the default of 1)."""
    return max(1, round(examples * float(os.environ.get("FILMC_FUZZ_SCALE", "1"))))


MANY = settings(max_examples=scaled(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_canonical(text: str) -> None:
    """Two-space indents, no trailing space, no doubled blank lines, none just inside braces."""
    assert text == "" or (text.endswith("\n") and not text.endswith("\n\n") and not text.startswith("\n"))
    assert "\n\n\n" not in text and "\r" not in text  # the generator writes no CR inside strings or comments
    lines = text.split("\n")
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0 and not line[indent:indent + 1].isspace(), repr(line)
        if "#" not in line and '"' not in line:
            assert line == line.rstrip(), repr(line)
            assert not re.search(r"\s,|,(?=\S)|\s{2}", line.strip()), repr(line)
    for previous, line in zip(lines, lines[1:], strict=False):
        assert not (line == "" and previous.endswith("{") and "#" not in previous), "blank line after `{`"
        assert not (previous == "" and line.strip() == "}"), "blank line before `}`"


@MANY
@given(data=st.data())
def test_formatting_is_idempotent_canonical_and_keeps_the_ast(data, film_program_strategy) -> None:
    source = data.draw(film_program_strategy, label="source")
    once = format_source(source, "gen.film")
    assert format_source(once, "gen.film") == once
    assert_canonical(once)
    before, _ = parse_text(source)
    after, diags = parse_text(once)
    assert not diags
    assert ast_shape(after) == ast_shape(before)
    assert [c.text for c in after.comments] == [c.text for c in before.comments]


@FEW
@given(data=st.data())
def test_formatting_keeps_the_checked_ir(data, film_program_strategy, film_meaning, tmp_path_factory) -> None:
    """`check_file` before and after: the same IR (spans aside) and the same diagnostics."""
    source = data.draw(film_program_strategy, label="source")
    path = tmp_path_factory.mktemp("fmt") / "gen.film"
    path.write_text(source, encoding="utf-8", newline="")
    before = film_meaning(path)
    path.write_text(format_source(source, str(path)), encoding="utf-8")
    assert film_meaning(path) == before
