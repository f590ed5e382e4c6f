"""The `encode_video`, `encode_audio` and `encode` ops: one export profile, frames streamed straight
to the encoder.

encode_video: the assembled filtergraph's [v] gets the profile's tail (pixel
format and colour tags from runtime/profiles.py), after burnt-in subtitles when
the profile asks for them, and is encoded alone. It needs no sound, so the
executor runs it beside the speech, beds and mix instead of after them. ffmpeg
runs in the cache's objects folder, which the graph's paths are relative to.

encode_audio: the mix WAV after the profile's loudness gain; lossy audio is
encoded, measured and re-limited until its true peak holds (encode_audio.py). It
needs no picture, so it too runs beside the video encode.

encode: video and audio streams are copied into the delivered file as they were
measured; only the mux waits for both. Output is bit-exact (no encoder version or
time in the file). Image sequences (exr, dpx) get the mix as a sidecar WAV in their
folder; sidecar subtitles are copied beside the film.
"""

from __future__ import annotations

import json
import re
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

from filmc.atomic import link_or_copy
from filmc.runtime.backend import NodeError, NodeOutputs
from filmc.runtime.colour.ffmpeg_filters import filter_path
from filmc.runtime.media_tools import stream_digest
from filmc.runtime.profiles import EncodeArgs, ProfileError, encode_args
from PIL import Image, ImageDraw

from .drawing import font, save_png, wrap
from .encode_audio import AUDIO_BITEXACT, CEILING_DBTP, REPORT_NAME, plan_audio, write_report
from .filtergraph import GRAPHS, RGB, YUV420
from .picture_scan import (
    SCAN_NAME,
    has_loopback_decoding,
    loopback_args,
    parse_scan,
    scan_input,
    scan_picture,
    write_scan,
)
from .tools import BITEXACT, ffmpeg, fps_fraction, objects_root, timebase

ENCODER_THREADS = 2
"""x264 and libvpx choose differently with more threads, so the thread count is fixed, not the
machine's: the same film encodes to the same bytes on any machine (x265 and SVT-AV1 pick their
own thread pools; runtime/profiles.py would have to pin those)."""

ENCODER_BOUND = frozenset({"h264", "h265", "vp9", "av1"})
"""Codecs whose encoder, not the picture graph, sets the pace: their graph runs on one thread. Slice
threads in the graph then only contend with the encoder's (measured, H.264 at 640x360: 3.56 s and
5.7 CPU-s against 3.69 s and 5.8 with two; the same at 1280x720)."""

_SRT_TIME = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{3})\s*-->\s*(\d+):(\d\d):(\d\d)[,.](\d{3})")


def profile_props(settings: dict[str, Any]) -> dict[str, Any]:
    """The plan's normalised settings as runtime/profiles.py reads them (absent = missing, not None)."""
    props = {k: v for k, v in settings.items() if v is not None}
    for key in ("bitrate", "audio_bitrate", "audio_rate", "crf"):
        if key in props:
            props[key] = int(round(float(props[key])))
    return props


def output_stem(outputs: list[str]) -> str:
    first = outputs[0]
    return first.rstrip("/") if first.endswith("/") else Path(first).stem


def parse_srt(text: str, fps: str) -> list[tuple[int, int, str]]:
    """(first frame, end frame, text) of each cue; times are rounded to the nearest frame."""
    rate = fps_fraction(fps)
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = block.splitlines()
        for k, line in enumerate(lines):
            m = _SRT_TIME.search(line)
            if m:
                v = [int(g) for g in m.groups()]
                start = Fraction(v[0] * 3600 + v[1] * 60 + v[2]) + Fraction(v[3], 1000)
                end = Fraction(v[4] * 3600 + v[5] * 60 + v[6]) + Fraction(v[7], 1000)
                cues.append((round(start * rate), round(end * rate), "\n".join(lines[k + 1:])))
                break
    return cues


def subtitle_band(cues: list[tuple[int, int, str]], frames: int, width: int, height: int, fps: str,
                  scratch: Path) -> tuple[list[str], int]:
    """Filter statements producing [subs], a transparent band the picture's width with each cue
    drawn in it for its frames (one stream, so one overlay however many cues), and its height."""
    band = max(16, height // 6)
    fnt = font(max(8, height // 20))
    segments: list[str] = []
    lines: list[str] = []
    cursor = 0
    for k, (start, end, text) in enumerate(sorted(cues)):
        start, end = max(start, cursor), min(end, frames)
        if end <= start:
            continue
        if start > cursor:
            lines.append(f"color=c=black@0.0:s={width}x{band}:r={fps},format=rgba,trim=end_frame={start - cursor},"
                         f"setpts=N[sg{k}]")
            segments.append(f"[sg{k}]")
        image = Image.new("RGBA", (width, band), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        rows = wrap(draw, " ".join(text.split()), fnt, int(width * 0.9), max_lines=2)
        y = band - len(rows) * (fnt.size + 4) - 6
        for row in rows:
            draw.text((width / 2, y), row, font=fnt, fill=(255, 255, 255, 255), anchor="ma", stroke_width=2,
                      stroke_fill=(0, 0, 0, 255))
            y += fnt.size + 4
        png = save_png(image, scratch / f"cue_{k:05d}.png")
        lines.append(f"movie={filter_path(png)},format=rgba,loop=loop={end - start - 1}:size=1:start=0,"
                     f"settb=expr={timebase(fps)},setpts=N,fps={fps}[sc{k}]")
        segments.append(f"[sc{k}]")
        cursor = end
    if cursor < frames:
        lines.append(f"color=c=black@0.0:s={width}x{band}:r={fps},format=rgba,trim=end_frame={frames - cursor},"
                     "setpts=N[sgend]")
        segments.append("[sgend]")
    lines.append(f"{''.join(segments)}concat=n={len(segments)}:v=1:a=0,settb=expr={timebase(fps)},setpts=N,"
                 f"fps={fps}[subs]")
    return lines, band


def mix_info(mix: NodeOutputs) -> dict[str, Any]:
    """The mix's loudness.json (its target, loudness and true peak); empty when it has none."""
    try:
        return json.loads(mix.path("loudness.json").read_text(encoding="utf-8"))
    except (KeyError, OSError, ValueError):
        return {}


def mix_gain_db(mix: NodeOutputs, target: float | None) -> float:
    """Gain that takes the mix from its own loudness target to the profile's."""
    source = mix_info(mix).get("target_lufs")
    if target is None or source is None:
        return 0.0
    return round(float(target) - float(source), 3)


def _profile_args(params: dict[str, Any], stem: str) -> tuple[dict[str, Any], EncodeArgs]:
    props = profile_props(params["settings"])
    try:
        return props, encode_args(stem, props, threads=ENCODER_THREADS)
    except ProfileError as exc:
        raise NodeError(f"profile {params['profile']}: {exc}") from None


def encode_video(params: dict[str, Any], outputs: list[str], picture: NodeOutputs, subtitles: NodeOutputs | None,
                 workdir: Path, scratch: Path, threads: int) -> None:
    """The profile's video stream alone (or its image sequence): the assembled graph, burnt-in
    subtitles, the profile's tail, the encoder. It needs no sound, so it runs beside the mix."""
    props, args = _profile_args(params, output_stem(outputs))
    width, height = params["resolution"]
    frames, fps = int(params["frames"]), params["fps"]
    yuv420p = args.yuv420p_tail is not None and GRAPHS[YUV420.name] in picture.files
    graph_name, tail = (GRAPHS[YUV420.name], args.yuv420p_tail) if yuv420p else (GRAPHS[RGB.name], args.filter_tail)
    graph = picture.path(graph_name).read_text(encoding="utf-8").rstrip().rstrip(";")
    statements = [graph]
    video = "[v]"
    if props.get("subtitles") == "burn":
        if subtitles is None:
            raise NodeError(f"profile {params['profile']} burns in subtitles but the plan gave none")
        cues = parse_srt(subtitles.path("subtitles.srt").read_text(encoding="utf-8"), fps)
        band_lines, band = subtitle_band(cues, frames, width, height, fps, scratch)
        statements += band_lines
        if yuv420p:
            statements.append(f"[subs]{YUV420.convert(YUV420.alpha)}[subs420]")
            statements.append(f"[v][subs420]overlay=x=0:y={height - band}:format={YUV420.overlay}[vsub]")
        else:
            statements.append(f"[v][subs]overlay=x=0:y={height - band}:format=gbrp[vsub]")
        video = "[vsub]"
    statements.append(f"{video}{tail}[vout]")
    script = scratch / "graph.txt"
    script.write_text(";\n".join(statements) + "\n", encoding="utf-8")
    target = workdir / args.output_name
    target.parent.mkdir(parents=True, exist_ok=True)
    graph_threads = 1 if props.get("video", "h264") in ENCODER_BOUND else max(1, threads)
    encode = ["-filter_complex_threads", str(graph_threads), "-/filter_complex", script, "-map", "[vout]", "-an",
              "-fps_mode:v", "passthrough", *args.video, *args.muxer, *BITEXACT, "-map_metadata", "-1", target]
    if SCAN_NAME in outputs and has_loopback_decoding():  # the encoder's output, scanned as it is made
        log = ffmpeg(encode + loopback_args(), cwd=objects_root(picture), loglevel="info")
        write_scan(workdir, parse_scan(log.stderr.decode("utf-8", "replace"), fps, frames), "loopback decode")
    else:
        ffmpeg(encode, cwd=objects_root(picture))
        if SCAN_NAME in outputs:
            written = scan_input(target, fps, sequence=args.sidecar_audio is not None)
            write_scan(workdir, scan_picture(written, fps, frames), "decode of the written stream")
    if not (workdir / outputs[0].rstrip("/")).exists():
        raise NodeError(f"encode {params['profile']}: ffmpeg wrote no {outputs[0]}")


def _stream_copy_video(args: EncodeArgs) -> list[str]:
    """Output options that carry the encoded video over unchanged, keeping its codec tag (hvc1)."""
    options = ["-c:v", "copy"]
    if "-tag:v" in args.video:
        k = args.video.index("-tag:v")
        options += args.video[k:k + 2]
    return options


def encode(params: dict[str, Any], outputs: list[str], video: NodeOutputs, audio: NodeOutputs | None,
           mix: NodeOutputs | None, subtitles: NodeOutputs | None, workdir: Path, scratch: Path,
           threads: int) -> None:
    """The delivered file(s): the encoded video stream and the profile's measured audio stream
    (encode_audio), both copied as they are, plus sidecars; an image sequence gets the mix beside it."""
    stem = output_stem(outputs)
    props, args = _profile_args(params, stem)
    encoded = next(path for name, path in video.files.items() if name != SCAN_NAME)
    if args.sidecar_audio:  # an image sequence: its frames (hard-linked; cached objects never change) and the mix
        if mix is None:
            raise NodeError(f"profile {params['profile']} writes its sound beside the frames but the plan gave no mix")
        shutil.copytree(encoded, workdir / stem, copy_function=link_or_copy)
        shutil.copyfile(mix.path("mix.wav"), workdir / args.sidecar_audio)
    else:
        target = workdir / args.output_name
        cmd: list[str | Path] = ["-i", encoded]
        audio_options = ["-map", "0:v:0"]
        if args.audio:
            if audio is None:
                raise NodeError(f"profile {params['profile']} carries sound but the plan gave no audio stream")
            cmd += ["-i", next(path for name, path in audio.files.items() if name != REPORT_NAME)]
            audio_options += ["-map", "1:a:0", "-c:a", "copy"]
            link_or_copy(str(audio.path(REPORT_NAME)), str(workdir / REPORT_NAME))
        else:
            write_report(workdir, {"profile": params["profile"], "codec": None})
        cmd += [*audio_options, *_stream_copy_video(args), *args.muxer, *BITEXACT, "-map_metadata", "-1",
                "-metadata", f"title={params.get('title', '')}", target]
        ffmpeg(cmd, cwd=scratch)
    if SCAN_NAME in outputs:
        link_or_copy(str(video.path(SCAN_NAME)), str(workdir / SCAN_NAME))
    if subtitles is not None and props.get("subtitles") == "sidecar":
        for ext in ("srt", "vtt"):
            name = f"{stem}.{ext}"
            if name in outputs:
                shutil.copyfile(subtitles.path(f"subtitles.{ext}"), workdir / name)
    for name in outputs:
        if not (workdir / name.rstrip("/")).exists():
            raise NodeError(f"encode {params['profile']}: ffmpeg wrote no {name}")


def encode_audio(params: dict[str, Any], outputs: list[str], mix: NodeOutputs, workdir: Path,
                 scratch: Path) -> None:
    """One profile's audio stream alone: the mix at the profile's loudness, encoded, measured with
    ebur128 and re-limited until its true peak holds (encode_audio.plan_audio)."""
    props, args = _profile_args(params, "audio")
    stream = next(name for name in outputs if name != REPORT_NAME)
    if not args.audio or args.audio_codec is None:
        raise NodeError(f"profile {params['profile']} carries no sound: the plan should not encode its audio")
    target_lufs = float(props["loudness"]) if props.get("loudness") is not None else None
    audio = plan_audio(params["profile"], args, mix.path("mix.wav"), mix_info(mix), mix_gain_db(mix, target_lufs),
                       target_lufs, scratch, float(params.get("true_peak_dbtp", CEILING_DBTP)))
    if args.lossy_audio:  # already encoded and measured: these bytes are the ones delivered
        shutil.move(audio.inputs[-1], workdir / stream)
        # QC reads this measurement instead of metering the film again when its audio has these packets.
        audio.report["stream_sha256"] = stream_digest(workdir / stream, "audio")
    else:
        ffmpeg([*audio.inputs, "-map", "0:a:0", *audio.codec, *AUDIO_BITEXACT, "-map_metadata", "-1",
                *(["-rf64", "auto"] if stream.endswith(".wav") else []), workdir / stream], cwd=scratch)
    write_report(workdir, audio.report)
