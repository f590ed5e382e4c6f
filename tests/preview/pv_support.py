"""Helpers for the preview backend's tests: tiny films, in-process builds, decoding and the cache index.

Builds run the real `filmc build` code path (check, plan, executor with worker processes,
delivery); outputs are measured by decoding them with PyAV and by reading the cache's
SQLite index directly, so the tests do not trust the code they test.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from filmc.runtime.build import BuildOptions, BuildOutcome, build
from PIL import Image

REPO = Path(__file__).resolve().parents[2]

SOLIDS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 30), "black": (0, 0, 0),
          "white": (255, 255, 255)}


def solid_png(path: Path, rgb: tuple[int, int, int], size: tuple[int, int] = (64, 36)) -> Path:
    Image.new("RGB", size, rgb).save(path)
    return path


def write_film(folder: Path, name: str, text: str, solids: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if solids:
        for colour, rgb in SOLIDS.items():
            solid_png(folder / f"{colour}.png", rgb)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Built:
    code: int
    out: Path
    cache: Path
    stdout: str
    stderr: str
    outcome: BuildOutcome

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def file(self, name: str) -> Path:
        return self.out / name


def run_build(film: Path, out: Path, cache: Path, *, scale: float | None = 1.0, profiles: list[str] | None = None,
              only: list[str] | None = None, json_lines: bool = True, jobs: int | None = None) -> Built:
    opts = BuildOptions(film=film, out=out, cache=cache, scale=scale, profiles=profiles, only=only,
                        json=json_lines, jobs=jobs)
    stdout, stderr = io.StringIO(), io.StringIO()
    outcome = build(opts, stdout, stderr)
    return Built(outcome.code, out, cache, stdout.getvalue(), stderr.getvalue(), outcome)


def decoded_frames(path: Path, fmt: str = "rgb24") -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format=fmt) for frame in container.decode(video=0)]


def frame_hashes(path: Path) -> list[str]:
    """sha256 of every decoded frame in the stream's own pixel format (no conversion)."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            h = hashlib.sha256()
            for plane in frame.planes:
                h.update(bytes(plane))
            out.append(h.hexdigest())
    return out


def query(cache: Path, sql: str, *args: object) -> list[tuple]:
    db = sqlite3.connect(f"file:{cache / 'index.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def last_run(cache: Path) -> int:
    rows = query(cache, "SELECT MAX(run_id) FROM runs")
    return int(rows[0][0] or 0)


def executed_since(cache: Path, run_id: int) -> list[tuple[str, str]]:
    """(op, label) of every node execution started in runs after `run_id`."""
    return query(cache, "SELECT op, label FROM executions WHERE run_id > ? ORDER BY started", run_id)


def timeline_frames(film: Path) -> tuple[int, str]:
    """The film's length in frames as the OTIO timeline computes it, and its rate."""
    from filmc.compiler.check import check_file
    from filmc.compiler.timeline import build_timeline

    result = check_file(film)
    assert result.film is not None and not result.has_errors
    timeline = build_timeline(result.film)
    return int(timeline.tracks[0].duration().value), result.film.header.fps


TWO_SHOTS = """\
film "Two Shots" {
  resolution 128x72
  fps 24
  loudness -14 LUFS
  export web_mp4
}

character ada "Ada" {
  look "young keeper, red knitted hat"
  voice std.en_gb_female
  wears "yellow oilskin coat"
}

location room "Lamp room" {
  look "top of a lighthouse, brass lamp"
}

scene first "First" at room, dawn with ada {
  shot wide 1s {
    camera pan_right
    action "The lamp turns."
  }
  dissolve 6f
  shot close_up 1s on ada {
    camera handheld
    action "Ada looks up."
  }
}
"""
