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
from collections.abc import Iterator
from pathlib import Path

import pytest
from filmc.compiler import modules, plan, prompts
from filmc.compiler.check import CheckResult
from lowering_support import FILM_NAME, FIXTURES, checked, identity_cube, make_clip


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
            identity_cube(target)
    with pytest.MonkeyPatch.context() as mp:
        for module in (modules, plan, prompts):
            mp.setattr(module, "stdlib_dir", lambda: copy)
        yield copy


@pytest.fixture(scope="session")
def film_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding small.film, its LUT and its generated footage."""
    root = tmp_path_factory.mktemp("film")
    shutil.copy(FIXTURES / FILM_NAME, root / FILM_NAME)
    shutil.copytree(FIXTURES / "luts", root / "luts")
    make_clip(root / "footage" / "clip.mp4")
    return root


@pytest.fixture(scope="session")
def small(film_dir: Path) -> CheckResult:
    return checked(film_dir / FILM_NAME)
