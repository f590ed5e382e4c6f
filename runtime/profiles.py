"""Export profiles -> ffmpeg output arguments.

A profile's properties come from its `.film` definition (stdlib/profiles.film
or the user's); this module knows only how each codec is spelt to ffmpeg.
Colour tags come from `colour.tags` and are written by the filter chain's
tail, since flags alone are not reliably honoured (FACTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .colour.tags import FFMPEG_TAGS

SEQUENCE_CONTAINERS = {"exr", "dpx"}

_PRORES_PROFILES = {"proxy": "0", "lt": "1", "standard": "2", "hq": "3", "4444": "4", "4444xq": "5"}
_AUDIO_CODECS = {"aac": "aac", "opus": "libopus", "pcm": "pcm_s24le"}
_AUDIO_CODEC_OPTIONS = {"aac": ["-aac_coder", "fast"]}
"""FFmpeg's native AAC encoder with its default coder (twoloop, with perceptual noise substitution)
puts peak spikes into dense passages (+7 dB over a -2.3 dBTP master measured); the fast coder
overshoots less (0.6 dB on the feature's mix, 1.3 dB on dense synthetic music), encodes twice as
fast and still writes plain AAC-LC. The encode op measures what remains (preview/encode_audio.py)."""
LOSSY_AUDIO_SUFFIX = {"aac": "m4a", "opus": "mka"}
"""Lossy audio is encoded alone first (so its true peak can be measured) into a container that keeps
the encoder's priming delay, then copied into the film: these are those containers' suffixes."""


class ProfileError(ValueError):
    """A profile that cannot be encoded as written (names the property at fault)."""


@dataclass(frozen=True)
class EncodeArgs:
    output_name: str
    """File name (or sequence pattern) inside the encode node's folder."""
    filter_tail: str
    """Filters that end the video chain: pixel format conversion and colour tags."""
    video: list[str] = field(default_factory=list)
    audio: list[str] = field(default_factory=list)
    sidecar_audio: str | None = None
    """Image sequences carry no audio: the mix goes beside them as WAV."""
    muxer: list[str] = field(default_factory=list)
    audio_codec: str | None = None
    """The profile's audio codec name (aac, opus, pcm), None when the output carries no audio."""
    yuv420p_tail: str | None = None
    """For a profile that delivers 8-bit 4:2:0 BT.709: the tail of a picture already composited in
    that layout (preview/filtergraph.py), which needs no conversion, only its tags. None otherwise:
    the picture comes in RGB and `filter_tail` converts it."""

    @property
    def lossy_audio(self) -> bool:
        return self.audio_codec in LOSSY_AUDIO_SUFFIX


def encode_args(name: str, props: dict[str, Any], threads: int = 0) -> EncodeArgs:
    container = props.get("container", "mp4")
    codec = props.get("video", "h264")
    colour = props.get("colour", "rec709")
    if colour not in FFMPEG_TAGS:
        raise ProfileError(f"profile {name}: unknown colour `{colour}`")
    tags = FFMPEG_TAGS[colour]
    pix_fmt = props.get("pixel_format")
    video: list[str] = []
    muxer: list[str] = []
    t = ["-threads", str(threads)] if threads else []
    if codec == "h264":
        pix_fmt = pix_fmt or "yuv420p"
        video = ["-c:v", "libx264", "-profile:v", str(props.get("video_profile", "high")),
                 "-preset", str(props.get("preset", "medium"))]
        video += _rate(props, default_crf=20) + t
    elif codec == "h265":
        pix_fmt = pix_fmt or ("yuv420p10le" if colour == "hdr10" else "yuv420p")
        x265 = ["log-level=error"]
        if tags.mastering_display:
            x265 += ["hdr10=1", f"master-display={tags.mastering_display.x265()}", "max-cll=1000,400",
                     f"colorprim={tags.primaries}", f"transfer={tags.trc}", f"colormatrix={tags.matrix}"]
        video = ["-c:v", "libx265", "-preset", str(props.get("preset", "medium")), "-x265-params", ":".join(x265)]
        video += _rate(props, default_crf=22)
        video += ["-tag:v", str(props.get("tag", "hvc1"))]
        if props.get("video_profile"):
            video += ["-profile:v", str(props["video_profile"])]
    elif codec == "prores":
        profile = str(props.get("video_profile", "standard"))
        if profile not in _PRORES_PROFILES:
            raise ProfileError(f"profile {name}: ProRes profile `{profile}` is not one of "
                               + ", ".join(_PRORES_PROFILES))
        pix_fmt = pix_fmt or ("yuva444p10le" if profile.startswith("4444") else "yuv422p10le")
        video = ["-c:v", "prores_ks", "-profile:v", _PRORES_PROFILES[profile], "-vendor", "apl0"] + t
    elif codec == "dnxhr":
        pix_fmt = pix_fmt or "yuv422p"
        video = ["-c:v", "dnxhd", "-profile:v", str(props.get("video_profile", "dnxhr_hq"))] + t
    elif codec == "vp9":
        pix_fmt = pix_fmt or "yuv420p"
        video = ["-c:v", "libvpx-vp9", "-row-mt", "1", "-cpu-used", str(props.get("preset", 4)), "-deadline",
                 "good"] + _rate(props, default_crf=32, vp9=True) + t
    elif codec == "av1":
        pix_fmt = pix_fmt or "yuv420p"
        video = ["-c:v", "libsvtav1", "-preset", str(props.get("preset", 8))] + _rate(props, default_crf=32)
    elif codec == "exr":
        pix_fmt = pix_fmt or "gbrpf32le"
        video = ["-c:v", "exr", "-compression", "zip1"]
    elif codec == "dpx":
        pix_fmt = pix_fmt or "gbrp10le"
        video = ["-c:v", "dpx"]
    else:
        raise ProfileError(f"profile {name}: unknown video codec `{codec}`")
    video += ["-pix_fmt", pix_fmt] + tags.output_args()
    filter_tail = f"format={pix_fmt}" if codec in ("exr", "dpx") else f"{tags.filter_tail()},format={pix_fmt}"
    yuv420p_tail = None
    if pix_fmt == "yuv420p" and (tags.scale_matrix, tags.range) == ("bt709", "tv") and codec not in ("exr", "dpx"):
        yuv420p_tail = f"{tags.setparams_filter()},format=yuv420p"
    if container in SEQUENCE_CONTAINERS:
        return EncodeArgs(output_name=f"{name}/frame_%06d.{container}", filter_tail=filter_tail, video=video,
                          audio=[], sidecar_audio=f"{name}/{name}.wav", muxer=["-f", "image2", "-start_number", "0"])
    audio_codec = props.get("audio", "aac")
    audio: list[str] = []
    if audio_codec != "none":
        if audio_codec not in _AUDIO_CODECS:
            raise ProfileError(f"profile {name}: unknown audio codec `{audio_codec}`")
        audio = ["-c:a", _AUDIO_CODECS[audio_codec], *_AUDIO_CODEC_OPTIONS.get(audio_codec, []),
                 "-ar", str(int(props.get("audio_rate", 48000)))]
        if audio_codec != "pcm":
            audio += ["-b:a", f"{int(props.get('audio_bitrate', 192))}k"]
    if container == "mp4":
        muxer = ["-movflags", "+faststart"]
    ext = props.get("extension", container)
    return EncodeArgs(output_name=f"{name}.{ext}", filter_tail=filter_tail, video=video, audio=audio, muxer=muxer,
                      audio_codec=audio_codec if audio else None, yuv420p_tail=yuv420p_tail)


def _rate(props: dict[str, Any], default_crf: int, vp9: bool = False) -> list[str]:
    if "bitrate" in props:
        kbps = int(props["bitrate"])
        return ["-b:v", f"{kbps}k", "-maxrate", f"{int(kbps * 1.05)}k", "-bufsize", f"{kbps * 2}k"]
    crf = str(int(props.get("crf", default_crf)))
    return ["-crf", crf, "-b:v", "0"] if vp9 else ["-crf", crf]
