"""Display encodings, split from the rest of the output transform.

A baked LUT cannot follow a display encoding near black: BT.1886 (x^1/2.4),
gamma 2.6 and PQ have an infinite slope at zero, and the encoders clamp
negative light to zero, a kink no lattice can follow. So `bake.py` bakes the
output transform up to unencoded, unclamped display light, and applies the
encoding separately in a 1D LUT. This module provides both halves: the OCIO
transform to display light, and the encodings as closed-form numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import PyOpenColorIO as ocio

from .spaces import Rendering, config, space, transform

_ENCODING_TYPES = (ocio.ExponentTransform, ocio.ExponentWithLinearTransform, ocio.Lut1DTransform)


@lru_cache(maxsize=16)
def _display_matrix(display_space: str) -> ocio.Transform:
    """The display colour space's XYZ -> RGB matrix, i.e. its transform minus the final encoding."""
    s = space(display_space)
    cfg = config()
    builtin = cfg.getColorSpace(s.ocio_name).getTransform(ocio.COLORSPACE_DIR_FROM_REFERENCE)
    ops = list(cfg.getProcessor(builtin).createGroupTransform())
    if len(ops) < 2 or not isinstance(ops[-1], _ENCODING_TYPES):
        raise RuntimeError(f"unexpected structure of the OCIO display transform for {s.name}: {ops}")
    return ocio.GroupTransform(ops[:-1])


def output_linear_transform(src: str, dst: str, rendering: Rendering) -> ocio.Transform:
    """Like `spaces.transform(src, dst, rendering)` but stopping at linear, unclamped display light.

    For a display `dst` the result is RGB in the display's primaries with 1.0
    at the display's nominal white (100 nits for hdr10's colorimetric scale);
    `encode(dst, result)` then equals `transform(src, dst, rendering)` for
    non-negative light. Non-display destinations return the plain transform.
    """
    s, d = space(src), space(dst)
    if d.kind != "display":
        return transform(s.name, d.name, rendering)
    if s.kind == "display":
        to_reference = ocio.ColorSpaceTransform(src=s.ocio_name, dst="CIE XYZ-D65 - Display-referred")
        return ocio.GroupTransform([to_reference, _display_matrix(d.name)])
    view = d.aces_view if rendering == "aces" else "Un-tone-mapped"
    cfg = config()
    view_transform = cfg.getViewTransform(cfg.getDisplayViewTransformName(d.display, view))
    return ocio.GroupTransform(
        [
            ocio.ColorSpaceTransform(src=s.ocio_name, dst=cfg.getRoleColorSpace("aces_interchange")),
            view_transform.getTransform(ocio.VIEWTRANSFORM_DIR_FROM_REFERENCE),
            _display_matrix(d.name),
        ]
    )


_PQ_M1 = 2610 / 16384
_PQ_M2 = 2523 / 4096 * 128
_PQ_C1 = 3424 / 4096
_PQ_C2 = 2413 / 4096 * 32
_PQ_C3 = 2392 / 4096 * 32


def encode(dst: str, light: np.ndarray) -> np.ndarray:
    """Display light -> code value (0-1) for a display space; negative light encodes to 0.

    rec709/rec2020: BT.1886 inverse EOTF (L^(1/2.4)); srgb: IEC 61966-2-1 piecewise;
    p3d65: L^(1/2.6); hdr10: SMPTE ST 2084 with 1.0 = 100 cd/m².
    """
    y = np.maximum(np.asarray(light, dtype=np.float64), 0.0)
    name = space(dst).name
    if name in ("rec709", "rec2020"):
        return y ** (1.0 / 2.4)
    if name == "p3d65":
        return y ** (1.0 / 2.6)
    if name == "srgb":
        return np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.maximum(y, 0.0031308) ** (1.0 / 2.4) - 0.055)
    if name == "hdr10":
        p = np.minimum(y / 100.0, 1.0) ** _PQ_M1
        return ((_PQ_C1 + _PQ_C2 * p) / (1.0 + _PQ_C3 * p)) ** _PQ_M2
    raise ValueError(f"{dst!r} is not a display space")


# Where each encoding's toe starts: below it, the bake's intermediate continues
# the encoding in a straight line, so the lattice sees no singularity at black.
TOE_LIGHT = {"rec709": 0.03, "rec2020": 0.03, "srgb": 0.03, "p3d65": 0.03, "hdr10": 0.01}


@dataclass(frozen=True)
class Toe:
    """The bake's intermediate code for display `dst` and its decoding.

    intermediate(L) = encode(L) above TOE_LIGHT, the tangent line below (smooth
    through zero, no clamp, so a 3D LUT can interpolate it), shifted down by
    less than one 1D-LUT step so that zero light falls exactly on a node of
    the decoding LUT, where the encoding's singularity is.
    """

    dst: str
    light0: float
    code0: float
    slope: float
    shift: float

    def intermediate(self, light: np.ndarray) -> np.ndarray:
        y = np.asarray(light, dtype=np.float64)
        above = encode(self.dst, np.maximum(y, self.light0 * (1.0 + 1e-12)))
        return np.where(y >= self.light0, above, self.code0 + self.slope * (y - self.light0)) + self.shift

    def decode(self, code: np.ndarray) -> np.ndarray:
        c = np.asarray(code, dtype=np.float64) - self.shift
        below = encode(self.dst, self.light0 + (np.minimum(c, self.code0) - self.code0) / self.slope)
        return np.where(c >= self.code0, c, below)


def encode_slope(dst: str, light: float) -> float:
    """d(code)/d(light) of `encode` at `light` > 0 (the upper branch for sRGB)."""
    name = space(dst).name
    y = float(light)
    if name in ("rec709", "rec2020"):
        return y ** (1.0 / 2.4 - 1.0) / 2.4
    if name == "p3d65":
        return y ** (1.0 / 2.6 - 1.0) / 2.6
    if name == "srgb":
        return 1.055 / 2.4 * y ** (1.0 / 2.4 - 1.0)
    if name == "hdr10":
        p = (y / 100.0) ** _PQ_M1
        u = (_PQ_C1 + _PQ_C2 * p) / (1.0 + _PQ_C3 * p)
        du_dp = (_PQ_C2 - _PQ_C3 * _PQ_C1) / (1.0 + _PQ_C3 * p) ** 2
        dp_dy = _PQ_M1 * (y / 100.0) ** (_PQ_M1 - 1.0) / 100.0
        return _PQ_M2 * u ** (_PQ_M2 - 1.0) * du_dp * dp_dy
    raise ValueError(f"{dst!r} is not a display space")


def toe(dst: str, nodes: int) -> Toe:
    """The toe for display `dst` whose decoding LUT has `nodes` entries over [0, 1]."""
    name = space(dst).name
    y0 = TOE_LIGHT[name]
    e0 = float(encode(name, np.array(y0 * (1.0 + 1e-12))))
    slope = encode_slope(name, y0)
    at_zero = e0 - slope * y0
    step = 1.0 / (nodes - 1)
    return Toe(name, y0, e0, slope, np.floor(at_zero / step) * step - at_zero)
