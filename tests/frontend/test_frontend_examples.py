"""The shipped examples and standard library check clean, format clean, and regenerate exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from filmc.compiler.check import check_file
from filmc.compiler.diagnostics import render_all

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "examples/short/blackout.film", ROOT / "examples/feature/feature.film",
            ROOT / "examples/minimal/minimal.film"]


@pytest.mark.parametrize("film", EXAMPLES, ids=lambda p: p.stem)
def test_example_checks_clean(film):
    result = check_file(film)
    assert not result.diagnostics, render_all(result.diagnostics, result.sources)


def test_short_example_has_what_the_brief_asks_for():
    film = check_file(EXAMPLES[0]).film
    shots = film.shots()
    assert len(film.scenes) >= 3 and len(shots) >= 15
    speakers = {line.speaker for s in shots for line in s.lines}
    assert len(speakers) >= 2
    assert any(s.media for s in shots)
    assert any(e.verb in ("becomes", "sheds") for s in shots for e in s.events)
    assert any(e.verb in ("takes", "drops", "gives") for s in shots for e in s.events) or any(
        e.verb in ("takes", "drops", "gives") for sc in film.scenes for e in sc.events)
    effects = {s.transition_in.effect for s in shots if s.transition_in} | {
        s.transition_out.effect for s in shots if s.transition_out}
    assert len(effects) >= 3


def test_feature_example_is_feature_length():
    film = check_file(EXAMPLES[1]).film
    assert len(film.scenes) == 40
    assert 700 <= len(film.shots()) <= 800
    assert len(film.files) >= 4


def test_feature_generator_reproduces_the_committed_files(tmp_path):
    feature = ROOT / "examples/feature"
    before = {p.name: p.read_bytes() for p in feature.glob("*.film")}
    copy = tmp_path / "feature"
    copy.mkdir()
    (copy / "generate.py").write_bytes((feature / "generate.py").read_bytes())
    subprocess.run([sys.executable, str(copy / "generate.py")], check=True, cwd=copy, capture_output=True)
    after = {p.name: p.read_bytes() for p in copy.glob("*.film")}
    assert after == before


def test_examples_and_stdlib_are_formatted():
    proc = subprocess.run([sys.executable, "-m", "filmc.cli", "fmt", "--check", "examples", "stdlib"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_command_line_process_keeps_its_exit_status_and_output(tmp_path: Path) -> None:
    """The `filmc` process ends with os._exit once its exit handlers have run (filmc.cli.run): its
    status is the command's, and everything it printed reaches a pipe whole."""
    import json

    plan = subprocess.run([sys.executable, "-m", "filmc.cli", "plan", str(EXAMPLES[0]), "--format", "json"],
                          capture_output=True, text=True)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)
    bad = tmp_path / "bad.film"
    bad.write_text('film "x" {\n  resolution 12\n}\n', encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "filmc.cli", "check", str(bad)], capture_output=True, text=True)
    assert check.returncode == 1 and "error" in check.stdout + check.stderr
    usage = subprocess.run([sys.executable, "-m", "filmc.cli", "no-such-command"], capture_output=True, text=True)
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
