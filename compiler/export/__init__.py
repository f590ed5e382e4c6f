"""`filmc export`: write a filmc timeline to editor formats, saying exactly what each one drops.

    from filmc.compiler.export import export_timeline, ExportError
    warnings = export_timeline(timeline, "edl", Path("film.edl"))

Formats: otio, otioz (lossless); edl (CMX 3600), fcp7xml (Final Cut Pro 7 / Premiere / Resolve
XML), fcpxml (FCPXML 1.10, Final Cut Pro X / Resolve), aaf (Avid). Every editor format loses
something; each loss comes back as a warning Diagnostic (codes in `CODES`, W0701-W0707). The
input timeline is never modified, and files are written atomically (temp file, then rename).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import opentimelineio as otio

from ..diagnostics import Diagnostic
from .aaf import write_aaf
from .common import CODES, ExportError, check_writable
from .edl import write_edl
from .fcp7 import write_fcp7
from .fcpxml import write_fcpxml
from .otio_native import write_otio, write_otioz

__all__ = ["CODES", "EXTENSIONS", "FORMATS", "ExportError", "export_timeline", "format_for_path"]

Writer = Callable[[otio.schema.Timeline, Path], list[Diagnostic]]

_WRITERS: dict[str, Writer] = {
    "otio": write_otio,
    "otioz": write_otioz,
    "edl": write_edl,
    "fcp7xml": write_fcp7,
    "fcpxml": write_fcpxml,
    "aaf": write_aaf,
}
FORMATS: tuple[str, ...] = tuple(_WRITERS)
EXTENSIONS: dict[str, str] = {
    "otio": ".otio",
    "otioz": ".otioz",
    "edl": ".edl",
    "fcp7xml": ".xml",
    "fcpxml": ".fcpxml",
    "aaf": ".aaf",
}


def format_for_path(path: Path) -> str | None:
    """The format a file name asks for (`cut.fcpxml` -> fcpxml), or None."""
    suffix = Path(path).suffix.lower()
    return next((fmt for fmt, ext in EXTENSIONS.items() if ext == suffix), None)


def export_timeline(timeline: otio.schema.Timeline, fmt: str, path: Path) -> list[Diagnostic]:
    """Write `timeline` as `fmt` to `path`; return warnings for what the format could not carry.

    Raises ExportError for an unknown format, an unwritable path, or a timeline the format
    cannot hold at all (for example no video clips for an EDL).
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not isinstance(timeline, otio.schema.Timeline):
        raise ExportError(f"{fmt}: expected an OpenTimelineIO Timeline, got {type(timeline).__name__}")
    path = check_writable(Path(path))
    try:
        return writer(timeline, path)
    except otio.exceptions.OTIOError as exc:
        raise ExportError(f"{fmt}: {exc}") from exc
