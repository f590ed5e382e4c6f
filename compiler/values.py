"""Typed property values: atoms of a `key value...` line -> normalised values.

Each property type from `schema.py` has one parser here. Parsers append
diagnostics (wrong type, wrong unit, out of range) and return None on error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import ast
from .diagnostics import Sink
from .schema import ALL_UNITS, MEDIA_COLOUR_SPACES, UNITS, media_colour_key
from .source import Span
from .units import Quantity, frames_of, frames_to_seconds, parse_quantity

Resolver = Callable[[str, ast.Atom], str | None]
"""(kind, ref atom) -> qualified name, or None after reporting an unknown name."""

_HEX = re.compile(r"^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
_UNIT_WORDS = {
    "duration": "a duration (`6s`, `500ms`, `72f`)",
    "length": "a length in mm (`35mm`)",
    "level": "a level in dB (`-20 dB`)",
    "loudness": "a loudness in LUFS (`-14 LUFS`)",
    "percent": "a percentage (`80%`)",
    "rate": "a rate in wpm (`150 wpm`)",
    "bitrate": "a bitrate (`8Mbps`, `192kbps`)",
    "frequency": "a frequency (`48kHz`)",
    "number": "a number",
}
_ATOM_WORDS = {
    "string": "a string",
    "quantity": "a number",
    "hex": "a colour",
    "resolution": "a resolution",
    "timecode": "a timecode",
    "ref": "a name",
    "comma": "`,`",
    "arrow": "`->`",
}


def join_spans(a: Span, b: Span) -> Span:
    return Span.model_construct(file=a.file, line=a.line, col=a.col, end_line=b.end_line, end_col=b.end_col)


class ValueParser:
    def __init__(self, sink: Sink, fps: Fraction, resolve: Resolver, base_dir: Path) -> None:
        self.sink = sink
        self.fps = fps
        self.resolve = resolve
        self.base_dir = base_dir

    # --- helpers -----------------------------------------------------------

    def type_error(self, atom: ast.Atom, expected: str) -> None:
        self.sink.error("E0401", f"expected {expected}, found {_ATOM_WORDS[atom.kind]} `{atom.text}`",
                        atom.span, label=f"expected {expected}")

    def missing(self, prop: ast.Property, expected: str) -> None:
        self.sink.error("E0401", f"`{prop.key}` needs {expected}", prop.span, label="value missing",
                        hint=f"write `{prop.key} <{expected}>`")

    def extra(self, atoms: tuple[ast.Atom, ...], key: str) -> None:
        span = join_spans(atoms[0].span, atoms[-1].span)
        self.sink.error("E0401", f"unexpected extra value{'s' if len(atoms) > 1 else ''} for `{key}`", span,
                        label="not expected here")

    def quantity(self, atom: ast.Atom, unit_class: str) -> Quantity | None:
        if atom.kind != "quantity":
            self.type_error(atom, _UNIT_WORDS[unit_class])
            return None
        q = parse_quantity(atom.text)
        assert q is not None
        allowed = UNITS[unit_class]
        if q.unit not in allowed:
            if q.unit and q.unit not in ALL_UNITS:
                self.sink.error("E0413", f"unknown unit `{q.unit}`", atom.span, label="unknown unit",
                                hint=f"expected {_UNIT_WORDS[unit_class]}; units are s, ms, f, mm, dB, LUFS, %, wpm,"
                                     " kbps, Mbps, Hz, kHz")
            else:
                found = f"`{q.unit}`" if q.unit else "no unit"
                self.sink.error("E0402", f"expected {_UNIT_WORDS[unit_class]}, found {found}", atom.span,
                                label=f"wrong unit for {unit_class}",
                                hint=f"write the value with a unit: {_UNIT_WORDS[unit_class]}")
            return None
        return q

    def duration(self, atom: ast.Atom, allow_zero: bool = False) -> dict[str, Any] | None:
        q = self.quantity(atom, "duration")
        if q is None:
            return None
        frames = frames_of(q, self.fps)
        if frames < 0 or (frames == 0 and not allow_zero):
            self.sink.error("E0403", f"duration `{atom.text}` is {'negative' if frames < 0 else 'zero'}"
                            + (" (less than one frame)" if frames == 0 and q.value > 0 else ""),
                            atom.span, label="must be at least one frame",
                            hint="durations must be positive: e.g. `3s`, `500ms` or `12f`")
            return None
        s = frames_to_seconds(frames, self.fps)
        return {"frames": frames, "seconds": f"{s.numerator}/{s.denominator}"}

    def name(self, atom: ast.Atom, kind: str) -> str | None:
        if atom.kind != "ref":
            word = kind.replace("_", " ")
            self.type_error(atom, f"{'an' if word[0] in 'aeiou' else 'a'} {word} name")
            return None
        return self.resolve(kind, atom)

    def string(self, atom: ast.Atom) -> str | None:
        if atom.kind != "string":
            self.type_error(atom, "a string")
            return None
        return atom.string_value

    def path(self, atom: ast.Atom) -> str | None:
        text = self.string(atom)
        if text is None:
            return None
        path = (self.base_dir / text).resolve()
        if not path.exists():
            self.sink.error("E0411", f"file not found: `{text}`", atom.span, label="no such file",
                            hint=f"looked for {path}; paths are relative to the .film file")
            return None
        return str(path)

    @staticmethod
    def split_commas(atoms: tuple[ast.Atom, ...]) -> list[ast.Atom]:
        return [a for a in atoms if a.kind != "comma"]

    def keyword_args(self, atoms: tuple[ast.Atom, ...], words: set[str]) -> tuple[list[ast.Atom], dict]:
        """Split `x at 80%` / `"a" from 2s to 4s` into positional atoms and keyword atoms."""
        positional: list[ast.Atom] = []
        keywords: dict[str, ast.Atom] = {}
        i = 0
        while i < len(atoms):
            a = atoms[i]
            if a.kind == "ref" and a.text in words and i + 1 < len(atoms):
                keywords[a.text] = atoms[i + 1]
                i += 2
                continue
            positional.append(a)
            i += 1
        return positional, keywords

    # --- entry point ---------------------------------------------------------

    def parse(self, type_: str, prop: ast.Property) -> Any:
        atoms = prop.atoms
        base, _, arg = type_.partition(":")
        if base == "flag":
            if atoms:
                self.extra(atoms, prop.key)
            return True
        if base == "variant":
            return None  # handled by the caller: it has a block
        if not atoms:
            self.missing(prop, _UNIT_WORDS.get(base, base.replace("_", " ")))
            return None
        method = getattr(self, f"p_{base}")
        return method(prop, atoms, arg)

    def single(self, prop: ast.Property, atoms: tuple[ast.Atom, ...]) -> ast.Atom:
        if len(atoms) > 1:
            self.extra(atoms[1:], prop.key)
        return atoms[0]

    def p_text(self, prop, atoms, _):
        return self.string(self.single(prop, atoms))

    def p_texts(self, prop, atoms, _):
        out = [self.string(a) for a in self.split_commas(atoms)]
        return None if any(v is None for v in out) else out

    def p_name(self, prop, atoms, kind):
        return self.name(self.single(prop, atoms), kind)

    def p_names(self, prop, atoms, kind):
        out = [self.name(a, kind) for a in self.split_commas(atoms)]
        return None if any(v is None for v in out) else out

    def p_word(self, prop, atoms, _):
        atom = self.single(prop, atoms)
        if atom.kind == "ref" or atom.kind == "quantity":
            return atom.text
        if atom.kind == "string":
            return atom.string_value
        self.type_error(atom, "a word")
        return None

    def p_enum(self, prop, atoms, choices):
        atom = self.single(prop, atoms)
        options = choices.split("|")
        if atom.text in options:
            return atom.text
        from .diagnostics import did_you_mean

        guess = did_you_mean(atom.text, options)
        self.sink.error("E0401", f"`{atom.text}` is not a valid `{prop.key}`", atom.span,
                        label=f"expected one of {', '.join(options)}",
                        hint=f"did you mean `{guess}`?" if guess else f"choose one of: {', '.join(options)}")
        return None

    def _quantity_value(self, prop, atoms, unit_class):
        q = self.quantity(self.single(prop, atoms), unit_class)
        if q is None:
            return None
        value = q.as_float
        if q.unit == "Mbps" or q.unit == "kHz":
            value *= 1000
        return value

    def p_number(self, prop, atoms, _):
        return self._quantity_value(prop, atoms, "number")

    def p_length(self, prop, atoms, _):
        value = self._quantity_value(prop, atoms, "length")
        if value is not None and not 8 <= value <= 1200:
            self.sink.error("E0404", f"lens {value:g}mm is outside 8-1200 mm", atoms[0].span,
                            label="no such lens", hint="cine lenses run from about 8mm (fisheye) to 1200mm")
            return None
        return value

    def p_level(self, prop, atoms, _):
        value = self._quantity_value(prop, atoms, "level")
        return self.check_level(value, atoms[0])

    def check_level(self, value, atom):
        if value is not None and value > 0:
            self.sink.error("E0408", f"level {value:g} dB is above 0 dB", atom.span, label="would clip",
                            hint="levels are relative to full scale: use 0 dB or less, e.g. `-20 dB`")
            return None
        return value

    def p_loudness(self, prop, atoms, _):
        value = self._quantity_value(prop, atoms, "loudness")
        if value is not None and value > 0:
            self.sink.error("E0407", f"loudness {value:g} LUFS is above 0 LUFS", atoms[0].span,
                            label="impossible target",
                            hint="typical targets: -14 LUFS (web), -16 (podcast), -23 (broadcast)")
            return None
        return value

    def p_percent(self, prop, atoms, _):
        value = self._quantity_value(prop, atoms, "percent")
        return self.check_percent(value, atoms[0])

    def check_percent(self, value, atom):
        if value is not None and not 0 <= value <= 100:
            self.sink.error("E0410", f"strength {value:g}% is outside 0-100%", atom.span, label="out of range",
                            hint="0% leaves the image ungraded, 100% applies the grade fully")
            return None
        return value

    def p_rate(self, prop, atoms, _):
        value = self._quantity_value(prop, atoms, "rate")
        if value is not None and not 80 <= value <= 450:
            self.sink.error("E0414", f"speaking rate {value:g} wpm is outside 80-450 wpm", atoms[0].span,
                            label="out of range", hint="conversational speech is about 150 wpm")
            return None
        return value

    def p_bitrate(self, prop, atoms, _):
        return self._quantity_value(prop, atoms, "bitrate")

    def p_frequency(self, prop, atoms, _):
        return self._quantity_value(prop, atoms, "frequency")

    def p_duration(self, prop, atoms, _):
        return self.duration(self.single(prop, atoms))

    def p_hexes(self, prop, atoms, _):
        out = []
        for a in self.split_commas(atoms):
            if a.kind not in ("hex", "ref", "quantity"):
                self.type_error(a, "a colour (`#rrggbb`)")
                return None
            if not _HEX.match(a.text):
                self.sink.error("E0409", f"malformed colour `{a.text}`", a.span, label="not #rgb or #rrggbb",
                                hint="colours are written `#rrggbb`, e.g. `#c9a227`")
                return None
            h = a.text[1:].lower()
            if len(h) == 3:
                h = "".join(c * 2 for c in h)
            out.append("#" + h)
        return out

    def p_resolution(self, prop, atoms, _):
        atom = self.single(prop, atoms)
        if atom.kind != "resolution":
            self.type_error(atom, "a resolution (`1920x1080`)")
            return None
        w, h = (int(v) for v in atom.text.split("x"))
        if w <= 0 or h <= 0 or w % 2 or h % 2:
            self.sink.error("E0406", f"resolution {atom.text} is not even", atom.span,
                            label="width and height must be even and positive",
                            hint="video encoders need even sizes, e.g. 1920x1080 or 1280x720")
            return None
        return [w, h]

    def p_timecode(self, prop, atoms, _):
        atom = self.single(prop, atoms)
        if atom.kind != "timecode":
            self.type_error(atom, "a timecode (`01:00:00:00`)")
            return None
        return atom.text

    def p_path(self, prop, atoms, _):
        return self.path(self.single(prop, atoms))

    def p_lut(self, prop, atoms, _):
        atom = self.single(prop, atoms)
        if atom.kind == "string":
            return {"path": self.path(atom)} if self.path(atom) else None
        if atom.kind == "ref":
            from .modules import stdlib_dir

            name = atom.text.removeprefix("std.")
            cube = stdlib_dir() / "luts" / f"{name}.cube"
            if not cube.exists():
                luts = sorted(p.stem for p in (stdlib_dir() / "luts").glob("*.cube"))
                from .diagnostics import did_you_mean

                guess = did_you_mean(name, luts)
                self.sink.error("E0301", f"unknown LUT `{atom.text}`", atom.span, label="not a stdlib LUT",
                                hint=f"did you mean `std.{guess}`?" if guess else "give a `.cube` file path as a string")
                return None
            return {"path": str(cube)}
        self.type_error(atom, "a LUT name or a `.cube` path")
        return None

    def p_spaces(self, prop, atoms, _):
        if len(atoms) != 3 or atoms[1].kind != "arrow" or atoms[0].kind != "ref" or atoms[2].kind != "ref":
            self.sink.error("E0401", "`colour` takes `WORKING -> OUTPUT`", prop.span, label="malformed",
                            hint="e.g. `colour ACEScg -> rec709`")
            return None
        working, output = atoms[0].text, atoms[2].text
        ok_working = {"ACEScg", "ACES2065-1", "rec709", "linear_rec709", "srgb"}
        ok_output = {"rec709", "srgb", "rec2020", "p3d65", "hdr10"}
        for atom, ok in ((atoms[0], ok_working), (atoms[2], ok_output)):
            if atom.text not in ok:
                from .diagnostics import did_you_mean

                guess = did_you_mean(atom.text, ok)
                self.sink.error("E0401", f"unknown colour space `{atom.text}`", atom.span,
                                label="not supported",
                                hint=f"did you mean `{guess}`?" if guess else "one of: " + ", ".join(sorted(ok)))
                return None
        return [working, output]

    def p_graded(self, prop, atoms, _):
        positional, kw = self.keyword_args(atoms, {"at"})
        if len(positional) != 1:
            self.sink.error("E0401", "`grade` takes a grade name and an optional `at N%`", prop.span,
                            label="malformed", hint="e.g. `grade std.teal_orange at 80%`")
            return None
        name = self.name(positional[0], "grade")
        strength = 100.0
        if "at" in kw:
            strength = self.check_percent(self._quantity_value(prop, (kw["at"],), "percent"), kw["at"])
            if strength is None:
                return None
        return None if name is None else {"grade": name, "strength": strength / 100}

    def p_bed(self, prop, atoms, kind):
        positional, kw = self.keyword_args(atoms, {"at"})
        if len(positional) != 1:
            self.sink.error("E0401", f"`{prop.key}` takes a {kind} name and an optional `at LEVEL dB`", prop.span,
                            label="malformed", hint=f"e.g. `{prop.key} std.rain at -24 dB`")
            return None
        name = self.name(positional[0], kind)
        level = None
        if "at" in kw:
            level = self.check_level(self._quantity_value(prop, (kw["at"],), "level"), kw["at"])
            if level is None:
                return None
        return None if name is None else {"name": name, "level_db": level}

    def p_cue(self, prop, atoms, _):
        positional, kw = self.keyword_args(atoms, {"at"})
        if not positional or "at" not in kw:
            self.sink.error("E0401", "`sfx` takes an effect name, `at OFFSET` and an optional level", prop.span,
                            label="malformed", hint="e.g. `sfx std.glass_break at 1.5s` or `... at 1.5s -6 dB`")
            return None
        name = self.name(positional[0], "sfx")
        at = self.duration(kw["at"], allow_zero=True)
        level = None
        if len(positional) > 1:
            level = self.check_level(self._quantity_value(prop, (positional[1],), "level"), positional[1])
        if name is None or at is None:
            return None
        return {"sfx": name, "at": at, "level_db": level}

    def p_camera(self, prop, atoms, _):
        if len(atoms) > 2:
            self.extra(atoms[2:], prop.key)
        move = self.name(atoms[0], "camera_move")
        speed = self.name(atoms[1], "camera_speed") if len(atoms) > 1 else None
        if move is None or (len(atoms) > 1 and speed is None):
            return None
        return {"move": move, "speed": speed}

    def p_media(self, prop, atoms, _):
        positional, kw = self.keyword_args(atoms, {"from", "to", "colour"})
        if len(positional) != 1:
            self.sink.error("E0401", "`media` takes a file path, optional `from` / `to` times and an optional"
                            " `colour` space", prop.span, label="malformed",
                            hint='e.g. `media "footage/take3.mov" from 2s to 6s colour rec2020_pq`')
            return None
        colour = self.media_colour(kw["colour"]) if "colour" in kw else None
        path = self.path(positional[0])
        source_in = self.duration(kw["from"], allow_zero=True) if "from" in kw else {"frames": 0, "seconds": "0"}
        source_out = self.duration(kw["to"]) if "to" in kw else None
        if source_in and source_out and source_out["frames"] <= source_in["frames"]:
            self.sink.error("E0415", "media `to` is not after `from`", join_spans(kw["from"].span, kw["to"].span),
                            label="empty range", hint="`from` is the first frame used, `to` the end")
            return None
        if path is None or source_in is None or ("to" in kw and source_out is None):
            return None
        if "colour" in kw and colour is None:
            return None
        return {"path": path, "source_in": source_in, "source_out": source_out, "colour": colour}

    def media_colour(self, atom: ast.Atom) -> str | None:
        """A `media ... colour NAME` space: one of MEDIA_COLOUR_SPACES, any case, `-` as `_`."""
        if atom.kind != "ref":
            self.type_error(atom, "a colour space name")
            return None
        key = media_colour_key(atom.text)
        if key in MEDIA_COLOUR_SPACES:
            return key
        from .diagnostics import did_you_mean

        guess = did_you_mean(key, MEDIA_COLOUR_SPACES)
        self.sink.error("E0417", f"unknown media colour space `{atom.text}`", atom.span,
                        label="not a colour space filmc converts from",
                        hint=f"did you mean `{guess}`?" if guess else
                        "one of: " + ", ".join(MEDIA_COLOUR_SPACES) + "; or leave `colour` out to use the file's tags")
        return None
