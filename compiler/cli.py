"""The `filmc` command line: check, fmt, explain, plan, build, export, import.

Exit status: 0 clean, 1 errors found, 2 usage or I/O problem, 3 internal error.
No traceback reaches a user for a user error; an internal error prints a
short report (set FILMC_BACKTRACE=1 for the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """A problem with the command line or the files it names (exit 2)."""


def _use_colour(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def film_files(paths: list[str]) -> list[Path]:
    """Expand directories to their root .film files (files no other file in the set imports)."""
    from .syntax import parse_text

    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(p.rglob("*.film"))
            imported: set[Path] = set()
            for f in found:
                module, _ = parse_text(f.read_text(encoding="utf-8-sig", errors="replace"), str(f))
                for item in module.items:
                    target = getattr(item, "target", None)
                    if target is not None and not getattr(item, "is_std", True):
                        imported.add((f.parent / target).resolve())
            files.extend(f for f in found if f.resolve() not in imported)
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"no such file or directory: {raw}")
    if not files:
        raise UsageError("no .film files found in " + ", ".join(paths))
    return files


# --- commands ------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check_file
    from .diagnostics import render_all, to_json

    status = EXIT_OK
    all_diags = []
    outputs = []
    colour = _use_colour(args.color, sys.stderr)
    for path in film_files(args.paths):
        result = check_file(path)
        all_diags.extend(result.diagnostics)
        if result.has_errors or (args.deny_warnings and result.diagnostics):
            status = EXIT_ERRORS
        if args.format == "text" and result.diagnostics:
            print(render_all(result.diagnostics, result.sources, colour), file=sys.stderr)
        if args.emit == "ir" and result.film is not None:
            outputs.append(result.film.to_json())
    if args.format == "json":
        print(to_json(all_diags))
    for out in outputs:
        print(out)
    return status


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain, known_codes

    text = explain(args.code.upper())
    if text is None:
        raise UsageError(f"no such diagnostic code `{args.code}`; known codes: {', '.join(known_codes())}")
    sys.stdout.write(text)
    return EXIT_OK


def cmd_fmt(args: argparse.Namespace) -> int:
    from .fmt import format_paths

    return format_paths(film_files_any(args.paths), check=args.check, colour=_use_colour(args.color, sys.stderr))


def film_files_any(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(p.rglob("*.film")))
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"no such file or directory: {raw}")
    return files


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filmc", description="A compiler for films.")
    from filmc import __version__

    parser.add_argument("--version", action="version", version=f"filmc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        p.add_argument("--color", choices=["auto", "always", "never"], default="auto", help="colour output")
        return p

    p = add("check", cmd_check, "Check .film files: syntax, names, types, units, continuity, pacing.")
    p.add_argument("paths", nargs="+", help=".film files or directories")
    p.add_argument("--format", choices=["text", "json"], default="text", help="diagnostics format")
    p.add_argument("--emit", choices=["ir"], help="print the checked IR as JSON")
    p.add_argument("--deny-warnings", action="store_true", help="exit 1 on warnings too")

    p = add("fmt", cmd_fmt, "Format .film files in the canonical layout.")
    p.add_argument("paths", nargs="+", help=".film files or directories")
    p.add_argument("--check", action="store_true", help="report files that would change; write nothing")

    p = add("explain", cmd_explain, "Explain a diagnostic code, with an example.")
    p.add_argument("code", help="e.g. E0402")

    for extra in _EXTRA_COMMANDS:
        extra(sub, add)
    return parser


_EXTRA_COMMANDS: list[Callable] = []


def register(fn: Callable) -> Callable:
    """Other modules add subcommands here (plan, build, export, import)."""
    _EXTRA_COMMANDS.append(fn)
    return fn


def main(argv: list[str] | None = None) -> int:
    from . import commands  # noqa: F401  (registers the pipeline subcommands)

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"filmc: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        print(f"filmc: error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("filmc: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # an internal compiler error, never a user error
        if os.environ.get("FILMC_BACKTRACE"):
            raise
        print(f"filmc: internal error: {type(err).__name__}: {err}\n"
              "  = note: this is a bug in filmc, not in your film; rerun with FILMC_BACKTRACE=1 "
              "and report the output", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
