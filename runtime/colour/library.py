"""The standard LUT library in stdlib/luts/ and how LUT references resolve to files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .cube import LutError

STDLIB_LUT_DIR = Path(__file__).resolve().parents[2] / "stdlib" / "luts"
STDLIB_LUT_SPACE = "ACEScct"
"""Every stdlib LUT takes ACEScct in and gives ACEScct out (an ACES look)."""


def stdlib_luts() -> dict[str, dict]:
    """name -> {"description", "size", "space"} from stdlib/luts/luts.json."""
    return json.loads((STDLIB_LUT_DIR / "luts.json").read_text(encoding="utf-8"))


def resolve_lut(ref: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None = None) -> Path:
    """A LUT reference -> an existing `.cube` path.

    `std.NAME` and a bare stdlib NAME (no slash, no suffix) name stdlib/luts/NAME.cube;
    anything else is a path, relative to `base_dir` (the .film's folder) when given.
    """
    text = os.fspath(ref)
    bare = text.removeprefix("std.")
    if text.startswith("std.") or ("/" not in text and "\\" not in text and not Path(text).suffix):
        path = STDLIB_LUT_DIR / f"{bare}.cube"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in STDLIB_LUT_DIR.glob("*.cube")))
            raise LutError(text, None, f"no standard LUT named {bare!r}; standard LUTs: {known}")
        return path
    path = Path(text)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.is_file():
        raise LutError(path, None, "LUT file not found")
    return path
