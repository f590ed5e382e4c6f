"""WAV stems: 48 kHz 24-bit PCM written atomically, and a reader for what we (and others) write.

Files deeper than 16 bits or wider than stereo are WAVE_FORMAT_EXTENSIBLE with a channel mask,
as the format asks, so tools know a 6-channel file is 5.1 in the order FL FR FC LFE BL BR
(mask 0x3F) and meters leave the LFE out of loudness.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
from filmc.atomic import replacing

from .dsp import SAMPLE_RATE, as_frames
from .errors import SoundError

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_KSDATAFORMAT_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
CHANNEL_MASKS = {1: 0x4, 2: 0x3, 6: 0x3F}
STEM_NAMES = ("dialogue", "ambience", "music", "sfx")
_MAX_RIFF_BYTES = 0xFFFFFFFF - 64
_BLOCK_FRAMES = 1 << 15
"""Frames converted per write: the conversion's buffers are allocated once and stay in cache."""
_LOW3 = np.dtype({"names": ["b"], "formats": ["V3"], "offsets": [0], "itemsize": 4})
"""An int32's three low (little-endian) bytes as one item: a 24-bit sample, copied as a unit."""
_HIGH3 = np.dtype({"names": ["b"], "formats": ["V3"], "offsets": [1], "itemsize": 4})
"""An int32's three high bytes: a 24-bit sample put there reads back shifted left by 8."""


def _pcm_blocks(frames: np.ndarray, bits: int, gain: float = 1.0) -> Iterator[np.ndarray]:
    """The samples times ``gain`` as PCM bytes, one block of frames at a time.

    Each block is a view of one reused buffer, valid until the next is made. The gain folds into
    the quantiser's scale, ``float32(gain) * 2**23`` (2**15 at 16 bits): multiplying by a power of
    two rounds nothing, so each code is the one ``samples * float32(gain)`` would be written as."""
    n, channels = frames.shape
    g = np.float32(gain)
    size = min(n, _BLOCK_FRAMES) * channels
    scaled = np.empty(size, dtype=np.float32)
    if bits == 32:
        for start in range(0, n, _BLOCK_FRAMES):
            block = frames[start : start + _BLOCK_FRAMES]
            m = block.shape[0] * channels
            if g == 1:
                np.copyto(scaled[:m].reshape(block.shape), block)
            else:
                np.multiply(block, g, out=scaled[:m].reshape(block.shape))
            yield scaled[:m].astype("<f4", copy=False).view(np.uint8)
        return
    full = 8388608 if bits == 24 else 32768
    scale = g * np.float32(full)  # exact: full is a power of two
    codes = np.empty(size, dtype="<i4" if bits == 24 else "<i2")
    packed = np.empty(size * 3, dtype=np.uint8) if bits == 24 else None
    silence: np.ndarray | None = None
    for start in range(0, n, _BLOCK_FRAMES):
        block = frames[start : start + _BLOCK_FRAMES]
        m = block.shape[0] * channels
        if not block.any():  # all zeros (of either sign): code 0 throughout, as a stem's gaps are
            if silence is None:
                silence = np.zeros(size * bits // 8, dtype=np.uint8)
            yield silence[: m * bits // 8]
            continue
        q = scaled[:m]
        # Rounding to whole codes is exact in float32: no float64 copy needed.
        np.multiply(block, scale, out=q.reshape(block.shape))
        np.rint(q, out=q)
        np.clip(q, -full, full - 1, out=q)
        np.copyto(codes[:m], q, casting="unsafe")
        if packed is None:
            yield codes[:m].view(np.uint8)
        else:
            packed[: 3 * m].view("V3")[:] = codes[:m].view(_LOW3)["b"]
            yield packed[: 3 * m]


def _header(channels: int, sample_rate: int, bits: int, data_bytes: int) -> bytes:
    block_align = channels * bits // 8
    byte_rate = sample_rate * block_align
    tag = WAVE_FORMAT_IEEE_FLOAT if bits == 32 else WAVE_FORMAT_PCM
    if channels > 2 or bits > 16:
        mask = CHANNEL_MASKS.get(channels, 0)
        fmt = struct.pack("<HHIIHHHHI", WAVE_FORMAT_EXTENSIBLE, channels, sample_rate, byte_rate, block_align,
                          bits, 22, bits, mask) + struct.pack("<H", tag) + _KSDATAFORMAT_TAIL
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, sample_rate, byte_rate, block_align, bits)
    riff_size = 4 + (8 + len(fmt)) + (8 + data_bytes) + (data_bytes & 1)
    return (b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", data_bytes))


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = SAMPLE_RATE, bits: int = 24,
              gain: float = 1.0) -> Path:
    """Write float samples (``(n,)`` or ``(n, ch)``, nominal range ±1, clipped) atomically.

    ``gain`` scales them on the way (as ``samples * float32(gain)`` would, without the copy)."""
    path = Path(path)
    frames = as_frames(np.asarray(samples, dtype=np.float32))
    n, channels = frames.shape
    if bits not in (16, 24, 32):
        raise SoundError(f"unsupported WAV bit depth {bits} (use 16, 24 or 32 float)")
    data_bytes = n * channels * bits // 8
    if data_bytes > _MAX_RIFF_BYTES:
        raise SoundError(f"{path.name}: {data_bytes / 2**30:.1f} GiB is too large for a WAV file (4 GiB limit)")
    with replacing(path) as out:
        out.write(_header(channels, sample_rate, bits, data_bytes))
        for block in _pcm_blocks(frames, bits, gain):
            out.write(block)
        if data_bytes & 1:
            out.write(b"\0")
    return path


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read PCM 16/24/32 or float WAV as float32 ``(n, channels)`` and its sample rate."""
    path = Path(path)
    try:
        data = memoryview(path.read_bytes())
    except OSError as exc:
        raise SoundError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SoundError(f"{path} is not a RIFF/WAVE file")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = body.tobytes()
        elif cid == b"data":
            payload = body
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise SoundError(f"{path} has no fmt or data chunk")
    tag, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]
    n = len(payload) // block_align
    raw = np.frombuffer(payload[: n * block_align], dtype=np.uint8)
    if tag == WAVE_FORMAT_PCM and bits == 16:
        out = raw.view("<i2").astype(np.float32) / 32768.0
    elif tag == WAVE_FORMAT_PCM and bits == 24:
        out = _read_pcm24(raw)
    elif tag == WAVE_FORMAT_PCM and bits == 32:
        out = raw.view("<i4").astype(np.float32) / 2147483648.0
    elif tag == WAVE_FORMAT_IEEE_FLOAT and bits == 32:
        out = raw.view("<f4").astype(np.float32)
    elif tag == WAVE_FORMAT_IEEE_FLOAT and bits == 64:
        out = raw.view("<f8").astype(np.float32)
    else:
        raise SoundError(f"{path}: unsupported WAV encoding (format {tag:#x}, {bits} bits)")
    return out.reshape(n, channels), rate


def _read_pcm24(raw: np.ndarray) -> np.ndarray:
    """24-bit little-endian PCM bytes as float32, a block at a time through one int32 buffer.

    Each 3-byte sample goes into the top of an int32 as one item; the arithmetic shift back
    sign-extends it (and drops whatever the low byte held)."""
    count = raw.size // 3
    items = raw[: 3 * count].view("V3")
    out = np.empty(count, dtype=np.float32)
    step = _BLOCK_FRAMES * 2
    wide = np.empty(min(count, step), dtype="<i4")
    for start in range(0, count, step):
        m = min(step, count - start)
        w = wide[:m]
        w.view(_HIGH3)["b"] = items[start : start + m]
        np.right_shift(w, 8, out=w)
        part = out[start : start + m]
        np.copyto(part, w, casting="unsafe")  # exact: 24-bit integers fit float32
        part *= np.float32(1.0 / 8388608.0)
    return out


def write_stems(
    directory: str | os.PathLike, stems: Mapping[str, np.ndarray], mix: np.ndarray | None = None,
    sample_rate: int = SAMPLE_RATE, mix_name: str = "mix",
) -> dict[str, Path]:
    """Write ``<stem>.wav`` for each stem (dialogue, ambience, music, sfx) and ``mix.wav``."""
    directory = Path(directory)
    out: dict[str, Path] = {}
    for name, samples in stems.items():
        out[name] = write_wav(directory / f"{name}.wav", samples, sample_rate)
    if mix is not None:
        out[mix_name] = write_wav(directory / f"{mix_name}.wav", mix, sample_rate)
    return out
