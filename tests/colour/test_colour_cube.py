"""`.cube` reading, writing and applying: strict errors, round trips, and agreement with ffmpeg."""

from __future__ import annotations

import numpy as np
import pytest
from filmc.runtime.colour.cube import (
    Cube,
    LutError,
    apply_cube,
    apply_cube_numpy,
    identity_table,
    parse_cube,
    read_cube,
    write_cube,
)
from filmc.runtime.colour.ffmpeg_filters import filter_path, lut1d_filter, lut3d_filter, run_filter


def wavy_table(size: int) -> np.ndarray:
    """A smooth, clearly non-identity 3D LUT with cross-talk between channels."""
    x = identity_table(size)
    return np.clip(x**1.4 + 0.08 * np.sin(6.0 * x[..., [1, 2, 0]]) - 0.03 * x[..., [2, 0, 1]], 0.0, 1.1)


def sample_image(rng, h: int = 48, w: int = 80) -> np.ndarray:
    img = rng.random((h, w, 3), dtype=np.float32)
    img[0, :8] = [
        [0, 0, 0],
        [1, 1, 1],
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0.5, 0.5, 0.5],
        [1, 1, 0],
        [0, 1, 1],
    ]
    return img


@pytest.mark.parametrize("size", [2, 17, 33])
def test_write_read_round_trip(tmp_path, size):
    cube = Cube(wavy_table(size), title="wavy", comments=("first", "second"))
    path = write_cube(tmp_path / "w.cube", cube)
    back = read_cube(path)
    assert back.size == size and back.is_3d and back.title == "wavy"
    assert back.comments == ("first", "second")
    np.testing.assert_allclose(back.table, cube.table, atol=5e-7)


def test_file_order_is_red_fastest():
    text = "LUT_3D_SIZE 2\n" + "".join(f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1))
    cube = parse_cube(text)
    np.testing.assert_array_equal(cube.table, identity_table(2))


def test_domain_and_1d(tmp_path):
    t = np.linspace(0.0, 1.0, 64) ** 0.5
    cube = Cube(np.stack([t, t * 0.9, t * 0.8], -1), domain_max=(4.0, 4.0, 4.0))
    back = read_cube(write_cube(tmp_path / "s.cube", cube))
    assert not back.is_3d and back.size == 64 and back.domain_max == (4.0, 4.0, 4.0)


def test_apply_matches_ffmpeg_lut3d_tetrahedral(tmp_path, rng):
    path = write_cube(tmp_path / "dir with space, colon:" / "wavy.cube", Cube(wavy_table(17)))
    img = sample_image(rng)
    ours = apply_cube(img, path)
    theirs_float = run_filter(img, lut3d_filter(path), "gbrpf32le")
    theirs_16bit = run_filter(img, lut3d_filter(path), "rgb48le")
    assert np.abs(ours - theirs_float).max() <= 1.0 / 255.0
    assert np.abs(np.clip(ours, 0, 1) - theirs_16bit).max() <= 1.0 / 255.0
    # In float the two are the same interpolation: agreement is far tighter than the requirement.
    assert np.abs(ours - theirs_float).max() < 1e-5
    np.testing.assert_allclose(apply_cube_numpy(img, read_cube(path)), ours, atol=1e-5)


def test_apply_1d_matches_ffmpeg_lut1d(tmp_path, rng):
    t = np.linspace(0.0, 1.0, 1024)
    path = write_cube(
        tmp_path / "curve.cube", Cube(np.stack([t**0.45, t**0.5, t**0.55], -1), domain_max=(2.0,) * 3)
    )
    img = sample_image(rng) * 2.2
    ours = apply_cube(img, path)
    assert np.abs(ours - run_filter(img, lut1d_filter(path), "gbrpf32le")).max() < 1e-5
    np.testing.assert_allclose(apply_cube_numpy(img, read_cube(path)), ours, atol=1e-5)


def test_strength_blends_with_the_ungraded_image(tmp_path, rng):
    path = write_cube(tmp_path / "wavy.cube", Cube(wavy_table(9)))
    img = sample_image(rng)
    full = apply_cube(img, path)
    np.testing.assert_array_equal(apply_cube(img, path, 0.0), img)
    np.testing.assert_allclose(apply_cube(img, path, 0.3), img + 0.3 * (full - img), atol=1e-6)
    with pytest.raises(ValueError, match="strength"):
        apply_cube(img, path, 1.5)


def test_filter_path_escapes_filtergraph_specials(tmp_path):
    escaped = filter_path(tmp_path / "a:b,c[d];e'f.cube")
    for special in (":", ",", "[", "]", ";", "'"):
        assert f"\\{special}" in escaped


GOOD_HEAD = 'TITLE "ok"\nLUT_3D_SIZE 2\n'
ROWS = "".join(f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1))

BROKEN = [
    ("", None, "no LUT_3D_SIZE or LUT_1D_SIZE"),
    ("# only a comment\n", None, "no LUT_3D_SIZE"),
    ("LUT_3D_SIZE 2\n", 1, "no table data"),
    ("0 0 0\n", 1, "table data before LUT_3D_SIZE"),
    ("LUT_3D_SIZE two\n" + ROWS, 1, "must be a whole number"),
    ("LUT_3D_SIZE 300\n" + ROWS, 1, "out of range"),
    ("LUT_3D_SIZE 1\n0 0 0\n", 1, "out of range"),
    ("TITLE unquoted\nLUT_3D_SIZE 2\n" + ROWS, 1, "double quotes"),
    ('TITLE "a"\nTITLE "b"\nLUT_3D_SIZE 2\n' + ROWS, 2, "given twice"),
    (GOOD_HEAD + "LUT_3D_INPUT_RANGE 0 1\n" + ROWS, 3, "Resolve extension"),
    (GOOD_HEAD + "FOO 1\n" + ROWS, 3, "unknown keyword 'FOO'"),
    (GOOD_HEAD + "0 0\n" + ROWS, 3, "needs 3 numbers, found 2"),
    (GOOD_HEAD + "0 0 x\n" + ROWS, 3, "not a number"),
    (GOOD_HEAD + "0 0 nan\n" + ROWS, 3, "non-finite"),
    (GOOD_HEAD + "0 0 0 # red\n" + ROWS, 3, "comments must be on their own line"),
    (GOOD_HEAD + ROWS[:-6], 9, "table has 7 rows, the LUT size calls for 8"),
    (GOOD_HEAD + ROWS + "1 1 1\n", 11, "more table rows than the 8"),
    (GOOD_HEAD + ROWS[:6] + "DOMAIN_MIN 0 0 0\n" + ROWS[6:], 4, "after the table data started"),
    ("LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 0 1\n" + ROWS, 3, "must be below DOMAIN_MAX"),
    ("LUT_1D_SIZE 2\nLUT_3D_SIZE 2\n" + ROWS, 3, "a .cube file holds one table"),
]


@pytest.mark.parametrize(("text", "line", "message"), BROKEN)
def test_broken_luts_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "broken.cube"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LutError) as info:
        read_cube(path)
    err = info.value
    assert err.line == line
    assert message in err.message
    where = f"{path.resolve()}:{line}" if line is not None else str(path.resolve())
    assert str(err).startswith(where + ": ")


def test_binary_and_missing_files(tmp_path):
    binary = tmp_path / "bin.cube"
    binary.write_bytes(b"LUT_3D_SIZE 2\n\xff\xfe\x00\n")
    with pytest.raises(LutError, match=r"bin\.cube:2: not a text file") as info:
        read_cube(binary)
    assert info.value.line == 2
    with pytest.raises(LutError, match="cannot read LUT"):
        read_cube(tmp_path / "missing.cube")


def test_a_fixed_file_is_reread(tmp_path):
    path = tmp_path / "fix.cube"
    path.write_text(GOOD_HEAD + ROWS[:-6], encoding="utf-8")
    with pytest.raises(LutError):
        read_cube(path)
    path.write_text(GOOD_HEAD + ROWS + "# trailing comment\n", encoding="utf-8")
    assert read_cube(path).size == 2


def test_an_edited_lut_is_applied_as_edited(tmp_path, rng):
    path = tmp_path / "edit.cube"
    img = sample_image(rng, 4, 8)
    write_cube(path, Cube(identity_table(5)))
    np.testing.assert_allclose(apply_cube(img, path), img, atol=1e-6)
    write_cube(path, Cube(identity_table(5) * 0.5))
    np.testing.assert_allclose(apply_cube(img, path), img * 0.5, atol=1e-6)


def _reference_text(cube: Cube, decimals: int) -> str:
    """The `.cube` text as one "%.{decimals}f" per value writes it: the format the fast writer must match."""
    head = [f'TITLE "{cube.title}"'] if cube.title is not None else []
    head += [f"# {c}".rstrip() for c in cube.comments]
    head.append(f"{'LUT_3D_SIZE' if cube.is_3d else 'LUT_1D_SIZE'} {cube.size}")
    if cube.domain_min != (0.0, 0.0, 0.0) or cube.domain_max != (1.0, 1.0, 1.0):
        head.append("DOMAIN_MIN " + " ".join(f"{v:.{decimals}f}" for v in cube.domain_min))
        head.append("DOMAIN_MAX " + " ".join(f"{v:.{decimals}f}" for v in cube.domain_max))
    rows = cube.table.transpose(2, 1, 0, 3).reshape(-1, 3) if cube.is_3d else cube.table
    body = "".join(" ".join(f"{v + 0.0:.{decimals}f}" for v in np.round(row, decimals)) + "\n" for row in rows)
    return "\n".join(head) + "\n" + body


EDGE_ROWS = np.array([[-1e-9, 0.0, -0.0], [5e-8, -5e-8, 1.5e-7], [0.99999995, 1e-7, 123456.7],
                      [-2.5e-7, 9.9999999, -10.0]])


@pytest.mark.parametrize("decimals", [0, 1, 6, 7, 8, 9, 12])
def test_written_text_is_what_printf_writes(tmp_path, rng, decimals):
    cubes = [Cube(rng.normal(0.0, 3.0, (5, 5, 5, 3)), title="n", comments=("a", " b ", "")),
             Cube(np.concatenate([EDGE_ROWS, rng.normal(0.0, 1e5, (60, 3))]), domain_min=(-1.0, 0.0, 0.0)),
             Cube(np.clip(wavy_table(9), 0.0, 1.0)),
             Cube(rng.normal(0.0, 1e12, (8, 3)))]
    for i, cube in enumerate(cubes):
        path = write_cube(tmp_path / f"c{i}.cube", cube, decimals)
        assert path.read_text(encoding="utf-8") == _reference_text(cube, decimals)


@pytest.mark.parametrize("decimals", [6, 7, 9])
def test_reading_back_a_written_cube_equals_parsing_its_text(tmp_path, rng, decimals):
    """write_cube remembers the table it wrote; it must be bit for bit what parsing the file gives."""
    cube = Cube(np.concatenate([EDGE_ROWS[:2], rng.normal(0.0, 2.0, (300, 3))]), comments=("x",))
    for i, c in enumerate([cube, Cube(wavy_table(7), title="w")]):
        path = write_cube(tmp_path / f"r{i}.cube", c, decimals)
        remembered = read_cube(path)
        parsed = parse_cube(path.read_text(encoding="utf-8"), path)
        assert remembered.table.tobytes() == parsed.table.tobytes()
        assert (remembered.title, remembered.comments, remembered.domain_max) == (
            parsed.title, parsed.comments, parsed.domain_max)


def test_a_written_cube_changed_on_disk_is_reparsed(tmp_path):
    path = write_cube(tmp_path / "x.cube", Cube(identity_table(2)))
    assert read_cube(path).table.max() == 1.0
    path.write_text(GOOD_HEAD + ROWS.replace("1 1 1", "0.5 0.5 0.5"), encoding="utf-8")
    assert read_cube(path).table[1, 1, 1].tolist() == [0.5, 0.5, 0.5]


def test_bulk_and_line_by_line_reading_agree(tmp_path, rng):
    """Tables with blank lines, tabs, CRLF or comments go through other readers; the values are the same."""
    values = rng.normal(0.0, 1.0, (8, 3))
    plain = "".join(" ".join(repr(float(v)) for v in row) + "\n" for row in values)
    spaced = "".join("\t".join(repr(float(v)) for v in row) + "\r\n\n" for row in values)
    commented = "# table\n" + plain
    tables = [parse_cube(GOOD_HEAD + body).table for body in (plain, spaced, commented)]
    for t in tables[1:]:
        assert t.tobytes() == tables[0].tobytes()
    np.testing.assert_array_equal(tables[0].transpose(2, 1, 0, 3).reshape(-1, 3), values)


def _ocio_pixels(transform, image: np.ndarray) -> np.ndarray:
    from filmc.runtime.colour.spaces import apply_processor, cpu_processor

    return apply_processor(cpu_processor(transform), image)


@pytest.mark.parametrize(("size", "is_3d", "decimals"), [(17, True, 6), (65, True, 7), (4096, False, 8), (7, False, 6)])
def test_lut_transform_is_bit_identical_to_the_file(tmp_path, rng, size: int, is_3d: bool, decimals: int) -> None:
    """lut_transform builds OCIO's LUT from the table read_cube holds instead of the file: the same
    pixels to the bit, whether the table was remembered by write_cube or parsed from the file."""
    from filmc.runtime.colour.cube import _READ, file_transform, lut_transform

    if is_3d:
        table = wavy_table(size)
    else:
        ramp = np.linspace(0.0, 1.0, size)[:, None]
        table = np.concatenate([ramp**0.45, ramp**1.8, np.sqrt(ramp) * 0.9 + 0.05], axis=1)
    path = write_cube(tmp_path / "t.cube", Cube(table), decimals=decimals)
    image = np.concatenate([sample_image(rng).reshape(-1, 3), rng.random((4096, 3), dtype=np.float32) * 1.2 - 0.1])
    expected = _ocio_pixels(file_transform(path), image)
    assert not isinstance(lut_transform(path), type(file_transform(path)))
    np.testing.assert_array_equal(_ocio_pixels(lut_transform(path), image), expected)
    _READ.clear()  # parsed from the file this time
    np.testing.assert_array_equal(_ocio_pixels(lut_transform(path), image), expected)


def test_lut_transform_of_stdlib_luts_and_other_domains(tmp_path, rng) -> None:
    """Every stdlib LUT gives file_transform's pixels; a LUT with its own domain goes through the file."""
    from pathlib import Path

    import PyOpenColorIO as ocio
    from filmc.runtime.colour.cube import file_transform, lut_transform

    image = rng.random((8192, 3), dtype=np.float32)
    luts = sorted((Path(__file__).resolve().parents[2] / "stdlib" / "luts").glob("*.cube"))
    assert luts
    for lut in luts:
        np.testing.assert_array_equal(_ocio_pixels(lut_transform(lut), image),
                                      _ocio_pixels(file_transform(lut), image), err_msg=lut.name)
    wide = write_cube(tmp_path / "wide.cube", Cube(wavy_table(9), domain_max=(2.0, 2.0, 2.0)))
    assert isinstance(lut_transform(wide), ocio.FileTransform)
