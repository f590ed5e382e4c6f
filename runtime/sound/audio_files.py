"""Decode user audio (any format FFmpeg reads) to 48 kHz float32 with PyAV."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

from .dsp import SAMPLE_RATE
from .errors import SoundError


def decode_audio(path: str | os.PathLike, channels: int | None = None, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Return the first audio stream of a file as float32 ``(n, channels)`` at ``sample_rate``.

    ``channels`` 1 or 2 forces a down/up-mix; ``None`` keeps mono and stereo as they are and
    folds anything wider to stereo (beds and effects are placed by the mixer).
    """
    path = Path(path)
    if not path.is_file():
        raise SoundError(f"audio file not found: {path}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise SoundError(f"{path} has no audio stream")
            stream = container.streams.audio[0]
            source_channels = stream.codec_context.channels or 2
            out_channels = channels or (source_channels if source_channels <= 2 else 2)
            layout = "mono" if out_channels == 1 else "stereo"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
            parts: list[np.ndarray] = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray())
            for out in resampler.resample(None):
                parts.append(out.to_ndarray())
    except av.FFmpegError as exc:
        raise SoundError(f"cannot decode audio file {path}: {exc}") from exc
    if not parts:
        raise SoundError(f"{path} contains no audio samples")
    return np.ascontiguousarray(np.concatenate(parts, axis=1).T, dtype=np.float32)
