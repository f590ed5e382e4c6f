"""Display encodings, split from the rest of the output transform.

A baked LUT cannot follow a display encoding near black: BT.1886 (x^1/2.4),
gamma 2.6 and PQ have an infinite slope at zero, and the encoders clamp
negative light to zero, a kink no lattice can follow. So `bake.py` bakes the
output transform up to unencoded, unclamped display light, and applies the
encoding separately in a 1D LUT. This module provides both halves: the OCIO
transform to display light, and the encodings as closed-form numpy.
"""

from __future__ import annotations

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


# Where each encoding's linear toe starts: below it, the bake's intermediate
# continues the encoding in a straight line, so the lattice sees no singularity.
TOE_LIGHT = {"rec709": 0.0031308, "rec2020": 0.0031308, "srgb": 0.0031308, "p3d65": 0.0031308, "hdr10": 1e-4}


def toe_intermediate(dst: str, light: np.ndarray) -> np.ndarray:
    """The bake's intermediate code: `encode(dst, L)` above the toe, its tangent line below.

    Smooth through zero and below (no clamp), so a 3D LUT can interpolate it;
    `toe_decode` maps it to the final code.
    """
    name = space(dst).name
    y0 = TOE_LIGHT[name]
    e0 = float(encode(name, np.array(y0)))
    slope = float((encode(name, np.array(y0 * 1.0001)) - encode(name, np.array(y0 * 0.9999))) / (y0 * 0.0002))
    y = np.asarray(light, dtype=np.float64)
    return np.where(y >= y0, encode(name, np.maximum(y, y0)), e0 + slope * (y - y0))


def toe_decode(dst: str, code: np.ndarray) -> np.ndarray:
    """Intermediate code -> final code: identity above the toe, the true encoding of the line's light below."""
    name = space(dst).name
    y0 = TOE_LIGHT[name]
    e0 = float(encode(name, np.array(y0)))
    slope = float((encode(name, np.array(y0 * 1.0001)) - encode(name, np.array(y0 * 0.9999))) / (y0 * 0.0002))
    c = np.asarray(code, dtype=np.float64)
    return np.where(c >= e0, c, encode(name, y0 + (np.minimum(c, e0) - e0) / slope))
