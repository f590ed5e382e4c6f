"""The film header pass: `film "Title" { ... }` -> `ir.Header`.

Runs first because durations everywhere else are counted in its frames.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from . import ast, ir
from .definitions import parse_properties
from .diagnostics import Diagnostic, Label, Sink
from .modules import Program
from .schema import FILM
from .source import Span
from .symbols import Symbols
from .units import KNOWN_FPS, normalise_fps, timecode_to_frames
from .values import ValueParser

DEFAULT_FPS = Fraction(24)


def find_film(program: Program, sink: Sink) -> ast.Film | None:
    films = [item for m in program.user_modules() for item in m.items if isinstance(item, ast.Film)]
    for extra in films[1:]:
        sink.add(Diagnostic("E0309", "a film has one `film` header; found another", extra.title_span,
                            label="second header", labels=(Label(films[0].title_span, "first header here"),),
                            hint="keep the header in the main file only"))
    return films[0] if films else None


def film_fps(film: ast.Film | None, sink: Sink) -> Fraction:
    """The frame rate, checked; 24 stands in when it is missing or wrong so checking can go on."""
    if film is None:
        return DEFAULT_FPS
    for prop in film.block.properties():
        if prop.key == "fps" and prop.atoms:
            atom = prop.atoms[0]
            fps = normalise_fps(atom.text) if atom.kind == "quantity" else None
            if fps is None:
                sink.error("E0405", f"unknown frame rate `{atom.text}`", atom.span, label="not a standard rate",
                           hint="use one of: " + ", ".join(KNOWN_FPS))
                return DEFAULT_FPS
            return fps
    return DEFAULT_FPS


def lower_header(
    film: ast.Film | None, program: Program, symbols: Symbols, fps: Fraction, sink: Sink, needs_header: bool
) -> ir.Header:
    if film is None:
        if needs_header:
            src = program.sources[program.modules[-1].path]
            sink.error("E0309", "this film has scenes but no `film` header", src.span(0, 0),
                       label="header expected", hint='start the file with `film "Title" { resolution 1920x1080; fps 24 }`')
        span = Span(file=str(program.root), line=1, col=1, end_line=1, end_col=1)
        return ir.Header(title=Path(program.root).stem, width=1920, height=1080, fps=_fps_text(fps), span=span)
    values = ValueParser(sink, fps, lambda kind, atom: symbols.resolve(kind, atom.text, atom.span, sink),
                         program.root.parent)
    schema = {k: v for k, v in FILM.items() if k != "fps"}
    props = parse_properties(film.block, schema | {"fps": FILM["fps"]}, values, sink, "the film header", symbols)
    for key, spec in FILM.items():
        if spec.required and key not in props and not any(p.key == key for p in film.block.properties()):
            sink.error("E0307", f"the film header is missing `{key}`", film.title_span, label=f"needs `{key}`",
                       hint=f"add `{key}`: {spec.doc}")
    width, height = props.get("resolution", [1920, 1080])
    working, output = props.get("colour", ["ACEScg", "rec709"])
    start_tc = props.get("start", "01:00:00:00")
    return ir.Header(
        title=film.title,
        width=width,
        height=height,
        fps=_fps_text(fps),
        working_space=working,
        output_space=output,
        loudness_lufs=props.get("loudness", -14.0),
        exports=props.get("export", []),
        start_frame=timecode_to_frames(start_tc, fps),
        start_timecode=start_tc,
        audio_layout=props.get("audio", "stereo"),
        style=props.get("style"),
        seed=int(props.get("seed", 0)),
        span=film.span,
    )


def _fps_text(fps: Fraction) -> str:
    return str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"
