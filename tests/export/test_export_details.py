"""What each format keeps, drops and approximates, and the adapter bugs filmc works around."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import opentimelineio as otio
import pycmx
import pytest
from export_checks import check_edl, check_fcp7, check_fcpxml, rate_of, shots, v1
from export_fixtures import FPS_24, FPS_23976, make_timeline
from filmc.compiler.export import EXTENSIONS, export_timeline
from filmc.compiler.export.fcpxml_reader import read_fcpxml

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def by_code(diags) -> dict[str, str]:
    return {d.code: d.message for d in diags}


# --- warnings name exactly what is lost --------------------------------------------------------


def test_warnings_name_what_each_format_drops(film: otio.schema.Timeline, tmp_path: Path) -> None:
    edl = by_code(export_timeline(film, "edl", tmp_path / "f.edl"))
    assert all(name in edl["W0702"] for name in ("A1 Dialogue", "A2 Ambience", "A3 Music", "A4 SFX"))
    assert "wipe_left" in edl["W0703"] and "dip_to_white" in edl["W0703"]
    assert "prompts" in edl["W0701"] and "Kept: shot id, scene and .film span" in edl["W0701"]
    aaf = by_code(export_timeline(film, "aaf", tmp_path / "f.aaf"))
    assert "s01_001" in aaf["W0705"] and "s03_002" in aaf["W0705"]  # the film's fade in and fade out
    assert "13 markers" in aaf["W0704"]
    assert "wipe_up (as a dissolve)" in aaf["W0703"]
    fcp7 = by_code(export_timeline(film, "fcp7xml", tmp_path / "f.xml"))
    assert "track names" in fcp7["W0701"] and "prompts" in fcp7["W0701"]
    assert "fade_in" not in fcp7["W0701"]  # fades are carried as opacity keyframes
    fcpxml = by_code(export_timeline(film, "fcpxml", tmp_path / "f.fcpxml"))
    assert "snap" in fcpxml["W0707"] and "file:///filmc-offline" in fcpxml["W0707"]
    assert export_timeline(film, "otio", tmp_path / "f.otio") == []


def test_markers_off_the_picture_track_are_reported(tmp_path: Path) -> None:
    tl = make_timeline(n_shots=3)
    rate = rate_of(tl)
    note = otio.schema.Marker(name="mix note", marked_range=TR(RT(10, rate), RT(0, rate)))
    tl.tracks[1].markers.append(note)
    tl.tracks.markers.append(note.clone())
    for fmt, count in (("edl", 2), ("fcp7xml", 1), ("fcpxml", 2)):
        diags = [d.message for d in export_timeline(tl, fmt, tmp_path / f"f{EXTENSIONS[fmt]}") if d.code == "W0704"]
        assert any(f"{count} markers" in m for m in diags), (fmt, diags)
    back = otio.adapters.read_from_file(str(tmp_path / "f.xml"), adapter_name="fcp_xml")
    assert "mix note" in [m.name for m in back.tracks.markers]  # the stack's marker is a sequence marker


def test_media_without_handles_realigns_transitions_with_a_warning(tmp_path: Path) -> None:
    """Rendered media exactly as long as the shot: dissolves cannot reach before the cut."""
    tl = make_timeline(n_shots=4, render_handles=False, audio=False)
    for fmt in ("edl", "fcp7xml", "fcpxml", "aaf"):
        diags = by_code(export_timeline(tl, fmt, tmp_path / f"f{EXTENSIONS[fmt]}"))
        assert "dissolve s01_001->s01_002 (moved off the cut)" in diags["W0706"], fmt
    root = ET.parse(tmp_path / "f.xml").getroot()
    assert all(int(e.text) >= 0 for e in root.iter("in"))
    with (tmp_path / "f.edl").open() as f:
        edits = [e for ev in pycmx.parse_cmx3600(f).events for e in ev.edits]
    second = next(e for e in edits if e.clip_name == "s01_002" and e.transition.dissolve)
    assert second.source_in == "00:00:00:00" and second.record_in == "01:00:02:00"  # the dissolve starts at the cut


def test_generated_media_is_written_offline_with_a_warning(tmp_path: Path) -> None:
    tl = make_timeline(n_shots=3, audio=False)
    card = v1(tl)[0]
    card.media_reference = otio.schema.GeneratorReference(name="title card", generator_kind="SolidColor")
    for fmt in ("edl", "fcp7xml", "fcpxml", "aaf"):
        diags = by_code(export_timeline(tl, fmt, tmp_path / f"f{EXTENSIONS[fmt]}"))
        assert "s01_001" in diags["W0707"], fmt
    assert isinstance(v1(tl)[0].media_reference, otio.schema.GeneratorReference)


# --- OTIOZ -------------------------------------------------------------------------------------


def test_otioz_bundles_rendered_media_and_round_trips(tmp_path: Path) -> None:
    render = tmp_path / "render"
    (render / "audio").mkdir(parents=True)
    tl = make_timeline(n_shots=6, media_root=str(render))
    for clip in tl.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference):
            Path(otio.url_utils.filepath_from_url(ref.target_url)).write_bytes(clip.name.encode())
    target = tmp_path / "film.otioz"
    assert export_timeline(tl, "otioz", target) == []
    with zipfile.ZipFile(target) as z:
        bundled = {n for n in z.namelist() if n.startswith("media/")}
    assert "media/s01_002.mov" in bundled and "media/music.wav" in bundled
    back = otio.adapters.read_from_file(str(target))
    originals = {c.name + str(i): c for i, c in enumerate(tl.find_clips())}
    for i, clip in enumerate(back.find_clips()):
        original = originals[clip.name + str(i)].media_reference
        if isinstance(original, otio.schema.ExternalReference):
            name = Path(otio.url_utils.filepath_from_url(original.target_url)).name
            assert clip.media_reference.target_url == f"media/{name}"
            clip.media_reference.target_url = original.target_url  # undo the relink to compare the rest
    assert back.is_equivalent_to(tl)


def test_otioz_keeps_range_and_url_of_media_not_yet_rendered(film: otio.schema.Timeline, tmp_path: Path) -> None:
    diags = by_code(export_timeline(film, "otioz", tmp_path / "f.otioz"))
    assert "original_target_url" in diags["W0707"]
    back = otio.adapters.read_from_file(str(tmp_path / "f.otioz"))
    for ours, theirs in zip(film.find_clips(), back.find_clips(), strict=True):
        assert theirs.name == ours.name and theirs.source_range == ours.source_range
        ref = ours.media_reference
        if isinstance(ref, otio.schema.ExternalReference):
            assert isinstance(theirs.media_reference, otio.schema.MissingReference)
            assert theirs.media_reference.metadata["original_target_url"] == ref.target_url
            assert theirs.media_reference.available_range == ref.available_range


# --- EDL ---------------------------------------------------------------------------------------


def test_edl_columns_wipes_black_and_start_timecode(film: otio.schema.Timeline, tmp_path: Path) -> None:
    path = tmp_path / "f.edl"
    export_timeline(film, "edl", path)
    lines = path.read_text().splitlines()
    assert lines[:2] == ["TITLE: Blackout", "FCM: NON-DROP FRAME"]
    events = [line for line in lines if re.match(r"^\d{3}  ", line)]
    assert all(len(line) == 76 for line in events)  # strict CMX 3600 columns, 8-character reels
    assert events[0] == "001  BL       V     C        00:00:00:00 00:00:00:00 01:00:00:00 01:00:00:00"
    assert events[1].startswith("001  S01_001  V     D    024 00:00:00:00 00:00:01:12 01:00:00:00")
    assert any(line[20:28] == "W001 012" for line in events)  # wipe_left, 12 frames
    assert any(line[20:28] == "W002 011" for line in events)  # wipe_up, 11 frames
    assert not any(" D 0" in line for line in events)  # the adapter's misaligned dissolve column


def test_edl_reels_are_valid_unique_and_shortened_with_a_warning(tmp_path: Path) -> None:
    tl = make_timeline(n_shots=4, audio=False)
    v1(tl)[0].metadata["cmx_3600"] = {"reel": "A001C003_220101"}
    diags = by_code(export_timeline(tl, "edl", tmp_path / "f.edl"))
    assert "A001C003_220101->A001C003" in diags["W0707"]
    with (tmp_path / "f.edl").open() as f:
        reels = {e.clip_name: e.source for ev in pycmx.parse_cmx3600(f).events for e in ev.edits if not e.black}
    assert reels["s01_001"] == "A001C003"
    assert all(re.fullmatch(r"[A-Z0-9_]{1,8}", r) for r in reels.values())
    assert len(set(reels.values())) == len(reels)


def test_edl_reads_back_with_otio_when_the_film_does_not_open_on_a_fade(tmp_path: Path) -> None:
    """OTIO's cmx_3600 reader rejects an EDL that opens with a fade from black (CMX-valid: pycmx reads it)."""
    tl = make_timeline(n_shots=8, audio=False)
    del v1(tl)[0].metadata["filmc"]["fade_in"]
    check_edl(tl, tmp_path / "f.edl")
    back = otio.adapters.read_from_file(str(tmp_path / "f.edl"), adapter_name="cmx_3600", rate=24)
    track = back.tracks[0]
    assert track.source_range.start_time.value == -86400  # record timecode starts at 01:00:00:00
    assert track.duration().value == v1(tl).duration().value
    names = [c.name for c in track.find_clips() if not isinstance(c.media_reference, otio.schema.GeneratorReference)]
    assert [n for i, n in enumerate(names) if n not in names[:i]] == [s.clip.name for s in shots(tl)]
    first = track.find_clips()[0]
    assert first.metadata["cmx_3600"]["comments"][:2] == ["FILMC SHOT: s01_001", "FILMC SCENE: scene_1"]


def test_edl_at_23976_counts_24_frame_timecode(film_23976: otio.schema.Timeline, tmp_path: Path) -> None:
    check_edl(film_23976, tmp_path / "f.edl")
    text = (tmp_path / "f.edl").read_text()
    assert "FCM: NON-DROP FRAME" in text
    total = int(v1(film_23976).duration().value)
    end = otio.opentime.to_timecode(RT(86400 + total, FPS_23976), FPS_23976)
    assert re.search(rf" {end}$", text, re.M)


# --- FCP7 XML ----------------------------------------------------------------------------------


def test_fcp7_fades_are_opacity_keyframes(film: otio.schema.Timeline, tmp_path: Path) -> None:
    export_timeline(film, "fcp7xml", tmp_path / "f.xml")
    root = ET.parse(tmp_path / "f.xml").getroot()
    first = root.find(".//video/track/clipitem")
    keys = [(int(k.findtext("when")), int(k.findtext("value"))) for k in first.iter("keyframe")]
    assert keys == [(0, 0), (24, 100)]
    assert first.findtext("logginginfo/shottake") == "s01_001"
    assert first.findtext("comments/mastercomment3") == "/films/blackout/blackout.film:10:3"
    dialogue = root.findall(".//audio/track")[0].find("clipitem")
    assert dialogue.findtext("comments/mastercomment1") == "rae: Line of s01_001."


def test_fcp7_keeps_repeated_identical_clips_in_place(tmp_path: Path) -> None:
    """The adapter collapses identical clips into one back-reference without a position."""
    tl = make_timeline(n_shots=10)
    sfx = [t for t in tl.tracks if t.name == "A4 SFX"][0]
    assert len({otio.adapters.write_to_string(c, adapter_name="otio_json") for c in sfx.find_clips()}) == 1
    check_fcp7(tl, tmp_path / "f.xml")


def test_fcp7_at_23976_is_ntsc_24(film_23976: otio.schema.Timeline, tmp_path: Path) -> None:
    check_fcp7(film_23976, tmp_path / "f.xml")
    root = ET.parse(tmp_path / "f.xml").getroot()
    rate = root.find("./project/children/sequence/rate")
    assert (rate.findtext("timebase"), rate.findtext("ntsc")) == ("24", "TRUE")
    assert root.findtext("./project/children/sequence/timecode/string") == "01:00:00:00"


# --- FCPXML ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "frame"), [(FPS_24, "1/24s"), (FPS_23976, "1001/24000s")])
def test_fcpxml_times_are_exact_rationals(rate: float, frame: str, tmp_path: Path) -> None:
    tl = make_timeline(n_shots=5, rate=rate)
    check_fcpxml(tl, tmp_path / "f.fcpxml")
    root = ET.parse(tmp_path / "f.fcpxml").getroot()
    assert root.find("./resources/format").get("frameDuration") == frame
    sequence = root.find("./library/event/project/sequence")
    assert sequence.get("tcStart") == ("3600s" if rate == FPS_24 else "18018/5s")  # 86400 frames
    project = read_fcpxml(tmp_path / "f.fcpxml")
    assert project.fades["s01_001"] == [(0, 0.0), (24, 1.0)]
    last = shots(tl)[-1]  # fades in after a scene cut (12 frames), fades out the film (24 frames)
    end = last.start + last.length
    assert project.fades[last.clip.name] == [(last.start, 0.0), (last.start + 12, 1.0), (end - 24, 1.0), (end, 0.0)]
    assert [t.effect for t in project.transitions][:3] == ["Cross Dissolve", "Wipe", "Fade To Color"][: len(project.transitions)]


def test_fcpxml_sequence_covers_audio_beyond_the_picture(tmp_path: Path) -> None:
    tl = make_timeline(n_shots=3)
    music = [t for t in tl.tracks if t.name == "A3 Music"][0]
    rate = rate_of(tl)
    music.append(otio.schema.Clip(name="tail", source_range=TR(RT(0, rate), RT(30, rate))))
    path = tmp_path / "f.fcpxml"
    export_timeline(tl, "fcpxml", path)
    project = read_fcpxml(path)
    assert project.problems == []
    tail = next(c for c in project.connected if c.name == "tail")
    assert tail.record == int(music.duration().value) - 30 and tail.lane == -3
    assert project.duration == int(music.duration().value) > int(v1(tl).duration().value)


def test_a_second_picture_track_is_kept_where_the_format_can(tmp_path: Path) -> None:
    tl = make_timeline(n_shots=4, audio=False)
    rate = rate_of(tl)
    v2 = otio.schema.Track(name="V2 Titles", kind=otio.schema.TrackKind.Video)
    v2.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT(30, rate))))
    v2.append(otio.schema.Clip(name="title", source_range=TR(RT(0, rate), RT(40, rate))))
    tl.tracks.insert(1, v2)
    assert "V2 Titles (1 clips)" in by_code(export_timeline(tl, "edl", tmp_path / "f.edl"))["W0702"]
    export_timeline(tl, "fcpxml", tmp_path / "f.fcpxml")
    project = read_fcpxml(tmp_path / "f.fcpxml")
    assert [(c.lane, c.tag, c.record, c.duration) for c in project.connected] == [(1, "gap", 0, 30), (1, "asset-clip", 30, 40)]
    check_fcp7(tl, tmp_path / "f.xml")
