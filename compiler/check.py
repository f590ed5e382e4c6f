"""The front end as one call: load, resolve, lower and check a film.

Each step is a pure pass over the previous one's output; diagnostics from
all passes are gathered so one run reports as much as it can.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import ast, ir
from .continuity import annotate
from .definitions import lower_definitions
from .diagnostics import Diagnostic, Sink
from .header import film_fps, find_film, lower_header
from .modules import Program, display_path, load_program
from .scenes import SceneLowering
from .source import SourceFile
from .symbols import collect
from .timing import check_timing
from .usage import check_unused


@dataclass
class CheckResult:
    film: ir.Film | None
    """The IR; None when errors made it meaningless (syntax or name errors)."""
    diagnostics: list[Diagnostic]
    program: Program

    @property
    def sources(self) -> dict[str, SourceFile]:
        return self.program.sources

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def check_file(path: Path) -> CheckResult:
    program, load_diags = load_program(path)
    sink = Sink()
    sink.extend(load_diags)
    symbols = collect(program, sink)
    film_node = find_film(program, sink)
    fps = film_fps(film_node, sink)
    has_scenes = any(isinstance(i, ast.Scene) for m in program.user_modules() for i in m.items)
    header = lower_header(film_node, program, symbols, fps, sink, needs_header=has_scenes)
    definitions = lower_definitions(program, symbols, fps, sink)
    acts, scenes = SceneLowering(program, symbols, definitions, header, sink).run()
    scenes = annotate(scenes, definitions, sink)
    check_timing(scenes, sink)
    if not any(d.code.startswith("E01") for d in sink.items):
        check_unused(symbols, scenes, sink)  # a skipped, unparsable item may be what uses them
    film = ir.Film(
        source=display_path(program.root),
        files=[m.path for m in program.user_modules()],
        header=header,
        definitions=definitions,
        acts=acts,
        scenes=scenes,
    )
    return CheckResult(film, _dedupe(sink.items), program)


def _dedupe(items: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in items:
        key = (d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
