"""Render plan invariants on the small fixture film: sharing, exact invalidation, order, resources."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from filmc.compiler.check import CheckResult
from filmc.compiler.plan import PlanError, build_plan, place_dialogue, resolve_path
from filmc.compiler.render_plan import RenderPlan, node_id
from lowering_support import FILM_NAME, checked, edited_copy, make_clip


def keyed(plan: RenderPlan) -> dict[tuple[str, str], str]:
    """(op, label) -> id; labels are unique per op in these films."""
    out = {(n.op, n.label): n.id for n in plan.nodes}
    assert len(out) == len(plan.nodes)
    return out


def changed(before: RenderPlan, after: RenderPlan) -> set[tuple[str, str]]:
    a, b = keyed(before), keyed(after)
    assert a.keys() == b.keys()
    return {k for k in a if a[k] != b[k]}


@pytest.fixture(scope="module")
def plan(small: CheckResult) -> RenderPlan:
    return build_plan(small.film)


def test_op_counts(plan: RenderPlan) -> None:
    assert Counter(n.op for n in plan.nodes) == {
        "plate": 3, "portrait": 3, "compose": 8, "animate": 8, "conform": 1, "grade": 9, "speech": 5, "bed": 4,
        "sfx": 2, "mix": 1, "subtitles": 1, "assemble": 1, "encode_video": 2, "encode_audio": 2, "encode": 2,
        "contact_sheet": 1, "qc": 1,
    }


def test_plates_and_portraits_are_shared(plan: RenderPlan) -> None:
    by_id = plan.by_id()
    plates = {n.id: n for n in plan.nodes if n.op == "plate"}
    assert sorted((n.params["location"], n.params["time_of_day"], n.params["style"]) for n in plates.values()) == [
        ("kitchen", "std.morning", "dusk_look"), ("kitchen", "std.night", "night_look"),
        ("street", "std.evening", "dusk_look")]
    portraits = {n.id: n for n in plan.nodes if n.op == "portrait"}
    assert sorted((n.params["character"], tuple(n.params["states"])) for n in portraits.values()) == [
        ("ana", ()), ("ana", ("tired",)), ("ben", ())]
    uses = Counter(i for n in plan.nodes if n.op == "compose" for i in n.inputs)
    assert sum(uses[p] for p in plates) == 8  # every compose takes one plate
    assert max(uses[p] for p in plates) == 4  # the breakfast plate serves all four breakfast shots
    ana_tired = next(p for p, n in portraits.items() if n.params["states"] == ["tired"])
    assert uses[ana_tired] == 3  # s02_001 (after `becomes tired`), s02_003, s03_001
    # The night kitchen plate uses the location's `when night` look.
    night = next(n for n in plates.values() if n.params["time_of_day"] == "std.night")
    assert night.params["location_look"] == "dark kitchen, fridge light"
    assert all(by_id[i].op in ("plate", "portrait") for n in plan.nodes if n.op == "compose" for i in n.inputs)


def test_topological_order_and_outputs(plan: RenderPlan) -> None:
    seen: set[str] = set()
    for n in plan.nodes:
        assert set(n.inputs) <= seen, f"{n.op} {n.label} comes before an input"
        assert len(set(n.inputs)) == len(n.inputs)
        assert n.id == node_id(n.op, n.params, n.inputs, plan.backend_version)
        assert n.outputs
        seen.add(n.id)
    assert len(seen) == len(plan.nodes)
    assert set(plan.outputs) == {"picture", "mix", "subtitles", "contact_sheet", "qc", "web_mp4", "prores_422"}
    by_id = plan.by_id()
    assert by_id[plan.outputs["web_mp4"]].outputs == ["lowering_fixture.mp4", "audio_true_peak.json",
                                                      "picture_scan.json", "lowering_fixture.srt",
                                                      "lowering_fixture.vtt"]
    assert by_id[plan.outputs["prores_422"]].outputs == ["lowering_fixture.mov", "audio_true_peak.json",
                                                         "picture_scan.json"]
    video = by_id[by_id[plan.outputs["web_mp4"]].inputs[0]]  # the video stream is encoded apart from the sound
    assert video.op == "encode_video" and video.outputs == ["video.mp4", "picture_scan.json"]
    assert not any(by_id[i].op in ("mix", "speech") for i in video.inputs)
    assert by_id[plan.outputs["qc"]].op == "qc"


def test_params_hold_no_spans_or_notes(plan: RenderPlan) -> None:
    for n in plan.nodes:
        text = json.dumps(n.params)
        assert "Keep it quiet" not in text and "small.film" not in text and '"line"' not in text
        assert "/tmp" not in text, f"{n.op} has an absolute path"
    compose = next(n for n in plan.nodes if n.op == "compose" and n.label == "s01_001")
    assert compose.spans and compose.spans[0].file == FILM_NAME


def test_shot_chain_params(plan: RenderPlan, small: CheckResult) -> None:
    nodes = {(n.op, n.label): n for n in plan.nodes}
    animate = nodes[("animate", "s01_002")].params
    assert animate["camera"] == {"move": "std.push_in", "motion": "dolly", "amount": 0.06, "speed": "std.slow",
                                 "factor": 0.5}
    assert animate["frames"] == 48 and animate["fps"] == "24" and animate["resolution"] == [640, 360]
    assert set(animate["prompts"]) == {"image", "motion", "negative"}
    zoom = nodes[("animate", "s03_002")].params["camera"]
    assert zoom["motion"] == "zoom" and zoom["amount"] == pytest.approx(1.3)
    compose = nodes[("compose", "s01_001")].params
    assert [s["name"] for s in compose["subjects"]] == ["ana", "ben"]
    assert compose["abbrev"] == "WS" and compose["lens_mm"] == 40.0
    assert compose["burn_in"] == ["s01_001  WS  ana, ben", "Ana and Ben sit at the table."]
    holding = nodes[("compose", "s01_002")].params["subjects"][0]["holding"]
    assert holding == [{"prop": "mug", "look": "chipped blue mug"}]
    grade = nodes[("grade", "s03_001")].params["grade"]
    assert grade["name"] == "fixture_grade" and grade["strength"] == 0.5 and grade["contrast"] == 1.1
    assert grade["lut"]["path"] == "luts/fixture.cube" and len(grade["lut"]["sha256"]) == 64
    assert nodes[("grade", "s01_001")].params["grade"]["strength"] == 0.75
    conform = nodes[("conform", "footage")].params
    assert conform["path"] == "footage/clip.mp4" and conform["in_frame"] == 10 and conform["frames"] == 40
    assert conform["in_seconds"] == "5/12" and conform["out_seconds"] == "25/12"
    assert resolve_path(conform["path"], small.film.source) == Path(small.film.source).parent / "footage/clip.mp4"


def test_assembly_and_mix_params(plan: RenderPlan) -> None:
    nodes = {(n.op, n.label): n for n in plan.nodes}
    assemble = nodes[("assemble", "assemble")]
    assert assemble.params["frames"] == 380 and assemble.params["start_timecode"] == "10:00:00:00"
    assert [(t["after"], t["effect"], t["frames"], t["in_offset"], t["out_offset"])
            for t in assemble.params["transitions"]] == [
        (0, "dissolve", 12, 6, 6), (2, "wipe", 9, 4, 5), (3, "dip", 13, 6, 7), (5, "dip", 12, 6, 6)]
    clips = assemble.params["clips"]
    assert [c["shot"] for c in clips] == ["s01_001", "s01_002", "s01_003", "s01_004", "s02_001", "footage",
                                          "s02_003", "s03_001", "s03_002"]
    assert (clips[0]["fade_in"], clips[-1]["fade_out"], clips[2]["match_cut"]) == (12, 24, True)
    assert [plan.by_id()[i].op for i in assemble.inputs] == ["grade"] * 9
    mix = nodes[("mix", "mix")]
    entries = mix.params["entries"]
    assert [(e["stem"], e["at_frame"]) for e in entries] == [
        ("ambience", 0), ("music", 0), ("music", 160), ("ambience", 284),
        ("dialogue", 66), ("dialogue", 114), ("dialogue", 242), ("dialogue", 290), ("dialogue", 305),
        ("sfx", 118), ("sfx", 248)]
    assert mix.params["loudness_lufs"] == -16.0 and mix.params["frames"] == 380
    assert {plan.by_id()[mix.inputs[e["input"]]].op for e in entries} == {"bed", "speech", "sfx"}
    speech = nodes[("speech", "s01_002.1 ana")].params
    assert speech["voice"]["language"] == "en-us" and speech["voice"]["rate_wpm"] == 170.0
    assert speech["voice"]["variant"] == "f2"


def test_place_dialogue_rule() -> None:
    assert place_dialogue([10, 30, 100], [5, 5, 5], gap=4) == [10, 30, 100]
    assert place_dialogue([10, 30, 100], [40, 5, 5], gap=4) == [10, 54, 100]
    assert place_dialogue([10, 30, 40], [40, 30, 5], gap=0) == [10, 50, 80]


# --- invalidation -------------------------------------------------------------------


def _plan_of(path: Path) -> RenderPlan:
    return build_plan(checked(path).film)


def test_editing_one_action_changes_exactly_that_chain(film_dir: Path, tmp_path: Path, plan: RenderPlan) -> None:
    film = edited_copy(film_dir, tmp_path / "f", 'action "Ana lifts the mug."', 'action "Ana lifts the blue mug."')
    assert changed(plan, _plan_of(film)) == {
        ("compose", "s01_002"), ("animate", "s01_002"), ("grade", "s01_002"),
        ("assemble", "assemble"), ("encode_video", "video web_mp4"), ("encode_video", "video prores_422"),
        ("encode", "encode web_mp4"), ("encode", "encode prores_422"), ("qc", "qc"),
        ("contact_sheet", "contact sheet"),
    }


def test_comments_and_notes_change_nothing(film_dir: Path, tmp_path: Path, plan: RenderPlan) -> None:
    film = edited_copy(film_dir, tmp_path / "a", "# Comment line to edit in tests.", "# A renamed comment.")
    assert changed(plan, _plan_of(film)) == set()
    # A new comment line moves every span below it, but spans are not part of ids.
    film = edited_copy(film_dir, tmp_path / "b", "act 2 ", "# one more line\n# and another\nact 2 ")
    moved = _plan_of(film)
    assert changed(plan, moved) == set()
    assert keyed(moved) == keyed(plan)
    film = edited_copy(film_dir, tmp_path / "c", 'note "Keep it quiet."', 'note "Louder, please."')
    assert changed(plan, _plan_of(film)) == set()


def test_a_changed_media_file_re_renders_its_shot(film_dir: Path, tmp_path: Path, plan: RenderPlan) -> None:
    copy = tmp_path / "m"
    edited_copy(film_dir, copy, "# Comment line to edit in tests.", "# Comment line to edit in tests.")
    make_clip(copy / "footage" / "clip.mp4", frames=72)
    assert changed(plan, _plan_of(copy / FILM_NAME)) == {
        ("conform", "footage"), ("grade", "footage"), ("assemble", "assemble"), ("encode", "encode web_mp4"),
        ("encode", "encode prores_422"), ("encode_video", "video web_mp4"), ("encode_video", "video prores_422"),
        ("qc", "qc"), ("contact_sheet", "contact sheet"),
    }


def test_a_changed_lut_regrades_every_shot(film_dir: Path, tmp_path: Path, plan: RenderPlan) -> None:
    copy = tmp_path / "l"
    edited_copy(film_dir, copy, "# Comment line to edit in tests.", "# Comment line to edit in tests.")
    lut = copy / "luts" / "fixture.cube"
    lut.write_text(lut.read_text().replace("1.0 1.0 1.0", "0.9 0.9 0.9"))
    diff = changed(plan, _plan_of(copy / FILM_NAME))
    assert {label for op, label in diff if op == "grade"} == {n.label for n in plan.nodes if n.op == "grade"}
    assert {op for op, _ in diff} == {"grade", "assemble", "encode_video", "encode", "qc", "contact_sheet"}


def test_dialogue_edit_touches_sound_only(film_dir: Path, tmp_path: Path, plan: RenderPlan) -> None:
    film = edited_copy(film_dir, tmp_path / "d", 'ben: "Tea?"', 'ben: "Tea or coffee?"')
    diff = changed(plan, _plan_of(film))
    assert ("speech", "s03_001.1 ben") in diff and ("mix", "mix") in diff and ("subtitles", "subtitles") in diff
    assert not {op for op, _ in diff} & {"plate", "portrait", "compose", "animate", "grade", "assemble", "conform"}


# --- options ------------------------------------------------------------------------


def test_backend_version_scale_and_profiles(small: CheckResult, plan: RenderPlan) -> None:
    other = build_plan(small.film, backend_version="2")
    assert not set(keyed(plan).values()) & set(keyed(other).values())
    half = build_plan(small.film, scale=0.5)
    assert next(n for n in half.nodes if n.op == "compose").params["resolution"] == [320, 180]
    only = build_plan(small.film, profiles=["dnxhr_hq"])
    assert [n.params["profile"] for n in only.nodes if n.op == "encode"] == ["std.dnxhr_hq"]
    with pytest.raises(PlanError, match="unknown export profile `nope`"):
        build_plan(small.film, profiles=["nope"])
    with pytest.raises(PlanError, match="scale"):
        build_plan(small.film, scale=0)


def test_resources(small: CheckResult, plan: RenderPlan) -> None:
    assert {n.resources.device for n in plan.nodes} == {"cpu"}
    gpu = build_plan(small.film, backend="diffusers")
    devices = {n.op: n.resources.device for n in gpu.nodes}
    assert {op for op, d in devices.items() if d == "gpu"} == {"plate", "portrait", "compose", "animate"}
    assert all(n.resources.memory_mb >= 64 for n in plan.nodes)
    animate = next(n for n in gpu.nodes if n.op == "animate")
    assert animate.resources.memory_mb >= 16000


def test_plan_is_deterministic(small: CheckResult, plan: RenderPlan) -> None:
    assert build_plan(small.film).to_json() == plan.to_json()


def _with_profile(film_dir: Path, dst: Path, body: str) -> Path:
    film = edited_copy(film_dir, dst, "  export web_mp4, prores_422", "  export web, prores_422")
    film.write_text(film.read_text() + f"\nprofile web extends std.web_mp4 {{\n{body}\n}}\n")
    return film


def test_audio_and_video_settings_re_encode_only_their_own_stream(film_dir: Path, tmp_path: Path) -> None:
    base = _plan_of(_with_profile(film_dir, tmp_path / "base", "  crf 20"))
    louder = _plan_of(_with_profile(film_dir, tmp_path / "audio", "  crf 20\n  audio_bitrate 128kbps"))
    sharper = _plan_of(_with_profile(film_dir, tmp_path / "video", "  crf 18"))
    assert changed(base, louder) == {("encode_audio", "audio web"), ("encode", "encode web"), ("qc", "qc")}
    assert changed(base, sharper) == {("encode_video", "video web"), ("encode", "encode web"), ("qc", "qc")}
    audio = next(n for n in louder.nodes if n.op == "encode_audio" and n.label == "audio web")
    assert audio.outputs == ["audio.m4a", "audio_true_peak.json"] and audio.params["settings"]["audio_bitrate"] == 128
