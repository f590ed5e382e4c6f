"""`filmc explain CODE`: the long explanation of a diagnostic, from error_codes/CODE.md."""

from __future__ import annotations

from pathlib import Path

CODES_DIR = Path(__file__).resolve().parent / "error_codes"


def known_codes() -> list[str]:
    return sorted(p.stem for p in CODES_DIR.glob("*.md"))


def explain(code: str) -> str | None:
    path = CODES_DIR / f"{code}.md"
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").rstrip() + "\n"
