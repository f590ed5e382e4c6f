"""Creative grade operators, each defined in the space where it behaves.

Order inside a chain (see chain.py), all after conversion to the working space:
  1. white balance and exposure   scene-linear working RGB (3x3 matrix)
  2. contrast around pivot        ACEScct (log), so it acts like a print-style slope
  3. saturation                   scene-linear working RGB, luminance-weighted
  4. LUT at strength              in `lut_space` (ACEScct by default: stdlib LUTs are
                                  ACEScct-in/ACEScct-out looks), blended with the input

White balance mapping (documented, so users can predict it):
- temperature t in -100..100 moves the target white along the Planckian locus
  by t mired from 6500 K: t=+100 -> 3939 K (warm), t=-100 -> 18570 K (cool);
- tint u in -100..100 moves it off the locus by Duv = -0.0002*u in CIE 1960 uv:
  +100 -> Duv -0.02 (magenta), -100 -> Duv +0.02 (green);
- the image is adapted (von Kries in CAT02 cone space) so that a neutral lit
  by the 6500 K locus white takes the target white's colour, then scaled so a
  neutral keeps its luminance. t=u=0 is the identity.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .colorimetry import luminance_weights, rgb_to_xyz_matrix, von_kries_matrix, xy_to_xyz

REFERENCE_CCT = 6500.0
MIRED_PER_UNIT = 1.0
DUV_PER_UNIT = -0.0002


class GradeError(ValueError):
    """A grade parameter outside its documented range, phrased for the user."""


@dataclass(frozen=True)
class Grade:
    """One shot's creative grade. Defaults are neutral (the identity)."""

    lut: str | Path | None = None
    """A `.cube` path, or a stdlib LUT as `std.NAME` / `NAME`; None for no LUT."""
    strength: float = 1.0
    """LUT blend with the ungraded image, 0-1."""
    exposure: float = 0.0
    """Stops, scene-linear (-16..16)."""
    contrast: float = 1.0
    """Slope in ACEScct around the pivot; 1 neutral (0.1..4)."""
    pivot: float = 0.18
    """Contrast pivot, scene-linear (0.001..16)."""
    saturation: float = 1.0
    """0 black and white, 1 neutral (0..4)."""
    temperature: float = 0.0
    """-100 cool .. 100 warm (mired shift from 6500 K)."""
    tint: float = 0.0
    """-100 green .. 100 magenta."""
    lut_space: str = "ACEScct"
    """Colour space the LUT expects as input and produces as output."""

    def __post_init__(self) -> None:
        checks = (
            ("strength", self.strength, 0.0, 1.0),
            ("exposure", self.exposure, -16.0, 16.0),
            ("contrast", self.contrast, 0.1, 4.0),
            ("pivot", self.pivot, 0.001, 16.0),
            ("saturation", self.saturation, 0.0, 4.0),
            ("temperature", self.temperature, -100.0, 100.0),
            ("tint", self.tint, -100.0, 100.0),
        )
        for name, value, lo, hi in checks:
            if not isinstance(value, int | float) or not math.isfinite(value) or not lo <= value <= hi:
                raise GradeError(f"grade {name} must be a number within {lo:g}..{hi:g}, got {value!r}")

    @property
    def has_lut(self) -> bool:
        return self.lut is not None and self.strength > 0.0

    def params(self) -> dict:
        d = asdict(self)
        d["lut"] = str(self.lut) if self.lut is not None else None
        return d


def planckian_xy(cct: float) -> tuple[float, float]:
    """xy of the Planckian locus, Kim et al. (2002) cubic spline, valid 1667-25000 K."""
    if not 1667.0 <= cct <= 25000.0:
        raise GradeError(f"colour temperature {cct:.0f} K is outside 1667-25000 K")
    t = cct
    if t <= 4000.0:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222.0:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000.0:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


def _xy_to_uv(x: float, y: float) -> tuple[float, float]:
    d = -2.0 * x + 12.0 * y + 3.0
    return 4.0 * x / d, 6.0 * y / d


def _uv_to_xy(u: float, v: float) -> tuple[float, float]:
    d = 2.0 * u - 8.0 * v + 4.0
    return 3.0 * u / d, 2.0 * v / d


def cct_duv_to_xy(cct: float, duv: float) -> tuple[float, float]:
    """xy of a white `duv` away from the Planckian locus at `cct` (positive = above, greenish)."""
    u, v = _xy_to_uv(*planckian_xy(cct))
    step = cct * 1e-4
    u1, v1 = _xy_to_uv(*planckian_xy(cct - step))
    u2, v2 = _xy_to_uv(*planckian_xy(cct + step))
    nu, nv = -(v2 - v1), (u2 - u1)
    norm = math.hypot(nu, nv)
    if nv < 0:
        nu, nv = -nu, -nv
    return _uv_to_xy(u + duv * nu / norm, v + duv * nv / norm)


def white_balance_target(temperature: float, tint: float) -> tuple[float, float]:
    """The target white xy for temperature/tint in -100..100 (see module docstring)."""
    mired = 1e6 / REFERENCE_CCT + MIRED_PER_UNIT * temperature
    return cct_duv_to_xy(1e6 / mired, DUV_PER_UNIT * tint)


def white_balance_matrix(temperature: float, tint: float, primaries: str = "AP1") -> np.ndarray:
    """3x3 matrix on linear RGB of `primaries` that applies the temperature/tint shift."""
    if temperature == 0.0 and tint == 0.0:
        return np.eye(3)
    npm = rgb_to_xyz_matrix(primaries)
    adapt = von_kries_matrix(
        xy_to_xyz(planckian_xy(REFERENCE_CCT)), xy_to_xyz(white_balance_target(temperature, tint))
    )
    m = np.linalg.inv(npm) @ adapt @ npm
    return m / (luminance_weights(primaries) @ m @ np.ones(3))


def saturation_matrix(saturation: float, primaries: str = "AP1") -> np.ndarray:
    """y = L + s (x - L) with L the luminance of x: greys stay put, s=0 gives monochrome."""
    w = luminance_weights(primaries)
    return saturation * np.eye(3) + (1.0 - saturation) * np.outer(np.ones(3), w)


def contrast_matrix(contrast: float, pivot_log: float) -> tuple[np.ndarray, np.ndarray]:
    """(matrix, offset) for y = (x - pivot) * contrast + pivot, applied per channel in log."""
    return contrast * np.eye(3), np.full(3, pivot_log * (1.0 - contrast))
