"""Helpers for the colour build tests: a tiny film whose scene's shots are tinted apart.

The reference shot is painted from a user plate (a colourful gradient); the other shots are
footage (`media`) made from the same picture tinted red, green and blue, so shot matching has
something real to undo and the test fails if it does not.
"""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filmc.runtime.build import BuildOptions, BuildOutcome, build
from filmc.runtime.media_tools import ffmpeg_exe
from PIL import Image

TINTS = {"red": (1.0, 0.62, 0.62), "green": (0.62, 1.0, 0.62), "blue": (0.62, 0.62, 1.0)}
SIZE = (128, 72)


def base_picture(size: tuple[int, int] = SIZE) -> np.ndarray:
    """A deterministic colourful picture (uint8 H x W x 3): 10 hue cycles across, 5 brightness cycles down.

    Periodic so that the reference shot's keyframe (the plate's centre 80%, after the layers'
    1.25 overscan) holds whole cycles and has the same colour statistics as the full picture.
    """
    w, h = size
    x, y = np.meshgrid(np.arange(w) / w, np.arange(h) / h)
    hue = 2 * np.pi * 10 * x
    value = 0.5 + 0.3 * np.cos(2 * np.pi * 5 * y)
    rgb = np.stack([value * (0.6 + 0.3 * np.cos(hue + k * 2 * np.pi / 3)) for k in range(3)], axis=-1)
    return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def tinted_clip(path: Path, tint: tuple[float, float, float], frames: int = 24) -> Path:
    """One second of the base picture with per-channel gains, losslessly (FFV1, RGB)."""
    picture = np.round(base_picture().astype(np.float64) * np.asarray(tint)).astype(np.uint8)
    w, h = SIZE
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
           "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", "24", "-i", "pipe:0", "-frames:v", str(frames),
           "-c:v", "ffv1", "-pix_fmt", "bgr0", str(path)]
    subprocess.run(cmd, input=picture.tobytes() * frames, check=True)
    return path


FILM = """film "Tinted" {
  resolution 128x72
  fps 24
  export web_mp4, hdr10_hevc
}
style warmish { grade std.warm at 60% }
location room "A painted room" { look "a room"; plate "base.png" }
scene tints at room, day {
  style warmish
  shot wide 12f { camera static }
  shot red: wide 12f { media "red.mkv" }
  shot green: wide 12f { media "green.mkv" }
  shot blue: wide 12f { media "blue.mkv" }
}
"""


def write_tinted_film(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(base_picture((256, 144))).save(folder / "base.png")
    for name, tint in TINTS.items():
        tinted_clip(folder / f"{name}.mkv", tint)
    path = folder / "tinted.film"
    path.write_text(FILM, encoding="utf-8")
    return path


@dataclass
class Built:
    code: int
    out: Path
    stderr: str
    outcome: BuildOutcome

    def qc(self) -> dict:
        return json.loads((self.out / "qc.json").read_text(encoding="utf-8"))


def run_build(film: Path, out: Path, cache: Path, profiles: list[str] | None = None) -> Built:
    opts = BuildOptions(film=film, out=out, cache=cache, scale=1.0, profiles=profiles, only=None, json=True,
                        jobs=None)
    stdout, stderr = io.StringIO(), io.StringIO()
    outcome = build(opts, stdout, stderr)
    return Built(outcome.code, out, stderr.getvalue(), outcome)
