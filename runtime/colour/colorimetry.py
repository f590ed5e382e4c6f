"""Closed-form colorimetry that the grade maths needs outside OCIO.

OCIO does the conversions; these formulas exist because the grade
operators (saturation weights, white balance, contrast pivot, shot
matching) need matrices and curves as numbers, and the stdlib LUT
generator must not depend on a config to stay byte-reproducible.
Every constant here comes from a published standard (cited inline).
"""

from __future__ import annotations

import numpy as np

# xy chromaticities of R, G, B and white.
# AP0/AP1: SMPTE ST 2065-1 / Academy S-2014-004; Rec.709: ITU-R BT.709-6;
# Rec.2020: ITU-R BT.2020-2; P3-D65: SMPTE EG 432-1.
ACES_WHITE = (0.32168, 0.33767)
D65_WHITE = (0.3127, 0.3290)
PRIMARIES: dict[str, tuple[tuple[float, float], ...]] = {
    "AP0": ((0.7347, 0.2653), (0.0, 1.0), (0.0001, -0.0770), ACES_WHITE),
    "AP1": ((0.713, 0.293), (0.165, 0.830), (0.128, 0.044), ACES_WHITE),
    "rec709": ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), D65_WHITE),
    "rec2020": ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), D65_WHITE),
    "p3d65": ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), D65_WHITE),
}

# CAT02 cone-response matrix (CIECAM02, CIE 159:2004).
CAT02 = np.array(
    [[0.7328, 0.4296, -0.1624], [-0.7036, 1.6975, 0.0061], [0.0030, 0.0136, 0.9834]], dtype=np.float64
)

# ACEScct (Academy S-2016-001) curve constants.
_CCT_A = 10.5402377416545
_CCT_B = 0.0729055341958355
_CCT_X_BREAK = 0.0078125
_CCT_Y_BREAK = 0.155251141552511
_CCT_MAX = (np.log2(65504.0) + 9.72) / 17.52


def xy_to_xyz(xy: tuple[float, float] | np.ndarray, luminance: float = 1.0) -> np.ndarray:
    x, y = float(xy[0]), float(xy[1])
    return np.array([x / y * luminance, luminance, (1.0 - x - y) / y * luminance])


def rgb_to_xyz_matrix(primaries: str) -> np.ndarray:
    """Normalised primary matrix (SMPTE RP 177): linear RGB -> XYZ with Y(white) = 1."""
    r, g, b, w = PRIMARIES[primaries]
    chroma = np.array([[p[0], p[1], 1.0 - p[0] - p[1]] for p in (r, g, b)]).T / np.array([r[1], g[1], b[1]])
    scale = np.linalg.solve(chroma, xy_to_xyz(w))
    return chroma * scale


def luminance_weights(primaries: str) -> np.ndarray:
    """The Y row of the RGB->XYZ matrix: how much each linear channel adds to luminance."""
    return rgb_to_xyz_matrix(primaries)[1]


def white_xyz(primaries: str) -> np.ndarray:
    return xy_to_xyz(PRIMARIES[primaries][3])


def von_kries_matrix(src_white_xyz: np.ndarray, dst_white_xyz: np.ndarray) -> np.ndarray:
    """XYZ->XYZ chromatic adaptation (CAT02 cone space) taking src white to dst white."""
    lms_src = CAT02 @ src_white_xyz
    lms_dst = CAT02 @ dst_white_xyz
    return np.linalg.inv(CAT02) @ np.diag(lms_dst / lms_src) @ CAT02


def lin_to_acescct(x: np.ndarray) -> np.ndarray:
    """Scene-linear AP1 -> ACEScct (S-2016-001), elementwise, float64."""
    x = np.asarray(x, dtype=np.float64)
    safe = np.maximum(x, _CCT_X_BREAK)
    return np.where(x <= _CCT_X_BREAK, _CCT_A * x + _CCT_B, (np.log2(safe) + 9.72) / 17.52)


def acescct_to_lin(y: np.ndarray) -> np.ndarray:
    """ACEScct -> scene-linear AP1 (S-2016-001), elementwise, float64."""
    y = np.asarray(y, dtype=np.float64)
    return np.where(
        y <= _CCT_Y_BREAK,
        (y - _CCT_B) / _CCT_A,
        np.where(y < _CCT_MAX, 2.0 ** (np.minimum(y, _CCT_MAX) * 17.52 - 9.72), 65504.0),
    )


_LAB_EPSILON = 216.0 / 24389.0
_LAB_KAPPA = 24389.0 / 27.0


def xyz_to_lab(xyz: np.ndarray, white: np.ndarray) -> np.ndarray:
    """CIE 1976 L*a*b* (CIE 15:2004) relative to `white` (XYZ with Y=1)."""
    t = np.asarray(xyz, dtype=np.float64) / white
    f = np.where(t > _LAB_EPSILON, np.cbrt(t), (_LAB_KAPPA * t + 16.0) / 116.0)
    return np.stack(
        [116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1
    )


def lab_to_xyz(lab: np.ndarray, white: np.ndarray) -> np.ndarray:
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0

    def inverse(f: np.ndarray) -> np.ndarray:
        cubed = f**3
        return np.where(cubed > _LAB_EPSILON, cubed, (116.0 * f - 16.0) / _LAB_KAPPA)

    y = np.where(lab[..., 0] > _LAB_KAPPA * _LAB_EPSILON, fy**3, lab[..., 0] / _LAB_KAPPA)
    return np.stack([inverse(fx), y, inverse(fz)], axis=-1) * white
