"""CMX 3600 EDL through OTIO's `cmx_3600` adapter, with its gaps filled and its bugs fixed.

The adapter writes cuts and dissolves of one video track. filmc prepares a copy it can write
(fades and dips become dissolves to and from black, `BL`), then rewrites every event line in
strict CMX columns: record timecode from the film's start (the adapter starts at 00:00:00:00),
the dissolve length in its own column (the adapter's `D 024` misaligns it; CMX and pycmx want
`D    024`), wipe codes, black (`BL`) sources for fades after a cut, and `FCM`. Provenance
(shot, scene, .film line) and markers (`* LOC:` at record timecode) follow each event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import from_timecode, to_timecode

from ..diagnostics import Diagnostic
from .common import (
    RT,
    TR,
    W_FADES,
    W_MARKERS,
    W_MEDIA,
    W_TRACKS,
    W_TRANSITION,
    ExportError,
    atomic_write_text,
    filmc_meta,
    frames,
    listing,
    markers_off_v1,
    start_frame,
    warning,
)
from .prepare import editor_copy
from .provenance import metadata_warning, provenance
from .transitions import transition_kind

FMT = "edl"
REEL_LEN = 8
RESERVED_REELS = {"BL", "BLACK", "BARS", "AX"}
WIPE_CODES = {"left": "W001", "right": "W001", "up": "W002", "down": "W002", None: "W001"}

# The adapter's event line: number, reel (8), channel (5), transition, four timecodes.
_ADAPTER_LINE = re.compile(
    r"^(?P<num>\d{3,})  (?P<reel>.{8}) (?P<chan>.{5}) (?:C        |D (?P<len>\d{3,})    )"
    r"(?P<src_in>\S+) (?P<src_out>\S+) (?P<rec_in>\S+) (?P<rec_out>\S+)$"
)
_INDEX_KEY = "filmc_v1_index"
_FROM_LINE = re.compile(r"^\* FROM (CLIP NAME|CLIP|FILE):")


@dataclass
class _Event:
    """One EDL event as the adapter will number it, and what filmc adds to it."""

    item: otio.core.Item  # the clip (or black gap) the event cuts or dissolves to
    source_index: int | None = None  # index of the shot's clip in V1
    from_black: bool = False
    wipe_code: str | None = None
    comments: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    track: otio.schema.Track
    events: list[_Event]
    diagnostics: list[Diagnostic]


def _sanitise_reel(text: str) -> str:
    reel = re.sub(r"[^A-Z0-9_]", "_", text.upper())[:REEL_LEN] or "AX"
    return reel + "_" if reel in RESERVED_REELS else reel


class _Reels:
    """CMX reels: 8 characters of A-Z0-9_, one per media file, never colliding."""

    def __init__(self) -> None:
        self.by_key: dict[str, str] = {}
        self.owner: dict[str, str] = {}
        self.shortened: list[str] = []

    def reel(self, clip: otio.schema.Clip) -> str:
        ref = clip.media_reference
        key = ref.target_url if isinstance(ref, otio.schema.ExternalReference) else f"clip:{clip.name}"
        if key in self.by_key:
            return self.by_key[key]
        given = clip.metadata.get("cmx_3600", {}).get("reel") if "cmx_3600" in clip.metadata else None
        base = _sanitise_reel(str(given or clip.name or "AX"))
        if given and base != given:
            self.shortened.append(f"{given}->{base}")
        reel, n = base, 1
        while self.owner.get(reel, key) != key:
            suffix = str(n)
            reel, n = base[: REEL_LEN - len(suffix)] + suffix, n + 1
        self.by_key[key] = reel
        self.owner[reel] = key
        return reel


def _edl_clip(clip: otio.schema.Clip, reel: str) -> otio.schema.Clip:
    """A bare clip for the adapter: its markers and metadata are written by filmc itself."""
    ref = clip.media_reference
    url = ref.target_url if isinstance(ref, otio.schema.ExternalReference) else None
    return otio.schema.Clip(
        name=clip.name,
        media_reference=otio.schema.ExternalReference(target_url=url) if url else otio.schema.MissingReference(),
        source_range=clip.source_range,
        metadata={"cmx_3600": {"reel": reel}},
    )


def _to_black(length: int, rate: float) -> list[otio.core.Composable]:
    """A-side dissolving into black: the adapter writes it as an event with reel BL."""
    return [
        otio.schema.Transition(in_offset=RT(length, rate), out_offset=RT(0, rate)),
        # The adapter moves the gap's start back by the dissolve; start it there so it stays >= 0.
        otio.schema.Gap(source_range=TR(RT(length, rate), RT(0, rate))),
    ]


def _from_black(length: int, rate: float) -> otio.schema.Transition:
    return otio.schema.Transition(in_offset=RT(0, rate), out_offset=RT(length, rate))


def _ends_in_black(track: otio.schema.Track) -> bool:
    return len(track) > 1 and isinstance(track[-1], otio.schema.Gap) and isinstance(track[-2], otio.schema.Transition)


def _plan(v1: otio.schema.Track, rate: float) -> _Plan:
    """The adapter-ready track and the events it will number, mirroring its grouping."""
    out = otio.schema.Track(name=v1.name, kind=otio.schema.TrackKind.Video)
    reels = _Reels()
    diags: list[Diagnostic] = []
    from_black_clips: set[int] = set()
    wipes: dict[int, str] = {}  # V1 index of the clip a wipe leads into -> CMX wipe code
    approximated: list[str] = []
    dropped_fades: list[str] = []
    items = list(v1)
    for index, item in enumerate(items):
        prev = items[index - 1] if index else None
        nxt = items[index + 1] if index + 1 < len(items) else None
        if isinstance(item, otio.schema.Transition):
            kind = transition_kind(item)
            a, b = frames(item.in_offset, rate), frames(item.out_offset, rate)
            if kind.effect == "dip":
                if kind.colour != "#000000":
                    approximated.append(f"{kind.name} (EDL black only: dip through BL)")
                if a:
                    out.extend(_to_black(a, rate))
                if b:
                    if not a:
                        from_black_clips.add(index + 1)
                    out.append(_from_black(b, rate))
                continue
            out.append(otio.schema.Transition(name=kind.name, in_offset=RT(a, rate), out_offset=RT(b, rate)))
            if kind.effect == "wipe":
                wipes[index + 1] = WIPE_CODES.get(kind.direction, "W001")
                approximated.append(f"{kind.name} (wipe code {WIPE_CODES.get(kind.direction, 'W001')}: pattern kept, direction not)")
            elif kind.effect != "dissolve":
                approximated.append(f"{kind.name} (as a dissolve)")
            continue
        if not isinstance(item, otio.schema.Clip):
            out.append(item.clone())
            continue
        meta = filmc_meta(item)
        fade_in, fade_out = int(meta.get("fade_in") or 0), int(meta.get("fade_out") or 0)
        if fade_in:
            if isinstance(prev, otio.schema.Transition):
                dropped_fades.append(f"fade in of {item.name} (it follows a transition)")
            else:
                if len(out) and not _ends_in_black(out):
                    from_black_clips.add(index)
                out.append(_from_black(fade_in, rate))
        out.append(_edl_clip(item, reels.reel(item)))
        out[-1].metadata[_INDEX_KEY] = index
        if fade_out:
            if isinstance(nxt, otio.schema.Transition):
                dropped_fades.append(f"fade out of {item.name} (a transition follows)")
            else:
                out.extend(_to_black(fade_out, rate))
    if approximated:
        diags.append(warning(W_TRANSITION, FMT, f"transitions approximated: {listing(approximated)}"))
    if dropped_fades:
        diags.append(warning(W_FADES, FMT, f"fades not written: {listing(dropped_fades)}"))
    if reels.shortened:
        diags.append(warning(W_MEDIA, FMT, f"reel names cut to CMX's 8 characters A-Z0-9_: {listing(reels.shortened)}"))
    events = []
    children = list(out)
    for index, child in enumerate(children):
        if isinstance(child, otio.schema.Transition):
            continue
        prev = children[index - 1] if index else None
        if isinstance(prev, otio.schema.Transition) or (isinstance(child, otio.schema.Clip) and child.enabled):
            source = child.metadata.get(_INDEX_KEY) if isinstance(child, otio.schema.Clip) else None
            events.append(
                _Event(
                    item=child,
                    source_index=source,
                    from_black=source in from_black_clips,
                    wipe_code=wipes.get(source) if isinstance(prev, otio.schema.Transition) else None,
                )
            )
    for child in out:
        if isinstance(child, otio.schema.Clip):
            del child.metadata[_INDEX_KEY]
    return _Plan(out, events, diags)


def _shift(tc: str, offset: int, rate: float) -> str:
    return to_timecode(from_timecode(tc, rate) + RT(offset, rate), rate)


def _line(num: int, reel: str, trans: str, length: str, tcs: list[str]) -> str:
    """One event line in CMX 3600 columns: 3+2, reel 8, channel 4+2, transition 4, length 3."""
    return f"{num:03d}  {reel:<8} {'V':<4}  {trans:<4} {length:>3} " + " ".join(tcs)


def _rewrite(adapter_text: str, plan: _Plan, title: str, start: int, rate: float) -> list[tuple[int, list[str]]]:
    """Parse the adapter's events and rewrite them in strict columns from the film's start."""
    blocks: list[tuple[int, list[str]]] = []
    for raw in adapter_text.splitlines():
        match = _ADAPTER_LINE.match(raw)
        if match is None:
            if raw.startswith("*") and blocks:
                blocks[-1][1].append(raw)
            continue
        num = int(match["num"])
        if not blocks or blocks[-1][0] != num:
            blocks.append((num, []))
        tcs = [match["src_in"], match["src_out"], _shift(match["rec_in"], start, rate), _shift(match["rec_out"], start, rate)]
        length = match["len"]
        trans = "D" if length else "C"
        event = plan.events[num - 1] if num - 1 < len(plan.events) else None
        if event and length and event.wipe_code:
            trans = event.wipe_code
        blocks[-1][1].append(_line(num, match["reel"].strip(), trans, length or "", tcs))
    if len(blocks) != len(plan.events):
        raise ExportError(f"edl: the cmx_3600 adapter wrote {len(blocks)} events where filmc expected {len(plan.events)}")
    for (_num, lines), event in zip(blocks, plan.events, strict=True):
        event_lines = [i for i, line in enumerate(lines) if not line.startswith("*")]
        if len(event_lines) == 2:
            cut, dissolve = lines[event_lines[0]], lines[event_lines[1]]
            rec_in = dissolve.split()[-2]
            if event.from_black or cut.split()[1] == "BL":
                zero = to_timecode(RT(0, rate), rate)
                lines[event_lines[0]] = _line(int(cut.split()[0]), "BL", "C", "", [zero, zero, rec_in, rec_in])
            if event.from_black:
                lines[:] = [line for line in lines if not _FROM_LINE.match(line)]
        lines.extend(event.comments)
    return blocks


def _record_ranges(track: otio.schema.Track, rate: float) -> list[tuple[int, int, int]]:
    """(first frame, end frame, index) of each clip of `track`, from the track's start."""
    out = []
    for index, item in enumerate(track):
        if isinstance(item, otio.schema.Clip):
            r = track.range_of_child_at_index(index)
            out.append((frames(r.start_time, rate), frames(r.end_time_exclusive(), rate), index))
    return out


def _markers(v1: otio.schema.Track, rate: float) -> list[tuple[int, otio.schema.Marker]]:
    """Every marker on V1 and its clips, at its frame from the start of the track."""
    found = [(frames(m.marked_range.start_time, rate), m) for m in v1.markers]
    for start, _end, index in _record_ranges(v1, rate):
        clip = v1[index]
        src0 = frames(clip.source_range.start_time, rate)
        found += [(start + frames(m.marked_range.start_time, rate) - src0, m) for m in clip.markers]
    return sorted(found, key=lambda fm: fm[0])


def _add_comments(plan: _Plan, v1: otio.schema.Track, rate: float, start: int) -> list[Diagnostic]:
    """Provenance after each shot's event, and `* LOC:` lines in the event of the shot they mark."""
    by_index = {e.source_index: e for e in plan.events if e.source_index is not None}
    ranges = _record_ranges(v1, rate)
    for _s, _e, index in ranges:
        event = by_index.get(index)
        if event is None:
            continue
        prov = provenance(v1[index])
        event.comments.append(f"* FILMC SHOT: {prov.shot_id}")
        if prov.scene:
            event.comments.append(f"* FILMC SCENE: {prov.scene}")
        if prov.span:
            event.comments.append(f"* FILMC SOURCE: {prov.span}")
    long_markers = []
    for frame, marker in _markers(v1, rate):
        holder = next((index for s, e, index in ranges if s <= frame < e), ranges[-1][2] if ranges else None)
        event = by_index.get(holder)
        if event is None:
            continue
        tc = to_timecode(RT(start + frame, rate), rate)
        colour = str(marker.color or "RED").upper()
        name = " ".join((marker.name or "").split())
        event.comments.append(f"* LOC: {tc} {colour:<7} {name}")
        if frames(marker.marked_range.duration, rate) > 1:
            long_markers.append(marker.name)
    if long_markers:
        return [warning(W_MARKERS, FMT, f"marker durations not carried (LOC marks one frame): {listing(long_markers)}")]
    return []


def write_edl(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    prep = editor_copy(tl, FMT)
    rate, diags = prep.rate, list(prep.diagnostics)
    video = [t for t in prep.timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if not video or not any(isinstance(c, otio.schema.Clip) for c in video[0]):
        raise ExportError("edl: the timeline has no video clips to write")
    v1 = video[0]
    dropped = [t for t in prep.timeline.tracks if t is not v1]
    if dropped:
        counts = [f"{t.name or t.kind} ({len(list(t.find_clips()))} clips)" for t in dropped]
        diags.append(
            warning(
                W_TRACKS,
                FMT,
                f"a CMX 3600 EDL holds one picture track; not written: {listing(counts)}",
                hint="export .otio, FCP7 XML, FCPXML or AAF to keep audio and extra tracks",
            )
        )
    plan = _plan(v1, rate)
    diags += plan.diagnostics
    if elsewhere := markers_off_v1(prep.timeline):
        diags.append(warning(W_MARKERS, FMT, f"{elsewhere} markers off the picture track are not written"))
    start = start_frame(prep.timeline, rate)
    diags += _add_comments(plan, v1, rate, start)
    edl_timeline = otio.schema.Timeline(name=tl.name)
    edl_timeline.tracks.append(plan.track)
    adapter_text = otio.adapters.write_to_string(edl_timeline, adapter_name="cmx_3600", rate=rate)
    blocks = _rewrite(adapter_text, plan, tl.name, start, rate)
    title = " ".join((tl.name or "filmc").split())[:70]
    drop_frame = any(";" in line for _n, lines in blocks for line in lines if not line.startswith("*"))
    out = [f"TITLE: {title}", f"FCM: {'DROP FRAME' if drop_frame else 'NON-DROP FRAME'}"]
    for _num, lines in blocks:
        out.extend(lines)
    meta = metadata_warning(
        tl,
        FMT,
        "shot id, scene and .film span as '* FILMC' comments; fades and dips as dissolves through black",
        kept_keys=frozenset({"shot_id", "scene", "span", "source", "fade_in", "fade_out", "effect", "frames"}),
    )
    if meta is not None:
        diags.insert(0, meta)
    atomic_write_text(path, "\n".join(out) + "\n")
    return diags
