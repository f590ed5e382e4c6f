"""Quantities with units: parsing `8.2s`, `-28 dB`, `35mm`, and exact frame timing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([A-Za-z%]*)$")

# Frame rates a .film may declare, and their exact rational values.
KNOWN_FPS: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "23.98": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "47.952": Fraction(48000, 1001),
    "48": Fraction(48),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}


@dataclass(frozen=True)
class Quantity:
    value: Fraction
    unit: str  # "" for a bare number

    @property
    def as_float(self) -> float:
        return float(self.value)


def parse_quantity(text: str) -> Quantity | None:
    m = _QUANTITY.match(text.strip())
    if not m:
        return None
    return Quantity(Fraction(m.group(1)), m.group(2))


def normalise_fps(text: str) -> Fraction | None:
    key = text.rstrip("0").rstrip(".") if "." in text else text
    return KNOWN_FPS.get(key) or KNOWN_FPS.get(text)


def frames_of(q: Quantity, fps: Fraction) -> int:
    """Duration in whole frames (nearest frame; frames are exact)."""
    if q.unit == "f":
        return round(q.value)
    seconds = q.value / 1000 if q.unit == "ms" else q.value
    return round(seconds * fps)


def frames_to_seconds(frames: int, fps: Fraction) -> Fraction:
    return Fraction(frames) / fps


def timecode_to_frames(tc: str, fps: Fraction) -> int:
    """Non-drop-frame timecode to a frame count at the nominal (rounded) rate."""
    hh, mm, ss, ff = (int(p) for p in re.split(r"[:;]", tc))
    nominal = round(fps)
    return ((hh * 60 + mm) * 60 + ss) * nominal + ff


def frames_to_timecode(frames: int, fps: Fraction) -> str:
    nominal = round(fps)
    ff = frames % nominal
    total = frames // nominal
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}:{ff:02d}"


def format_seconds(value: Fraction | float) -> str:
    return f"{float(value):.2f}s"
