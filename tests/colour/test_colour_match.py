"""ΔE2000 and shot matching, checked against colour-science."""

from __future__ import annotations

import numpy as np
import pytest
from filmc.runtime.colour.chain import build_chain
from filmc.runtime.colour.colorimetry import ACES_WHITE
from filmc.runtime.colour.cube import apply_cube
from filmc.runtime.colour.delta_e import delta_e_2000
from filmc.runtime.colour.grade import Grade, white_balance_matrix
from filmc.runtime.colour.match import match_scene, working_to_lab
from filmc.runtime.colour.spaces import convert

# Sharma, Wu & Dalal (2005), Table 1: pairs 1, 7, 13, 17, 19, 25, 31 and 34 with their ΔE00.
SHARMA = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def test_delta_e_2000_matches_sharma_and_colour_science(cs, rng):
    for lab1, lab2, expected in SHARMA:
        assert delta_e_2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)
        assert delta_e_2000(np.array(lab2), np.array(lab1)) == pytest.approx(expected, abs=1e-4)
    a = np.column_stack([rng.uniform(0, 100, 5000), rng.uniform(-100, 100, (5000, 2))])
    b = a + rng.normal(0, 8, a.shape)
    b[:50, 1:] = -a[:50, 1:]  # opposite hues: the hue-wrap branches
    b[50:60, 1:] = 0.0  # achromatic partners
    np.testing.assert_allclose(delta_e_2000(a, b), cs.delta_E(a, b, method="CIE 2000"), atol=1e-9)


def test_lab_of_the_working_space_matches_colour_science(cs, rng):
    lin = rng.random((500, 3)) * 3
    ours = working_to_lab(lin, "ACEScg")
    xyz = cs.RGB_to_XYZ(lin, "ACEScg", illuminant=None)
    np.testing.assert_allclose(ours, cs.XYZ_to_Lab(xyz, np.array(ACES_WHITE)), atol=1e-6)


def synthetic_shot(seed: int, pan: int, h: int = 90, w: int = 160) -> np.ndarray:
    """A scene-linear frame: a gradient set, coloured discs, noise and a few specular outliers."""
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    img = np.stack([0.05 + 0.3 * x, 0.08 + 0.25 * y, 0.1 + 0.2 * (1 - x)], -1)
    for _ in range(12):
        cx, cy, size = r.random(3)
        m = (x - cx) ** 2 + (y - cy) ** 2 < (0.05 + 0.1 * size) ** 2
        img[m] = r.random(3) * 0.6
    img = np.roll(img, pan, axis=1) + r.normal(0, 0.01, img.shape)
    img[r.random((h, w)) < 0.002] = 20.0
    return np.maximum(img, 0).astype(np.float32)


# (content seed, pan, temperature, tint, exposure): shots of one scene, deliberately tinted apart.
SHOTS = {
    "s01_001": (0, 0, 0, 0, 1.0),
    "s01_002": (1, 40, 40, 10, 0.7),
    "s01_003": (0, 80, -50, -20, 1.5),
    "s01_004": (1, 120, 25, 30, 1.0),
    "s01_005": (0, 30, -20, 40, 0.5),
}


@pytest.fixture(scope="module")
def scene():
    shots = {}
    for name, (seed, pan, temperature, tint, exposure) in SHOTS.items():
        frames = np.stack([synthetic_shot(seed, pan + 5 * f) for f in range(3)])
        shots[name] = (frames @ white_balance_matrix(temperature, tint).T * exposure).astype(np.float32)
    return shots


def mean_lab_reference(cs, frames: np.ndarray) -> np.ndarray:
    """Mean L*a*b* of a scene-linear ACEScg shot, computed with colour-science."""
    xyz = cs.RGB_to_XYZ(frames.reshape(-1, 3).astype(np.float64), "ACEScg", illuminant=None)
    return cs.XYZ_to_Lab(xyz, np.array(ACES_WHITE)).mean(axis=0)


def test_matching_brings_every_shot_within_3_delta_e(cs, scene):
    results = match_scene(scene, "s01_001")
    reference = mean_lab_reference(cs, scene["s01_001"])
    for name, result in results.items():
        before = cs.delta_E(mean_lab_reference(cs, scene[name]), reference, method="CIE 2000")
        after = cs.delta_E(
            mean_lab_reference(cs, result.correction.apply(scene[name])), reference, method="CIE 2000"
        )
        if name == "s01_001":
            assert before == 0 and after < 1e-3
            continue
        assert before > 10.0, f"{name} was not tinted apart ({before:.2f})"
        assert after <= 3.0, f"{name}: ΔE00 {before:.2f} -> {after:.2f}"
        # The QC numbers the runtime reports agree with the independent measurement.
        assert result.delta_e_before == pytest.approx(before, abs=0.05)
        assert result.delta_e_after == pytest.approx(after, abs=0.05)


def test_outliers_do_not_steer_the_match(scene):
    shot = scene["s01_003"]
    spiky = shot.copy()
    spiky[:, :4, :4] = 500.0  # a bright lamp in a corner
    plain = match_scene({"ref": scene["s01_001"], "shot": shot}, "ref")["shot"].correction
    lamp = match_scene({"ref": scene["s01_001"], "shot": spiky}, "ref")["shot"].correction
    np.testing.assert_allclose(lamp.source_mean, plain.source_mean, atol=0.2)
    np.testing.assert_allclose(lamp.scale, plain.scale, atol=0.02)


def test_correction_as_a_lut_and_inside_a_chain(scene, tmp_path):
    correction = match_scene(scene, "s01_001")["s01_003"].correction
    lin = scene["s01_003"][0, ::9, ::9]
    direct = correction.apply(lin)
    cube = correction.to_cube(tmp_path / "match.cube", size=33)
    via_lut = convert(apply_cube(convert(lin, "ACEScg", "ACEScct"), cube), "ACEScct", "ACEScg")
    keep = lin.max(axis=-1) < 10  # leave the specular outliers (beyond the lattice's fine range) aside
    np.testing.assert_allclose(via_lut[keep], direct[keep], rtol=0.02, atol=2e-3)
    chain = build_chain(Grade(exposure=0.5), "ACEScg", "ACEScg", rendering="colorimetric", match=correction)
    assert chain.describe()[1] == "shot match"
    np.testing.assert_allclose(chain.apply(lin), direct * 2**0.5, rtol=1e-4, atol=1e-6)
    assert (
        chain.signature()
        != build_chain(Grade(exposure=0.5), "ACEScg", "ACEScg", rendering="colorimetric").signature()
    )


def test_unknown_reference_is_explained(scene):
    with pytest.raises(KeyError, match="reference shot 's09_001' is not among the scene's shots"):
        match_scene(scene, "s09_001")


def test_a_reference_summarised_once_matches_like_its_pixels(scene):
    """Grading keeps a scene reference's lab_stats for every shot matched to it: the same correction
    and QC numbers, to the bit, as matching against its pixels."""
    from filmc.runtime.colour.match import lab_stats, match_shot

    stats = lab_stats(scene["s01_001"], "ACEScg")
    for name in ("s01_002", "s01_003"):
        plain = match_shot(scene[name], scene["s01_001"], shot=name)
        summarised = match_shot(scene[name], stats, shot=name)
        assert summarised == plain
