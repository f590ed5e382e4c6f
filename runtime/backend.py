"""The backend plugin interface: what the executor needs from a renderer, and nothing more.

The executor never knows which backend it drives. A backend declares its `name`
and `version` (the version is part of every node id, so bumping it invalidates
the cache), the ops it implements, and a `run` that writes a node's declared
outputs into a work directory. Everything else (caching, scheduling, retries,
crash safety) belongs to the executor.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from filmc.compiler.render_plan import PlanNode, RenderPlan

Device = Literal["cpu", "gpu"]
Placement = Literal["process", "thread"]
"""Where a node runs: a worker process (CPU-heavy Python), or a thread of the
build process (work that holds a loaded GPU model, or that only waits on a tool)."""

ERROR_TAIL_CHARS = 4000


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do: the ops it implements and the devices it runs them on."""

    ops: frozenset[str]
    devices: frozenset[Device] = frozenset({"cpu"})

    def __post_init__(self) -> None:  # accept any iterable of names
        object.__setattr__(self, "ops", frozenset(self.ops))
        object.__setattr__(self, "devices", frozenset(self.devices))


@dataclass(frozen=True)
class NodeOutputs:
    """The finished outputs of one node: its object folder and its declared files by name."""

    id: str
    op: str
    label: str
    directory: Path
    files: Mapping[str, Path] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        try:
            return self.files[name]
        except KeyError:
            raise KeyError(f"node {self.label or self.id} ({self.op}) has no output {name!r}; "
                           f"it has {sorted(self.files)}") from None

    def single(self) -> Path:
        """The only output, for ops that declare exactly one."""
        if len(self.files) != 1:
            raise ValueError(f"node {self.label or self.id} ({self.op}) has {len(self.files)} outputs, not 1")
        return next(iter(self.files.values()))


@dataclass(frozen=True)
class RunContext:
    """Per-run facts a backend may use. Picklable: it travels to worker processes."""

    film: str
    """The .film file the plan was compiled from."""
    attempt: int
    """1 for the first try, 2 for the first retry, ..."""
    threads: int
    """How many CPU threads this node should use (e.g. ffmpeg `-threads`)."""
    scratch: Path
    """Where this node may keep intermediates: call `scratch_dir()` to create it. It is deleted
    after the node, whatever the outcome, and never becomes part of the node's outputs."""

    def scratch_dir(self) -> Path:
        self.scratch.mkdir(parents=True, exist_ok=True)
        return self.scratch


class NodeError(Exception):
    """A node failed. `transient` asks the executor to retry (with backoff); `output`
    is the tool's own error text (stderr), whose tail goes into the failure report."""

    def __init__(self, message: str, *, transient: bool = False, output: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.output = output

    def __reduce__(self):  # keeps keyword-only fields across process boundaries
        return (_rebuild_node_error, (self.message, self.transient, self.output))

    def text(self) -> str:
        """Message plus the tail of the tool's output."""
        if not self.output.strip():
            return self.message
        return f"{self.message}\n{tail(self.output)}"


def _rebuild_node_error(message: str, transient: bool, output: str) -> NodeError:
    return NodeError(message, transient=transient, output=output)


def tail(text: str, limit: int = ERROR_TAIL_CHARS) -> str:
    """The last `limit` characters of a tool's output, starting at a line boundary."""
    text = text.rstrip()
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find("\n")
    return "…\n" + (cut[newline + 1:] if 0 <= newline < len(cut) - 1 else cut)


def run_tool(
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    timeout_s: float | None = None,
    input_bytes: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run an external tool (ffmpeg, ...) and turn its failure into a NodeError carrying
    its stderr. A timeout or a kill by signal is transient (load, OOM killer); a
    non-zero exit is not, since the same inputs would fail the same way."""
    argv = [str(a) for a in args]
    try:
        proc = subprocess.run(argv, cwd=cwd, input=input_bytes, capture_output=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        stderr = (exc.stderr or b"").decode("utf-8", "replace")
        raise NodeError(f"{Path(argv[0]).name} timed out after {timeout_s} s", transient=True,
                        output=stderr) from None
    except FileNotFoundError:
        raise NodeError(f"tool not found: {argv[0]}") from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode < 0:
            raise NodeError(f"{Path(argv[0]).name} was killed by signal {-proc.returncode}", transient=True,
                            output=stderr)
        raise NodeError(f"{Path(argv[0]).name} exited with status {proc.returncode}", output=stderr)
    return proc


class Backend:
    """Base class of every backend.

    Subclasses set the class attributes `name`, `version` and `capabilities`, and
    implement each op either as a method `op_<op>(node, inputs, workdir, ctx)` (the
    default `run` dispatches to it) or by overriding `run`. An op must write every
    file named in `node.outputs` under `workdir` (sub-folders allowed; an output may
    also be a folder, e.g. an image sequence) and raise `NodeError` on failure.

    Backends are pickled into worker processes, so keep instances small and
    picklable: load heavy models lazily, inside an op.
    """

    name: str = ""
    version: str = ""
    capabilities: Capabilities = Capabilities(ops=frozenset())
    worker_preload: tuple[str, ...] = ()
    """Modules a local worker should have imported before its first node (heavy ones its ops use):
    the worker pool's forkserver imports those of ops in no worker group once for every worker
    (`default_preload`); a group's workers import their own (`worker_groups`)."""

    worker_groups: Mapping[str, frozenset[str]] = {}
    """Ops whose nodes run in local worker processes of their own, by group name. A group's workers
    import its ops' modules (`preload_for(ops)`) as they start, so the forkserver that every other
    worker forks from need not: its first workers are ready sooner, and a group's import runs beside
    their nodes instead of before them. Ops in no group run in the default workers."""

    def preload_for(self, ops: Iterable[str]) -> tuple[str, ...]:
        """The part of `worker_preload` that nodes of `ops` use (default: all of it). A rebuild that
        re-runs a few picture ops then starts without importing, say, the sound engine."""
        return self.worker_preload

    def worker_group(self, op: str) -> str:
        """The worker group that runs nodes of `op`: a name from `worker_groups`, or "" (the default)."""
        return next((name for name, ops in self.worker_groups.items() if op in ops), "")

    def default_preload(self, ops: Iterable[str] | None = None) -> tuple[str, ...]:
        """What the default workers' forkserver imports: the modules of `ops` (default: every op the
        backend has) that are in no worker group."""
        chosen = self.capabilities.ops if ops is None else ops
        return self.preload_for(op for op in chosen if not self.worker_group(op))

    def run(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        method = getattr(self, f"op_{node.op}", None)
        if method is None:
            raise NodeError(f"backend {self.name} {self.version} does not implement op {node.op!r}")
        method(node, inputs, workdir, ctx)

    def placement(self, node: PlanNode) -> Placement:
        """GPU nodes run in threads of the build process, which keeps models loaded
        between nodes; CPU nodes run in worker processes, beside the GIL."""
        return "thread" if node.resources.device == "gpu" else "process"

    def check_plan(self, plan: RenderPlan) -> list[str]:
        """Problems that make the plan unrunnable by this backend, as messages."""
        problems: list[str] = []
        if not self.name or not self.version:
            problems.append(f"backend {type(self).__name__} must declare a name and a version")
        if plan.backend != self.name or plan.backend_version != self.version:
            problems.append(f"the plan was compiled for backend {plan.backend} {plan.backend_version}, "
                            f"not {self.name} {self.version}: compile it again for this backend")
        missing_ops = sorted({n.op for n in plan.nodes} - self.capabilities.ops)
        if missing_ops:
            problems.append(f"backend {self.name} does not implement op(s): {', '.join(missing_ops)}")
        missing_devices = sorted({n.resources.device for n in plan.nodes} - self.capabilities.devices)
        if missing_devices:
            problems.append(f"backend {self.name} cannot run on device(s): {', '.join(missing_devices)}")
        return problems
