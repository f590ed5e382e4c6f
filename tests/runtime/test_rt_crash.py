"""Crash safety: a build killed with SIGKILL resumes without re-running finished nodes and
without ever using a half-written object; a lost index is rebuilt from the objects' manifests."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from filmc.runtime.cache import Cache
from filmc.runtime.executor import execute
from filmc.runtime.progress import NodeCached
from rt_helpers import done_ids, executed, query
from rt_toy_backend import ToyBackend, make_plan

HERE = Path(__file__).parent


def crash_plan():
    specs = [(f"plate{i}", "plate", {"i": i, "sleep": 0.1, "slow_write": 0.15, "repeat": 400}, [], 100)
             for i in range(8)]
    specs += [(f"shot{i}", "compose", {"i": i, "slow_write": 0.15}, [f"plate{2 * i}", f"plate{2 * i + 1}"], 100)
              for i in range(4)]
    specs.append(("film", "assemble", {"slow_write": 0.1}, [f"shot{i}" for i in range(4)], 100))
    return make_plan(specs, outputs={"picture": "film"})


def half_written(cache_root: Path) -> list[Path]:
    """Output files in work folders that stop mid-line: a node was killed while writing them."""
    found = []
    for path in (cache_root / "objects").glob("*/.tmp-*/*.txt"):
        with contextlib.suppress(OSError):
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                found.append(path)
    return found


def session_members(sid: int) -> dict[int, str]:
    """pid -> state letter of every live process in a session (Linux /proc)."""
    members = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                members[int(stat.parent.name)] = fields[0]
    return members


def freeze(sid: int) -> None:
    """SIGSTOP the whole session and wait until every member has stopped."""
    os.killpg(sid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while any(state != "T" for state in session_members(sid).values()):
        assert time.monotonic() < deadline, "the build did not stop"
        time.sleep(0.005)


def children_of(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
    return kids


def finished_count(cache_root: Path) -> int:
    """Finished nodes so far, 0 while the index is still being created."""
    try:
        return len(done_ids(cache_root))
    except sqlite3.OperationalError:
        return 0


def all_outputs(cache: Cache, plan) -> dict[str, bytes]:
    return {n.label: cache.outputs(n).single().read_bytes() for n in plan.nodes}


def test_a_build_killed_mid_node_resumes_without_rerunning_finished_nodes(tmp_path: Path) -> None:
    plan = crash_plan()
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.to_json())
    root = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(HERE / "rt_build_script.py"), str(plan_file), str(root), "2"],
                            env=env, start_new_session=True, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "the build never had 3 finished nodes and one half written"
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            if finished_count(root) >= 3 and half_written(root):
                freeze(proc.pid)  # then look again, so what we kill is exactly what we checked
                if half_written(root):
                    break
                os.killpg(proc.pid, signal.SIGCONT)
            time.sleep(0.01)
        finished_before = done_ids(root)
        workers = children_of(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the build process only, as the OOM killer would
        proc.wait(timeout=10)
        os.killpg(proc.pid, signal.SIGCONT)
        # Its worker processes notice and exit instead of lingering as orphans.
        deadline = time.monotonic() + 5
        while session_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert workers and not session_members(proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of the session this test started
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert done_ids(root) == finished_before  # nothing was recorded after the kill
    assert 3 <= len(finished_before) < len(plan.nodes)

    cache = Cache(root)
    resumed = execute(plan, ToyBackend(), cache, jobs=2, processes=False)
    assert resumed.ok
    rerun = set(executed(root, resumed.run_id))
    assert rerun.isdisjoint(finished_before)
    assert rerun | finished_before == {n.id for n in plan.nodes}
    assert resumed.cached == len(finished_before) and resumed.ran == len(plan.nodes) - len(finished_before)
    assert not list((root / "objects").glob("*/.tmp-*"))
    assert query(root, "SELECT status FROM runs ORDER BY run_id") == [("interrupted",), ("ok",)]

    reference = Cache(tmp_path / "reference")
    assert execute(plan, ToyBackend(), reference, jobs=2, processes=False).ok
    assert all_outputs(cache, plan) == all_outputs(reference, plan)
    check = execute(plan, ToyBackend(), cache, verify="full", processes=False)
    assert check.cached == len(plan.nodes) and check.corrupt == []


def test_objects_renamed_but_not_yet_indexed_are_adopted_not_rerun(tmp_path: Path) -> None:
    plan = make_plan([("a", "plate", {"x": 1}, [], 100), ("b", "portrait", {"x": 2}, [], 100),
                      ("c", "compose", {}, ["a", "b"], 100)])
    root = tmp_path / "cache"
    with Cache(root) as first:
        assert execute(plan, ToyBackend(), first, processes=False).ok
    # What a kill between the rename and the index write leaves: objects the index does not know.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{root / 'index.sqlite'}{suffix}").unlink(missing_ok=True)
    b = plan.nodes[1]
    tampered = Cache(root).output_path(b.id, "b.txt")
    tampered.write_bytes(tampered.read_bytes().replace(b"b.txt", b"B.txt", 1))
    seen = []
    result = execute(plan, ToyBackend(), Cache(root), processes=False, events=seen.append)
    assert {e.node.label for e in seen if isinstance(e, NodeCached) and e.adopted} == {"a", "c"}
    assert executed(root, result.run_id) == [b.id]  # the one whose bytes no longer match its manifest
    assert result.corrupt == [b.id]
    assert done_ids(root) == {n.id for n in plan.nodes}
    a = plan.nodes[0]
    assert query(root, "SELECT film, spans, adopted FROM nodes WHERE id = ?", a.id) == [
        ("/films/toy.film", '["/films/toy.film:1:3"]', 1)]
