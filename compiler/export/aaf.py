"""AAF through `otio-aaf-adapter` 2.0.0 and pyaaf2, for Avid Media Composer and Resolve.

The writer needs MobIDs (filmc lets it mint fresh ones) and, on every Transition, the AAF
operation it stands for: filmc writes each transition as the SMPTE video (or mono audio)
dissolve, the only kind the writer supports. Shot provenance goes into each master mob's
UserComments, which Avid shows as bin columns. The writer leaves a video sequence that holds
transitions with Length 0; filmc sets the length afterwards with pyaaf2.
"""

from __future__ import annotations

from pathlib import Path

import aaf2
import opentimelineio as otio

from ..diagnostics import Diagnostic
from .common import (
    W_FADES,
    W_MARKERS,
    W_TRACKS,
    W_TRANSITION,
    ExportError,
    atomic_write,
    filmc_meta,
    frames,
    listing,
    warning,
)
from .prepare import editor_copy
from .provenance import metadata_warning, provenance
from .transitions import transition_kind

FMT = "aaf"
VIDEO_DISSOLVE = "0c3bea41-fc05-11d2-8a29-0050040ef7d2"
AUDIO_DISSOLVE = "0c3bea44-fc05-11d2-8a29-0050040ef7d2"
VIDEO_KEPT = frozenset({"shot_id", "scene", "span", "source", "action"})
AUDIO_KEPT = frozenset({"text", "speaker", "shot_id", "span"})
TRANSITION_KEPT = frozenset({"frames"})


def _operation(audio: bool, cut_point: int) -> dict:
    """The transition metadata the writer validates: a linear 0 -> 1 dissolve."""
    return {
        "PointList": [{"Value": 0, "Time": 0}, {"Value": 1, "Time": 1}],
        "CutPoint": cut_point,
        "OperationGroup": {
            "Operation": {
                "Identification": AUDIO_DISSOLVE if audio else VIDEO_DISSOLVE,
                "Name": "Mono Audio Dissolve" if audio else "Video Dissolve",
                "Description": "filmc dissolve",
                "DataDefinition": {"Name": "Sound" if audio else "Picture"},
                "IsTimeWarp": False,
                "Bypass": 1,
                "NumberInputs": 2,
                "OperationCategory": "OperationCategory_Effect",
            }
        },
    }


def _comments(clip: otio.schema.Clip, audio: bool) -> dict[str, str]:
    meta = filmc_meta(clip)
    if audio:
        pairs = {"Text": meta.get("text"), "Speaker": meta.get("speaker"), "Shot": meta.get("shot_id"),
                 "Source": meta.get("span")}  # fmt: skip
    else:
        prov = provenance(clip)
        pairs = {"Shot": prov.shot_id, "Scene": prov.scene, "Source": prov.span, "Description": meta.get("action")}
    return {key: str(value) for key, value in pairs.items() if value}


def _prepare(tl: otio.schema.Timeline, rate: float) -> tuple[list[str], list[str], int]:
    """Fill the copy's AAF metadata; returns (transitions approximated, fades dropped, markers dropped)."""
    approximated, fades = [], []
    markers = 0
    source = filmc_meta(tl).get("source")
    tl.metadata["AAF"] = {"UserComments": {"Source": str(source)}} if source else {}
    for track in tl.tracks:
        audio = track.kind == otio.schema.TrackKind.Audio
        markers += len(track.markers)
        for item in track:
            if isinstance(item, otio.schema.Transition):
                kind = transition_kind(item)
                if kind.effect != "dissolve":
                    approximated.append(f"{kind.name} (as a dissolve)")
                item.transition_type = otio.schema.TransitionTypes.SMPTE_Dissolve
                item.metadata["AAF"] = _operation(audio, frames(item.in_offset, rate))
                continue
            markers += len(getattr(item, "markers", []))
            if not isinstance(item, otio.schema.Clip):
                continue
            meta = filmc_meta(item)
            if meta.get("fade_in") or meta.get("fade_out"):
                fades.append(item.name)
            item.metadata["AAF"] = {"UserComments": _comments(item, audio)}
    return approximated, fades, markers


def _fix_sequence_lengths(path: Path) -> None:
    """Set each sequence's Length: its segments minus the transitions that overlap them."""
    with aaf2.open(str(path), "rw") as f:
        for mob in f.content.compositionmobs():
            for slot in mob.slots:
                segment = slot.segment
                if isinstance(segment, aaf2.components.OperationGroup) and segment.segments:
                    segment = segment.segments[0]
                if not isinstance(segment, aaf2.components.Sequence):
                    continue
                total = sum(
                    -c.length if isinstance(c, aaf2.components.Transition) else c.length for c in segment.components
                )
                if segment.length != total:
                    segment.length = total


def write_aaf(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    prep = editor_copy(tl, FMT)
    rate, diags = prep.rate, list(prep.diagnostics)
    out = prep.timeline
    empty = [t.name for t in out.tracks if len(t) == 0]
    if empty:
        diags.append(warning(W_TRACKS, FMT, f"empty tracks are not written: {listing(empty)}"))
    if not any(True for _ in out.find_clips()):
        raise ExportError("aaf: the timeline has no clips to write")
    approximated, fades, markers = _prepare(out, rate)
    if approximated:
        diags.append(warning(W_TRANSITION, FMT, f"only dissolves are written; approximated: {listing(approximated)}"))
    if fades:
        diags.append(warning(W_FADES, FMT, f"fades to/from black are not written on: {listing(fades)}"))
    if markers:
        diags.append(
            warning(W_MARKERS, FMT, f"{markers} markers are not written (otio-aaf-adapter 2.0.0 writes none)")
        )
    meta = metadata_warning(
        tl,
        FMT,
        "shot id, scene, .film span, action and dialogue text in master mob UserComments",
        kept_keys=VIDEO_KEPT | AUDIO_KEPT | TRANSITION_KEPT,
    )
    if meta is not None:
        diags.insert(0, meta)

    def write(tmp: Path) -> None:
        otio.adapters.write_to_file(out, str(tmp), adapter_name="AAF", use_empty_mob_ids=True)
        _fix_sequence_lengths(tmp)

    atomic_write(path, write)
    return diags
