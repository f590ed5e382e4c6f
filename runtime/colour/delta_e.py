"""CIEDE2000 colour difference (CIE 142-2001), vectorised.

Implemented here so the runtime's QC does not need colour-science; the
tests check it against colour-science and Sharma, Wu & Dalal (2005).
"""

from __future__ import annotations

import numpy as np


def delta_e_2000(
    lab1: np.ndarray, lab2: np.ndarray, k_l: float = 1.0, k_c: float = 1.0, k_h: float = 1.0
) -> np.ndarray:
    """ΔE00 between two arrays of L*a*b* triples (last axis), broadcasting."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_mean7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(c_mean7 / (c_mean7 + 25.0**7)))
    a1p = (1.0 + g) * a1
    a2p = (1.0 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    h1p = np.where((a1p == 0) & (b1 == 0), 0.0, np.degrees(np.arctan2(b1, a1p)) % 360.0)
    h2p = np.where((a2p == 0) & (b2 == 0), 0.0, np.degrees(np.arctan2(b2, a2p)) % 360.0)

    dl = l2 - l1
    dc = c2p - c1p
    chroma_product = c1p * c2p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(chroma_product == 0, 0.0, dh)
    dh_big = 2.0 * np.sqrt(chroma_product) * np.sin(np.radians(dh / 2.0))

    l_mean = (l1 + l2) / 2.0
    c_mean = (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_mean = np.where(
        chroma_product == 0,
        h_sum,
        np.where(
            np.abs(h1p - h2p) <= 180.0,
            h_sum / 2.0,
            np.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0),
        ),
    )
    t = (
        1.0
        - 0.17 * np.cos(np.radians(h_mean - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * h_mean))
        + 0.32 * np.cos(np.radians(3.0 * h_mean + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * h_mean - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((h_mean - 275.0) / 25.0) ** 2))
    c_mean_7 = c_mean**7
    r_c = 2.0 * np.sqrt(c_mean_7 / (c_mean_7 + 25.0**7))
    l_term = (l_mean - 50.0) ** 2
    s_l = 1.0 + 0.015 * l_term / np.sqrt(20.0 + l_term)
    s_c = 1.0 + 0.045 * c_mean
    s_h = 1.0 + 0.015 * c_mean * t
    r_t = -np.sin(np.radians(2.0 * d_theta)) * r_c

    ql = dl / (k_l * s_l)
    qc = dc / (k_c * s_c)
    qh = dh_big / (k_h * s_h)
    return np.sqrt(ql**2 + qc**2 + qh**2 + r_t * qc * qh)
