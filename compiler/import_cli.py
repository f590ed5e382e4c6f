"""`filmc import script.fountain [-o script.film]`: a screenplay becomes a .film skeleton."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def add_import_command(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("import", run_import, "Turn a Fountain screenplay into a .film skeleton that checks clean.")
    p.add_argument("script", help="a .fountain file")
    p.add_argument("-o", "--output", help="where to write the .film (default: beside the script)")
    p.add_argument("--force", action="store_true", help="overwrite an existing .film")


def run_import(args: argparse.Namespace) -> int:
    from .check import check_file
    from .cli import EXIT_ERRORS, EXIT_OK, UsageError, _use_colour
    from .diagnostics import render_all
    from .fountain import FountainReadError
    from .fountain_to_film import import_fountain

    script = Path(args.script)
    output = Path(args.output) if args.output else script.with_suffix(".film")
    if output.exists() and not args.force:
        raise UsageError(f"{output} exists; pass --force to overwrite it")
    try:
        written = import_fountain(script, output)
    except FountainReadError as err:
        raise UsageError(str(err)) from None
    result = check_file(written)
    if result.diagnostics:
        print(render_all(result.diagnostics, result.sources, _use_colour(args.color, sys.stderr)), file=sys.stderr)
    film = result.film
    shots = len(film.shots()) if film else 0
    scenes = len(film.scenes) if film else 0
    print(f"wrote {written}: {scenes} scene{'s' * (scenes != 1)}, {shots} shot{'s' * (shots != 1)}")
    return EXIT_ERRORS if result.has_errors else EXIT_OK
