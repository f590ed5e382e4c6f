"""FFmpeg's ebur128 meter (BS.1770 loudness, true peak): the independent meter QC and the encodes read.

Its own module, free of numpy and scipy, so that the ops that only measure a file (QC, the encodes)
do not import the sound engine's DSP."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

import imageio_ffmpeg

from .errors import SoundError

EBUR128_RECORD = "ebur128"
"""Where a file's own record (the mix's loudness.json) keeps this meter's reading of it."""


@dataclass(frozen=True)
class EbuR128Measurement:
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float


_SUMMARY = {
    "integrated_lufs": re.compile(r"I:\s+(-?[\d.]+|-inf)\s+LUFS"),
    "loudness_range_lu": re.compile(r"LRA:\s+(-?[\d.]+)\s+LU"),
    "true_peak_dbtp": re.compile(r"Peak:\s+(-?[\d.]+|-inf)\s+dBFS"),
}


def measure_ebur128(path: str | os.PathLike) -> EbuR128Measurement:
    """Measure a file with FFmpeg's ebur128 filter (true peak on): the independent meter. Only its
    sound is read (-vn: a film's picture would otherwise be decoded for nothing, twice the time),
    and only its summary is printed (framelog=quiet: not ten lines of text a second to parse past)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostats", "-hide_banner", "-i", os.fspath(path),
           "-vn", "-sn", "-dn", "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SoundError(f"ffmpeg could not measure {path}: {proc.stderr.strip()[-400:]}")
    summary = proc.stderr[proc.stderr.rfind("Summary:") :]
    values = {}
    for key, pattern in _SUMMARY.items():
        match = pattern.search(summary)
        if not match:
            raise SoundError(f"ffmpeg ebur128 summary for {path} has no {key}")
        values[key] = float(match.group(1))
    return EbuR128Measurement(**values)
