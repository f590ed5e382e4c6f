"""The standard LUT library: complete, loadable, non-trivial, and reproduced byte for byte by its script."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from filmc.runtime.colour.cube import LutError, identity_table, read_cube
from filmc.runtime.colour.library import STDLIB_LUT_DIR, resolve_lut, stdlib_luts

NAMES = [
    "neutral", "warm", "cold", "noir", "noir_red", "bleach_bypass", "teal_orange", "day_for_night", "sepia",
    "cross_process", "high_key", "low_key", "film_negative", "film_print", "documentary", "vivid", "scifi_cyan",
    "horror_green", "golden_hour", "moonlight", "faded_vintage",
]  # fmt: skip


def test_every_standard_name_has_a_lut_and_an_index_entry():
    index = stdlib_luts()
    assert set(NAMES) <= set(index)
    assert sorted(p.stem for p in STDLIB_LUT_DIR.glob("*.cube")) == sorted(index)
    for name in NAMES:
        assert index[name]["description"] and index[name]["space"] == "ACEScct"
        assert read_cube(STDLIB_LUT_DIR / f"{name}.cube").size == index[name]["size"]


@pytest.mark.parametrize("name", NAMES)
def test_luts_load_and_only_neutral_is_the_identity(name):
    cube = read_cube(resolve_lut(f"std.{name}"))
    assert cube.is_3d and np.all(np.isfinite(cube.table))
    change = np.abs(cube.table - identity_table(cube.size)).max()
    if name == "neutral":
        assert change == 0.0
    else:
        assert change > 0.05, f"{name} barely changes anything ({change:.4f})"


def test_black_and_white_looks_are_neutral_and_red_filter_differs():
    noir = read_cube(resolve_lut("noir")).table
    red = read_cube(resolve_lut("noir_red")).table
    for table in (noir, red):
        assert np.ptp(table, axis=-1).max() < 2e-4  # R = G = B everywhere
    # A red filter renders a pure-blue input darker and a pure-red input lighter than the neutral mix.
    blue, redc = (8, 8, 24), (24, 8, 8)
    assert red[blue][0] < noir[blue][0]
    assert red[redc][0] > noir[redc][0]


def test_regeneration_reproduces_every_file_exactly(tmp_path):
    script = STDLIB_LUT_DIR / "generate.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    committed = sorted(p.name for p in STDLIB_LUT_DIR.iterdir() if p.suffix in (".cube", ".json"))
    assert sorted(p.name for p in tmp_path.iterdir()) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (STDLIB_LUT_DIR / name).read_bytes(), name
    assert json.loads((tmp_path / "luts.json").read_text())["neutral"]["size"] == 33


def test_resolving_names_and_paths(tmp_path):
    assert resolve_lut("std.teal_orange") == STDLIB_LUT_DIR / "teal_orange.cube"
    assert resolve_lut("teal_orange") == STDLIB_LUT_DIR / "teal_orange.cube"
    with pytest.raises(LutError, match="no standard LUT named 'teal_purple'.*teal_orange"):
        resolve_lut("std.teal_purple")
    own = tmp_path / "looks" / "mine.cube"
    own.parent.mkdir()
    own.write_text((STDLIB_LUT_DIR / "neutral.cube").read_text())
    assert resolve_lut("looks/mine.cube", base_dir=tmp_path) == own
    with pytest.raises(LutError, match="LUT file not found"):
        resolve_lut("looks/other.cube", base_dir=tmp_path)
