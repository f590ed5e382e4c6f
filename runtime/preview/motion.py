"""Camera moves as ffmpeg expressions over the frame index `n`: no pixels, just maths.

Each layer (background, subjects) gets three expressions: its scale (1 = one
layer pixel per output pixel; the layers are drawn at frame size x OVERSCAN)
and the camera window's offset from the layer centre in output pixels (x right,
y down). ffmpeg evaluates them per frame (`scale=...:eval=frame`, `crop=x:y`).

Primitives (amount already multiplied by the speed factor, see stdlib/camera.film):
- static: nothing moves.
- zoom: a lens zoom to `amount` at the end, exponential so it feels even; every
  layer alike (a zoom has no parallax).
- pan / tilt: the camera turns; every layer slides alike by `amount` of the frame.
- dolly: the camera travels in; near subjects grow by `amount`, the background
  by half as much (parallax).
- truck / crane: the camera travels sideways / up; subjects slide by `amount`,
  the background by half (far things move less).
- orbit: the camera circles the subject; the background sweeps by `amount`
  while the subjects drift a little the other way.
- handheld: a seeded sum of three sines per axis (0.4-3.7 Hz), peak `amount`
  of the frame; deterministic for a seed.
Moves ease in and out (smoothstep over the shot). A base zoom, found by
evaluating the expressions at every frame, keeps the window inside the layers.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import asdict, dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

OVERSCAN = 1.25
PRIMITIVES = ("static", "zoom", "pan", "tilt", "dolly", "truck", "crane", "handheld", "orbit")
PARALLAX = 0.5
"""How far the background moves relative to the subjects when the camera travels."""
ORBIT_SUBJECT_DRIFT = -0.15
EDGE_MARGIN_PX = 2.0


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def layer_size(width: int, height: int) -> tuple[int, int]:
    """Pixel size of the background and subjects layers for a frame size."""
    return _even(width * OVERSCAN), _even(height * OVERSCAN)


def num(value: float) -> str:
    """A number as expressions spell it: fixed precision, so the same move is the same text."""
    text = f"{value:.9g}"
    if text in ("-0", "0"):
        return "0"
    return f"({text})" if text.startswith("-") else text


@dataclass(frozen=True)
class LayerMotion:
    zoom: str
    """Layer scale over n (includes the base zoom)."""
    x: str
    """Camera window offset from the layer centre, output pixels, over n."""
    y: str
    zoom_constant: bool
    offset_constant: bool

    @property
    def static(self) -> bool:
        return self.zoom_constant and self.offset_constant


@dataclass(frozen=True)
class Motion:
    primitive: str
    move: str
    amount: float
    speed: str | None
    factor: float
    frames: int
    fps: str
    seed: int
    resolution: tuple[int, int]
    layer_resolution: tuple[int, int]
    overscan: float
    base_zoom: float
    background: LayerMotion
    subjects: LayerMotion

    @property
    def static(self) -> bool:
        return self.background.static and self.subjects.static

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["resolution"] = list(self.resolution)
        data["layer_resolution"] = list(self.layer_resolution)
        data["static"] = self.static
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Motion:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["background"] = LayerMotion(**data["background"])
        fields["subjects"] = LayerMotion(**data["subjects"])
        fields["resolution"] = tuple(data["resolution"])
        fields["layer_resolution"] = tuple(data["layer_resolution"])
        return cls(**fields)


_ENV = {"sin": math.sin, "pow": math.pow, "trunc": math.trunc, "__builtins__": {}}


@lru_cache(maxsize=256)
def _compiled(expression: str):
    if not set(expression) <= _EXPRESSION_CHARS:
        raise ValueError(f"not a motion expression: {expression!r}")
    return compile(expression, "<motion>", "eval")


_EXPRESSION_CHARS = set("0123456789.+-*/()e, nsinpowtrunc")


def evaluate(expression: str, n: int) -> float:
    """Value of one of our expressions at frame n (they use only + - * / sin pow trunc)."""
    return float(eval(_compiled(expression), _ENV, {"n": n}))  # noqa: S307 - generated text, checked above


def _progress(frames: int) -> str:
    """Smoothstep 0 -> 1 over the shot's frames."""
    if frames <= 1:
        return "0"
    p = f"(n/{frames - 1})"
    return f"({p}*{p}*(3-2*{p}))"


def _shake(rng: random.Random, fps: float) -> str:
    """A sum of three sines with seeded frequencies and phases, peak 1."""
    parts = []
    for (lo, hi), weight in (((0.4, 0.9), 0.55), ((1.1, 1.9), 0.3), ((2.3, 3.7), 0.15)):
        omega = 2 * math.pi * rng.uniform(lo, hi) / fps
        phase = rng.uniform(0, 2 * math.pi)
        parts.append(f"{num(weight)}*sin({num(omega)}*n+{num(phase)})")
    return "(" + "+".join(parts) + ")"


def camera_motion(camera: dict[str, Any], frames: int, fps: str, width: int, height: int, seed: int) -> Motion:
    """The move of one shot (camera = the animate node's `camera` param)."""
    primitive = str(camera.get("motion") or "static")
    if primitive not in PRIMITIVES:
        raise ValueError(f"unknown camera motion {primitive!r}; known: {', '.join(PRIMITIVES)}")
    amount = float(camera.get("amount") or 0.0)
    rate = float(Fraction(fps))
    e = _progress(frames)
    one, zero = "1", "0"
    zb = zs = one
    xb = xs = yb = ys = zero
    if primitive == "zoom" and amount > 0 and amount != 1.0:
        zb = zs = f"pow({num(amount)},{e})"
    elif primitive == "dolly" and amount:
        zs = f"(1+{num(amount)}*{e})"
        zb = f"(1+{num(amount * PARALLAX)}*{e})"
    elif primitive == "pan" and amount:
        xb = xs = f"({num(amount * width)}*({e}-0.5))"
    elif primitive == "tilt" and amount:
        yb = ys = f"({num(-amount * height)}*({e}-0.5))"
    elif primitive == "truck" and amount:
        xs = f"({num(amount * width)}*({e}-0.5))"
        xb = f"({num(amount * width * PARALLAX)}*({e}-0.5))"
    elif primitive == "crane" and amount:
        ys = f"({num(-amount * height)}*({e}-0.5))"
        yb = f"({num(-amount * height * PARALLAX)}*({e}-0.5))"
    elif primitive == "orbit" and amount:
        xb = f"({num(amount * width)}*({e}-0.5))"
        xs = f"({num(amount * width * ORBIT_SUBJECT_DRIFT)}*({e}-0.5))"
    elif primitive == "handheld" and amount:
        rng = random.Random(seed)
        sx, sy = _shake(rng, rate), _shake(rng, rate)
        xb = xs = f"({num(amount * width)}*{sx})"
        yb = ys = f"({num(amount * height)}*{sy})"
    lw, lh = layer_size(width, height)
    base = _base_zoom([(zb, xb, yb), (zs, xs, ys)], frames, width, height, lw / width, lh / height)

    def layer(z: str, x: str, y: str) -> LayerMotion:
        zoom = z if base == 1.0 else (num(base) if z == one else f"{num(base)}*{z}")
        return LayerMotion(zoom=zoom, x=x, y=y, zoom_constant=z == one, offset_constant=x == zero and y == zero)

    return Motion(primitive=primitive, move=str(camera.get("move") or "std.static"), amount=amount,
                  speed=camera.get("speed"), factor=float(camera.get("factor") or 1.0), frames=frames, fps=fps,
                  seed=seed, resolution=(width, height), layer_resolution=(lw, lh), overscan=OVERSCAN,
                  base_zoom=base, background=layer(zb, xb, yb), subjects=layer(zs, xs, ys))


def _base_zoom(layers: list[tuple[str, str, str]], frames: int, width: int, height: int, over_x: float,
               over_y: float) -> float:
    """Smallest zoom >= 1 keeping the camera window inside every layer at every frame."""
    need = 1.0
    for z, x, y in layers:
        for n in range(max(1, frames)):
            zoom = evaluate(z, n)
            need = max(need, (1 + (2 * abs(evaluate(x, n)) + 2 * EDGE_MARGIN_PX) / width) / (over_x * zoom),
                       (1 + (2 * abs(evaluate(y, n)) + 2 * EDGE_MARGIN_PX) / height) / (over_y * zoom))
    return 1.0 if need <= 1.0 else math.ceil(need * 1e4) / 1e4



_NUMPY_ENV = {"sin": np.sin, "pow": np.power, "trunc": np.trunc, "__builtins__": {}}


def evaluate_frames(expression: str, frames: int) -> np.ndarray:
    """`evaluate` at every frame 0..frames-1 at once (float64, as ffmpeg's evaluator)."""
    n = np.arange(frames, dtype=np.float64)
    value = eval(_compiled(expression), _NUMPY_ENV, {"n": n})  # noqa: S307 - generated text, checked
    return np.broadcast_to(np.asarray(value, dtype=np.float64), n.shape)


def layer_geometry(layer: LayerMotion, layer_w: int, layer_h: int, width: int, height: int,
                   frames: int) -> list[np.ndarray]:
    """Per frame, the continuous scaled width and height and crop x and y of one layer, in output
    pixels, before ffmpeg rounds them (sizes to even numbers, the window to whole pixels)."""
    k = evaluate_frames(layer.zoom, frames)
    w, h = layer_w * k, layer_h * k
    return [w, h, (w - width) / 2 + evaluate_frames(layer.x, frames), (h - height) / 2 + evaluate_frames(layer.y, frames)]


SLOW_MOVE_LIMITS = (4.0, 4.0, 2.0, 2.0)
"""How little a layer's scaled size and its window (output pixels) may move over a stretch for the
picture to read as still there: ffmpeg rounds each frame's geometry (sizes to even pixels, the window
to whole ones), and a shift of a pixel or two of a painted layer stays under QC's freeze threshold
(-60 dB). Measured on the feature at 120x68: 378 frozen stretches, all inside these limits."""


def slow_move_stretches(layers: list[list[np.ndarray]], min_frames: int) -> list[list[int]]:
    """[first, end) frame ranges of at least `min_frames` over which no layer's size or window moves as
    far as SLOW_MOVE_LIMITS: a camera move that slow may render frozen-looking frames there, so a
    frozen picture within them is the move, not a fault. The ranges are the union of the longest such
    window from every frame (two pointers, running max/min)."""
    series = [(values, limit) for geometry in layers for values, limit in zip(geometry, SLOW_MOVE_LIMITS, strict=True)]
    frames = min((len(v) for v, _ in series), default=0)
    highs: list[deque[int]] = [deque() for _ in series]
    lows: list[deque[int]] = [deque() for _ in series]
    windows: list[list[int]] = []
    end = 0  # the window is [start, end)

    def fits(f: int) -> bool:
        return all(max(v[highs[k][0]], v[f]) - min(v[lows[k][0]], v[f]) < limit if highs[k] else True
                   for k, (v, limit) in enumerate(series))

    for start in range(frames):
        for k in range(len(series)):
            while highs[k] and highs[k][0] < start:
                highs[k].popleft()
            while lows[k] and lows[k][0] < start:
                lows[k].popleft()
        while end < frames and (end == start or fits(end)):
            for k, (v, _) in enumerate(series):
                while highs[k] and v[highs[k][-1]] <= v[end]:
                    highs[k].pop()
                highs[k].append(end)
                while lows[k] and v[lows[k][-1]] >= v[end]:
                    lows[k].pop()
                lows[k].append(end)
            end += 1
        if end - start >= min_frames:
            if windows and start <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], end)
            else:
                windows.append([start, end])
    return windows
