"""The OTIO timeline of the small fixture film: frame-exact clips, transitions, markers, audio."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
from filmc.compiler.check import CheckResult
from filmc.compiler.plan import build_plan
from filmc.compiler.timeline import build_timeline

SHOTS = ["s01_001", "s01_002", "s01_003", "s01_004", "s02_001", "footage", "s02_003", "s03_001", "s03_002"]
FRAMES = [72, 48, 50, 24, 48, 40, 48, 72, 24]
# (start, duration) of each clip's source range: handles taken by the transitions around it.
SOURCE_RANGES = [(0, 66), (6, 42), (0, 45), (4, 13), (6, 42), (0, 34), (6, 42), (0, 72), (0, 24)]
RECORD_STARTS = [0, 60, 108, 149, 160, 208, 236, 284, 356]
TOTAL = 380  # 426 frames of shots minus 46 frames of overlapping transitions


@pytest.fixture(scope="module")
def timeline(small: CheckResult) -> otio.schema.Timeline:
    return build_timeline(small.film, build_plan(small.film))


def plain(value: object) -> object:
    """OTIO metadata (AnyDictionary / AnyVector) as plain dicts and lists."""
    if hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    if not isinstance(value, str) and hasattr(value, "__len__") and hasattr(value, "__getitem__"):
        return [plain(v) for v in value]
    return value


def _items(track: otio.schema.Track) -> list[tuple[str, int, int]]:
    """(kind, record start, length) of each clip/gap on a track, as OTIO places them."""
    out = []
    for item in track:
        if isinstance(item, otio.schema.Transition):
            continue
        rng = item.range_in_parent()
        kind = "clip" if isinstance(item, otio.schema.Clip) else "gap"
        out.append((kind, int(rng.start_time.value), int(rng.duration.value)))
    return out


def test_header(timeline: otio.schema.Timeline) -> None:
    meta = timeline.metadata["filmc"]
    assert meta["schema"] == "FilmTimeline.1"
    assert meta["fps"] == "24" and plain(meta["resolution"]) == [640, 360]
    assert meta["source"] == "small.film"
    assert otio.opentime.to_timecode(timeline.global_start_time, 24) == "10:00:00:00"
    assert [t.name for t in timeline.tracks] == ["V1", "A1 Dialogue", "A2 Ambience", "A3 Music", "A4 SFX"]
    assert [t.kind for t in timeline.tracks] == ["Video"] + ["Audio"] * 4


def test_clips_are_frame_exact(timeline: otio.schema.Timeline) -> None:
    v1 = timeline.tracks[0]
    clips = list(v1.find_clips(shallow_search=True))
    assert [c.name for c in clips] == SHOTS
    ranges = [(int(c.source_range.start_time.value), int(c.source_range.duration.value)) for c in clips]
    assert ranges == SOURCE_RANGES
    assert [c.metadata["filmc"]["frames"] for c in clips] == FRAMES
    assert [c.metadata["filmc"]["record_start"] for c in clips] == RECORD_STARTS
    assert int(v1.duration().value) == TOTAL
    # A clip's visible range (handles included) is exactly the shot's full media.
    for clip, frames in zip(clips, FRAMES, strict=True):
        visible = clip.visible_range()
        assert (int(visible.start_time.value), int(visible.duration.value)) == (0, frames), clip.name
    assert all(isinstance(c.media_reference, otio.schema.MissingReference) for c in clips)


def test_transitions_and_offsets(timeline: otio.schema.Timeline) -> None:
    v1 = timeline.tracks[0]
    transitions = [(t.name, t.transition_type, int(t.in_offset.value), int(t.out_offset.value),
                    t.metadata["filmc"]["effect"], t.metadata["filmc"]["direction"], t.metadata["filmc"]["colour"],
                    t.metadata["filmc"]["frames"])
                   for t in v1 if isinstance(t, otio.schema.Transition)]
    assert transitions == [
        ("dissolve", "SMPTE_Dissolve", 6, 6, "dissolve", None, None, 12),
        ("wipe_right", "Custom_Transition", 4, 5, "wipe", "right", None, 9),
        ("dip_to_black", "Custom_Transition", 6, 7, "dip", None, "#000000", 13),
        ("dip_to_white", "Custom_Transition", 6, 6, "dip", None, "#ffffff", 12),
    ]
    # Each transition sits between the two clips it joins.
    names = [item.name for item in v1]
    assert names.index("dissolve") == names.index("s01_001") + 1
    assert names.index("wipe_right") == names.index("s01_004") - 1


def test_fades_and_match_cut(timeline: otio.schema.Timeline) -> None:
    clips = {c.name: c.metadata["filmc"] for c in timeline.tracks[0].find_clips(shallow_search=True)}
    assert clips["s01_001"]["fade_in"] == 12
    assert clips["s03_002"]["fade_out"] == 24
    assert clips["s01_003"]["match_cut"] is True
    assert [n for n, m in clips.items() if "fade_in" in m or "fade_out" in m] == ["s01_001", "s03_002"]
    assert [n for n, m in clips.items() if m.get("match_cut")] == ["s01_003"]


def test_clip_metadata(timeline: otio.schema.Timeline, small: CheckResult) -> None:
    clips = {c.name: plain(c.metadata["filmc"]) for c in timeline.tracks[0].find_clips(shallow_search=True)}
    m = clips["s01_002"]
    assert m["scene"] == "breakfast" and m["scene_index"] == 1 and m["shot_index"] == 2 and m["act"] == "1"
    assert m["span"].startswith("small.film:") and m["source"]["file"] == "small.film"
    assert m["shot_type"] == "medium" and m["camera"] == {"move": "push_in", "speed": "slow"}
    assert m["characters"]["ana"] == {"states": [], "wardrobe": "green raincoat", "holding": ["mug"]}
    assert m["subjects"] == ["ana"] and m["dialogue"] == ["Morning."]
    assert set(m["prompts"]) == {"image", "motion", "negative"} and "Ana lifts the mug" in m["prompts"]["image"]
    assert m["seed"] == small.film.shots()[1].seed
    assert len(m["plan_node"]) == 24
    assert clips["s02_003"]["characters"]["ana"]["states"] == ["tired"]
    assert clips["footage"]["media"] == {"path": "footage/clip.mp4", "in_frame": 10}


def test_markers(timeline: otio.schema.Timeline) -> None:
    markers = timeline.tracks[0].markers
    scenes = [(m.name, int(m.marked_range.start_time.value), m.color) for m in markers if m.name.startswith("scene")]
    assert scenes == [("scene: breakfast", 0, "RED"), ("scene: walk", 160, "RED"), ("scene: late", 284, "RED")]
    shots = [(m.name, int(m.marked_range.start_time.value)) for m in markers if m.color == "GREEN"]
    assert shots == list(zip(SHOTS, RECORD_STARTS, strict=True))
    assert all(m.metadata["filmc"]["span"].startswith("small.film:") for m in markers)


def test_dialogue_track(timeline: otio.schema.Timeline) -> None:
    a1 = timeline.tracks[1]
    clips = list(a1.find_clips(shallow_search=True))
    assert [c.name for c in clips] == ["ana", "ben", "ana", "ben", "ana"]
    assert [c.metadata["filmc"]["text"] for c in clips] == ["Morning.", "You're late.", "Nearly there.", "Tea?",
                                                             "Please."]
    # Lead-in 6 frames into the shot; estimated lengths at 170/150 wpm; 5-frame gap after "Tea?".
    assert [i for i in _items(a1) if i[0] == "clip"] == [
        ("clip", 66, 9), ("clip", 114, 20), ("clip", 242, 17), ("clip", 290, 10), ("clip", 305, 9)]
    assert clips[2].metadata["filmc"]["mode"] == "voice_over"
    assert all(c.metadata["filmc"]["estimated"] for c in clips)


def test_real_speech_durations_push_later_lines(small: CheckResult) -> None:
    plan = build_plan(small.film)
    # "Tea?" really lasts 30 frames: "Please." moves to 290 + 30 + 5.
    tl = build_timeline(small.film, plan, speech_durations={"s03_001.1": 30})
    clips = [i for i in _items(tl.tracks[1]) if i[0] == "clip"]
    assert clips[3:] == [("clip", 290, 30), ("clip", 325, 9)]
    by_node = {n.params["text"]: n.id for n in plan.nodes if n.op == "speech"}
    tl = build_timeline(small.film, plan, speech_durations={by_node["Tea?"]: 30})
    assert [i for i in _items(tl.tracks[1]) if i[0] == "clip"][3:] == [("clip", 290, 30), ("clip", 325, 9)]


def test_beds_and_sfx_tracks(timeline: otio.schema.Timeline) -> None:
    a2, a3, a4 = timeline.tracks[2], timeline.tracks[3], timeline.tracks[4]
    assert _items(a2) == [("clip", 0, 173), ("gap", 173, 111), ("clip", 284, 96)]
    assert [c.name for c in a2.find_clips(shallow_search=True)] == ["room_tone", "rain"]
    # The two music beds overlap by the 13-frame dip: a crossfade taking 6 + 7 frames of handles.
    assert [c.name for c in a3.find_clips(shallow_search=True)] == ["melancholy", "tension"]
    fades = [t for t in a3 if isinstance(t, otio.schema.Transition)]
    assert [(int(t.in_offset.value), int(t.out_offset.value)) for t in fades] == [(6, 7)]
    assert _items(a3) == [("clip", 0, 166), ("clip", 166, 118)]
    assert [c.visible_range().duration.value for c in a3.find_clips(shallow_search=True)] == [173, 124]
    assert _items(a4) == [("gap", 0, 118), ("clip", 118, 24), ("gap", 142, 106), ("clip", 248, 24)]
    assert [c.name for c in a4.find_clips(shallow_search=True)] == ["click", "footsteps"]


def test_rendered_media_references(small: CheckResult, tmp_path: Path) -> None:
    rendered = {sid: tmp_path / f"{sid}.mov" for sid in SHOTS[:2]}
    tl = build_timeline(small.film, media=rendered | {"s01_002.1": tmp_path / "line.wav"})
    clips = list(tl.tracks[0].find_clips(shallow_search=True))
    ref = clips[0].media_reference
    assert isinstance(ref, otio.schema.ExternalReference)
    assert ref.target_url == (tmp_path / "s01_001.mov").as_uri() and ref.target_url.startswith("file:///")
    assert int(ref.available_range.duration.value) == 72
    assert isinstance(clips[2].media_reference, otio.schema.MissingReference)
    line = next(iter(tl.tracks[1].find_clips(shallow_search=True)))
    assert line.media_reference.target_url == (tmp_path / "line.wav").as_uri()


def test_without_plan_matches_plan_prompts(small: CheckResult, timeline: otio.schema.Timeline) -> None:
    bare = build_timeline(small.film)
    with_plan = {c.name: plain(c.metadata["filmc"]["prompts"]) for c in timeline.tracks[0].find_clips(shallow_search=True)}
    without = {c.name: plain(c.metadata["filmc"]["prompts"]) for c in bare.tracks[0].find_clips(shallow_search=True)}
    assert with_plan == without
    assert int(bare.tracks[0].duration().value) == TOTAL
