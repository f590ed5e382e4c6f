"""The `plate` op: the empty setting of a location at a time of day, as one still.

A user plate (`plate "file.jpg"`) is cover-fitted to the frame; otherwise the
setting is painted procedurally from the time-of-day palette (sky, key light,
shadow) and brightness, tinted by the style palette, with a few seeded shapes
chosen from the location's words (buildings for streets and roofs, hills and
trees outdoors, walls and railings indoors, waves by the sea). The location's
name sits small in a corner, inside the part of the frame camera moves keep.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .drawing import RGB, cover_fit, font, hex_rgb, mix, scale_rgb, vertical_gradient

INTERIOR_WORDS = {"room", "stairwell", "stairs", "staircase", "corridor", "hall", "hallway", "office", "kitchen",
                  "bedroom", "bar", "diner", "lobby", "garage", "basement", "attic", "cabin", "interior", "lab",
                  "warehouse", "lamp", "lighthouse", "apartment", "shop", "store", "library", "church", "cell"}
WATER_WORDS = {"sea", "ocean", "beach", "harbour", "harbor", "lake", "river", "shore", "bay", "waves", "pier"}
NATURE_WORDS = {"forest", "woods", "field", "hill", "hills", "mountain", "meadow", "desert", "park", "garden",
                "valley", "jungle", "farm", "trees", "cliff"}
URBAN_WORDS = {"street", "lot", "city", "roof", "rooftop", "skyline", "alley", "road", "parking", "town",
               "building", "block", "plaza", "station", "bridge", "mall", "shopfronts"}

NIGHT_PALETTE = ["#0b1020", "#c9a227", "#05060a"]


def setting_family(location: str, look: str) -> str:
    """interior | water | nature | urban, from the words of the location and its look."""
    words = set((location.removeprefix("std.") + " " + look).lower().replace(",", " ").replace("-", " ").split())
    # Outdoor words win over indoor ones ("roof" beats "office-block").
    for family, vocabulary in (("water", WATER_WORDS), ("nature", NATURE_WORDS), ("urban", URBAN_WORDS),
                               ("interior", INTERIOR_WORDS)):
        if words & vocabulary:
            return family
    return "urban"


def render_plate(params: dict[str, Any], image_path: Path | None = None) -> Image.Image:
    """The plate as an RGB image of `params["resolution"]`."""
    width, height = params["resolution"]
    if image_path is not None:
        return user_plate(image_path, params.get("image_colour") or "sRGB", width, height)
    return paint_plate(params, width, height)


def user_plate(path: Path, colour: str, width: int, height: int) -> Image.Image:
    """A user's plate image, converted to display sRGB when it is not already, cover-fitted."""
    with Image.open(path) as img:
        img.load()
        rgb = img.convert("RGB")
    if colour.lower().replace("-", "").replace("_", "") not in ("srgb", "rec709", "bt709"):
        from filmc.runtime.colour.spaces import convert, space

        rendering = "aces" if space(colour).kind != "display" else "colorimetric"
        pixels = np.asarray(rgb, dtype=np.float32) / 255.0
        pixels = convert(pixels, colour, "srgb", rendering=rendering)
        rgb = Image.fromarray((np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")
    return cover_fit(rgb, width, height)


def paint_plate(params: dict[str, Any], width: int, height: int) -> Image.Image:
    rng = random.Random(int(params.get("seed", 0)))
    palette = [hex_rgb(c) for c in (params.get("palette") or NIGHT_PALETTE)]
    while len(palette) < 3:
        palette.append(palette[-1])
    sky, key, shadow = palette[:3]
    style = [hex_rgb(c) for c in params.get("style_palette") or []] or [mix(sky, shadow, 0.5)]
    while len(style) < 3:
        style.append(style[-1])
    # The style tints the setting a little; the time of day decides the light.
    sky = mix(sky, style[2], 0.15)
    ground = mix(shadow, style[0], 0.45)
    brightness = float(params.get("brightness", 0.5))
    family = setting_family(str(params.get("location", "")), str(params.get("location_look", "")))

    horizon = int(height * (0.66 if family == "interior" else rng.uniform(0.5, 0.6)))
    pixels = np.empty((height, width, 3), np.float64)
    pixels[:horizon] = vertical_gradient(width, horizon, sky, mix(sky, key, 0.45), curve=1.6)
    pixels[horizon:] = vertical_gradient(width, height - horizon, mix(ground, key, 0.18), scale_rgb(ground, 0.6))
    if family != "interior":
        _glow(pixels, rng.uniform(0.2, 0.8) * width, horizon * rng.uniform(0.25, 0.7), 0.35 * width, key,
              0.55 * (1.1 - brightness))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    painter = {"urban": _urban, "nature": _nature, "water": _water, "interior": _interior}[family]
    painter(draw, rng, width, height, horizon, sky, key, shadow, style)
    _label(draw, params, width, height)
    return image


def _glow(pixels: np.ndarray, cx: float, cy: float, radius: float, colour: RGB, strength: float) -> None:
    h, w = pixels.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    d2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / max(radius, 1.0) ** 2
    a = (np.exp(-d2 * 2.5) * max(0.0, min(1.0, strength)))[..., None]
    pixels[:] = pixels * (1 - a) + np.asarray(colour, np.float64) * a


def _urban(draw, rng, w, h, horizon, sky, key, shadow, style) -> None:
    x = -rng.randint(0, max(1, w // 20))
    building = mix(shadow, style[0], 0.35)
    lit = mix(key, (255, 255, 255), 0.1)
    while x < w:
        bw = rng.randint(max(6, w // 14), max(8, w // 6))
        bh = rng.randint(max(4, h // 8), max(6, int(h * 0.42)))
        top = horizon - bh
        draw.rectangle([x, top, x + bw, horizon], fill=scale_rgb(building, rng.uniform(0.7, 1.2)))
        step = max(4, w // 80)
        for wy in range(top + step, horizon - step, step * 2):
            for wx in range(x + step, x + bw - step, step * 2):
                if rng.random() < 0.22:
                    draw.rectangle([wx, wy, wx + step - 1, wy + step - 1], fill=lit)
        x += bw + rng.randint(0, max(1, w // 40))
    # A lamp post and its pool of light on the ground.
    lx = int(rng.uniform(0.15, 0.85) * w)
    post = max(2, w // 320)
    draw.rectangle([lx - post, int(horizon - h * 0.3), lx + post, int(horizon + h * 0.12)], fill=shadow)
    r = max(3, w // 120)
    ly = int(horizon - h * 0.3)
    draw.ellipse([lx - r, ly - r, lx + r, ly + r], fill=key)
    draw.ellipse([lx - w // 8, int(horizon + h * 0.08), lx + w // 8, int(horizon + h * 0.2)],
                 fill=mix(scale_rgb(shadow, 1.2), key, 0.25))


def _nature(draw, rng, w, h, horizon, sky, key, shadow, style) -> None:
    for layer in range(3):
        colour = mix(mix(shadow, style[0], 0.5), sky, 0.35 - layer * 0.15)
        phase, freq, amp = rng.uniform(0, math.tau), rng.uniform(1.5, 3.5), h * (0.12 - layer * 0.03)
        base = horizon + layer * h * 0.04
        points = [(0, h)] + [(x, base - amp * (0.5 + 0.5 * math.sin(phase + freq * x / w * math.tau)))
                             for x in range(0, w + 8, 8)] + [(w, h)]
        draw.polygon(points, fill=colour)
    for _ in range(rng.randint(4, 9)):
        tx = rng.uniform(0, w)
        th = rng.uniform(0.12, 0.3) * h
        ty = horizon + rng.uniform(0, 0.2) * h
        draw.polygon([(tx, ty - th), (tx - th * 0.3, ty), (tx + th * 0.3, ty)], fill=mix(shadow, style[0], 0.3))


def _water(draw, rng, w, h, horizon, sky, key, shadow, style) -> None:
    water = mix(sky, shadow, 0.55)
    draw.rectangle([0, horizon, w, h], fill=water)
    for k in range(12):
        y = horizon + (h - horizon) * (k + 1) / 13
        phase = rng.uniform(0, math.tau)
        points = [(x, y + 2 * math.sin(phase + x / max(w, 1) * 18)) for x in range(0, w + 6, 6)]
        draw.line(points, fill=mix(water, key, 0.3), width=max(1, h // 240))
    draw.polygon([(0, horizon), (w * 0.3, horizon - h * 0.05), (w * 0.55, horizon)], fill=mix(shadow, style[0], 0.4))


def _interior(draw, rng, w, h, horizon, sky, key, shadow, style) -> None:
    wall = mix(shadow, style[0], 0.5)
    draw.rectangle([0, 0, w, horizon], fill=wall)
    for x in range(0, w, max(8, w // 12)):
        draw.line([(x, 0), (x, horizon)], fill=scale_rgb(wall, 0.85), width=1)
    # A door or window, a light fitting and a railing.
    dx = int(rng.uniform(0.1, 0.7) * w)
    draw.rectangle([dx, int(horizon - h * 0.45), dx + w // 8, horizon], fill=scale_rgb(wall, 0.6))
    lx = int(rng.uniform(0.2, 0.8) * w)
    draw.ellipse([lx - w // 40, int(h * 0.05), lx + w // 40, int(h * 0.05) + w // 40], fill=key)
    draw.polygon([(lx - w // 60, int(h * 0.06)), (lx + w // 60, int(h * 0.06)), (lx + w // 5, horizon),
                  (lx - w // 5, horizon)], fill=mix(wall, key, 0.18))
    rail_y = int(horizon - h * 0.18)
    draw.line([(0, rail_y), (w, rail_y - h * 0.1)], fill=mix(shadow, (180, 180, 190), 0.4), width=max(1, h // 120))


def _label(draw: ImageDraw.ImageDraw, params: dict[str, Any], w: int, h: int) -> None:
    """The location name, small, in the lower left of the part every camera move keeps."""
    name = str(params.get("location", "")).removeprefix("std.").replace("_", " ")
    time = str(params.get("time_of_day") or "").removeprefix("std.").replace("_", " ")
    text = f"{name} · {time}" if time else name
    fnt = font(max(7, h // 34))
    x, y = int(w * 0.11), int(h * 0.89) - max(7, h // 34)
    draw.text((x + 1, y + 1), text, font=fnt, fill=(0, 0, 0))
    draw.text((x, y), text, font=fnt, fill=(220, 220, 210))
