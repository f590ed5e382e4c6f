"""Failures stay contained: clear reports, skipped dependants, retries only when transient,
corrupt objects detected and rebuilt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from filmc.runtime.backend import NodeError, run_tool, tail
from filmc.runtime.cache import Cache
from filmc.runtime.executor import execute
from filmc.runtime.progress import NodeCorrupt, NodeFailed, NodeSkipped
from rt_helpers import done_ids, executed, query
from rt_toy_backend import ToyBackend, make_plan

ISOLATION = [
    ("good", "plate", {"loc": "lot"}, [], 100),
    ("s01_002", "plate", {"fail": "no such LUT: teal_orange.cube"}, [], 100),
    ("dep", "compose", {}, ["s01_002", "good"], 100),
    ("dep2", "animate", {}, ["dep"], 100),
    ("indep", "portrait", {"who": "kai"}, [], 100),
    ("indep2", "compose", {}, ["good", "indep"], 100),
]


def test_a_failing_node_is_reported_its_dependants_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    plan = make_plan(ISOLATION)
    ids = {n.label: n.id for n in plan.nodes}
    cache = Cache(tmp_path / "cache")
    seen = []
    result = execute(plan, ToyBackend(), cache, jobs=2, processes=False, events=seen.append)
    assert not result.ok and result.exit_code == 1
    assert (result.ran, result.failed, result.skipped) == (3, 1, 2)
    (failure,) = result.failures
    assert (failure.op, failure.label, failure.spans) == ("plate", "s01_002", ("/films/toy.film:2:3",))
    assert "fatal: no such LUT: teal_orange.cube" in failure.error
    report = failure.describe()
    assert report.startswith("/films/toy.film:2:3: plate s01_002 failed:")
    assert "toy renderer refused s01_002" in report
    skipped = {e.node.label: e.because.label for e in seen if isinstance(e, NodeSkipped)}
    assert skipped == {"dep": "s01_002", "dep2": "s01_002"}
    assert done_ids(cache.root) == {ids["good"], ids["indep"], ids["indep2"]}
    assert query(cache.root, "SELECT status FROM nodes WHERE id = ?", ids["s01_002"]) == [("failed",)]

    again = execute(plan, ToyBackend(), cache, jobs=2, processes=False)
    assert executed(cache.root, again.run_id) == [ids["s01_002"]]  # only the failed node is tried again
    assert (again.cached, again.failed, again.skipped) == (3, 1, 2)


def test_transient_errors_are_retried_with_exponential_backoff(tmp_path: Path) -> None:
    plan = make_plan([("flaky", "plate", {"transient_failures": 2}, [], 100),
                      ("hopeless", "plate", {"transient_failures": 9}, [], 100),
                      ("broken", "portrait", {"fail": "bad input"}, [], 100)])
    ids = {n.label: n.id for n in plan.nodes}
    cache = Cache(tmp_path / "cache")
    seen = []
    result = execute(plan, ToyBackend(), cache, jobs=3, processes=False, retries=2, backoff_s=0.1,
                     events=seen.append)
    assert result.nodes[ids["flaky"]].status == "ran" and result.nodes[ids["flaky"]].attempts == 3
    assert {f.label: f.attempts for f in result.failures} == {"hopeless": 3, "broken": 1}
    assert result.retries == 4
    rows = query(cache.root, "SELECT attempt, started, finished, status FROM executions WHERE node_id = ? "
                             "ORDER BY attempt", ids["flaky"])
    assert [(r[0], r[3]) for r in rows] == [(1, "failed"), (2, "failed"), (3, "done")]
    assert rows[1][1] - rows[0][2] >= 0.1 and rows[2][1] - rows[1][2] >= 0.2
    delays = [e.retry_in_s for e in seen if isinstance(e, NodeFailed) and e.node.label == "flaky"]
    assert delays == [0.1, 0.2]


def test_a_worker_killed_mid_node_is_found_and_other_nodes_survive(tmp_path: Path) -> None:
    room = str(tmp_path / "room")  # 'dies' kills its worker only once 'fine' is running beside it
    plan = make_plan([("dies", "plate", {"die": True, "meet": room}, [], 100),
                      ("fine", "portrait", {"meet": room, "sleep": 0.3}, [], 100),
                      ("after", "compose", {}, ["fine"], 100)])
    cache = Cache(tmp_path / "cache")
    result = execute(plan, ToyBackend(), cache, jobs=2, retries=0)
    # With no retries at all, the innocent nodes still finish: an attempt lost beside the
    # culprit is not charged to them; they run again alone, and so does 'dies', which is
    # then caught alone and fails.
    assert {r.label: r.status for r in result.nodes.values()} == {"dies": "failed", "fine": "ran", "after": "ran"}
    (failure,) = result.failures
    assert failure.label == "dies" and "worker process died" in failure.error
    rows = query(cache.root, "SELECT label, status FROM executions ORDER BY label, attempt")
    for label in ("fine", "after"):
        statuses = [status for name, status in rows if name == label]
        assert statuses in (["done"], ["failed", "done"])  # (CPython may notice a death late)
    assert [status for name, status in rows if name == "dies"] in (["failed"], ["failed", "failed"])


def test_a_corrupt_cached_object_is_reported_and_rebuilt(tmp_path: Path) -> None:
    plan = make_plan([("a", "plate", {"x": 1}, [], 100), ("b", "compose", {}, ["a"], 100)])
    a, b = plan.nodes
    cache = Cache(tmp_path / "cache")
    execute(plan, ToyBackend(), cache, processes=False)
    path = cache.output_path(a.id, "a.txt")
    original = path.read_bytes()

    path.write_bytes(original[:-2] + b"X\n")  # same size, new mtime
    seen = []
    result = execute(plan, ToyBackend(), cache, processes=False, events=seen.append)
    assert result.corrupt == [a.id]
    assert [e.detail for e in seen if isinstance(e, NodeCorrupt)] == ["output 'a.txt' does not match its recorded sha256"]
    assert executed(cache.root, result.run_id) == [a.id]  # b's id did not change: it stays cached
    assert path.read_bytes() == original

    path.write_bytes(original[:10])
    result = execute(plan, ToyBackend(), cache, processes=False)
    assert result.corrupt == [a.id] and path.read_bytes() == original


def test_corruption_that_keeps_size_and_mtime_is_caught_by_hashing_before_use(tmp_path: Path) -> None:
    plan = make_plan([("a", "plate", {"x": 1}, [], 100), ("b", "compose", {}, ["a"], 100)])
    a, b = plan.nodes
    cache = Cache(tmp_path / "cache")
    execute(plan, ToyBackend(), cache, processes=False)
    path = cache.output_path(a.id, "a.txt")
    original, st = path.read_bytes(), path.stat()

    def rot() -> None:
        path.write_bytes(bytes([original[0] ^ 1]) + original[1:])
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    rot()
    # b must run, so a is about to be used as an input: it is hashed, found corrupt and rebuilt first.
    cache.discard(cache.object_dir(b.id))
    result = execute(plan, ToyBackend(), cache, processes=False)
    assert result.corrupt == [a.id] and executed(cache.root, result.run_id) == [a.id, b.id]
    assert path.read_bytes() == original

    st = path.stat()
    rot()
    result = execute(plan, ToyBackend(), cache, processes=False, verify="full")
    assert result.corrupt == [a.id] and path.read_bytes() == original


def test_tool_output_is_cut_to_its_tail_at_a_line_boundary() -> None:
    output = "".join(f"frame {i}\n" for i in range(2000)) + "Error: codec not found"
    text = NodeError("ffmpeg exited with status 1", output=output).text()
    assert text.startswith("ffmpeg exited with status 1\n…\nframe ")
    assert text.endswith("Error: codec not found") and len(text) < 4100
    assert tail("short") == "short"


def test_folder_outputs_are_hashed_as_a_whole(tmp_path: Path) -> None:
    plan = make_plan([("seq", "encode", {"frames": 5}, [], 100)])
    node = plan.nodes[0].model_copy(update={"outputs": ["exr/frames", "poster.txt"]})
    plan = plan.model_copy(update={"nodes": [node]})
    cache = Cache(tmp_path / "cache")
    assert execute(plan, ToyBackend(), cache, processes=False).ok
    frames = cache.output_path(node.id, "exr/frames")
    rows = dict(query(cache.root, "SELECT name, kind FROM outputs WHERE node_id = ?", node.id))
    assert rows == {"exr/frames": "dir", "poster.txt": "dir"}
    assert sorted(p.name for p in frames.iterdir()) == [f"{i:04d}.txt" for i in range(5)]

    (frames / "0003.txt").write_text("3:0000\n")
    result = execute(plan, ToyBackend(), cache, processes=False)
    assert result.corrupt == [node.id] and (frames / "0003.txt").read_text() != "3:0000\n"
    (frames / "0004.txt").unlink()
    result = execute(plan, ToyBackend(), cache, processes=False)
    assert result.corrupt == [node.id] and (frames / "0004.txt").is_file()


def test_run_tool_turns_tool_failures_into_node_errors() -> None:
    ok = run_tool([sys.executable, "-c", "print('fine')"])
    assert ok.stdout.strip() == b"fine"
    with pytest.raises(NodeError) as failed:
        run_tool([sys.executable, "-c", "import sys; sys.stderr.write('Unknown encoder libfoo'); sys.exit(3)"])
    assert not failed.value.transient and "exited with status 3" in failed.value.message
    assert failed.value.text().endswith("Unknown encoder libfoo")
    with pytest.raises(NodeError) as killed:
        run_tool([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert killed.value.transient and "signal 9" in killed.value.message
    with pytest.raises(NodeError) as slow:
        run_tool([sys.executable, "-c", "import time; time.sleep(5)"], timeout_s=0.3)
    assert slow.value.transient and "timed out" in slow.value.message
    with pytest.raises(NodeError, match="tool not found"):
        run_tool(["/nonexistent/ffmpeg"])
