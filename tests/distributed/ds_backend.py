"""Backends for the Ray tests: each node notes, beside the cache, which process ran it and, inside a
Ray worker, the worker, the task and the resources Ray reserved for it. Ray workers import this
module by name, so the tests put its folder on the workers' PYTHONPATH.

`WitnessPreview` is the real preview backend plus the note (same name and version, so the same
node ids). `WitnessToy` is a small backend whose outputs are hashes of params and inputs, and
whose params make a node fail (`fail`) or kill its worker (`die`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

from filmc.compiler.render_plan import PlanNode, RenderPlan, Resources, node_id
from filmc.compiler.source import Span
from filmc.runtime.backend import Backend, Capabilities, NodeError, NodeOutputs, RunContext
from filmc.runtime.preview.backend import PreviewBackend

TOY_VERSION = "witness-toy-1"


def note(witness: Path, node: PlanNode, ctx: RunContext) -> None:
    """Write where this node runs as one JSON file (atomic, so a reader never sees half of one)."""
    info: dict = {"node": node.id, "op": node.op, "label": node.label, "attempt": ctx.attempt, "pid": os.getpid(),
                  "threads": ctx.threads, "worker": None}
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        context = ray.get_runtime_context()
        info.update(worker=context.get_worker_id(), task=context.get_task_id(), task_name=context.get_task_name(),
                    resources=context.get_assigned_resources())
    witness.mkdir(parents=True, exist_ok=True)
    tmp = witness / f".{secrets.token_hex(6)}.tmp"
    tmp.write_text(json.dumps(info), encoding="utf-8")
    os.replace(tmp, witness / f"{node.id}-{ctx.attempt}-{os.getpid()}.json")


def notes(witness: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(witness.glob("*.json"))]


class WitnessPreview(PreviewBackend):
    def __init__(self, witness: Path) -> None:
        self.witness = witness

    def run(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        note(self.witness, node, ctx)
        super().run(node, inputs, workdir, ctx)


class WitnessToy(Backend):
    name = "witness_toy"
    version = TOY_VERSION
    capabilities = Capabilities(ops={"plate", "compose"}, devices={"cpu", "gpu"})

    def __init__(self, witness: Path) -> None:
        self.witness = witness

    def run(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        note(self.witness, node, ctx)
        p = node.params
        if p.get("die"):
            os._exit(9)
        if p.get("fail"):
            raise NodeError(f"toy renderer refused {node.label}", output="warming up\n" * 20 + f"fatal: {p['fail']}")
        h = hashlib.sha256(json.dumps(p, sort_keys=True).encode())
        for i in node.inputs:
            h.update(inputs[i].single().read_bytes())
        (workdir / node.outputs[0]).write_text(f"{node.label}:{h.hexdigest()}\n", encoding="utf-8")


def toy_plan(specs: list[tuple], film: str = "/films/toy.film") -> RenderPlan:
    """specs: (label, op, params, [input labels], memory_mb[, device]) in dependency order."""
    ids: dict[str, str] = {}
    nodes = []
    for line, spec in enumerate(specs, start=1):
        label, op, params, input_labels, memory_mb = spec[:5]
        device = spec[5] if len(spec) > 5 else "cpu"
        inputs = [ids[k] for k in input_labels]
        ids[label] = node_id(op, params, inputs, TOY_VERSION)
        nodes.append(PlanNode(id=ids[label], op=op, params=params, inputs=inputs, outputs=[f"{label}.txt"],
                              resources=Resources(memory_mb=memory_mb, device=device), label=label,
                              spans=[Span(file=film, line=line, col=3, end_line=line, end_col=20)]))
    return RenderPlan(backend=WitnessToy.name, backend_version=TOY_VERSION, film=film, nodes=nodes, outputs={})
