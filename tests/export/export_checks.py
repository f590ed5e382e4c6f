"""Read-back checks for every export format, usable on any contract timeline (fixtures or a real film).

Each `check_*` writes the timeline with `export_timeline`, reads the file back with readers
that filmc did not write (OTIO's adapters, pycmx, pyaaf2; for FCPXML also filmc's own exact
reader) and compares clip names, frame-exact durations, transitions, start timecode and
provenance against values computed here from the timeline itself.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import aaf2
import opentimelineio as otio
import pycmx
from filmc.compiler.diagnostics import Diagnostic
from filmc.compiler.export import CODES, export_timeline
from filmc.compiler.export.fcpxml_reader import read_fcpxml
from opentimelineio.opentime import from_timecode, to_timecode

Video = otio.schema.TrackKind.Video
Audio = otio.schema.TrackKind.Audio


def rate_of(tl: otio.schema.Timeline) -> float:
    return tl.global_start_time.rate


def fr(t: otio.opentime.RationalTime, rate: float) -> int:
    return int(round(t.value_rescaled_to(rate)))


def meta(item) -> dict:
    return dict(item.metadata.get("filmc") or {})


@dataclass(frozen=True)
class Shot:
    index: int  # in V1
    clip: otio.schema.Clip
    start: int  # record frame from the start of V1
    length: int
    before: otio.schema.Transition | None
    after: otio.schema.Transition | None


def v1(tl: otio.schema.Timeline) -> otio.schema.Track:
    return next(t for t in tl.tracks if t.kind == Video)


def shots(tl: otio.schema.Timeline) -> list[Shot]:
    track, rate = v1(tl), rate_of(tl)
    items = list(track)
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, otio.schema.Clip):
            continue
        r = track.range_of_child_at_index(i)
        before = items[i - 1] if i and isinstance(items[i - 1], otio.schema.Transition) else None
        after = items[i + 1] if i + 1 < len(items) and isinstance(items[i + 1], otio.schema.Transition) else None
        out.append(Shot(i, item, fr(r.start_time, rate), fr(r.duration, rate), before, after))
    return out


def transitions(tl: otio.schema.Timeline) -> list[otio.schema.Transition]:
    return [t for t in v1(tl) if isinstance(t, otio.schema.Transition)]


def effect(t: otio.schema.Transition) -> str:
    return str(meta(t).get("effect") or "dissolve")


def write(tl: otio.schema.Timeline, fmt: str, path: Path) -> list[Diagnostic]:
    """Export, and check the contract every format shares: warnings only, known codes, input untouched."""
    before = otio.adapters.write_to_string(tl, adapter_name="otio_json")
    diags = export_timeline(tl, fmt, path)
    assert otio.adapters.write_to_string(tl, adapter_name="otio_json") == before, f"{fmt} changed its input"
    assert path.is_file() and path.stat().st_size > 0
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")] == [], "temp left behind"
    for d in diags:
        assert d.code in CODES and not d.is_error, d
        assert d.message.startswith(f"{fmt}: ")
    return diags


# --- OTIO --------------------------------------------------------------------------------------


def check_otio(tl: otio.schema.Timeline, path: Path) -> None:
    assert write(tl, "otio", path) == []
    assert otio.adapters.read_from_file(str(path)).is_equivalent_to(tl)


# --- EDL ---------------------------------------------------------------------------------------


def expected_edl_segments(tl: otio.schema.Timeline) -> list[tuple[str, int, int]]:
    """(shot, first record frame, end frame) of each shot as CMX shows it.

    A dissolve or wipe event starts where the transition starts (the cut minus its in offset);
    dips and fades are dissolves through black, so the shot itself starts at the cut and ends
    where its dissolve into black starts.
    """
    rate = rate_of(tl)
    out = []
    for s in shots(tl):
        first, end = s.start, s.start + s.length
        if s.before is not None and effect(s.before) != "dip":
            first -= fr(s.before.in_offset, rate)
        if s.after is not None:
            end -= fr(s.after.in_offset, rate)
        elif meta(s.clip).get("fade_out"):
            end -= int(meta(s.clip)["fade_out"])
        out.append((s.clip.name, first, end))
    return out


def check_edl(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    diags = write(tl, "edl", path)
    rate = rate_of(tl)
    start = fr(tl.global_start_time, rate)
    text = path.read_text()
    with path.open() as f:
        edl = pycmx.parse_cmx3600(f)
    assert edl.title == tl.name
    assert edl.format == "3600"
    assert [s for s in edl.unrecognized_statements] == []

    def frame(tc: str) -> int:
        return fr(from_timecode(tc, rate), rate) - start

    segments, dissolves, black = [], [], 0
    for event in edl.events:
        edits = event.edits
        for edit in edits:  # every edit: source length equals record length (no speed changes)
            src = fr(from_timecode(edit.source_out, rate) - from_timecode(edit.source_in, rate), rate)
            assert src == frame(edit.record_out) - frame(edit.record_in), edit.line_number
            assert edit.channels.video
        last = edits[-1]
        if last.black:
            black += 1
            continue
        assert re.fullmatch(r"[A-Z0-9_]{1,8}", last.source), last.source
        segments.append((last.clip_name, frame(last.record_in), frame(last.record_out)))
        if len(edits) == 2 and not edits[0].black:
            dissolves.append((last.transition.kind, last.transition.effect_duration, last.transition.wipe_number))
    assert segments == expected_edl_segments(tl)
    cuts = [t for t in transitions(tl) if effect(t) in ("dissolve", "wipe")]
    expected = [("W" if effect(t) == "wipe" else "D", fr(t.duration(), rate)) for t in cuts]
    assert [(k, n) for k, n, _w in dissolves] == expected
    assert all(w in (1, 2) for k, _n, w in dissolves if k == "W")
    # Events that end in black: the first half of each dip and each fade out.
    dips = sum(1 for t in transitions(tl) if effect(t) == "dip" and fr(t.in_offset, rate))
    fade_outs = sum(bool(meta(s.clip).get("fade_out")) for s in shots(tl))
    assert black == dips + fade_outs
    total = fr(v1(tl).duration(), rate)
    last_out = max(frame(e.edits[-1].record_out) for e in edl.events)
    assert last_out == total
    first_tc = text.splitlines()[2].split()[-2]
    assert first_tc == to_timecode(tl.global_start_time, rate)
    for s in shots(tl):
        assert f"* FILMC SHOT: {meta(s.clip).get('shot_id', s.clip.name)}" in text
        if meta(s.clip).get("span"):
            assert f"* FILMC SOURCE: {meta(s.clip)['span']}" in text
    for marker in v1(tl).markers:
        tc = to_timecode(tl.global_start_time + marker.marked_range.start_time, rate)
        assert re.search(rf"^\* LOC: {tc} {marker.color}\s+{re.escape(marker.name)}$", text, re.M), marker.name
    return diags


# --- FCP7 XML ----------------------------------------------------------------------------------

FCP7_EFFECTS = {"dissolve": "Cross Dissolve", "wipe": "Edge Wipe", "dip": "Dip to Color Dissolve"}


def _items(track: otio.schema.Track, rate: float, effect_names: dict[str, str] | None = None) -> list[tuple]:
    out = []
    for item in track:
        if isinstance(item, otio.schema.Transition):
            name = effect_names[effect(item)] if effect_names else item.name
            out.append(("T", name, fr(item.in_offset, rate), fr(item.out_offset, rate)))
        elif isinstance(item, otio.schema.Gap):
            out.append(("G", fr(item.duration(), rate)))
        else:
            out.append(("C", item.name, fr(item.duration(), rate)))
    return out


def _strip_trailing_gaps(items: list[tuple]) -> list[tuple]:
    while items and items[-1][0] == "G":
        items = items[:-1]
    return items


def check_fcp7(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    diags = write(tl, "fcp7xml", path)
    rate = rate_of(tl)
    back = otio.adapters.read_from_file(str(path), adapter_name="fcp_xml")
    assert fr(back.global_start_time, rate) == fr(tl.global_start_time, rate)
    assert abs(back.global_start_time.rate - rate) < 1e-6
    assert [t.kind for t in back.tracks] == [t.kind for t in tl.tracks]
    for ours, theirs in zip(tl.tracks, back.tracks, strict=True):
        names = FCP7_EFFECTS if ours is v1(tl) else dict.fromkeys(FCP7_EFFECTS, "Cross Fade (+3dB)")
        assert _items(theirs, rate) == _strip_trailing_gaps(_items(ours, rate, names)), ours.name
    back_v1 = v1(back)
    for s in shots(tl):
        clip = back_v1[s.index]
        fcp = clip.metadata["fcp_xml"]
        assert fcp["logginginfo"]["shottake"] == meta(s.clip).get("shot_id", s.clip.name)
        assert fcp["logginginfo"]["lognote"] == meta(s.clip).get("span", "")
        fades = [e for e in clip.effects if e.name == "Opacity"]
        assert bool(fades) == bool(meta(s.clip).get("fade_in") or meta(s.clip).get("fade_out")), s.clip.name
    root = ET.parse(path).getroot()
    chars = root.find("./project/children/sequence/media/video/format/samplecharacteristics")
    assert chars is not None and chars.findtext("width") and chars.findtext("rate/timebase")
    for url in root.iter("pathurl"):
        assert url.text.startswith("file://"), url.text
    seq_markers = [(m.name, fr(m.marked_range.start_time, rate)) for m in back.tracks.markers]
    assert seq_markers == [(m.name, fr(m.marked_range.start_time, rate)) for m in v1(tl).markers]
    return diags


# --- FCPXML ------------------------------------------------------------------------------------

FCPXML_EFFECTS = {"dissolve": "Cross Dissolve", "wipe": "Wipe", "dip": "Fade To Color"}


def check_fcpxml(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    diags = write(tl, "fcpxml", path)
    rate = rate_of(tl)
    text = path.read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>')
    project = read_fcpxml(path)
    assert project.problems == []
    assert project.version == "1.10"
    assert abs(float(1 / project.frame) - rate) < 1e-9
    assert project.tc_start == fr(tl.global_start_time, rate)
    assert project.duration >= fr(v1(tl).duration(), rate)
    expected_spine = []
    for item in v1(tl):
        if isinstance(item, otio.schema.Transition):
            expected_spine.append(("transition", FCPXML_EFFECTS[effect(item)], fr(item.duration(), rate)))
        elif isinstance(item, otio.schema.Gap):
            expected_spine.append(("gap", "Gap", fr(item.duration(), rate)))
        else:
            expected_spine.append(("asset-clip", item.name, fr(item.duration(), rate)))
    got = [(e.tag, e.effect or e.name if e.tag == "transition" else e.name, e.duration) for e in project.spine]
    assert got[: len(expected_spine)] == expected_spine
    for s in shots(tl):
        note = project.notes[s.clip.name]
        assert meta(s.clip).get("shot_id", s.clip.name) in note
        assert meta(s.clip).get("span", "") in note
        spine_clip = next(e for e in project.clips if e.name == s.clip.name)
        assert spine_clip.record == s.start
        if meta(s.clip).get("fade_in") or meta(s.clip).get("fade_out"):
            assert s.clip.name in project.fades
    expected_transitions = []
    for i, item in enumerate(v1(tl)):
        if isinstance(item, otio.schema.Transition):
            r = v1(tl).range_of_child_at_index(i)  # OTIO: starts in_offset before the cut
            expected_transitions.append((fr(r.start_time, rate), fr(item.duration(), rate)))
    assert [(t.record, t.duration) for t in project.transitions] == expected_transitions
    audio = [t for t in tl.tracks if t.kind == Audio]
    for lane, track in enumerate(audio, start=1):
        expected = []
        for i, item in enumerate(track):
            r = track.range_of_child_at_index(i)
            kind = {otio.schema.Clip: "asset-clip", otio.schema.Gap: "gap"}.get(type(item), "transition")
            name = item.name if kind == "asset-clip" else ""
            expected.append((kind, name, fr(r.start_time, rate), fr(r.duration, rate)))
        got_lane = [
            (c.tag, c.name if c.tag == "asset-clip" else "", c.record, c.duration)
            for c in project.connected
            if c.lane == -lane
        ]
        assert got_lane == expected, track.name
    markers = [(value, record) for _tag, value, record, _note in project.markers]
    assert markers == sorted(
        ((m.name, fr(m.marked_range.start_time, rate)) for m in v1(tl).markers), key=lambda vr: vr[1]
    )
    for asset in ET.parse(path).getroot().iter("asset"):
        assert asset.find("media-rep").get("src").startswith("file://")
    return diags


def check_fcpxml_with_otio_reader(tl: otio.schema.Timeline, path: Path) -> None:
    """OTIO's fcpx_xml reader (integer rates only: it truncates 23.976 to 23) sees the same clips.

    It puts spine times on the sequence's clock, which starts at the start timecode, so its
    track begins with a gap that long; it skips transitions.
    """
    rate = rate_of(tl)
    collection = otio.adapters.read_from_file(str(path), adapter_name="fcpx_xml")
    back = collection[0]
    lane0 = next(t for t in back.tracks if t.name == "0")
    items = list(lane0)
    assert isinstance(items[0], otio.schema.Gap) and fr(items[0].duration(), rate) == fr(tl.global_start_time, rate)
    got = [(c.name, fr(c.duration(), rate)) for c in items[1:] if isinstance(c, otio.schema.Clip)]
    assert got == [(s.clip.name, s.length) for s in shots(tl)]
    audio = [t for t in tl.tracks if t.kind == Audio]
    for lane, track in enumerate(audio, start=1):
        theirs = next(t for t in back.tracks if t.name == str(-lane))
        assert theirs.kind == Audio
        assert [c.name for c in theirs.find_clips()] == [c.name for c in track.find_clips()]


# --- AAF ---------------------------------------------------------------------------------------


def check_aaf(tl: otio.schema.Timeline, path: Path) -> list[Diagnostic]:
    diags = write(tl, "aaf", path)
    rate = rate_of(tl)
    back = otio.adapters.read_from_file(str(path), adapter_name="AAF")
    assert fr(back.global_start_time, rate) == fr(tl.global_start_time, rate)
    ours = [t for t in tl.tracks if len(t)]
    assert [t.kind for t in back.tracks] == [t.kind for t in ours]
    for mine, theirs in zip(ours, back.tracks, strict=True):
        mine_items = [(i[0], i[2], i[3]) if i[0] == "T" else i for i in _items(mine, rate)]
        their_items = [(i[0], i[2], i[3]) if i[0] == "T" else i for i in _items(theirs, rate)]
        assert their_items == _strip_trailing_gaps(mine_items), mine.name
    _check_aaf_with_pyaaf2(tl, path, rate)
    return diags


def _check_aaf_with_pyaaf2(tl: otio.schema.Timeline, path: Path, rate: float) -> None:
    """pyaaf2 alone: slots, edit rate, AAF sequence semantics (overlapping segments), comments."""
    ours = [t for t in tl.tracks if len(t)]
    with aaf2.open(str(path), "r") as f:
        comp = next(f.content.toplevel())
        slots = [s for s in comp.slots if s.name != "TC"]
        assert [s.name for s in slots] == [t.name for t in ours]
        tc = next(s for s in comp.slots if s.name == "TC").segment
        assert tc.start == fr(tl.global_start_time, rate)
        for slot, track in zip(slots, ours, strict=True):
            assert abs(float(slot.edit_rate) - rate) < 1e-9
            segment = slot.segment
            if isinstance(segment, aaf2.components.OperationGroup):
                segment = segment.segments[0]
            assert segment.length == fr(track.duration(), rate), track.name
            expected = []
            items = list(track)
            for i, item in enumerate(items):
                if isinstance(item, otio.schema.Transition):
                    expected.append(("Transition", fr(item.duration(), rate), fr(item.in_offset, rate)))
                    continue
                length = fr(item.duration(), rate)
                before = items[i - 1] if i and isinstance(items[i - 1], otio.schema.Transition) else None
                after = items[i + 1] if i + 1 < len(items) and isinstance(items[i + 1], otio.schema.Transition) else None
                length += fr(before.in_offset, rate) if before else 0
                length += fr(after.out_offset, rate) if after else 0
                kind = "Filler" if isinstance(item, otio.schema.Gap) else "SourceClip"
                expected.append((kind, length))
            got = []
            for c in segment.components:
                if isinstance(c, aaf2.components.Transition):
                    op = c["OperationGroup"].value.operation
                    assert str(op.auid) in ("0c3bea41-fc05-11d2-8a29-0050040ef7d2", "0c3bea44-fc05-11d2-8a29-0050040ef7d2")
                    got.append(("Transition", c.length, c["CutPoint"].value))
                else:
                    got.append((type(c).__name__, c.length))
            assert got == expected, track.name
        comments = {m.name: dict(m.comments.items()) for m in f.content.mastermobs()}
    for s in shots(tl):
        assert comments[s.clip.name]["Shot"] == meta(s.clip).get("shot_id", s.clip.name)
        if meta(s.clip).get("span"):
            assert comments[s.clip.name]["Source"] == meta(s.clip)["span"]
