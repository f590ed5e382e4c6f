"""Benchmark: the build's grade path (the colour library's bake, applied by ffmpeg) and its share of a build.

1. throughput: a preview grade chain (rec709 display -> ACEScg -> shot match -> std.teal_orange at
   80% -> rec709, as runtime/preview/grading.py builds it) baked by `bake_chain` at the preview's
   65^3 and run the way assemble runs it (`format=gbrpf32le,lut1d,lut3d,lut1d,format=gbrp`) on
   FRAMES 1080p testsrc2 frames, minus the same pipeline without the grade stages. Reports
   grade-only frames/s and the bake's own time (once per distinct chain) and chart error.
2. share: a cold `filmc build` of examples/short (web_mp4, --scale SCALE), with the grade nodes'
   time (bake + match, from the build's JSON events) and the grade stages' cost inside the
   encode's filtergraph (the assembled graph run to null with and without them).
   Layer shots (the animatic's) are graded once per layer frame before `loop`, footage per frame.
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
from filmc.runtime.preview.grading import in_float
from filmc.runtime.preview.grading import BAKE_SIZE, _bake, _chain

REPO = Path(__file__).resolve().parents[2]
SHORT = REPO / "examples" / "short" / "blackout.film"
GRADE = {"name": "std.teal_orange", "lut": {"path": "std:luts/teal_orange.cube"}, "strength": 0.8,
         "exposure": 0.0, "contrast": 1.0, "pivot": 0.18, "saturation": 1.0, "temperature": 0.0, "tint": 0.0}
MATCH = LabTransfer("ACEScg", (40.0, 6.0, -4.0), (42.0, 2.0, 1.0), (1.05, 0.9, 1.1))
STAGES = re.compile(r"format=gbra?pf32le,lut1d=[^,;]*,lut3d=[^,;]*,lut1d=[^,;]*,format=(gbrp|rgba)")


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
    graded = in_float(bake.ffmpeg_filter, "gbrp")
    src = ["-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=24", "-frames:v", str(frames)]
    base = min(run_null([*src, "-vf", "format=gbrp"]) for _ in range(2))
    with_grade = min(run_null([*src, "-vf", f"format=gbrp,{graded}"]) for _ in range(2))
    grade_s = max(with_grade - base, 1e-9)
    print(f"bake {BAKE_SIZE}^3 + shaper + output encoding: {bake_s:.2f} s once per distinct chain, "
          f"chart max error {accuracy['max_10bit_codes']:.2f} 10-bit codes ({accuracy['in_gamut']} in-gamut colours)")
    print(f"1080p, {frames} frames: source only {frames / base:.1f} fps, source + grade {frames / with_grade:.1f} fps")
    print(f"grade alone (float convert, lut1d, lut3d tetrahedral, lut1d, back to gbrp): {frames / grade_s:.1f} fps, "
          f"{grade_s / frames * 1000:.1f} ms per 1080p frame")


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
        grade_nodes = [e["duration_s"] for e in events if e["event"] == "node_finished"
                       and e["node"].get("op") == "grade"]
        objects = cache / "objects"
        (graph_path,) = objects.glob("*/*/filtergraph.txt")
        graph = graph_path.read_text(encoding="utf-8").rstrip().rstrip(";")
        plain = STAGES.sub("null", graph)
        script, bare = Path(tmp) / "graph.txt", Path(tmp) / "bare.txt"
        script.write_text(graph + ";\n[v]null[o]\n")
        bare.write_text(plain + ";\n[v]null[o]\n")
        with_grade = min(run_null(["-/filter_complex", str(script), "-map", "[o]"], objects) for _ in range(2))
        without = min(run_null(["-/filter_complex", str(bare), "-map", "[o]"], objects) for _ in range(2))
    stages = len(STAGES.findall(graph))
    in_graph = max(with_grade - without, 0.0)
    print(f"examples/short at scale {scale}: cold build {build_s:.1f} s wall; {len(grade_nodes)} grade nodes, "
          f"{sum(grade_nodes):.1f} s of worker time (bakes, matching), median {sorted(grade_nodes)[len(grade_nodes) // 2]:.2f} s")
    print(f"assembled picture to null: {with_grade:.2f} s with {stages} graded layer/clip chains, {without:.2f} s "
          f"without: grade stages cost {in_graph:.2f} s of the encode")
    print(f"grade share of the build: {(sum(grade_nodes) + in_graph) / build_s:.0%} "
          f"(worker time of grade nodes + their filter cost, over the build's wall time; workers run in parallel)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--scale", type=float, default=0.5)
    args = parser.parse_args()
    throughput(args.frames)
    share(args.scale)


if __name__ == "__main__":
    main()
