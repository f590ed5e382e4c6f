"""Whatever the screenplay, the import is a film that parses and checks without errors."""

from __future__ import annotations

import tempfile
from pathlib import Path

from filmc.compiler.fountain import parse
from filmc.compiler.fountain_to_film import convert
from fountain_helpers import check_diagnostics, parse_film
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FRAGMENTS = [
    "INT. KITCHEN - NIGHT", "EXT. STREET--DAY", "I/E CAR - CONTINUOUS", "EST. CITY - LATER", ".FLASHBACK",
    "INT. HOUSE - DAY #12A#", "int. attic - 3 AM", "EXT. MOON", "BOB", "ANN (V.O.)", "ANN (O.S.) (CONT'D)",
    "CARL ^", "@McDUFF", "O'NEILL (ON PHONE)", "(quietly)", "(beat)", "(", ")", "~La la la", "CUT TO:",
    "DISSOLVE TO:", "> FADE OUT.", "FADE IN:", "SMASH CUT TO:", ">THE END<", "===", "# Act", "## Sequence",
    "= A synopsis", "[[a note]]", "[[a note", "]]", "/*", "*/", "INSERT - THE KEY", "!LOUD ACTION",
    "Title: A Film", "Author: Someone", "  ", "", "*bold* _under_ \\*", 'He said "hi" \\ there.',
    "\u201cCurly\u201d \u2019quotes\u2019", "\tIndented action.", "SCENE", "VOICE", "2ND GUARD", "ZO\u00cb",
]  # fmt: skip

line = st.one_of(st.sampled_from(FRAGMENTS), st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                                     max_size=30))
screenplay = st.lists(line, max_size=40).map(lambda ls: "\n".join(ls))
separated = st.lists(st.tuples(line, st.sampled_from(["\n", "\n\n", "\r\n", "\r\n\r\n", "\r"])), max_size=40).map(
    lambda pairs: "".join(a + b for a, b in pairs))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(screenplay, separated))
def test_any_text_converts_to_a_film_that_parses(text):
    film = convert(parse(text), title="Fuzz")
    parse_film(film)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(screenplay, separated))
def test_any_text_converts_to_a_film_that_checks_clean(text):
    film = convert(parse(text), title="Fuzz")
    with tempfile.TemporaryDirectory() as tmp:
        assert check_diagnostics(film, Path(tmp)) == []
