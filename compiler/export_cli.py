"""`filmc export movie.film --to FMT [-o path]`: hand the edit to an editor.

The timeline is lowered from the film (media not yet rendered are missing
references), or taken from a built `.otio` (`--timeline out/film.otio`) so the
editor gets the rendered media. What a format cannot hold is printed as a
warning naming what was dropped.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def add_export_command(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    from .export import FORMATS

    p = add("export", run_export, "Export the film's timeline to an editor format.")
    p.add_argument("film", help="the .film file")
    p.add_argument("--to", dest="fmt", choices=FORMATS, help="format (default: from the -o extension)")
    p.add_argument("-o", "--output", help="output path (default: beside the film, named after its title)")
    p.add_argument("--timeline", help="a built .otio whose clips point at rendered media, instead of lowering anew")


def run_export(args: argparse.Namespace) -> int:
    import opentimelineio as otio

    from .check import check_file
    from .cli import EXIT_ERRORS, EXIT_OK, UsageError, _use_colour
    from .diagnostics import render_all
    from .export import EXTENSIONS, ExportError, export_timeline, format_for_path
    from .plan import build_plan, slug
    from .timeline import build_timeline

    colour = _use_colour(args.color, sys.stderr)
    fmt = args.fmt or (format_for_path(Path(args.output)) if args.output else None)
    if fmt is None:
        raise UsageError("say which format: --to otio|otioz|edl|fcp7xml|fcpxml|aaf (or an -o with its extension)")
    result = check_file(Path(args.film))
    if result.diagnostics:
        print(render_all(result.diagnostics, result.sources, colour), file=sys.stderr)
    if result.has_errors or result.film is None:
        return EXIT_ERRORS
    film = result.film
    if args.timeline:
        try:
            timeline = otio.adapters.read_from_file(args.timeline)
        except Exception as err:  # noqa: BLE001 - any reader failure is a bad input file
            raise UsageError(f"cannot read timeline {args.timeline}: {err}") from None
    else:
        timeline = build_timeline(film, build_plan(film))
    output = Path(args.output) if args.output else Path(args.film).parent / (slug(film.header.title) + EXTENSIONS[fmt])
    try:
        warnings = export_timeline(timeline, fmt, output)
    except ExportError as err:
        raise UsageError(str(err)) from None
    if warnings:
        print(render_all(warnings, {}, colour), file=sys.stderr)
    print(f"wrote {output} ({fmt})")
    return EXIT_OK
