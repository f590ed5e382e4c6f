"""Benchmark: grading throughput at 1080p, exact OCIO chain vs baked LUTs (ffmpeg, numpy, OCIO).

The chain is a typical shot grade: sRGB picture -> ACEScg (inverse ACES 1.0 view) -> exposure,
white balance, contrast, saturation, std.teal_orange at 80% -> ACES 1.0 SDR Rec.709 view.
- exact: ColourChain.apply (OCIO CPU, bands of rows on every core), median of RUNS frames;
- ffmpeg: the bake's filter (lut1d, lut3d tetrahedral, lut1d) on FRAMES rgb48le frames streamed
  from a raw file, minus the same pipeline without the LUT filters (decode/convert cost);
- numpy / ocio: the bake applied by filmc's numpy interpolator and by OCIO FileTransforms.
Frames/s are wall-clock; CPU seconds per frame are shown beside them (honest on a shared machine).
`--accuracy` adds the bake-vs-exact error table for a set of chains (about a minute).
Run: python tests/benchmarks/bench_colour.py [--accuracy]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from filmc.runtime.colour.bake import apply_bake, bake_chain, measure_bake
from filmc.runtime.colour.chain import build_chain
from filmc.runtime.colour.ffmpeg_filters import ffmpeg_exe
from filmc.runtime.colour.grade import Grade

W, H = 1920, 1080
RUNS = 3
FRAMES = 48
GRADE = Grade(
    lut="std.teal_orange", strength=0.8, exposure=0.3, contrast=1.1, saturation=1.05, temperature=10
)


def frame() -> np.ndarray:
    """A 1080p sRGB test picture: gradients, a hue wheel band and noise (float32, 0-1)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32) / np.array([H, W], np.float32)[:, None, None]
    hue = (x * 6.0) % 6.0
    wheel = np.clip(np.stack([np.abs(hue - 3) - 1, 2 - np.abs(hue - 2), 2 - np.abs(hue - 4)], -1), 0, 1)
    img = np.where((y > 0.4)[..., None] & (y < 0.6)[..., None], wheel * 0.9, np.stack([x, y, 1 - x], -1))
    noise = np.random.default_rng(1).normal(0, 0.01, img.shape).astype(np.float32)
    return np.clip(img + noise, 0, 1).astype(np.float32)


def timed(fn, runs: int = RUNS) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (this process, all threads) of `fn()`."""
    walls, cpus = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def ffmpeg_seconds(raw: Path, vf: str) -> tuple[float, float]:
    """Wall and CPU seconds for ffmpeg to push FRAMES rgb48le 1080p frames through `vf`."""
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-stream_loop", str(FRAMES - 1), "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", f"{W}x{H}", "-i", str(raw),
        "-vf", vf, "-f", "null", "-",
    ]  # fmt: skip
    walls, cpus = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def throughput() -> None:
    img = frame()
    chain = build_chain(GRADE, "srgb", "rec709")
    chain.apply(img[:8])  # build processors before timing
    rows = []
    wall, cpu = timed(lambda: chain.apply(img))
    rows.append(("exact OCIO chain", 1 / wall, cpu))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "frame.rgb48"
        raw.write_bytes((np.round(img * 65535).astype("<u2")).tobytes())
        base_wall, base_cpu = ffmpeg_seconds(raw, "format=rgb48le")
        for size in (65, 97):
            t0 = time.perf_counter()
            bake = bake_chain(chain, tmp, size=size)
            bake_s = time.perf_counter() - t0
            wall, cpu = ffmpeg_seconds(raw, f"format=rgb48le,{bake.ffmpeg_filter}")
            rows.append((f"bake {size}^3 via ffmpeg (whole run)", FRAMES / wall, cpu / FRAMES))
            lut_wall = max(wall - base_wall, 1e-9)
            rows.append(
                (f"bake {size}^3 via ffmpeg (LUT filters only)", FRAMES / lut_wall, (cpu - base_cpu) / FRAMES)
            )
            for engine in ("numpy", "ocio"):
                apply_bake(img[:8], bake, engine)
                wall, cpu = timed(lambda bake=bake, engine=engine: apply_bake(img, bake, engine))
                rows.append((f"bake {size}^3 via {engine}", 1 / wall, cpu))
            print(f"bake {size}^3: written in {bake_s:.2f} s", flush=True)
        rows.append(("ffmpeg raw decode + format only", FRAMES / base_wall, base_cpu / FRAMES))
    print(f"\n1080p grade throughput ({os.cpu_count()} cores; chain: {' | '.join(chain.describe())})")
    print(f"{'path':44} {'frames/s':>9} {'CPU s/frame':>12}")
    for name, fps, cpu in rows:
        print(f"{name:44} {fps:9.2f} {cpu:12.3f}")


ACCURACY_CASES = [
    (Grade(), "srgb", "rec709", "aces"),
    (GRADE, "srgb", "rec709", "aces"),
    (GRADE, "srgb", "rec709", "colorimetric"),
    (Grade(lut="std.film_print", exposure=-0.5, tint=-10), "rec709", "srgb", "aces"),
    (Grade(lut="std.golden_hour"), "srgb", "rec2020", "aces"),
    (Grade(lut="std.day_for_night", contrast=1.2), "srgb", "p3d65", "aces"),
    (GRADE, "srgb", "hdr10", "aces"),
    (Grade(), "ACEScg", "rec709", "aces"),
    (GRADE, "ACEScg", "rec709", "aces"),
    (GRADE, "ACEScg", "hdr10", "aces"),
]


def accuracy() -> None:
    print("\nbake accuracy vs the exact chain, 10-bit codes (in-gamut chart colours; random: any saturation)")
    print(f"{'chain':44} {'size':>4} {'max':>6} {'p99':>6} {'in-gamut':>10} {'random max':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for grade, src, dst, rendering in ACCURACY_CASES:
            chain = build_chain(grade, src, dst, rendering=rendering)
            look = str(grade.lut).removeprefix("std.") if grade.lut else "no LUT"
            name = f"{src}->{dst} {rendering}, {look}{' +ops' if grade.exposure else ''}"
            for size in (65, 97):
                r = measure_bake(chain, bake_chain(chain, tmp, size=size))
                inside = f"{r.in_gamut}/{r.total}"
                print(
                    f"{name:44} {size:4} {r.max_codes:6.2f} {r.p99_codes:6.2f} {inside:>10} {r.max_codes_random:10.1f}"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description="filmc colour benchmark")
    parser.add_argument("--accuracy", action="store_true", help="also print the bake accuracy table")
    args = parser.parse_args()
    throughput()
    if args.accuracy:
        accuracy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
