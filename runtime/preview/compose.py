"""The `compose` op: one shot as three layers, drawn once, moved later by ffmpeg.

- background.png (RGB): the plate, cover-fitted to the frame x OVERSCAN so camera
  moves have room; the angle shifts the horizon (low: lower, high: higher) and a
  dutch angle tilts it.
- subjects.png (RGBA, same size): the `on` characters' portraits, scaled so the
  figure's height is the shot type's framing x frame height up to 1 (a wide shot
  shows small figures on the ground); above 1 the figure is framing^4 frames
  tall with its head at the top, so the frame crops in on the head the way the
  shot sizes mean it (medium 1.15: waist up, close-up 1.4: head and shoulders,
  extreme close-up 1.5: the face). Subjects spread across the frame left to
  right, props in their hands.
- burnin.png (RGBA, frame size): shot id, type, subjects, lens and angle at the
  top, the action at the bottom. It stays put while the camera moves.

At zoom 1 the camera sees the centre frame-sized window of the layers.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

from filmc.atomic import write_bytes
from PIL import Image, ImageDraw

from .drawing import cover_fit, font, hue_colour, png_bytes, save_png, wrap
from .motion import layer_size

ANGLE_SHIFT = {"low": (1.2, 0.0), "worms_eye": (1.4, 0.0), "high": (1.2, 1.0), "overhead": (1.4, 1.0),
               "birds_eye": (1.4, 1.0)}
"""angle -> (extra height factor of the plate, which end to keep: 0 top (horizon drops), 1 bottom)."""
DUTCH_DEGREES = 6.0
CROP_EXPONENT = 4.0
"""Framing above 1 grows the figure as framing**4: a close-up's head nearly fills the frame."""


def _short(name: str | None) -> str:
    return (name or "").removeprefix("std.")


def compose_layers(params: dict[str, Any], plate: Path, portraits: dict[int, Path], out_dir: Path) -> None:
    """Write background.png, subjects.png and burnin.png into `out_dir`."""
    width, height = params["resolution"]
    lw, lh = layer_size(width, height)
    angle = _short(params.get("angle"))
    subjects = Image.new("RGBA", (lw, lh), (0, 0, 0, 0))
    _place_subjects(subjects, params, portraits, width, height)
    if angle == "dutch":
        subjects = _tilt(subjects, fill=(0, 0, 0, 0))
    write_bytes(out_dir / "background.png", background_png(plate, lw, lh, angle))
    save_png(subjects, out_dir / "subjects.png")
    save_png(burn_in(params, width, height), out_dir / "burnin.png")


def background_png(plate: Path, lw: int, lh: int, angle: str) -> bytes:
    """background.png's bytes: the plate fitted to the layer, shifted for the angle, tilted if dutch."""
    st = plate.stat()
    return _background_png(str(plate), st.st_size, st.st_mtime_ns, lw, lh, angle)


@functools.lru_cache(maxsize=8)
def _background_png(plate: str, size: int, mtime_ns: int, lw: int, lh: int, angle: str) -> bytes:
    """The shots of a location share its plate, and most share its framing too (the short example's
    22 shots draw 6 distinct backgrounds): the PNG is kept per plate file (immutable in the cache; the
    key holds its size and modification time), layer size and angle."""
    with Image.open(plate) as img:
        img.load()
        background = _background(img.convert("RGB"), lw, lh, angle)
    if angle == "dutch":
        background = _tilt(background, fill=None)
    return png_bytes(background)


def _background(plate: Image.Image, lw: int, lh: int, angle: str) -> Image.Image:
    if angle in ANGLE_SHIFT:
        stretch, keep = ANGLE_SHIFT[angle]
        tall = cover_fit(plate, lw, int(round(lh * stretch)))
        top = int(round((tall.height - lh) * keep))
        return tall.crop((0, top, lw, top + lh))
    return cover_fit(plate, lw, lh)


def _tilt(layer: Image.Image, fill) -> Image.Image:
    """Rotate about the centre, enlarged just enough that no corner shows through."""
    w, h = layer.size
    theta = math.radians(DUTCH_DEGREES)
    k = math.cos(theta) + max(w, h) / min(w, h) * math.sin(theta)
    big = layer.resize((int(w * k), int(h * k)), Image.Resampling.BICUBIC)
    rotated = big.rotate(DUTCH_DEGREES, resample=Image.Resampling.BICUBIC, fillcolor=fill)
    left, top = (rotated.width - w) // 2, (rotated.height - h) // 2
    return rotated.crop((left, top, left + w, top + h))


def subject_boxes(params: dict[str, Any], width: int, height: int) -> list[tuple[float, float, float, float]]:
    """(centre x, top y, figure width, figure height) of each subject in layer pixels."""
    lw, lh = layer_size(width, height)
    frame_left, frame_top = (lw - width) / 2, (lh - height) / 2
    framing = float(params.get("framing") or 1.0)
    n = len(params.get("subjects") or [])
    boxes = []
    over_shoulder = _short(params.get("shot_type")) == "over_the_shoulder" and n >= 2
    size = framing if framing <= 1.0 else framing ** CROP_EXPONENT
    for i in range(n):
        fig_h = size * height * (1.25 if over_shoulder and i == 0 else 1.0)
        fig_w = fig_h / 2
        step = min(0.4, 0.64 / (n - 1)) if n > 1 else 0.0
        cx = frame_left + width * (0.5 + (i - (n - 1) / 2) * step)
        feet = frame_top + height * (0.8 + 0.14 * min(1.0, framing))
        top = max(frame_top + 0.05 * height, feet - fig_h)
        boxes.append((cx, top, fig_w, fig_h))
    return boxes


def _place_subjects(layer: Image.Image, params: dict[str, Any], portraits: dict[int, Path], width: int,
                    height: int) -> None:
    subjects = params.get("subjects") or []
    boxes = subject_boxes(params, width, height)
    # Draw right to left so the first subject (framing order) is in front.
    for subject, (cx, top, fig_w, fig_h) in reversed(list(zip(subjects, boxes, strict=True))):
        with Image.open(portraits[int(subject["input"])]) as img:
            img.load()
            figure = img.convert("RGBA").resize((max(1, round(fig_w)), max(1, round(fig_h))),
                                                Image.Resampling.LANCZOS)
        composite_clipped(layer, figure, round(cx - fig_w / 2), round(top))
        for k, held in enumerate(subject.get("holding") or []):
            _draw_prop(layer, held, cx + (fig_w * 0.34 if k % 2 == 0 else -fig_w * 0.34),
                       top + fig_h * 0.5 - k * fig_h * 0.05, fig_h)


def composite_clipped(layer: Image.Image, image: Image.Image, x: int, y: int) -> None:
    """alpha_composite `image` at (x, y), clipping whatever falls outside `layer`."""
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(image.width, layer.width - x), min(image.height, layer.height - y)
    if right <= left or bottom <= top:
        return
    layer.alpha_composite(image.crop((left, top, right, bottom)), dest=(x + left, y + top))


def _draw_prop(layer: Image.Image, held: dict[str, Any], x: float, y: float, fig_h: float) -> None:
    name = _short(held.get("prop"))
    size = max(3.0, fig_h * 0.07)
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle([x - size * 0.6, y - size * 0.4, x + size * 0.6, y + size * 0.4], radius=max(1, size / 6),
                           fill=hue_colour("prop:" + name, 0.45, 0.8) + (255,), outline=(10, 10, 10, 255))
    fnt = font(max(6, int(fig_h * 0.028)))
    draw.text((x, y + size * 0.5), name.replace("_", " "), font=fnt, fill=(255, 255, 255, 255), anchor="ma",
              stroke_width=1, stroke_fill=(0, 0, 0, 255))


def burn_in(params: dict[str, Any], width: int, height: int) -> Image.Image:
    """The burn-in layer: header box top left, action band at the bottom."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    lines = [str(s) for s in params.get("burn_in") or []]
    head = lines[0] if lines else str(params.get("shot", ""))
    details = [f"{float(params.get('lens_mm') or 0):g}mm"]
    if params.get("angle"):
        details.append(_short(params["angle"]).replace("_", " "))
    pad = max(2, height // 90)
    fnt = font(max(7, height // 24))
    small = font(max(6, height // 30))
    box_w = max(draw.textlength(head, font=fnt), draw.textlength("  ".join(details), font=small)) + 2 * pad
    box_h = fnt.size + small.size + 3 * pad
    draw.rectangle([pad, pad, pad + box_w, pad + box_h], fill=(0, 0, 0, 150))
    draw.text((2 * pad, 2 * pad), head, font=fnt, fill=(255, 255, 255, 255))
    draw.text((2 * pad, 2 * pad + fnt.size + pad), "  ".join(details), font=small, fill=(220, 220, 220, 255))
    action = " ".join(lines[1:])
    if action:
        text_lines = wrap(draw, action, small, width - 6 * pad, max_lines=2)
        band_h = len(text_lines) * (small.size + pad) + 2 * pad
        draw.rectangle([0, height - band_h, width, height], fill=(0, 0, 0, 140))
        y = height - band_h + pad
        for line in text_lines:
            draw.text((width / 2, y), line, font=small, fill=(255, 255, 255, 255), anchor="ma")
            y += small.size + pad
    return image
