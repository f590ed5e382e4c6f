"""Runs a RenderPlan with any backend: cached, concurrent, memory-aware, crash-safe.

How a build goes:
1. Decide what to run, walking the plan backwards from its targets: a node whose
   object is intact is cached; otherwise it runs, and its inputs become needed
   (and are verified by hash, since they are about to be used).
2. Run ready nodes while fewer than `jobs` run and their declared memory fits the
   budget. CPU nodes run in worker processes (forked from a forkserver that imported the backend's
   modules once; spawned where there is none), GPU nodes in threads. A backend's worker groups
   (Backend.worker_groups) get pools of their own, whose workers import their heavy modules
   beside the first nodes instead of holding up the forkserver.
3. Each node writes into a temp folder beside its final place; the worker hashes
   the outputs and writes a manifest; the build process renames the folder into
   the store and then records it in the index. Killing the build at any moment
   leaves either no object (the node runs again) or a complete one (kept).
4. A failure is reported with op, label, spans and the tool's error text; its
   dependants are skipped; everything independent still runs and is kept.
5. A Checkpoint asks its question the moment its nodes are done (filmc build: does every line
   of dialogue fit its shot?) and may stop the build there.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import heapq
import importlib
import multiprocessing
import multiprocessing.connection
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from filmc.compiler.render_plan import PlanNode, RenderPlan

from .backend import Backend, NodeError, NodeOutputs, RunContext, tail
from .cache import (
    Cache,
    OutputRecord,
    available_memory_mb,
    check_output_name,
    measure_outputs,
    write_manifest,
)
from .progress import (
    BuildFinished,
    BuildStarted,
    BuildWarning,
    EventSink,
    NodeCached,
    NodeCorrupt,
    NodeFailed,
    NodeFinished,
    NodeRef,
    NodeSkipped,
    NodeStarted,
)

NodeStatus = Literal["ran", "cached", "failed", "skipped"]


class PlanError(ValueError):
    """The plan cannot be executed as given (bad structure, or the backend cannot run it)."""


class WorkerLost(RuntimeError):
    """What a worker pool's future raises when the worker under one node is gone (a crashed
    process, a lost machine) or could not run it: that node fails with this message, and is
    retried when `transient`. (A local pool's crash takes every node with it: BrokenProcessPool.)"""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class NodeFailure:
    """A node that failed for good: everything a user needs to find the cause."""

    id: str
    op: str
    label: str
    spans: tuple[str, ...]
    error: str
    transient: bool
    attempts: int

    def describe(self) -> str:
        where = f"{self.spans[0]}: " if self.spans else ""
        more = f" (also serves {', '.join(self.spans[1:])})" if len(self.spans) > 1 else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{where}{self.op} {self.label or self.id[:12]} failed{tries}{more}:\n{self.error}"


@dataclass
class NodeReport:
    id: str
    op: str
    label: str
    status: NodeStatus
    attempts: int = 0
    started: float | None = None
    finished: float | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


@dataclass
class BuildResult:
    run_id: int
    nodes: dict[str, NodeReport]
    """Every node of this build by id, in plan order."""
    failures: list[NodeFailure]
    corrupt: list[str]
    """Ids of cached objects found corrupt (and rebuilt, unless they failed)."""
    outputs: dict[str, NodeOutputs]
    """The plan's named products (`plan.outputs`) that exist after this build."""
    wall_s: float
    retries: int = 0
    """Attempts that failed transiently and were retried."""
    stopped: str | None = None
    """Why a Checkpoint stopped the build before its end (None: it was not stopped)."""

    def count(self, status: NodeStatus) -> int:
        return sum(1 for r in self.nodes.values() if r.status == status)

    @property
    def ran(self) -> int:
        return self.count("ran")

    @property
    def cached(self) -> int:
        return self.count("cached")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def ok(self) -> bool:
        return not self.failures and self.skipped == 0 and self.stopped is None

    @property
    def exit_code(self) -> int:
        """What `filmc build` exits with: 0 when everything asked for exists, 1 otherwise."""
        return 0 if self.ok else 1


# ----- node execution (runs in worker processes and threads) ---------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    started: float
    finished: float
    records: list[OutputRecord] = field(default_factory=list)
    error: str = ""
    transient: bool = False


def run_node(backend: Backend, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path,
             ctx: RunContext) -> _Outcome:
    """Run one node into `workdir`, then hash its outputs and write its manifest. Never raises:
    failures come back as data, so nothing depends on pickling arbitrary exceptions."""
    started = time.time()
    for name in node.outputs:  # declared outputs inside sub-folders get their folders made
        if "/" in name:
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
    try:
        try:
            backend.run(node, inputs, workdir, ctx)
        except NodeError as exc:
            return _Outcome(False, started, time.time(), error=exc.text(), transient=exc.transient)
        except Exception as exc:
            trace = tail("".join(traceback.format_exception(exc)))
            return _Outcome(False, started, time.time(), error=f"{type(exc).__name__}: {exc}\n{trace}")
        try:
            records = measure_outputs(workdir, node.outputs)
        except FileNotFoundError as exc:
            return _Outcome(False, started, time.time(),
                            error=f"backend {backend.name} {backend.version} broke its contract: {exc}")
        finished = time.time()
        write_manifest(workdir, node, backend.name, backend.version, records, film=ctx.film, started=started,
                       finished=finished)
        return _Outcome(True, started, finished, records=records)
    finally:
        shutil.rmtree(ctx.scratch, ignore_errors=True)


_worker_backend: Backend | None = None


WORKER_MMAP_THRESHOLD = 32 * 1024 * 1024
WORKER_TRIM_THRESHOLD = 512 * 1024 * 1024


def reuse_freed_memory() -> bool:
    """Have glibc's malloc keep freed memory for the next node instead of handing it back at once.

    A node's frames and sound buffers are megabytes each; by default glibc maps most of them
    fresh and unmaps them when freed, so every node touches new pages, and a page fault costs
    dearly on a virtual machine (a cold build's workers spent 1.4 of their 5.3 CPU-seconds in the
    kernel). Blocks under 32 MB now come from the heap, and up to 512 MB of free heap is kept:
    measured on the short example, a third fewer page faults and 0.7 CPU-s less in the workers.
    Larger buffers (a feature's mix) are still mapped and returned when freed. Returns whether it
    applied (glibc only)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, WORKER_MMAP_THRESHOLD)) and bool(
        mallopt(m_trim_threshold, WORKER_TRIM_THRESHOLD))


def _init_worker(backend: Backend, preload: tuple[str, ...] = ()) -> None:
    global _worker_backend
    _worker_backend = backend
    reuse_freed_memory()
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel,), daemon=True).start()
    for module in preload:  # a worker group's own modules (Backend.worker_groups)
        with contextlib.suppress(Exception):  # the node that needs it imports it again and says why it fails
            importlib.import_module(module)


def _warm() -> None:
    """A task that only makes a pool start a worker (whose initializer imports its modules)."""


def _exit_with_parent(sentinel: int) -> None:
    """A worker outlives a SIGKILLed build otherwise (it holds its own end of the task queue)."""
    multiprocessing.connection.wait([sentinel])
    os._exit(70)


def _run_in_worker(node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> _Outcome:
    assert _worker_backend is not None, "worker started without a backend"
    return run_node(_worker_backend, node, inputs, workdir, ctx)


def local_processes(max_workers: int, initializer: Callable[..., None], initargs: tuple) -> cf.Executor:
    """The default worker pool: processes on this machine, forked from a forkserver that has already
    imported the backend's modules for ops in no worker group (numpy, OCIO, PIL: about half a
    CPU-second), so that cost is paid once per build, beside planning, not once per worker."""
    backend = next((a for a in initargs if isinstance(a, Backend)), None)
    context = worker_context(backend.default_preload() if backend is not None else ())
    return cf.ProcessPoolExecutor(max_workers=max_workers, mp_context=context, initializer=_init_local_worker,
                                  initargs=(dict(os.environ), initializer, initargs))


def worker_context(preload: Iterable[str]) -> multiprocessing.context.BaseContext:
    """The forkserver where the platform has one (the first build of a process sets its preload),
    else spawn. Either way a worker starts from a clean single-threaded process, never a fork of
    the build's own threads."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["filmc.runtime.executor", *preload])
    return context


def warm_workers(backend: Backend, ops: Iterable[str] | None = None) -> None:
    """Start the local workers' forkserver now, so its imports (those of `ops` in no worker group,
    when the caller knows which will run; else all such of the backend's) overlap whatever the
    caller does before its first node (a no-op: spawn, or a forkserver already running)."""
    context = worker_context(backend.default_preload(ops))
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _init_local_worker(environ: dict[str, str], initializer: Callable[..., None], initargs: tuple) -> None:
    """A forked worker inherits the forkserver's environment, which may be older than the build's:
    take the build's, as a spawned worker would."""
    if os.environ != environ:
        os.environ.clear()
        os.environ.update(environ)
    initializer(*initargs)


@dataclass(frozen=True)
class WorkerPool:
    """Where worker nodes run. `make(max_workers, initializer, initargs)` returns an Executor whose
    `submit(fn, node, inputs, workdir, ctx)` runs `fn` in a worker prepared by `initializer(*initargs)`;
    its futures raise WorkerLost (or BrokenProcessPool) when a worker dies. Everything else (what
    runs when, retries, the cache) stays with the executor. filmc.runtime.distributed makes a Ray one."""

    make: Callable[[int, Callable[..., None], tuple], cf.Executor] = local_processes
    every_node: bool = False
    """Run the nodes a backend places in threads (GPU nodes) in the pool too: a cluster has the GPUs."""
    groups: bool = True
    """Give each of the backend's worker groups a pool of its own (local processes); a cluster's
    workers are shared by every node."""
    cores: int | None = None
    """CPU cores the pool's nodes share, for each node's thread count (default: this machine's)."""


# ----- plan checks and selection ------------------------------------------------------------------------


def plan_problems(plan: RenderPlan) -> list[str]:
    """Structural problems: duplicate ids, inputs that are unknown or come later, bad output names."""
    problems: list[str] = []
    seen: set[str] = set()
    for node in plan.nodes:
        name = f"node {node.label or node.id} ({node.op})"
        if node.id in seen:
            problems.append(f"{name}: duplicate id {node.id}")
        for i in node.inputs:
            if i not in seen:
                problems.append(f"{name}: input {i} is not an earlier node of the plan")
        for out in node.outputs:
            try:
                check_output_name(out)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if node.resources.memory_mb <= 0:
            problems.append(f"{name}: memory_mb must be positive")
        seen.add(node.id)
    for product, node_id in plan.outputs.items():
        if node_id not in seen:
            problems.append(f"plan output {product!r} names unknown node {node_id}")
    return problems


def select(plan: RenderPlan, only: Iterable[str] | None) -> list[str]:
    """Node ids picked by `only`: each selector is a plan output name ('web_mp4'), an op
    ('compose'), a label ('s01_003') or a node id (or a prefix of one, 6+ characters)."""
    if only is None:
        return [n.id for n in plan.nodes]
    chosen: dict[str, None] = {}
    for selector in only:
        if not selector:
            raise PlanError("an empty selector selects nothing")
        hits = [plan.outputs[selector]] if selector in plan.outputs else []
        hits += [n.id for n in plan.nodes if selector in (n.op, n.label, n.id)
                 or (len(selector) >= 6 and n.id.startswith(selector))]
        if not hits:
            raise PlanError(f"nothing in the plan matches {selector!r} (try an output name, op, shot label or id)")
        chosen.update(dict.fromkeys(hits))
    return list(chosen)


# ----- the build ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A question a build answers as soon as every node of `after` has finished (run or cached), in
    the middle of the build rather than in a pass of its own before it. `verdict()` returns None to
    go on, or why the build must stop there: a stopped build starts nothing more, stops the worker
    nodes still running (their work is lost, what finished stays cached) and reports the reason in
    `BuildResult.stopped`. It never fires when a node of `after` fails or is not part of the build."""

    after: frozenset[str]
    verdict: Callable[[], str | None]


@dataclass
class _Running:
    node: PlanNode
    attempt: int
    workdir: Path
    pool: cf.Executor
    in_process: bool


def critical_path_order(plan: RenderPlan, estimate: Callable[[PlanNode], float]) -> dict[str, int]:
    """Each node's rank for the ready queue: nodes with the longest estimated path (their own time
    plus the slowest chain of dependants) first, plan order among equals."""
    dependants: dict[str, list[str]] = {n.id: [] for n in plan.nodes}
    for n in plan.nodes:
        for i in n.inputs:
            if i in dependants:
                dependants[i].append(n.id)
    by_id = plan.by_id()
    waiting = {nid: len(deps) for nid, deps in dependants.items()}
    leaves = [nid for nid, count in waiting.items() if count == 0]
    tail: dict[str, float] = {}
    while leaves:  # from the end of the build backwards: a node once all its dependants are known
        nid = leaves.pop()
        tail[nid] = estimate(by_id[nid]) + max((tail[d] for d in dependants[nid]), default=0.0)
        for i in by_id[nid].inputs:
            if i in waiting:
                waiting[i] -= 1
                if waiting[i] == 0:
                    leaves.append(i)
    position = {n.id: k for k, n in enumerate(plan.nodes)}
    ranked = sorted(position, key=lambda nid: (-tail[nid], position[nid]))
    return {nid: k for k, nid in enumerate(ranked)}


class _Build:
    def __init__(self, plan: RenderPlan, backend: Backend, cache: Cache, *, jobs: int, memory_budget_mb: int,
                 retries: int, backoff_s: float, verify: str, processes: bool, gpu_slots: int,
                 emit: EventSink, run_id: int, estimate: Callable[[PlanNode], float] | None = None,
                 pool: WorkerPool | None = None, checkpoint: Checkpoint | None = None) -> None:
        self.plan, self.backend, self.cache, self.emit = plan, backend, cache, emit
        self.jobs, self.budget, self.retries, self.backoff_s = jobs, memory_budget_mb, retries, backoff_s
        self.verify, self.processes, self.gpu_slots, self.run_id = verify, processes, gpu_slots, run_id
        self.by_id = plan.by_id()
        self.order = critical_path_order(plan, estimate or (lambda _node: 1.0))
        self.pool = pool or WorkerPool()
        self.cores = self.pool.cores or os.cpu_count() or 1
        self.reports: dict[str, NodeReport] = {}
        self.failures: list[NodeFailure] = []
        self.corrupt: list[str] = []
        self.retried = 0
        self.process_pools: dict[str, cf.Executor] = {}
        """Worker pools by worker group ("" the default; see Backend.worker_groups)."""
        self.thread_pool: cf.ThreadPoolExecutor | None = None
        self.running: dict[cf.Future[_Outcome], _Running] = {}
        self.ready: list[tuple[int, str]] = []
        self.retry_queue: list[tuple[float, int, str, int]] = []
        self.attempts: dict[str, int] = {}
        self.uncharged: dict[str, int] = {}
        """Attempts lost to a worker crash that may not be theirs; they do not count as retries."""
        self.suspects: set[str] = set()
        """Nodes lost in a crashed pool beside others: they run alone in the workers until one succeeds."""
        self.broken_pools: dict[cf.Executor, int] = {}
        self.checkpoint = checkpoint
        self.awaiting: set[str] = set()
        """The checkpoint's nodes still to finish (empty: no checkpoint pending)."""
        self.stopped: str | None = None

    # -- deciding what to run --

    def triage(self, targets: list[str]) -> list[str]:
        """Walk the plan backwards from the targets; return the ids to run, in plan order."""
        records = self.cache.records()
        wanted = set(targets)
        verify_deep = set()
        to_run: list[str] = []
        cached: list[tuple[PlanNode, bool]] = []
        corrupt: list[tuple[PlanNode, str]] = []
        for node in reversed(self.plan.nodes):
            if node.id not in wanted:
                continue
            integrity = self.cache.check(node, records.get(node.id),
                                         deep=self.verify == "full" or node.id in verify_deep)
            if integrity.state == "ok":
                cached.append((node, integrity.adopted))
                continue
            if integrity.state == "corrupt":
                corrupt.append((node, integrity.detail))
                # Forget it in the index before removing it, so no crash can leave a 'done' without object.
                self.cache.record_failure(node, status="corrupt", error=integrity.detail, backend=self.backend.name,
                                          backend_version=self.backend.version, film=self.plan.film, attempts=0)
                self.cache.discard(self.cache.object_dir(node.id))
            to_run.append(node.id)
            wanted.update(node.inputs)
            verify_deep.update(node.inputs)  # inputs of a node that runs are hashed before use
        to_run.reverse()
        ops: dict[str, tuple[int, int]] = {}
        for node in self.plan.nodes:
            if node.id in wanted:
                total, n_cached = ops.get(node.op, (0, 0))
                ops[node.op] = (total + 1, n_cached)
        for node, _ in cached:
            total, n_cached = ops[node.op]
            ops[node.op] = (total, n_cached + 1)
        self.emit(BuildStarted(self.run_id, total=len(cached) + len(to_run), to_run=len(to_run), cached=len(cached),
                               jobs=self.jobs, memory_budget_mb=self.budget, ops=ops))
        for node, detail in reversed(corrupt):
            self.corrupt.append(node.id)
            self.emit(NodeCorrupt(NodeRef.of(node), detail))
        for node, adopted in reversed(cached):
            self.reports[node.id] = NodeReport(node.id, node.op, node.label, "cached")
            self.emit(NodeCached(NodeRef.of(node), adopted=adopted))
        if cached:
            self.cache.touch(n.id for n, _ in cached)
        return to_run

    # -- scheduling --

    def run(self, to_run: list[str]) -> None:
        pending = set(to_run)
        self.waiting_on = {i: sum(1 for d in self.by_id[i].inputs if d in pending) for i in to_run}
        self.dependants: dict[str, list[str]] = {i: [] for i in to_run}
        for i in to_run:
            for d in self.by_id[i].inputs:
                if d in pending:
                    self.dependants[d].append(i)
        for i in to_run:
            if self.waiting_on[i] == 0:
                heapq.heappush(self.ready, (self.order[i], i))
        if self.checkpoint is not None and self.checkpoint.after <= pending | set(self.reports):
            self.awaiting = set(self.checkpoint.after & pending)
            if not self.awaiting:  # all cached: decide before anything runs
                self.stopped = self.checkpoint.verdict()
                if self.stopped is not None:
                    return
        for group in sorted({self._group(self.by_id[i]) for i in to_run if self._in_process(self.by_id[i])} - {""}):
            self._pool(group).submit(_warm)  # its workers import beside the first nodes, not after them
        try:
            while (self.ready or self.running or self.retry_queue) and self.stopped is None:
                self._release_due_retries()
                self._start_what_fits()
                timeout = None
                if self.retry_queue:
                    timeout = max(0.0, self.retry_queue[0][0] - time.monotonic())
                if not self.running:
                    if timeout is not None:
                        time.sleep(timeout)
                    continue
                done, _ = cf.wait(list(self.running), timeout=timeout, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    self._finish(future, self.running.pop(future))
            if self.stopped is not None:
                now = time.time()
                for job in self.running.values():
                    self.cache.execution_finished(self.run_id, job.node.id, job.attempt, now, "abandoned",
                                                  f"the build stopped: {self.stopped}")
        finally:
            self._stop_pools(interrupted=bool(self.running))

    def _stop_pools(self, interrupted: bool) -> None:
        """On an interrupt (Ctrl-C, an exception) stop worker processes now rather than let the
        interpreter wait for their nodes to finish; their work folders are cleared by the next build.
        Nodes running in threads cannot be stopped and finish on their own."""
        for pool in self.process_pools.values():
            if interrupted:
                # ProcessPoolExecutor has no public way to stop busy workers before Python 3.14.
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
            pool.shutdown(wait=not interrupted, cancel_futures=True)
        if self.thread_pool is not None:
            self.thread_pool.shutdown(wait=not interrupted, cancel_futures=True)

    def _release_due_retries(self) -> None:
        now = time.monotonic()
        while self.retry_queue and self.retry_queue[0][0] <= now:
            _, order, node_id, _attempt = heapq.heappop(self.retry_queue)
            heapq.heappush(self.ready, (order, node_id))

    def _fits(self, node: PlanNode, used_mb: int, reserved_mb: int) -> bool:
        return used_mb + reserved_mb + node.resources.memory_mb <= self.budget

    def _start_what_fits(self) -> None:
        used_mb = sum(r.node.resources.memory_mb for r in self.running.values())
        gpu_busy = sum(1 for r in self.running.values() if r.node.resources.device == "gpu")
        # A suspect (see _lost_in_broken_pool) runs alone in the workers, so a crash names its culprit.
        workers_busy = sum(1 for r in self.running.values() if r.in_process)
        suspect_running = any(r.in_process and r.node.id in self.suspects for r in self.running.values())
        reserved_mb = 0
        deferred: list[tuple[int, str]] = []
        while self.ready and len(self.running) < self.jobs:
            entry = heapq.heappop(self.ready)
            node = self.by_id[entry[1]]
            in_process = self._in_process(node)
            if node.resources.device == "gpu" and gpu_busy >= self.gpu_slots:
                deferred.append(entry)
                continue
            if in_process and (suspect_running or (node.id in self.suspects and workers_busy)):
                deferred.append(entry)
                continue
            if self._fits(node, used_mb, reserved_mb) or not self.running:
                if node.resources.memory_mb > self.budget:
                    self.emit(BuildWarning(f"{node.op} {node.label or node.id[:12]} declares "
                                           f"{node.resources.memory_mb} MB, more than the {self.budget} MB budget; "
                                           "running it alone"))
                self._submit(node, in_process)
                used_mb += node.resources.memory_mb
                gpu_busy += node.resources.device == "gpu"
                workers_busy += in_process
                suspect_running |= in_process and node.id in self.suspects
                continue
            deferred.append(entry)
            if not reserved_mb:
                # The first node that does not fit keeps its memory reserved: smaller ones may
                # start beside the running ones only if it will still fit when they finish.
                reserved_mb = node.resources.memory_mb
        for entry in deferred:
            heapq.heappush(self.ready, entry)

    def _threads_for_next(self) -> int:
        """Cores shared by the nodes that will run beside this one: a node that starts alone (the
        final encode, typically) gets every core, a node among `jobs` others one share."""
        sharing = min(self.jobs, len(self.running) + 1 + len(self.ready))
        return max(1, self.cores // max(1, sharing))

    def _in_process(self, node: PlanNode) -> bool:
        return self.processes and (self.pool.every_node or self.backend.placement(node) == "process")

    def _group(self, node: PlanNode) -> str:
        return self.backend.worker_group(node.op) if self.pool.groups else ""

    def _pool(self, group: str) -> cf.Executor:
        """The worker pool of `group`, made on first use; a named group's workers import its modules."""
        pool = self.process_pools.get(group)
        if pool is None:
            preload = self.backend.preload_for(self.backend.worker_groups[group]) if group else ()
            pool = self.process_pools[group] = self.pool.make(self.jobs, _init_worker, (self.backend, preload))
        return pool

    def _submit(self, node: PlanNode, in_process: bool) -> _Running:
        attempt = self.attempts.get(node.id, 0) + 1
        self.attempts[node.id] = attempt
        workdir = self.cache.new_workdir(node.id)
        ctx = RunContext(film=self.plan.film, attempt=attempt, threads=self._threads_for_next(),
                         scratch=self.cache.new_scratch(node.id))
        inputs = {i: self.cache.outputs(self.by_id[i]) for i in node.inputs}
        self.cache.execution_started(self.run_id, node, attempt, time.time())
        self.emit(NodeStarted(NodeRef.of(node), attempt))
        pool: cf.Executor
        if in_process:
            group = self._group(node)
            pool = self._pool(group)
            try:
                future = pool.submit(_run_in_worker, node, inputs, workdir, ctx)
            except cf.BrokenExecutor:  # its workers died with none of our nodes in them (warming up)
                del self.process_pools[group]
                pool = self._pool(group)
                future = pool.submit(_run_in_worker, node, inputs, workdir, ctx)
        else:
            if self.thread_pool is None:
                self.thread_pool = cf.ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="filmc-node")
            pool = self.thread_pool
            future = pool.submit(run_node, self.backend, node, inputs, workdir, ctx)
        job = _Running(node, attempt, workdir, pool, in_process)
        self.running[future] = job
        return job

    # -- outcomes --

    def _finish(self, future: cf.Future[_Outcome], job: _Running) -> None:
        node, attempt = job.node, job.attempt
        try:
            outcome = future.result()
        except WorkerLost as exc:  # first: cf.process exists only once a local process pool was made
            now = time.time()
            outcome = _Outcome(False, now, now, error=str(exc), transient=exc.transient)
        except cf.process.BrokenProcessPool:
            outcome = self._lost_in_broken_pool(job)
            if outcome is None:
                return
        if outcome.ok:
            try:
                self.cache.commit(node, job.workdir, outcome.records, backend=self.backend.name,
                                  backend_version=self.backend.version, film=self.plan.film,
                                  started=outcome.started, finished=outcome.finished, attempts=attempt,
                                  run_id=self.run_id)
            except OSError as exc:
                outcome = _Outcome(False, outcome.started, time.time(), error=f"could not store outputs: {exc}")
        if outcome.ok:
            self.suspects.discard(node.id)
            self.reports[node.id] = NodeReport(node.id, node.op, node.label, "ran", attempt, outcome.started,
                                               outcome.finished)
            self.emit(NodeFinished(NodeRef.of(node), attempt, outcome.finished - outcome.started))
            for dependant in self.dependants[node.id]:
                self.waiting_on[dependant] -= 1
                if self.waiting_on[dependant] == 0:
                    heapq.heappush(self.ready, (self.order[dependant], dependant))
            if node.id in self.awaiting:
                self.awaiting.discard(node.id)
                if not self.awaiting and self.checkpoint is not None:
                    self.stopped = self.checkpoint.verdict()
            return
        self.cache.discard(job.workdir)
        self.cache.execution_finished(self.run_id, node.id, attempt, outcome.finished, "failed", outcome.error)
        charged = attempt - self.uncharged.get(node.id, 0)
        if outcome.transient and charged <= self.retries:
            delay = self.backoff_s * 2 ** (charged - 1)
            self.retried += 1
            self.emit(NodeFailed(NodeRef.of(node), attempt, outcome.error, True, retry_in_s=delay))
            heapq.heappush(self.retry_queue, (time.monotonic() + delay, self.order[node.id], node.id, attempt + 1))
            return
        self.cache.record_failure(node, status="failed", error=outcome.error, backend=self.backend.name,
                                  backend_version=self.backend.version, film=self.plan.film, attempts=attempt)
        ref = NodeRef.of(node)
        self.failures.append(NodeFailure(node.id, node.op, node.label, ref.spans, outcome.error, outcome.transient,
                                         attempt))
        self.reports[node.id] = NodeReport(node.id, node.op, node.label, "failed", attempt, outcome.started,
                                           outcome.finished)
        self.emit(NodeFailed(ref, attempt, outcome.error, outcome.transient))
        self._skip_dependants(node, ref)

    def _lost_in_broken_pool(self, job: _Running) -> _Outcome | None:
        """A worker died (OOM killer, segfault in a native library) and took every node of its
        pool with it. If the node ran alone in the workers it is the culprit: a transient failure.
        Otherwise the culprit is unknown: requeue the node at no cost to its retries, to run alone."""
        if job.pool not in self.broken_pools:
            self.broken_pools[job.pool] = 1 + sum(1 for r in self.running.values() if r.pool is job.pool)
            for group, pool in list(self.process_pools.items()):
                if pool is job.pool:
                    job.pool.shutdown(wait=False, cancel_futures=True)
                    del self.process_pools[group]
        now = time.time()
        error = "a worker process died while running this node (out of memory? a crash in a native library?)"
        if self.broken_pools[job.pool] == 1 or job.node.id in self.suspects:
            return _Outcome(False, now, now, error=error, transient=True)
        node = job.node
        self.suspects.add(node.id)
        self.uncharged[node.id] = self.uncharged.get(node.id, 0) + 1
        self.cache.discard(job.workdir)
        self.cache.execution_finished(self.run_id, node.id, job.attempt, now, "failed", error)
        self.emit(NodeFailed(NodeRef.of(node), job.attempt, error + "; other nodes ran beside it, so it runs "
                             "again alone", True, retry_in_s=0.0))
        heapq.heappush(self.ready, (self.order[node.id], node.id))
        return None

    def _skip_dependants(self, failed: PlanNode, because: NodeRef) -> None:
        stack = list(self.dependants[failed.id])
        while stack:
            node_id = stack.pop()
            if node_id in self.reports:
                continue
            node = self.by_id[node_id]
            self.reports[node_id] = NodeReport(node.id, node.op, node.label, "skipped")
            self.emit(NodeSkipped(NodeRef.of(node), because))
            stack.extend(self.dependants[node_id])


def execute(
    plan: RenderPlan,
    backend: Backend,
    cache: Cache,
    *,
    jobs: int | None = None,
    only: Iterable[str] | None = None,
    events: EventSink | None = None,
    memory_budget_mb: int | None = None,
    retries: int = 2,
    backoff_s: float = 0.5,
    verify: Literal["quick", "full"] = "quick",
    processes: bool = True,
    gpu_slots: int = 1,
    lock_wait_s: float = 0.0,
    estimate: Callable[[PlanNode], float] | None = None,
    pool: WorkerPool | None = None,
    checkpoint: Checkpoint | None = None,
) -> BuildResult:
    """Build `plan` (or the nodes `only` selects, with what they need) into `cache`.

    jobs: nodes running at once (default: CPU count). memory_budget_mb: the sum of running
    nodes' declared `resources.memory_mb` never exceeds it (default: available RAM); a node
    larger than the budget runs alone. retries/backoff_s: transient failures (NodeError with
    transient=True) are retried up to `retries` times after backoff_s, 2*backoff_s, ...
    verify: 'quick' trusts cached outputs whose size and mtime match the index and hashes the
    inputs of every node about to run; 'full' hashes every cached output. processes=False runs
    every node in threads (debugging; backends without picklable state). gpu_slots: GPU nodes
    running at once. estimate: a node's expected seconds (the cost model); ready nodes on the
    longest estimated path to the end of the build start first, so e.g. the sound chain that the
    final encode waits for runs beside the pictures instead of after them. pool: where worker
    nodes run (default: local worker processes; filmc.runtime.distributed runs them on Ray).
    checkpoint: a check made mid-build that may stop it (see Checkpoint).
    Raises PlanError for a plan that cannot run, CacheBusy when another build
    holds the cache; node failures never raise, they are in the result.
    """
    problems = plan_problems(plan) + backend.check_plan(plan)
    if problems:
        raise PlanError("cannot execute the render plan:\n" + "\n".join(f"  - {p}" for p in problems))
    if gpu_slots < 1:
        raise ValueError("gpu_slots must be at least 1")
    if verify not in ("quick", "full"):
        raise ValueError(f"verify must be 'quick' or 'full', not {verify!r}")
    targets = select(plan, only)
    jobs = max(1, jobs or os.cpu_count() or 1)
    budget = memory_budget_mb if memory_budget_mb is not None else available_memory_mb()
    emit: EventSink = events or (lambda _event: None)
    started = time.monotonic()
    with cache.lock(lock_wait_s):
        cache.remove_stale_temporaries()
        run_id = cache.begin_run(plan.film, f"{backend.name} {backend.version}", jobs)
        build = _Build(plan, backend, cache, jobs=jobs, memory_budget_mb=budget, retries=retries,
                       backoff_s=backoff_s, verify=verify, processes=processes, gpu_slots=gpu_slots, emit=emit,
                       run_id=run_id, estimate=estimate, pool=pool, checkpoint=checkpoint)
        status = "interrupted"
        try:
            build.run(build.triage(targets))
            status = "failed" if build.failures else "stopped" if build.stopped is not None else "ok"
        finally:
            counts = {s: sum(1 for r in build.reports.values() if r.status == s)
                      for s in ("ran", "cached", "failed", "skipped")}
            cache.end_run(run_id, status, counts["ran"], counts["cached"], counts["failed"], counts["skipped"])
    reports = {n.id: build.reports[n.id] for n in plan.nodes if n.id in build.reports}
    outputs = {name: cache.outputs(build.by_id[node_id]) for name, node_id in plan.outputs.items()
               if node_id in reports and reports[node_id].status in ("ran", "cached")}
    result = BuildResult(run_id=run_id, nodes=reports, failures=build.failures, corrupt=build.corrupt,
                         outputs=outputs, wall_s=time.monotonic() - started, retries=build.retried,
                         stopped=build.stopped)
    emit(BuildFinished(result.ran, result.cached, result.failed, result.skipped, result.wall_s))
    return result
