"""`media` clips are converted from their own colour space into the film's output space.

Clips are made here from a patch chart whose Y'CbCr planes are computed with
colour-science and fed to the encoders untouched; the conformed (and the
delivered) pictures are decoded and compared patch by patch with the expected
conversion, also computed with colour-science from the decoded source planes.
Tolerance: within one 8-bit code of that exact answer for a conformed clip (the
8-bit rounding, 0.5, plus the bake's error, measured under 0.3) and CIEDE2000
under 1 against the chart as designed; two codes for a delivered H.264 file.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cm_support import (
    PATCHES_709_LIGHT,
    SIZE,
    X264_LOSSLESS,
    bt1886_decode,
    bt1886_encode,
    chart_picture,
    decode_rgb,
    delta_e_2000_709,
    expected_709_codes,
    hlg2020_clip,
    hlg_decode,
    light_709_to_2020,
    light_2020_to_709,
    patch_means,
    pq2020_clip,
    pq_decode,
    pq_encode,
    rec709_clip,
    source_patch_codes,
    untagged_rec2020_clip,
    yuv_clip,
)
from filmc.compiler.check import check_file
from filmc.compiler.fmt import format_source
from filmc.compiler.plan import build_plan
from filmc.compiler.schema import MEDIA_COLOUR_SPACES
from filmc.runtime.backend import NodeError
from filmc.runtime.colour import sources
from filmc.runtime.colour.bake import apply_bake, validation_chart
from filmc.runtime.colour.sources import ClipTags, SourceColourError, decoding, space_from_tags
from filmc.runtime.colour.spaces import SPACES, config, space
from filmc.runtime.media_tools import ffmpeg_exe
from filmc.runtime.preview import conform

FRAMES = 6
BT2020, BT709 = "ITU-R BT.2020", "ITU-R BT.709"


# --- the language -----------------------------------------------------------------------------------


def _film(folder: Path, media_line: str, header: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "x.mov").exists():
        rec709_clip(folder / "x.mov")
    path = folder / "f.film"
    path.write_text(f'film "F" {{\n  resolution 128x72\n  fps 24\n{header}}}\n\nlocation lab "A lab" {{\n'
                    f'  look "a lab"\n}}\n\nscene s at lab, day {{\n  shot wide 12f {{\n    {media_line}\n  }}\n}}\n',
                    encoding="utf-8")
    return path


def test_language_names_are_the_runtimes_and_exist_in_the_ocio_config() -> None:
    assert set(MEDIA_COLOUR_SPACES) == set(sources.SOURCE_SPACES)
    names = set(config().getColorSpaceNames())
    for name, library in sources.SOURCE_SPACES.items():
        assert library in SPACES, name
        assert SPACES[library].ocio_name in names, (name, SPACES[library].ocio_name)
    for name in ("rec709", "srgb", "rec2020", "rec2020_pq", "rec2020_hlg", "p3d65", "arri_logc3", "arri_logc4",
                 "slog3_sgamut3cine", "acescct", "acescg"):
        assert name in MEDIA_COLOUR_SPACES


def test_override_reaches_the_ir_and_the_conform_params(tmp_path: Path) -> None:
    film = _film(tmp_path, 'media "x.mov" from 0s to 12f colour REC2020_pq', "  colour ACEScg -> hdr10\n")
    result = check_file(film)
    assert result.film is not None and not result.diagnostics, [d.message for d in result.diagnostics]
    assert result.film.scenes[0].shots[0].media.colour == "rec2020_pq"
    (conform_node,) = [n for n in build_plan(result.film).nodes if n.op == "conform"]
    assert conform_node.params["colour"] == "rec2020_pq" and conform_node.params["output_space"] == "hdr10"
    plain = check_file(_film(tmp_path / "plain", 'media "x.mov"')).film
    assert plain is not None and plain.scenes[0].shots[0].media.colour is None
    (node,) = [n for n in build_plan(plain).nodes if n.op == "conform"]
    assert node.params["colour"] is None and node.params["output_space"] == "rec709"
    hyphen = check_file(_film(tmp_path / "hyphen", 'media "x.mov" colour ACES2065-1')).film
    assert hyphen is not None and hyphen.scenes[0].shots[0].media.colour == "aces2065_1"


def test_unknown_space_is_e0417_with_a_suggestion_or_the_list(tmp_path: Path) -> None:
    close = check_file(_film(tmp_path / "a", 'media "x.mov" colour rec2020pq')).diagnostics
    assert [d.code for d in close] == ["E0417"] and close[0].hint == "did you mean `rec2020_pq`?"
    far = check_file(_film(tmp_path / "b", 'media "x.mov" colour technicolor')).diagnostics
    assert [d.code for d in far] == ["E0417"] and "rec2020_hlg" in far[0].hint and "arri_logc4" in far[0].hint
    quoted = check_file(_film(tmp_path / "c", 'media "x.mov" colour "rec709"')).diagnostics
    assert [d.code for d in quoted] == ["E0401"]


def test_fmt_keeps_the_override(tmp_path: Path) -> None:
    film = _film(tmp_path, 'media   "x.mov"  from 0s   to 12f colour   rec2020_hlg')
    formatted = format_source(film.read_text(encoding="utf-8"), str(film))
    assert '    media "x.mov" from 0s to 12f colour rec2020_hlg\n' in formatted
    assert format_source(formatted, str(film)) == formatted
    exe = Path(sys.executable).with_name("filmc")
    run = subprocess.run([str(exe), "fmt", str(film)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert film.read_text(encoding="utf-8") == formatted
    checked = check_file(film)
    assert checked.film is not None and checked.film.scenes[0].shots[0].media.colour == "rec2020_hlg"


# --- tags -> space, decoding ------------------------------------------------------------------------


def _tags(p: str | None, t: str | None, m: str | None = None, r: str | None = None, rgb: bool = False) -> ClipTags:
    return ClipTags(p, t, m, r, "gbrp" if rgb else "yuv420p10le", 10, rgb)


@pytest.mark.parametrize(("primaries", "transfer", "expected"), [
    (None, None, "rec709"),
    ("bt709", "bt709", "rec709"),
    ("smpte170m", "smpte170m", "rec709"),
    (None, "bt709", "rec709"),
    ("bt2020", None, "rec2020"),
    ("bt2020", "bt2020-10", "rec2020"),
    ("bt2020", "smpte2084", "rec2020_pq"),
    (None, "smpte2084", "rec2020_pq"),
    ("smpte432", "smpte2084", "p3d65_pq"),
    ("bt2020", "arib-std-b67", "rec2020_hlg"),
    ("bt709", "iec61966-2-1", "srgb"),
    ("smpte432", "iec61966-2-1", "display_p3"),
    ("smpte432", "smpte428", "p3d65"),
    ("smpte431", "smpte428", "p3dci"),
    ("bt709", "linear", "lin_rec709"),
])  # fmt: skip
def test_tags_map_to_spaces(primaries: str | None, transfer: str | None, expected: str) -> None:
    assert space_from_tags(_tags(primaries, transfer))[0] == expected


@pytest.mark.parametrize(("primaries", "transfer"), [("bt709", "smpte2084"), ("bt2020", "log100"),
                                                     ("smpte432", "bt709"), ("smpte428", None)])
def test_tags_without_a_space_ask_for_a_declaration(primaries: str, transfer: str | None) -> None:
    with pytest.raises(SourceColourError, match="colour rec2020_pq"):
        space_from_tags(_tags(primaries, transfer))


def test_decoding_follows_tags_then_the_space() -> None:
    assert decoding(_tags(None, None), "rec709").as_dict() == {"matrix": "bt709", "range": "tv"}
    assert decoding(_tags(None, None), "rec2020").matrix == "bt2020nc"
    assert decoding(_tags(None, None), "rec2020_pq").matrix == "bt2020nc"
    assert decoding(_tags("bt2020", "bt709", "bt709", "pc"), "rec2020").as_dict() == {"matrix": "bt709",
                                                                                      "range": "pc"}
    assert decoding(_tags(None, None, "gbr", "pc", rgb=True), "rec2020").matrix is None
    assert decoding(_tags(None, None), "rec2020").zscale_options() == ":matrixin=bt2020nc:rangein=limited"
    with pytest.raises(SourceColourError, match="bt2020c"):
        decoding(_tags("bt2020", "bt2020-10", "bt2020c"), "rec2020")


# --- conform --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    pq2020_clip(folder / "pq.mov")
    hlg2020_clip(folder / "hlg.mov")
    rec709_clip(folder / "rec709.mp4")
    untagged_rec2020_clip(folder / "untagged.mkv")
    return folder


def run_conform(folder: Path, name: str, colour: str | None = None, output: str = "rec709",
                tag: str = "") -> tuple[np.ndarray, dict]:
    """Conform `name` like the op does in a build; (patch means of a middle frame, conform.json)."""
    source = folder / name
    params = {"shot": "s", "path": name, "size": source.stat().st_size,
              "sha256": hashlib.sha256(source.read_bytes()).hexdigest(), "frames": FRAMES, "in_seconds": "0",
              "fps": "24", "resolution": list(SIZE), "colour": colour, "output_space": output}
    work = folder / f"{Path(name).stem}-{colour}-{output}{tag}"
    work.mkdir()
    conform.conform_clip(params, str(folder / "film.film"), work / "clip.mov", 2)
    record = json.loads((work / conform.SIDECAR).read_text(encoding="utf-8"))
    return patch_means(decode_rgb(work / "clip.mov", FRAMES // 2)), record


def _codes_8bit(values: np.ndarray) -> np.ndarray:
    return np.asarray(values) * 255.0


def test_pq_footage_is_converted_into_a_rec709_film(clips: Path) -> None:
    got, record = run_conform(clips, "pq.mov")
    assert record["space"] == "rec2020_pq" and record["space_from"] == "tags"
    assert record["tags"] | {"pix_fmt": None} == {"primaries": "bt2020", "transfer": "smpte2084",
                                                  "matrix": "bt2020nc", "range": "tv", "pix_fmt": None,
                                                  "bits": 10}
    assert record["decoding"] == {"matrix": "bt2020nc", "range": "tv", "by": "zscale", "float": True}
    conversion = record["conversion"]
    assert (conversion["from"], conversion["to"], conversion["rendering"]) == ("rec2020_pq", "rec709",
                                                                                 "colorimetric")
    assert [s["filter"] for s in conversion["stages"]] == ["lut1d", "lut3d", "lut1d"]
    assert conversion["accuracy"]["max_10bit_codes"] <= 2.0 and conversion["accuracy"]["in_gamut"] > 1000
    exact = bt1886_encode(light_2020_to_709(pq_decode(source_patch_codes(clips / "pq.mov", BT2020))))
    assert np.abs(_codes_8bit(got - exact)).max() <= 1.0
    assert delta_e_2000_709(got, expected_709_codes()).max() < 1.0
    # Without the conversion the picture would be far off: the test can fail.
    assert delta_e_2000_709(source_patch_codes(clips / "pq.mov", BT2020), expected_709_codes()).max() > 10


def test_hlg_footage_is_converted_as_a_1000_nit_display(clips: Path) -> None:
    got, record = run_conform(clips, "hlg.mov")
    assert record["space"] == "rec2020_hlg" and record["tags"]["pix_fmt"] == "yuv422p10le"
    assert record["conversion"]["accuracy"]["max_10bit_codes"] <= 2.0
    exact = bt1886_encode(light_2020_to_709(hlg_decode(source_patch_codes(clips / "hlg.mov", BT2020))))
    assert np.abs(_codes_8bit(got - exact)).max() <= 1.0
    assert delta_e_2000_709(got, expected_709_codes()).max() < 1.0


def test_tagged_rec709_footage_is_unchanged(clips: Path) -> None:
    got, record = run_conform(clips, "rec709.mp4")
    assert record["space"] == "rec709" and record["space_from"] == "tags" and record["conversion"] is None
    source = source_patch_codes(clips / "rec709.mp4", BT709)
    assert np.abs(_codes_8bit(got - source)).max() <= 0.55  # the decode's rounding only
    decode = decoding(_tags("bt709", "bt709", "bt709", "tv"), "rec709")
    chain = conform.conform_filters({"fps": "24", "resolution": list(SIZE), "frames": FRAMES}, SIZE, decode,
                                    None, "rec709")
    assert not any("lut" in f for f in chain)


def test_declared_space_overrides_an_untagged_clip(clips: Path) -> None:
    stored = np.round(patch_means(chart_picture(bt1886_encode(light_709_to_2020(PATCHES_709_LIGHT)))) * 1023)
    stored = stored / 1023  # the clip's 10-bit RGB codes
    declared, record = run_conform(clips, "untagged.mkv", "rec2020")
    assert record["space"] == "rec2020" and record["space_from"] == "declared in the film"
    assert record["conversion"]["from"] == "rec2020" and record["decoding"]["matrix"] is None
    exact = bt1886_encode(light_2020_to_709(bt1886_decode(stored)))
    assert np.abs(_codes_8bit(declared - exact)).max() <= 1.0
    assert delta_e_2000_709(declared, expected_709_codes()).max() < 1.0
    plain, record = run_conform(clips, "untagged.mkv")
    assert record["space"] == "rec709" and record["space_from"].startswith("untagged")
    assert record["conversion"] is None
    assert np.abs(_codes_8bit(plain - stored)).max() <= 0.55
    assert np.abs(_codes_8bit(plain - declared)).max() > 20  # the declaration changes the picture


def test_hdr_film_takes_pq_footage_as_is_and_converts_rec709(clips: Path) -> None:
    _, record = run_conform(clips, "pq.mov", output="hdr10")
    assert record["conversion"] is None and record["output_space"] == "hdr10"
    got, record = run_conform(clips, "rec709.mp4", output="hdr10")
    assert (record["conversion"]["from"], record["conversion"]["to"]) == ("rec709", "hdr10")
    source = source_patch_codes(clips / "rec709.mp4", BT709)
    exact = pq_encode(light_709_to_2020(bt1886_decode(source)))  # colorimetric: 100% white = 100 nits
    assert np.abs(_codes_8bit(got - exact)).max() <= 1.0


def test_scene_linear_exr_keeps_light_above_one_through_the_aces_output_transform(tmp_path: Path) -> None:
    import PyOpenColorIO as ocio

    light = np.array([[0.18, 0.18, 0.18], [1.5, 1.5, 1.5], [4.0, 2.0, 1.0], [0.05, 0.2, 0.5], [8.0, 8.0, 8.0],
                      [0.02, 0.02, 0.02], [0.6, 0.1, 0.05], [0.3, 0.3, 0.05]])
    picture = chart_picture(light).astype(np.float32)
    raw = np.ascontiguousarray(np.moveaxis(picture[..., [1, 2, 0]], -1, 0)).astype("<f4").tobytes()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gbrpf32le", "-s",
                    f"{SIZE[0]}x{SIZE[1]}", "-i", "-", "-frames:v", "1", "-c:v", "exr", "-compression", "0",
                    str(tmp_path / "render.exr")], input=raw, check=True)
    got, record = run_conform(tmp_path, "render.exr", "acescg")
    assert record["conversion"]["rendering"] == "aces" and record["tags"]["bits"] == 32
    cfg = ocio.Config.CreateFromFile("ocio://studio-config-v2.2.0_aces-v1.3_ocio-v2.4")
    view = ocio.DisplayViewTransform(src="ACEScg", display="Rec.1886 Rec.709 - Display", view="ACES 1.0 - SDR Video")
    exact = light.astype(np.float32).copy()
    cfg.getProcessor(view).getDefaultCPUProcessor().applyRGB(exact)
    assert np.abs(_codes_8bit(got - np.clip(exact, 0, 1))).max() <= 1.0
    assert got[1].mean() < got[4].mean() < 1.0  # 1.5 and 8.0 stay apart: nothing clipped at 1.0 on the way


def test_pq_knee_shaper_runs_the_same_in_ffmpeg_as_in_ocio() -> None:
    """ffmpeg's lut1d ignores a DOMAIN_MAX below 1, so the knee lives in the table, not the domain."""
    found = sources.conversion("rec2020_pq", "rec709")
    assert found is not None and found.bake.shaper is not None and "knee" in found.bake.shaper.name
    chart = validation_chart(found.chain.src)[None]
    ocio_path = apply_bake(chart, found.bake, "ocio")
    ffmpeg_path = apply_bake(chart, found.bake, "ffmpeg")
    assert np.abs(ffmpeg_path - ocio_path).max() * 1023 < 0.05


BAKE_BOUNDS = {"display": 1.5, "log": 7.0, "scene-linear": 16.0}
"""Worst in-gamut chart error, 10-bit codes, by source kind. Measured into rec709: display <= 1.13
(rec2020_pq), log <= 6.0 (arri_logc4), linear <= 15.3 (aces2065_1; the others 2.2): the ACES 1.3
output transform's kinks on saturated colours, which a 97^3 lattice rounds."""


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n in sources.SOURCE_SPACES if n != "rec709"))
def test_every_source_space_bakes_close_to_the_exact_chain(name: str) -> None:
    found = sources.conversion(name, "rec709")
    assert found is not None
    kind = space(sources.SOURCE_SPACES[name]).kind
    assert found.rendering == ("colorimetric" if kind == "display" else "aces")
    assert found.accuracy["max_10bit_codes"] <= BAKE_BOUNDS[kind], found.accuracy
    assert found.accuracy["in_gamut"] >= 0.6 * found.accuracy["chart"]  # most of the chart is measured


def test_swscale_fallback_still_decodes_and_says_so(clips: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conform, "has_zscale", lambda: False)
    got, record = run_conform(clips, "rec709.mp4", tag="-swscale")
    assert record["decoding"]["by"] == "swscale"
    source = source_patch_codes(clips / "rec709.mp4", BT709)
    assert np.abs(_codes_8bit(got - source)).max() <= 2.0  # swscale rounds and scales less exactly


def test_tags_naming_no_space_stop_the_conform_with_advice(tmp_path: Path) -> None:
    codes = chart_picture(pq_encode(PATCHES_709_LIGHT))
    yuv_clip(tmp_path / "odd.mp4", codes, weights=BT709, bits=8, chroma="420", codec=X264_LOSSLESS,
             tags=("bt709", "smpte2084", "bt709"), frames=2)
    with pytest.raises(NodeError, match=r"declare one, e\.g\. `media .* colour rec2020_pq`"):
        run_conform(tmp_path, "odd.mp4")
    _, record = run_conform(tmp_path, "odd.mp4", "rec2020_pq")
    assert record["space_from"] == "declared in the film"


def test_sidecar_names_its_stage_files_and_chain(clips: Path) -> None:
    _, record = run_conform(clips, "pq.mov", tag="-again")
    conversion = record["conversion"]
    assert conversion["config"] == "ocio://studio-config-v2.2.0_aces-v1.3_ocio-v2.4"
    assert conversion["chain"] and conversion["bake_size"] == sources.BAKE_SIZE
    assert space(record["output_space"]).name == "rec709"


# --- a whole build ----------------------------------------------------------------------------------------


def test_build_delivers_pq_footage_in_rec709(tmp_path: Path) -> None:
    from filmc.runtime.build import BuildOptions, build

    pq2020_clip(tmp_path / "pq.mov")
    film = tmp_path / "hdr.film"
    film.write_text('film "HDR footage" {\n  resolution 128x72\n  fps 24\n  export web_mp4\n}\n\n'
                    'location lab "A lab" {\n  look "a lab"\n}\n\n'
                    'scene s at lab, day {\n  shot wide 12f {\n    media "pq.mov"\n  }\n}\n', encoding="utf-8")
    err = io.StringIO()
    outcome = build(BuildOptions(film=film, out=tmp_path / "out", cache=tmp_path / "cache", scale=1.0, json=True),
                    io.StringIO(), err)
    assert outcome.code == 0, err.getvalue()
    delivered = tmp_path / "out" / "hdr_footage.mp4"
    got = source_patch_codes(delivered, BT709)
    exact = bt1886_encode(light_2020_to_709(pq_decode(source_patch_codes(tmp_path / "pq.mov", BT2020))))
    assert np.abs(_codes_8bit(got - exact)).max() <= 2.0
    assert delta_e_2000_709(got, exact).max() < 1.0
    qc = json.loads((tmp_path / "out" / "qc.json").read_text(encoding="utf-8"))
    (footage,) = qc["colour"]["footage"]
    assert footage["space"] == "rec2020_pq" and footage["space_from"] == "tags" and footage["converted"]
    assert 0 < footage["bake_max_10bit_codes"] <= 2.0
    check = next(c for c in qc["picture"]["checks"] if c["name"] == "footage colour s01_001")
    assert check["ok"] and "rec2020_pq -> rec709" in check["detail"]
