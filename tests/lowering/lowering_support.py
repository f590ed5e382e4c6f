"""Helpers shared by the lowering tests (a unique module name: tests/ has several conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from filmc.compiler.check import CheckResult, check_file

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
FILM_NAME = "small.film"
REPO = HERE.parent.parent


def identity_cube(path: Path) -> None:
    rows = [f"{r:.1f} {g:.1f} {b:.1f}" for b in (0, 1) for g in (0, 1) for r in (0, 1)]
    path.write_text("LUT_3D_SIZE 2\n" + "\n".join(rows) + "\n")


def make_clip(path: Path, frames: int = 60) -> None:
    """A tiny deterministic test-pattern mp4 (160x90, 24 fps, bit-exact flags)."""
    from imageio_ffmpeg import get_ffmpeg_exe

    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=24:duration={frames / 24}",
         "-c:v", "mpeg4", "-q:v", "5", "-threads", "1", "-flags", "+bitexact", "-fflags", "+bitexact",
         "-map_metadata", "-1", "-movflags", "+faststart", str(path)],
        check=True, capture_output=True)


def checked(path: Path) -> CheckResult:
    """check_file, asserting the film has no errors."""
    result = check_file(path)
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors, [f"{d.code} {d.message} at {d.span}" for d in errors]
    assert result.film is not None
    return result


def edited_copy(src_dir: Path, dst_dir: Path, old: str, new: str, film_name: str = FILM_NAME) -> Path:
    """A copy of a film folder with one text replacement (occurring exactly once) in its film file."""
    shutil.copytree(src_dir, dst_dir)
    film = dst_dir / film_name
    text = film.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    film.write_text(text.replace(old, new))
    return film
