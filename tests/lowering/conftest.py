"""Fixtures for the lowering tests: the small film in a temp folder with generated footage.

The film is copied next to a tiny generated mp4 (ffmpeg from imageio-ffmpeg, bit-exact
flags so its bytes, and therefore the plan's ids, are reproducible). When the standard
library's LUT files are not there yet, a session-wide copy of stdlib with identity
LUTs stands in, so `check` reports no errors from std (the fixture grades with its own
LUT, so goldens do not depend on std LUTs).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from filmc.compiler import modules, plan, prompts
from filmc.compiler.check import CheckResult, check_file

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
FILM_NAME = "small.film"


def _identity_cube(path: Path) -> None:
    rows = [f"{r:.1f} {g:.1f} {b:.1f}" for b in (0, 1) for g in (0, 1) for r in (0, 1)]
    path.write_text("LUT_3D_SIZE 2\n" + "\n".join(rows) + "\n")


@pytest.fixture(scope="session", autouse=True)
def stdlib_luts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    real = modules.stdlib_dir()
    wanted = re.findall(r'lut "(luts/[^"]+\.cube)"', (real / "grades.film").read_text())
    if all((real / w).is_file() for w in wanted):
        yield real
        return
    copy = tmp_path_factory.mktemp("stdlib") / "stdlib"
    shutil.copytree(real, copy)
    for w in wanted:
        target = copy / w
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            _identity_cube(target)
    with pytest.MonkeyPatch.context() as mp:
        for module in (modules, plan, prompts):
            mp.setattr(module, "stdlib_dir", lambda: copy)
        yield copy


def make_clip(path: Path, frames: int = 60) -> None:
    """A tiny deterministic test-pattern mp4 (160x90, 24 fps)."""
    from imageio_ffmpeg import get_ffmpeg_exe

    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=24:duration={frames / 24}",
         "-c:v", "mpeg4", "-q:v", "5", "-threads", "1", "-flags", "+bitexact", "-fflags", "+bitexact",
         "-map_metadata", "-1", "-movflags", "+faststart", str(path)],
        check=True, capture_output=True)


@pytest.fixture(scope="session")
def film_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding small.film, its LUT and its generated footage."""
    root = tmp_path_factory.mktemp("film")
    shutil.copy(FIXTURES / FILM_NAME, root / FILM_NAME)
    shutil.copytree(FIXTURES / "luts", root / "luts")
    make_clip(root / "footage" / "clip.mp4")
    return root


def checked(path: Path) -> CheckResult:
    result = check_file(path)
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors, [f"{d.code} {d.message} at {d.span}" for d in errors]
    assert result.film is not None
    return result


@pytest.fixture(scope="session")
def small(film_dir: Path) -> CheckResult:
    return checked(film_dir / FILM_NAME)


def edited_copy(src_dir: Path, dst_dir: Path, old: str, new: str) -> Path:
    """A copy of the fixture folder with one text replacement in the film (exactly once)."""
    shutil.copytree(src_dir, dst_dir)
    film = dst_dir / FILM_NAME
    text = film.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    film.write_text(text.replace(old, new))
    return film
