"""`filmc plan` and `filmc build` agree on node ids: plan uses the installed backend's version and scale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filmc.cli import main
from filmc.compiler.check import check_file
from filmc.runtime.build import default_scale, make_plan
from filmc.runtime.registry import get_backend

MINIMAL = Path(__file__).resolve().parents[2] / "examples" / "minimal" / "minimal.film"


def test_plan_shows_the_node_ids_a_build_uses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(MINIMAL), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    backend = get_backend("preview")
    built = make_plan(check_file(MINIMAL).film, backend, default_scale("preview", None), None)
    assert shown["backend_version"] == backend.version
    assert sorted(n["id"] for n in shown["plan"]["nodes"]) == sorted(n.id for n in built.nodes)


def test_explicit_plan_options_still_win(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(MINIMAL), "--format", "json", "--backend-version", "9", "--scale", "1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["backend_version"] == "9"
    film = check_file(MINIMAL).film
    full = [film.header.width, film.header.height]
    sizes = {tuple(n["params"]["resolution"]) for n in shown["plan"]["nodes"] if n["op"] == "grade"}
    assert sizes == {tuple(full)}
