"""Helpers shared by the Fountain import tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from filmc.compiler import ast
from filmc.compiler.diagnostics import Diagnostic
from filmc.compiler.syntax import parse_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_make_feature():
    spec = importlib.util.spec_from_file_location("make_feature", FIXTURES / "make_feature.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_film(text: str) -> ast.Module:
    """Parse .film text, failing the test on any syntax diagnostic."""
    module, diags = parse_text(text, "imported.film")
    assert not diags, "\n".join(d.message for d in diags) + "\n" + text
    return module


def scenes_of(module: ast.Module) -> list[ast.Scene]:
    return [i for i in module.items if isinstance(i, ast.Scene)]


def shots_of(scene: ast.Scene) -> list[ast.Shot]:
    return [s for s in scene.block.stmts if isinstance(s, ast.Shot)]


def definitions(module: ast.Module, kind: str) -> dict[str, ast.Definition]:
    return {i.name: i for i in module.items if isinstance(i, ast.Definition) and i.kind == kind}


def prop(block: ast.Block | None, key: str) -> list[ast.Property]:
    return [p for p in block.properties() if p.key == key] if block else []


def action_of(shot: ast.Shot) -> str | None:
    found = prop(shot.block, "action")
    return found[0].atoms[0].string_value if found else None


def lines_of(shot: ast.Shot) -> list[ast.Dialogue]:
    return [s for s in shot.block.stmts if isinstance(s, ast.Dialogue)] if shot.block else []


def check_diagnostics(film_text: str, directory: Path, name: str = "imported.film") -> list[Diagnostic]:
    """Diagnostics `filmc check` reports for the file itself (not for the std library it loads)."""
    check = pytest.importorskip("filmc.compiler.check")
    path = directory / name
    path.write_text(film_text, encoding="utf-8")
    result = check.check_file(path)
    return [d for d in result.diagnostics if d.span is None or not d.span.file.startswith("<std>")]
