"""Caching, selection, the index's records, and plan checks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from filmc.runtime.backend import Capabilities
from filmc.runtime.cache import MANIFEST, Cache, CacheBusy
from filmc.runtime.executor import PlanError, execute
from rt_helpers import done_ids, executed, query
from rt_toy_backend import TOY_VERSION, ToyBackend, expected_digest, make_plan

DIAMOND = [
    ("a", "plate", {"loc": "lot", "tod": "night"}, [], 200),
    ("b", "portrait", {"who": "rae"}, [], 200),
    ("c", "compose", {"shot": "s01_001"}, ["a", "b"], 300),
    ("d", "animate", {"move": "push_in"}, ["c"], 300),
    ("e", "encode", {"profile": "web_mp4"}, ["d"], 400),
]


def content(path: Path) -> str:
    return path.read_text().splitlines()[0].split(":", 1)[1]


def test_first_build_runs_every_node_in_workers_and_second_runs_none(tmp_path: Path) -> None:
    plan = make_plan(DIAMOND, outputs={"web_mp4": "e"})
    cache = Cache(tmp_path / "cache")
    first = execute(plan, ToyBackend(), cache, jobs=2)
    assert first.ok and first.exit_code == 0
    assert (first.ran, first.cached, first.failed, first.skipped) == (5, 0, 0, 0)
    assert sorted(executed(cache.root, first.run_id)) == sorted(n.id for n in plan.nodes)

    second = execute(plan, ToyBackend(), cache, jobs=2)
    assert executed(cache.root, second.run_id) == []
    assert (second.ran, second.cached) == (0, 5)
    runs = query(cache.root, "SELECT ran, cached, status FROM runs ORDER BY run_id")
    assert runs == [(5, 0, "ok"), (0, 5, "ok")]

    # Outputs are what the toy tool computes from params and the bytes of the inputs.
    by_key = {n.label: n for n in plan.nodes}
    a, b, c = (cache.outputs(by_key[k]).single() for k in "abc")
    assert content(a) == expected_digest("plate", DIAMOND[0][2], [])
    assert content(c) == expected_digest("compose", DIAMOND[2][2], [a.read_bytes(), b.read_bytes()])
    assert second.outputs["web_mp4"].path("e.txt") == cache.object_dir(by_key["e"].id) / "e.txt"
    assert cache.object_dir(by_key["e"].id) == cache.root / "objects" / by_key["e"].id[:2] / by_key["e"].id


def test_index_records_provenance_sizes_and_hashes(tmp_path: Path) -> None:
    plan = make_plan(DIAMOND)
    cache = Cache(tmp_path / "cache")
    execute(plan, ToyBackend(), cache, processes=False)
    node = plan.nodes[2]
    (row,) = query(cache.root, "SELECT op, label, status, backend, backend_version, started, finished, duration,"
                               " film, spans FROM nodes WHERE id = ?", node.id)
    op, label, status, backend, version, started, finished, duration, film, spans = row
    assert (op, label, status, backend, version, film) == ("compose", "c", "done", "toy", TOY_VERSION,
                                                           "/films/toy.film")
    assert json.loads(spans) == ["/films/toy.film:3:3"]
    assert finished >= started and duration == pytest.approx(finished - started)
    (out,) = query(cache.root, "SELECT name, size, sha256 FROM outputs WHERE node_id = ?", node.id)
    path = cache.output_path(node.id, "c.txt")
    assert out == ("c.txt", path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
    manifest = json.loads((cache.object_dir(node.id) / MANIFEST).read_text())
    assert manifest["outputs"] == [{"name": "c.txt", "kind": "file", "size": out[1], "sha256": out[2]}]


def test_changed_params_rebuild_only_that_node_and_its_dependants(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    execute(make_plan(DIAMOND), ToyBackend(), cache, processes=False)
    edited = [*DIAMOND[:3], ("d", "animate", {"move": "pull_out"}, ["c"], 300), DIAMOND[4]]
    plan = make_plan(edited)
    result = execute(plan, ToyBackend(), cache, processes=False)
    assert sorted(r.label for r in result.nodes.values() if r.status == "ran") == ["d", "e"]
    assert result.cached == 3


def test_only_builds_the_selection_and_what_it_needs(tmp_path: Path) -> None:
    plan = make_plan(DIAMOND, outputs={"web_mp4": "e"})
    cache = Cache(tmp_path / "cache")
    result = execute(plan, ToyBackend(), cache, processes=False, only=["c"])
    assert sorted(r.label for r in result.nodes.values()) == ["a", "b", "c"]
    assert "web_mp4" not in result.outputs
    # A cached selection needs nothing upstream, even when upstream objects are gone.
    cache.discard(cache.object_dir(plan.nodes[0].id))
    again = execute(plan, ToyBackend(), cache, processes=False, only=["compose"])
    assert [r.label for r in again.nodes.values()] == ["c"] and again.cached == 1
    # e needs d, d needs c, and c is cached: the missing plate is not needed.
    final = execute(plan, ToyBackend(), cache, processes=False, only=["web_mp4"])
    assert sorted(r.label for r in final.nodes.values() if r.status == "ran") == ["d", "e"]
    assert final.outputs["web_mp4"].single().is_file()
    everything = execute(plan, ToyBackend(), cache, processes=False)
    assert [r.label for r in everything.nodes.values() if r.status == "ran"] == ["a"]
    with pytest.raises(PlanError, match="nothing in the plan matches 'zzz'"):
        execute(plan, ToyBackend(), cache, only=["zzz"])


def test_plans_the_backend_cannot_run_are_refused_before_anything_runs(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    plan = make_plan(DIAMOND)
    stale = plan.model_copy(update={"backend_version": "toy-0"})
    with pytest.raises(PlanError, match="compiled for backend toy toy-0"):
        execute(stale, ToyBackend(), cache)

    class NoEncode(ToyBackend):
        capabilities = Capabilities(ops={"plate", "portrait", "compose", "animate"})

    with pytest.raises(PlanError, match="does not implement op\\(s\\): encode"):
        execute(plan, NoEncode(), cache)
    broken = plan.model_copy(update={"nodes": list(reversed(plan.nodes))})
    with pytest.raises(PlanError, match="is not an earlier node"):
        execute(broken, ToyBackend(), cache)
    assert done_ids(cache.root) == set()


def test_a_second_build_on_a_busy_cache_is_refused(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    other = Cache(tmp_path / "cache")
    with other.lock(), pytest.raises(CacheBusy, match="another filmc build"):
        execute(make_plan(DIAMOND), ToyBackend(), cache, processes=False)


def test_cache_defaults_beside_the_film_and_can_be_overridden(tmp_path: Path, monkeypatch) -> None:
    film = tmp_path / "films" / "blackout.film"
    film.parent.mkdir()
    monkeypatch.delenv("FILMC_CACHE_DIR", raising=False)
    assert Cache.for_film(film).root == film.parent / ".filmc"
    assert Cache.for_film(film, tmp_path / "elsewhere").root == tmp_path / "elsewhere"
    monkeypatch.setenv("FILMC_CACHE_DIR", str(tmp_path / "env"))
    assert Cache.for_film(film).root == tmp_path / "env"
    mode = query(tmp_path / "env", "PRAGMA journal_mode")
    assert mode == [("wal",)]
