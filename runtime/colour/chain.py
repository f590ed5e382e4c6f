"""A shot's exact colour chain: input conversion -> shot match -> grade -> output transform.

The chain is the reference ("exact OCIO path"): every step OCIO can express
is fused into one OCIO group, and only the shot-match correction and a LUT
blended at partial strength run in numpy between groups. `bake.py` samples
this chain into a LUT for fast application in ffmpeg.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import PyOpenColorIO as ocio

from .colorimetry import lin_to_acescct
from .cube import file_transform
from .display import output_linear_transform
from .grade import Grade, GradeError, contrast_matrix, saturation_matrix, white_balance_matrix
from .library import resolve_lut
from .spaces import CONFIG_URI, Rendering, apply_processor, cpu_processor, space, transform


class WorkingCorrection(Protocol):
    """A correction applied in the scene-linear working space before the grade (e.g. shot matching)."""

    def apply(self, image: np.ndarray) -> np.ndarray: ...

    def params(self) -> dict: ...


def _matrix_transform(m: np.ndarray, offset: np.ndarray | None = None) -> ocio.MatrixTransform:
    m44 = np.eye(4)
    m44[:3, :3] = m
    off = np.zeros(4)
    if offset is not None:
        off[:3] = offset
    return ocio.MatrixTransform(matrix=[float(v) for v in m44.ravel()], offset=[float(v) for v in off])


@dataclass(frozen=True)
class _Step:
    label: str
    run: Callable[[np.ndarray], np.ndarray]


class ColourChain:
    """Exact colour pipeline for one shot; `apply` takes and returns float32 (..., 3) images."""

    def __init__(
        self,
        src: str,
        dst: str,
        grade: Grade | None = None,
        *,
        working: str = "ACEScg",
        rendering: Rendering = "aces",
        match: WorkingCorrection | None = None,
        base_dir: str | Path | None = None,
    ) -> None:
        self.src = space(src).name
        self.dst = space(dst).name
        self.grade = grade or Grade()
        self.rendering = rendering
        self.match = match
        w = space(working)
        if w.kind == "display":
            raise GradeError(f"working space must be scene-referred, not the display space {w.name!r}")
        self.working = w.name
        # Grade operators run on the linear counterpart of a log working space.
        self.linear = "ACEScg" if w.kind == "log" else w.name
        self.primaries = space(self.linear).primaries
        self.lut_path = resolve_lut(self.grade.lut, base_dir) if self.grade.lut is not None else None
        self._steps = self._build(output_linear=False)
        self._linear_steps: list[_Step] | None = None

    # -- construction -------------------------------------------------------

    def _grade_transforms(self) -> list[ocio.Transform]:
        g = self.grade
        out: list[ocio.Transform] = []
        gain = (2.0**g.exposure) * white_balance_matrix(g.temperature, g.tint, self.primaries)
        if not np.allclose(gain, np.eye(3), atol=0, rtol=0):
            out.append(_matrix_transform(gain))
        if g.contrast != 1.0:
            m, off = contrast_matrix(g.contrast, float(lin_to_acescct(g.pivot)))
            to_log = transform(self.linear, "ACEScct")
            out += [to_log, _matrix_transform(m, off), transform("ACEScct", self.linear)]
        if g.saturation != 1.0:
            out.append(_matrix_transform(saturation_matrix(g.saturation, self.primaries)))
        return out

    def _build(self, output_linear: bool) -> list[_Step]:
        steps: list[_Step] = []
        pending: list[ocio.Transform] = [transform(self.src, self.linear, self.rendering)]
        labels: list[str] = [f"{self.src} -> {self.linear} ({self.rendering})"]

        def flush() -> None:
            if pending:
                cpu = cpu_processor(ocio.GroupTransform(list(pending)))
                steps.append(_Step(" + ".join(labels), lambda img, cpu=cpu: apply_processor(cpu, img)))
                pending.clear()
                labels.clear()

        if self.match is not None:
            flush()
            steps.append(_Step("shot match", self.match.apply))
        grade_ops = self._grade_transforms()
        if grade_ops:
            pending += grade_ops
            labels.append("exposure/white balance/contrast/saturation")
        g = self.grade
        if self.lut_path is not None and g.strength > 0.0:
            pending.append(transform(self.linear, g.lut_space, self.rendering))
            labels.append(f"{self.linear} -> {g.lut_space}")
            lut = file_transform(self.lut_path)
            if g.strength == 1.0:
                pending.append(lut)
                labels.append(f"LUT {self.lut_path.name}")
            else:
                flush()
                cpu = cpu_processor(lut)
                s = np.float32(g.strength)
                steps.append(
                    _Step(
                        f"LUT {self.lut_path.name} at {g.strength:.0%}",
                        lambda img, cpu=cpu, s=s: img + s * (apply_processor(cpu, img) - img),
                    )
                )
            pending.append(transform(g.lut_space, self.linear, self.rendering))
            labels.append(f"{g.lut_space} -> {self.linear}")
        if output_linear:
            pending.append(output_linear_transform(self.linear, self.dst, self.rendering))
            labels.append(f"{self.linear} -> {self.dst} light, unencoded ({self.rendering})")
        else:
            pending.append(transform(self.linear, self.dst, self.rendering))
            labels.append(f"{self.linear} -> {self.dst} ({self.rendering})")
        flush()
        return steps

    # -- use ------------------------------------------------------------------

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Run the exact chain on an image in the source encoding; returns float32 in `dst`."""
        out = np.asarray(image, dtype=np.float32)
        for step in self._steps:
            out = step.run(out)
        return out

    def apply_output_linear(self, image: np.ndarray) -> np.ndarray:
        """The chain up to unencoded, unclamped display light (see display.py); for baking."""
        if self._linear_steps is None:
            self._linear_steps = self._build(output_linear=True)
        out = np.asarray(image, dtype=np.float32)
        for step in self._linear_steps:
            out = step.run(out)
        return out

    def describe(self) -> list[str]:
        """The steps, in order, for logs and reports."""
        return [s.label for s in self._steps]

    def params(self) -> dict:
        lut_hash = hashlib.sha256(self.lut_path.read_bytes()).hexdigest() if self.lut_path else None
        return {
            "config": CONFIG_URI,
            "ocio": ocio.__version__,
            "src": self.src,
            "dst": self.dst,
            "working": self.working,
            "rendering": self.rendering,
            "grade": self.grade.params() | {"lut": lut_hash},
            "match": self.match.params() if self.match is not None else None,
        }

    def signature(self) -> str:
        """Content hash of everything that determines the chain's pixels (for caching bakes)."""
        blob = json.dumps(self.params(), sort_keys=True, default=float).encode()
        return hashlib.sha256(blob).hexdigest()


def build_chain(
    grade: Grade | None,
    src: str,
    dst: str,
    *,
    working: str = "ACEScg",
    rendering: Rendering = "aces",
    match: WorkingCorrection | None = None,
    base_dir: str | Path | None = None,
) -> ColourChain:
    """The exact chain for a shot: `src` media -> working -> grade -> `dst` output."""
    return ColourChain(src, dst, grade, working=working, rendering=rendering, match=match, base_dir=base_dir)
