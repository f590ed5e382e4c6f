"""Checkpoints: a question the build answers mid-way, as soon as the nodes it needs are done,
which may stop the build there (the dialogue-fit check of `filmc build`)."""

from __future__ import annotations

import time
from pathlib import Path

from filmc.runtime.cache import Cache
from filmc.runtime.executor import Checkpoint, execute
from rt_helpers import done_ids, query
from rt_toy_backend import ToyBackend, make_plan


def plan_with_a_slow_branch():
    return make_plan([("speech", "plate", {}, [], 100),
                      ("slow", "portrait", {"sleep": 30.0}, [], 100),
                      ("mix", "mix", {}, ["speech"], 100),
                      ("film", "encode", {}, ["mix", "slow"], 100)])


def test_a_verdict_stops_the_build_at_once_and_keeps_what_finished(tmp_path: Path) -> None:
    plan = plan_with_a_slow_branch()
    ids = {n.label: n.id for n in plan.nodes}
    cache = Cache(tmp_path / "cache")
    asked = []

    def verdict() -> str | None:
        asked.append(done_ids(cache.root))
        return "the line is too long"

    started = time.monotonic()
    result = execute(plan, ToyBackend(), cache, jobs=2, memory_budget_mb=8000,
                     checkpoint=Checkpoint(frozenset({ids["speech"]}), verdict))
    assert time.monotonic() - started < 20  # the 30 s node was stopped, not waited for
    assert result.stopped == "the line is too long" and not result.ok and result.exit_code == 1
    assert asked == [{ids["speech"]}]  # asked once, as soon as its node was done
    assert done_ids(cache.root) == {ids["speech"]}
    assert {r.label: r.status for r in result.nodes.values()} == {"speech": "ran"}
    (run_status,) = query(cache.root, "SELECT status FROM runs WHERE run_id = ?", result.run_id)[0]
    assert run_status == "stopped"
    (slow_status,) = query(cache.root, "SELECT status FROM executions WHERE node_id = ?", ids["slow"])[0]
    assert slow_status == "abandoned"


def test_a_verdict_of_none_lets_the_build_finish(tmp_path: Path) -> None:
    plan = make_plan([("speech", "plate", {}, [], 100), ("pic", "portrait", {"sleep": 0.3}, [], 100),
                      ("mix", "mix", {}, ["speech"], 100), ("film", "encode", {}, ["mix", "pic"], 100)])
    ids = {n.label: n.id for n in plan.nodes}
    asked = []
    result = execute(plan, ToyBackend(), Cache(tmp_path / "cache"), jobs=2, memory_budget_mb=8000,
                     checkpoint=Checkpoint(frozenset({ids["speech"]}), lambda: asked.append(1)))
    assert result.ok and result.stopped is None and result.ran == 4
    assert asked == [1]


def test_a_cached_checkpoint_is_decided_before_anything_runs(tmp_path: Path) -> None:
    first = make_plan([("speech", "plate", {}, [], 100)])
    cache = Cache(tmp_path / "cache")
    assert execute(first, ToyBackend(), cache, jobs=2, processes=False).ok
    plan = plan_with_a_slow_branch()
    ids = {n.label: n.id for n in plan.nodes}
    result = execute(plan, ToyBackend(), cache, jobs=2, processes=False,
                     checkpoint=Checkpoint(frozenset({ids["speech"]}), lambda: "stop"))
    assert result.stopped == "stop" and result.ran == 0 and result.cached == 1


def test_a_checkpoint_on_a_failed_node_never_fires(tmp_path: Path) -> None:
    plan = make_plan([("speech", "plate", {"fail": "no voice"}, [], 100), ("pic", "portrait", {}, [], 100),
                      ("mix", "mix", {}, ["speech"], 100)])
    ids = {n.label: n.id for n in plan.nodes}
    asked = []
    result = execute(plan, ToyBackend(), Cache(tmp_path / "cache"), jobs=2, processes=False,
                     checkpoint=Checkpoint(frozenset({ids["speech"]}), lambda: asked.append(1) or "stop"))
    assert asked == [] and result.stopped is None
    assert [f.label for f in result.failures] == ["speech"] and result.ran == 1 and result.skipped == 1
