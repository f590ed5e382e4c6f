"""Bake a shot's whole colour chain into LUTs that ffmpeg applies at encode speed.

The exact chain costs 0.2-0.4 CPU-s per 1080p frame with the ACES 1.3 views;
a bake runs inside ffmpeg as up to three stages:

1. input shaper (1D, scene-linear sources only): ``t = log2(x + 2^-6)``
   normalised over [0, shaper_max], so lattice points are spread in stops;
2. the 3D LUT (tetrahedral): the whole chain (input conversion, shot match,
   grade, output transform) up to display light, stored in a toe-extended
   encoding (display.toe_intermediate) that stays smooth through black;
3. output encoding (1D, display outputs): the intermediate -> the display's
   real code values, clamping negative light to zero.

Stage 3 exists because BT.1886, gamma 2.6 and PQ have infinite slope at black
and the exact path clamps negative light there: a 3D lattice alone errs by
~20 10-bit codes on dark greys. Display and log sources index the lattice by
their own (already perceptual) encoding and need no shaper. ffmpeg ignores
DOMAIN_MIN (it assumes 0), so every baked file keeps DOMAIN_MIN at 0.

`validate_bake` compares a bake with the exact chain on a test chart and
reports the worst in-gamut error in 10-bit code values (full range, 1023 = 1.0).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import PyOpenColorIO as ocio

from .chain import ColourChain
from .cube import Cube, apply_cube_numpy, file_transform, lattice_inputs, read_cube, write_cube
from .display import toe
from .ffmpeg_filters import lut1d_filter, lut3d_filter, run_filter
from .spaces import apply_processor, convert, cpu_processor, space

SHAPER_OFFSET = 2.0**-6
DEFAULT_SIZE = 65
DEFAULT_1D_SIZE = 65536
SDR_SHAPER_MAX = 64.0
HDR_SHAPER_MAX = 1024.0


class Bake(NamedTuple):
    """A baked chain: `shaper` (if any), then `cube`, then `encoder` (if any).

    `ffmpeg_filter` applies exactly that (lut1d,lut3d,lut1d) to RGB frames
    in the source encoding; put the encoder's format/tag filters after it.
    """

    cube: Path
    shaper: Path | None
    encoder: Path | None
    ffmpeg_filter: str


def shaper_forward(x: np.ndarray, shaper_max: float) -> np.ndarray:
    """Linear -> shaper code in [0, 1] (clamped)."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, shaper_max)
    lo, hi = np.log2(SHAPER_OFFSET), np.log2(shaper_max + SHAPER_OFFSET)
    return (np.log2(x + SHAPER_OFFSET) - lo) / (hi - lo)


def shaper_inverse(t: np.ndarray, shaper_max: float) -> np.ndarray:
    lo, hi = np.log2(SHAPER_OFFSET), np.log2(shaper_max + SHAPER_OFFSET)
    return np.maximum(2.0 ** (lo + np.asarray(t, dtype=np.float64) * (hi - lo)) - SHAPER_OFFSET, 0.0)


def needs_shaper(src: str) -> bool:
    return space(src).kind == "scene-linear"


def default_shaper_max(dst: str) -> float:
    return HDR_SHAPER_MAX if space(dst).name == "hdr10" else SDR_SHAPER_MAX


def bake_chain(
    chain: ColourChain,
    out_dir: str | os.PathLike[str],
    *,
    size: int = DEFAULT_SIZE,
    lut1d_size: int = DEFAULT_1D_SIZE,
    shaper_max: float | None = None,
) -> Bake:
    """Sample `chain` into `.cube` files in `out_dir`, named by the chain's content hash.

    Files are written atomically and an existing bake of the same chain and
    sizes is reused.
    """
    out = Path(out_dir)
    shaped = needs_shaper(chain.src)
    encoded = space(chain.dst).kind == "display"
    smax = float(shaper_max or default_shaper_max(chain.dst))
    stem = f"{chain.signature()[:24]}_{size}"
    cube_path = out / (stem + (f"_shaped{smax:g}" if shaped else "") + ".cube")
    shaper_path = out / f"shaper_{smax:g}_{lut1d_size}.cube" if shaped else None
    encoder_path = out / f"encode_{chain.dst}_{lut1d_size}_v2.cube" if encoded else None
    if shaper_path is not None and not shaper_path.exists():
        t = shaper_forward(np.linspace(0.0, smax, lut1d_size), smax)
        comment = f"filmc input shaper: t = log2(x + 2^-6) normalised over [0, {smax:g}]"
        write_cube(shaper_path, Cube(np.stack([t, t, t], -1), domain_max=(smax,) * 3, comments=(comment,)), 7)
    if encoder_path is not None and not encoder_path.exists():
        c = toe(chain.dst, lut1d_size).decode(np.linspace(0.0, 1.0, lut1d_size))
        comment = f"filmc output encoding for {chain.dst}: toe-extended intermediate -> code value"
        write_cube(encoder_path, Cube(np.stack([c, c, c], -1), comments=(comment,)), 8)
    if not cube_path.exists():
        grid = lattice_inputs(size).reshape(-1, 3)
        samples = (shaper_inverse(grid, smax) if shaped else grid).astype(np.float32)
        if encoded:
            values = toe(chain.dst, lut1d_size).intermediate(chain.apply_output_linear(samples))
        else:
            values = chain.apply(samples).astype(np.float64)
        comments = (f"filmc bake: {chain.src} -> {chain.dst}, rendering {chain.rendering}",) + tuple(
            f"step: {s}" for s in chain.describe()
        )
        cube = Cube(values.reshape(size, size, size, 3), title="filmc shot bake", comments=comments)
        write_cube(cube_path, cube, decimals=7)
    stages = [lut1d_filter(shaper_path)] if shaper_path else []
    stages.append(lut3d_filter(cube_path))
    if encoder_path:
        stages.append(lut1d_filter(encoder_path))
    return Bake(cube_path, shaper_path, encoder_path, ",".join(stages))


Engine = Literal["ocio", "numpy", "ffmpeg"]


def apply_bake(image: np.ndarray, bake: Bake, engine: Engine = "ocio") -> np.ndarray:
    """Apply a bake: through OCIO FileTransforms, the numpy interpolator, or ffmpeg itself."""
    if engine == "ffmpeg":
        return run_filter(image, bake.ffmpeg_filter)
    paths = [p for p in (bake.shaper, bake.cube, bake.encoder) if p is not None]
    if engine == "numpy":
        out = np.asarray(image, dtype=np.float32)
        for p in paths:
            out = apply_cube_numpy(out, read_cube(p))
        return out
    group = ocio.GroupTransform([file_transform(p) for p in paths])
    return apply_processor(cpu_processor(group), image)


# ColorChecker Classic 24 (BabelColor 2012 averages, D50 Lab adapted to sRGB D65), 8-bit sRGB.
COLORCHECKER_SRGB8 = np.array(
    [
        [115, 82, 68], [194, 150, 130], [98, 122, 157], [87, 108, 67], [133, 128, 177], [103, 189, 170],
        [214, 126, 44], [80, 91, 166], [193, 90, 99], [94, 60, 108], [157, 188, 64], [224, 163, 46],
        [56, 61, 150], [70, 148, 73], [175, 54, 60], [231, 199, 31], [187, 86, 149], [8, 133, 161],
        [243, 243, 242], [200, 200, 200], [160, 160, 160], [122, 122, 121], [85, 85, 85], [52, 52, 52],
    ],
    dtype=np.float64,
)  # fmt: skip


def test_chart(src: str) -> np.ndarray:
    """Chart colours (N x 3, float32) in the encoding of `src`, deterministic.

    Display and log sources: 4096 pseudo-random code values (off the lattice,
    unlike a regular grid), the ColorChecker and a 1024-step grey ramp, all
    in 0-1. Scene-linear sources: the random colours and the ColorChecker read
    as sRGB and decoded to linear Rec.709, at -6 to +2 stops, plus greys from
    2^-10 to 2^5, converted to `src`.
    """
    rng = np.random.default_rng(20261101)
    random = rng.random((4096, 3))
    s = space(src)
    if s.kind != "scene-linear":
        ramp = np.repeat(np.linspace(0.0, 1.0, 1024)[:, None], 3, axis=1)
        checker = COLORCHECKER_SRGB8 / 255.0
        if s.name != "srgb":
            checker = np.clip(convert(checker, "srgb", s.name), 0.0, 1.0)
        return np.concatenate([random, checker, ramp]).astype(np.float32)
    linear = convert(np.concatenate([random, COLORCHECKER_SRGB8 / 255.0]), "srgb", "lin_rec709")
    stops = np.concatenate([linear * 2.0**k for k in range(-6, 3)])
    greys = np.repeat((2.0 ** np.linspace(-10, 5, 512))[:, None], 3, axis=1)
    return convert(np.concatenate([stops, greys]), "lin_rec709", s.name).astype(np.float32)


@dataclass(frozen=True)
class BakeReport:
    max_codes: float
    """Worst error over in-gamut chart colours, 10-bit code values (the figure to hold <= 2)."""
    p99_codes: float
    max_codes_all: float
    """Worst error over the whole chart, out-of-gamut colours included (informative)."""
    in_gamut: int
    total: int


PEAK_LIGHT = {"hdr10": 10.0}
"""Display light at the view's peak (1.0 = SDR white; hdr10's ACES view peaks at 1000 nits)."""


def in_gamut_mask(chart: np.ndarray, chain: ColourChain) -> np.ndarray:
    """Chart colours the output renders inside its gamut, without clipping.

    For display outputs: the exact chain's display light has every channel in
    [0, peak] (a channel clipped at black or peak is a kink no lattice can
    follow). Other outputs: every colour counts.
    """
    if space(chain.dst).kind != "display":
        return np.ones(len(chart), dtype=bool)
    light = chain.apply_output_linear(chart)
    peak = PEAK_LIGHT.get(chain.dst, 1.0)
    return np.all((light >= 0.0) & (light <= peak), axis=1)


def measure_bake(chain: ColourChain, bake: Bake, *, engine: Engine = "ocio", chart: np.ndarray | None = None) -> BakeReport:
    """Errors of `bake` against the exact `chain` on the test chart (or `chart`), on delivered (0-1) codes."""
    chart = test_chart(chain.src) if chart is None else np.asarray(chart, dtype=np.float32)
    exact = chain.apply(chart).astype(np.float64)
    baked = apply_bake(chart[None], bake, engine)[0].astype(np.float64)
    if space(chain.dst).kind == "display":
        exact, baked = np.clip(exact, 0.0, 1.0), np.clip(baked, 0.0, 1.0)
    err = np.abs(baked - exact).max(axis=1) * 1023.0
    mask = in_gamut_mask(chart, chain)
    inside = err[mask]
    return BakeReport(
        max_codes=float(inside.max()) if inside.size else 0.0,
        p99_codes=float(np.percentile(inside, 99)) if inside.size else 0.0,
        max_codes_all=float(err.max()),
        in_gamut=int(mask.sum()),
        total=int(chart.shape[0]),
    )


def validate_bake(chain: ColourChain, bake: Bake, *, engine: Engine = "ocio") -> float:
    """Max error of the bake vs the exact chain on in-gamut chart colours, in 10-bit codes."""
    return measure_bake(chain, bake, engine=engine).max_codes
