"""Bake a shot's whole colour chain into LUTs that ffmpeg applies at encode speed.

The exact chain costs 0.2-0.4 CPU-s per 1080p frame with the ACES 1.3 views;
a bake runs inside ffmpeg as up to three stages (`Bake.ffmpeg_filter`):

1. input shaper (1D): scene-linear sources get ``t = log2(x + 2^-6)``
   normalised over [0, shaper_max] (lattice spread evenly in stops); display
   sources going to SDR get ``t = code^0.75`` (denser shadows, measured to
   halve the worst shadow error); log sources and hdr10 outputs get none;
2. the 3D LUT (tetrahedral, 97^3 by default): the whole chain (input
   conversion, shot match, grade, output transform) up to display light,
   stored in a toe-extended encoding (display.Toe) smooth through black;
3. output encoding (1D, display outputs): that intermediate -> the display's
   code values, clamping negative light to zero.

Stage 3 exists because BT.1886, gamma 2.6 and PQ have infinite slope at black
and the exact path clamps negative light there: a 3D lattice alone errs by
~20 10-bit codes on dark greys. ffmpeg ignores DOMAIN_MIN (it assumes 0), so
every baked file keeps DOMAIN_MIN at 0.

`validate_bake` compares a bake with the exact chain on a chart (ColorChecker,
grey ramp, hue sweep) and reports the worst error, in 10-bit code values
(full range, 1023 = 1.0), over in-gamut colours: those whose lattice cell the
output renders at least 16 codes inside black, peak and the gamut hull (a
clip inside a cell is a kink no lattice follows). Measured: <= 1.5 codes for
display-referred sources (SDR and hdr10 outputs, stdlib looks, grades);
scene-linear sources reach 2-5 codes at 97^3 (ACES 1.x RRT kinks).

Footage in a scene-referred space (camera log, ACES, linear) has its own bake,
`bake_scene_source` (end of this module): exact decoding into ACEScg, then an
ACEScg-indexed lattice of the output transform alone, 0.5-1.8 codes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import PyOpenColorIO as ocio

from .chain import ColourChain
from .cube import Cube, apply_cube_numpy, lattice_inputs, lut_transform, read_cube, write_cube
from .display import encode, output_linear_transform, toe
from .ffmpeg_filters import lut1d_filter, lut3d_filter, run_filter
from .grade import Grade
from .spaces import apply_processor, convert, cpu_processor, space

SHAPER_OFFSET = 2.0**-6
DEFAULT_SIZE = 97
BAKE_FORMAT = 1
"""Bump when the bake's stages change, so cached files of an older layout are not reused."""
DEFAULT_1D_SIZE = 65536
SDR_SHAPER_MAX = 64.0
DISPLAY_SHAPER_POWER = 0.75
HDR_SHAPER_MAX = 256.0


class Bake(NamedTuple):
    """A baked chain: `shaper` (if any), then `cube`, then `encoder` (if any).

    `ffmpeg_filter` applies exactly that (lut1d,lut3d,lut1d) to RGB frames
    in the source encoding; put the encoder's format/tag filters after it.
    """

    cube: Path
    shaper: Path | None
    encoder: Path | None
    ffmpeg_filter: str


@dataclass(frozen=True)
class Shaper:
    """The input 1D stage: spreads the 3D lattice where the chain needs it.

    "log" (scene-linear sources): t = log2(x + offset) normalised over [0, maximum],
    even spacing in stops. "power" (display sources): t = code^power, a mild
    shaper that gives the shadows, where the output encodings are steepest,
    four times the lattice density for a third less in the highlights. A `knee`
    below 1 (power only) spreads the lattice over [0, knee] and clips above,
    t = (min(code, knee) / knee)^power: for HDR footage into SDR, whose codes
    above the knee the output clips anyway (runtime/colour/sources.py). The
    file's domain stays [0, maximum] because ffmpeg's lut1d ignores a
    DOMAIN_MAX below 1.
    """

    kind: Literal["log", "power"]
    maximum: float = 1.0
    offset: float = SHAPER_OFFSET
    power: float = DISPLAY_SHAPER_POWER
    knee: float = 1.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(np.asarray(x, dtype=np.float64), 0.0, self.maximum)
        if self.kind == "power":
            return (np.minimum(x, self.knee) / self.knee) ** self.power
        lo, hi = np.log2(self.offset), np.log2(self.maximum + self.offset)
        return (np.log2(x + self.offset) - lo) / (hi - lo)

    def inverse(self, t: np.ndarray) -> np.ndarray:
        t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
        if self.kind == "power":
            return self.knee * t ** (1.0 / self.power)
        lo, hi = np.log2(self.offset), np.log2(self.maximum + self.offset)
        return np.maximum(2.0 ** (lo + t * (hi - lo)) - self.offset, 0.0)

    def describe(self) -> str:
        if self.kind == "power" and self.knee != 1.0:
            return f"t = (min(x, {self.knee:g}) / {self.knee:g})^{self.power:g} over [0, 1]"
        if self.kind == "power":
            return f"t = x^{self.power:g} over [0, 1]"
        return f"t = log2(x + {self.offset:g}) normalised over [0, {self.maximum:g}]"

    def file_name(self, nodes: int) -> str:
        if self.kind == "power":
            knee = f"_knee{self.knee:g}" if self.knee != 1.0 else ""
            return f"shaper_power{self.power:g}{knee}_{nodes}.cube"
        return f"shaper_log{self.offset:g}_{self.maximum:g}_{nodes}.cube"


def shaper_for(src: str, dst: str, shaper_max: float | None = None) -> Shaper | None:
    """The input shaper a bake from `src` to `dst` uses (None: index the lattice by the source code)."""
    kind = space(src).kind
    if kind == "scene-linear":
        default = HDR_SHAPER_MAX if space(dst).name == "hdr10" else SDR_SHAPER_MAX
        return Shaper("log", maximum=float(shaper_max or default))
    if kind == "display" and space(dst).name != "hdr10":
        # Measured: halves the worst shadow error for SDR outputs; for hdr10
        # it made the inverse-SDR-view highlights worse, so none there.
        return Shaper("power")
    return None


_PROCESS_BAKE_DIRS: dict[str, Path] = {}


def process_bake_dir(purpose: str) -> Path:
    """A temporary folder of bakes for this process (removed at exit): the shots or clips a worker
    handles that share a chain share its files."""
    if purpose not in _PROCESS_BAKE_DIRS:
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix=f"filmc-{purpose}-"))
        atexit.register(shutil.rmtree, folder, True)
        _PROCESS_BAKE_DIRS[purpose] = folder
    return _PROCESS_BAKE_DIRS[purpose]


def bake_chain(
    chain: ColourChain,
    out_dir: str | os.PathLike[str],
    *,
    size: int = DEFAULT_SIZE,
    lut1d_size: int = DEFAULT_1D_SIZE,
    shaper_max: float | None = None,
    shaper: Shaper | None = None,
) -> Bake:
    """Sample `chain` into `.cube` files in `out_dir`, named by the chain's content hash.

    Files are written atomically and an existing bake of the same chain and
    sizes is reused. `shaper` replaces the input stage `shaper_for` would choose.
    """
    out = Path(out_dir)
    shaper = shaper or shaper_for(chain.src, chain.dst, shaper_max)
    encoded = space(chain.dst).kind == "display"
    shaper_path = out / shaper.file_name(lut1d_size) if shaper else None
    tag = f"_{shaper_path.stem}" if shaper_path else ""
    version = f"{lut1d_size}_v{BAKE_FORMAT}"
    cube_path = out / f"{chain.signature()[:24]}_{size}_{version}{tag}.cube"
    encoder_path = out / f"encode_{chain.dst}_{version}.cube" if encoded else None
    if shaper is not None and shaper_path is not None and not shaper_path.exists():
        t = shaper.forward(np.linspace(0.0, shaper.maximum, lut1d_size))
        comment = f"filmc input shaper: {shaper.describe()}"
        domain = (shaper.maximum,) * 3
        write_cube(shaper_path, Cube(np.stack([t, t, t], -1), domain_max=domain, comments=(comment,)), 7)
    if encoder_path is not None and not encoder_path.exists():
        c = toe(chain.dst, lut1d_size).decode(np.linspace(0.0, 1.0, lut1d_size))
        comment = f"filmc output encoding for {chain.dst}: toe-extended intermediate -> code value"
        write_cube(encoder_path, Cube(np.stack([c, c, c], -1), comments=(comment,)), 8)
    if not cube_path.exists():
        grid = lattice_inputs(size).reshape(-1, 3)
        samples = (shaper.inverse(grid) if shaper else grid).astype(np.float32)
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


def apply_bake(image: np.ndarray, bake: Bake | StagedBake, engine: Engine = "ocio") -> np.ndarray:
    """Apply a bake: through OCIO FileTransforms, the numpy interpolator, or ffmpeg itself."""
    if engine == "ffmpeg":
        return run_filter(image, bake.ffmpeg_filter)
    if isinstance(bake, StagedBake):
        return bake.apply(image, engine)
    paths = [p for p in (bake.shaper, bake.cube, bake.encoder) if p is not None]
    if engine == "numpy":
        out = np.asarray(image, dtype=np.float32)
        for p in paths:
            out = apply_cube_numpy(out, read_cube(p))
        return out
    group = ocio.GroupTransform([lut_transform(p) for p in paths])
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


def validation_chart(src: str) -> np.ndarray:
    """The validation chart (N x 3, float32) in the encoding of `src`, deterministic.

    ColorChecker 24, a 1024-step grey ramp and a hue sweep (36 hues x HSV
    saturation 0.2-0.8 x value 0.2-1.0), as sRGB code values converted to
    `src`; scene-linear sources get them decoded to linear light at -6 to +2
    stops, plus greys from 2^-10 to 2^5.
    """
    hues = np.arange(36) / 36.0
    sat = np.array([0.2, 0.4, 0.6, 0.8])
    val = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    h, s_, v = (a.ravel() for a in np.meshgrid(hues, sat, val, indexing="ij"))
    k = np.floor(h * 6.0)
    f = h * 6.0 - k
    p, q, t = v * (1 - s_), v * (1 - f * s_), v * (1 - (1 - f) * s_)
    k = k.astype(int) % 6
    sweep = np.stack(
        [
            np.choose(k, [v, q, p, p, t, v]),
            np.choose(k, [t, v, v, q, p, p]),
            np.choose(k, [p, p, t, v, v, q]),
        ],
        axis=-1,
    )
    ramp = np.repeat(np.linspace(0.0, 1.0, 1024)[:, None], 3, axis=1)
    srgb = np.concatenate([COLORCHECKER_SRGB8 / 255.0, ramp, sweep])
    return _in_source(srgb, src)


def random_chart(src: str, n: int = 4096) -> np.ndarray:
    """Pseudo-random sRGB code values (any saturation) converted to `src`: the worst-case probe."""
    return _in_source(np.random.default_rng(20261101).random((n, 3)), src)


def _in_source(srgb: np.ndarray, src: str) -> np.ndarray:
    s = space(src)
    if s.kind != "scene-linear":
        out = srgb if s.name == "srgb" else np.clip(convert(srgb, "srgb", s.name), 0.0, 1.0)
        return np.asarray(out, dtype=np.float32)
    linear = convert(srgb, "srgb", "lin_rec709")
    stops = np.concatenate([linear * 2.0**k for k in range(-6, 3)])
    greys = np.repeat((2.0 ** np.linspace(-10, 5, 512))[:, None], 3, axis=1)
    return convert(np.concatenate([stops, greys]), "lin_rec709", s.name).astype(np.float32)


@dataclass(frozen=True)
class BakeReport:
    max_codes: float
    """Worst error over the in-gamut chart colours, 10-bit code values (the figure to hold <= 2)."""
    p99_codes: float
    in_gamut: int
    total: int
    max_codes_random: float
    """Worst error over random colours of any saturation, in-gamut ones only (informative; NaN if not probed)."""


CLIP_MARGIN_CODES = 16.0


def in_gamut_mask(chart: np.ndarray, chain: ColourChain, bake: Bake | StagedBake) -> np.ndarray:
    """Chart colours whose whole lattice cell the output renders inside its gamut.

    A colour counts when the exact chain gives every channel a code at least
    CLIP_MARGIN_CODES above black and below the view's peak, at the colour
    and at the 8 corners of the bake's lattice cell it falls in: a cell that
    reaches a clip (black crush, highlight clip, the gamut hull) holds a kink
    that no lattice follows, and the output encodings' infinite slope at
    black magnifies any error there.
    """
    if space(chain.dst).kind != "display":
        return np.ones(len(chart), dtype=bool)
    margin = CLIP_MARGIN_CODES / 1023.0
    top = min(float(encode(chain.dst, np.array(chain_peak_light(chain)))), 1.0) - margin
    if isinstance(bake, StagedBake):
        # The lattice is indexed in ACEScg (SceneIndex): its corners are ACEScg colours.
        size, corner_chain = bake.index.size, bake.lattice_chain
        forward, inverse = bake.lattice_coordinates, bake.lattice_colour
    else:
        size, corner_chain = read_cube(bake.cube).size, chain
        forward, inverse = _shaper_functions(bake)
    base = np.minimum(np.floor(forward(chart) * (size - 1)), size - 2)
    corners = ((base + np.array(corner)) / (size - 1) for corner in np.ndindex(2, 2, 2))
    ok = np.ones(len(chart), dtype=bool)
    codes = encode(chain.dst, chain.apply_output_linear(chart))
    ok &= np.all((codes >= margin) & (codes <= top), axis=1)
    for pts in (inverse(c).astype(np.float32) for c in corners):
        codes = encode(chain.dst, corner_chain.apply_output_linear(pts))
        ok &= np.all((codes >= margin) & (codes <= top), axis=1)
    return ok


def _shaper_functions(bake: Bake):
    """The bake's input stage as (forward, inverse) from its 1D file (identity clamp without one)."""
    if bake.shaper is None:
        return (lambda x: np.clip(x, 0.0, 1.0)), (lambda t: t)
    shaper = read_cube(bake.shaper)
    xs = np.linspace(0.0, shaper.domain_max[0], shaper.size)
    ts = shaper.table[:, 0]
    return (lambda x: np.interp(x, xs, ts)), (lambda t: np.interp(t, ts, xs))


def chain_peak_light(chain: ColourChain) -> float:
    """Display light at the output's peak: the ACES view's plateau, or 1.0 (100 for hdr10) colorimetric."""
    if chain.rendering != "aces":
        return 100.0 if chain.dst == "hdr10" else 1.0
    cpu = cpu_processor(output_linear_transform("ACEScg", chain.dst, "aces"))
    return float(apply_processor(cpu, np.full((1, 3), 65504.0, dtype=np.float32)).max())


def measure_bake(
    chain: ColourChain, bake: Bake | StagedBake, *, engine: Engine = "ocio", random: bool = True
) -> BakeReport:
    """Errors of `bake` against the exact `chain`, on delivered (0-1 clipped) codes.

    `random` also probes 4096 random colours of any saturation (max_codes_random).
    """

    def errors(chart: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        exact = chain.apply(chart).astype(np.float64)
        baked = apply_bake(chart[None], bake, engine)[0].astype(np.float64)
        if space(chain.dst).kind == "display":
            exact, baked = np.clip(exact, 0.0, 1.0), np.clip(baked, 0.0, 1.0)
        err = np.abs(baked - exact).max(axis=1) * 1023.0
        return err, in_gamut_mask(chart, chain, bake)

    err, mask = errors(validation_chart(chain.src))
    inside = err[mask]
    worst_random = float("nan")
    if random:
        err_random, mask_random = errors(random_chart(chain.src))
        worst_random = float(err_random[mask_random].max()) if mask_random.any() else 0.0
    return BakeReport(
        max_codes=float(inside.max()) if inside.size else 0.0,
        p99_codes=float(np.percentile(inside, 99)) if inside.size else 0.0,
        in_gamut=int(mask.sum()),
        total=len(err),
        max_codes_random=worst_random,
    )


def validate_bake(chain: ColourChain, bake: Bake, *, engine: Engine = "ocio") -> float:
    """Max error of the bake vs the exact chain on in-gamut chart colours, in 10-bit codes."""
    return measure_bake(chain, bake, engine=engine, random=False).max_codes


# --- scene-referred sources: an exact input stage, then one lattice in ACEScg ------------------------------
#
# A camera log or linear source baked as one lattice indexed by its own codes errs by up to 6 (log) and 15
# (ACES2065-1) 10-bit codes on chart colours: the ACES 1.x output transform clamps AP0 and AP1 to positive
# values, and in the source's gamut those clamps cut through the lattice's cells. OCIO builds every such
# source as a per-channel curve followed by matrices, which ffmpeg runs exactly in float (a 65536-node
# lut1d, colorchannelmixer). So the bake decodes into ACEScg exactly, and the lattice, indexed in ACEScg
# where the AP1 clamp lies along its axes, holds only the output transform: one cube per output display,
# shared by every scene-referred source. `SceneIndex` says how ACEScg values become lattice coordinates.

LATTICE_SPACE = "ACEScg"
SCENE_BAKE_SIZE = 145
"""128 lattice intervals over ACEScg 0 and up (as the 129^3 that measured <= 1.76 codes into every output),
16 below 0 for colours outside AP1 (8 left some 160 codes off the exact view: measured on LogC4 codes)."""
MIXER_LIMIT = 2.0
"""colorchannelmixer accepts coefficients in [-2, 2]."""
_PER_CHANNEL_OPS = (ocio.LogCameraTransform, ocio.LogTransform, ocio.LogAffineTransform, ocio.Lut1DTransform,
                    ocio.ExponentTransform, ocio.ExponentWithLinearTransform, ocio.RangeTransform)


@dataclass(frozen=True)
class SceneIndex:
    """ACEScg value x -> lattice coordinate t, in three ffmpeg stages that each stay exact where it matters.

    1. affine, y = x / (2 * negative) + 1/2 (the matrix's colorchannelmixer scaled by 1 / negative, then
       `exposure=black=-1`, which computes (u + 1) / 2): ffmpeg's lut1d clamps its input at 0, and colours
       outside AP1 (saturated camera colours) have negative ACEScg values that the output transform still
       uses; down to -`negative` they reach the lattice;
    2. compressor (lut1d, nodes evenly spread over y up to `maximum`): the identity up to `knee`, knee *
       (1 + ln(x / knee)) above. Linear interpolation is exact on the identity part, so the shadows pass
       untouched, and camera highlights up to `maximum` stay apart instead of clipping at the shaper's top;
    3. shaper (lut1d): signed log, t = t0 +- span * log2(1 + |x| / offset), with `negative_cells` lattice
       intervals below x = 0 and the rest above, so the AP1 clamp at 0 falls on a lattice plane.
    """

    size: int = SCENE_BAKE_SIZE
    negative_cells: int = 16
    negative: float = 4.0
    knee: float = 16.0
    maximum: float = 2048.0
    offset: float = SHAPER_OFFSET

    # x <-> y (stage 1)
    def to_y(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) / (2.0 * self.negative) + 0.5

    def from_y(self, y: np.ndarray) -> np.ndarray:
        return (np.asarray(y, dtype=np.float64) - 0.5) * (2.0 * self.negative)

    # x -> compressed x (stage 2)
    def compress(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(np.asarray(x, dtype=np.float64), -self.negative, self.maximum)
        return np.where(x <= self.knee, x, self.knee * (1.0 + np.log(np.maximum(x, self.knee) / self.knee)))

    def expand(self, c: np.ndarray) -> np.ndarray:
        c = np.clip(np.asarray(c, dtype=np.float64), -self.negative, self.top)
        return np.where(c <= self.knee, c, self.knee * np.exp(np.maximum(c, self.knee) / self.knee - 1.0))

    @property
    def top(self) -> float:
        """The compressed value of `maximum`."""
        return float(self.knee * (1.0 + np.log(self.maximum / self.knee)))

    # compressed x <-> t (stage 3)
    @property
    def t0(self) -> float:
        return self.negative_cells / (self.size - 1)

    def shape(self, c: np.ndarray) -> np.ndarray:
        c = np.clip(np.asarray(c, dtype=np.float64), -self.negative, self.top)
        stops_up, stops_down = np.log2(1.0 + self.top / self.offset), np.log2(1.0 + self.negative / self.offset)
        up = (1.0 - self.t0) * np.log2(1.0 + np.maximum(c, 0.0) / self.offset) / stops_up
        down = self.t0 * np.log2(1.0 + np.maximum(-c, 0.0) / self.offset) / stops_down
        return self.t0 + up - down

    def unshape(self, t: np.ndarray) -> np.ndarray:
        t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
        up = np.maximum(t - self.t0, 0.0) / (1.0 - self.t0) * np.log2(1.0 + self.top / self.offset)
        down = np.maximum(self.t0 - t, 0.0) / self.t0 * np.log2(1.0 + self.negative / self.offset) \
            if self.t0 > 0 else np.zeros_like(t)
        return self.offset * (np.exp2(up) - 1.0) - self.offset * (np.exp2(down) - 1.0)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """ACEScg -> lattice coordinates (0-1), as the three stages compute them."""
        return self.shape(self.compress(x))

    def inverse(self, t: np.ndarray) -> np.ndarray:
        return self.expand(self.unshape(t))

    def exposure_filter(self) -> str:
        return "exposure=exposure=0:black=-1"

    def compressor_table(self, nodes: int) -> Cube:
        """Stage 2 on y: y -> y of the compressed value, over [0, y(maximum)]."""
        top_y = float(self.to_y(np.array(self.maximum)))
        y = np.linspace(0.0, top_y, nodes)
        out = self.to_y(self.compress(self.from_y(y)))
        comment = (f"filmc highlight compressor on y = x / {2 * self.negative:g} + 0.5: x up to "
                   f"{self.knee:g}, {self.knee:g} (1 + ln(x / {self.knee:g})) above, "
                   f"x over [-{self.negative:g}, {self.maximum:g}]")
        return Cube(np.stack([out, out, out], -1), domain_max=(top_y,) * 3, comments=(comment,))

    def shaper_table(self, nodes: int) -> Cube:
        """Stage 3 on compressed y: -> t, over [0, y(top)]."""
        top_y = float(self.to_y(np.array(self.top)))
        y = np.linspace(0.0, top_y, nodes)
        t = self.shape(self.from_y(y))
        comment = (f"filmc signed log shaper: t = {self.t0:.6g} +- log2(1 + |x| / {self.offset:g}), "
                   f"{self.negative_cells} of {self.size - 1} intervals below x = 0")
        return Cube(np.stack([t, t, t], -1), domain_max=(top_y,) * 3, comments=(comment,))

    def tag(self) -> str:
        return (f"n{self.negative:g}x{self.negative_cells}_k{self.knee:g}_m{self.maximum:g}_o{self.offset:g}"
                f"_s{self.size}")

    def describe(self) -> dict[str, float | int]:
        return {"size": self.size, "negative": self.negative, "negative_cells": self.negative_cells,
                "knee": self.knee, "maximum": self.maximum, "offset": self.offset}


@dataclass(frozen=True, eq=False)
class LinearInput:
    """How OCIO decodes a scene-referred space into ACEScg: a per-channel `curve` (None for linear
    sources) then a 3x3 `matrix`."""

    src: str
    curve: ocio.Transform | None
    matrix: np.ndarray

    def apply(self, image: np.ndarray) -> np.ndarray:
        out = np.asarray(image, dtype=np.float32)
        if self.curve is not None:
            out = apply_processor(cpu_processor(self.curve), out)
        return (out.astype(np.float64) @ self.matrix.T).astype(np.float32)


def mixer_filter(matrix: np.ndarray) -> str:
    """A 3x3 matrix as ffmpeg's colorchannelmixer (out_r = rr * r + rg * g + rb * b, ...)."""
    names = [f"{o}{i}" for o in "rgb" for i in "rgb"]
    values = zip(names, matrix.ravel(), strict=True)
    return "colorchannelmixer=" + ":".join(f"{n}={v:.12g}" for n, v in values)


def linear_input(src: str) -> LinearInput | None:
    """`src`'s exact route into ACEScg as a curve and a matrix, or None when OCIO builds it otherwise."""
    from .spaces import config

    s = space(src)
    if s.kind == "display":
        return None
    target = space(LATTICE_SPACE).ocio_name
    whole = ocio.ColorSpaceTransform(src=s.ocio_name, dst=target)
    ops = list(config().getProcessor(whole).createGroupTransform())
    split = next((i for i, op in enumerate(ops) if not isinstance(op, _PER_CHANNEL_OPS)), len(ops))
    curve_ops, matrix_ops = ops[:split], ops[split:]
    if not all(isinstance(op, ocio.MatrixTransform) for op in matrix_ops):
        return None
    m44, offset = np.eye(4), np.zeros(4)
    for op in matrix_ops:
        m = np.array(op.getMatrix(), dtype=np.float64).reshape(4, 4)
        m44, offset = m @ m44, m @ offset + np.array(op.getOffset(), dtype=np.float64)
    if np.abs(offset).max() > 0.0 or np.abs(m44[:3, 3]).max() > 0.0 or np.abs(m44[3, :3]).max() > 0.0:
        return None
    found = LinearInput(s.name, ocio.GroupTransform(curve_ops) if curve_ops else None, m44[:3, :3])
    # The split must be exact: the curve per channel, then the matrix, is OCIO's whole conversion.
    probe = np.random.default_rng(7).random((512, 3)).astype(np.float32)
    probe = probe if s.kind == "log" else probe * 16.0
    reference = apply_processor(cpu_processor(whole), probe)
    if not np.allclose(found.apply(probe), reference, rtol=1e-5, atol=1e-6):
        return None
    return found


@dataclass(frozen=True, eq=False)
class StagedBake:
    """A scene-referred source's bake, in the order `ffmpeg_filter` applies it to float RGB in the source
    encoding: `decode` (1D, log sources), the matrix into ACEScg scaled by 1 / index.negative
    (colorchannelmixer) and the offset (exposure), both exact; `compressor` and `shaper` (1D) indexing
    `cube` (ACEScg -> display light, toe-encoded, as bake_chain's); `encoder` (1D)."""

    linear: LinearInput
    index: SceneIndex
    decode: Path | None
    compressor: Path
    shaper: Path
    cube: Path
    encoder: Path
    lattice_chain: ColourChain
    """ACEScg -> the output: what the cube holds."""
    ffmpeg_filter: str

    @property
    def mixer(self) -> str:
        return mixer_filter(self.linear.matrix / self.index.negative)

    def stages(self) -> list[dict[str, str]]:
        """The filters in order: role, and file or options."""
        out = [{"filter": "lut1d", "role": "decode", "file": self.decode.name}] if self.decode else []
        out += [{"filter": "colorchannelmixer", "role": "matrix", "options": self.mixer.split("=", 1)[1]},
                {"filter": "exposure", "role": "offset",
                 "options": self.index.exposure_filter().split("=", 1)[1]},
                {"filter": "lut1d", "role": "compressor", "file": self.compressor.name},
                {"filter": "lut1d", "role": "shaper", "file": self.shaper.name},
                {"filter": "lut3d", "role": "cube", "file": self.cube.name},
                {"filter": "lut1d", "role": "encoder", "file": self.encoder.name}]
        return out

    def files(self) -> list[Path]:
        return [p for p in (self.decode, self.compressor, self.shaper, self.cube, self.encoder) if p is not None]

    def lattice_coordinates(self, image: np.ndarray) -> np.ndarray:
        """Where source colours fall in the lattice, 0-1 per axis."""
        return self.index.forward(self.linear.apply(image))

    def lattice_colour(self, t: np.ndarray) -> np.ndarray:
        """The ACEScg colour at lattice coordinates `t`."""
        return self.index.inverse(t)

    def apply(self, image: np.ndarray, engine: Engine = "numpy") -> np.ndarray:
        """The stages in numpy (or OCIO FileTransforms for the 1D files; OCIO reads no cube above 129^3),
        with the matrix and offset in float; "ffmpeg" runs `ffmpeg_filter`."""
        if engine == "ffmpeg":
            return run_filter(image, self.ffmpeg_filter)
        out = np.asarray(image, dtype=np.float32)
        if self.decode is not None:
            out = _apply_file(out, self.decode, engine)
        out = ((out.astype(np.float64) @ (self.linear.matrix / self.index.negative).T + 1.0) / 2.0)
        out = out.astype(np.float32)
        for path in (self.compressor, self.shaper):
            out = _apply_file(out, path, engine)
        out = apply_cube_numpy(out, read_cube(self.cube))
        return _apply_file(out, self.encoder, engine)


def _apply_file(image: np.ndarray, path: Path, engine: Engine) -> np.ndarray:
    if engine == "numpy":
        return apply_cube_numpy(image, read_cube(path))
    return apply_processor(cpu_processor(lut_transform(path)), image)


def bake_scene_source(chain: ColourChain, out_dir: str | os.PathLike[str], *, index: SceneIndex | None = None,
                      lut1d_size: int = DEFAULT_1D_SIZE) -> StagedBake | None:
    """Bake a scene-referred source's conversion (no grade, no match) as exact input stages and an ACEScg
    lattice; None when OCIO does not build the source as a curve and a matrix, the matrix is beyond
    colorchannelmixer's range, or the output is not a display.

    Files are named by content and reused: the cube is the same for every source into one output."""
    plain = chain.match is None and chain.grade.params() == Grade().params()
    if space(chain.dst).kind != "display" or not plain:
        return None
    linear = linear_input(chain.src)
    index = index or SceneIndex()
    if linear is None or np.abs(linear.matrix / index.negative).max() > MIXER_LIMIT:
        return None
    out = Path(out_dir)
    lattice_chain = ColourChain(LATTICE_SPACE, chain.dst, rendering=chain.rendering, working=chain.working)
    version = f"{lut1d_size}_v{BAKE_FORMAT}"
    decode_path = out / f"decode_{chain.src}_{version}.cube" if linear.curve is not None else None
    compressor_path = out / f"compress_{index.tag()}_{version}.cube"
    shaper_path = out / f"shaper_signedlog_{index.tag()}_{version}.cube"
    encoder_path = out / f"encode_{chain.dst}_{version}.cube"
    cube_path = out / f"{lattice_chain.signature()[:24]}_{index.tag()}_{version}.cube"
    if decode_path is not None and not decode_path.exists():
        assert linear.curve is not None
        ramp = np.repeat(np.linspace(0.0, 1.0, lut1d_size)[:, None], 3, axis=1).astype(np.float32)
        curve = apply_processor(cpu_processor(linear.curve), ramp).astype(np.float64)
        comment = f"filmc input decoding: {chain.src} code -> linear (OCIO), before the matrix into ACEScg"
        write_cube(decode_path, Cube(curve, comments=(comment,)), 9)
    if not compressor_path.exists():
        write_cube(compressor_path, index.compressor_table(lut1d_size), 8)
    if not shaper_path.exists():
        write_cube(shaper_path, index.shaper_table(lut1d_size), 8)
    if not encoder_path.exists():
        c = toe(chain.dst, lut1d_size).decode(np.linspace(0.0, 1.0, lut1d_size))
        comment = f"filmc output encoding for {chain.dst}: toe-extended intermediate -> code value"
        write_cube(encoder_path, Cube(np.stack([c, c, c], -1), comments=(comment,)), 8)
    if not cube_path.exists():
        size = index.size
        samples = index.inverse(lattice_inputs(size).reshape(-1, 3)).astype(np.float32)
        values = toe(chain.dst, lut1d_size).intermediate(lattice_chain.apply_output_linear(samples))
        comments = (f"filmc bake: {LATTICE_SPACE} -> {chain.dst}, rendering {chain.rendering}, indexed by "
                    f"SceneIndex {index.describe()}",) + tuple(f"step: {s}" for s in lattice_chain.describe())
        write_cube(cube_path, Cube(values.reshape(size, size, size, 3), title="filmc source bake",
                                   comments=comments), decimals=7)
    staged = StagedBake(linear, index, decode_path, compressor_path, shaper_path, cube_path, encoder_path,
                        lattice_chain, "")
    filters = [lut1d_filter(decode_path)] if decode_path else []
    filters += [staged.mixer, index.exposure_filter(), lut1d_filter(compressor_path), lut1d_filter(shaper_path),
                lut3d_filter(cube_path), lut1d_filter(encoder_path)]
    return StagedBake(linear, index, decode_path, compressor_path, shaper_path, cube_path, encoder_path,
                      lattice_chain, ",".join(filters))
