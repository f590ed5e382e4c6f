"""Builds through Ray (a local instance of 2 CPUs, started once for this module) give the same film
as local builds, run every node in Ray workers with the node's resources, report failures as a
local build does, and leave a cache that a rebuild reuses completely."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ds_backend import WitnessPreview, WitnessToy, notes, toy_plan  # noqa: E402
from filmc.runtime.build import BuildOptions, build  # noqa: E402
from filmc.runtime.cache import Cache  # noqa: E402
from filmc.runtime.distributed import Cluster, RayPool, connect  # noqa: E402
from filmc.runtime.executor import execute  # noqa: E402
from filmc.runtime.registry import register_backend, unregister_backend  # noqa: E402

HERE = Path(__file__).resolve().parent

FILM = """\
film "Lamp" {
  resolution 128x72
  fps 24
  loudness -14 LUFS
  export web_mp4
}

character ada "Ada" {
  look "young keeper, red knitted hat"
  voice std.en_gb_female
}

location room "Lamp room" {
  look "top of a lighthouse, brass lamp"
}

scene first "First" at room, dawn with ada {
  ambience std.wind at -30 dB
  shot wide 1s {
    camera pan_right
    action "The lamp turns."
  }
  dissolve 6f
  shot close_up 2s on ada {
    camera push_in
    ada: "Light."
  }
}
"""


@pytest.fixture(scope="module")
def cluster():
    """A fresh local Ray instance (never a cluster someone else runs); its workers import ds_backend."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": str(HERE)}})
    try:
        with connect("auto") as joined:  # a connection the process holds is used as it is
            yield joined
    finally:
        ray.shutdown()


def query(cache: Path, sql: str, *args: object) -> list[tuple]:
    db = sqlite3.connect(f"file:{cache / 'index.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def build_film(film: Path, root: Path, backend: str, ray_address: str | None) -> tuple[int, str]:
    err = io.StringIO()
    opts = BuildOptions(film=film, out=root / "out", cache=root / "cache", backend=backend, scale=1.0, json=True,
                        ray=ray_address)
    return build(opts, io.StringIO(), err).code, err.getvalue()


def test_film_built_on_ray_is_identical_to_local_build_and_rebuilds_from_cache(cluster: Cluster,
                                                                               tmp_path: Path) -> None:
    film = tmp_path / "film" / "lamp.film"
    film.parent.mkdir()
    film.write_text(FILM, encoding="utf-8")
    witness = tmp_path / "witness"
    register_backend("witness_preview", WitnessPreview(witness), replace=True)
    try:
        code, err = build_film(film, tmp_path / "local", "witness_preview", None)
        assert code == 0, err
        local_notes = notes(witness)
        for f in witness.glob("*.json"):
            f.unlink()
        code, err = build_film(film, tmp_path / "ray", "witness_preview", "auto")
        assert code == 0, err
        assert "filmc: Ray at" in err
        ray_notes = notes(witness)
        for f in witness.glob("*.json"):
            f.unlink()
        rebuild_code, rebuild_err = build_film(film, tmp_path / "ray", "witness_preview", "auto")
    finally:
        unregister_backend("witness_preview")

    # (a) the same film, byte for byte, and every node's outputs the same
    for name in ("lamp.mp4", "mix.wav", "lamp.srt", "contact_sheet.png", "stems/dialogue.wav"):
        assert (tmp_path / "ray" / "out" / name).read_bytes() == (tmp_path / "local" / "out" / name).read_bytes(), name
    sql = "SELECT node_id, name, sha256 FROM outputs ORDER BY node_id, name"
    outputs = query(tmp_path / "ray" / "cache", sql)
    assert len(outputs) > 10 and outputs == query(tmp_path / "local" / "cache", sql)

    # (b) every node of the Ray build ran in a Ray worker, not in this process; the local ones did not
    executed = {r[0] for r in query(tmp_path / "ray" / "cache", "SELECT node_id FROM executions")}
    assert {n["node"] for n in ray_notes} == executed
    assert {n["op"] for n in ray_notes} >= {"speech", "bed", "plate", "compose", "encode", "qc"}
    assert all(n["worker"] and n["task"] and n["pid"] != os.getpid() for n in ray_notes)
    assert local_notes and all(n["worker"] is None for n in local_notes)

    # (d) a rebuild through Ray runs nothing
    assert rebuild_code == 0, rebuild_err
    last = query(tmp_path / "ray" / "cache", "SELECT MAX(run_id) FROM runs")[0][0]
    assert query(tmp_path / "ray" / "cache", "SELECT ran, cached FROM runs WHERE run_id = ?", last) == \
        [(0, len(executed))]
    assert notes(witness) == []


def test_each_node_is_a_ray_task_reserving_its_memory_and_threads(cluster: Cluster, tmp_path: Path) -> None:
    plan = toy_plan([("a", "plate", {"n": 1}, [], 300), ("b", "plate", {"n": 2}, [], 700),
                     ("c", "plate", {"n": 3}, [], 500), ("d", "compose", {}, ["a", "b", "c"], 200)])
    with Cache(tmp_path / "cache") as cache:
        result = execute(plan, WitnessToy(tmp_path / "witness"), cache, **cluster.executor_options())
    assert result.ok and result.ran == 4
    seen = {n["label"]: n for n in notes(tmp_path / "witness")}
    assert set(seen) == {"a", "b", "c", "d"}
    declared = {n.label: n.resources.memory_mb for n in plan.nodes}
    for label, n in seen.items():
        assert n["worker"] and n["pid"] != os.getpid()
        assert n["task_name"] == f"filmc plate {label}" if label != "d" else n["task_name"] == "filmc compose d"
        assert n["resources"]["memory"] == declared[label] * 2**20
        assert n["resources"]["CPU"] == n["threads"] >= 1
    assert seen["d"]["threads"] == 2  # the last node runs alone: it gets both CPUs


def _failure_plan():
    return toy_plan([("ok", "plate", {"n": 1}, [], 100), ("bad", "plate", {"fail": "no film stock"}, [], 100),
                     ("after", "compose", {}, ["bad"], 100)])


def test_node_failure_through_ray_is_reported_like_a_local_one(cluster: Cluster, tmp_path: Path) -> None:
    with Cache(tmp_path / "local") as cache:
        local = execute(_failure_plan(), WitnessToy(tmp_path / "w1"), cache, retries=0)
    with Cache(tmp_path / "ray") as cache:
        remote = execute(_failure_plan(), WitnessToy(tmp_path / "w2"), cache, retries=0, **cluster.executor_options())
    assert [n["worker"] for n in notes(tmp_path / "w2")] and all(n["worker"] for n in notes(tmp_path / "w2"))
    assert remote.failures == local.failures
    failure = remote.failures[0]
    assert (failure.op, failure.label, failure.spans) == ("plate", "bad", ("/films/toy.film:2:3",))
    assert "toy renderer refused bad" in failure.error and "fatal: no film stock" in failure.error
    assert "/films/toy.film:2:3: plate bad failed" in failure.describe()
    assert {r.label: r.status for r in remote.nodes.values()} == {"ok": "ran", "bad": "failed", "after": "skipped"}
    assert remote.exit_code == 1


def test_a_worker_that_dies_is_a_transient_failure_retried_then_reported(cluster: Cluster, tmp_path: Path) -> None:
    plan = toy_plan([("ok", "plate", {"n": 1}, [], 100), ("crash", "plate", {"die": True}, [], 100)])
    with Cache(tmp_path / "cache") as cache:
        result = execute(plan, WitnessToy(tmp_path / "witness"), cache, retries=1, backoff_s=0.0,
                         **cluster.executor_options())
        assert cache.object_dir(plan.nodes[0].id).is_dir()
    assert [(f.label, f.transient, f.attempts) for f in result.failures] == [("crash", True, 2)]
    assert "the Ray worker running this node died" in result.failures[0].error
    assert result.retries == 1 and result.nodes[plan.nodes[0].id].status == "ran"
    assert sorted(n["attempt"] for n in notes(tmp_path / "witness") if n["label"] == "crash") == [1, 2]


def test_a_gpu_node_on_a_cluster_without_gpus_fails_at_once(cluster: Cluster, tmp_path: Path) -> None:
    assert cluster.gpus == 0
    plan = toy_plan([("render", "plate", {"n": 1}, [], 100, "gpu")])
    with Cache(tmp_path / "cache") as cache:
        result = execute(plan, WitnessToy(tmp_path / "witness"), cache, **cluster.executor_options())
    assert [(f.label, f.transient) for f in result.failures] == [("render", False)]
    assert "needs a GPU and no machine of the Ray cluster" in result.failures[0].error
    assert result.wall_s < 5 and notes(tmp_path / "witness") == []


def test_task_options_cap_a_node_at_the_largest_machine(cluster: Cluster) -> None:
    pool = RayPool(cluster, print, ())
    node = toy_plan([("huge", "plate", {}, [], 10**7, "gpu")]).nodes[0]
    options = pool.task_options(node, threads=64)
    assert options["num_cpus"] == cluster.largest_cpus == 2
    assert options["memory"] == cluster.largest_memory_mb * 2**20
    assert options["num_gpus"] == 1
    pool.shutdown()


def test_a_backend_the_workers_cannot_import_fails_once_with_a_hint(cluster: Cluster, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine without filmc: the task cannot even unpickle its arguments."""
    (tmp_path / "only_here.py").write_text(
        "from ds_backend import WitnessToy\n\nclass OnlyHere(WitnessToy):\n    pass\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    from only_here import OnlyHere

    plan = toy_plan([("a", "plate", {"n": 1}, [], 100)])
    with Cache(tmp_path / "cache") as cache:
        result = execute(plan, OnlyHere(tmp_path / "witness"), cache, retries=2, backoff_s=0.0,
                         **cluster.executor_options())
    [failure] = result.failures
    assert (failure.transient, failure.attempts) == (False, 1)
    assert "is filmc installed on every machine" in failure.error
    assert "No module named 'only_here'" in failure.error and "\x1b[" not in failure.error
