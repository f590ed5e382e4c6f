"""Grade operators and the exact chain: each operator does what its documentation says, in its space."""

from __future__ import annotations

import numpy as np
import pytest
from filmc.runtime.colour.chain import build_chain
from filmc.runtime.colour.colorimetry import lin_to_acescct, rgb_to_xyz_matrix
from filmc.runtime.colour.cube import apply_cube
from filmc.runtime.colour.grade import (
    Grade,
    GradeError,
    planckian_xy,
    white_balance_matrix,
    white_balance_target,
)
from filmc.runtime.colour.library import resolve_lut
from filmc.runtime.colour.spaces import convert


def linear_chain(grade: Grade, src: str = "ACEScg", dst: str = "ACEScg"):
    return build_chain(grade, src, dst, rendering="colorimetric")


@pytest.mark.parametrize(
    ("field", "value"),
    [("strength", 1.5), ("exposure", 20), ("contrast", 0), ("pivot", 0), ("saturation", -1), ("temperature", 101),
     ("tint", -150), ("exposure", float("nan"))],
)  # fmt: skip
def test_out_of_range_values_are_refused_with_the_range(field, value):
    with pytest.raises(GradeError, match=f"grade {field} must be a number within"):
        Grade(**{field: value})


def test_neutral_grade_is_the_identity(rng):
    img = rng.random((16, 16, 3), dtype=np.float32) * 4
    np.testing.assert_allclose(linear_chain(Grade()).apply(img), img, rtol=1e-6, atol=1e-7)
    srgb = rng.random((16, 16, 3), dtype=np.float32)
    np.testing.assert_allclose(
        build_chain(None, "srgb", "srgb", rendering="colorimetric").apply(srgb), srgb, atol=2e-6
    )


def test_exposure_is_a_gain_in_stops(rng):
    img = rng.random((8, 8, 3), dtype=np.float32)
    np.testing.assert_allclose(linear_chain(Grade(exposure=1.5)).apply(img), img * 2**1.5, rtol=1e-5)


def test_contrast_is_a_slope_in_acescct_around_the_pivot(cs, rng):
    pivot = 0.25
    lin = (rng.random((200, 3)) * 8 + 0.01).astype(np.float32)
    out = linear_chain(Grade(contrast=1.4, pivot=pivot)).apply(lin)
    cct_in = cs.models.log_encoding_ACEScct(lin.astype(np.float64))
    cct_out = cs.models.log_encoding_ACEScct(out.astype(np.float64))
    p = cs.models.log_encoding_ACEScct(pivot)
    np.testing.assert_allclose(cct_out - p, 1.4 * (cct_in - p), atol=3e-5)
    grey = np.full((1, 3), pivot, np.float32)
    np.testing.assert_allclose(linear_chain(Grade(contrast=0.6, pivot=pivot)).apply(grey), grey, rtol=5e-5)


def test_saturation_keeps_luminance_and_zero_is_monochrome(cs, rng):
    lin = rng.random((100, 3)).astype(np.float32)
    luminance = cs.RGB_luminance(lin, *_acescg_primaries(cs))
    mono = linear_chain(Grade(saturation=0.0)).apply(lin)
    assert np.ptp(mono, axis=1).max() < 1e-6
    np.testing.assert_allclose(mono[:, 0], luminance, rtol=1e-5, atol=1e-7)
    vivid = linear_chain(Grade(saturation=1.5)).apply(lin)
    np.testing.assert_allclose(
        cs.RGB_luminance(vivid, *_acescg_primaries(cs)), luminance, rtol=1e-4, atol=1e-6
    )
    chroma_in, chroma_out = np.ptp(lin, axis=1), np.ptp(vivid, axis=1)
    np.testing.assert_allclose(chroma_out, 1.5 * chroma_in, rtol=1e-4, atol=1e-6)


def _acescg_primaries(cs):
    space = cs.RGB_COLOURSPACES["ACEScg"]
    return space.primaries, space.whitepoint


def test_planckian_locus_matches_colour_science(cs):
    for cct in (2000, 3939, 5000, 6500, 10000, 18570):
        np.testing.assert_allclose(planckian_xy(cct), cs.temperature.CCT_to_xy_Kang2002(cct), atol=1e-9)


@pytest.mark.parametrize(
    ("temperature", "tint"), [(100, 0), (-100, 0), (40, 0), (0, 100), (0, -100), (-30, 50)]
)
def test_white_balance_targets_follow_the_documented_mapping(cs, temperature, tint):
    uv = cs.xy_to_UCS_uv(np.array(white_balance_target(temperature, tint)))
    cct, duv = cs.temperature.uv_to_CCT(uv, method="Ohno 2013")
    assert 1e6 / cct == pytest.approx(1e6 / 6500 + temperature, abs=0.5)  # one mired per unit
    assert duv == pytest.approx(-0.0002 * tint, abs=3e-4)


def test_white_balance_warms_cools_and_keeps_grey_luminance():
    grey = np.full(3, 0.18)
    weights = rgb_to_xyz_matrix("AP1")[1]
    warm = white_balance_matrix(50, 0) @ grey
    cool = white_balance_matrix(-50, 0) @ grey
    assert warm[0] > warm[2] and cool[2] > cool[0]
    magenta, green = white_balance_matrix(0, 60) @ grey, white_balance_matrix(0, -60) @ grey
    assert magenta[1] < min(magenta[0], magenta[2]) and green[1] > max(green[0], green[2])
    for rgb in (warm, cool, magenta, green):
        assert weights @ rgb == pytest.approx(0.18, rel=1e-9)
    np.testing.assert_array_equal(white_balance_matrix(0, 0), np.eye(3))


def test_lut_runs_in_acescct_and_strength_blends_there(rng):
    lin = (rng.random((64, 3)) * 2).astype(np.float32)
    lut = resolve_lut("std.teal_orange")
    full = linear_chain(Grade(lut="std.teal_orange")).apply(lin)
    expected = convert(apply_cube(convert(lin, "ACEScg", "ACEScct"), lut), "ACEScct", "ACEScg")
    np.testing.assert_allclose(full, expected, rtol=1e-4, atol=1e-6)
    half = linear_chain(Grade(lut="std.teal_orange", strength=0.5)).apply(lin)
    cct = convert(lin, "ACEScg", "ACEScct")
    blend = cct + 0.5 * (apply_cube(cct, lut) - cct)
    np.testing.assert_allclose(half, convert(blend, "ACEScct", "ACEScg"), rtol=1e-4, atol=1e-6)


def test_operator_order_and_description():
    grade = Grade(lut="std.noir", strength=0.8, exposure=0.5, contrast=1.2, saturation=0.9, temperature=10)
    chain = build_chain(grade, "srgb", "rec709")
    steps = chain.describe()
    assert steps[0].startswith("srgb -> ACEScg (aces)")
    assert "LUT noir.cube at 80%" in steps
    assert steps[-1].endswith("ACEScg -> rec709 (aces)")
    grey = np.full((1, 3), 0.18, np.float32)
    ops = linear_chain(Grade(exposure=1.0, contrast=2.0, pivot=0.36))
    # Exposure runs before contrast: 0.18 becomes 0.36, the pivot, which contrast leaves alone.
    np.testing.assert_allclose(ops.apply(grey), grey * 2, rtol=5e-5)


def test_signature_changes_with_anything_that_changes_pixels():
    base = build_chain(Grade(exposure=0.5), "srgb", "rec709")
    same = build_chain(Grade(exposure=0.5), "srgb", "rec709")
    assert base.signature() == same.signature()
    for other in (
        build_chain(Grade(exposure=0.6), "srgb", "rec709"),
        build_chain(Grade(exposure=0.5), "srgb", "srgb"),
        build_chain(Grade(exposure=0.5), "srgb", "rec709", rendering="colorimetric"),
        build_chain(Grade(exposure=0.5, lut="std.warm"), "srgb", "rec709"),
    ):
        assert other.signature() != base.signature()


def test_display_working_space_is_refused():
    with pytest.raises(GradeError, match="working space must be scene-referred"):
        build_chain(Grade(), "srgb", "rec709", working="rec709")


def test_acescct_working_space_grades_in_acescg_and_pivot_is_scene_linear():
    grade = Grade(contrast=1.5)
    a = build_chain(grade, "ACEScg", "ACEScg", working="ACEScct", rendering="colorimetric")
    grey = np.full((1, 3), 0.18, np.float32)
    np.testing.assert_allclose(a.apply(grey), grey, rtol=5e-5)
    assert float(lin_to_acescct(0.18)) == pytest.approx(0.4135884, abs=1e-6)
