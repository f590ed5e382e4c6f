"""Runs a build's nodes as Ray tasks, for films one machine cannot render in time.

Only *where* a node runs changes: the executor keeps its scheduling (dependencies, the
memory budget, the critical path), its retries, failure reports, crash safety and the cache.
`RayPool` has the submit/future contract of the executor's local process pool, so the
executor drives it exactly as it drives local workers:

- each node becomes one Ray task, reserving what the node declares: `resources.memory_mb`
  as Ray `memory`, its CPU threads as `num_cpus`, and `num_gpus=1` for a GPU node (GPU nodes
  run in the cluster too, not in threads of the build process);
- a task runs `run_node` in a Ray worker, which writes the node's outputs into a temp folder
  of the cache and hashes them; the build process alone renames folders into the store and
  writes the index, as in a local build;
- Ray never retries a task (`max_retries=0`): a worker or machine lost under a node comes back
  as `WorkerLost`, a transient failure that the executor retries with its own backoff.

Workers therefore read inputs from, and write outputs into, the cache folder, and read the
film's own files (images, footage), at the paths the build process uses. A local Ray instance
(`local`) needs nothing; a cluster of several machines needs the film's folder and the cache
on a shared filesystem (NFS or similar) mounted at the same path on every machine, and the
same filmc (and Python) installed on every machine. Nothing is downloaded at run time: no
`runtime_env` is shipped.

Addresses: `local` starts a Ray instance on this machine for this build and stops it after;
`auto` connects to the cluster `RAY_ADDRESS` names or the one `ray start` runs on this machine;
`HOST:PORT` connects to that cluster's head; `default` connects to a running cluster if one is
found, else starts a local instance. Connecting only disconnects at the end; the cluster stays up.
The build runs on a machine of the cluster (Ray drivers need a local raylet, and the build process
writes the cache), so Ray Client addresses (ray://) are refused.

A multi-machine setup, for example:

    head$    ray start --head --port 6379          # on the machine that runs filmc build
    worker$  ray start --address HEAD:6379         # on each other machine, same filmc installed
    head$    filmc build /shared/films/x.film --cache /shared/cache/x --ray auto

Ray 2.60 uses token authentication: a local instance writes a token to ~/.ray/auth_token, and
`local`/`auto` use it; for an explicit HOST:PORT Ray sends a token only with RAY_AUTH_MODE=token
set (the token from ~/.ray/auth_token, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import importlib.metadata
import importlib.util
import re
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from filmc.compiler.render_plan import PlanNode

from .backend import RunContext, tail
from .executor import WorkerLost, WorkerPool

if TYPE_CHECKING:
    import ray

RAY_REQUIREMENT = "ray==2.60.0"
"""The Ray release filmc is tested with (the `ray` extra: `pip install 'filmc[ray]'`)."""

_MB = 2**20
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
"""Colour codes Ray puts in task errors."""
_ADDRESS = re.compile(r"^(local|auto|default|[\w.\-\[\]:]+:\d{1,5})$")


class DistributedError(RuntimeError):
    """Ray is missing, the address is wrong, or the cluster cannot run the build: a message for the user."""


def ray_version() -> str | None:
    """The installed Ray's version, or None when Ray is not installed (it is optional)."""
    if importlib.util.find_spec("ray") is None:
        return None
    try:
        return importlib.metadata.version("ray")
    except importlib.metadata.PackageNotFoundError:
        return None


def require_ray() -> None:
    if ray_version() is None:
        raise DistributedError(f"--ray needs Ray, which is not installed; install it with "
                               f"`pip install '{RAY_REQUIREMENT}'` (or `pip install 'filmc[ray]'`)")


def check_address(address: str) -> str:
    """An address filmc passes to `ray.init`: local, auto, default or HOST:PORT (a cluster's head). Ray
    Client addresses (ray://) are refused: the driver runs on a machine of the cluster, beside the cache."""
    if address.startswith("ray://"):
        raise DistributedError(f"{address!r} is a Ray Client address, which filmc does not use: run filmc build on "
                               "a machine of the cluster (it writes the cache) with --ray auto or --ray HOST:PORT")
    if not _ADDRESS.match(address):
        raise DistributedError(f"{address!r} is not a Ray address: use local, auto or HOST:PORT")
    return address


@dataclass(frozen=True)
class Cluster:
    """What the connected Ray cluster offers, read once when the build connects."""

    address: str
    machines: int
    cpus: int
    gpus: int
    memory_mb: int
    """Ray's schedulable `memory` resource over all machines (Ray leaves room for its object store)."""
    largest_cpus: int
    largest_memory_mb: int
    local_instance: bool
    """This build started a Ray instance (`local`) and stops it at the end."""

    def describe(self) -> str:
        how = "started a local Ray instance" if self.local_instance else f"Ray at {self.address}"
        gpus = f", {self.gpus} GPU(s)" if self.gpus else ""
        return (f"{how}: {self.machines} machine(s), {self.cpus} CPU(s){gpus}, "
                f"{self.memory_mb / 1024:.1f} GiB schedulable memory")

    def executor_options(self, jobs: int | None = None, memory_budget_mb: int | None = None) -> dict[str, Any]:
        """`execute()` keyword arguments for running on this cluster: its CPUs are the default number of
        nodes at once, its memory the default budget, its GPUs the GPU slots."""
        return {"pool": WorkerPool(make=self.pool, every_node=True, groups=False, cores=self.cpus),
                "jobs": jobs or self.cpus, "memory_budget_mb": memory_budget_mb or self.memory_mb,
                "gpu_slots": max(1, self.gpus)}

    def pool(self, max_workers: int, initializer: Callable[..., object], initargs: tuple) -> RayPool:
        return RayPool(self, initializer, initargs)


def _read_cluster(address: str, local_instance: bool) -> Cluster:
    import ray

    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    if not nodes:
        raise DistributedError(f"the Ray cluster at {address} has no live machine")
    cpus = [int(n.get("CPU", 0)) for n in nodes]
    memory = [int(n.get("memory", 0)) // _MB for n in nodes]
    if max(cpus) < 1:
        raise DistributedError(f"the Ray cluster at {address} has no CPU to run nodes on")
    return Cluster(address=address, machines=len(nodes), cpus=sum(cpus), gpus=int(sum(n.get("GPU", 0) for n in nodes)),
                   memory_mb=sum(memory), largest_cpus=max(cpus), largest_memory_mb=max(memory),
                   local_instance=local_instance)


@contextlib.contextmanager
def connect(address: str) -> Iterator[Cluster]:
    """Connect to Ray for one build (see the module doc for addresses) and disconnect at the end,
    Ctrl-C included; a local instance started here is stopped. A connection this process already
    holds (`ray.init` called by the caller) is used as it is and left open."""
    require_ray()
    import ray

    check_address(address)
    if ray.is_initialized():
        yield _read_cluster(ray.get_runtime_context().gcs_address, local_instance=False)
        return
    # ray.init installs a SIGTERM handler (sys.exit) for the driver; the caller's comes back afterwards.
    previous_sigterm = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": "ERROR", "include_dashboard": False}
    try:
        context = ray.init(address=None if address == "default" else address, **kwargs)
    except Exception as exc:  # ConnectionError, a refused token, a bad address: all end the same way
        if address in ("auto", "default"):
            hint = "; start one with `ray start --head`, or use --ray local"
        else:
            hint = ("; is its head running? A cluster with token authentication (Ray's default once "
                    "~/.ray/auth_token exists) needs RAY_AUTH_MODE=token here, and its token in ~/.ray/auth_token, "
                    "RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH: Ray sends the token to an explicit address only then")
        raise DistributedError(f"cannot connect to Ray at {address}: {exc}{hint}") from None
    try:
        yield _read_cluster(context.address_info.get("gcs_address") or address, local_instance=address == "local")
    finally:
        ray.shutdown()
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)


# ----- the pool -----------------------------------------------------------------------------------------


def _run_task(init: tuple[Callable[..., object], tuple], fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Body of every Ray task: prepare the worker as the executor's pool initializer would, then run.
    The initializer runs before each task, since one Ray worker may serve several pools (builds)."""
    initializer, initargs = init
    initializer(*initargs)
    return fn(*args, **kwargs)


_remote_run_task: Any = None


def _remote() -> Any:
    """The Ray remote function, made once Ray is imported (importing this module does not need Ray)."""
    global _remote_run_task
    if _remote_run_task is None:
        import ray

        _remote_run_task = ray.remote(max_retries=0)(_run_task)
    return _remote_run_task


def _lost(exc: BaseException, node: PlanNode | None) -> WorkerLost:
    """A Ray error as a node failure. Transient: a lost worker, machine or object; permanent: what the
    same task would meet again (the task raised, e.g. a worker cannot import filmc; no place to run)."""
    import ray.exceptions as rx

    what = f"{node.op} {node.label or node.id[:12]}" if node is not None else "a task"
    name = type(exc).__name__
    if not isinstance(exc, rx.RayError):
        return WorkerLost(f"Ray could not run {what}: {name}: {exc}", transient=False)
    permanent = isinstance(exc, rx.RayTaskError | rx.RuntimeEnvSetupError | rx.TaskUnschedulableError
                           | rx.TaskPlacementGroupRemoved)
    if isinstance(exc, rx.OutOfMemoryError):
        text = "Ray's memory monitor stopped the worker running this node (its machine ran out of memory)"
    elif isinstance(exc, rx.WorkerCrashedError | rx.NodeDiedError):
        text = "the Ray worker running this node died (out of memory? a crash in a native library? a lost machine?)"
    elif permanent:
        text = f"a Ray worker could not run this node ({name}; is filmc installed on every machine, and the film's " \
               "folder and the cache mounted at the same paths?)"
    else:
        text = f"Ray lost this node's task ({name})"
    return WorkerLost(f"{text}:\n{tail(_ANSI.sub('', str(exc)))}", transient=not permanent)


def _settle(target: cf.Future, node: PlanNode | None, source: cf.Future) -> None:
    """Pass a Ray task's outcome on to the executor's future; Ray's errors become `WorkerLost`."""
    try:
        outcome = source.result()
    except cf.CancelledError as exc:
        _fail(target, WorkerLost(f"the Ray task was cancelled: {exc}", transient=True))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the executor as a node failure
        _fail(target, _lost(exc, node))
    else:
        with contextlib.suppress(cf.InvalidStateError):  # already failed by an interrupted build's shutdown
            target.set_result(outcome)


def _fail(target: cf.Future, error: WorkerLost) -> None:
    with contextlib.suppress(cf.InvalidStateError):
        target.set_exception(error)


class RayPool(cf.Executor):
    """A `concurrent.futures.Executor` whose `submit(fn, node, inputs, workdir, ctx)` runs
    `initializer(*initargs)` and then `fn(node, inputs, workdir, ctx)` as one Ray task, reserving the
    node's resources. Its futures raise `WorkerLost` when Ray loses or cannot run the task."""

    def __init__(self, cluster: Cluster, initializer: Callable[..., object], initargs: tuple) -> None:
        import ray

        self.cluster = cluster
        self._init = ray.put((initializer, initargs))  # shipped once, passed to every task by reference
        self._tasks: dict[cf.Future, ray.ObjectRef] = {}
        self._lock = threading.Lock()
        self._closed = False

    def task_options(self, node: PlanNode | None, threads: int) -> dict[str, Any]:
        """Ray resources for a node: its threads as CPUs and its declared memory, each capped at the
        largest machine's (a node bigger than any machine runs alone on the biggest, as a node larger
        than the local budget runs alone), and one GPU for a GPU node."""
        options: dict[str, Any] = {"num_cpus": max(1, min(threads, self.cluster.largest_cpus))}
        if node is None:
            return options
        options["name"] = f"filmc {node.op} {node.label or node.id[:12]}"
        memory_mb = min(node.resources.memory_mb, self.cluster.largest_memory_mb)
        if memory_mb > 0:
            options["memory"] = memory_mb * _MB
        if node.resources.device == "gpu":
            options["num_gpus"] = 1
        return options

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        node = next((a for a in args if isinstance(a, PlanNode)), None)
        ctx = next((a for a in args if isinstance(a, RunContext)), None)
        threads = ctx.threads if ctx is not None else 1
        future: cf.Future = cf.Future()
        future.set_running_or_notify_cancel()
        if node is not None and node.resources.device == "gpu" and self.cluster.gpus == 0:
            future.set_exception(WorkerLost(f"{node.op} {node.label or node.id[:12]} needs a GPU and no machine of "
                                            f"the Ray cluster at {self.cluster.address} has one", transient=False))
            return future
        options = self.task_options(node, threads)
        if ctx is not None and ctx.threads != options["num_cpus"]:  # the node uses what it reserved
            args = tuple(dataclasses.replace(a, threads=options["num_cpus"]) if a is ctx else a for a in args)
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a RayPool after shutdown")
            try:
                ref = _remote().options(**options).remote(self._init, fn, args, kwargs)
            except Exception as exc:  # the connection to the cluster is gone: a failed node, not a crashed build
                _fail(future, _lost(exc, node))
                return future
            self._tasks[future] = ref
        future.add_done_callback(self._forget)
        ref.future().add_done_callback(lambda source: _settle(future, node, source))
        return future

    def _forget(self, future: cf.Future) -> None:
        with self._lock:
            self._tasks.pop(future, None)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """`cancel_futures` (an interrupted build) cancels every unfinished task: Ray raises
        KeyboardInterrupt in a running one, so its tools are stopped, and its temp folder stays for
        the next build to remove. `wait` waits for the tasks still running."""
        import ray

        with self._lock:
            self._closed = True
            pending = list(self._tasks.items())
        if cancel_futures:
            for future, ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
                _fail(future, WorkerLost("the build stopped before this node finished", transient=True))
        if wait:
            cf.wait([f for f, _ in pending])
