"""Finding ffmpeg and probing media: the two tools every op leans on.

ffmpeg: a system ffmpeg when present and at least version 6 (it has ffprobe
and distro codecs), otherwise the static binary of the `imageio-ffmpeg`
wheel, so a fresh machine with nothing but Python can build. Probing uses
PyAV (FFmpeg's libraries), since neither the wheel nor PyAV ships ffprobe.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

MIN_SYSTEM_MAJOR = 6
NEEDED_ENCODERS = ("libx264", "libx265", "prores_ks", "dnxhd", "libvpx-vp9", "libsvtav1", "magicyuv", "aac", "libopus",
                   "exr", "dpx", "pcm_s24le")
NEEDED_FILTERS = ("xfade", "lut3d", "zoompan", "overlay", "drawtext", "ebur128", "loudnorm", "setparams")


@dataclass(frozen=True)
class Ffmpeg:
    path: str
    version: str
    source: str
    """'system' or 'imageio-ffmpeg'."""


def _version_of(path: str) -> str:
    try:
        out = subprocess.run([path, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    m = re.search(r"ffmpeg version (\S+)", out)
    return m.group(1) if m else ""


def _major(version: str) -> int:
    m = re.match(r"n?(\d+)", version)
    return int(m.group(1)) if m else 0


@functools.lru_cache(maxsize=1)
def ffmpeg() -> Ffmpeg:
    system = shutil.which("ffmpeg")
    if system:
        version = _version_of(system)
        if _major(version) >= MIN_SYSTEM_MAJOR:
            return Ffmpeg(system, version, "system")
    import imageio_ffmpeg

    path = imageio_ffmpeg.get_ffmpeg_exe()
    return Ffmpeg(path, _version_of(path), "imageio-ffmpeg")


def ffmpeg_exe() -> str:
    return ffmpeg().path


@functools.lru_cache(maxsize=1)
def capabilities() -> tuple[frozenset[str], frozenset[str]]:
    """(encoders, filters) of the ffmpeg in use."""
    exe = ffmpeg_exe()
    enc = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    fil = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    encoders = {line.split()[1] for line in enc.splitlines() if re.match(r"^ [VAS][\w.]{5} ", line)}
    filters = {line.split()[1] for line in fil.splitlines() if re.match(r"^ [\w.]{2,3} \w", line)}
    return frozenset(encoders), frozenset(filters)


def missing_features() -> list[str]:
    encoders, filters = capabilities()
    return [f"encoder {e}" for e in NEEDED_ENCODERS if e not in encoders] + [
        f"filter {f}" for f in NEEDED_FILTERS if f not in filters]


# --- probing -------------------------------------------------------------------


@dataclass
class StreamInfo:
    index: int
    type: str
    codec: str
    profile: str | None = None
    pix_fmt: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: Fraction | None = None
    frames: int | None = None
    duration: float | None = None
    color_primaries: str | None = None
    color_trc: str | None = None
    color_space: str | None = None
    color_range: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    layout: str | None = None
    bit_rate: int | None = None
    codec_tag: str | None = None


@dataclass
class MediaInfo:
    path: str
    format: str
    duration: float | None
    bit_rate: int | None
    streams: list[StreamInfo] = field(default_factory=list)

    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.type == "video"), None)

    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.type == "audio"), None)


_PRIMARIES = {1: "bt709", 2: None, 5: "bt470bg", 6: "smpte170m", 9: "bt2020", 11: "smpte431", 12: "smpte432"}
_TRC = {1: "bt709", 2: None, 6: "smpte170m", 8: "linear", 13: "iec61966-2-1", 14: "bt2020-10", 16: "smpte2084",
        17: "smpte428", 18: "arib-std-b67"}
_SPACE = {0: "gbr", 1: "bt709", 2: None, 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc"}
_RANGE = {0: None, 1: "tv", 2: "pc"}


def probe(path: str | Path, count_frames: bool = False) -> MediaInfo:
    """Container and stream facts, like ffprobe's; `count_frames` decodes video to count exactly."""
    import av

    with av.open(str(path)) as container:
        info = MediaInfo(
            path=str(path), format=container.format.name,
            duration=container.duration / 1_000_000 if container.duration else None,
            bit_rate=container.bit_rate or None,
        )
        for s in container.streams:
            cc = s.codec_context
            entry = StreamInfo(index=s.index, type=s.type, codec=cc.name if cc else "", bit_rate=s.bit_rate or None,
                               duration=float(s.duration * s.time_base) if s.duration and s.time_base else None)
            entry.codec_tag = getattr(cc, "codec_tag", None)
            entry.profile = getattr(cc, "profile", None)
            if s.type == "video":
                entry.width, entry.height = cc.width, cc.height
                entry.pix_fmt = cc.pix_fmt
                rate = s.average_rate or s.guessed_rate
                entry.frame_rate = Fraction(rate) if rate else None
                entry.frames = s.frames or None
                entry.color_primaries = _PRIMARIES.get(int(getattr(cc, "color_primaries", 2) or 2))
                entry.color_trc = _TRC.get(int(getattr(cc, "color_trc", 2) or 2))
                entry.color_space = _SPACE.get(int(getattr(cc, "colorspace", 2) or 2))
                entry.color_range = _RANGE.get(int(getattr(cc, "color_range", 0) or 0))
            elif s.type == "audio":
                entry.sample_rate = cc.sample_rate
                entry.channels = cc.channels
                entry.layout = cc.layout.name if cc.layout else None
            info.streams.append(entry)
        if count_frames:
            video = next((s for s in container.streams if s.type == "video"), None)
            if video is not None:
                n = sum(1 for _ in container.demux(video) if _.size)
                next(x for x in info.streams if x.index == video.index).frames = n
    return info


def stream_digest(path: str | Path, kind: str) -> str | None:
    """sha256 of the payload of the first `kind` ('audio', 'video') stream's packets, None without one.
    Equal digests mean a stream was copied unchanged (its container and timestamps aside), so a
    measurement of one holds for the other."""
    import hashlib

    import av

    with av.open(str(path)) as container:
        streams = [s for s in container.streams if s.type == kind]
        if not streams:
            return None
        digest = hashlib.sha256()
        for packet in container.demux(streams[0]):
            if packet.size:
                digest.update(bytes(packet))
    return digest.hexdigest()
