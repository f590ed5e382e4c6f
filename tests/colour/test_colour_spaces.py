"""Colour-space conversions against colour-science, name lookup, and the ffmpeg tag table."""

from __future__ import annotations

import subprocess

import av
import numpy as np
import pytest
from filmc.runtime.colour.bake import COLORCHECKER_SRGB8
from filmc.runtime.colour.colorimetry import luminance_weights, rgb_to_xyz_matrix
from filmc.runtime.colour.ffmpeg_filters import ffmpeg_exe
from filmc.runtime.colour.spaces import OUTPUT_SPACES, ColourSpaceError, convert, space
from filmc.runtime.colour.tags import FFMPEG_TAGS, content_light_levels, pq_to_nits, tags_for

D65 = np.array([0.3127, 0.3290])

# filmc output name -> (colour-science linear colourspace, decoding of filmc's code values to display light)
DISPLAYS = {
    "rec709": ("ITU-R BT.709", lambda cs, v: cs.models.eotf_BT1886(v)),
    "srgb": ("sRGB", lambda cs, v: cs.models.eotf_sRGB(v)),
    "rec2020": ("ITU-R BT.2020", lambda cs, v: cs.models.eotf_BT1886(v)),
    "p3d65": ("P3-D65", lambda cs, v: np.maximum(v, 0) ** 2.6),
    "hdr10": ("ITU-R BT.2020", lambda cs, v: cs.models.eotf_ST2084(v) / 100.0),
}


def acescg_test_colours(cs, rng) -> np.ndarray:
    """ColorChecker, greys and random colours, as ACEScg (via colour-science, not filmc)."""
    srgb = np.concatenate(
        [COLORCHECKER_SRGB8 / 255.0, np.linspace(0.02, 1, 12)[:, None].repeat(3, 1), rng.random((400, 3))]
    )
    lin709 = cs.models.eotf_sRGB(srgb)
    return cs.RGB_to_RGB(lin709, "ITU-R BT.709", "ACEScg", chromatic_adaptation_transform="Bradford")


@pytest.mark.parametrize("dst", list(DISPLAYS))
def test_acescg_to_display_matches_colour_science(cs, rng, dst):
    name, decode = DISPLAYS[dst]
    colours = acescg_test_colours(cs, rng) * (1.0 if dst != "hdr10" else 3.0)
    expected_linear = cs.RGB_to_RGB(colours, "ACEScg", name, chromatic_adaptation_transform="Bradford")
    inside = np.all((expected_linear >= 0) & (expected_linear <= (1.0 if dst != "hdr10" else 100.0)), axis=1)
    assert inside.sum() >= 200
    ours = convert(colours[inside].astype(np.float32), "ACEScg", dst).astype(np.float64)
    got_linear = decode(cs, ours)
    white = cs.xy_to_XYZ(D65)
    lab_expected = cs.XYZ_to_Lab(cs.RGB_to_XYZ(expected_linear[inside], name) / white[1], D65)
    lab_got = cs.XYZ_to_Lab(cs.RGB_to_XYZ(got_linear, name) / white[1], D65)
    delta = cs.delta_E(lab_expected, lab_got, method="CIE 2000")
    assert delta.max() < 0.5, f"{dst}: max ΔE2000 {delta.max():.3f}"


def test_acescct_and_aces2065_match_colour_science(cs, rng):
    lin = rng.random((500, 3)) * 40 - 0.005
    ours = convert(lin.astype(np.float32), "ACEScg", "ACEScct")
    np.testing.assert_allclose(ours, cs.models.log_encoding_ACEScct(lin), atol=2e-5)
    ap0 = convert(lin.astype(np.float32), "ACEScg", "ACES2065-1")
    expected = cs.RGB_to_RGB(lin, "ACEScg", "ACES2065-1", chromatic_adaptation_transform=None)
    np.testing.assert_allclose(ap0, expected, rtol=1e-4, atol=1e-5)


def test_primaries_and_luminance_weights_match_colour_science(cs):
    for ours, theirs in [
        ("AP1", "ACEScg"),
        ("AP0", "ACES2065-1"),
        ("rec709", "ITU-R BT.709"),
        ("rec2020", "ITU-R BT.2020"),
    ]:
        np.testing.assert_allclose(
            rgb_to_xyz_matrix(ours), cs.RGB_COLOURSPACES[theirs].matrix_RGB_to_XYZ, atol=2e-4
        )
    np.testing.assert_allclose(
        luminance_weights("AP1"), [0.2722287168, 0.6740817658, 0.0536895174], atol=1e-7
    )


def test_names_are_forgiving_and_unknown_names_are_explained():
    assert space("acescg").name == "ACEScg"
    assert space("Rec.709").name == "rec709"
    assert space("sRGB").name == "srgb"
    assert space("ACES2065-1").name == "ACES2065-1"
    assert space("P3-D65").name == "p3d65"
    with pytest.raises(ColourSpaceError, match="unknown colour space 'rec601'.*known: ACEScg"):
        space("rec601")


def test_aces_rendering_round_trips_display_colours():
    srgb = (COLORCHECKER_SRGB8 / 255.0).astype(np.float32)
    scene = convert(srgb, "srgb", "ACEScg", rendering="aces")
    back = convert(scene, "ACEScg", "srgb", rendering="aces")
    assert np.abs(back - srgb).max() < 4e-3  # about one 8-bit code: the ACES 1.x inverse is not exact
    # The ACES view is a tone map: mid grey renders darker than a colorimetric encode, white stays below 1.
    grey = np.array([[0.18, 0.18, 0.18]], dtype=np.float32)
    assert convert(grey, "ACEScg", "rec709", rendering="aces")[0, 0] < convert(grey, "ACEScg", "rec709")[0, 0]
    assert convert(np.ones((1, 3), np.float32), "ACEScg", "rec709", rendering="aces")[0, 0] < 0.9


def _encode_with_tags(tmp_path, output: str) -> dict:
    tags = tags_for(output)
    out = tmp_path / f"{output}.mkv"
    codec = ["-c:v", "libx264", "-preset", "ultrafast"] if output != "hdr10" else [
        "-c:v", "libx265", "-preset", "ultrafast",
        "-x265-params", f"log-level=error:master-display={tags.mastering_display.x265()}:max-cll=1000,400",
    ]  # fmt: skip
    pix = "yuv420p" if tags.min_bit_depth == 8 else "yuv420p10le"
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=64x64:d=0.1:r=10",
        "-vf", f"format=gbrp,{tags.filter_tail()},format={pix}", *codec, *tags.output_args(), str(out),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    with av.open(str(out)) as f:
        ctx = f.streams.video[0].codec_context
        return {
            "primaries": ctx.color_primaries,
            "trc": ctx.color_trc,
            "matrix": ctx.colorspace,
            "range": ctx.color_range,
        }


# H.273 code points: what each ffmpeg name must come out as in the file.
H273 = {
    "rec709": {"primaries": 1, "trc": 1, "matrix": 1, "range": 1},
    "srgb": {"primaries": 1, "trc": 13, "matrix": 1, "range": 1},
    "rec2020": {"primaries": 9, "trc": 14, "matrix": 9, "range": 1},
    "p3d65": {"primaries": 12, "trc": 17, "matrix": 1, "range": 1},
    "hdr10": {"primaries": 9, "trc": 16, "matrix": 9, "range": 1},
}


@pytest.mark.parametrize("output", OUTPUT_SPACES)
def test_tag_table_survives_an_encode(tmp_path, output):
    assert _encode_with_tags(tmp_path, output) == H273[output]


def test_hdr10_metadata_values(cs):
    md = FFMPEG_TAGS["hdr10"].mastering_display
    assert md.x265() == "G(8500,39850)B(6550,2300)R(35400,14600)WP(15635,16450)L(10000000,1)"
    assert md.svtav1() == "G(0.17,0.797)B(0.131,0.046)R(0.708,0.292)WP(0.3127,0.329)L(1000,0.0001)"
    assert pq_to_nits(np.array(1.0)) == pytest.approx(10000.0)
    frame = np.zeros((4, 4, 3))
    frame[0, :2] = cs.models.eotf_inverse_ST2084(1000.0)
    cll, fall = content_light_levels(frame)
    assert (cll, fall) == (1000, 125)
