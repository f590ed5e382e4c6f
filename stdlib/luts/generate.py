"""Regenerate filmc's standard LUT library, byte for byte, from the colour maths below.

    python stdlib/luts/generate.py            # rewrite stdlib/luts/*.cube and luts.json
    python stdlib/luts/generate.py --out DIR  # write them elsewhere (the tests compare bytes)

Every LUT is an ACES look: ACEScct in, ACEScct out, SIZE^3 lattice over
[0, 1] (scene-linear -0.0069 to 222.9). A look is a list of operators:
in scene-linear AP1 (`lin`) or in ACEScct (`log`), each documented where it is
defined. The maths is float64 numpy with fixed constants, and values are
written rounded to DECIMALS places, so reruns reproduce the files exactly.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from filmc.runtime.colour.colorimetry import (
    acescct_to_lin,
    lin_to_acescct,
    luminance_weights,
    rgb_to_xyz_matrix,
)
from filmc.runtime.colour.cube import Cube, atomic_write_text, format_cube, lattice_inputs
from filmc.runtime.colour.grade import white_balance_matrix

SIZE = 33
DECIMALS = 4
IDENTITY_DECIMALS = 5
HERE = Path(__file__).resolve().parent
LUMA = luminance_weights("AP1")
GREY = float(lin_to_acescct(0.18))
"""ACEScct code of scene-linear 18% grey (0.4136), the pivot of log-space operators."""

Op = Callable[[np.ndarray], np.ndarray]


# ---- operators on scene-linear AP1 (arrays ... x 3) -------------------------


def lin(fn: Callable[[np.ndarray], np.ndarray]) -> Op:
    """Lift a scene-linear operator to act on ACEScct values."""
    return lambda cct: lin_to_acescct(fn(acescct_to_lin(cct)))


def exposure(stops: float) -> Op:
    """Multiply scene light by 2^stops."""
    return lin(lambda x: x * 2.0**stops)


def white_balance(temperature: float, tint: float = 0.0) -> Op:
    """filmc's temperature/tint (runtime/colour/grade.py): mired shift from 6500 K, Duv tint, CAT02."""
    m = white_balance_matrix(temperature, tint, "AP1")
    return lin(lambda x: x @ m.T)


def gains(r: float, g: float, b: float) -> Op:
    """Per-channel gains, normalised so a neutral keeps its luminance."""
    k = np.array([r, g, b]) / (LUMA @ np.array([r, g, b]))
    return lin(lambda x: x * k)


def saturation(s: float) -> Op:
    """Luminance-weighted saturation: y = L + s (x - L), L from the AP1 luminance weights."""
    return lin(lambda x: (x @ LUMA)[..., None] + s * (x - (x @ LUMA)[..., None]))


def mono(weights: tuple[float, float, float]) -> Op:
    """Black and white through a channel mix (normalised to sum 1), e.g. a red filter on panchromatic film."""
    w = np.array(weights) / sum(weights)
    return lin(lambda x: np.repeat((x @ w)[..., None], 3, axis=-1))


def tone(colour_srgb: tuple[float, float, float], amount: float) -> Op:
    """Tint a (usually monochrome) image: blend towards luminance x the colour's AP1 chroma (Y = 1)."""
    srgb = np.array(colour_srgb) / 255.0
    linear_709 = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    ap1 = np.linalg.solve(rgb_to_xyz_matrix("AP1"), rgb_to_xyz_matrix("rec709") @ linear_709)
    chroma = ap1 / (LUMA @ ap1)
    return lin(lambda x: (1 - amount) * x + amount * (x @ LUMA)[..., None] * chroma)


def split_tone(
    shadows: tuple[float, float, float], highlights: tuple[float, float, float], balance: float = GREY
) -> Op:
    """Gains blended from `shadows` to `highlights` by a smoothstep on log luminance around `balance`.

    Each gain triple is normalised to keep luminance; the blend runs over ±0.2
    ACEScct (about ±3.5 stops) around `balance`.
    """
    gs = np.array(shadows) / (LUMA @ np.array(shadows))
    gh = np.array(highlights) / (LUMA @ np.array(highlights))

    def op(x: np.ndarray) -> np.ndarray:
        t = np.clip((lin_to_acescct(np.maximum(x @ LUMA, 0.0)) - balance + 0.2) / 0.4, 0.0, 1.0)
        w = (t * t * (3 - 2 * t))[..., None]
        return x * ((1 - w) * gs + w * gh)

    return lin(op)


def flare(amount: float) -> Op:
    """Add `amount` x 18% grey of uniform light: lifts blacks (a faded print), barely moves highlights."""
    return lin(lambda x: x + amount * 0.18)


def crush(amount: float) -> Op:
    """Subtract light, rolling off smoothly at zero: y = x - a + a * exp(-x / a) (0 stays 0)."""
    a = amount * 0.18
    return lin(lambda x: np.where(x > 0, x - a + a * np.exp(-np.maximum(x, 0) / a), x))


# ---- operators on ACEScct --------------------------------------------------


def contrast(c: float, pivot: float = GREY) -> Op:
    """Slope c around the pivot in log: y = p + c (x - p) (the grade's contrast operator)."""
    return lambda x: pivot + c * (x - pivot)


def s_curve(c: float, reach: float, pivot: float = GREY) -> Op:
    """Film-like soft contrast: y = p + r tanh(c (x - p) / r).

    Slope c at the pivot; shadows and highlights roll off towards p ± r
    (ACEScct units), like a characteristic curve's toe and shoulder.
    """
    return lambda x: pivot + reach * np.tanh(c * (x - pivot) / reach)


def log_saturation(s: float) -> Op:
    """Saturation in log: y = m + s (x - m), m the luminance-weighted mean of the ACEScct channels.

    Used to add colour: unlike linear saturation above 1, it rarely pushes a
    channel below zero light, so the look stays smooth near the gamut edge.
    """

    def op(x: np.ndarray) -> np.ndarray:
        m = (x @ LUMA)[..., None]
        return m + s * (x - m)

    return op


def channel_contrast(cr: float, cg: float, cb: float, offsets: tuple[float, float, float] = (0, 0, 0)) -> Op:
    """Per-channel slope around grey and per-channel offset in log (dye-layer crossover)."""
    c = np.array([cr, cg, cb])
    o = np.array(offsets)
    return lambda x: GREY + c * (x - GREY) + o


def shoulder(start: float, reach: float) -> Op:
    """Compress log values above `start` towards start + reach (soft highlight roll-off)."""
    return lambda x: np.where(x > start, start + reach * np.tanh((x - start) / reach), x)


# ---- the library ------------------------------------------------------------


LOOKS: dict[str, tuple[str, list[Op]]] = {
    "neutral": ("Identity: leaves every colour unchanged.", []),
    "warm": ("Warmer white balance (temperature +30, tint +5).", [white_balance(30, 5)]),
    "cold": ("Cooler white balance (temperature -30, tint -3).", [white_balance(-30, -3)]),
    "noir": (
        "Black and white with neutral (luminance) response and a print-like S-curve.",
        [mono(tuple(LUMA)), s_curve(1.3, 0.45)],
    ),
    "noir_red": (
        "Black and white through a red filter (R 0.80, G 0.18, B 0.02): dark skies and foliage, light skin.",
        [mono((0.80, 0.18, 0.02)), s_curve(1.35, 0.45)],
    ),
    "bleach_bypass": (
        "Bleach bypass: retained silver, colour at 45% saturation, hard contrast with crushed blacks.",
        [saturation(0.45), s_curve(1.35, 0.5), crush(0.02)],
    ),
    "teal_orange": (
        "Teal shadows and orange highlights, slightly richer colour and contrast.",
        [split_tone((0.80, 1.02, 1.20), (1.18, 1.00, 0.80)), log_saturation(1.12), s_curve(1.12, 0.6)],
    ),
    "day_for_night": (
        "Day for night: two stops down, blue moonlit cast, half saturation, highlights held down.",
        [exposure(-2.0), gains(0.75, 0.92, 1.30), saturation(0.5), contrast(1.1), shoulder(0.45, 0.15)],
    ),
    "sepia": (
        "Sepia-toned black and white with slightly lifted blacks.",
        [mono(tuple(LUMA)), tone((112, 66, 20), 0.5), flare(0.015), s_curve(1.1, 0.5)],
    ),
    "cross_process": (
        "Cross-processed slide film: contrasty yellow-green highlights, blue-lifted shadows, strong colour.",
        [channel_contrast(1.25, 1.18, 0.80, (0.01, 0.015, -0.01)), log_saturation(1.2)],
    ),
    "high_key": (
        "High key: bright, low contrast, lifted shadows, slightly pastel colour.",
        [exposure(0.8), flare(0.03), contrast(0.85), saturation(0.9), shoulder(0.55, 0.15)],
    ),
    "low_key": (
        "Low key: darker, contrasty, deep blacks.",
        [exposure(-0.8), s_curve(1.3, 0.5), crush(0.015), saturation(0.9)],
    ),
    "film_negative": (
        "Camera-negative emulation: low contrast with soft toe and shoulder, cyan-leaning shadows, muted colour.",
        [s_curve(0.8, 0.5), split_tone((0.97, 1.0, 1.04), (1.02, 1.0, 0.97)), saturation(0.9)],
    ),
    "film_print": (
        "Print-film emulation: strong S-curve, cool shadows, warm highlights (dye crossover), rich colour.",
        [
            s_curve(1.4, 0.42),
            channel_contrast(1.0, 1.02, 1.05),
            split_tone((0.95, 1.0, 1.07), (1.06, 1.0, 0.92)),
            log_saturation(1.1),
        ],
    ),
    "documentary": (
        "Documentary: desaturated (75%), gentle contrast, a touch warm.",
        [saturation(0.75), contrast(0.95), white_balance(5)],
    ),
    "vivid": (
        "Vivid commercial look: saturated (130%, in log), punchy contrast.",
        [log_saturation(1.3), s_curve(1.15, 0.6)],
    ),
    "scifi_cyan": (
        "Sci-fi cyan: cool cyan cast, cyan highlights, contrast up, colour slightly muted.",
        [
            gains(0.85, 1.03, 1.12),
            split_tone((0.95, 1.0, 1.05), (0.92, 1.04, 1.06)),
            s_curve(1.15, 0.55),
            saturation(0.9),
        ],
    ),
    "horror_green": (
        "Horror green: sickly green cast, drained colour, heavy shadows.",
        [gains(0.90, 1.10, 0.86), saturation(0.7), exposure(-0.3), s_curve(1.2, 0.5), crush(0.02)],
    ),
    "golden_hour": (
        "Golden hour: strong warm balance (temperature +45, tint +8), warm highlights, richer colour.",
        [
            white_balance(45, 8),
            split_tone((1.0, 1.0, 1.0), (1.08, 1.0, 0.88)),
            log_saturation(1.15),
            contrast(1.05),
        ],
    ),
    "moonlight": (
        "Moonlight: cool balance (temperature -60), one stop down, low saturation.",
        [white_balance(-60), exposure(-1.0), saturation(0.55), contrast(1.05)],
    ),
    "faded_vintage": (
        "Faded vintage print: lifted blacks, soft highlights, yellowed, greenish shadows, low saturation.",
        [
            flare(0.08),
            shoulder(0.5, 0.15),
            gains(1.05, 1.02, 0.86),
            split_tone((0.97, 1.04, 0.99), (1.0, 1.0, 1.0)),
            saturation(0.7),
            contrast(0.9),
        ],
    ),
}


NEGATIVE_FLOOR = 0.01
"""Scene-linear light a look may push below zero (outside AP1) is rolled off towards -NEGATIVE_FLOOR."""


def apply_look(ops: list[Op], cct: np.ndarray) -> np.ndarray:
    """Run a look's operators on ACEScct values, then soft-floor negative light.

    Saturating or re-balancing pushes some saturated colours below zero light
    (outside AP1), where the ACEScct ramp goes hugely negative. Negative light
    x becomes c (exp(x / c) - 1) with c = NEGATIVE_FLOOR: the same value and
    slope at zero (no kink for the lattice to miss), never below -c.
    """
    if not ops:
        return np.asarray(cct, dtype=np.float64)
    x = np.asarray(cct, dtype=np.float64)
    for op in ops:
        x = op(x)
    light = acescct_to_lin(x)
    c = NEGATIVE_FLOOR
    floored = np.where(light >= 0.0, light, c * np.expm1(np.minimum(light, 0.0) / c))
    return np.where(light >= 0.0, x, lin_to_acescct(floored))


def look_table(ops: list[Op], size: int = SIZE) -> np.ndarray:
    """The (size, size, size, 3) ACEScct -> ACEScct lattice of a look."""
    return apply_look(ops, lattice_inputs(size))


def build(out: Path) -> dict[str, dict]:
    """Write every LUT and luts.json into `out`; returns the index."""
    out.mkdir(parents=True, exist_ok=True)
    index: dict[str, dict] = {}
    for name, (description, ops) in LOOKS.items():
        table = look_table(ops)
        comments = (
            "filmc standard look: ACEScct in, ACEScct out.",
            description,
            "Generated by stdlib/luts/generate.py; edit the maths there, not this file.",
        )
        # k/32 needs five decimals: the neutral table is written exactly.
        decimals = IDENTITY_DECIMALS if not ops else DECIMALS
        text = format_cube(Cube(table, title=f"filmc {name}", comments=comments), decimals)
        atomic_write_text(out / f"{name}.cube", text)
        index[name] = {"description": description, "size": SIZE, "space": "ACEScct"}
    atomic_write_text(out / "luts.json", json.dumps(index, indent=1, sort_keys=True) + "\n")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into (default: stdlib/luts)")
    args = parser.parse_args(argv)
    index = build(args.out)
    print(f"wrote {len(index)} LUTs ({SIZE}^3) and luts.json to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
