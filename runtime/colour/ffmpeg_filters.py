"""ffmpeg filter strings for LUTs, and a raw-pipe runner to check them.

Frames go through ffmpeg as planar float (gbrpf32le) or 16-bit RGB (rgb48le)
raw video so no YUV conversion touches the pixels being compared.
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

_LEVEL1 = str.maketrans({"\\": "\\\\", "'": "\\'", ":": "\\:"})
_LEVEL2 = str.maketrans({"\\": "\\\\", "'": "\\'", "[": "\\[", "]": "\\]", ",": "\\,", ";": "\\;"})


def filter_path(path: str | os.PathLike[str]) -> str:
    """Escape a file path for use as a filter option value inside a filtergraph string."""
    return str(Path(path).resolve()).translate(_LEVEL1).translate(_LEVEL2)


def lut3d_filter(cube: str | os.PathLike[str]) -> str:
    return f"lut3d=file={filter_path(cube)}:interp=tetrahedral"


def lut1d_filter(cube: str | os.PathLike[str]) -> str:
    return f"lut1d=file={filter_path(cube)}:interp=linear"


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


PipeFormat = Literal["gbrpf32le", "rgb48le"]


def _to_raw(image: np.ndarray, fmt: PipeFormat) -> bytes:
    if fmt == "gbrpf32le":
        planes = np.asarray(image, dtype=np.float32)[..., [1, 2, 0]]
        return np.ascontiguousarray(np.moveaxis(planes, -1, 0)).astype("<f4").tobytes()
    codes = np.clip(np.round(np.asarray(image, dtype=np.float64) * 65535.0), 0, 65535)
    return codes.astype("<u2").tobytes()


def _from_raw(raw: bytes, height: int, width: int, fmt: PipeFormat) -> np.ndarray:
    if fmt == "gbrpf32le":
        planes = np.frombuffer(raw, dtype="<f4").reshape(3, height, width)
        return np.ascontiguousarray(np.moveaxis(planes, 0, -1)[..., [2, 0, 1]])
    return np.frombuffer(raw, dtype="<u2").reshape(height, width, 3).astype(np.float32) / 65535.0


def run_filter(image: np.ndarray, vf: str, fmt: PipeFormat = "gbrpf32le") -> np.ndarray:
    """Pass one H x W x 3 float frame through an ffmpeg filter chain; returns float32 H x W x 3.

    rgb48le quantises input and output to 16 bits (clipping to 0-1); gbrpf32le keeps floats.
    """
    height, width = image.shape[:2]
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-f", "rawvideo", "-pix_fmt", fmt, "-s", f"{width}x{height}", "-i", "pipe:0",
        "-vf", f"{vf},format={fmt}", "-f", "rawvideo", "-pix_fmt", fmt, "pipe:1",
    ]  # fmt: skip
    proc = subprocess.run(cmd, input=_to_raw(image, fmt), capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg filter {vf!r} failed: {proc.stderr.decode(errors='replace').strip()}")
    expected = height * width * 3 * (4 if fmt == "gbrpf32le" else 2)
    if len(proc.stdout) != expected:
        raise RuntimeError(f"ffmpeg returned {len(proc.stdout)} bytes, expected {expected}")
    return _from_raw(proc.stdout, height, width, fmt)
