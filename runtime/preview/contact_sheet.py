"""The `contact_sheet` op: one graded frame per shot on a grid, labelled.

Each thumbnail is the shot's middle frame: for painted shots, its layers framed
by the camera move at that frame (the same expressions the filtergraph uses);
for footage, the clip's middle frame. Both come graded from the shot's grade node.
Under it: shot id, shot type abbreviation, duration (seconds and frames), scene.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from filmc.runtime.backend import NodeOutputs
from PIL import Image, ImageDraw

from .drawing import font, save_png
from .motion import evaluate
from .tools import fps_fraction, objects_root


def _layer_frame(path: Path, layer: dict[str, Any], n: int, width: int, height: int,
                 opaque: bool = False) -> Image.Image:
    """The layer as the camera frames it at frame `n`, in RGBA; `opaque` allows RGB for an RGB picture (no
    alpha to lose: Pillow resamples RGBA premultiplied, which at full alpha is the same arithmetic)."""
    with Image.open(path) as img:
        img.load()
        image = img if opaque and img.mode == "RGB" else img.convert("RGBA")
    k = evaluate(layer["zoom"], n)
    cw, ch = width / k, height / k
    cx = image.width / 2 + evaluate(layer["x"], n) / k
    cy = image.height / 2 + evaluate(layer["y"], n) / k
    box = (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)
    return image.resize((width, height), Image.Resampling.BILINEAR, box=box)


def _clip_frame(clip: Path, index: int) -> np.ndarray | None:
    """Frame `index` of the clip as RGB codes (its last frame if it is shorter; None if it has none): decoded
    from the keyframe before it where the codec allows (a graded clip's every frame is one), else by decoding
    every frame up to it."""
    import av

    from .grading import _frame_from_keyframe

    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        if 0 <= index < int(stream.frames or 0):
            found = _frame_from_keyframe(container, stream, index)
            if found is not None:
                return found
    with av.open(str(clip)) as container:
        frame = None
        for k, decoded in enumerate(container.decode(video=0)):
            frame = decoded
            if k >= index:
                break
        return None if frame is None else frame.to_ndarray(format="rgb24")


def shot_frame(info: dict[str, Any], root: Path, grade: NodeOutputs, width: int, height: int,
               size: tuple[int, int]) -> Image.Image:
    """The shot's middle frame at `size`, framed as at width x height, from its graded pictures."""
    from .grading import graded_source

    src = graded_source(grade, info)
    middle = int(info["frames"]) // 2
    if src["kind"] == "clip":
        frame = _clip_frame(root / src["clip"], middle)
        if frame is None:
            picture = Image.new("RGB", (width, height))
        else:
            picture = Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR)
    else:
        layers = src["layers"]
        picture = _layer_frame(root / layers["background"], src["background"], middle, width, height, True)
        if not src.get("subjects_empty"):
            picture = picture.convert("RGBA")
            picture.alpha_composite(_layer_frame(root / layers["subjects"], src["subjects"], middle, width, height))
        picture = picture.convert("RGB")
    return picture.resize(size, Image.Resampling.LANCZOS)


def contact_sheet(params: dict[str, Any], inputs: list[NodeOutputs], out: Path) -> None:
    shots = params["shots"]
    columns = max(1, int(params.get("columns", 6)))
    thumb_w = max(16, int(params.get("thumb_width", 320)))
    infos = [json.loads(inputs[int(s["input"])].path("grade.json").read_text(encoding="utf-8")) for s in shots]
    width, height = infos[0]["resolution"] if infos else (16, 9)
    thumb_h = max(9, round(thumb_w * height / width))
    label_h = max(12, thumb_w // 9)
    pad = max(2, thumb_w // 40)
    rows = max(1, -(-len(shots) // columns))
    sheet = Image.new("RGB", (columns * (thumb_w + pad) + pad, rows * (thumb_h + label_h + pad) + pad), (18, 18, 20))
    draw = ImageDraw.Draw(sheet)
    fnt = font(max(7, label_h * 5 // 11))
    for k, (shot, info) in enumerate(zip(shots, infos, strict=True)):
        grade = inputs[int(shot["input"])]
        frame = shot_frame(info, objects_root(grade), grade, width, height, (thumb_w, thumb_h))
        x = pad + (k % columns) * (thumb_w + pad)
        y = pad + (k // columns) * (thumb_h + label_h + pad)
        sheet.paste(frame, (x, y))
        seconds = Fraction(int(shot["frames"])) / fps_fraction(info["fps"])
        text = f"{shot['shot']}  {shot.get('abbrev') or ''}  {float(seconds):.2f}s ({shot['frames']}f)"
        draw.text((x + 2, y + thumb_h + 1), text, font=fnt, fill=(235, 235, 235))
        draw.text((x + 2, y + thumb_h + 1 + fnt.size), str(shot.get("scene") or ""), font=fnt, fill=(150, 150, 150))
    save_png(sheet, out)
