"""`.cube` LUTs (Adobe Cube LUT Specification 1.0): strict reading, writing, applying.

Reading is strict because a LUT is user input: anything the spec does not
allow raises `LutError` naming the file and line, which the compiler and
runtime turn into a diagnostic. Applying goes through OCIO's FileTransform
with tetrahedral interpolation, which gives the same pixels as ffmpeg's
`lut3d=interp=tetrahedral`, so previews and encodes agree.
"""

from __future__ import annotations

import io
import math
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import PyOpenColorIO as ocio
from filmc.atomic import write_bytes, write_text

from .spaces import apply_processor, config, cpu_processor

MAX_3D_SIZE = 256
MAX_1D_SIZE = 65536


class LutError(ValueError):
    """A malformed LUT file; `path` and `line` (1-based, None for the whole file) say where."""

    def __init__(self, path: str | os.PathLike[str], line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, eq=False)
class Cube:
    """A parsed LUT.

    `table` is (N, N, N, 3) indexed [r, g, b] for a 3D LUT, or (N, 3) for a
    1D LUT; inputs are mapped from [domain_min, domain_max] onto the lattice.
    """

    table: np.ndarray
    domain_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    domain_max: tuple[float, float, float] = (1.0, 1.0, 1.0)
    title: str | None = None
    comments: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_3d(self) -> bool:
        return self.table.ndim == 4

    @property
    def size(self) -> int:
        return int(self.table.shape[0])


def identity_table(size: int) -> np.ndarray:
    """The (N, N, N, 3) identity lattice over [0, 1]."""
    axis = np.linspace(0.0, 1.0, size)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)


def lattice_inputs(size: int, domain_min=(0.0, 0.0, 0.0), domain_max=(1.0, 1.0, 1.0)) -> np.ndarray:
    """The input colour at every lattice point, (N, N, N, 3) indexed [r, g, b]."""
    lo, hi = np.asarray(domain_min, dtype=np.float64), np.asarray(domain_max, dtype=np.float64)
    return lo + identity_table(size) * (hi - lo)


_KEYWORDS = {"TITLE", "LUT_1D_SIZE", "LUT_3D_SIZE", "DOMAIN_MIN", "DOMAIN_MAX"}


def _parse_floats(path: str | Path, lineno: int, words: list[str], what: str) -> tuple[float, float, float]:
    if len(words) != 3:
        raise LutError(path, lineno, f"{what} needs 3 numbers, found {len(words)}")
    try:
        values = tuple(float(w) for w in words)
    except ValueError:
        raise LutError(
            path, lineno, f"{what} has a value that is not a number: {' '.join(words)!r}"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise LutError(path, lineno, f"{what} has a non-finite value: {' '.join(words)!r}")
    return values  # type: ignore[return-value]


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


@dataclass
class _Header:
    title: str | None = None
    comments: list[str] = field(default_factory=list)
    size_1d: int | None = None
    size_3d: int | None = None
    domain_min: tuple[float, float, float] | None = None
    domain_max: tuple[float, float, float] | None = None
    seen: dict[str, int] = field(default_factory=dict)


def _keyword(header: _Header, path: str | Path, lineno: int, word: str, rest: str) -> None:
    if word not in _KEYWORDS:
        if word.startswith("LUT_") and word.endswith("_INPUT_RANGE"):
            raise LutError(path, lineno, f"{word} is a Resolve extension; use DOMAIN_MIN/DOMAIN_MAX")
        raise LutError(path, lineno, f"unknown keyword {word!r}")
    if word in header.seen:
        raise LutError(path, lineno, f"{word} given twice (first on line {header.seen[word]})")
    header.seen[word] = lineno
    rest = rest.strip()
    if word == "TITLE":
        if len(rest) < 2 or not (rest.startswith('"') and rest.endswith('"')) or '"' in rest[1:-1]:
            raise LutError(path, lineno, 'TITLE must be followed by text in double quotes: TITLE "name"')
        header.title = rest[1:-1]
    elif word in ("LUT_1D_SIZE", "LUT_3D_SIZE"):
        limit = MAX_3D_SIZE if word == "LUT_3D_SIZE" else MAX_1D_SIZE
        if not rest.isdigit():
            raise LutError(path, lineno, f"{word} must be a whole number, found {rest!r}")
        n = int(rest)
        if not 2 <= n <= limit:
            raise LutError(path, lineno, f"{word} {n} is out of range (2-{limit})")
        if word == "LUT_3D_SIZE":
            header.size_3d = n
        else:
            header.size_1d = n
    elif word == "DOMAIN_MIN":
        header.domain_min = _parse_floats(path, lineno, rest.split(), word)
    else:
        header.domain_max = _parse_floats(path, lineno, rest.split(), word)


def _split(line: str) -> tuple[str, str]:
    word, *tail = line.split(None, 1)
    return word, tail[0] if tail else ""


def _is_keyword(word: str) -> bool:
    return (word[0].isalpha() or word[0] == "_") and not _is_number(word)


def _read_header(lines: list[str], path: str | Path) -> tuple[_Header, int]:
    """The header's keywords and comments, and the index of the first table line (len(lines): none)."""
    header = _Header()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            header.comments.append(line[1:].strip())
            continue
        word, rest = _split(line)
        if not _is_keyword(word):
            return header, lineno - 1
        _keyword(header, path, lineno, word, rest)
    return header, len(lines)


def _expected_rows(header: _Header, start: int, lines: int, path: str | Path) -> int:
    if start == lines:
        if header.size_1d is None and header.size_3d is None:
            raise LutError(path, None, "no LUT_3D_SIZE or LUT_1D_SIZE: not a .cube LUT")
        raise LutError(path, lines or None, "no table data")
    if header.size_1d is None and header.size_3d is None:
        raise LutError(path, start + 1, "table data before LUT_3D_SIZE or LUT_1D_SIZE")
    if header.size_1d is not None and header.size_3d is not None:
        raise LutError(path, start + 1, "both LUT_1D_SIZE and LUT_3D_SIZE: a .cube file holds one table")
    expected = header.size_3d**3 if header.size_3d is not None else header.size_1d
    assert expected is not None
    return expected


def _assemble(header: _Header, data: np.ndarray, path: str | Path) -> Cube:
    dmin = header.domain_min or (0.0, 0.0, 0.0)
    dmax = header.domain_max or (1.0, 1.0, 1.0)
    if any(lo >= hi for lo, hi in zip(dmin, dmax, strict=True)):
        line = header.seen.get("DOMAIN_MAX", header.seen.get("DOMAIN_MIN"))
        raise LutError(path, line, f"DOMAIN_MIN {dmin} must be below DOMAIN_MAX {dmax} in every channel")
    n = header.size_3d
    # File order: red varies fastest.
    table = data if n is None else data.reshape(n, n, n, 3).transpose(2, 1, 0, 3)
    return Cube(np.ascontiguousarray(table), dmin, dmax, header.title, tuple(header.comments))


def parse_cube(text: str, path: str | Path = "<string>") -> Cube:
    """Parse `.cube` text strictly; raises LutError(path, line, message).

    The header is read line by line; a well-formed table is then read in
    bulk, and anything unusual in it goes through the line-by-line check,
    which names the offending line.
    """
    lines = text.removeprefix("\ufeff").splitlines()
    header, start = _read_header(lines, path)
    expected = _expected_rows(header, start, len(lines), path)
    data = _table_bulk(lines[start:], expected)
    if data is None:
        data = _table_lines(lines, start, expected, path)
    return _assemble(header, data, path)


def _table_bulk(body: list[str], expected: int) -> np.ndarray | None:
    """The table when it is exactly `expected` rows of 3 finite numbers (comments and blanks aside).

    Without comments numpy's loadtxt reads it in C (ragged rows and anything that is not a number
    raise); whatever it refuses goes through the line-by-line check."""
    text = "\n".join(body)
    if "#" in text:
        return _table_bulk_commented(body, expected)
    try:
        data = np.loadtxt(io.StringIO(text), dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        return None
    if data.shape != (expected, 3) or not np.all(np.isfinite(data)):
        return None
    return data


def _table_bulk_commented(body: list[str], expected: int) -> np.ndarray | None:
    rows = [ln for ln in body if ln.strip() and not ln.lstrip().startswith("#")]
    if len(rows) != expected or any(len(r.split()) != 3 for r in rows):
        return None
    try:
        data = np.array(" ".join(rows).split(), dtype=np.float64).reshape(-1, 3)
    except ValueError:
        return None
    return data if np.all(np.isfinite(data)) else None


def _table_lines(lines: list[str], start: int, expected: int, path: str | Path) -> np.ndarray:
    """The table, line by line, raising LutError at the first line that breaks the spec."""
    rows: list[tuple[float, float, float]] = []
    for lineno in range(start + 1, len(lines) + 1):
        line = lines[lineno - 1].strip()
        if not line or line.startswith("#"):
            continue
        word, _ = _split(line)
        if _is_keyword(word):
            if word in _KEYWORDS:
                raise LutError(path, lineno, f"keyword {word} after the table data started")
            raise LutError(path, lineno, f"unknown keyword {word!r}")
        if len(rows) >= expected:
            raise LutError(path, lineno, f"more table rows than the {expected} the LUT size calls for")
        if "#" in line:
            raise LutError(path, lineno, "comments must be on their own line")
        rows.append(_parse_floats(path, lineno, line.split(), "a table row"))
    if len(rows) != expected:
        raise LutError(path, len(lines), f"table has {len(rows)} rows, the LUT size calls for {expected}")
    return np.asarray(rows, dtype=np.float64)


_READ_CACHE_SIZE = 64
_READ: OrderedDict[tuple[str, int, int], Cube] = OrderedDict()


def read_cube(path: str | os.PathLike[str]) -> Cube:
    """Read and validate a `.cube` file (cached by path, size and modification time)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise LutError(p, None, f"cannot read LUT: {exc.strerror}") from None
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    cube = _READ.get(key)
    if cube is None:
        cube = _read_cube_file(key[0])
        _keep(key, cube)
    _READ.move_to_end(key)
    return cube


def _keep(key: tuple[str, int, int], cube: Cube) -> None:
    _READ[key] = cube
    while len(_READ) > _READ_CACHE_SIZE:
        _READ.popitem(last=False)


def _remember(path: Path, head: str, rows: np.ndarray) -> None:
    """Cache what read_cube would parse from a file write_cube just wrote: its header read as a reader
    reads it, and `rows`, the values its table's decimals round to. Anything a reader would refuse
    is not cached, so reading it still raises."""
    lines = head.splitlines()
    try:
        header, start = _read_header(lines, path)
        if start != len(lines) or len(rows) != _expected_rows(header, len(lines), len(lines) + 1, path):
            return
        cube = _assemble(header, rows, path)
        st = path.stat()
    except (LutError, OSError):
        return
    _keep((str(path.resolve()), st.st_size, st.st_mtime_ns), cube)


def _read_cube_file(path: str) -> Cube:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise LutError(path, None, f"cannot read LUT: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LutError(path, line, "not a text file (invalid UTF-8)") from None
    return parse_cube(text, path)


def _format_row(row: np.ndarray, decimals: int) -> str:
    return " ".join(f"{v:.{decimals}f}" for v in row)


def _header_lines(cube: Cube, decimals: int) -> list[str]:
    out: list[str] = []
    if cube.title is not None:
        if '"' in cube.title or "\n" in cube.title:
            raise ValueError("a LUT title cannot contain double quotes or newlines")
        out.append(f'TITLE "{cube.title}"')
    out.extend(f"# {c}".rstrip() for c in cube.comments)
    out.append(f"{'LUT_3D_SIZE' if cube.is_3d else 'LUT_1D_SIZE'} {cube.size}")
    if cube.domain_min != (0.0, 0.0, 0.0) or cube.domain_max != (1.0, 1.0, 1.0):
        out.append("DOMAIN_MIN " + _format_row(np.asarray(cube.domain_min), decimals))
        out.append("DOMAIN_MAX " + _format_row(np.asarray(cube.domain_max), decimals))
    return out


def _file_rows(cube: Cube) -> np.ndarray:
    """The table's rows in file order (red varies fastest), checked finite."""
    data = cube.table.transpose(2, 1, 0, 3).reshape(-1, 3) if cube.is_3d else cube.table
    if not np.all(np.isfinite(data)):
        raise ValueError("a LUT table must be finite")
    return data


_FIXED_POINT_LIMIT = 2.0**50
"""Below this many units of the last decimal, value * 10^decimals is within far less than half a unit
of the integer the decimal text shows, so rint finds it exactly."""


def _fixed_point(data: np.ndarray, decimals: int) -> np.ndarray | None:
    """The table as whole numbers of 10^-decimals, exactly the digits "%.{decimals}f" prints for
    np.round(data, decimals) (None where values are too large for that to be exact)."""
    if not 1 <= decimals <= 15:
        return None
    scale = 10.0**decimals
    rounded = np.round(np.asarray(data, dtype=np.float64), decimals)
    if rounded.size and float(np.abs(rounded).max()) * scale >= _FIXED_POINT_LIMIT:
        return None
    return np.rint(rounded * scale).astype(np.int64)


def _table_bytes(units: np.ndarray, decimals: int) -> bytes:
    """Rows of "%.{decimals}f %.{decimals}f %.{decimals}f\\n" from fixed-point units, built in numpy:
    each number gets a fixed-width field (NUL where a sign or leading digit is absent), then the NULs go."""
    flat = units.reshape(-1)
    magnitude = np.abs(flat)
    if decimals <= 9 and magnitude.size and int(magnitude.max()) < 2**31:
        magnitude = magnitude.astype(np.int32)
    whole, frac = np.divmod(magnitude, 10**decimals)
    top = int(whole.max()) if whole.size else 0
    width = len(str(top))
    signed = bool((flat < 0).any())
    columns: list[np.ndarray] = []
    if signed:
        columns.append(np.where(flat < 0, ord("-"), 0).astype(np.uint8))
    for j in range(width):
        place = 10 ** (width - 1 - j)
        digit = ((whole // place) % 10 + ord("0")).astype(np.uint8)
        short = j < width - 1 and bool((whole < place).any())
        columns.append(np.where(whole >= place, digit, np.uint8(0)) if short else digit)
    columns.append(np.full(flat.size, ord("."), dtype=np.uint8))
    digits: list[np.ndarray] = []
    for _ in range(decimals):
        frac, digit = np.divmod(frac, 10)
        digits.append((digit + ord("0")).astype(np.uint8))
    columns.extend(reversed(digits))
    columns.append(np.tile(np.frombuffer(b"  \n", dtype=np.uint8), flat.size // 3))
    buffer = np.stack(columns, axis=1).reshape(-1)
    return buffer[buffer != 0].tobytes() if signed or width > 1 else buffer.tobytes()


def _cube_bytes(cube: Cube, decimals: int) -> tuple[bytes, str, np.ndarray | None]:
    """The file's bytes, its header text, and (where the table went through fixed point) the rows a
    reader parses back from it: units / 10^decimals is the correctly rounded value of each decimal."""
    head = "\n".join(_header_lines(cube, decimals)) + "\n"
    data = _file_rows(cube)
    units = _fixed_point(data, decimals)
    if units is None:
        # Round explicitly then format: '-0.0000' would otherwise appear for tiny negatives.
        data = np.round(data, decimals) + 0.0
        row = " ".join([f"%.{decimals}f"] * 3) + "\n"
        return (head + (row * len(data)) % tuple(data.ravel().tolist())).encode("utf-8"), head, None
    parsed = units.astype(np.float64) / 10.0**decimals
    return head.encode("utf-8") + _table_bytes(units, decimals), head, parsed


def format_cube(cube: Cube, decimals: int = 6) -> str:
    """`.cube` text for a Cube (red varies fastest, as the spec requires)."""
    return _cube_bytes(cube, decimals)[0].decode("utf-8")


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text to a temp file in the same folder, then rename over `path`."""
    return write_text(path, text)


def write_cube(path: str | os.PathLike[str], cube: Cube, decimals: int = 6) -> Path:
    """Write a Cube atomically. The table a reader would parse back is remembered for this file (at its
    size and modification time), so reading what was just written costs no parsing."""
    data, head, parsed = _cube_bytes(cube, decimals)
    written = write_bytes(path, data)
    if parsed is not None:
        _remember(written, head, parsed)
    return written


_OCIO_FILE_STAMPS: dict[str, tuple[int, int]] = {}


def file_transform(path: str | os.PathLike[str]) -> ocio.FileTransform:
    """An OCIO FileTransform for a validated `.cube` (tetrahedral for 3D, linear for 1D).

    OCIO caches file contents by path for the life of the process; when a
    file changed since OCIO last read it, its caches are cleared first.
    """
    cube = read_cube(path)
    resolved = str(Path(path).resolve())
    st = Path(resolved).stat()
    stamp = (st.st_size, st.st_mtime_ns)
    if _OCIO_FILE_STAMPS.setdefault(resolved, stamp) != stamp:
        ocio.ClearAllCaches()
        config().clearProcessorCache()
        _OCIO_FILE_STAMPS[resolved] = stamp
    interp = ocio.INTERP_TETRAHEDRAL if cube.is_3d else ocio.INTERP_LINEAR
    return ocio.FileTransform(src=resolved, interpolation=interp)


OCIO_MAX_3D_SIZE = 129
"""OCIO reads and builds no 3D LUT above this size."""


def lut_transform(path: str | os.PathLike[str]) -> ocio.Transform:
    """The `.cube` at `path` as an OCIO transform: built from the table `read_cube` holds where the domain is
    [0, 1], else `file_transform`. Same pixels, bit for bit (tests/colour/test_colour_cube.py), without OCIO
    parsing the file a second time: 70 ms for a 65^3 bake whose table write_cube has just remembered. For a
    file applied again and again (a grade's LUT) file_transform is cheaper: OCIO keeps what it parsed, while
    an in-memory table is hashed again for each processor (1 ms at 33^3)."""
    cube = read_cube(path)
    default = cube.domain_min == (0.0, 0.0, 0.0) and cube.domain_max == (1.0, 1.0, 1.0)
    if not default or (cube.is_3d and cube.size > OCIO_MAX_3D_SIZE):
        return file_transform(path)
    # Indexed [r, g, b] with blue fastest, as OCIO lays 3D data out; float32, as OCIO parses the text.
    data = np.ascontiguousarray(cube.table, dtype=np.float32).ravel()
    transform: ocio.Lut3DTransform | ocio.Lut1DTransform
    if cube.is_3d:
        transform = ocio.Lut3DTransform(gridSize=cube.size, interpolation=ocio.INTERP_TETRAHEDRAL)
    else:
        transform = ocio.Lut1DTransform(length=cube.size, inputHalfDomain=False, interpolation=ocio.INTERP_LINEAR)
    transform.setData(data)
    return transform


def apply_cube(image: np.ndarray, path: str | os.PathLike[str], strength: float = 1.0) -> np.ndarray:
    """Apply a `.cube` through OCIO; `strength` (0-1) blends with the ungraded image.

    The blend is ``x + strength * (lut(x) - x)`` in the LUT's own input space.
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"LUT strength must be within 0-1, got {strength}")
    image = np.asarray(image, dtype=np.float32)
    if strength == 0.0:
        return image.copy()
    graded = apply_processor(cpu_processor(file_transform(path)), image)
    if strength == 1.0:
        return graded
    return image + np.float32(strength) * (graded - image)


def apply_cube_numpy(image: np.ndarray, cube: Cube) -> np.ndarray:
    """Tetrahedral (3D) or linear (1D) interpolation in numpy, as ffmpeg's lut3d/lut1d do.

    An independent implementation used to cross-check OCIO and to time
    a pure-numpy application; inputs outside the domain are clamped.
    """
    img = np.asarray(image, dtype=np.float32)
    flat = img.reshape(-1, 3)
    lo = np.asarray(cube.domain_min, dtype=np.float32)
    hi = np.asarray(cube.domain_max, dtype=np.float32)
    n = cube.size
    pos = np.clip((flat - lo) / (hi - lo), 0.0, 1.0) * np.float32(n - 1)
    base = np.minimum(pos.astype(np.int32), n - 2)
    frac = pos - base
    table = cube.table.astype(np.float32)
    if not cube.is_3d:
        out = np.empty_like(flat)
        for c in range(3):
            t = table[:, c]
            out[:, c] = t[base[:, c]] * (1 - frac[:, c]) + t[base[:, c] + 1] * frac[:, c]
        return out.reshape(img.shape)
    lut = table.reshape(-1, 3)
    corner = (base[:, 0] * n + base[:, 1]) * n + base[:, 2]
    fr, fg, fb = frac[:, 0], frac[:, 1], frac[:, 2]
    # Tetrahedral: walk from the cell's low corner towards the opposite one along the
    # channels in order of decreasing fraction (f1 >= f2 >= f3), as ffmpeg does.
    rg, gb, rb = fr >= fg, fg >= fb, fr >= fb
    step_max = np.where(rg & rb, n * n, np.where(~rg & gb, n, 1))
    step_min = np.where(rb & gb, 1, np.where(~rb & ~rg, n * n, n))
    total = n * n + n + 1
    f1 = np.maximum(np.maximum(fr, fg), fb)[:, None]
    f3 = np.minimum(np.minimum(fr, fg), fb)[:, None]
    f2 = (fr + fg + fb)[:, None] - f1 - f3
    out = (
        (1 - f1) * lut[corner]
        + (f1 - f2) * lut[corner + step_max]
        + (f2 - f3) * lut[corner + (total - step_min)]
        + f3 * lut[corner + total]
    )
    return out.reshape(img.shape)
