"""Shot matching: bring each shot of a scene to its reference shot before the creative grade.

Method (Reinhard et al. 2001, made robust): in CIELAB relative to the
working space's white (scene-linear 1.0 = L* 100), each channel is shifted
and scaled so the shot's trimmed mean and trimmed standard deviation
(TRIM of each tail dropped, so a lamp or a black border does not steer it)
become the reference's. Scales are clamped to [1/MAX_SCALE, MAX_SCALE] so a
flat shot is not blown up. The correction is a per-channel affine map in
L*a*b* (parameters), applied in the scene-linear working space; `to_cube`
also writes it as a LUT.

QC: the ΔE2000 (CIE 142-2001) between the shot's mean colour and the
reference's, before and after, where a shot's mean colour is the mean of its
pixels' L*a*b* values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .colorimetry import lab_to_xyz, rgb_to_xyz_matrix, white_xyz, xyz_to_lab
from .cube import Cube, lattice_inputs, write_cube
from .delta_e import delta_e_2000
from .spaces import convert, space

TRIM = 0.02
MAX_SCALE = 2.0
MAX_SAMPLES = 200_000


def _linear_working(working: str) -> str:
    s = space(working)
    if s.kind == "display":
        raise ValueError(f"shot matching needs a scene-referred working space, not {s.name!r}")
    return "ACEScg" if s.kind == "log" else s.name


def working_to_lab(image: np.ndarray, working: str = "ACEScg") -> np.ndarray:
    """Scene-linear working RGB (..., 3) -> CIELAB relative to the working white (float64)."""
    prim = space(_linear_working(working)).primaries
    xyz = np.asarray(image, dtype=np.float64) @ rgb_to_xyz_matrix(prim).T
    return xyz_to_lab(xyz, white_xyz(prim))


def lab_to_working(lab: np.ndarray, working: str = "ACEScg") -> np.ndarray:
    prim = space(_linear_working(working)).primaries
    xyz = lab_to_xyz(lab, white_xyz(prim))
    return xyz @ np.linalg.inv(rgb_to_xyz_matrix(prim)).T


def _samples(frames: np.ndarray) -> np.ndarray:
    """Up to MAX_SAMPLES pixels (N, 3), taken with an even stride so results are deterministic."""
    flat = np.asarray(frames).reshape(-1, 3)
    step = max(1, flat.shape[0] // MAX_SAMPLES)
    return flat[::step]


def trimmed_stats(lab: np.ndarray, trim: float = TRIM) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of the values between the trim and 1-trim quantiles."""
    lo, hi = np.quantile(lab, [trim, 1.0 - trim], axis=0)
    means, stds = np.empty(3), np.empty(3)
    for c in range(3):
        v = lab[:, c]
        kept = v[(v >= lo[c]) & (v <= hi[c])]
        means[c] = kept.mean()
        stds[c] = kept.std()
    return means, stds


@dataclass(frozen=True)
class LabTransfer:
    """lab' = (lab - source_mean) * scale + target_mean, per L*, a*, b* channel."""

    working: str
    source_mean: tuple[float, float, float]
    target_mean: tuple[float, float, float]
    scale: tuple[float, float, float]

    def apply_lab(self, lab: np.ndarray) -> np.ndarray:
        return (lab - np.asarray(self.source_mean)) * np.asarray(self.scale) + np.asarray(self.target_mean)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Correct a scene-linear working-space image (..., 3); returns float32."""
        lab = working_to_lab(image, self.working)
        return lab_to_working(self.apply_lab(lab), self.working).astype(np.float32)

    def params(self) -> dict:
        return {
            "method": "lab_mean_std",
            "working": self.working,
            "source_mean": list(self.source_mean),
            "target_mean": list(self.target_mean),
            "scale": list(self.scale),
        }

    def to_cube(self, path: str | os.PathLike[str], size: int = 33) -> Path:
        """Write the correction as an ACEScct -> ACEScct `.cube` (the working space in log)."""
        grid = lattice_inputs(size).reshape(-1, 3).astype(np.float32)
        lin = convert(grid, "ACEScct", self.working)
        out = convert(self.apply(lin), self.working, "ACEScct").astype(np.float64)
        comments = ("filmc shot match: ACEScct in, ACEScct out", f"params: {self.params()}")
        return write_cube(
            path, Cube(out.reshape(size, size, size, 3), title="filmc shot match", comments=comments)
        )


@dataclass(frozen=True)
class LabStats:
    """What matching needs of a picture: its trimmed mean and spread in L*a*b* and its plain mean colour.
    A scene's reference serves every shot matched to it, so callers may keep these instead of its pixels."""

    trimmed_mean: np.ndarray
    trimmed_std: np.ndarray
    mean: np.ndarray


def lab_stats(frames: np.ndarray, working: str = "ACEScg", trim: float = TRIM) -> LabStats:
    """`frames` (scene-linear working RGB) summarised for match_shot."""
    lab = working_to_lab(_samples(frames), _linear_working(working))
    trimmed_mean, trimmed_std = trimmed_stats(lab, trim)
    return LabStats(trimmed_mean, trimmed_std, lab.mean(axis=0))


@dataclass(frozen=True)
class ShotMatch:
    """One shot's correction to its scene's reference, with QC numbers."""

    shot: str
    correction: LabTransfer
    delta_e_before: float
    """ΔE2000 between the shot's mean colour and the reference's, uncorrected."""
    delta_e_after: float
    """The same after the correction."""


def mean_lab(frames: np.ndarray, working: str = "ACEScg") -> np.ndarray:
    """The shot's mean colour: the mean of its (sampled) pixels' L*a*b*."""
    return working_to_lab(_samples(frames), working).mean(axis=0)


def match_shot(
    frames: np.ndarray,
    reference: np.ndarray | LabStats,
    *,
    working: str = "ACEScg",
    shot: str = "",
    trim: float = TRIM,
    max_scale: float = MAX_SCALE,
) -> ShotMatch:
    """Match `frames` (H x W x 3 or F x H x W x 3, scene-linear working RGB) to `reference` (the same kind of
    picture, or its lab_stats with the same working space and trim)."""
    w = _linear_working(working)
    src_lab = working_to_lab(_samples(frames), w)
    ref = reference if isinstance(reference, LabStats) else lab_stats(reference, w, trim)
    src_mean, src_std = trimmed_stats(src_lab, trim)
    ref_mean, ref_std = ref.trimmed_mean, ref.trimmed_std
    scale = np.where(src_std > 1e-6, ref_std / np.maximum(src_std, 1e-6), 1.0)
    scale = np.clip(scale, 1.0 / max_scale, max_scale)
    correction = LabTransfer(
        w,
        tuple(float(v) for v in src_mean),
        tuple(float(v) for v in ref_mean),
        tuple(float(v) for v in scale),
    )
    ref_colour = ref.mean
    before = float(delta_e_2000(src_lab.mean(axis=0), ref_colour))
    corrected = correction.apply(lab_to_working(src_lab, w))
    after = float(delta_e_2000(working_to_lab(corrected, w).mean(axis=0), ref_colour))
    return ShotMatch(shot, correction, before, after)


def match_scene(
    shots: Mapping[str, np.ndarray], reference: str, *, working: str = "ACEScg"
) -> dict[str, ShotMatch]:
    """Match every shot of a scene to the shot named `reference` (which gets the identity)."""
    if reference not in shots:
        raise KeyError(f"reference shot {reference!r} is not among the scene's shots: {', '.join(shots)}")
    ref = lab_stats(shots[reference], working)
    return {name: match_shot(frames, ref, working=working, shot=name) for name, frames in shots.items()}
