"""Final Cut Pro 7 XML (xmeml 4) through OTIO's `fcp_xml` adapter, with what editors need added.

The adapter writes tracks, gaps, transitions, audio and the sequence start timecode. filmc
adds, through the adapter's `metadata["fcp_xml"]` pass-through: the sequence format
(`samplecharacteristics`, without which Resolve complains), shot provenance in each clip's
`logginginfo` and `comments`, dialogue text on dialogue clips, fades as opacity keyframes,
named transition effects, and sequence markers. It works around two writer bugs: identical
clips (the same sound effect used twice) collapse into one back-reference and lose their
place, and every offline clip shares one `file` element.
"""

from __future__ import annotations

import collections
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import opentimelineio as otio

from ..diagnostics import Diagnostic
from .common import (
    W_FADES,
    W_MARKERS,
    W_TRANSITION,
    ExportError,
    atomic_write_text,
    filmc_meta,
    frames,
    listing,
    warning,
)
from .prepare import editor_copy
from .provenance import metadata_warning, provenance
from .transitions import TransitionKind, transition_kind

FMT = "fcp7xml"
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n'
# OTIO metadata dictionaries come back sorted by key; FCP7 files list children in this order.
CHILD_ORDER: dict[str, list[str]] = {
    "clipitem": ["masterclipid", "name", "enabled", "duration", "rate", "start", "end", "in", "out", "file",
                 "sourcetrack", "filter", "marker", "link", "logginginfo", "labels", "comments"],
    "transitionitem": ["rate", "start", "end", "alignment", "effect"],
    "effect": ["name", "effectid", "effectcategory", "effecttype", "mediatype", "parameter"],
    "parameter": ["parameterid", "name", "valuemin", "valuemax", "value", "keyframe"],
    "keyframe": ["when", "value"],
    "value": ["alpha", "red", "green", "blue"],
    "samplecharacteristics": ["rate", "width", "height", "anamorphic", "pixelaspectratio", "fielddominance",
                              "colordepth", "depth", "samplerate"],
    "rate": ["timebase", "ntsc"],
    "logginginfo": ["description", "scene", "shottake", "lognote"],
    "file": ["name", "pathurl", "rate", "duration", "timecode", "media"],
    "marker": ["name", "comment", "in", "out"],
}  # fmt: skip
VIDEO_KEPT = frozenset({"shot_id", "scene", "span", "source", "action", "fade_in", "fade_out"})
AUDIO_KEPT = frozenset({"text", "speaker", "shot_id", "span"})
TRANSITION_KEPT = frozenset({"effect", "frames", "colour"})
# FCP7's equal-power audio crossfade, what filmc's mix does at an audio transition.
AUDIO_CROSSFADE = {"name": "Cross Fade (+3dB)", "effectid": "KGAudioTransCrossFade3dB",
                   "effecttype": "transition", "mediatype": "audio"}  # fmt: skip


def _rgb(colour: str) -> dict[str, int]:
    value = colour.lstrip("#")
    if len(value) != 6:
        value = "000000"
    return {"alpha": 255, "red": int(value[0:2], 16), "green": int(value[2:4], 16), "blue": int(value[4:6], 16)}


def _effect(kind: TransitionKind) -> dict:
    """The FCP7 transition effect for a filmc transition."""
    base = {"effecttype": "transition", "mediatype": "video"}
    if kind.effect == "wipe":
        return {"name": "Edge Wipe", "effectid": "Edge Wipe", "effectcategory": "Wipe", **base}
    if kind.effect == "dip":
        return {
            "name": "Dip to Color Dissolve",
            "effectid": "Dip to Color Dissolve",
            "effectcategory": "Dissolve",
            **base,
            "parameter": {"parameterid": "color", "name": "Color", "value": _rgb(kind.colour)},
        }
    return {"name": "Cross Dissolve", "effectid": "Cross Dissolve", "effectcategory": "Dissolve", **base}


def _opacity_filter(first: int, length: int, fade_in: int, fade_out: int) -> dict:
    """Opacity keyframes (0-100) at media frames: FCP7's way of fading a clip from and to black."""
    keys = []
    if fade_in:
        keys += [{"when": first, "value": 0}, {"when": first + fade_in, "value": 100}]
    if fade_out:
        keys += [{"when": first + length - fade_out, "value": 100}, {"when": first + length, "value": 0}]
    return {
        "effect": {
            "name": "Opacity",
            "effectid": "opacity",
            "effectcategory": "motion",
            "effecttype": "motion",
            "mediatype": "video",
            "parameter": {
                "parameterid": "opacity",
                "name": "Opacity",
                "valuemin": 0,
                "valuemax": 100,
                "value": 100,
                "keyframe": keys,
            },
        }
    }


def _sequence_format(tl: otio.schema.Timeline, rate: float) -> dict:
    width, height = (filmc_meta(tl).get("resolution") or [1920, 1080])[:2]
    timebase = math.ceil(rate)
    return {
        "media": {
            "video": {
                "format": {
                    "samplecharacteristics": {
                        "rate": {"timebase": timebase, "ntsc": "FALSE" if timebase == rate else "TRUE"},
                        "width": int(width),
                        "height": int(height),
                        "anamorphic": "FALSE",
                        "pixelaspectratio": "square",
                        "fielddominance": "none",
                        "colordepth": 24,
                    }
                }
            },
            "audio": {"format": {"samplecharacteristics": {"depth": 16, "samplerate": 48000}}},
        }
    }


def _video_clip_meta(clip: otio.schema.Clip, clip_id: int, rate: float, fade_problems: list[str]) -> dict:
    prov = provenance(clip)
    meta = filmc_meta(clip)
    out: dict = {
        "@id": f"clipitem-{clip_id}",
        "logginginfo": {
            "description": str(meta.get("action") or ""),
            "scene": prov.scene,
            "shottake": prov.shot_id,
            "lognote": prov.span,
        },
        "comments": {
            "mastercomment1": f"filmc shot {prov.shot_id}",
            "mastercomment2": f"scene {prov.scene}" if prov.scene else "",
            "mastercomment3": prov.span,
        },
    }
    fade_in, fade_out = int(meta.get("fade_in") or 0), int(meta.get("fade_out") or 0)
    length = frames(clip.source_range.duration, rate)
    if fade_in + fade_out > length:
        fade_problems.append(f"{clip.name} (fades longer than the shot)")
    elif fade_in or fade_out:
        first = frames(clip.source_range.start_time, rate)
        out["filter"] = _opacity_filter(first, length, fade_in, fade_out)
    return out


def _audio_clip_meta(clip: otio.schema.Clip, clip_id: int) -> dict:
    meta = filmc_meta(clip)
    out: dict = {"@id": f"clipitem-{clip_id}"}
    if meta.get("text"):
        out["comments"] = {
            "mastercomment1": f"{meta.get('speaker') or clip.name}: {meta['text']}",
            "mastercomment2": f"filmc shot {meta.get('shot_id', '')}",
            "mastercomment3": str(meta.get("span") or ""),
        }
    return out


def _prepare(tl: otio.schema.Timeline, rate: float) -> tuple[list[str], list[str]]:
    """Fill the copy's `fcp_xml` metadata; returns (transitions approximated, fades not written)."""
    tl.metadata["fcp_xml"] = _sequence_format(tl, rate)
    approximated: list[str] = []
    fade_problems: list[str] = []
    clip_id = 0
    video_seen = False
    for track in tl.tracks:
        is_v1 = track.kind == otio.schema.TrackKind.Video and not video_seen
        video_seen = video_seen or track.kind == otio.schema.TrackKind.Video
        for item in track:
            if isinstance(item, otio.schema.Transition) and track.kind == otio.schema.TrackKind.Audio:
                item.metadata["fcp_xml"] = {"effect": AUDIO_CROSSFADE}
                continue
            if isinstance(item, otio.schema.Transition):
                kind = transition_kind(item)
                item.metadata["fcp_xml"] = {"effect": _effect(kind)}
                if kind.effect == "wipe":
                    approximated.append(f"{kind.name} (Edge Wipe, direction not set)")
                elif kind.effect not in ("dissolve", "dip"):
                    approximated.append(f"{kind.name} (Cross Dissolve)")
                continue
            if not isinstance(item, otio.schema.Clip):
                continue
            clip_id += 1
            if isinstance(item.media_reference, otio.schema.MissingReference) and not item.media_reference.name:
                # One offline file per clip: the writer would otherwise share the first one's.
                item.media_reference.name = item.name
            if track.kind == otio.schema.TrackKind.Audio:
                item.metadata["fcp_xml"] = _audio_clip_meta(item, clip_id)
            else:
                item.metadata["fcp_xml"] = _video_clip_meta(item, clip_id, rate, fade_problems)
            # The writer serialises every clip to JSON to find repeats: carry only what it writes.
            item.metadata.pop("filmc", None)
        if is_v1:
            for marker in list(track.markers):
                moved = marker.clone()
                span = filmc_meta(marker).get("span")
                if span:
                    moved.metadata["fcp_xml"] = {"comment": str(span)}
                tl.tracks.markers.append(moved)
            track.markers.clear()
    return approximated, fade_problems


def write_fcp7(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    prep = editor_copy(tl, FMT)
    rate, diags = prep.rate, list(prep.diagnostics)
    out = prep.timeline
    if not any(True for _ in out.find_clips()):
        raise ExportError("fcp7xml: the timeline has no clips to write")
    approximated, fade_problems = _prepare(out, rate)
    if approximated:
        diags.append(warning(W_TRANSITION, FMT, f"transitions approximated: {listing(approximated)}"))
    if fade_problems:
        diags.append(warning(W_FADES, FMT, f"fades not written: {listing(fade_problems)}"))
    # The writer keeps stack markers (V1's now among them) and clip markers, not track markers.
    dropped_markers = sum(len(t.markers) for t in out.tracks)
    markers = list(out.tracks.markers)
    if dropped_markers:
        diags.append(warning(W_MARKERS, FMT, f"{dropped_markers} markers on tracks other than V1 are not written"))
    if markers:
        diags.append(
            warning(
                W_MARKERS,
                FMT,
                f"marker colours not carried ({len(markers)} sequence markers keep name, frame and comment)",
            )
        )
    meta = metadata_warning(
        tl,
        FMT,
        "shot id, scene and .film span in logginginfo and comments; action as description; "
        "dialogue text in comments; fades as opacity keyframes",
        kept_keys=VIDEO_KEPT | AUDIO_KEPT | TRANSITION_KEPT,
        also_dropped=("track names",),
    )
    if meta is not None:
        diags.insert(0, meta)
    atomic_write_text(path, _ordered(_xmeml(out)))
    return diags


def _xmeml(tl: otio.schema.Timeline) -> ET.Element:
    """The adapter's element tree for `tl`, as its `write_to_string` builds it.

    Taken before the adapter pretty-prints through minidom, which is half its time on a long
    film; filmc orders and indents the tree itself. Falls back to the public call if the
    (pinned) adapter's internals change.
    """
    adapter = otio.adapters.from_name("fcp_xml").module()
    try:
        build, sub = adapter._build_sequence_for_timeline, adapter._append_new_sub_element
    except AttributeError:
        return ET.fromstring(otio.adapters.write_to_string(tl, adapter_name="fcp_xml"))
    root = ET.Element("xmeml", version="4")
    project = sub(root, "project")
    sub(project, "name", text=tl.name)
    children = sub(project, "children")
    whole = otio.opentime.TimeRange(start_time=tl.global_start_time, duration=tl.duration())
    children.append(build(tl, whole, collections.defaultdict(dict)))
    return root


def _ordered(root: ET.Element) -> str:
    """Children of known elements in FCP7's order, one rate per clip, and the xmeml header."""
    for clipitem in root.iter("clipitem"):
        for extra in clipitem.findall("rate")[1:]:  # the adapter writes a clip's rate twice
            clipitem.remove(extra)
    for element in root.iter():
        order = CHILD_ORDER.get(element.tag)
        if order is None or len(element) < 2:
            continue
        rank = {tag: i for i, tag in enumerate(order)}
        children = sorted(element, key=lambda child: rank.get(child.tag, len(order)))
        element[:] = children
    ET.indent(root, space="    ")
    return HEADER + ET.tostring(root, encoding="unicode") + "\n"
