"""ffmpeg colour tags per output space, for the encoder.

`-color_primaries/-color_trc/-colorspace` alone are not reliably written
(FACTS.md), and without `out_color_matrix` swscale converts RGB->YUV with
BT.601, so every output ends its filter chain with `OutputTags.filter_tail()`:
``scale=out_color_matrix=...:out_range=tv,setparams=...``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spaces import OUTPUT_SPACES, space


@dataclass(frozen=True)
class MasteringDisplay:
    """SMPTE ST 2086 mastering display colour volume (values in natural units)."""

    red: tuple[float, float]
    green: tuple[float, float]
    blue: tuple[float, float]
    white: tuple[float, float]
    max_nits: float
    min_nits: float

    def x265(self) -> str:
        """`master-display=` value for libx265 (-x265-params): xy in 1/50000, luminance in 1/10000 nit."""

        def xy(p: tuple[float, float]) -> str:
            return f"({round(p[0] * 50000)},{round(p[1] * 50000)})"

        return (
            f"G{xy(self.green)}B{xy(self.blue)}R{xy(self.red)}WP{xy(self.white)}"
            f"L({round(self.max_nits * 10000)},{round(self.min_nits * 10000)})"
        )

    def svtav1(self) -> str:
        """`mastering-display=` value for libsvtav1 (-svtav1-params)."""

        def xy(p: tuple[float, float]) -> str:
            return f"({p[0]:g},{p[1]:g})"

        return (
            f"G{xy(self.green)}B{xy(self.blue)}R{xy(self.red)}WP{xy(self.white)}"
            f"L({self.max_nits:g},{self.min_nits:g})"
        )


@dataclass(frozen=True)
class OutputTags:
    """Tags for one output space. Names are ffmpeg's option values."""

    output: str
    primaries: str
    """setparams color_primaries / -color_primaries."""
    trc: str
    """setparams color_trc / -color_trc."""
    matrix: str
    """setparams colorspace / -colorspace (the YUV matrix)."""
    scale_matrix: str
    """scale out_color_matrix (swscale spells BT.2020 NCL 'bt2020')."""
    range: str = "tv"
    min_bit_depth: int = 8
    mastering_display: MasteringDisplay | None = None
    note: str = ""

    def scale_filter(self) -> str:
        return f"scale=out_color_matrix={self.scale_matrix}:out_range={self.range}"

    def setparams_filter(self) -> str:
        return (
            f"setparams=color_primaries={self.primaries}:color_trc={self.trc}"
            f":colorspace={self.matrix}:range={self.range}"
        )

    def filter_tail(self) -> str:
        """The last filters of every encode chain for this output (after format conversion to YUV)."""
        return f"{self.scale_filter()},{self.setparams_filter()}"

    def output_args(self) -> list[str]:
        """Container/stream flags that repeat the tags (harmless, and read by muxers that honour them)."""
        return [
            "-color_primaries", self.primaries,
            "-color_trc", self.trc,
            "-colorspace", self.matrix,
            "-color_range", self.range,
        ]  # fmt: skip


_REC2020_1000 = MasteringDisplay(
    red=(0.708, 0.292),
    green=(0.170, 0.797),
    blue=(0.131, 0.046),
    white=(0.3127, 0.3290),
    max_nits=1000.0,
    min_nits=0.0001,
)

FFMPEG_TAGS: dict[str, OutputTags] = {
    "rec709": OutputTags("rec709", "bt709", "bt709", "bt709", "bt709"),
    "srgb": OutputTags("srgb", "bt709", "iec61966-2-1", "bt709", "bt709"),
    "rec2020": OutputTags("rec2020", "bt2020", "bt2020-10", "bt2020nc", "bt2020", min_bit_depth=10),
    "p3d65": OutputTags(
        "p3d65",
        "smpte432",
        "smpte428",
        "bt709",
        "bt709",
        min_bit_depth=10,
        note="H.273 has no pure gamma-2.6 code; SMPTE ST 428-1 is the conventional tag for P3 gamma 2.6.",
    ),
    "hdr10": OutputTags(
        "hdr10",
        "bt2020",
        "smpte2084",
        "bt2020nc",
        "bt2020",
        min_bit_depth=10,
        mastering_display=_REC2020_1000,
        note="ACES 1000-nit view limited to Rec.2020; pass content light levels from content_light_levels().",
    ),
}
assert set(FFMPEG_TAGS) == set(OUTPUT_SPACES)


def tags_for(output: str) -> OutputTags:
    """Tags for an output space name (accepts the same spellings as `spaces.space`)."""
    name = space(output).name
    if name not in FFMPEG_TAGS:
        raise ValueError(f"{output!r} is not an output space; outputs: {', '.join(OUTPUT_SPACES)}")
    return FFMPEG_TAGS[name]


_PQ_M1 = 2610 / 16384
_PQ_M2 = 2523 / 4096 * 128
_PQ_C1 = 3424 / 4096
_PQ_C2 = 2413 / 4096 * 32
_PQ_C3 = 2392 / 4096 * 32


def pq_to_nits(code: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 EOTF: normalised PQ code value (0-1) -> absolute luminance in cd/m²."""
    e = np.clip(np.asarray(code, dtype=np.float64), 0.0, 1.0) ** (1.0 / _PQ_M2)
    return 10000.0 * (np.maximum(e - _PQ_C1, 0.0) / (_PQ_C2 - _PQ_C3 * e)) ** (1.0 / _PQ_M1)


def content_light_levels(frames_pq: np.ndarray) -> tuple[int, int]:
    """(MaxCLL, MaxFALL) in nits (CTA-861.3) of PQ-encoded RGB frames shaped (F, H, W, 3) or (H, W, 3).

    MaxCLL is the brightest pixel's max(R,G,B); MaxFALL the brightest frame-average of max(R,G,B).
    """
    frames = np.asarray(frames_pq)
    if frames.ndim == 3:
        frames = frames[None]
    light = pq_to_nits(frames.max(axis=-1))
    return int(round(float(light.max()))), int(round(float(light.mean(axis=(1, 2)).max())))
