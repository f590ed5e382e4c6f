"""Footage colour: which space a `media` clip is in, and its conversion into the film's output space.

A clip's space is the film's declaration (`media "x.mov" colour rec2020_pq`,
a compiler.schema.MEDIA_COLOUR_SPACES name) or else its colour tags, read
with PyAV and mapped by `space_from_tags`:

    transfer                         primaries                      -> space
    smpte2084 (PQ)                   bt2020 or unspecified          -> rec2020_pq
    smpte2084 (PQ)                   smpte432 (P3-D65)              -> p3d65_pq
    arib-std-b67 (HLG)               bt2020 or unspecified          -> rec2020_hlg
    iec61966-2-1 (sRGB)              bt709 family or unspecified    -> srgb
    iec61966-2-1 (sRGB)              smpte432                       -> display_p3
    smpte428 (gamma 2.6)             smpte432 / smpte431            -> p3d65 / p3dci
    linear                           bt709 family / bt2020          -> lin_rec709 / lin_rec2020
    video curves or unspecified      bt2020                         -> rec2020
    video curves or unspecified      bt709 family or unspecified    -> rec709 (untagged: rec709)

"Video curves" are bt709, smpte170m, bt2020-10/-12, gamma22/28, smpte240m,
bt1361e and iec61966-2-4, all shown on a BT.1886 display; the "bt709
family" of primaries is bt709, bt470bg, smpte170m, smpte240m, bt470m and film
(SD primaries differ from Rec.709 by less than broadcast practice corrects).
Anything else (PQ with Rec.709 primaries, log curves, XYZ) has no automatic
space: the clip must declare one, and conform says so.

The conversion runs in OCIO's built-in config. Display-referred sources
(video, masters) convert colorimetrically, 1.0 = 100 nits for PQ and HLG as
in the library's hdr10 output, so an SDR film clips HDR light above 100 nits.
Scene-referred sources (camera log, ACES, linear EXR) have no display
encoding to keep: they go through the film's output transform, the ACES 1.3
view of its output display (what the header's `colour WORKING -> OUTPUT`
means), since a colorimetric view would clip everything 2.5 stops above grey.
ffmpeg applies the conversion in float as `bake.py` stages, and each bake's
error against the exact OCIO chain is measured with ffmpeg itself applying
them (`Conversion.accuracy`, 10-bit codes on the in-gamut chart colours):
- display-referred sources: 1D shaper, 97^3 LUT, 1D output encoding (0.2-1.4
  codes into every output). PQ and HLG into an SDR output get a shaper with a
  knee at the code of twice the output's peak light, so the lattice is spent on
  what the output shows;
- scene-referred sources (camera log, ACES, linear): their OCIO curve (65536-
  node lut1d) and matrix into ACEScg (colorchannelmixer), both exact, then one
  145^3 lattice indexed in ACEScg that holds only the ACES output transform
  (bake.StagedBake): 0.5-1.8 codes, where one lattice in the source's own codes
  erred by up to 6 (log) and 15 (ACES2065-1) codes on the output transform's
  AP1 clamp.
A conversion uses the first bake within ACCURACY_TARGET_CODES (then larger
lattices); when none is, conform runs the exact chain on every frame (path
"exact", 0 codes by construction) and conform.json says so and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import PyOpenColorIO as ocio

from .bake import (
    Bake,
    Shaper,
    StagedBake,
    bake_chain,
    bake_scene_source,
    chain_peak_light,
    measure_bake,
    process_bake_dir,
    validation_chart,
)
from .chain import ColourChain, build_chain
from .colorimetry import white_xyz
from .spaces import Rendering, apply_processor, cpu_processor, space

SOURCE_SPACES: dict[str, str] = {
    "rec709": "rec709",
    "srgb": "srgb",
    "rec2020": "rec2020",
    "rec2020_pq": "hdr10",
    "rec2020_hlg": "rec2020_hlg",
    "p3d65": "p3d65",
    "p3d65_pq": "p3d65_pq",
    "display_p3": "display_p3",
    "p3dci": "p3dci",
    "arri_logc3": "arri_logc3",
    "arri_logc4": "arri_logc4",
    "slog3_sgamut3cine": "slog3_sgamut3cine",
    "slog3_sgamut3": "slog3_sgamut3",
    "vlog_vgamut": "vlog_vgamut",
    "log3g10_rwg": "log3g10_rwg",
    "canonlog3_cgamut": "canonlog3_cgamut",
    "bmdfilm_gen5": "bmdfilm_gen5",
    "apple_log": "apple_log",
    "davinci_intermediate": "davinci_intermediate",
    "acescct": "ACEScct",
    "acescg": "ACEScg",
    "aces2065_1": "ACES2065-1",
    "lin_rec709": "lin_rec709",
    "lin_rec2020": "lin_rec2020",
}
"""The language's media colour names (compiler.schema.MEDIA_COLOUR_SPACES) -> colour-library spaces."""

BAKE_SIZE = 97
"""Lattice of a display-referred source's 3D LUT. One ffmpeg reads it once per clip, so the bake's default
size (grades use 65 because every graded layer parses its files): measured, PQ -> rec709 erred 2.7 codes
at 65^3 and 1.0 at 97^3."""
BAKE_SIZES = (BAKE_SIZE, 129)
"""Lattices tried in turn for a display-referred source (or a scene-referred one that bake_scene_source
cannot stage) until one measures within ACCURACY_TARGET_CODES."""
ACCURACY_TARGET_CODES = 2.0
"""The most a conversion may err on in-gamut chart colours, 10-bit codes, measured through ffmpeg (QC's
footage check warns above 2). No bake within it: the exact chain runs frame by frame instead."""
HDR_SHAPER_HEADROOM = 2.0
"""HDR footage into a darker output: the input shaper spans the codes up to this many times the output's
peak light (one stop above, so clipped highlights keep their hue) instead of the whole signal, most of
which the output clips."""
HDR_SHAPER_POWER = 1.0
"""Measured at 97^3 against 0.75 and 1.5: PQ -> rec709 1.0 codes (0.75: 1.6), HLG -> rec709 0.6."""
BAKE_1D_SIZE = 65536
"""Nodes of the shaper and output-encoding 1D files: the bake's default. Grades use 4096 to start their many
filter instances faster, but a linear source's log shaper needs the density near black (ACEScg -> rec709
measured 30.6 codes with 4096 nodes, 2.7 with 65536), and a clip parses its files once."""
DEFAULT_SPACE = "rec709"

# ITU-T H.273 code points (what PyAV returns) -> FFmpeg's names.
PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
             10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "jedec-p22"}
TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear", 9: "log100",
             10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
             16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"}
MATRICES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco", 9: "bt2020nc",
            10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp"}
RANGES = {1: "tv", 2: "pc"}

BT709_FAMILY = {"bt709", "bt470bg", "smpte170m", "smpte240m", "bt470m", "film"}
VIDEO_CURVES = {"bt709", "smpte170m", "bt2020-10", "bt2020-12", "gamma22", "gamma28", "smpte240m", "bt1361e",
                "iec61966-2-4"}
DECODABLE_MATRICES = {"bt709": "bt709", "bt470bg": "bt470", "smpte170m": "smpte170m", "smpte240m": "smpte240m",
                      "fcc": "fcc", "bt2020nc": "bt2020"}
"""YUV matrices conform decodes (FFmpeg's names, which zscale takes) -> swscale's `in_color_matrix` names.
Constant-luminance BT.2020 and ICtCp need the transfer inside the matrix; no footage tool writes them."""


class SourceColourError(ValueError):
    """A clip whose colour cannot be worked out or decoded, phrased for the user."""


@dataclass(frozen=True)
class ClipTags:
    """A video stream's colour facts, by FFmpeg's names (None: not tagged)."""

    primaries: str | None
    transfer: str | None
    matrix: str | None
    range: str | None
    pix_fmt: str
    bits: int
    rgb: bool
    """Stored as RGB (no YUV matrix applies)."""

    def as_dict(self) -> dict[str, Any]:
        return {"primaries": self.primaries, "transfer": self.transfer, "matrix": self.matrix,
                "range": self.range, "pix_fmt": self.pix_fmt, "bits": self.bits}


def _named(table: dict[int, str], value: Any) -> str | None:
    try:
        return table.get(int(value))
    except (TypeError, ValueError):
        return None


def probe_tags(path: str | Path) -> ClipTags:
    """The first video stream's colour tags; the first frame's fill in what the stream leaves unset."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise SourceColourError(f"{path} has no video stream")
        stream = container.streams.video[0]
        cc = stream.codec_context
        values = [cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range]
        fmt = av.VideoFormat(cc.pix_fmt) if cc.pix_fmt else None
        if None in (_named(PRIMARIES, values[0]), _named(TRANSFERS, values[1]), _named(MATRICES, values[2]),
                    _named(RANGES, values[3])) or fmt is None:
            frame = next(container.decode(stream), None)
            if frame is not None:
                fmt = frame.format
                found = [frame.color_primaries, frame.color_trc, frame.colorspace, frame.color_range]
                tables = (PRIMARIES, TRANSFERS, MATRICES, RANGES)
                values = [v if _named(t, v) else f for v, f, t in zip(values, found, tables, strict=True)]
    if fmt is None:
        raise SourceColourError(f"{path}: cannot tell the pixel format of its video")
    rgb = fmt.is_rgb
    return ClipTags(_named(PRIMARIES, values[0]), _named(TRANSFERS, values[1]), _named(MATRICES, values[2]),
                    _named(RANGES, values[3]), fmt.name, max(c.bits for c in fmt.components), rgb)


def space_from_tags(tags: ClipTags) -> tuple[str, str]:
    """(space name, how it was found) from a clip's tags; see the module docstring's table."""
    p, t = tags.primaries, tags.transfer
    if p is None and t is None:
        return DEFAULT_SPACE, f"untagged: taken as {DEFAULT_SPACE}"
    found: str | None = None
    if t == "smpte2084":
        found = {None: "rec2020_pq", "bt2020": "rec2020_pq", "smpte432": "p3d65_pq"}.get(p)
    elif t == "arib-std-b67":
        found = "rec2020_hlg" if p in (None, "bt2020") else None
    elif t == "iec61966-2-1":
        found = "display_p3" if p == "smpte432" else "srgb" if p is None or p in BT709_FAMILY else None
    elif t == "smpte428":
        found = {"smpte432": "p3d65", "smpte431": "p3dci"}.get(p or "")
    elif t == "linear":
        found = "lin_rec2020" if p == "bt2020" else "lin_rec709" if p is None or p in BT709_FAMILY else None
    elif t is None or t in VIDEO_CURVES:
        found = "rec2020" if p == "bt2020" else "rec709" if p is None or p in BT709_FAMILY else None
    if found is None:
        raise SourceColourError(
            f"its colour tags (primaries {p or 'unspecified'}, transfer {t or 'unspecified'}) name no colour "
            "space filmc converts from; declare one, e.g. `media \"...\" colour rec2020_pq`")
    return found, "tags"


@dataclass(frozen=True)
class Decoding:
    """How the clip's pixels become RGB: the YUV matrix (FFmpeg's name; None for RGB sources) and range."""

    matrix: str | None
    range: str
    """'tv' (limited) or 'pc' (full)."""

    def zscale_options(self) -> str:
        """zscale input options (exact in float: measured 0.00 10-bit codes off colour-science)."""
        if self.matrix is None:
            return ""
        return f":matrixin={self.matrix}:rangein={'limited' if self.range == 'tv' else 'full'}"

    def swscale_options(self) -> str:
        """The scale filter's input options, for an ffmpeg without zscale."""
        if self.matrix is None:
            return ""
        return f":in_color_matrix={DECODABLE_MATRICES[self.matrix]}:in_range={self.range}"

    def as_dict(self) -> dict[str, Any]:
        return {"matrix": self.matrix, "range": self.range}


def decoding(tags: ClipTags, source_space: str) -> Decoding:
    """The YUV matrix and range to decode with: the tags', else by primaries (BT.2020 NCL for Rec.2020
    spaces, BT.709 otherwise) and limited range."""
    if tags.rgb:
        return Decoding(None, "pc")
    matrix = tags.matrix
    if matrix is None or matrix == "gbr":
        matrix = "bt2020nc" if space(library_space(source_space)).primaries == "rec2020" else "bt709"
    if matrix not in DECODABLE_MATRICES:
        raise SourceColourError(f"its YUV matrix {matrix} cannot be decoded (conform knows "
                                f"{', '.join(sorted(DECODABLE_MATRICES))})")
    return Decoding(matrix, "pc" if tags.range == "pc" else "tv")


def rendering_for(source_space: str) -> Rendering:
    """Colorimetric for display-referred sources, the ACES output transform for scene-referred ones."""
    return "colorimetric" if space(library_space(source_space)).kind == "display" else "aces"


ConversionPath = Literal["baked", "exact"]


@dataclass(frozen=True)
class Conversion:
    """A clip's conversion into the output space: how it runs and its measured error against the exact chain.

    path "baked": `bake` runs in ffmpeg (`ffmpeg_filter`), and `accuracy` is its error measured with ffmpeg
    applying the same filters on the validation chart. path "exact": no bake came within
    ACCURACY_TARGET_CODES (`tried` lists them), so conform runs `chain` itself on every frame; its accuracy
    is 0 by construction (the frames go through the reference chain), not a measurement.
    """

    source: str
    output: str
    rendering: Rendering
    chain: ColourChain
    bake: Bake | StagedBake | None
    accuracy: dict[str, Any]
    bake_size: int | None = None
    path: ConversionPath = "baked"
    why: str = ""
    tried: tuple[dict[str, Any], ...] = ()

    @property
    def ffmpeg_filter(self) -> str | None:
        return self.bake.ffmpeg_filter if self.bake is not None else None

    def files(self) -> list[Path]:
        if isinstance(self.bake, StagedBake):
            return self.bake.files()
        if self.bake is None:
            return []
        return [p for p in (self.bake.shaper, self.bake.cube, self.bake.encoder) if p is not None]

    def describe(self) -> dict[str, Any]:
        found = {"from": self.source, "to": self.output, "rendering": self.rendering, "chain": self.chain.describe(),
                 "config": self.chain.params()["config"], "path": self.path, "why": self.why,
                 "tried": list(self.tried), "accuracy": self.accuracy}
        if isinstance(self.bake, StagedBake):
            return found | {"bake_size": self.bake.index.size, "bake_1d_size": BAKE_1D_SIZE,
                            "index": self.bake.index.describe(), "stages": self.bake.stages()}
        if self.bake is not None:
            stages = [{"filter": "lut3d" if kind == "cube" else "lut1d", "role": kind, "file": path.name}
                      for kind, path in (("shaper", self.bake.shaper), ("cube", self.bake.cube),
                                         ("encoder", self.bake.encoder)) if path is not None]
            return found | {"bake_size": self.bake_size, "bake_1d_size": BAKE_1D_SIZE, "stages": stages}
        return found | {"bake_size": None, "stages": [{"filter": "python", "role": "exact OCIO chain"}]}


def library_space(source_space: str) -> str:
    """The colour library's name for a media colour name."""
    if source_space not in SOURCE_SPACES:
        raise SourceColourError(f"unknown media colour space {source_space!r}; known: {', '.join(SOURCE_SPACES)}")
    return SOURCE_SPACES[source_space]


def needs_conversion(source_space: str, output_space: str) -> bool:
    return space(library_space(source_space)).name != space(output_space).name


def conversion_chain(source_space: str, output_space: str) -> ColourChain:
    """The exact OCIO chain from a media colour name to the film's output space (no grade)."""
    return build_chain(None, library_space(source_space), output_space, rendering=rendering_for(source_space))


def shaper_for_source(chain: ColourChain) -> Shaper | None:
    """The input stage for a display source whose signal reaches far above the output's peak (PQ, HLG
    into SDR): a linear shaper up to the code of HDR_SHAPER_HEADROOM times the output's peak light, on
    grey. None: bake.py's own choice."""
    src = space(chain.src)
    if src.kind != "display" or space(chain.dst).kind != "display":
        return None
    light = HDR_SHAPER_HEADROOM * chain_peak_light(chain)
    xyz = (white_xyz("rec709") * light).astype(np.float32)[None]
    to_code = ocio.ColorSpaceTransform(src="CIE XYZ-D65 - Display-referred", dst=src.ocio_name)
    top = float(apply_processor(cpu_processor(to_code), xyz).max())
    if top >= 1.0:
        return None
    return Shaper("power", power=HDR_SHAPER_POWER, knee=round(top, 6))


_CONVERSIONS: dict[tuple[str, str, float], Conversion] = {}


def _accuracy(chain: ColourChain, bake: Bake | StagedBake) -> dict[str, Any]:
    """The bake's error on the chart, with ffmpeg itself applying its filters."""
    report = measure_bake(chain, bake, engine="ffmpeg", random=False)
    return {"max_10bit_codes": round(report.max_codes, 3), "p99_10bit_codes": round(report.p99_codes, 3),
            "in_gamut": report.in_gamut, "chart": report.total, "measured": "ffmpeg"}


def _candidates(chain: ColourChain, folder: Path) -> Iterator[tuple[str, int, Bake | StagedBake]]:
    """(description, lattice size, bake) in the order tried: a scene-referred source's staged bake first,
    then single lattices of growing size (made only when reached)."""
    if space(chain.src).kind != "display":
        staged = bake_scene_source(chain, folder, lut1d_size=BAKE_1D_SIZE)
        if staged is not None:
            size = staged.index.size
            yield f"exact decoding into ACEScg, {size}^3 ACEScg lattice", size, staged
    for size in BAKE_SIZES:
        yield f"{size}^3 lattice", size, bake_chain(chain, folder, size=size, lut1d_size=BAKE_1D_SIZE,
                                                      shaper=shaper_for_source(chain))


def _convert(source_space: str, output: str, folder: Path, target: float) -> Conversion:
    chain = conversion_chain(source_space, output)
    tried: list[dict[str, Any]] = []
    for what, size, bake in _candidates(chain, folder):
        accuracy = _accuracy(chain, bake)
        tried.append({"bake": what, "max_10bit_codes": accuracy["max_10bit_codes"]})
        if accuracy["max_10bit_codes"] <= target:
            why = f"{what}: {accuracy['max_10bit_codes']:.2f} <= {target:g} codes, measured through ffmpeg"
            return Conversion(source_space, output, chain.rendering, chain, bake, accuracy, size, "baked", why,
                              tuple(tried))
    chart = len(validation_chart(chain.src))
    accuracy = {"max_10bit_codes": 0.0, "p99_10bit_codes": 0.0, "in_gamut": chart, "chart": chart,
                "measured": None, "by_construction": "every frame goes through the exact OCIO chain in float32"}
    why = "no bake within {:g} codes ({}): the exact chain runs frame by frame".format(
        target, ", ".join(f"{t['bake']} {t['max_10bit_codes']:.2f}" for t in tried))
    return Conversion(source_space, output, chain.rendering, chain, None, accuracy, None, "exact", why,
                      tuple(tried))


def conversion(source_space: str, output_space: str, bake_dir: str | Path | None = None) -> Conversion | None:
    """The conversion from `source_space` (a media colour name) to `output_space`; None if the same.

    The first bake (see `_candidates`) whose error, measured through ffmpeg, is within
    ACCURACY_TARGET_CODES; else the exact chain, frame by frame. Bakes and their measurements are kept
    per process; `bake_dir` defaults to a temporary folder that lives as long as the process.
    """
    if not needs_conversion(source_space, output_space):
        return None
    output = space(output_space).name
    key = (source_space, output, ACCURACY_TARGET_CODES)
    if key not in _CONVERSIONS:
        folder = Path(bake_dir) if bake_dir else process_bake_dir("source-bakes")
        _CONVERSIONS[key] = _convert(source_space, output, folder, ACCURACY_TARGET_CODES)
    found = _CONVERSIONS[key]
    if not all(p.is_file() for p in found.files()):
        del _CONVERSIONS[key]
        return conversion(source_space, output_space, bake_dir)
    return found
