"""Grading and shot matching in preview builds, measured on a film whose shots are tinted apart.

The build is the real `filmc build` path; qc.json is read as delivered, and the delivered
picture is decoded with PyAV and measured independently (CIEDE2000 via colour-science).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import av
import colour
import numpy as np
import pytest
from cb_support import FILM, TINTS, Built, run_build, write_tinted_film
from filmc.compiler.check import check_file
from filmc.compiler.plan import build_plan
from filmc.runtime.build import qc_summary
from filmc.runtime.colour.tags import FFMPEG_TAGS
from filmc.runtime.media_tools import probe
from PIL import Image

SHOTS = ["s01_001", *TINTS]
SHOT_FRAMES = 12


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("tinted")
    film = write_tinted_film(root / "film")
    result = run_build(film, root / "out", root / "cache")
    assert result.code == 0, result.stderr
    return result


def _plan(text: str, folder: Path):
    film = write_tinted_film(folder)
    film.write_text(text, encoding="utf-8")
    result = check_file(film)
    assert result.film is not None, [d.message for d in result.diagnostics]
    return build_plan(result.film)


def test_plan_feeds_the_reference_shot_to_each_other_grade(tmp_path: Path) -> None:
    plan = _plan(FILM, tmp_path)
    nodes = {n.id: n for n in plan.nodes}
    grades = {n.params["shot"]: n for n in plan.nodes if n.op == "grade"}
    assert "match" not in grades["s01_001"].params and len(grades["s01_001"].inputs) == 1
    compose = next(n for n in plan.nodes if n.op == "compose" and n.params["shot"] == "s01_001")
    for shot in TINTS:
        g = grades[shot]
        assert g.params["match"] == {"reference": "s01_001", "input": 1}
        assert g.inputs[1] == compose.id
        assert nodes[g.inputs[0]].op == "conform"
    qc = next(n for n in plan.nodes if n.op == "qc")
    assert [e["shot"] for e in qc.params["grades"]] == SHOTS
    assert all(qc.inputs[e["input"]] == grades[e["shot"]].id for e in qc.params["grades"])


def test_a_shot_marked_reference_is_the_scene_reference(tmp_path: Path) -> None:
    plan = _plan(FILM.replace('media "green.mkv" }', 'media "green.mkv"; reference }'), tmp_path)
    grades = {n.params["shot"]: n for n in plan.nodes if n.op == "grade"}
    conform = next(n for n in plan.nodes if n.op == "conform" and n.params["shot"] == "green")
    assert "match" not in grades["green"].params
    for shot in ("s01_001", "red", "blue"):
        assert grades[shot].params["match"]["reference"] == "green"
        assert grades[shot].inputs[1] == conform.id


def test_qc_reports_every_shots_match_to_its_reference(built: Built) -> None:
    shots = {s["shot"]: s for s in built.qc()["colour"]["shots"]}
    assert list(shots) == SHOTS
    assert shots["s01_001"]["match"] is None
    for name in TINTS:
        m = shots[name]["match"]
        assert m["reference"] == "s01_001"
        assert m["delta_e_before"] > 3.0, (name, m)
        assert m["delta_e_after"] <= 3.0, (name, m)


def test_qc_reports_bake_error_within_two_codes(built: Built) -> None:
    report = built.qc()
    bakes = report["colour"]["bakes"]
    # Footage is graded through a bake, one per matched shot (each has its own correction); the
    # painted reference shot's stills went through the exact chain: no bake, nothing to err.
    assert len(bakes) == len(TINTS)
    assert sorted(s for b in bakes for s in b["shots"]) == sorted(TINTS)
    reference = next(s for s in report["colour"]["shots"] if s["shot"] == SHOTS[0])
    assert reference["bake_max_10bit_codes"] is None and not reference["identity"]
    for bake in bakes:
        assert bake["grade"] == "std.warm"
        assert bake["in_gamut"] > 500
        assert bake["max_10bit_codes"] <= 2.0, bake
    summary = qc_summary(report)
    assert f"grade bake std.warm + match of red to {SHOTS[0]}:" in summary and "10-bit codes" in summary
    for name in TINTS:
        assert f"shot match {name}:" in summary


def _shot_means(path: Path) -> list[np.ndarray]:
    """Mean CIELAB of each shot's middle frame in the delivered file (rec709 codes as sRGB-ish display)."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == SHOT_FRAMES * len(SHOTS)
    means = []
    for k in range(len(SHOTS)):
        # Below the burn-in band at the top, above the action line at the bottom.
        picture = frames[k * SHOT_FRAMES + SHOT_FRAMES // 2][20:60].astype(np.float64) / 255.0
        lab = colour.XYZ_to_Lab(colour.RGB_to_XYZ(picture ** 2.4, colour.RGB_COLOURSPACES["ITU-R BT.709"]))
        means.append(lab.reshape(-1, 3).mean(axis=0))
    return means


def test_delivered_shots_match_the_reference(built: Built) -> None:
    means = _shot_means(built.out / "tinted_web_mp4.mp4")
    for name, mean in zip(TINTS, means[1:], strict=True):
        delta = float(colour.delta_E(mean, means[0], method="CIE 2000"))
        assert delta <= 3.0, (name, delta)


def test_assembly_runs_no_colour_filter_and_footage_is_graded_in_float(built: Built) -> None:
    objects = built.out.parent / "cache" / "objects"
    graphs = list(objects.glob("*/*/filtergraph.txt"))
    assert len(graphs) == 1
    text = graphs[0].read_text()
    assert "lut1d" not in text and "lut3d" not in text
    applied = {}
    for grade_json in objects.glob("*/*/grade.json"):
        info = json.loads(grade_json.read_text())
        applied[info["shot"]] = info["applied"]
        if info["applied"] == "baked":
            assert [s["filter"] for s in info["stages"]] == ["lut1d", "lut3d", "lut1d"]
            assert all((grade_json.parent / s["file"]).is_file() for s in info["stages"])
            assert (grade_json.parent / "clip.mov").is_file()
        else:
            assert info["stages"] == [] and (grade_json.parent / "background.png").is_file()
    assert applied == {SHOTS[0]: "exact"} | {name: "baked" for name in TINTS}


def test_painted_layers_are_graded_by_the_exact_chain(built: Built) -> None:
    """The graded background equals the chain applied pixel by pixel to the ungraded one."""
    from filmc.compiler.plan import resolve_path
    from filmc.runtime.colour.chain import build_chain
    from filmc.runtime.colour.grade import Grade

    objects = built.out.parent / "cache" / "objects"
    info, folder = next((json.loads(p.read_text()), p.parent) for p in objects.glob("*/*/grade.json")
                        if json.loads(p.read_text())["applied"] == "exact")
    source = objects / info["source"]["layers"]["background"]
    g = info["grade"]
    grade = Grade(lut=resolve_path(g["lut"]["path"], str(built.out)), strength=float(g["strength"]))
    chain = build_chain(grade, "rec709", "rec709", working="ACEScg", rendering="colorimetric")
    ungraded = np.asarray(Image.open(source).convert("RGB"), dtype=np.float32) / 255.0
    expected = np.clip(chain.apply(ungraded), 0, 1) * 255.0 + 0.5
    graded = np.asarray(Image.open(folder / "background.png").convert("RGB"))
    assert np.array_equal(graded, expected.astype(np.uint8))
    assert np.abs(graded.astype(int) - np.asarray(Image.open(source).convert("RGB"), dtype=int)).max() > 3


def _side_data(path: Path) -> dict[str, tuple[int, ...]]:
    """The first frame's HDR side data as signed 32-bit words, by type name."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        wanted = {"MASTERING_DISPLAY_METADATA", "CONTENT_LIGHT_LEVEL"}
        return {sd.type.name: struct.unpack(f"<{len(bytes(sd)) // 4}i", bytes(sd)) for sd in frame.side_data
                if sd.type.name in wanted}


@pytest.mark.parametrize("profile", ["web_mp4", "hdr10_hevc"])
def test_every_export_carries_its_profiles_colour_tags(built: Built, profile: str) -> None:
    colour_name = "hdr10" if profile == "hdr10_hevc" else "rec709"
    tags = FFMPEG_TAGS[colour_name]
    v = probe(built.out / f"tinted_{profile}.mp4").video()
    assert v is not None
    assert [v.color_primaries, v.color_trc, v.color_space, v.color_range] == [
        tags.primaries, tags.trc, tags.matrix, tags.range]
    qc = {p["profile"]: p for p in built.qc()["profiles"]}[f"std.{profile}"]
    assert next(c for c in qc["checks"] if c["name"] == "colour tags")["ok"]


def test_hdr10_export_carries_mastering_display_and_light_levels(built: Built) -> None:
    path = built.out / "tinted_hdr10_hevc.mp4"
    with av.open(str(path)) as container:
        cc = container.streams.video[0].codec_context
        assert (cc.pix_fmt, cc.profile) == ("yuv420p10le", "Main 10")
    side = _side_data(path)
    md = FFMPEG_TAGS["hdr10"].mastering_display
    assert md is not None
    words = side["MASTERING_DISPLAY_METADATA"]
    # AVMasteringDisplayMetadata: R, G, B, white point (x, y rationals), min and max luminance, flags.
    xy = [words[k] / words[k + 1] for k in range(0, 16, 2)]
    expected = [*md.red, *md.green, *md.blue, *md.white]
    assert np.allclose(xy, expected, atol=1 / 50000), (xy, expected)
    assert words[18] / words[19] == pytest.approx(md.max_nits) and words[16] / words[17] == pytest.approx(md.min_nits)
    assert side["CONTENT_LIGHT_LEVEL"] == (1000, 400)
