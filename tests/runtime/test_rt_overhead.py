"""The executor's own cost: a no-op rebuild of a 5000-node plan must take well under a second.

Run with `-s` to see the numbers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from filmc.runtime.cache import Cache
from filmc.runtime.executor import execute
from rt_helpers import executed
from rt_toy_backend import ToyBackend, make_plan


def chain_plan(n: int):
    """Chains of ten nodes, like shots made of plate -> compose -> animate -> grade ..."""
    return make_plan([(f"n{i}", "plate", {"i": i}, [f"n{i - 1}"] if i % 10 else [], 64) for i in range(n)])


@pytest.mark.slow  # the first build of 5000 nodes takes ~5 s; the no-op rebuild is what is measured
def test_noop_rebuild_of_5000_nodes_takes_under_a_second(tmp_path: Path) -> None:
    plan = chain_plan(5000)
    cache = Cache(tmp_path / "cache")
    t0 = time.perf_counter()
    assert execute(plan, ToyBackend(), cache, jobs=2, processes=False).ran == 5000
    build_s = time.perf_counter() - t0
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = execute(plan, ToyBackend(), cache, jobs=2, processes=False)
        timings.append(time.perf_counter() - t0)
        assert result.cached == 5000 and executed(cache.root, result.run_id) == []
    t0 = time.perf_counter()
    execute(plan, ToyBackend(), cache, jobs=2, processes=False, verify="full")
    full_s = time.perf_counter() - t0
    best = min(timings)
    print(f"\n5000 nodes: first build {build_s:.2f} s ({build_s / 5 :.2f} ms/node), no-op rebuild {best:.3f} s "
          f"({best / 5000 * 1e6:.0f} us/node), no-op with verify=full {full_s:.3f} s")
    assert best < 1.0


def test_worker_process_overhead_per_trivial_node(tmp_path: Path) -> None:
    plan = chain_plan(200)
    cache = Cache(tmp_path / "cache")
    t0 = time.perf_counter()
    assert execute(plan, ToyBackend(), cache, jobs=2).ran == 200
    wall = time.perf_counter() - t0
    print(f"\n200 trivial nodes in 2 spawned workers: {wall:.2f} s ({wall / 200 * 1e3:.1f} ms/node, "
          "pool start included)")
    assert wall < 10
