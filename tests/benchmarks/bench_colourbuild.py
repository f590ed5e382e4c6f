"""Benchmark: the build's grade paths and the grade's share of a build.

1. footage: a preview grade chain (rec709 display -> ACEScg -> shot match -> std.teal_orange at
   80% -> rec709, as runtime/preview/grading.py builds it) baked by `bake_chain` at the preview's
   65^3 and run the way a footage shot's grade node runs it (`format=gbrpf32le,lut1d,lut3d,lut1d`,
   back to gbrp) on FRAMES 1080p testsrc2 frames, minus the same pipeline without the grade stages.
   Reports grade-only frames/s and the bake's own time (once per distinct chain) and chart error.
2. stills: a painted shot is two still layers graded once through the exact OCIO chain
   (grading.grade_codes: each distinct colour once); timed on a 1080p testsrc2 frame (a busy
   picture: many more colours than a painted plate) and on the short example's own plates.
3. share: a cold `filmc build` of examples/short (web_mp4, --scale SCALE): the grade nodes' worker
   time over all nodes' worker time, from the build's JSON events. Assembly runs no colour filter.
Run: python tests/benchmarks/bench_colourbuild.py [--frames 48] [--scale 0.5]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from filmc.runtime.colour.ffmpeg_filters import ffmpeg_exe
from filmc.runtime.colour.match import LabTransfer
from filmc.runtime.preview.grading import BAKE_SIZE, _bake, _chain, _in_float_rounded

REPO = Path(__file__).resolve().parents[2]
SHORT = REPO / "examples" / "short" / "blackout.film"
GRADE = {"name": "std.teal_orange", "lut": {"path": "std:luts/teal_orange.cube"}, "strength": 0.8,
         "exposure": 0.0, "contrast": 1.0, "pivot": 0.18, "saturation": 1.0, "temperature": 0.0, "tint": 0.0}
MATCH = LabTransfer("ACEScg", (40.0, 6.0, -4.0), (42.0, 2.0, 1.0), (1.05, 0.9, 1.1))


def run_null(vf_args: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", *vf_args, "-f", "null", "-"],
                   check=True, cwd=cwd)
    return time.perf_counter() - start


def throughput(frames: int) -> None:
    from filmc.runtime.colour.library import resolve_lut

    start = time.perf_counter()
    chain = _chain(GRADE, resolve_lut("std.teal_orange"), "rec709", "ACEScg", MATCH)
    bake, accuracy = _bake(chain)
    bake_s = time.perf_counter() - start
    graded = _in_float_rounded(bake.ffmpeg_filter)
    src = ["-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=24", "-frames:v", str(frames)]
    base = min(run_null([*src, "-vf", "format=gbrp"]) for _ in range(2))
    with_grade = min(run_null([*src, "-vf", f"format=gbrp,{graded}"]) for _ in range(2))
    grade_s = max(with_grade - base, 1e-9)
    print(f"bake {BAKE_SIZE}^3 + shaper + output encoding: {bake_s:.2f} s once per distinct chain, "
          f"chart max error {accuracy['max_10bit_codes']:.2f} 10-bit codes ({accuracy['in_gamut']} in-gamut colours)")
    print(f"1080p, {frames} frames: source only {frames / base:.1f} fps, source + grade {frames / with_grade:.1f} fps")
    print(f"grade alone (float convert, lut1d, lut3d tetrahedral, lut1d, back to gbrp): {frames / grade_s:.1f} fps, "
          f"{grade_s / frames * 1000:.1f} ms per 1080p frame")


def stills() -> None:
    import numpy as np
    from filmc.runtime.colour.library import resolve_lut
    from filmc.runtime.preview.grading import grade_codes

    chain = _chain(GRADE, resolve_lut("std.teal_orange"), "rec709", "ACEScg", MATCH)
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=1920x1080", "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    picture = np.frombuffer(raw, np.uint8).reshape(-1, 3)
    grade_codes(chain, picture[:1000])  # warm the chain's processors
    start = time.perf_counter()
    graded = grade_codes(chain, picture)
    colour_s = time.perf_counter() - start
    start = time.perf_counter()
    exact = chain.apply(picture.reshape(1080, 1920, 3).astype(np.float32) / 255.0)
    pixel_s = time.perf_counter() - start
    same = np.array_equal(graded.reshape(1080, 1920, 3), (np.clip(exact, 0, 1) * 255 + 0.5).astype(np.uint8))
    print(f"1080p still through the exact chain: {colour_s:.3f} s once per distinct colour "
          f"({len(np.unique(picture, axis=0))} colours), {pixel_s:.3f} s pixel by pixel; identical: {same}")


def share(scale: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out, cache = Path(tmp) / "out", Path(tmp) / "cache"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "filmc.cli", "build", str(SHORT), "-o", str(out), "--cache",
                               str(cache), "--scale", str(scale), "--profile", "web_mp4", "--json"],
                              capture_output=True, text=True, cwd=REPO)
        build_s = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
            raise SystemExit(f"build failed ({proc.returncode})")
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        finished = [e for e in events if e["event"] == "node_finished"]
        grade_nodes = [e["duration_s"] for e in finished if e["node"].get("op") == "grade"]
        total = sum(e["duration_s"] for e in finished)
        (graph_path,) = (cache / "objects").glob("*/*/filtergraph.txt")
        colour_filters = len(re.findall(r"lut1d|lut3d", graph_path.read_text(encoding="utf-8")))
    print(f"examples/short at scale {scale}: cold build {build_s:.1f} s wall, {total:.1f} s of node worker time; "
          f"{len(grade_nodes)} grade nodes, {sum(grade_nodes):.1f} s, median {sorted(grade_nodes)[len(grade_nodes) // 2]:.2f} s; "
          f"colour filters in the assembled graph: {colour_filters}")
    print(f"grade share of the build: {sum(grade_nodes) / total:.0%} of node worker time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--scale", type=float, default=0.5)
    args = parser.parse_args()
    throughput(args.frames)
    stills()
    share(args.scale)


if __name__ == "__main__":
    main()
