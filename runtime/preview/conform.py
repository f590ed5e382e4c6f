"""The `conform` op: a `media` shot's footage, trimmed, retimed, framed and converted like a rendered shot.

The footage is read from `in_seconds` (accurate seek), converted to the film
rate by timestamps (`fps`), scaled to *fill* the frame (cover, centre crop: no
letterbox bars inside a film) and turned into planar RGB display code values
in the film's output space, which is what the grade and assembly expect.

Its colour space is the film's declaration (`params["colour"]`, from
`media "x.mov" colour NAME`) or else its tags (runtime/colour/sources.py maps
them; untagged footage is rec709). zscale decodes the YUV with the tagged
matrix and range (BT.2020 NCL for untagged Rec.2020 spaces, else BT.709) and
resizes, into float (gbrpf32le), so a 10-bit source keeps its precision; when
the space is not the output space, the conversion's baked stages run there, in
the same ffmpeg pass (display sources: 1D shaper, 97^3 tetrahedral LUT, 1D
output encoding; camera log and linear sources: exact 1D decoding and matrix
into ACEScg, then an ACEScg-indexed 145^3 LUT; sources.py); zscale then rounds
to 8-bit. A conversion that no bake brings within 2 10-bit codes of the exact
chain runs that chain in Python instead (`convert_exactly`: ffmpeg decodes into
float on a pipe, OCIO converts each frame, a second ffmpeg rounds and writes).
Measured against colour-science's decoding, zscale is exact where swscale is
1-4 10-bit codes dark on YUV -> float and maps float 1.0 to 256 on float ->
8-bit; swscale remains the fallback for an
ffmpeg without zscale. Exactly `frames` frames are written: a source that ends
early holds its last frame. The intermediate is lossless planar RGB (MagicYUV,
`INTERMEDIATE`) in `clip.mov`, tagged with the output space, so only media
shots are encoded twice.

`conform.json`, beside the clip, records what QC reports: the tags read, the
space used and why, the decoding, and the conversion (None when there is
none) with the bake's measured error against the exact OCIO path, applied by
ffmpeg: `conversion.accuracy.max_10bit_codes` over the in-gamut chart colours;
`conversion.path` says which path ran ("baked" or "exact", whose accuracy is 0
by construction, not measured) and `why`, and `tried` lists each bake measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from filmc.atomic import write_text
from filmc.compiler.plan import resolve_path
from filmc.runtime.backend import NodeError
from filmc.runtime.colour.sources import (
    ClipTags,
    Conversion,
    Decoding,
    SourceColourError,
    conversion,
    decoding,
    probe_tags,
    space_from_tags,
)
from filmc.runtime.colour.spaces import ColourSpaceError, space
from filmc.runtime.colour.tags import tags_for
from filmc.runtime.media_tools import capabilities, ffmpeg_exe, probe

from .tools import BITEXACT, ffmpeg, seconds_text

SIDECAR = "conform.json"
INTERMEDIATE = ["-c:v", "magicyuv", "-pred", "gradient", "-slices", "4", "-pix_fmt", "gbrp"]
"""The lossless codec of conformed and graded clips. Measured on 96 frames of 640x360: MagicYUV encodes in
0.11 CPU-s and decodes in 0.07 where FFV1 (level 3) took 0.43 and 0.34, for files twice as large (13.7 MB
against 6.4); the pixels are the same, and every frame is a keyframe. The slice count is pinned: MagicYUV's
default follows the machine's CPU count, and the same film must give the same bytes everywhere."""


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def source_space(tags: ClipTags, declared: str | None) -> tuple[str, str]:
    """(media colour name, how it was decided): the film's declaration wins over the tags."""
    if declared:
        return declared, "declared in the film"
    return space_from_tags(tags)


def fill_size(source: tuple[int, int], frame: tuple[int, int]) -> tuple[int, int]:
    """The size that covers `frame` with the source's shape (the centre crop then cuts the overhang)."""
    (sw, sh), (w, h) = source, frame
    if sw * h >= sh * w:
        return max(w, math.ceil(Fraction(sw * h, sh))), h
    return w, max(h, math.ceil(Fraction(sh * w, sw)))


def has_zscale() -> bool:
    return "zscale" in capabilities()[1]


def decode_filters(params: dict[str, Any], source_size: tuple[int, int], decode: Decoding,
                   zscale: bool = True) -> list[str]:
    """Retime; decode, fill and crop into float RGB in the source's own encoding."""
    width, height = params["resolution"]
    filters = [f"fps={params['fps']}"]
    if zscale:
        w, h = fill_size(source_size, (width, height))
        filters.append(f"zscale=w={w}:h={h}:filter=bicubic:dither=none{decode.zscale_options()}:range=full")
    else:
        filters.append(f"scale=w={width}:h={height}:force_original_aspect_ratio=increase"
                       f"{decode.swscale_options()}:flags=bicubic")
    return [*filters, "format=gbrpf32le", f"crop={width}:{height}"]


def finish_filters(params: dict[str, Any], output: str, zscale: bool = True) -> list[str]:
    """Float output-space codes -> 8-bit RGB, tagged; held to length."""
    filters = ["zscale=rangein=full:range=full:dither=none"] if zscale else []
    tags = tags_for(output)
    return [*filters, "format=gbrp", f"setparams=color_primaries={tags.primaries}:color_trc={tags.trc}"
            ":colorspace=gbr:range=pc", f"tpad=stop_mode=clone:stop={int(params['frames'])}"]


def conform_filters(params: dict[str, Any], source_size: tuple[int, int], decode: Decoding,
                    converted: Conversion | None, output: str, zscale: bool = True) -> list[str]:
    """The conform's filter chain: retime; decode, fill and crop into float; convert (a baked conversion);
    round to 8-bit, tag; hold to length."""
    filters = decode_filters(params, source_size, decode, zscale)
    if converted is not None and converted.ffmpeg_filter:
        filters.append(converted.ffmpeg_filter)
    return filters + finish_filters(params, output, zscale)


def _ffmpeg_argv(args: list[str]) -> list[str]:
    return [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]


def convert_exactly(params: dict[str, Any], source: Path, source_size: tuple[int, int], decode: Decoding,
                    converted: Conversion, output: str, zscale: bool, out: Path, threads: int) -> dict[str, Any]:
    """The conform with the exact chain in Python: one ffmpeg decodes into float RGB on a pipe, each frame goes
    through `converted.chain` (OCIO, float32), a second ffmpeg rounds, tags and writes the intermediate. For
    conversions no bake reaches the accuracy target on; returns how many frames it converted (the rest are held)."""
    width, height = params["resolution"]
    frames = int(params["frames"])
    start = Fraction(str(params.get("in_seconds") or "0"))
    frame_bytes = width * height * 3 * 4
    with tempfile.TemporaryDirectory(prefix="filmc-conform-") as scratch:
        logs = [Path(scratch) / "decode.log", Path(scratch) / "encode.log"]
        with logs[0].open("wb") as decode_log, logs[1].open("wb") as encode_log:
            reader = subprocess.Popen(_ffmpeg_argv([
                "-ss", seconds_text(start), "-i", str(source), "-map", "0:v:0", "-an", "-sn", "-dn",
                "-vf", ",".join(decode_filters(params, source_size, decode, zscale)), "-frames:v", str(frames),
                "-f", "rawvideo", "-pix_fmt", "gbrpf32le", "pipe:1"]), stdout=subprocess.PIPE, stderr=decode_log)
            writer = subprocess.Popen(_ffmpeg_argv([
                "-f", "rawvideo", "-pix_fmt", "gbrpf32le", "-s", f"{width}x{height}", "-framerate",
                str(params["fps"]), "-i", "pipe:0", "-vf", ",".join(finish_filters(params, output, zscale)),
                "-frames:v", str(frames), *INTERMEDIATE, "-threads", str(max(1, threads)), *BITEXACT,
                "-f", "mov", str(out)]),
                stdin=subprocess.PIPE, stderr=encode_log)
            assert reader.stdout is not None and writer.stdin is not None
            done = 0
            try:
                while (raw := reader.stdout.read(frame_bytes)) and len(raw) == frame_bytes:
                    planes = np.frombuffer(raw, dtype="<f4").reshape(3, height, width)
                    rgb = np.moveaxis(planes, 0, -1)[..., [2, 0, 1]]
                    exact = converted.chain.apply(rgb)
                    writer.stdin.write(np.ascontiguousarray(np.moveaxis(exact[..., [1, 2, 0]], -1, 0)).tobytes())
                    done += 1
            except BrokenPipeError:
                pass
            finally:
                reader.stdout.close()
                with contextlib.suppress(BrokenPipeError):
                    writer.stdin.close()
                codes = reader.wait(), writer.wait()
        failed = [f"{what}: {log.read_text(errors='replace').strip()[-2000:]}"
                  for code, log, what in zip(codes, logs, ("decoding", "encoding"), strict=True) if code != 0]
        if failed:
            raise NodeError(f"shot {params['shot']}: ffmpeg failed in the exact conversion ({'; '.join(failed)})")
    return {"frames_converted": done}


def conform_clip(params: dict[str, Any], film: str, out: Path, threads: int) -> None:
    """Write the conformed clip to `out` and its colour record to `conform.json` beside it."""
    shot = params["shot"]
    source = resolve_path(params["path"], film)
    if not source.is_file():
        raise NodeError(f"shot {shot}: media file not found: {source}")
    if source.stat().st_size != params.get("size") or _sha256(source) != params.get("sha256"):
        raise NodeError(f"shot {shot}: media file {source} changed after the film was planned; build again")
    try:
        video = probe(source).video()
        tags = probe_tags(source) if video is not None else None
    except SourceColourError as exc:
        raise NodeError(f"shot {shot}: media file {source}: {exc}") from None
    except Exception as exc:  # PyAV raises its own error types for unreadable files
        raise NodeError(f"shot {shot}: cannot read media file {source}: {exc}") from None
    if video is None or tags is None or not video.width or not video.height:
        raise NodeError(f"shot {shot}: media file {source} has no video stream")
    output = space(str(params.get("output_space") or "rec709")).name
    frames = int(params["frames"])
    zscale = has_zscale()
    try:
        space_name, why = source_space(tags, params.get("colour"))
        decode = decoding(tags, space_name)
        converted = conversion(space_name, output)
    except (SourceColourError, ColourSpaceError) as exc:
        raise NodeError(f"shot {shot}: media file {source}: {exc}") from None
    size = (video.width, video.height)
    timing = None
    if converted is not None and converted.path == "exact":
        timing = convert_exactly(params, source, size, decode, converted, output, zscale, out, threads)
    else:
        filters = conform_filters(params, size, decode, converted, output, zscale)
        start = Fraction(str(params.get("in_seconds") or "0"))
        ffmpeg(["-ss", seconds_text(start), "-i", str(source), "-map", "0:v:0", "-an", "-sn", "-dn",
                "-vf", ",".join(filters), "-frames:v", str(frames), *INTERMEDIATE, "-threads", str(max(1, threads)),
                *BITEXACT, "-f", "mov", str(out)])
    counted = probe(out, count_frames=True).video()
    if counted is None or counted.frames != frames:
        raise NodeError(f"shot {shot}: conformed clip has {counted.frames if counted else 0} frames, "
                        f"expected {frames}")
    record = {
        "shot": shot,
        "tags": tags.as_dict(),
        "declared": params.get("colour"),
        "space": space_name,
        "space_from": why,
        "output_space": output,
        "decoding": decode.as_dict() | {"by": "zscale" if zscale else "swscale", "float": True},
        "conversion": None if converted is None else converted.describe() | ({"exact_run": timing} if timing else {}),
    }
    write_text(out.with_name(SIDECAR), json.dumps(record, indent=1, sort_keys=True) + "\n")
