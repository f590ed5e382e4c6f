"""`filmc plan FILM`: what a build would render, what is already cached, and what it costs.

Prints a table by op (rich on a terminal, aligned text otherwise), or the plan as
JSON (`--format json`), as Graphviz DOT (`--graph`), or every prompt exactly as
a backend receives it (`--prompts`). Exit status follows `filmc check`: errors
in the film print diagnostics and no plan (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from .backend_defaults import backend_defaults
from .costs import costs_path, load_costs, plan_seconds
from .render_plan import Op, RenderPlan

OP_ORDER: tuple[str, ...] = get_args(Op)
INDEX_PATH = Path(".filmc") / "index.sqlite"


# --- cache ------------------------------------------------------------------------


def cached_ids(film_path: Path, ids: set[str]) -> tuple[set[str], Path | None]:
    """Ids among `ids` that the build cache beside the film lists as done (read-only)."""
    index = film_path.resolve().parent / INDEX_PATH
    if not index.is_file():
        return set(), None
    try:
        db = sqlite3.connect(f"{index.as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            rows = db.execute("SELECT id FROM nodes WHERE status = 'done'").fetchall()
        finally:
            db.close()
    except sqlite3.Error as err:
        print(f"filmc: warning: cannot read the build cache {index}: {err}; counting nothing as cached",
              file=sys.stderr)
        return set(), index
    return {r[0] for r in rows} & ids, index


@dataclass
class OpRow:
    op: str
    count: int = 0
    cached: int = 0
    preview_cpu_s: float = 0.0
    gpu_s: float = 0.0
    gpu_hours: float = 0.0
    cost_usd: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"op": self.op, "count": self.count, "cached": self.cached,
                "preview_cpu_s": round(self.preview_cpu_s, 2), "gpu_s": round(self.gpu_s, 2),
                "gpu_hours": round(self.gpu_hours, 4), "cost_usd": round(self.cost_usd, 2)}


@dataclass
class Summary:
    rows: list[OpRow]
    total: OpRow
    index: Path | None
    cached: set[str] = field(default_factory=set)


def summarise(plan: RenderPlan, film_path: Path, costs: dict[str, Any]) -> Summary:
    """Per-op counts, cached counts and estimates for the nodes still to build."""
    cached, index = cached_ids(film_path, {n.id for n in plan.nodes})
    backends = costs["backends"]
    cpu, gpu = backends["preview_cpu"], backends["gpu"]
    gpu_ops = set(gpu.get("gpu_ops", []))
    price = costs["gpu"]["dollars_per_gpu_hour"]
    rows = {op: OpRow(op) for op in OP_ORDER}
    cpu_seconds, gpu_seconds = plan_seconds(plan, cpu), plan_seconds(plan, gpu)
    for node in plan.nodes:
        row = rows[node.op]
        row.count += 1
        if node.id in cached:
            row.cached += 1
            continue
        row.preview_cpu_s += cpu_seconds[node.id]
        seconds = gpu_seconds[node.id]
        row.gpu_s += seconds
        if node.op in gpu_ops:
            row.gpu_hours += seconds / 3600
            row.cost_usd += seconds / 3600 * price
    used = [r for r in rows.values() if r.count]
    total = OpRow("total")
    for r in used:
        for key in ("count", "cached", "preview_cpu_s", "gpu_s", "gpu_hours", "cost_usd"):
            setattr(total, key, getattr(total, key) + getattr(r, key))
    return Summary(used, total, index, cached)


# --- output formats ---------------------------------------------------------------


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


HEADERS = ("op", "count", "cached", "preview CPU", "GPU backend", "GPU h", "cost $")


def _cells(r: OpRow) -> list[str]:
    return [r.op, str(r.count), str(r.cached), _hms(r.preview_cpu_s), _hms(r.gpu_s), f"{r.gpu_hours:.3f}",
            f"{r.cost_usd:.2f}"]


def table_text(summary: Summary) -> str:
    rows = [list(HEADERS)] + [_cells(r) for r in summary.rows] + [_cells(summary.total)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = []
    for k, row in enumerate(rows):
        cells = [c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if k == 0 or k == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_table(plan: RenderPlan, summary: Summary, costs: dict[str, Any], tty: bool) -> None:
    price = costs["gpu"]["dollars_per_gpu_hour"]
    cache_note = (f"cache: {summary.index}" if summary.index else "cache: none yet (nothing cached)")
    foot = (f"{len(plan.nodes)} nodes, backend {plan.backend} {plan.backend_version}; {cache_note}\n"
            f"estimates are single-worker h:mm:ss for uncached nodes; GPU at ${price:.2f}/h "
            f"({costs['gpu'].get('device', 'GPU')}); model: {costs_path()}")
    if tty:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"Render plan: {plan.film}")
        for i, head in enumerate(HEADERS):
            t.add_column(head, justify="left" if i == 0 else "right")
        for r in summary.rows:
            t.add_row(*_cells(r))
        t.add_section()
        t.add_row(*_cells(summary.total), style="bold")
        console = Console()
        console.print(t)
        console.print(foot, style="dim", highlight=False)
        return
    print(table_text(summary))
    print(foot)


def summary_json(plan: RenderPlan, summary: Summary, costs: dict[str, Any]) -> str:
    payload = {
        "film": plan.film,
        "backend": plan.backend,
        "backend_version": plan.backend_version,
        "cache": str(summary.index) if summary.index else None,
        "ops": [r.as_json() for r in summary.rows],
        "total": summary.total.as_json(),
        "cost_model": {"file": "std:costs.toml", "dollars_per_gpu_hour": costs["gpu"]["dollars_per_gpu_hour"]},
        "outputs": plan.outputs,
        "plan": plan.model_dump(mode="json", by_alias=True),
    }
    return json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False)


OP_COLOURS = {
    "plate": "#cfe3ff", "portrait": "#ffd9cf", "compose": "#e3f2d0", "animate": "#d0f0e8", "conform": "#eeeeee",
    "speech": "#fff2b3", "bed": "#fff2b3", "sfx": "#fff2b3", "mix": "#ffe08a", "grade": "#e8d9ff",
    "assemble": "#c9b6ff", "encode": "#b3c7ff", "encode_audio": "#c4d8ff", "subtitles": "#fff8d6", "contact_sheet": "#dddddd",
    "qc": "#ffb3b3",
}


def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def graph_dot(plan: RenderPlan, cached: set[str]) -> str:
    """The plan as Graphviz DOT; cached nodes are dashed."""
    lines = ["digraph plan {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for n in plan.nodes:
        style = "rounded,filled,dashed" if n.id in cached else "rounded,filled"
        label = f"{n.op}\\n{n.label}" if n.label and n.label != n.op else n.op
        lines.append(f"  {_dot_str(n.id)} [label=\"{label.replace(chr(34), chr(39))}\", "
                     f"fillcolor={_dot_str(OP_COLOURS.get(n.op, '#ffffff'))}, style={_dot_str(style)}];")
    for n in plan.nodes:
        for src in n.inputs:
            lines.append(f"  {_dot_str(src)} -> {_dot_str(n.id)};")
    lines.append("}")
    return "\n".join(lines)


def prompt_records(plan: RenderPlan) -> list[dict[str, Any]]:
    """Every node that carries prompts, with them exactly as the backend receives them."""
    return [{"node": n.id, "op": n.op, "label": n.label, "prompts": n.params["prompts"]}
            for n in plan.nodes if "prompts" in n.params]


def prompts_text(plan: RenderPlan) -> str:
    out = []
    for rec in prompt_records(plan):
        out.append(f"# {rec['op']} {rec['label']} [{rec['node']}]")
        for key in ("image", "motion", "negative"):
            if key in rec["prompts"]:
                out.append(f"{key}: {rec['prompts'][key]}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- the command ------------------------------------------------------------------


def cmd_plan(args: argparse.Namespace) -> int:
    from .check import check_file
    from .cli import EXIT_ERRORS, EXIT_OK, UsageError, _use_colour
    from .diagnostics import render_all, to_json
    from .plan import PlanError, plan_with_prompts

    path = Path(args.film)
    if not path.is_file():
        raise UsageError(f"no such file: {args.film}")
    result = check_file(path)
    diagnostics = list(result.diagnostics)
    plan = prompts = None
    if result.film is not None and not result.has_errors:
        try:
            version, scale = backend_defaults(args.backend)
            plan, prompts = plan_with_prompts(result.film, backend=args.backend,
                                              backend_version=args.backend_version or version,
                                              scale=scale if args.scale is None else args.scale, profiles=args.profile or None,
                                              image_family=args.image_model, video_family=args.video_model)
        except PlanError as err:
            raise UsageError(str(err)) from None
        diagnostics.extend(prompts.diagnostics)
    failed = any(d.is_error for d in diagnostics) or (args.deny_warnings and bool(diagnostics))
    if diagnostics:
        if args.format == "json" and failed:
            print(to_json(diagnostics))
        else:
            print(render_all(diagnostics, result.sources, _use_colour(args.color, sys.stderr)), file=sys.stderr)
    if failed or plan is None:
        return EXIT_ERRORS
    if args.graph:
        cached, _ = cached_ids(path, {n.id for n in plan.nodes})
        print(graph_dot(plan, cached))
        return EXIT_OK
    if args.prompts:
        if args.format == "json":
            print(json.dumps(prompt_records(plan), indent=1, ensure_ascii=False))
        else:
            sys.stdout.write(prompts_text(plan))
        return EXIT_OK
    costs = load_costs()
    summary = summarise(plan, path, costs)
    if args.format == "json":
        print(summary_json(plan, summary, costs))
    else:
        print_table(plan, summary, costs, tty=sys.stdout.isatty())
    return EXIT_OK


def add_plan_command(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    from .plan import DEFAULT_BACKEND, DEFAULT_BACKEND_VERSION
    from .prompts import DEFAULT_IMAGE_FAMILY, DEFAULT_VIDEO_FAMILY, IMAGE_FAMILIES, VIDEO_FAMILIES

    p = add("plan", cmd_plan, "Show the render plan of a film: ops, cache state, time and cost estimates.")
    p.add_argument("film", help="the .film file")
    p.add_argument("--format", choices=["text", "json"], default="text", help="table or JSON (summary + plan)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--graph", action="store_true", help="print the plan as Graphviz DOT")
    mode.add_argument("--prompts", action="store_true", help="print every prompt as a backend receives it")
    p.add_argument("--backend", default=DEFAULT_BACKEND, help=f"backend to plan for (default {DEFAULT_BACKEND})")
    p.add_argument("--backend-version", default=None,
                   help="backend version (part of every node id; default: the installed backend's, "
                        f"else {DEFAULT_BACKEND_VERSION})")
    p.add_argument("--scale", type=float, default=None,
                   help="render resolution scale, e.g. 0.5 (default: what `filmc build` uses for the backend)")
    p.add_argument("--profile", action="append", metavar="NAME",
                   help="export profile (repeatable; default: the film's `export` list)")
    p.add_argument("--image-model", choices=sorted(IMAGE_FAMILIES), default=DEFAULT_IMAGE_FAMILY,
                   help="image model family whose token budget prompts are fitted to")
    p.add_argument("--video-model", choices=sorted(VIDEO_FAMILIES), default=DEFAULT_VIDEO_FAMILY,
                   help="video model family whose token budget motion prompts are fitted to")
    p.add_argument("--deny-warnings", action="store_true", help="exit 1 on warnings too")
