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
the space is not the output space, the conversion's baked stages (1D shaper,
97^3 tetrahedral LUT, 1D output encoding) run there, in the same ffmpeg pass;
zscale then rounds to 8-bit. Measured against colour-science's decoding,
zscale is exact where swscale is 1-4 10-bit codes dark on YUV -> float and
maps float 1.0 to 256 on float -> 8-bit; swscale remains the fallback for an
ffmpeg without zscale. Exactly `frames` frames are written: a source that ends
early holds its last frame. The intermediate is lossless FFV1 (gbrp) in
`clip.mov`, tagged with the output space, so only media shots are encoded twice.

`conform.json`, beside the clip, records what QC reports: the tags read, the
space used and why, the decoding, and the conversion (None when there is
none) with the bake's measured error against the exact OCIO path, applied by
ffmpeg: `conversion.accuracy.max_10bit_codes` over the in-gamut chart colours.
"""

from __future__ import annotations

import hashlib
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

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
from filmc.runtime.media_tools import capabilities, probe

from .tools import BITEXACT, ffmpeg, seconds_text

SIDECAR = "conform.json"


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


def conform_filters(params: dict[str, Any], source_size: tuple[int, int], decode: Decoding,
                    converted: Conversion | None, output: str, zscale: bool = True) -> list[str]:
    """The conform's filter chain: retime; decode, fill and crop into float; convert; round to 8-bit, tag;
    hold to length."""
    width, height = params["resolution"]
    frames = int(params["frames"])
    filters = [f"fps={params['fps']}"]
    if zscale:
        w, h = fill_size(source_size, (width, height))
        filters.append(f"zscale=w={w}:h={h}:filter=bicubic:dither=none{decode.zscale_options()}:range=full")
    else:
        filters.append(f"scale=w={width}:h={height}:force_original_aspect_ratio=increase"
                       f"{decode.swscale_options()}:flags=bicubic")
    filters += ["format=gbrpf32le", f"crop={width}:{height}"]
    if converted:
        filters.append(converted.ffmpeg_filter)
    if zscale:
        filters.append("zscale=rangein=full:range=full:dither=none")
    tags = tags_for(output)
    filters += ["format=gbrp", f"setparams=color_primaries={tags.primaries}:color_trc={tags.trc}"
                ":colorspace=gbr:range=pc", f"tpad=stop_mode=clone:stop={frames}"]
    return filters


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
    filters = conform_filters(params, (video.width, video.height), decode, converted, output, zscale)
    start = Fraction(str(params.get("in_seconds") or "0"))
    args = ["-ss", seconds_text(start), "-i", str(source), "-map", "0:v:0", "-an", "-sn", "-dn",
            "-vf", ",".join(filters), "-frames:v", str(frames), "-c:v", "ffv1", "-level", "3", "-pix_fmt", "gbrp",
            "-threads", str(max(1, threads)), *BITEXACT, "-f", "mov", str(out)]
    ffmpeg(args)
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
        "conversion": converted.describe() if converted else None,
    }
    write_text(out.with_name(SIDECAR), json.dumps(record, indent=1, sort_keys=True) + "\n")
