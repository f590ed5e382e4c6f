"""Helpers for the media colour tests: patch charts encoded as real footage, and an independent reference.

A chart is a 4 x 2 grid of flat patches. Its colours are chosen as Rec.709
display light (in gamut, at most 100 nits) and encoded into the clip's own
space, so every conversion back into rec709 has an exact answer; that answer
is computed here with colour-science, never with filmc's colour library.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import colour
import numpy as np
from filmc.runtime.media_tools import ffmpeg_exe

SIZE = (128, 72)
GRID = (4, 2)
PATCHES_709_LIGHT = np.array([
    [0.18, 0.18, 0.18], [0.80, 0.80, 0.80], [0.60, 0.10, 0.05], [0.10, 0.50, 0.10],
    [0.05, 0.08, 0.50], [0.45, 0.30, 0.22], [0.70, 0.60, 0.05], [0.05, 0.40, 0.50],
])  # fmt: skip
"""Rec.709 display light (1.0 = 100 nits): grey, near-white, red, green, blue, skin, yellow, cyan."""

BT709 = colour.RGB_COLOURSPACES["ITU-R BT.709"]
BT2020 = colour.RGB_COLOURSPACES["ITU-R BT.2020"]


def light_709_to_2020(light: np.ndarray) -> np.ndarray:
    return colour.RGB_to_RGB(light, BT709, BT2020, chromatic_adaptation_transform=None)


def light_2020_to_709(light: np.ndarray) -> np.ndarray:
    return colour.RGB_to_RGB(light, BT2020, BT709, chromatic_adaptation_transform=None)


def bt1886_encode(light: np.ndarray) -> np.ndarray:
    """BT.1886 inverse EOTF with a zero black level: what a rec709 film's code values mean."""
    return colour.models.eotf_inverse_BT1886(np.clip(light, 0.0, 1.0), L_B=0, L_W=1)


def bt1886_decode(code: np.ndarray) -> np.ndarray:
    return colour.models.eotf_BT1886(np.asarray(code, dtype=np.float64), L_B=0, L_W=1)


def pq_encode(light_100: np.ndarray) -> np.ndarray:
    """ST 2084 inverse EOTF of light where 1.0 = 100 cd/m²."""
    return colour.models.eotf_inverse_ST2084(np.asarray(light_100) * 100.0)


def pq_decode(code: np.ndarray) -> np.ndarray:
    return colour.models.eotf_ST2084(np.asarray(code, dtype=np.float64)) / 100.0


HLG_PEAK_NITS = 1000.0


def hlg_encode(light_100: np.ndarray) -> np.ndarray:
    """BT.2100 HLG inverse EOTF for a 1000-nit display (system gamma 1.2), light where 1.0 = 100 cd/m²."""
    with np.errstate(invalid="ignore"):  # colour-science evaluates both branches of the OETF's np.where
        return colour.models.eotf_inverse_BT2100_HLG(np.asarray(light_100) * 100.0, L_B=0, L_W=HLG_PEAK_NITS)


def hlg_decode(code: np.ndarray) -> np.ndarray:
    return colour.models.eotf_BT2100_HLG(np.asarray(code, dtype=np.float64), L_B=0, L_W=HLG_PEAK_NITS) / 100.0


def chart_picture(patches: np.ndarray, size: tuple[int, int] = SIZE) -> np.ndarray:
    """H x W x 3 float picture of the patches (row-major over GRID)."""
    w, h = size
    cols, rows = GRID
    out = np.zeros((h, w, 3))
    for i, rgb in enumerate(patches):
        r, c = divmod(i, cols)
        out[r * h // rows:(r + 1) * h // rows, c * w // cols:(c + 1) * w // cols] = rgb
    return out


def patch_means(picture: np.ndarray) -> np.ndarray:
    """Mean of each patch's centre (half its width and height), N x 3, in the picture's units."""
    h, w = picture.shape[:2]
    cols, rows = GRID
    ph, pw = h // rows, w // cols
    means = []
    for i in range(cols * rows):
        r, c = divmod(i, cols)
        y0, x0 = r * ph + ph // 4, c * pw + pw // 4
        means.append(picture[y0:y0 + ph // 2, x0:x0 + pw // 2].reshape(-1, 3).mean(axis=0))
    return np.array(means)


def _ffmpeg_encode(path: Path, raw: bytes, pix_fmt: str, size: tuple[int, int], args: list[str]) -> Path:
    w, h = size
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
           "-pix_fmt", pix_fmt, "-s", f"{w}x{h}", "-r", "24", "-i", "pipe:0", *args, "-pix_fmt", pix_fmt, str(path)]
    subprocess.run(cmd, input=raw, check=True)
    return path


def yuv_clip(path: Path, codes: np.ndarray, *, weights: str, bits: int, chroma: str, codec: list[str],
             tags: tuple[str, str, str] | None, frames: int = 24) -> Path:
    """Encode R'G'B' code values (H x W x 3, 0-1) as limited-range Y'CbCr computed here (colour-science),
    so no ffmpeg conversion touches the pixels: the raw planes go in in the encoder's own format.
    `chroma` is "420" or "422"; `tags` (primaries, transfer, matrix) are set on the frames, or none."""
    ycbcr = colour.RGB_to_YCbCr(codes, K=colour.WEIGHTS_YCBCR[weights], out_bits=bits, out_legal=True,
                                out_int=True)
    y, cb, cr = (ycbcr[..., i] for i in range(3))
    step = (2, 2) if chroma == "420" else (1, 2)
    cb, cr = cb[::step[0], ::step[1]], cr[::step[0], ::step[1]]
    dtype = "<u2" if bits > 8 else "u1"
    raw = b"".join(np.ascontiguousarray(p).astype(dtype).tobytes() for p in (y, cb, cr))
    pix_fmt = f"yuv{chroma}p" + (f"{bits}le" if bits > 8 else "")
    vf = ["-vf", f"setparams=color_primaries={tags[0]}:color_trc={tags[1]}:colorspace={tags[2]}:range=tv"] \
        if tags else []
    h, w = codes.shape[:2]
    return _ffmpeg_encode(path, raw * frames, pix_fmt, (w, h), ["-frames:v", str(frames), *vf, *codec])


def rgb10_clip(path: Path, codes: np.ndarray, frames: int = 24) -> Path:
    """Encode R'G'B' code values as untagged 10-bit planar RGB FFV1 (no matrix, no tags)."""
    ints = np.round(np.clip(codes, 0, 1) * 1023).astype("<u2")
    raw = np.ascontiguousarray(np.moveaxis(ints[..., [1, 2, 0]], -1, 0)).tobytes()
    h, w = codes.shape[:2]
    return _ffmpeg_encode(path, raw * frames, "gbrp10le", (w, h), ["-frames:v", str(frames), "-c:v", "ffv1"])


X265_LOSSLESS = ["-c:v", "libx265", "-x265-params", "lossless=1:log-level=error"]
X264_LOSSLESS = ["-c:v", "libx264", "-preset", "veryfast", "-qp", "0"]
PRORES_HQ = ["-c:v", "prores_ks", "-profile:v", "3"]


def pq2020_clip(path: Path) -> Path:
    """The chart as Rec.2100 PQ: 10-bit 4:2:0 HEVC (lossless), tagged bt2020 / smpte2084 / bt2020nc."""
    codes = chart_picture(pq_encode(light_709_to_2020(PATCHES_709_LIGHT)))
    return yuv_clip(path, codes, weights="ITU-R BT.2020", bits=10, chroma="420", codec=X265_LOSSLESS,
                    tags=("bt2020", "smpte2084", "bt2020nc"))


def hlg2020_clip(path: Path) -> Path:
    """The chart as Rec.2100 HLG (1000-nit display): 10-bit 4:2:2 ProRes HQ, tagged arib-std-b67."""
    codes = chart_picture(hlg_encode(light_709_to_2020(PATCHES_709_LIGHT)))
    return yuv_clip(path, codes, weights="ITU-R BT.2020", bits=10, chroma="422", codec=PRORES_HQ,
                    tags=("bt2020", "arib-std-b67", "bt2020nc"))


def rec709_clip(path: Path) -> Path:
    """The chart as Rec.709 (BT.1886 codes): 8-bit 4:2:0 H.264 (lossless), tagged bt709."""
    codes = chart_picture(bt1886_encode(PATCHES_709_LIGHT))
    return yuv_clip(path, codes, weights="ITU-R BT.709", bits=8, chroma="420", codec=X264_LOSSLESS,
                    tags=("bt709", "bt709", "bt709"))


def untagged_rec2020_clip(path: Path) -> Path:
    """The chart as Rec.2020 SDR (BT.1886) codes in untagged 10-bit RGB FFV1."""
    return rgb10_clip(path, chart_picture(bt1886_encode(light_709_to_2020(PATCHES_709_LIGHT))))


def expected_709_codes() -> np.ndarray:
    """The patches as rec709 code values (0-1): the answer every conversion into rec709 must give."""
    return bt1886_encode(PATCHES_709_LIGHT)


def decode_rgb(path: Path, frame: int = 0) -> np.ndarray:
    """One frame of a clip as float RGB 0-1 (RGB clips unconverted; YUV by its own tagged matrix)."""
    with av.open(str(path)) as container:
        for i, f in enumerate(container.decode(video=0)):
            if i == frame:  # planar RGB (conformed clips) goes to rgb24 losslessly, in R, G, B order
                return f.to_ndarray(format="rgb24").astype(np.float64) / 255.0
    raise ValueError(f"{path} has no frame {frame}")


def source_patch_codes(path: Path, weights: str) -> np.ndarray:
    """The first frame's patch colours as R'G'B' code values (0-1), decoded here from the raw Y'CbCr
    planes with colour-science (limited range, `weights` e.g. "ITU-R BT.2020"), not by ffmpeg."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    fmt = frame.format
    bits = fmt.components[0].bits
    dtype = "<u2" if bits > 8 else "u1"
    planes = []
    for plane, comp in zip(frame.planes, fmt.components, strict=False):
        h = frame.height >> (comp.plane and fmt.name.startswith("yuv420") and 1)
        row = np.frombuffer(bytes(plane), dtype=dtype).reshape(h, -1)
        w = frame.width if comp.plane == 0 else -(-frame.width // 2)
        # Chroma planes are brought to full size by repetition; patch centres are flat, so means are exact.
        full = row[:, :w].repeat(frame.height // h, axis=0)
        planes.append(full.repeat(frame.width // w, axis=1).astype(np.float64))
    ycbcr = patch_means(np.stack(planes[:3], axis=-1))
    return colour.YCbCr_to_RGB(ycbcr, K=colour.WEIGHTS_YCBCR[weights], in_bits=bits, in_legal=True, in_int=True)


def delta_e_2000_709(codes_a: np.ndarray, codes_b: np.ndarray) -> np.ndarray:
    """CIEDE2000 between two sets of rec709 code values (BT.1886 display, D65)."""

    def lab(codes: np.ndarray) -> np.ndarray:
        xyz = colour.RGB_to_XYZ(bt1886_decode(codes), BT709, illuminant=BT709.whitepoint)
        return colour.XYZ_to_Lab(xyz, BT709.whitepoint)

    return colour.delta_E(lab(codes_a), lab(codes_b), method="CIE 2000")
