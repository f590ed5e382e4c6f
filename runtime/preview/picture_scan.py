"""Black and frozen stretches of an encoded picture (ffmpeg blackdetect + freezedetect).

The scan runs where the stream is made: encode_video has ffmpeg decode its own
encoder's output in the same process (a loopback decoder, `-dec 0:0`, FFmpeg 7.1
and later) while it encodes, so what is scanned is the delivered bitstream and no
one decodes the film again after the encode (QC used to: half a second at the end
of every preview build). An older ffmpeg gets the same scan of the written file
once the encode is done. The result, picture_scan.json, travels with the encode
to QC, which judges it against the edit's intended black and still frames.
"""

from __future__ import annotations

import functools
import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from filmc.compiler.plan import PICTURE_SCAN
from filmc.runtime.colour.cube import atomic_write_text
from filmc.runtime.media_tools import ffmpeg, ffmpeg_exe

from .tools import fps_fraction

SCAN_NAME = PICTURE_SCAN
BLACK_FILTER = "blackdetect=d=0:pic_th=0.98:pix_th=0.05"
FREEZE_SECONDS = 2
FREEZE_FILTER = f"freezedetect=n=-60dB:d={FREEZE_SECONDS}"
SCAN_FILTERS = f"{BLACK_FILTER},{FREEZE_FILTER}"
LOOPBACK_SINCE = (7, 1)
"""FFmpeg release that added loopback decoders (`-dec`)."""


@functools.lru_cache(maxsize=1)
def has_loopback_decoding() -> bool:
    """Whether the ffmpeg in use can decode an encoder's output in the same run. Release numbers
    answer it; a build without one (a git snapshot) is asked directly with a one-frame encode."""
    m = re.match(r"n?(\d+)\.(\d+)", ffmpeg().version)
    if m:
        return (int(m.group(1)), int(m.group(2))) >= LOOPBACK_SINCE
    from filmc.runtime.backend import NodeError, run_tool

    try:
        run_tool([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                  "color=s=16x16:d=0.04", "-c:v", "rawvideo", "-f", "null", "-", *loopback_args()], timeout_s=30)
    except NodeError:
        return False
    return True


def loopback_args(output_index: int = 0) -> list[str]:
    """ffmpeg arguments, after the encoded output, that scan that output's decoded video (stream 0)."""
    return ["-dec", f"{output_index}:0", "-filter_complex", f"[dec:0]{SCAN_FILTERS}[scan]", "-map", "[scan]",
            "-f", "null", "-"]


def parse_scan(log: str, fps: str, frames: int) -> dict[str, list[list[int]]]:
    """Black and frozen stretches as [first, end) frame ranges, from ffmpeg's log (info level).
    A stretch still open when the picture ends (a fade out to black, a still last shot) ends with it."""
    rate = fps_fraction(fps)

    def frame(seconds: str) -> int:
        return min(frames, round(Fraction(seconds) * rate))

    black = [[frame(a), min(frames, frame(b) + 1 if frame(b) >= frames - 1 else frame(b))]
             for a, b in re.findall(r"black_start:([\d.]+) black_end:([\d.]+)", log)]
    starts = [frame(s) for s in re.findall(r"freeze_start: ([\d.]+)", log)]
    ends = [frame(s) for s in re.findall(r"freeze_end: ([\d.]+)", log)]
    frozen = [[s, ends[k] if k < len(ends) else frames] for k, s in enumerate(starts)]
    return {"black": black, "frozen": frozen}


def scan_input(path: Path, fps: str, sequence: bool) -> list[str]:
    """ffmpeg input options that read a written picture: a file, or an image sequence's pattern."""
    return ["-framerate", fps, "-start_number", "0", "-i", str(path)] if sequence else ["-i", str(path)]


def scan_picture(args: list[str], fps: str, frames: int) -> dict[str, list[list[int]]]:
    """Decode a written picture (`args`: ffmpeg input options) and scan it."""
    from filmc.runtime.backend import run_tool

    proc = run_tool([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "info", *args, "-map", "0:v:0",
                     "-vf", SCAN_FILTERS, "-an", "-f", "null", "-"])
    return parse_scan(proc.stderr.decode("utf-8", "replace"), fps, frames)


def write_scan(workdir: Path, scan: dict[str, list[list[int]]], method: str) -> None:
    atomic_write_text(workdir / SCAN_NAME, json.dumps({**scan, "method": method}, indent=1, sort_keys=True))


def read_scan(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / SCAN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
