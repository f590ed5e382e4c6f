"""Shared pieces of the exporters: the error type, warning codes, atomic writes, frame maths.

Every editor format loses something; each loss is reported with one of a small, stable set of
warning codes so a user (or CI) can tell exactly what did not reach the editor.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from ..diagnostics import Diagnostic

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


class ExportError(Exception):
    """The export could not be written (bad path, unwritable folder, unsupported input)."""


# The warning codes exporters emit. Stable: tools and docs refer to them.
W_METADATA = "W0701"  # filmc metadata the format has no place for
W_TRACKS = "W0702"  # whole tracks the format cannot hold
W_TRANSITION = "W0703"  # a transition written as a different or simpler effect
W_MARKERS = "W0704"  # markers, or parts of markers, the format cannot hold
W_FADES = "W0705"  # fades to/from black the format cannot hold
W_HANDLES = "W0706"  # a transition that needs media frames the referenced media lacks
W_MEDIA = "W0707"  # media references the format cannot hold as given

CODES: dict[str, str] = {
    W_METADATA: "format drops filmc metadata (prompts, camera, characters, ...): only what is listed survives",
    W_TRACKS: "format drops whole tracks",
    W_TRANSITION: "transition written as a different or simpler effect",
    W_MARKERS: "format drops markers or marker details",
    W_FADES: "format drops fades to/from black",
    W_HANDLES: "transition realigned because the media lacks handle frames",
    W_MEDIA: "media reference replaced or rewritten for the format",
}

MAX_LISTED = 6


def listing(names: Iterable[str]) -> str:
    """`a, b, c and 4 more`: names in a message without flooding it on long films."""
    items = list(names)
    if len(items) <= MAX_LISTED:
        return ", ".join(items)
    return ", ".join(items[:MAX_LISTED]) + f" and {len(items) - MAX_LISTED} more"


def warning(code: str, fmt: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, f"{fmt}: {message}", None, hint=hint)


def check_writable(path: Path) -> Path:
    """Fail early, with a message a user can act on, when `path` cannot receive a file."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ExportError(f"cannot write {path}: it is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise ExportError(f"cannot write {path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise ExportError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: folder {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise ExportError(f"cannot write {path}: the existing file is read-only")
    return path


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Run `write(tmp)` on a fresh path in a private folder next to `path`, then move it into place.

    A crash or an exception leaves `path` untouched: editors never open half a file. The
    temporary path does not exist yet, for writers that refuse to overwrite.
    """
    path = check_writable(path)
    workdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp = workdir / path.name
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def rate_fraction(rate: float) -> Fraction:
    """The exact frame rate behind OTIO's float (23.976... -> 24000/1001)."""
    return Fraction(rate).limit_denominator(1001)


def timeline_rate(tl: otio.schema.Timeline) -> float:
    """The film's frame rate: filmc's own metadata first, then what OTIO carries."""
    fps = filmc_meta(tl).get("fps")
    if fps:
        return float(Fraction(str(fps)))
    if tl.global_start_time is not None:
        return tl.global_start_time.rate
    for clip in tl.find_clips():
        return clip.source_range.duration.rate if clip.source_range else clip.duration().rate
    return 24.0


def frames(t: otio.opentime.RationalTime, rate: float) -> int:
    """Whole frames of `t` at `rate`; filmc timelines are frame-exact, so rounding is exact."""
    return int(round(t.value_rescaled_to(rate)))


def start_frame(tl: otio.schema.Timeline, rate: float) -> int:
    return frames(tl.global_start_time, rate) if tl.global_start_time is not None else 0


def first_video_track(tl: otio.schema.Timeline) -> otio.schema.Track | None:
    return next((t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video), None)


def markers_off_v1(tl: otio.schema.Timeline) -> int:
    """Markers that are neither on the first video track nor on its clips (the stack, other tracks)."""
    v1 = first_video_track(tl)
    count = len(tl.tracks.markers)
    for track in tl.tracks:
        if track is v1:
            continue
        count += len(track.markers)
        count += sum(len(getattr(item, "markers", [])) for item in track)
    return count


def filmc_meta(obj: otio.core.SerializableObject) -> dict:
    meta = obj.metadata.get("filmc")
    return dict(meta) if meta else {}
