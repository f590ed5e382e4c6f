"""Worker groups: a backend's heavy modules for some ops load in workers of their own, not in the
forkserver every worker waits for, and only those workers import them."""

from __future__ import annotations

from pathlib import Path

from filmc.runtime.cache import Cache
from filmc.runtime.executor import WorkerPool, execute, local_processes
from rt_toy_backend import ToyBackend, make_plan


class GroupedToy(ToyBackend):
    worker_groups = {"sound": frozenset({"mix"})}
    worker_preload = ("rt_group_marker",)

    def preload_for(self, ops):
        return ("rt_group_marker",) if "mix" in set(ops) else ()


def whoami(folder: Path) -> dict[str, tuple[str, str]]:
    seen = {}
    for f in folder.iterdir():
        pid, _, markers = f.read_text().partition(" ")
        seen[f.name] = (pid, markers)
    return seen


def test_a_groups_nodes_run_in_its_own_workers_which_alone_import_its_modules(tmp_path: Path) -> None:
    room = tmp_path / "who"
    room.mkdir()
    who = str(room)
    plan = make_plan([("p1", "plate", {"whoami": who}, [], 100), ("p2", "plate", {"whoami": who, "n": 2}, [], 100),
                      ("m1", "mix", {"whoami": who}, ["p1"], 100), ("m2", "mix", {"whoami": who, "n": 2}, ["p2"], 100),
                      ("c", "compose", {"whoami": who}, ["m1", "m2"], 100)])
    result = execute(plan, GroupedToy(), Cache(tmp_path / "cache"), jobs=2, memory_budget_mb=8000)
    assert result.ok, [f.describe() for f in result.failures]
    seen = whoami(room)
    sound_pids = {seen["m1"][0], seen["m2"][0]}
    picture_pids = {seen[k][0] for k in ("p1", "p2", "c")}
    assert not sound_pids & picture_pids
    assert {seen[k][1] for k in ("m1", "m2")} == {"rt_group_marker"}  # imported as the worker started
    assert {seen[k][1] for k in ("p1", "p2", "c")} == {""}  # the default workers never imported it


def test_the_forkserver_preloads_only_the_modules_of_ops_in_no_group() -> None:
    backend = GroupedToy()
    assert backend.worker_group("mix") == "sound" and backend.worker_group("plate") == ""
    assert backend.default_preload() == ()
    assert backend.default_preload(["mix"]) == ()
    assert ToyBackend().default_preload() == ToyBackend.worker_preload


def test_a_pool_without_groups_runs_every_node_in_the_same_workers(tmp_path: Path) -> None:
    room = tmp_path / "who"
    room.mkdir()
    who = str(room)
    plan = make_plan([("p1", "plate", {"whoami": who}, [], 100),
                      ("m1", "mix", {"whoami": who}, ["p1"], 100)])
    result = execute(plan, GroupedToy(), Cache(tmp_path / "cache"), jobs=1, memory_budget_mb=8000,
                     pool=WorkerPool(make=local_processes, groups=False))
    assert result.ok, [f.describe() for f in result.failures]
    seen = whoami(room)
    assert seen["p1"][0] == seen["m1"][0]
