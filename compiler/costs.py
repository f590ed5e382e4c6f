"""The cost model: estimated single-worker seconds per plan node, from stdlib/costs.toml.

`filmc plan` sums it into time and money estimates; the executor ranks ready
nodes by it (the longest estimated path to the end of the build goes first).
"""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

from .render_plan import PlanNode, RenderPlan
from .scenes import DEFAULT_WPM


def costs_path() -> Path:
    from .modules import stdlib_dir

    return stdlib_dir() / "costs.toml"


def load_costs(path: Path | None = None) -> dict[str, Any]:
    with open(path or costs_path(), "rb") as f:
        return tomllib.load(f)


def _audio_seconds(node: PlanNode) -> float:
    p = node.params
    fps = float(Fraction(p["fps"])) if "fps" in p else 24.0
    if node.op == "speech":
        rate = p["voice"].get("rate_wpm") or DEFAULT_WPM
        return len(p["text"].split()) / rate * 60
    if node.op in ("bed", "mix", "encode_audio"):
        return p["frames"] / fps
    if node.op == "sfx":
        return 1.0
    return 0.0


def node_seconds(node: PlanNode, model: dict[str, Any], footage: bool = False) -> float:
    """Estimated single-worker seconds for one node under one backend's cost model. `footage`: the node
    grades a conformed clip, every frame of it (`grade_footage` in the model), not two still layers."""
    c = model.get("grade_footage" if footage and node.op == "grade" and "grade_footage" in model else node.op, {})
    p = node.params
    frames = p.get("frames", 0) if node.op not in ("bed", "mix", "encode_audio") else 0
    w, h = p.get("resolution", [0, 0])
    mpx = w * h / 1e6
    return (c.get("per_node", 0.0) + c.get("per_frame", 0.0) * frames
            + c.get("per_megapixel_frame", 0.0) * frames * mpx + c.get("per_megapixel", 0.0) * mpx
            + c.get("per_audio_second", 0.0) * _audio_seconds(node) + c.get("per_input", 0.0) * len(node.inputs))


def plan_seconds(plan: RenderPlan, model: dict[str, Any]) -> dict[str, float]:
    """node_seconds of every node of a plan, knowing which grades read footage (a conform input)."""
    ops = {n.id: n.op for n in plan.nodes}
    return {n.id: node_seconds(n, model, footage=any(ops.get(i) == "conform" for i in n.inputs)) for n in plan.nodes}
