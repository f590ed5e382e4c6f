"""The `portrait` op: a character card, a full figure on a transparent background.

The figure fills the card's height (top of the head at the top, feet at the
bottom) so compose can scale it by the shot's framing. Skin and hair tones come
from a hash of the character's name (hair and garment from colour words in the
look and wardrobe when there are any), the wardrobe is a garment band carrying
its text, and states are red badges (BLOODY also gets splatter marks).
"""

from __future__ import annotations

import random
from typing import Any

from PIL import Image, ImageDraw

from .drawing import colour_in_text, font, hue_colour, mix, name_hash, scale_rgb, wrap

SKIN_TONES = [(241, 194, 160), (224, 172, 130), (198, 134, 94), (161, 102, 68), (120, 78, 52), (92, 58, 40)]
BADGE_RED = (200, 30, 36)


def render_portrait(params: dict[str, Any]) -> Image.Image:
    """The character card as an RGBA image of `params["resolution"]` (1:2, portrait)."""
    width, height = params["resolution"]
    name = str(params.get("character", "?"))
    look = str(params.get("look") or "")
    wardrobe = str(params.get("wardrobe") or "")
    states = [str(s).removeprefix("std.") for s in params.get("states") or []]
    rng = random.Random(int(params.get("seed", 0)))
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    skin = SKIN_TONES[name_hash(name) % len(SKIN_TONES)]
    hair = colour_in_text(look, scale_rgb(hue_colour(name + ":hair", 0.4, 0.35), 1.0))
    garment = colour_in_text(wardrobe, hue_colour(name + ":" + wardrobe, 0.5, 0.6)) if wardrobe else hue_colour(name)
    trousers = scale_rgb(mix(garment, (40, 40, 48), 0.6), 0.9)

    cx = width / 2
    head_r = height * 0.065
    head_cy = height * 0.02 + head_r
    shoulder_y = head_cy + head_r * 1.45
    hip_y = height * 0.52
    feet_y = height * 0.995
    shoulder_w = width * 0.36
    outline = (12, 12, 14, 255)

    # Legs, torso (garment), arms, neck, head, hair.
    leg_w = width * 0.1
    for side in (-1, 1):
        x = cx + side * width * 0.09
        draw.rectangle([x - leg_w / 2, hip_y, x + leg_w / 2, feet_y - height * 0.02], fill=trousers + (255,))
        draw.ellipse([x - leg_w * 0.8, feet_y - height * 0.035, x + leg_w * 0.8, feet_y], fill=(25, 25, 25, 255))
    torso = [(cx - shoulder_w, shoulder_y), (cx + shoulder_w, shoulder_y), (cx + width * 0.22, hip_y + height * 0.02),
             (cx - width * 0.22, hip_y + height * 0.02)]
    draw.polygon(torso, fill=garment + (255,), outline=outline)
    arm_w = width * 0.085
    for side in (-1, 1):
        x0 = cx + side * shoulder_w
        draw.polygon([(x0, shoulder_y), (x0 - side * arm_w, shoulder_y), (x0 + side * width * 0.05, hip_y),
                      (x0 + side * (width * 0.05 + arm_w), hip_y)], fill=scale_rgb(garment, 0.85) + (255,))
        hx = x0 + side * (width * 0.05 + arm_w / 2)
        draw.ellipse([hx - arm_w * 0.55, hip_y - arm_w * 0.2, hx + arm_w * 0.55, hip_y + arm_w * 0.9], fill=skin + (255,))
    draw.rectangle([cx - head_r * 0.4, head_cy + head_r * 0.7, cx + head_r * 0.4, shoulder_y + 2], fill=skin + (255,))
    draw.ellipse([cx - head_r, head_cy - head_r, cx + head_r, head_cy + head_r], fill=skin + (255,), outline=outline)
    draw.chord([cx - head_r * 1.05, head_cy - head_r * 1.1, cx + head_r * 1.05, head_cy + head_r * 0.6], 180, 360,
               fill=hair + (255,))
    eye = max(1.0, head_r * 0.12)
    for side in (-1, 1):
        ex = cx + side * head_r * 0.38
        draw.ellipse([ex - eye, head_cy - eye * 0.2, ex + eye, head_cy + eye * 1.8], fill=(20, 20, 24, 255))

    # Wardrobe band with its words, then the name label.
    band_top, band_bottom = shoulder_y + height * 0.07, shoulder_y + height * 0.16
    draw.rectangle([cx - shoulder_w * 0.9, band_top, cx + shoulder_w * 0.9, band_bottom],
                   fill=scale_rgb(garment, 0.7) + (255,))
    if wardrobe:
        fnt = font(max(6, int(height * 0.026)))
        lines = wrap(draw, wardrobe, fnt, int(shoulder_w * 1.7), max_lines=2)
        y = band_top + 2
        for line in lines:
            draw.text((cx, y), line, font=fnt, fill=(245, 245, 240, 255), anchor="ma")
            y += fnt.size + 1 if hasattr(fnt, "size") else 8
    title = str(params.get("title") or name.removeprefix("std."))
    fnt = font(max(7, int(height * 0.035)))
    label_y = hip_y + height * 0.06
    tw = draw.textlength(title, font=fnt)
    draw.rectangle([cx - tw / 2 - 3, label_y - 2, cx + tw / 2 + 3, label_y + fnt.size + 3], fill=(0, 0, 0, 190))
    draw.text((cx, label_y), title, font=fnt, fill=(255, 255, 255, 255), anchor="ma")

    # States: badges down the side; blood gets splatter on the face and shirt.
    fnt = font(max(6, int(height * 0.028)))
    y = shoulder_y
    for state in states:
        text = state.replace("_", " ").upper()
        tw = draw.textlength(text, font=fnt)
        x0 = max(1.0, width - tw - 8)
        draw.rounded_rectangle([x0, y, x0 + tw + 6, y + fnt.size + 4], radius=3, fill=BADGE_RED + (235,))
        draw.text((x0 + 3, y + 2), text, font=fnt, fill=(255, 255, 255, 255))
        y += fnt.size + 8
    if any(s in ("bloody", "bleeding", "wounded", "injured") for s in states):
        for _ in range(14):
            sx = cx + rng.uniform(-shoulder_w, shoulder_w) * 0.8
            sy = rng.uniform(head_cy - head_r * 0.5, hip_y)
            r = rng.uniform(1.0, max(1.5, head_r * 0.25))
            draw.ellipse([sx - r, sy - r, sx + r, sy + r], fill=(150, 10, 14, 255))
    return image
