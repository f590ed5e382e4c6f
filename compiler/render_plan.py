"""The render plan's data model: a versioned, content-addressed DAG of jobs.

`plan.py` builds it from the IR; `filmc.runtime` executes it. A node's id is
the hash of its op, normalised params, input ids and the backend version, so
an unchanged node keeps its id (and its cached outputs) across edits.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .source import Span

SCHEMA = "RenderPlan.1"

Op = Literal[
    "plate",        # setting plate per location x time of day x style
    "portrait",     # character portrait per character x wardrobe x state
    "compose",      # plate + subjects -> keyframe of a shot
    "animate",      # keyframe -> clip (image-to-video, or preview camera move)
    "conform",      # user media clip -> trimmed, conformed clip
    "speech",       # one dialogue line -> audio
    "bed",          # ambience / music bed for a scene
    "sfx",          # one sound effect
    "mix",          # all audio -> mix + stems
    "grade",        # colour grade of a shot clip
    "assemble",     # clips + transitions -> picture of the whole film
    "encode_video", # picture -> one export profile's video stream (runs beside the sound work)
    "encode_audio", # mix -> one export profile's audio stream, measured (runs beside the video encode)
    "encode",       # video stream + audio stream (or mix) -> one export profile's file(s)
    "subtitles",    # SRT / WebVTT
    "contact_sheet",
    "qc",
]  # fmt: skip


class Resources(BaseModel):
    model_config = ConfigDict(frozen=True)

    device: Literal["cpu", "gpu"] = "cpu"
    memory_mb: int = 256
    """Peak memory the node may use; the executor never oversubscribes RAM."""


class PlanNode(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    op: Op
    params: dict[str, Any]
    inputs: list[str] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    """Output file names (relative, inside the node's cache folder)."""
    resources: Resources = Field(default_factory=Resources)
    spans: list[Span] = Field(default_factory=list)
    """Where in the .film source this node comes from (not part of its id)."""
    label: str = ""
    """Human name for progress and errors, e.g. 's01_003' (not part of its id)."""


class RenderPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_: str = Field(default=SCHEMA, alias="schema")
    backend: str
    backend_version: str
    film: str
    nodes: list[PlanNode]
    """Topologically ordered: every node comes after its inputs."""
    outputs: dict[str, str] = Field(default_factory=dict)
    """Named final products ('web_mp4', 'qc', 'contact_sheet', ...) -> node id."""

    def by_id(self) -> dict[str, PlanNode]:
        return {n.id: n for n in self.nodes}

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=1, sort_keys=True)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def node_id(op: str, params: dict[str, Any], inputs: list[str], backend_version: str) -> str:
    """Content address of a node: sha256 of op + params + input ids + backend version."""
    payload = canonical_json({"op": op, "params": params, "inputs": inputs, "backend": backend_version})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
