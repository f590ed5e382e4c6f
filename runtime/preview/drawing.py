"""Small drawing helpers shared by the preview's still painters (Pillow + numpy).

Everything here is deterministic: colours come from hashes of names, never from
the clock or the process, so the same film paints the same pixels everywhere.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
from filmc.atomic import replacing
from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]

PNG_COMPRESS_LEVEL = 1
"""Layers are intermediates read once per encode: fast zlib beats small files."""


def hex_rgb(colour: str, default: RGB = (128, 128, 128)) -> RGB:
    text = (colour or "").lstrip("#")
    if len(text) != 6:
        return default
    try:
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
    except ValueError:
        return default


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def scale_rgb(c: RGB, k: float) -> RGB:
    return tuple(int(max(0, min(255, round(v * k)))) for v in c)  # type: ignore[return-value]


def name_hash(text: str) -> int:
    """A stable 64-bit number for a name (not Python's salted hash())."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def hue_colour(text: str, saturation: float = 0.55, value: float = 0.75) -> RGB:
    """A colour whose hue comes from a hash of `text`."""
    import colorsys

    hue = (name_hash(text) % 3600) / 3600.0
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return (int(r * 255), int(g * 255), int(b * 255))


COLOUR_WORDS: dict[str, RGB] = {
    "black": (28, 28, 30), "white": (235, 235, 230), "grey": (128, 128, 132), "gray": (128, 128, 132),
    "red": (190, 40, 40), "crimson": (160, 20, 40), "orange": (220, 120, 40), "yellow": (225, 200, 50),
    "gold": (200, 160, 50), "green": (60, 140, 70), "olive": (110, 120, 50), "blue": (50, 80, 170),
    "navy": (30, 40, 90), "teal": (40, 130, 130), "purple": (110, 60, 150), "pink": (220, 130, 160),
    "brown": (110, 70, 40), "tan": (190, 160, 120), "khaki": (170, 160, 110), "denim": (60, 80, 120),
    "blonde": (220, 190, 120), "ginger": (190, 90, 40), "dark": (40, 32, 28), "silver": (190, 190, 200),
}  # fmt: skip


def colour_in_text(text: str, default: RGB) -> RGB:
    """The first colour word in a description ("red knitted hat" -> red), else `default`."""
    for word in text.lower().replace(",", " ").replace("-", " ").split():
        if word in COLOUR_WORDS:
            return COLOUR_WORDS[word]
    return default


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font at `size` pixels (no font files needed)."""
    return ImageFont.load_default(size=max(6, int(size)))


def text_width(draw: ImageDraw.ImageDraw, text: str, fnt) -> int:
    box = draw.textbbox((0, 0), text, font=fnt)
    return box[2] - box[0]


def wrap(draw: ImageDraw.ImageDraw, text: str, fnt, max_width: int, max_lines: int = 3) -> list[str]:
    """Greedy word wrap to `max_width` pixels; the last line gets an ellipsis when cut."""
    lines: list[str] = []
    current = ""
    words = text.split()
    for i, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if text_width(draw, candidate, fnt) <= max_width or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines:
            rest = " ".join(words[i:])
            lines[-1] = _ellipsize(draw, f"{lines[-1]} {rest}", fnt, max_width)
            return lines
    if current:
        lines.append(current)
    return lines


def _ellipsize(draw: ImageDraw.ImageDraw, text: str, fnt, max_width: int) -> str:
    while text and text_width(draw, text + "…", fnt) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def vertical_gradient(width: int, height: int, top: RGB, bottom: RGB, curve: float = 1.0) -> np.ndarray:
    """H x W x 3 float array fading from `top` to `bottom` (curve > 1 keeps the top colour longer)."""
    t = np.linspace(0.0, 1.0, max(1, height))[:, None] ** curve
    col = np.asarray(top, np.float64)[None, :] * (1 - t) + np.asarray(bottom, np.float64)[None, :] * t
    return np.broadcast_to(col[:, None, :], (height, width, 3)).copy()


def save_png(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Write a PNG atomically (temp file in the same folder, then rename).

    8-bit L, LA, RGB and RGBA pictures with nothing else to record go out with unfiltered rows:
    measured on painted layers, burn-ins and contact sheets, Pillow's adaptive per-row filters leave
    files within 8% of that size at this zlib level and take twice as long to write and to read back.
    Other pictures (palettes, 16-bit, ICC profiles, tRNS) go through Pillow."""
    with replacing(path) as out:
        out.write(png_bytes(image))
    return Path(path)


def png_bytes(image: Image.Image) -> bytes:
    """The bytes save_png writes for `image`."""
    data = _unfiltered_png(image)
    if data is None:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
        data = buffer.getvalue()
    return data


_PNG_COLOUR_TYPES = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _unfiltered_png(image: Image.Image) -> bytes | None:
    """The picture as a PNG with filter type 0 on every row, or None where Pillow must write it."""
    colour_type = _PNG_COLOUR_TYPES.get(image.mode)
    if colour_type is None or "icc_profile" in image.info or "transparency" in image.info:
        return None
    width, height = image.size
    if not width or not height:
        return None
    pixels = np.asarray(image, dtype=np.uint8).reshape(height, -1)
    rows = np.zeros((height, pixels.shape[1] + 1), dtype=np.uint8)  # column 0: each row's filter type, 0
    rows[:, 1:] = pixels
    packer = zlib.compressobj(PNG_COMPRESS_LEVEL)
    idat = packer.compress(rows.data) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def cover_fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale to cover width x height (keeping aspect), then crop the centre."""
    iw, ih = image.size
    k = max(width / iw, height / ih)
    size = (max(width, round(iw * k)), max(height, round(ih * k)))
    scaled = image.resize(size, Image.Resampling.LANCZOS)
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    return scaled.crop((left, top, left + width, top + height))
