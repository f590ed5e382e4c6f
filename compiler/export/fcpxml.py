"""FCPXML 1.10 (Final Cut Pro 10.6+, DaVinci Resolve), written by filmc with xml.etree.

Both FCPXML writers OTIO offers drop transitions (and the official one writes 1.8 with bare
paths and no start timecode), so filmc writes the format itself:

- resources: one `format` (frameDuration, size), one `asset` per media file with a
  `media-rep` URL (required since 1.9), one `effect` per transition kind used;
- a project whose sequence starts at the film's start timecode (`tcStart`); in FCPXML the
  spine's times run from there, so the first clip's `offset` is the start timecode;
- the spine: V1's clips as `asset-clip`, gaps as `gap`, transitions as `transition` overlapping
  the clips around them (the same convention as OTIO: clips end to end, transitions on top);
- audio tracks and extra video tracks as connected storylines named after the track (lanes
  -1, -2, ... for A1..A4; 1, 2, ... for V2..) with their gaps and crossfades, anchored at the
  film's first frame;
- fades as opacity keyframes (`adjust-blend`), scene markers as chapter markers, shot markers
  as markers, provenance as each clip's `note` and metadata.

Offline clips (not yet rendered) need a URL too: they point at `file:///filmc-offline/...`, a
placeholder the editor relinks once the film is rendered.
"""

from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from ..diagnostics import Diagnostic
from .common import (
    W_MARKERS,
    W_MEDIA,
    W_TRANSITION,
    ExportError,
    atomic_write_text,
    filmc_meta,
    frames,
    listing,
    markers_off_v1,
    rate_fraction,
    start_frame,
    warning,
)
from .prepare import editor_copy
from .provenance import metadata_warning, provenance
from .transitions import TransitionKind, transition_kind

FMT = "fcpxml"
VERSION = "1.10"
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n'
OFFLINE_ROOT = "file:///filmc-offline"
# Final Cut Pro's built-in transitions (FxPlug identifiers).
EFFECTS = {
    "dissolve": ("Cross Dissolve", "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"),
    "dip": ("Fade To Color", "FxPlug:F779C565-486D-4633-8035-0374B4DB8F5C"),
    "wipe": ("Wipe", "FxPlug:857E2FBA-98DB-411B-A88C-CE6ABC1F65D8"),
    "audio": ("Audio Crossfade", "FFAudioTransition"),
}
AUDIO_ROLES = ["dialogue", "effects", "music", "effects"]  # A1 dialogue, A2 ambience, A3 music, A4 SFX
VIDEO_KEPT = frozenset({"shot_id", "scene", "span", "source", "action", "fade_in", "fade_out"})
AUDIO_KEPT = frozenset({"text", "speaker", "shot_id", "span"})
TRANSITION_KEPT = frozenset({"effect", "frames", "colour"})
FORMAT_NAMES = {(1920, 1080): "1080p", (1280, 720): "720p", (3840, 2160): "2160p"}
RATE_NAMES = {Fraction(24000, 1001): "2398", Fraction(24): "24", Fraction(25): "25",
              Fraction(30000, 1001): "2997", Fraction(30): "30", Fraction(50): "50",
              Fraction(60000, 1001): "5994", Fraction(60): "60"}  # fmt: skip


class _Clock:
    """Frames to FCPXML rational seconds (`1001/24000s`), exact for NTSC rates."""

    def __init__(self, rate: float) -> None:
        self.rate = rate_fraction(rate)
        self.frame = 1 / self.rate

    def __call__(self, n: int) -> str:
        t = Fraction(n) * self.frame
        if t == 0:
            return "0s"
        return f"{t.numerator}s" if t.denominator == 1 else f"{t.numerator}/{t.denominator}s"

    @property
    def tc_format(self) -> str:
        return "DF" if self.rate.denominator == 1001 and self.rate.numerator in (30000, 60000) else "NDF"


@dataclass
class _SpineItem:
    element: ET.Element
    record_start: int  # frames from the start of the film
    length: int
    local_start: int  # the item's own time at its first frame
    anchored: list[ET.Element] = field(default_factory=list)
    markers: list[ET.Element] = field(default_factory=list)


class _Resources:
    """The `resources` element: format, assets (one per media file) and effects, with ids."""

    def __init__(self, root: ET.Element, clock: _Clock, width: int, height: int, title: str) -> None:
        self.element = ET.SubElement(root, "resources")
        self.clock = clock
        self.next_id = 1
        self.assets: dict[str, tuple[str, ET.Element, int, int]] = {}
        self.effects: dict[str, str] = {}
        self.offline: list[str] = []
        self.title = re.sub(r"[^A-Za-z0-9_.-]+", "_", title) or "film"
        name = FORMAT_NAMES.get((width, height))
        rate_name = RATE_NAMES.get(clock.rate)
        attrs = {"id": self._id(), "frameDuration": clock(1), "width": str(width), "height": str(height),
                 "colorSpace": "1-1-1 (Rec. 709)"}  # fmt: skip
        if name and rate_name:
            attrs["name"] = f"FFVideoFormat{name}{rate_name}"
        self.format_id = attrs["id"]
        ET.SubElement(self.element, "format", attrs)

    def _id(self) -> str:
        rid = f"r{self.next_id}"
        self.next_id += 1
        return rid

    def asset(self, clip: otio.schema.Clip, audio: bool, rate: float) -> str:
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            url = ref.target_url
        else:
            # Each offline clip gets its own placeholder: two lines by one speaker are two files.
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", clip.name or "clip")
            url = f"{OFFLINE_ROOT}/{self.title}/{safe}.{'wav' if audio else 'mov'}"
            n = 1
            while url in self.assets:
                n += 1
                url = f"{OFFLINE_ROOT}/{self.title}/{safe}_{n}.{'wav' if audio else 'mov'}"
            self.offline.append(clip.name)
        avail = ref.available_range
        first, length = frames(avail.start_time, rate), frames(avail.duration, rate)
        if url in self.assets:
            rid, element, old_first, old_length = self.assets[url]
            lo, hi = min(first, old_first), max(first + length, old_first + old_length)
            element.set("start", self.clock(lo))
            element.set("duration", self.clock(hi - lo))
            self.assets[url] = (rid, element, lo, hi - lo)
            return rid
        rid = self._id()
        attrs = {"id": rid, "name": ref.name or clip.name or rid, "start": self.clock(first),
                 "duration": self.clock(length)}  # fmt: skip
        if audio:
            attrs.update(hasVideo="0", hasAudio="1", audioSources="1", audioChannels="2", audioRate="48000")
        else:
            attrs.update(hasVideo="1", format=self.format_id, videoSources="1", hasAudio="0")
        element = ET.SubElement(self.element, "asset", attrs)
        ET.SubElement(element, "media-rep", {"kind": "original-media", "src": url})
        self.assets[url] = (rid, element, first, length)
        return rid

    def effect(self, kind: str) -> tuple[str, str]:
        name, uid = EFFECTS.get(kind, EFFECTS["dissolve"])
        if uid not in self.effects:
            rid = self._id()
            ET.SubElement(self.element, "effect", {"id": rid, "name": name, "uid": uid})
            self.effects[uid] = rid
        return self.effects[uid], name


def _opacity(clock: _Clock, first: int, length: int, fade_in: int, fade_out: int) -> ET.Element:
    """Opacity keyframes in the clip's own time: FCP's fade from and to black."""
    blend = ET.Element("adjust-blend", {"amount": "1"})
    param = ET.SubElement(blend, "param", {"name": "amount"})
    animation = ET.SubElement(param, "keyframeAnimation")
    keys = []
    if fade_in:
        keys += [(first, "0"), (first + fade_in, "1")]
    if fade_out:
        keys += [(first + length - fade_out, "1"), (first + length, "0")]
    for at, value in keys:
        ET.SubElement(animation, "keyframe", {"time": clock(at), "value": value})
    return blend


class _Writer:
    def __init__(self, tl: otio.schema.Timeline, rate: float) -> None:
        self.tl = tl
        self.rate = rate
        self.clock = _Clock(rate)
        self.start = start_frame(tl, rate)
        self.diags: list[Diagnostic] = []
        self.approximated: list[str] = []
        self.root = ET.Element("fcpxml", {"version": VERSION})
        width, height = (filmc_meta(tl).get("resolution") or [1920, 1080])[:2]
        self.resources = _Resources(self.root, self.clock, int(width), int(height), tl.name or "film")
        self.spine_items: list[_SpineItem] = []
        self.starts: list[int] = []

    def _add(self, item: _SpineItem) -> None:
        self.spine_items.append(item)
        self.starts.append(item.record_start)

    def t(self, n: int) -> str:
        return self.clock(n)

    def _clip(self, clip: otio.schema.Clip, record: int, lane: int | None, audio: bool, role: str | None) -> ET.Element:
        rid = self.resources.asset(clip, audio, self.rate)
        first = frames(clip.source_range.start_time, self.rate)
        length = frames(clip.source_range.duration, self.rate)
        attrs = {"ref": rid}
        if lane is not None:
            attrs["lane"] = str(lane)
        attrs.update(offset=self.t(record), name=clip.name or rid, start=self.t(first), duration=self.t(length))
        if audio and role:
            attrs["audioRole"] = role
        if not audio:
            attrs["tcFormat"] = self.clock.tc_format
        element = ET.Element("asset-clip", attrs)
        meta = filmc_meta(clip)
        if audio:
            text = meta.get("text")
            if text:
                ET.SubElement(element, "note").text = f"{meta.get('speaker') or clip.name}: {text} | {meta.get('span', '')}"
            return element
        prov = provenance(clip)
        ET.SubElement(element, "note").text = "filmc " + prov.summary()
        fade_in, fade_out = int(meta.get("fade_in") or 0), int(meta.get("fade_out") or 0)
        if (fade_in or fade_out) and fade_in + fade_out <= length:
            element.append(_opacity(self.clock, first, length, fade_in, fade_out))
        return element

    @staticmethod
    def _clip_metadata(clip: otio.schema.Clip) -> ET.Element | None:
        prov = provenance(clip)
        pairs = [("com.apple.proapps.studio.scene", prov.scene),
                 ("com.apple.proapps.spotlight.kMDItemDescription", filmc_meta(clip).get("action") or prov.summary())]  # fmt: skip
        pairs = [(k, v) for k, v in pairs if v]
        if not pairs:
            return None
        element = ET.Element("metadata")
        for key, value in pairs:
            ET.SubElement(element, "md", {"key": key, "value": str(value)})
        return element

    def spine(self, v1: otio.schema.Track) -> ET.Element:
        spine = ET.Element("spine", {"name": v1.name} if v1.name else {})
        for index, item in enumerate(v1):
            record = frames(v1.range_of_child_at_index(index).start_time, self.rate)
            if isinstance(item, otio.schema.Transition):
                spine.append(self._transition(item, self.start + record, audio=False))
                continue
            length = frames(item.duration(), self.rate)
            if isinstance(item, otio.schema.Clip):
                element = self._clip(item, self.start + record, None, False, None)
                local = frames(item.source_range.start_time, self.rate)
                self._add(_SpineItem(element, record, length, local))
            else:
                element = ET.Element("gap", {"name": "Gap", "offset": self.t(self.start + record),
                                             "duration": self.t(length)})  # fmt: skip
                self._add(_SpineItem(element, record, length, 0))
            spine.append(element)
        return spine

    def _transition(self, item: otio.schema.Transition, offset: int, audio: bool) -> ET.Element:
        """A transition starting at `offset` (OTIO's range of a transition starts before the cut)."""
        length = frames(item.in_offset, self.rate) + frames(item.out_offset, self.rate)
        if audio:
            rid, name = self.resources.effect("audio")
            element = ET.Element("transition", {"name": name, "offset": self.t(offset), "duration": self.t(length)})
            ET.SubElement(element, "filter-audio", {"ref": rid, "name": name})
            return element
        kind: TransitionKind = transition_kind(item)
        rid, name = self.resources.effect(kind.effect)
        element = ET.Element("transition", {"name": name, "offset": self.t(offset), "duration": self.t(length)})
        ET.SubElement(element, "filter-video", {"ref": rid, "name": name})
        if kind.effect == "wipe":
            self.approximated.append(f"{kind.name} (Wipe, direction not set)")
        elif kind.effect == "dip" and kind.colour != "#000000":
            self.approximated.append(f"{kind.name} (Fade To Color with FCP's default colour, black)")
        elif kind.effect not in EFFECTS:
            self.approximated.append(f"{kind.name} (Cross Dissolve)")
        return element

    def _anchor(self, spine: ET.Element, record: int) -> _SpineItem:
        """The spine item under frame `record`; a trailing gap when the picture ends before it."""
        at = bisect.bisect_right(self.starts, record) - 1
        if at >= 0:
            item = self.spine_items[at]
            if record < item.record_start + item.length:
                return item
        end = self.spine_items[-1].record_start + self.spine_items[-1].length if self.spine_items else 0
        length = record + 1 - end
        gap = ET.SubElement(spine, "gap", {"name": "Gap", "offset": self.t(self.start + end), "duration": self.t(length)})
        item = _SpineItem(gap, end, length, 0)
        self._add(item)
        return item

    def storyline(self, track: otio.schema.Track, lane: int, audio: bool, role: str | None) -> None:
        """A whole track as a connected storyline, which (unlike connected clips) holds transitions.

        It is anchored to the first spine item at its first frame, and its own time starts at 0,
        so an item's offset is its frame from the start of the film.
        """
        if not any(isinstance(i, otio.schema.Clip) for i in track):
            return
        anchor = self.spine_items[0]
        story = ET.Element("spine", {"lane": str(lane), "offset": self.t(anchor.local_start), "name": track.name})
        for index, item in enumerate(track):
            record = frames(track.range_of_child_at_index(index).start_time, self.rate)
            if isinstance(item, otio.schema.Transition):
                story.append(self._transition(item, record, audio))
            elif isinstance(item, otio.schema.Clip):
                story.append(self._clip(item, record, None, audio, role))
            else:
                story.append(ET.Element("gap", {"name": "Gap", "offset": self.t(record),
                                                "duration": self.t(frames(item.duration(), self.rate))}))  # fmt: skip
        anchor.anchored.append(story)

    def markers(self, spine: ET.Element, v1: otio.schema.Track) -> None:
        found = [(frames(m.marked_range.start_time, self.rate), m) for m in v1.markers]
        for index, item in enumerate(v1):
            if isinstance(item, otio.schema.Clip):
                record = frames(v1.range_of_child_at_index(index).start_time, self.rate)
                first = frames(item.source_range.start_time, self.rate)
                found += [(record + frames(m.marked_range.start_time, self.rate) - first, m) for m in item.markers]
        for record, marker in sorted(found, key=lambda rm: rm[0]):
            parent = self._anchor(spine, record)
            at = parent.local_start + record - parent.record_start
            length = max(1, frames(marker.marked_range.duration, self.rate))
            attrs = {"start": self.t(at), "duration": self.t(length), "value": marker.name or "marker"}
            chapter = (marker.name or "").startswith("scene:")
            span = filmc_meta(marker).get("span")
            if span and not chapter:
                attrs["note"] = str(span)
            parent.markers.append(ET.Element("chapter-marker" if chapter else "marker", attrs))

    def assemble(self, v1: otio.schema.Track) -> None:
        """Children in the DTD's order: note, adjustments, anchored clips, markers, metadata."""
        for item in self.spine_items:
            element = item.element
            kept = list(element)
            for child in kept:
                element.remove(child)
            notes = [c for c in kept if c.tag == "note"]
            adjust = [c for c in kept if c.tag.startswith("adjust-")]
            element.extend(notes + adjust + item.anchored + item.markers)
        clips = [c for c in v1 if isinstance(c, otio.schema.Clip)]
        spine_clips = [i for i in self.spine_items if i.element.tag == "asset-clip"]
        for clip, item in zip(clips, spine_clips, strict=True):
            metadata = self._clip_metadata(clip)
            if metadata is not None:
                item.element.append(metadata)


def write_fcpxml(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    prep = editor_copy(tl, FMT)
    rate, diags = prep.rate, list(prep.diagnostics)
    out = prep.timeline
    video = [t for t in out.tracks if t.kind == otio.schema.TrackKind.Video]
    audio = [t for t in out.tracks if t.kind == otio.schema.TrackKind.Audio]
    if not video or not any(isinstance(c, otio.schema.Clip) for c in video[0]):
        raise ExportError("fcpxml: the timeline has no video clips to write")
    writer = _Writer(out, rate)
    v1 = video[0]
    spine = writer.spine(v1)
    for lane, track in enumerate(video[1:], start=1):
        writer.storyline(track, lane, False, None)
    for lane, track in enumerate(audio, start=1):
        writer.storyline(track, -lane, True, AUDIO_ROLES[min(lane - 1, len(AUDIO_ROLES) - 1)])
    writer.markers(spine, v1)
    writer.assemble(v1)
    total = max([i.record_start + i.length for i in writer.spine_items] + [frames(t.duration(), rate) for t in out.tracks])
    title = tl.name or "filmc"
    library = ET.SubElement(writer.root, "library")
    event = ET.SubElement(library, "event", {"name": title})
    project = ET.SubElement(event, "project", {"name": title})
    sequence = ET.SubElement(project, "sequence", {
        "format": writer.resources.format_id, "duration": writer.t(total), "tcStart": writer.t(writer.start),
        "tcFormat": writer.clock.tc_format, "audioLayout": "stereo", "audioRate": "48k",
    })  # fmt: skip
    source = filmc_meta(tl).get("source")
    if source:
        ET.SubElement(sequence, "note").text = f"filmc source {source}"
    sequence.append(spine)

    if writer.approximated:
        diags.append(warning(W_TRANSITION, FMT, f"transitions approximated: {listing(writer.approximated)}"))
    if writer.resources.offline:
        diags.append(
            warning(
                W_MEDIA,
                FMT,
                f"FCPXML needs a URL for every clip; offline clips point at {OFFLINE_ROOT}/...: "
                f"{listing(writer.resources.offline)}",
                hint="relink in the editor after rendering, or render before exporting",
            )
        )
    marker_count = len(v1.markers) + sum(len(c.markers) for c in v1 if isinstance(c, otio.schema.Clip))
    if marker_count:
        diags.append(warning(W_MARKERS, FMT, f"marker colours not carried ({marker_count} markers; scenes as chapter markers)"))
    if elsewhere := markers_off_v1(out):
        diags.append(warning(W_MARKERS, FMT, f"{elsewhere} markers off the first video track are not written"))
    meta = metadata_warning(
        tl,
        FMT,
        "shot id, scene and .film span in each clip's note; scene and action as clip metadata; "
        "dialogue text in notes; fades as opacity keyframes",
        kept_keys=VIDEO_KEPT | AUDIO_KEPT | TRANSITION_KEPT,
    )
    if meta is not None:
        diags.insert(0, meta)
    ET.indent(writer.root, space="  ")
    atomic_write_text(path, HEADER + ET.tostring(writer.root, encoding="unicode") + "\n")
    return diags
