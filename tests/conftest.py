"""Shared helpers for the front-end tests: what a film means, with where it was written left out."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from filmc.compiler.check import check_file
from hypothesis import strategies as st


def without_spans(value: object) -> object:
    """JSON data with every source position removed (`span`, `*_span`, `*_spans`)."""
    if isinstance(value, dict):
        return {k: without_spans(v) for k, v in value.items()
                if not (k == "span" or k.endswith("_span") or k.endswith("_spans"))}
    if isinstance(value, list):
        return [without_spans(v) for v in value]
    return value


def meaning(path: Path) -> tuple[object, list[tuple[str, str, str | None]]]:
    """The checked IR of a film (spans excluded) and its diagnostics (code, message, hint), in order."""
    result = check_file(path)
    film = without_spans(json.loads(result.film.model_dump_json())) if result.film is not None else None
    return film, [(d.code, d.message, d.hint) for d in result.diagnostics]


@pytest.fixture(scope="session")
def film_meaning():
    """`film_meaning(path)` -> (IR without spans, diagnostics): equal before and after formatting."""
    return meaning


# --- a generator of valid .film programs in varied layouts ---------------------------------------
#
# A program is built as a tree of statements (tokens plus an optional block),
# close enough to a real film that every pass has work to do, then written
# out with random but valid layout: spaces, tabs, form feeds and line
# continuations between tokens; newlines, `;`, blank lines and comments between
# statements; blocks on one line or many.


@dataclass
class Stmt:
    tokens: list[str]
    block: list[Stmt] | None = None


KEYWORDS = {
    "film", "import", "act", "scene", "shot", "on", "with", "at", "extends", "enters", "exits", "becomes",
    "sheds", "takes", "drops", "gives", "wears", "continuous", "to", "from", "not", "wearing",
    "style", "grade", "voice", "character", "location", "prop", "shot_type", "camera_move", "camera_speed",
    "angle", "transition", "profile", "ambience", "music", "sfx", "time_of_day",
}
names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(lambda n: n not in KEYWORDS)


_STRING_POOL = [*"abcdefghij xyz,.:;#{}()-'", "\\\"", "\\\\", "\\n", "\t", "é", "ß", "東京", "✨", "\u2028", "\x0c", "\x00",
                "#c9a227", "1920x1080", "-20 dB", "\u202e", "\U0001f3ac"]


def _string(rng: random.Random) -> str:
    """A string token: unicode, escapes and look-alikes of other tokens inside the quotes."""
    return '"' + "".join(rng.choice(_STRING_POOL) for _ in range(rng.randrange(0, 14))) + '"'


def seconds() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(1, 12).map(lambda n: f"{n}s"), st.sampled_from(["500ms", "12f", "72f", "1.5s", "2.25s"]))


def level() -> st.SearchStrategy[str]:
    return st.integers(-40, 0).map(lambda n: f"{n}{' ' if n % 2 else chr(9)}dB")


@st.composite
def voice(draw, rng: random.Random, name: str) -> Stmt:
    body = [Stmt(["engine", "espeak"]), Stmt(["language", draw(st.sampled_from(["en-us", "en-gb", "fr-fr"]))])]
    if draw(st.booleans()):
        body.append(Stmt(["pitch", str(draw(st.integers(0, 99)))]))
    if draw(st.booleans()):
        body.append(Stmt(["rate", f"{draw(st.integers(100, 300))} wpm"]))
    return Stmt(["voice", name], draw(st.permutations(body)))


@st.composite
def character(draw, rng: random.Random, name: str, voices: list[str]) -> Stmt:
    body = [Stmt(["look", _string(rng)])]
    if voices and draw(st.booleans()):
        body.append(Stmt(["voice", draw(st.sampled_from(voices))]))
    if draw(st.booleans()):
        body.append(Stmt(["wears", _string(rng)]))
    title = [_string(rng)] if draw(st.booleans()) else []
    return Stmt(["character", name, *title], body)


@st.composite
def location(draw, rng: random.Random, name: str) -> Stmt:
    body = [Stmt(["look", _string(rng)])]
    if draw(st.booleans()):
        body.append(Stmt(["when", draw(st.sampled_from(["night", "dawn", "dusk"]))], [Stmt(["look", _string(rng)])]))
    return Stmt(["location", name, _string(rng)], body)


@st.composite
def style(draw, rng: random.Random, name: str) -> Stmt:
    options = [
        Stmt(["palette", "#1b1f2a", ",", draw(st.sampled_from(["#C9A227", "#abc", "#3a4f7a"]))]),
        Stmt(["lighting", _string(rng)]),
        Stmt(["lens", f"{draw(st.integers(12, 200))}mm"]),
        Stmt(["avoid", _string(rng), ",", _string(rng)]),
        Stmt(["grade", "std.teal_orange", "at", f"{draw(st.integers(0, 100))}%"]),
    ]
    body = draw(st.lists(st.sampled_from(options), unique_by=lambda s: s.tokens[0], max_size=5))
    parent = ["extends", draw(st.sampled_from(["std.noir", "std.neo_noir", "std . thriller"]))] if draw(st.booleans()) else []
    return Stmt(["style", name, *parent], body)


@st.composite
def shot(draw, rng: random.Random, cast: list[str], props: list[str], number: int) -> Stmt:
    header = ["shot"]
    if draw(st.booleans()):
        header += [f"n{number}", ":"]
    header.append(draw(st.sampled_from(["wide", "medium", "close_up", "insert", "std.two_shot", "establishing"])))
    header.append(draw(seconds()))
    framed = draw(st.lists(st.sampled_from(cast), unique=True, max_size=2)) if cast else []
    if framed:
        header.append("on")
        for i, who in enumerate(framed):
            header += ([","] if i else []) + [who]
    if not draw(st.booleans()):
        return Stmt(header)
    body = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["camera", "lens", "angle", "action", "sfx", "note", "line", "event"]))
        if kind == "camera":
            body.append(Stmt(["camera", draw(st.sampled_from(["static", "push_in", "pan_left"])),
                              *draw(st.sampled_from([[], ["slow"], ["fast"]]))]))
        elif kind == "lens":
            body.append(Stmt(["lens", f"{draw(st.integers(8, 300))}mm"]))
        elif kind == "angle":
            body.append(Stmt(["angle", draw(st.sampled_from(["low", "high", "dutch", "eye_level"]))]))
        elif kind in ("action", "note"):
            body.append(Stmt([kind, _string(rng)]))
        elif kind == "sfx":
            body.append(Stmt(["sfx", draw(st.sampled_from(["std.click", "std.impact", "std.glass_break"])),
                              "at", draw(st.sampled_from(["0s", "500ms", "1s", "6f"])),
                              *draw(st.sampled_from([[], ["-6 dB"]]))]))
        elif kind == "line" and cast:
            parens = draw(st.lists(st.sampled_from(["(V.O.)", "(O.S.)", "(CONT'D)", "(whispering)"]), max_size=2))
            body.append(Stmt([draw(st.sampled_from(framed or cast)), *parens, ":", _string(rng)]))
        elif kind == "event" and cast:
            who = draw(st.sampled_from(cast))
            verb = draw(st.sampled_from(["becomes", "sheds", "takes", "drops", "gives", "wears"]))
            if verb in ("becomes", "sheds"):
                states = draw(st.lists(st.sampled_from(["bloody", "wet", "tired"]), min_size=1, max_size=2, unique=True))
                args = [t for i, s in enumerate(states) for t in ([","] if i else []) + [s]]
            elif verb == "wears":
                args = [_string(rng)]
            elif not props:
                continue
            else:
                args = [draw(st.sampled_from(props))]
                if verb == "gives":
                    args += ["to", draw(st.sampled_from(cast))]
            body.append(Stmt([who, verb, *args]))
    return Stmt(header, body)


@st.composite
def scene(draw, rng: random.Random, number: int, cast: list[str], places: list[str], props: list[str], styles: list[str]) -> Stmt:
    header = ["scene", f"sc{number}"]
    if draw(st.booleans()):
        header.append(_string(rng))
    time = draw(st.sampled_from(["night", "day", "dawn"] + (["continuous"] if number > 1 else [])))
    header += ["at", draw(st.sampled_from(places)), ",", time]
    members = draw(st.lists(st.sampled_from(cast), unique=True, max_size=3)) if cast else []
    if members:
        header.append("with")
        for i, who in enumerate(members):
            header += ([","] if i else []) + [who]
            if draw(st.integers(0, 3)) == 0:
                header.append(draw(st.sampled_from(["(bloody)", "(not wet)", "(wet, not tired)",
                                                    '(wearing "red coat, torn")'])))
    body: list[Stmt] = []
    if draw(st.booleans()):
        body.append(Stmt(["target", draw(seconds())]))
    if draw(st.booleans()):
        body.append(Stmt(["ambience", draw(st.sampled_from(["std.rain", "std.city_night"])), "at", draw(level())]))
    if styles and draw(st.booleans()):
        body.append(Stmt(["style", draw(st.sampled_from(styles))]))
    if draw(st.booleans()):
        body.append(Stmt(["fade_in", "1s"]))
    for i in range(draw(st.integers(1, 4))):
        if i and draw(st.integers(0, 2)) == 0:
            body.append(Stmt(draw(st.sampled_from([["dissolve", "1s"], ["wipe", "left", "500ms"], ["match_cut"],
                                                   ["dip_to_black", "12f"]]))))
        if cast and draw(st.integers(0, 4)) == 0:
            body.append(Stmt([draw(st.sampled_from(cast)), draw(st.sampled_from(["enters", "exits"]))]))
        body.append(draw(shot(rng, cast, props, number * 10 + i)))
    if draw(st.booleans()):
        body.append(Stmt(["fade_out", "2s"]))
    return Stmt(header, body)


@st.composite
def film_trees(draw) -> list[Stmt]:
    rng = random.Random(draw(st.integers(0, 2**32)))
    header = [Stmt(["resolution", draw(st.sampled_from(["1920x1080", "1280x720", "640x360"]))]),
              Stmt(["fps", draw(st.sampled_from(["24", "25", "23.976", "29.97"]))])]
    header += draw(st.lists(st.sampled_from([
        Stmt(["colour", "ACEScg", "->", "rec709"]), Stmt(["loudness", "-14 LUFS"]),
        Stmt(["export", "web_mp4", ",", "prores_422"]), Stmt(["start", "01:00:00:00"]), Stmt(["seed", "7"]),
    ]), unique_by=lambda s: s.tokens[0], max_size=5))
    items = [Stmt(["film", _string(rng)], draw(st.permutations(header)))]
    if draw(st.booleans()):
        items.append(Stmt(["import", draw(st.sampled_from(["std.styles", "std . sound"]))]))
    pool = draw(st.lists(names, min_size=4, max_size=9, unique=True))
    voices = pool[:1] if draw(st.booleans()) else []
    cast = pool[1:3]
    places = pool[3:4]
    props = pool[4:6]
    styles = pool[6:7]
    items += [draw(voice(rng, v)) for v in voices]
    items += [draw(character(rng, c, voices + ["std.en_gb_male"])) for c in cast]
    items += [draw(location(rng, p)) for p in places]
    for p in props:
        title = [_string(rng)] if draw(st.booleans()) else []
        look = [Stmt(["look", _string(rng)])] if draw(st.booleans()) else None
        items.append(Stmt(["prop", p, *title], look))
    items += [draw(style(rng, s)) for s in styles]
    for number in range(1, draw(st.integers(1, 3)) + 1):
        if draw(st.integers(0, 2)) == 0:
            items.append(Stmt(["act", str(number), *([_string(rng)] if draw(st.booleans()) else [])]))
        items.append(draw(scene(rng, number, cast, places, props, styles)))
    return items


@dataclass
class Layout:
    """How untidy a program is written: hypothesis shrinks these knobs towards a plain layout,
    and a seeded `random.Random` makes the many small choices (one draw instead of hundreds)."""

    rng: random.Random
    odd_spaces: float
    continuations: float
    semicolons: float
    blank_lines: float
    comments: float
    one_line_blocks: float

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def comment(self) -> str:
        text = "".join(self.rng.choice(_COMMENT_POOL) for _ in range(self.rng.randrange(12)))
        return (self.rng.choice(["# ", "## ", "#-", "#!"]) + text).rstrip()

    def between_tokens(self) -> str:
        if self.chance(self.continuations):
            return self.rng.choice([" \\\n    ", "\\\n", " \\\r\n"])
        if self.chance(self.odd_spaces):
            return self.rng.choice(["  ", "\t", "\x0c ", " \t "])
        return " "

    def between_statements(self) -> str:
        sep = self.rng.choice([";", "; ", " ;\n", ";;"]) if self.chance(self.semicolons) else "\n"
        if self.chance(self.blank_lines):
            sep += self.rng.choice(["\n", "\n\n", "\r\n"])
        if self.chance(self.comments):
            sep = self.rng.choice([" C\n", "\nC\n", "\n\nC\n\n", ";C\n", "\n  C\n  C\n"]).replace("C", self.comment())
        return sep

    def after_open(self) -> str:
        if self.chance(self.comments):
            return self.rng.choice([" C\n", "\nC\n"]).replace("C", self.comment())
        return self.rng.choice(["", " "]) if self.chance(self.one_line_blocks) else self.rng.choice(["\n", "\n\n"])

    def before_close(self) -> str:
        if self.chance(self.comments):
            return "\nC\n".replace("C", self.comment())
        return self.rng.choice(["", " ", ";"]) if self.chance(self.one_line_blocks) else self.rng.choice(["\n", ";\n"])

    def write(self, stmt: Stmt) -> str:
        text = stmt.tokens[0]
        for token in stmt.tokens[1:]:
            text += self.between_tokens() + token
        if stmt.block is not None:
            text += self.between_tokens() + "{" + self.after_open() + self.write_all(stmt.block)
            text += (self.before_close() if stmt.block else "") + "}"
        return text

    def write_all(self, stmts: list[Stmt]) -> str:
        return "".join((self.between_statements() if i else "") + self.write(s) for i, s in enumerate(stmts))


_COMMENT_POOL = list("abc xyz{};:\"#,.()-->\\\t") + ["é", "東", "✨", "\u2028", "\x0c", "\x00", "#c9a227"]
_KNOB = st.sampled_from([0.0, 0.0, 0.1, 0.3, 0.6])


@st.composite
def layouts(draw) -> Layout:
    return Layout(random.Random(draw(st.integers(0, 2**32))), *(draw(_KNOB) for _ in range(6)))


@st.composite
def film_programs(draw) -> str:
    """The text of a valid .film program, laid out at random."""
    items = draw(film_trees())
    layout = draw(layouts())
    lead = layout.rng.choice(["", "\n", "C\n", "C\n\nC\n\n"]) if layout.chance(layout.comments) else ""
    tail = layout.rng.choice(["", "\n", "\n\n", " C", "\nC\n"]) if layout.chance(0.5) else "\n"
    body = layout.write_all(items)
    return lead.replace("C", layout.comment()) + body + tail.replace("C", layout.comment())


@pytest.fixture(scope="session")
def film_program_strategy() -> st.SearchStrategy[str]:
    """For `@given(st.data())` tests: `data.draw(film_program_strategy)`."""
    return film_programs()
