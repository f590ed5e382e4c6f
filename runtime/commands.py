"""Registers the runtime's subcommands (build, clean, backends, doctor) with the CLI.

Importing this module is what adds them (filmc_pkg/cli.py does, since the
compiler never imports the runtime); the heavy modules load only when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from filmc.compiler import cli
from filmc.compiler.backend_defaults import register_backend_defaults


def _profiles(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    names = [p.strip() for v in values for p in v.split(",") if p.strip()]
    return names or None


def _ray_address(value: str) -> str:
    """`--ray` takes an optional address, so `--ray film.film` would swallow the film: say so."""
    if value.endswith(".film"):
        raise argparse.ArgumentTypeError(f"{value!r} is a film, not a Ray address: put the film before --ray "
                                         "(filmc build FILM --ray [ADDRESS])")
    return value


def build_options(args: argparse.Namespace):
    from .build import BuildOptions

    return BuildOptions(
        film=Path(args.film), out=Path(args.out) if args.out else None, backend=args.backend,
        profiles=_profiles(args.profile), jobs=args.jobs, only=args.only, dry_run=args.dry_run, scale=args.scale,
        cache=Path(args.cache) if args.cache else None, json=args.json,
        colour=cli._use_colour(args.color, sys.stderr), extend_shots=args.extend_shots, ray=args.ray)


def cmd_build(args: argparse.Namespace) -> int:
    from .build import build

    if args.ray is not None:
        from .distributed import DistributedError, check_address, require_ray

        try:
            require_ray()
            check_address(args.ray)
        except DistributedError as exc:
            print(f"filmc: error: {exc}", file=sys.stderr)
            return cli.EXIT_USAGE
    return build(build_options(args)).code


class _Quiet(argparse.ArgumentParser):
    """A parser that fails silently: the real one reports the command line's mistakes."""

    def error(self, message: str):  # type: ignore[override]
        raise ValueError(message)


def prewarm(argv: Sequence[str]) -> None:
    """For `filmc build` of a film its cache has never built, start the workers' forkserver (its
    imports take most of a second) before anything else: reading the command line costs 0.15 s,
    since the full parser imports every command's modules, and the forkserver is what the first
    nodes wait for. Reads only the build command's own options; anything odd is left to the real parse."""
    if not argv or argv[0] != "build":
        return
    parser = _Quiet(add_help=False)
    sub = parser.add_subparsers(dest="command")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, add_help=False)
        p.add_argument("--color", default="never")
        return p

    register_build(sub, add)
    try:
        args, _ = parser.parse_known_args(list(argv))
    except (ValueError, argparse.ArgumentError, SystemExit):
        return
    from .build import warm_if_cold

    warm_if_cold(build_options(args))


def cmd_clean(args: argparse.Namespace) -> int:
    from .build import BuildError, clean

    try:
        return clean(Path(args.film), everything=args.all, backend_name=args.backend, scale=args.scale,
                     profiles=_profiles(args.profile), cache_dir=Path(args.cache) if args.cache else None,
                     colour=cli._use_colour(args.color, sys.stderr), err=sys.stderr)
    except BuildError as exc:
        print(exc.text(), file=sys.stderr)
        return exc.code


def cmd_backends(args: argparse.Namespace) -> int:
    from .registry import get_backend, list_backends

    rows = []
    for info in list_backends(load=True):
        ops: list[str] = []
        devices: list[str] = []
        if info.available:
            backend = get_backend(info.name)
            ops, devices = sorted(backend.capabilities.ops), sorted(backend.capabilities.devices)
        rows.append({"name": info.name, "version": info.version, "origin": info.origin, "target": info.target,
                     "ops": ops, "devices": devices, "error": info.error})
    if args.json:
        print(json.dumps(rows, indent=1))
        return cli.EXIT_OK
    for row in rows:
        if row["error"]:
            print(f"{row['name']}  UNAVAILABLE  ({row['origin']}, {row['target']})\n    {row['error']}")
            continue
        print(f"{row['name']} {row['version']}  ({row['origin']}, {row['target']})")
        print(f"    devices: {', '.join(row['devices'])}")
        print(f"    ops: {', '.join(row['ops'])}")
    return cli.EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    import av

    from .distributed import RAY_REQUIREMENT, ray_version
    from .media_tools import NEEDED_ENCODERS, NEEDED_FILTERS, ffmpeg, missing_features

    tool = ffmpeg()
    missing = missing_features()
    ray = ray_version()
    report = {"ffmpeg": {"path": tool.path, "version": tool.version, "source": tool.source},
              "needed": {"encoders": list(NEEDED_ENCODERS), "filters": list(NEEDED_FILTERS)},
              "missing": missing, "pyav": av.__version__, "ray": ray}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"ffmpeg: {tool.path}")
        print(f"  version {tool.version} ({tool.source})")
        print(f"PyAV {av.__version__} (probing)")
        print(f"Ray {ray} (filmc build --ray)" if ray else
              f"Ray not installed (optional, for filmc build --ray: pip install '{RAY_REQUIREMENT}')")
        if missing:
            print("missing: " + ", ".join(missing))
        else:
            print(f"all {len(NEEDED_ENCODERS)} encoders and {len(NEEDED_FILTERS)} filters filmc needs are present")
    return cli.EXIT_ERRORS if missing else cli.EXIT_OK


def _add_plan_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default="preview", help="backend to render with (default preview)")
    p.add_argument("--profile", action="append", metavar="NAME[,NAME...]",
                   help="export profile(s) (default: the film's `export` list)")
    p.add_argument("--scale", type=float, help="resolution scale (default 0.5 for the preview backend, else 1)")
    p.add_argument("--cache", metavar="DIR", help="cache folder (default $FILMC_CACHE_DIR or .filmc/ by the film)")


@cli.register
def register_build(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    """`filmc build FILM`: render the film with a backend and deliver it."""
    p = add("build", cmd_build, "Render a film: check, plan, run the plan (cached), deliver the outputs.")
    p.add_argument("film", help="the .film file")
    p.add_argument("-o", "--out", metavar="DIR", help="output folder (default: build/ beside the film)")
    _add_plan_options(p)
    p.add_argument("--jobs", "-j", type=int, help="nodes to run at once (default: CPU count)")
    p.add_argument("--only", action="append", metavar="SELECTOR",
                   help="build only this scene, scene/shot, shot, op, output or node id (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="show what would be built, build nothing")
    p.add_argument("--json", action="store_true", help="progress events and the result as JSON lines on stdout")
    p.add_argument("--extend-shots", action="store_true",
                   help="lengthen shots whose dialogue runs past their end (else such a line stops the build)")
    p.add_argument("--ray", nargs="?", const="default", type=_ray_address, metavar="ADDRESS",
                   help="run the nodes on Ray: 'local' starts an instance here, 'auto' or HOST:PORT joins a "
                        "running cluster (its machines must see the film and the cache at the same paths); "
                        "alone: a running cluster if found, else a local instance. Needs the optional ray package")


@cli.register
def register_clean(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    """`filmc clean FILM`: drop cached objects."""
    p = add("clean", cmd_clean, "Remove cached render objects of a film.")
    p.add_argument("film", help="the .film file whose cache to clean")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--all", action="store_true", help="remove every cached object")
    mode.add_argument("--unreferenced", action="store_true",
                      help="remove objects the film's current plan does not use (the default)")
    _add_plan_options(p)


@cli.register
def register_backends(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("backends", cmd_backends, "List render backends with their versions and capabilities.")
    p.add_argument("--json", action="store_true", help="as JSON")


@cli.register
def register_doctor(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("doctor", cmd_doctor, "Show which ffmpeg filmc uses, its version and missing encoders/filters.")
    p.add_argument("--json", action="store_true", help="as JSON")


def _plan_defaults(name: str) -> tuple[str, float] | None:
    """`filmc plan`'s node ids must match `filmc build`'s: the backend's version and default scale."""
    from .build import default_scale
    from .registry import get_backend

    try:
        backend = get_backend(name)
    except Exception:  # an unknown or broken backend: `filmc plan` falls back to its own defaults
        return None
    return backend.version, default_scale(name, None)


register_backend_defaults(_plan_defaults)
