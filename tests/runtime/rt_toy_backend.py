"""A small real backend for the runtime's tests: every output is computed from the node's
params and the bytes of its inputs, so a wrong input, a stale cache entry or a half-written
file changes the result. Params steer its behaviour:

  sleep: seconds to work; meet: a folder where `peers` nodes must all arrive before any goes on
  (within meet_timeout seconds); slow_write: write half an output, sleep that long, write the rest;
  fail: a message to fail with (not transient); transient_failures: fail transiently on the
  first N attempts; die: kill the worker process outright (os._exit); frames: write each output
  as a folder of that many frame files; whoami: a folder where the node leaves a file named after
  its label with its process id and the `rt_group_marker` modules that process has imported.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from filmc.compiler.render_plan import PlanNode, RenderPlan, Resources, node_id
from filmc.compiler.source import Span
from filmc.runtime.backend import Backend, Capabilities, NodeError, NodeOutputs, RunContext

TOY_VERSION = "toy-1"

RUN_PIDS: list[int] = []
"""Pids that ran nodes, as seen by this process: only nodes run in threads land here."""


def expected_digest(op: str, params: dict, input_bytes: list[bytes]) -> str:
    h = hashlib.sha256(f"{op}|{sorted(params.items())!r}".encode())
    for blob in input_bytes:
        h.update(hashlib.sha256(blob).digest())
    return h.hexdigest()


def meet_peers(room: Path, me: str, peers: int, timeout_s: float = 20.0) -> None:
    """Wait until `peers` nodes (this one included) are running at the same time, or fail:
    proof of concurrency that does not depend on how fast worker processes start."""
    room.mkdir(parents=True, exist_ok=True)
    (room / me).touch()
    deadline = time.monotonic() + timeout_s
    while len(list(room.iterdir())) < peers:
        if time.monotonic() > deadline:
            raise NodeError(f"{me} waited {timeout_s} s for {peers - 1} other node(s) to run beside it")
        time.sleep(0.01)


class ToyBackend(Backend):
    name = "toy"
    version = TOY_VERSION
    capabilities = Capabilities(ops={"plate", "portrait", "compose", "animate", "assemble", "encode", "mix"},
                                devices={"cpu", "gpu"})

    def run(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        p = node.params
        RUN_PIDS.append(os.getpid())
        if p.get("meet"):
            meet_peers(Path(p["meet"]), node.label, p.get("peers", 2), p.get("meet_timeout", 20.0))
        if p.get("die"):
            os._exit(7)
        if p.get("whoami"):
            markers = " ".join(sorted(m for m in sys.modules if m.startswith("rt_group_marker")))
            (Path(p["whoami"]) / node.label).write_text(f"{os.getpid()} {markers}".strip())
        time.sleep(p.get("sleep", 0.0))
        if p.get("fail"):
            raise NodeError(f"toy renderer refused {node.label}", output="setting up\n" * 50 + f"fatal: {p['fail']}")
        if ctx.attempt <= p.get("transient_failures", 0):
            raise NodeError("toy renderer busy", transient=True, output="resource temporarily unavailable")
        blobs = [f.read_bytes() for i in node.inputs for _, f in sorted(inputs[i].files.items())]
        digest = expected_digest(node.op, p, blobs)
        for name in node.outputs:
            if p.get("frames"):  # the output is a folder: an image sequence
                for frame in range(p["frames"]):
                    (workdir / name).mkdir(parents=True, exist_ok=True)
                    (workdir / name / f"{frame:04d}.txt").write_text(f"{frame}:{digest}\n")
                continue
            target = workdir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            body = (f"{name}:{digest}\n" * p.get("repeat", 4)).encode()
            cut = len(body) // 2 + 1 if p.get("slow_write") else 0  # never at a line end: visibly partial
            with target.open("wb") as f:
                if cut:
                    f.write(body[:cut])
                    f.flush()
                    time.sleep(p["slow_write"])
                f.write(body[cut:])


def make_plan(specs: list[tuple], film: str = "/films/toy.film", outputs: dict[str, str] | None = None) -> RenderPlan:
    """specs: (key, op, params, [input keys], memory_mb[, device]) in topological order; the key
    becomes the label and the node's span line is its position (1-based)."""
    ids: dict[str, str] = {}
    nodes = []
    for line, spec in enumerate(specs, start=1):
        key, op, params, input_keys, memory_mb = spec[:5]
        device = spec[5] if len(spec) > 5 else "cpu"
        inputs = [ids[k] for k in input_keys]
        nid = node_id(op, params, inputs, TOY_VERSION)
        ids[key] = nid
        nodes.append(PlanNode(id=nid, op=op, params=params, inputs=inputs, outputs=[f"{key}.txt"],
                              resources=Resources(memory_mb=memory_mb, device=device), label=key,
                              spans=[Span(file=film, line=line, col=3, end_line=line, end_col=20)]))
    named = {name: ids[key] for name, key in (outputs or {}).items()}
    return RenderPlan(backend="toy", backend_version=TOY_VERSION, film=film, nodes=nodes, outputs=named)
