"""Golden outputs of the small film: its .otio timeline and its plan JSON.

Regenerate with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/lowering/test_golden.py` and review
the diff. Both are path-independent: paths are relative to the film, and the plan's
`film` field (the path as given on the command line) is replaced by the file name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import opentimelineio as otio
import pytest
from filmc.compiler.check import CheckResult
from filmc.compiler.plan import build_plan
from filmc.compiler.timeline import build_timeline
from lowering_support import FILM_NAME, GOLDEN, REPO, checked

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run with UPDATE_GOLDEN=1 to create it")
    assert text == path.read_text(), f"{name} differs from the golden file; rerun with UPDATE_GOLDEN=1 and review"


def plan_json(small: CheckResult) -> str:
    data = json.loads(build_plan(small.film).to_json())
    data["film"] = Path(data["film"]).name
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_plan_golden(small: CheckResult) -> None:
    text = plan_json(small)
    assert "/tmp" not in text and str(Path.home()) not in text
    _compare("small.plan.json", text)


def test_timeline_golden(small: CheckResult) -> None:
    tl = build_timeline(small.film, build_plan(small.film))
    text = otio.adapters.write_to_string(tl, "otio_json")
    assert "/tmp" not in text
    _compare("small.otio", text if text.endswith("\n") else text + "\n")


def test_golden_timeline_reads_back_equivalent(small: CheckResult) -> None:
    if UPDATE:
        pytest.skip("golden files are being rewritten")
    golden = otio.adapters.read_from_file(str(GOLDEN / "small.otio"))
    built = build_timeline(small.film, build_plan(small.film))
    assert golden.is_equivalent_to(built)
    assert golden.tracks[0].duration() == built.tracks[0].duration()


def test_outputs_do_not_depend_on_where_the_film_lives(small: CheckResult, film_dir: Path, tmp_path: Path) -> None:
    import shutil

    from lowering_support import checked

    elsewhere = tmp_path / "deeper" / "folder"
    shutil.copytree(film_dir, elsewhere)
    moved = checked(elsewhere / FILM_NAME)
    assert plan_json(moved) == plan_json(small)
    a = otio.adapters.write_to_string(build_timeline(small.film), "otio_json")
    b = otio.adapters.write_to_string(build_timeline(moved.film), "otio_json")
    assert a == b


SHORT = REPO / "examples" / "short" / "blackout.film"


def test_short_example_plan_golden() -> None:
    """The shipped short film's plan: any change to the language, std or lowering shows up here."""
    _compare("blackout.plan.json", plan_json(checked(SHORT)))


def test_short_example_timeline_golden() -> None:
    film = checked(SHORT).film
    text = otio.adapters.write_to_string(build_timeline(film, build_plan(film)), "otio_json")
    assert str(REPO) not in text
    _compare("blackout.otio", text if text.endswith("\n") else text + "\n")
