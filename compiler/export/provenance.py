"""Where each clip came from (shot id, scene, .film line) and which filmc metadata a format drops.

Editors cannot hold filmc's metadata, but an editor must still be able to find the `.film`
line behind a shot: every format carries this small provenance record in its own way.
"""

from __future__ import annotations

from dataclasses import dataclass

import opentimelineio as otio

from ..diagnostics import Diagnostic
from .common import W_METADATA, filmc_meta, listing, warning


@dataclass(frozen=True)
class Provenance:
    shot_id: str
    scene: str
    span: str  # "file.film:LINE:COL", or "" when unknown

    @property
    def film_line(self) -> str:
        """`file.film:LINE`: what an editor needs to open the source."""
        parts = self.span.rsplit(":", 2)
        return ":".join(parts[:2]) if len(parts) == 3 else self.span

    def summary(self) -> str:
        bits = [f"shot {self.shot_id}"]
        if self.scene:
            bits.append(f"scene {self.scene}")
        if self.span:
            bits.append(self.span)
        return " | ".join(bits)


def _span_of(meta: dict) -> str:
    span = meta.get("span")
    if span:
        return str(span)
    src = meta.get("source")
    if src and src.get("file"):
        return f"{src['file']}:{src.get('line', 0)}:{src.get('col', 0)}"
    return ""


def provenance(item: otio.core.SerializableObject) -> Provenance:
    meta = filmc_meta(item)
    return Provenance(
        shot_id=str(meta.get("shot_id") or item.name or ""),
        scene=str(meta.get("scene") or ""),
        span=_span_of(meta),
    )


def metadata_warning(
    tl: otio.schema.Timeline,
    fmt: str,
    kept: str,
    kept_keys: frozenset[str] = frozenset(),
    also_dropped: tuple[str, ...] = (),
) -> Diagnostic | None:
    """One W0701 naming the filmc metadata `fmt` cannot carry, and what it keeps instead.

    `kept_keys` are filmc keys the format does carry (in its own fields); `also_dropped` names
    other things lost, such as track names.
    """
    found: dict[str, set[str]] = {"video clip": set(), "audio clip": set(), "transition": set()}
    other: set[str] = set()
    for track in tl.tracks:
        audio = track.kind == otio.schema.TrackKind.Audio
        for item in track:
            kind = "transition" if isinstance(item, otio.schema.Transition) else ("audio clip" if audio else "video clip")
            found[kind].update(set(filmc_meta(item)) - kept_keys)
            if any(filmc_meta(m) for m in getattr(item, "markers", [])):
                other.add("marker metadata")
        if any(filmc_meta(m) for m in track.markers):
            other.add("marker metadata")
    if filmc_meta(tl):
        other.add("timeline metadata (" + ", ".join(sorted(filmc_meta(tl))) + ")")
    parts = [f"{kind} keys " + ", ".join(sorted(keys)) for kind, keys in found.items() if keys]
    parts.extend(sorted(other))
    parts.extend(also_dropped)
    if not parts:
        return None
    return warning(
        W_METADATA,
        fmt,
        f"not carried: {'; '.join(parts)}. Kept: {kept}",
        hint="export .otio or .otioz to keep everything",
    )


def names_of(items: list[otio.core.Item]) -> str:
    return listing(i.name or "(unnamed)" for i in items)
