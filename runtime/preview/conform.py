"""The `conform` op: a `media` shot's footage, trimmed, retimed and framed like a rendered shot.

The footage is read from `in_seconds` (accurate seek), converted to the film
rate by timestamps (`fps`), scaled to *fill* the frame (cover, centre crop: no
letterbox bars inside a film) and turned into planar RGB with the source's own
YUV matrix (BT.709 when the file does not say). Exactly `frames` frames are
written: a source that ends early holds its last frame. The intermediate is
lossless FFV1 (gbrp) in `clip.mov`, so only media shots are encoded twice.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path
from typing import Any

from filmc.compiler.plan import resolve_path
from filmc.runtime.backend import NodeError
from filmc.runtime.media_tools import probe

from .tools import BITEXACT, ffmpeg, seconds_text

KNOWN_MATRICES = {"bt709": "bt709", "smpte170m": "smpte170m", "bt470bg": "bt601", "bt2020nc": "bt2020"}


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def conform_clip(params: dict[str, Any], film: str, out: Path, threads: int) -> None:
    """Write the conformed clip to `out`."""
    shot = params["shot"]
    source = resolve_path(params["path"], film)
    if not source.is_file():
        raise NodeError(f"shot {shot}: media file not found: {source}")
    if source.stat().st_size != params.get("size") or _sha256(source) != params.get("sha256"):
        raise NodeError(f"shot {shot}: media file {source} changed after the film was planned; build again")
    try:
        info = probe(source)
    except Exception as exc:  # PyAV raises its own error types for unreadable files
        raise NodeError(f"shot {shot}: cannot read media file {source}: {exc}") from None
    video = info.video()
    if video is None:
        raise NodeError(f"shot {shot}: media file {source} has no video stream")
    width, height = params["resolution"]
    frames = int(params["frames"])
    matrix = KNOWN_MATRICES.get(video.color_space or "", "bt709")
    start = Fraction(str(params.get("in_seconds") or "0"))
    filters = [
        f"fps={params['fps']}",
        f"scale=w={width}:h={height}:force_original_aspect_ratio=increase:in_color_matrix={matrix}"
        ":flags=bicubic",
        f"crop={width}:{height}",
        "format=gbrp",
        f"tpad=stop_mode=clone:stop={frames}",
    ]
    args = ["-ss", seconds_text(start), "-i", str(source), "-map", "0:v:0", "-an", "-sn", "-dn",
            "-vf", ",".join(filters), "-frames:v", str(frames), "-c:v", "ffv1", "-level", "3", "-pix_fmt", "gbrp",
            "-threads", str(max(1, threads)), *BITEXACT, "-f", "mov", str(out)]
    ffmpeg(args)
    counted = probe(out, count_frames=True).video()
    if counted is None or counted.frames != frames:
        raise NodeError(f"shot {shot}: conformed clip has {counted.frames if counted else 0} frames, "
                        f"expected {frames}")
