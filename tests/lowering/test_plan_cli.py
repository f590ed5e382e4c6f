"""`filmc plan`: table, JSON, DOT, prompts, cache counts and exit codes (run in-process)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from filmc.compiler import cli
from filmc.compiler.check import CheckResult
from filmc.compiler.costs import node_seconds, plan_seconds
from filmc.compiler.plan import build_plan
from filmc.compiler.plan_cli import load_costs, print_table, summarise
from lowering_support import FILM_NAME


@pytest.fixture(autouse=True)
def compiler_defaults_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check the compiler's own plan defaults: a runtime imported by another test in the
    same worker must not lend its backend's version and scale (tests/runtime covers that)."""
    from filmc.compiler import backend_defaults

    monkeypatch.setattr(backend_defaults, "_RESOLVERS", [])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["plan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_summary(capsys: pytest.CaptureFixture[str], film_dir: Path, small: CheckResult) -> None:
    code, out, err = run(capsys, str(film_dir / FILM_NAME), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    ops = {r["op"]: r for r in data["ops"]}
    assert ops["compose"]["count"] == 8 and ops["grade"]["count"] == 9 and ops["encode"]["count"] == 2
    assert data["total"]["count"] == 54 and data["total"]["cached"] == 0
    assert data["total"]["gpu_hours"] > 0 and data["total"]["cost_usd"] > 0
    assert ops["grade"]["gpu_hours"] == 0  # only generative ops use the GPU
    assert data["plan"] == json.loads(build_plan(small.film).to_json())
    assert data["outputs"]["web_mp4"] == data["plan"]["outputs"]["web_mp4"]


def test_text_table(capsys: pytest.CaptureFixture[str], film_dir: Path) -> None:
    code, out, _ = run(capsys, str(film_dir / FILM_NAME))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["op", "count", "cached", "preview", "CPU", "GPU", "backend", "GPU", "h", "cost", "$"]
    rows = {line.split()[0]: line.split() for line in lines[2:] if line and not line.startswith("-")}
    assert rows["compose"][1:3] == ["8", "0"] and rows["total"][1] == "54"
    assert all(re.fullmatch(r"\d+:\d\d:\d\d", rows["animate"][i]) for i in (3, 4))
    assert "costs.toml" in out


def test_rich_table_on_a_terminal(capsys: pytest.CaptureFixture[str], small: CheckResult, film_dir: Path) -> None:
    plan = build_plan(small.film)
    costs = load_costs()
    print_table(plan, summarise(plan, film_dir / FILM_NAME, costs), costs, tty=True)
    out = capsys.readouterr().out
    assert "Render plan" in out and "compose" in out and "total" in out


def test_cached_nodes_are_counted(capsys: pytest.CaptureFixture[str], film_dir: Path, small: CheckResult,
                                  tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "cached"
    shutil.copytree(film_dir, copy)
    plan = build_plan(small.film)
    plates = [n.id for n in plan.nodes if n.op == "plate"]
    (copy / ".filmc").mkdir()
    db = sqlite3.connect(copy / ".filmc" / "index.sqlite")
    db.execute("CREATE TABLE nodes (id TEXT PRIMARY KEY, op TEXT, status TEXT NOT NULL)")
    db.executemany("INSERT INTO nodes VALUES (?, 'plate', 'done')", [(p,) for p in plates[:2]])
    db.execute("INSERT INTO nodes VALUES (?, 'plate', 'failed')", (plates[2],))
    db.execute("INSERT INTO nodes VALUES ('0123456789abcdef01234567', 'plate', 'done')")
    db.commit()
    db.close()
    code, out, _ = run(capsys, str(copy / FILM_NAME), "--format", "json")
    assert code == 0
    data = json.loads(out)
    ops = {r["op"]: r for r in data["ops"]}
    assert ops["plate"]["cached"] == 2 and data["total"]["cached"] == 2
    full = json.loads(run(capsys, str(film_dir / FILM_NAME), "--format", "json")[1])
    full_plate = next(r for r in full["ops"] if r["op"] == "plate")
    assert ops["plate"]["preview_cpu_s"] < full_plate["preview_cpu_s"]
    code, dot, _ = run(capsys, str(copy / FILM_NAME), "--graph")
    assert dot.count("dashed") == 2


def test_graph(capsys: pytest.CaptureFixture[str], film_dir: Path, small: CheckResult) -> None:
    code, out, _ = run(capsys, str(film_dir / FILM_NAME), "--graph")
    assert code == 0
    assert out.startswith("digraph plan {") and out.rstrip().endswith("}")
    plan = build_plan(small.film)
    edges = sum(len(n.inputs) for n in plan.nodes)
    assert out.count(" -> ") == edges
    assert all(f'"{n.id}" [label=' in out for n in plan.nodes)


def test_prompts_exactly_as_the_backend_receives_them(capsys: pytest.CaptureFixture[str], film_dir: Path,
                                                      small: CheckResult) -> None:
    plan = build_plan(small.film)
    code, out, _ = run(capsys, str(film_dir / FILM_NAME), "--prompts")
    assert code == 0
    animate = next(n for n in plan.nodes if n.op == "animate" and n.label == "s01_002")
    for key in ("image", "motion", "negative"):
        assert f"{key}: {animate.params['prompts'][key]}\n" in out
    code, out, _ = run(capsys, str(film_dir / FILM_NAME), "--prompts", "--format", "json")
    records = json.loads(out)
    assert {r["op"] for r in records} == {"plate", "portrait", "compose", "animate"}
    assert next(r for r in records if r["node"] == animate.id)["prompts"] == animate.params["prompts"]


def test_errors_exit_1_without_a_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.film"
    bad.write_text('film "B" { resolution 64x64; fps 24 }\nlocation room { look "room" }\n'
                   'scene one at room, day {\n  shot widest 1s\n}\n')
    code, out, err = run(capsys, str(bad))
    assert code == 1 and out == "" and "error[E0301]" in err
    code, out, _ = run(capsys, str(bad), "--format", "json")
    assert code == 1 and [d["code"] for d in json.loads(out)] == ["E0301"]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], film_dir: Path, tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "missing.film"))
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, str(film_dir / FILM_NAME), "--profile", "nope")
    assert code == 2 and "unknown export profile `nope`" in err


def test_warnings_are_reported_and_can_be_denied(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    film = tmp_path / "w.film"
    long_action = " ".join(["A long procession of lantern bearers winds through the old town square"] * 6)
    film.write_text('film "W" { resolution 64x64; fps 24 }\nlocation room { look "room" }\n'
                    f'scene one at room, day {{\n  shot wide 2s {{ action "{long_action}" }}\n}}\n')
    code, out, err = run(capsys, str(film))
    assert code == 0 and "warning[W0803]" in err and "compose" in out
    code, out, _ = run(capsys, str(film), "--deny-warnings")
    assert code == 1 and out == ""


def test_cost_model_units(small: CheckResult) -> None:
    plan = build_plan(small.film)
    costs = load_costs()
    animate = next(n for n in plan.nodes if n.op == "animate" and n.label == "s01_001")
    gpu = costs["backends"]["gpu"]["animate"]
    assert node_seconds(animate, costs["backends"]["gpu"]) == pytest.approx(
        gpu["per_node"] + gpu["per_megapixel_frame"] * 72 * 640 * 360 / 1e6)
    speech = next(n for n in plan.nodes if n.op == "speech" and n.params["text"] == "You're late.")
    cpu = costs["backends"]["preview_cpu"]["speech"]
    assert node_seconds(speech, costs["backends"]["preview_cpu"]) == pytest.approx(
        cpu["per_node"] + cpu["per_audio_second"] * 2 / 150 * 60)


def test_a_footage_grade_costs_its_frames(small: CheckResult) -> None:
    """Grading footage runs every frame through ffmpeg; a painted shot grades two stills: the
    executor must know the footage grade is the long one, to start it first."""
    plan = build_plan(small.film)
    model = load_costs()["backends"]["preview_cpu"]
    seconds = plan_seconds(plan, model)
    ops = {n.id: n.op for n in plan.nodes}
    footage = [n for n in plan.nodes if n.op == "grade" and any(ops[i] == "conform" for i in n.inputs)]
    painted = [n for n in plan.nodes if n.op == "grade" and n not in footage]
    assert len(footage) == 1 and painted
    cost = model["grade_footage"]
    w, h = footage[0].params["resolution"]
    assert seconds[footage[0].id] == pytest.approx(
        cost["per_node"] + cost["per_megapixel_frame"] * footage[0].params["frames"] * w * h / 1e6)
    assert seconds[footage[0].id] > max(seconds[n.id] for n in painted)
    assert all(seconds[n.id] == node_seconds(n, model) for n in plan.nodes if n not in footage)
