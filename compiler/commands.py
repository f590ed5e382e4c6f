"""Registers the pipeline subcommands (plan, build, export, import) with the CLI.

Each command registers itself in its own function so it can be added or moved
independently; the heavy modules behind a command are imported only when it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from . import cli


@cli.register
def register_plan(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    """`filmc plan FILM`: the render plan as a table, JSON, DOT graph or prompts."""
    from .plan_cli import add_plan_command

    add_plan_command(sub, add)


@cli.register
def register_import(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    """`filmc import script.fountain`: a screenplay becomes a .film skeleton."""
    from .import_cli import add_import_command

    add_import_command(sub, add)


@cli.register
def register_export(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    """`filmc export FILM --to FMT`: the timeline in an editor's format."""
    from .export_cli import add_export_command

    add_export_command(sub, add)
