""".otio and .otioz: OTIO's own formats, which keep every object and all metadata.

`.otioz` is a zip bundle of the timeline and the media files it references, relinked to
`media/<basename>` inside the bundle; references to files that do not exist (shots not yet
rendered) become MissingReference with the original URL kept in their metadata.
"""

from __future__ import annotations

import copy
import urllib.parse
from pathlib import Path

import opentimelineio as otio

from ..diagnostics import Diagnostic
from .common import W_MEDIA, ExportError, atomic_write, listing, warning


def write_otio(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    atomic_write(path, lambda tmp: otio.adapters.write_to_file(tl, str(tmp), adapter_name="otio_json"))
    return []


def _bundlable(url: str) -> bool:
    if urllib.parse.urlparse(url).scheme not in ("file", ""):
        return False
    return Path(otio.url_utils.filepath_from_url(url)).is_file()


def _offline_copy(tl: otio.schema.Timeline) -> tuple[otio.schema.Timeline, list[str]]:
    """A copy whose references to absent files are MissingReference, keeping range, name and URL.

    OTIO's own MissingIfNotFile policy drops the available range; this keeps it.
    """
    out = copy.deepcopy(tl)
    missing = []
    for clip in out.find_clips():
        ref = clip.media_reference
        if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
            continue
        if _bundlable(ref.target_url):
            continue
        missing.append(ref.target_url)
        meta = dict(ref.metadata)
        meta["original_target_url"] = ref.target_url
        meta["missing_reference_because"] = "target_url is not a local file that exists"
        clip.media_reference = otio.schema.MissingReference(
            name=ref.name, available_range=ref.available_range, metadata=meta
        )
    return out, missing


def write_otioz(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    bundle, missing = _offline_copy(tl)
    diags = []
    if missing:
        diags.append(
            warning(
                W_MEDIA,
                "otioz",
                f"{len(missing)} media reference(s) point at files that do not exist or are not local; "
                "bundled as MissingReference (range kept, URL in metadata original_target_url): "
                f"{listing(missing)}",
                hint="render the film first so the bundle carries its media",
            )
        )

    def write(tmp: Path) -> None:
        try:
            otio.adapters.write_to_file(bundle, str(tmp), adapter_name="otioz")
        except otio.exceptions.OTIOError as exc:
            raise ExportError(f"cannot bundle {path.name}: {exc}") from exc

    atomic_write(path, write)
    return diags
