"""Build events, and the renderers that show them to people and machines.

The executor calls one sink with each event, always from the thread that called
`execute`, so renderers need no locking. Pick a renderer with `make_renderer`:
rich progress bars per op on a terminal, plain lines in logs, JSON lines for tools.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Protocol

from filmc.compiler.render_plan import PlanNode


@dataclass(frozen=True)
class NodeRef:
    """Who an event is about, in the words a user knows: op, label (shot id), .film spans."""

    id: str
    op: str
    label: str
    spans: tuple[str, ...] = ()

    @classmethod
    def of(cls, node: PlanNode) -> NodeRef:
        return cls(node.id, node.op, node.label, tuple(str(s) for s in node.spans))

    @property
    def name(self) -> str:
        return f"{self.op} {self.label or self.id[:12]}"


@dataclass(frozen=True)
class BuildStarted:
    run_id: int
    total: int
    """Nodes in this build (the plan, or the `only` selection and what it needs)."""
    to_run: int
    cached: int
    jobs: int
    memory_budget_mb: int
    ops: dict[str, tuple[int, int]] = field(default_factory=dict)
    """op -> (nodes in this build, of which cached)."""


@dataclass(frozen=True)
class NodeCached:
    node: NodeRef
    adopted: bool = False
    """Found finished on disk without an index record (a build died just after writing it)."""


@dataclass(frozen=True)
class NodeCorrupt:
    node: NodeRef
    detail: str


@dataclass(frozen=True)
class NodeStarted:
    node: NodeRef
    attempt: int


@dataclass(frozen=True)
class NodeFinished:
    node: NodeRef
    attempt: int
    duration_s: float


@dataclass(frozen=True)
class NodeFailed:
    node: NodeRef
    attempt: int
    error: str
    transient: bool
    retry_in_s: float | None = None
    """Set when the executor will try again after this delay; None when the failure is final."""


@dataclass(frozen=True)
class NodeSkipped:
    node: NodeRef
    because: NodeRef
    """The failed node this one (transitively) depends on."""


@dataclass(frozen=True)
class BuildWarning:
    message: str


@dataclass(frozen=True)
class BuildFinished:
    ran: int
    cached: int
    failed: int
    skipped: int
    wall_s: float

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.skipped == 0


Event = (BuildStarted | NodeCached | NodeCorrupt | NodeStarted | NodeFinished | NodeFailed | NodeSkipped
         | BuildWarning | BuildFinished)
EventSink = Callable[[Event], None]

_EVENT_NAMES = {
    BuildStarted: "build_started", NodeCached: "node_cached", NodeCorrupt: "node_corrupt",
    NodeStarted: "node_started", NodeFinished: "node_finished", NodeFailed: "node_failed",
    NodeSkipped: "node_skipped", BuildWarning: "warning", BuildFinished: "build_finished",
}


def event_name(event: Event) -> str:
    return _EVENT_NAMES[type(event)]


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with an `event` key naming the kind, e.g. 'node_failed'."""
    data = asdict(event)
    if isinstance(event, BuildStarted):
        data["ops"] = {op: {"total": t, "cached": c} for op, (t, c) in event.ops.items()}
    if isinstance(event, BuildFinished):
        data["ok"] = event.ok
    return {"event": event_name(event), **data}


class Renderer(Protocol):
    def __call__(self, event: Event) -> None: ...

    def close(self) -> None: ...


def _failure_lines(event: NodeFailed) -> str:
    where = f" ({', '.join(event.node.spans)})" if event.node.spans else ""
    head = f"FAILED {event.node.name}{where}, attempt {event.attempt}"
    if event.retry_in_s is not None:
        head += f"; transient, retrying in {event.retry_in_s:.1f} s"
    return head + "\n" + "\n".join("    " + line for line in event.error.splitlines())


class PlainRenderer:
    """One line per thing that happened; cached nodes are summed up, not listed."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def __call__(self, event: Event) -> None:
        match event:
            case BuildStarted():
                self._print(f"build: {event.total} nodes, {event.to_run} to run, {event.cached} cached "
                            f"(jobs {event.jobs}, memory budget {event.memory_budget_mb} MB)")
            case NodeCorrupt():
                self._print(f"corrupt {event.node.name}: {event.detail}; rebuilding")
            case NodeStarted():
                again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
                self._print(f"start   {event.node.name}{again}")
            case NodeFinished():
                self._print(f"done    {event.node.name} {event.duration_s:.2f} s")
            case NodeFailed():
                self._print(_failure_lines(event))
            case NodeSkipped():
                self._print(f"skipped {event.node.name}: input {event.because.name} failed")
            case BuildWarning():
                self._print(f"warning: {event.message}")
            case BuildFinished():
                verdict = "build finished" if event.ok else "build FAILED"
                self._print(f"{verdict}: {event.ran} ran, {event.cached} cached, {event.failed} failed, "
                            f"{event.skipped} skipped in {event.wall_s:.2f} s")
            case _:
                pass

    def close(self) -> None:
        pass


class JsonLinesRenderer:
    """Every event as one JSON object per line (`--json`), for editors and CI."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class RichRenderer:
    """Progress bars per op (done/total, ETA) on a terminal; failures printed above them."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(file=stream or sys.stderr)
        self.progress = Progress(
            TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[dim]{task.fields[status]}"), TimeElapsedColumn(), TextColumn("eta"),
            TimeRemainingColumn(), console=self.console, transient=False)
        self.tasks: dict[str, Any] = {}
        self.running: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.skipped: dict[str, int] = {}
        self.started = False

    def _status(self, op: str) -> str:
        parts = []
        if self.running.get(op):
            parts.append(f"{self.running[op]} running")
        if self.failed.get(op):
            parts.append(f"[red]{self.failed[op]} failed[/red]")
        if self.skipped.get(op):
            parts.append(f"[yellow]{self.skipped[op]} skipped[/yellow]")
        return ", ".join(parts)

    def _update(self, op: str, advance: int = 0) -> None:
        if op in self.tasks:
            self.progress.update(self.tasks[op], advance=advance, status=self._status(op))

    def __call__(self, event: Event) -> None:
        match event:
            case BuildStarted():
                self.console.print(f"[bold]build[/bold]: {event.total} nodes, {event.to_run} to run, "
                                   f"{event.cached} cached (jobs {event.jobs})")
                for op, (total, cached) in event.ops.items():
                    self.tasks[op] = self.progress.add_task(op, total=total, completed=cached, status="")
                self.progress.start()
                self.started = True
            case NodeCorrupt():
                self.progress.console.print(f"corrupt {event.node.name}: {event.detail}; rebuilding",
                                            style="yellow", markup=False, highlight=False)
            case NodeStarted():
                self.running[event.node.op] = self.running.get(event.node.op, 0) + 1
                self._update(event.node.op)
            case NodeFinished():
                self.running[event.node.op] -= 1
                self._update(event.node.op, advance=1)
            case NodeFailed():
                self.running[event.node.op] -= 1
                if event.retry_in_s is None:
                    self.failed[event.node.op] = self.failed.get(event.node.op, 0) + 1
                self._update(event.node.op, advance=0 if event.retry_in_s is not None else 1)
                self.progress.console.print(_failure_lines(event), style="red", markup=False, highlight=False)
            case NodeSkipped():
                self.skipped[event.node.op] = self.skipped.get(event.node.op, 0) + 1
                self._update(event.node.op, advance=1)
            case BuildWarning():
                self.progress.console.print(f"warning: {event.message}", style="yellow", markup=False,
                                            highlight=False)
            case BuildFinished():
                self.close()
                style = "green" if event.ok else "bold red"
                verdict = "build finished" if event.ok else "build FAILED"
                self.console.print(f"[{style}]{verdict}[/{style}]: {event.ran} ran, {event.cached} cached, "
                                   f"{event.failed} failed, {event.skipped} skipped in {event.wall_s:.2f} s")
            case _:
                pass

    def close(self) -> None:
        if self.started:
            self.progress.stop()
            self.started = False


def make_renderer(json_lines: bool = False, stream: IO[str] | None = None) -> Renderer:
    """JSON lines when asked; rich bars when `stream` (default stderr) is a terminal; plain lines otherwise."""
    if json_lines:
        return JsonLinesRenderer(stream or sys.stdout)
    out = stream or sys.stderr
    if hasattr(out, "isatty") and out.isatty():
        return RichRenderer(out)
    return PlainRenderer(out)
