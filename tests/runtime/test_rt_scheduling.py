"""Concurrency: independent nodes overlap; declared memory and GPU slots are never oversubscribed."""

from __future__ import annotations

import os
from pathlib import Path

import rt_toy_backend
from filmc.runtime.cache import Cache
from filmc.runtime.executor import execute
from filmc.runtime.progress import BuildWarning
from rt_helpers import intervals, overlap
from rt_toy_backend import ToyBackend, make_plan


def test_independent_nodes_overlap_in_worker_processes(tmp_path: Path) -> None:
    room = str(tmp_path / "room")  # each node waits there until the other two run too
    plan = make_plan([*[(f"p{i}", "plate", {"meet": room, "peers": 3, "sleep": 0.2, "n": i}, [], 100)
                        for i in range(3)],
                      ("c", "compose", {}, ["p0", "p1", "p2"], 100)])
    cache = Cache(tmp_path / "cache")
    rt_toy_backend.RUN_PIDS.clear()
    result = execute(plan, ToyBackend(), cache, jobs=3, memory_budget_mb=8000)
    assert result.ok, [f.describe() for f in result.failures]
    spans = intervals(cache.root)
    assert overlap(spans["p0"], spans["p1"]) >= 0.2 and overlap(spans["p1"], spans["p2"]) >= 0.2
    assert spans["c"][0] >= max(spans[f"p{i}"][1] for i in range(3))  # a dependant waits for its inputs
    assert rt_toy_backend.RUN_PIDS == []  # every CPU node ran in a worker process, none in this one


def test_jobs_1_runs_one_node_at_a_time(tmp_path: Path) -> None:
    room = str(tmp_path / "room")
    plan = make_plan([("p1", "plate", {"meet": room, "meet_timeout": 0.3}, [], 100),
                      ("p2", "plate", {"meet": room, "meet_timeout": 0.3, "n": 2}, [], 100)])
    result = execute(plan, ToyBackend(), Cache(tmp_path / "cache"), jobs=1, processes=False)
    assert [f.label for f in result.failures] == ["p1"]  # p1 waited alone; p2 then found p1's mark
    assert "waited 0.3 s for 1 other node(s)" in result.failures[0].error


def test_nodes_whose_memory_sum_exceeds_the_budget_never_overlap(tmp_path: Path) -> None:
    plan = make_plan([("big1", "plate", {"sleep": 0.3}, [], 600), ("big2", "plate", {"sleep": 0.3, "n": 2}, [], 600),
                      ("small", "portrait", {"sleep": 0.3}, [], 300)])
    cache = Cache(tmp_path / "cache")
    result = execute(plan, ToyBackend(), cache, jobs=2, memory_budget_mb=1000, processes=False)
    assert result.ok
    spans = intervals(cache.root)
    assert overlap(spans["big1"], spans["big2"]) < 0
    # Parallelism is kept where memory allows: the small node ran beside one of the big ones.
    assert max(overlap(spans["small"], spans["big1"]), overlap(spans["small"], spans["big2"])) > 0.1
    declared = {"big1": 600, "big2": 600, "small": 300}
    for label, (start, _) in spans.items():
        in_use = sum(declared[o] for o, iv in spans.items() if iv[0] <= start < iv[1] or o == label)
        assert in_use <= 1000


def test_a_node_larger_than_the_budget_runs_alone_with_a_warning(tmp_path: Path) -> None:
    plan = make_plan([("huge", "plate", {"sleep": 0.2}, [], 5000), ("small", "portrait", {"sleep": 0.2}, [], 100)])
    cache = Cache(tmp_path / "cache")
    seen = []
    result = execute(plan, ToyBackend(), cache, jobs=2, memory_budget_mb=1000, processes=False, events=seen.append)
    assert result.ok
    assert any(isinstance(e, BuildWarning) and "5000 MB" in e.message for e in seen)
    spans = intervals(cache.root)
    assert overlap(spans["huge"], spans["small"]) < 0


def test_gpu_nodes_run_in_the_build_process_one_slot_at_a_time(tmp_path: Path) -> None:
    plan = make_plan([("g1", "animate", {"sleep": 0.3}, [], 100, "gpu"),
                      ("g2", "animate", {"sleep": 0.3, "n": 2}, [], 100, "gpu")])
    cache = Cache(tmp_path / "cache")
    rt_toy_backend.RUN_PIDS.clear()
    result = execute(plan, ToyBackend(), cache, jobs=2, gpu_slots=1, memory_budget_mb=8000)
    assert result.ok
    ran_in = list(rt_toy_backend.RUN_PIDS)
    assert ran_in == [os.getpid(), os.getpid()]
    spans = intervals(cache.root)
    assert overlap(spans["g1"], spans["g2"]) < 0


def test_ready_nodes_on_the_longest_estimated_chain_start_first(tmp_path: Path) -> None:
    """Plan order puts the quick independent nodes first; the estimate says the chain behind `slow`
    is the long one, so with one worker `slow` must start before them (critical path first)."""
    plan = make_plan([("q1", "plate", {"n": 1}, [], 100), ("q2", "plate", {"n": 2}, [], 100),
                      ("slow", "portrait", {}, [], 100), ("end", "compose", {}, ["slow"], 100)])
    weights = {"plate": 0.1, "portrait": 5.0, "compose": 5.0}
    cache = Cache(tmp_path / "cache")
    result = execute(plan, ToyBackend(), cache, jobs=1, processes=False, estimate=lambda n: weights[n.op])
    assert result.ok, [f.describe() for f in result.failures]
    spans = intervals(cache.root)
    assert spans["slow"][0] < min(spans["q1"][0], spans["q2"][0])
    unweighted = Cache(tmp_path / "plain")
    assert execute(plan, ToyBackend(), unweighted, jobs=1, processes=False).ok
    plain = intervals(unweighted.root)  # equal estimates: the deeper chain still goes first, then plan order
    assert plain["slow"][0] < plain["q1"][0] < plain["q2"][0]


def test_a_node_that_runs_alone_gets_every_core(tmp_path: Path) -> None:
    plan = make_plan([("p1", "plate", {"n": 1}, [], 100), ("p2", "plate", {"n": 2}, [], 100),
                      ("c", "compose", {}, ["p1", "p2"], 100)])
    seen: dict[str, int] = {}

    class Recording(ToyBackend):
        def run(self, node, inputs, workdir, ctx):  # type: ignore[override]
            seen[node.label] = ctx.threads
            super().run(node, inputs, workdir, ctx)

    assert execute(plan, Recording(), Cache(tmp_path / "cache"), jobs=2, processes=False).ok
    cores = os.cpu_count() or 1
    assert seen["c"] == cores  # nothing else left to run beside it
    assert seen["p1"] == max(1, cores // 2)  # started beside p2
