"""The `grade` op: the shot's grade chain baked into one 33^3 `.cube` for ffmpeg's lut3d.

Preview pixels (painted stills, conformed footage) are display code values in
the film's output space, so the chain is display -> working space -> grade
(exposure, white balance, contrast, saturation, LUT at strength; see
runtime/colour/chain.py) -> display, converted colorimetrically: the ACES view's
inverse is not exact (a neutral round trip moves saturated colours by up to 0.56),
while the colorimetric one is, so an almost-neutral grade looks almost neutral.
A neutral grade is the exact
identity (a 2^3 cube, which assemble leaves out of the graph). The bake's error
against the exact chain is measured on the colour library's test chart and kept
in grade.json, with everything assemble needs to know about the shot's source.
"""

from __future__ import annotations

import json
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from filmc.compiler.plan import resolve_path
from filmc.runtime.backend import NodeError, NodeOutputs
from filmc.runtime.colour.bake import Bake, measure_bake
from filmc.runtime.colour.chain import build_chain
from filmc.runtime.colour.cube import (
    Cube,
    LutError,
    atomic_write_text,
    identity_table,
    lattice_inputs,
    write_cube,
)
from filmc.runtime.colour.ffmpeg_filters import lut3d_filter
from filmc.runtime.colour.grade import Grade, GradeError
from filmc.runtime.colour.spaces import ColourSpaceError

from .tools import ref

CUBE_SIZE = 33
NEUTRAL = {"exposure": 0.0, "contrast": 1.0, "saturation": 1.0, "temperature": 0.0, "tint": 0.0}


def is_neutral(grade: dict[str, Any]) -> bool:
    """No LUT at any strength and every operator at its neutral value."""
    if grade.get("lut") and float(grade.get("strength") or 0.0) > 0.0:
        return False
    return all(float(grade.get(k, v)) == v for k, v in NEUTRAL.items())


def shot_source(source: NodeOutputs) -> dict[str, Any]:
    """What assemble needs to draw the shot: its layers and move, or its conformed clip."""
    if source.op == "animate":
        motion = json.loads(source.path("motion.json").read_text(encoding="utf-8"))
        return {"kind": "layers", **motion}
    if source.op == "conform":
        return {"kind": "clip", "clip": ref(source, source.single().name)}
    raise NodeError(f"grade cannot take a {source.op} node as its source")


def grade_shot(params: dict[str, Any], source: NodeOutputs, film: str, workdir: Path) -> None:
    """Write grade.cube and grade.json into `workdir`."""
    g = params["grade"]
    out = str(params.get("output_space") or "rec709")
    info: dict[str, Any] = {"shot": params["shot"], "frames": params["frames"], "fps": params["fps"],
                            "resolution": params["resolution"], "grade": g, "output_space": out,
                            "working_space": params.get("working_space"), "cube": "grade.cube",
                            "source": shot_source(source)}
    cube_path = workdir / "grade.cube"
    if is_neutral(g):
        write_cube(cube_path, Cube(identity_table(2), title="filmc identity grade"))
        info.update(identity=True, size=2, accuracy=None)
    else:
        lut = resolve_path(g["lut"]["path"], film) if g.get("lut") else None
        if lut is not None and not lut.is_file():
            raise NodeError(f"grade {g.get('name') or ''}: LUT file not found: {lut}")
        key = json.dumps({"grade": g, "lut": str(lut), "lut_sha": (g.get("lut") or {}).get("sha256"), "out": out,
                          "working": params.get("working_space")}, sort_keys=True)
        try:
            text, accuracy = _bake(key)
        except (GradeError, LutError, ColourSpaceError) as exc:
            raise NodeError(f"grade {g.get('name') or ''} of shot {params['shot']}: {exc}") from None
        atomic_write_text(cube_path, text)
        info.update(identity=False, size=CUBE_SIZE, accuracy=accuracy)
    atomic_write_text(workdir / "grade.json", json.dumps(info, indent=1, sort_keys=True))


@lru_cache(maxsize=32)
def _bake(key: str) -> tuple[str, dict[str, Any]]:
    """The cube text and its measured accuracy for one grade; shots sharing a grade (a style's)
    share the work within a worker process."""
    spec = json.loads(key)
    g, out = spec["grade"], spec["out"]
    lut = Path(spec["lut"]) if g.get("lut") else None
    grade = Grade(lut=lut, strength=float(g.get("strength") or 0.0) if lut else 1.0,
                  exposure=float(g.get("exposure", 0.0)), contrast=float(g.get("contrast", 1.0)),
                  pivot=float(g.get("pivot", 0.18)), saturation=float(g.get("saturation", 1.0)),
                  temperature=float(g.get("temperature", 0.0)), tint=float(g.get("tint", 0.0)))
    chain = build_chain(grade, out, out, working=str(spec.get("working") or "ACEScg"), rendering="colorimetric")
    values = chain.apply(lattice_inputs(CUBE_SIZE).reshape(-1, 3).astype(np.float32))
    table = np.clip(values.astype(np.float64), 0.0, 1.0).reshape(CUBE_SIZE, CUBE_SIZE, CUBE_SIZE, 3)
    cube = Cube(table, title=f"filmc grade {g.get('name') or ''}".strip(),
                comments=tuple(f"step: {s}" for s in chain.describe()))
    with tempfile.TemporaryDirectory() as tmp:
        path = write_cube(Path(tmp) / "grade.cube", cube)
        report = measure_bake(chain, Bake(path, None, None, lut3d_filter(path)), engine="numpy")
        text = path.read_text(encoding="utf-8")
    accuracy = {"max_10bit_codes": round(report.max_codes, 3), "p99_10bit_codes": round(report.p99_codes, 3),
                "in_gamut": report.in_gamut, "chart": report.total}
    return text, accuracy
