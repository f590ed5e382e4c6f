"""Benchmarks of `filmc build` with the preview backend (whole processes, wall clock).

    .venv/bin/python tests/benchmarks/bench_build.py                 # everything, medians of 5 (full scale: 3)
    .venv/bin/python tests/benchmarks/bench_build.py --repeat 1      # one run each, for a quick look
    .venv/bin/python tests/benchmarks/bench_build.py --only edit     # one part: short, noop, feature, edit

1. short: a cold build of examples/short (web_mp4) at the preview scale (0.5) and full scale, as a
   realtime factor (film seconds per wall second) and as a ratio to the floor: ffmpeg alone
   encoding the same number of frames at the same size with the same video arguments
   (`-f lavfi -i testsrc2`), timed in the same run.
2. noop: a no-op rebuild of the short example (target < 1 s).
3. feature: a no-op rebuild of examples/feature (target < 3 s). Rendering the feature is too slow
   here, so it is built once at scale 0.0625 (120x68, web_mp4 only) into --feature-cache (kept
   between runs: pass the same folder to skip the build) and the rebuild is timed.
4. edit: a 20-shot film (2 s stills at 640x360, 12-frame dissolves) assembled and encoded three ways
   from the same 20 pictures: filmc's filtergraph (as its encode runs it, video only), one
   hand-written ffmpeg xfade filtergraph (target: filmc within 1.15x of it), and MoviePy 2.2.1
   (`--moviepy-python`: MoviePy pins pillow<12, so it lives in its own venv:
   `python3.11 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install moviepy==2.2.1`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHORT = REPO / "examples" / "short" / "blackout.film"
FEATURE = REPO / "examples" / "feature" / "feature.film"


def filmc(*args: str) -> float:
    """Wall seconds of one `filmc` process; raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "filmc.cli", *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"filmc {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def film_facts(film: Path, scale: float) -> tuple[int, str, int, int]:
    from filmc.compiler.check import check_file
    from filmc.compiler.plan import layout

    result = check_file(film)
    assert result.film is not None and not result.has_errors
    h = result.film.header
    w, hgt = (max(2, round(h.width * scale / 2) * 2), max(2, round(h.height * scale / 2) * 2))
    return layout(result.film).total_frames, h.fps, w, hgt


def web_mp4_args():
    """web_mp4's encode arguments exactly as the preview encode builds them."""
    from filmc.runtime.preview.encode import ENCODER_THREADS
    from filmc.runtime.profiles import encode_args

    props = {"container": "mp4", "video": "h264", "video_profile": "high", "pixel_format": "yuv420p", "crf": 20,
             "preset": "medium", "colour": "rec709"}
    return encode_args("floor", props, threads=ENCODER_THREADS)


def video_args() -> list[str]:
    """web_mp4's video arguments exactly as the preview encode passes them."""
    return web_mp4_args().video


def floor(frames: int, fps: str, w: int, h: int, out: Path) -> float:
    from filmc.runtime.media_tools import ffmpeg_exe

    return timed([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={fps}",
                  "-frames:v", str(frames), *video_args(), str(out)])


def bench_short(repeat: int, repeat_full: int, results: dict) -> None:
    for scale, n in ((0.5, repeat), (1.0, repeat_full)):
        frames, fps, w, h = film_facts(SHORT, scale)
        seconds = float(Fraction(frames) / Fraction(fps))
        builds, floors = [], []
        for _ in range(n):
            with tempfile.TemporaryDirectory() as tmp:
                builds.append(filmc("build", str(SHORT), "--scale", str(scale), "--profile", "web_mp4",
                                    "--cache", f"{tmp}/cache", "-o", f"{tmp}/out"))
                floors.append(floor(frames, fps, w, h, Path(tmp) / "floor.mp4"))
        b, f = median(builds), median(floors)
        results[f"short cold build, scale {scale:g} ({w}x{h}, {frames} frames)"] = {
            "runs": n, "build_s": round(b, 2), "floor_s": round(f, 2), "realtime_factor": round(seconds / b, 2),
            "ratio_to_floor": round(b / f, 2), "all_builds_s": [round(x, 2) for x in builds],
            "all_floors_s": [round(x, 2) for x in floors]}


def bench_noop(repeat: int, results: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        filmc("build", str(SHORT), "--scale", "0.25", "--cache", f"{tmp}/cache", "-o", f"{tmp}/out")
        walls = [filmc("build", str(SHORT), "--scale", "0.25", "--cache", f"{tmp}/cache", "-o", f"{tmp}/out")
                 for _ in range(repeat)]
    results["short no-op rebuild (whole process)"] = {"runs": repeat, "median_s": round(median(walls), 3),
                                                      "all_s": [round(x, 3) for x in walls], "target_s": 1.0}


def bench_feature(repeat: int, cache: Path, results: dict) -> None:
    args = ["build", str(FEATURE), "--scale", "0.0625", "--profile", "web_mp4", "--cache", str(cache),
            "-o", str(cache.parent / "feature_out")]
    first = filmc(*args)
    walls = [filmc(*args) for _ in range(repeat)]
    results["feature no-op rebuild (whole process, scale 0.0625)"] = {
        "runs": repeat, "median_s": round(median(walls), 3), "all_s": [round(x, 3) for x in walls],
        "first_run_s": round(first, 1), "target_s": 3.0,
        "note": "the first run builds the feature when the cache is empty, else it delivers into a new folder"}


EDIT_SHOTS = 20
EDIT_FRAMES = 48
EDIT_DISSOLVE = 12


def edit_film() -> str:
    places = ["harbour", "street", "forest", "room", "beach"]
    lines = ['film "Twenty" {', "  resolution 640x360", "  fps 24", "  loudness -14 LUFS", "  export web_mp4", "}", ""]
    for p in places:
        lines += [f'location {p} "{p.title()}" {{', f'  look "a {p}"', "}", ""]
    lines += ['scene all "All" at harbour, day {']
    for k in range(EDIT_SHOTS):
        if k:
            lines.append(f"  dissolve {EDIT_DISSOLVE}f")
        lines.append(f"  shot wide {EDIT_FRAMES}f {{ camera static; action \"Still {k + 1}.\" }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


MOVIEPY_SCRIPT = """
import sys
from moviepy import ImageClip, concatenate_videoclips, vfx
pngs, out, seconds, fade = sys.argv[1].split(","), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
clips = [ImageClip(p).with_duration(seconds) for p in pngs]
clips = [clips[0]] + [c.with_effects([vfx.CrossFadeIn(fade)]) for c in clips[1:]]
video = concatenate_videoclips(clips, method="compose", padding=-fade)
video.write_videofile(out, fps=24, codec="libx264", preset="medium", audio=False, threads=2,
                      ffmpeg_params=["-crf", "20", "-profile:v", "high", "-pix_fmt", "yuv420p"], logger=None)
"""


def bench_edit(repeat: int, moviepy_python: str | None, results: dict) -> None:
    from filmc.runtime.media_tools import ffmpeg_exe

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        film = tmp / "twenty.film"
        film.write_text(edit_film(), encoding="utf-8")
        cold = filmc("build", str(film), "--scale", "1", "--cache", str(tmp / "cache"), "-o", str(tmp / "out"))
        objects = tmp / "cache" / "objects"
        # The graph web_mp4's encode runs: composited in 4:2:0, so its tail only tags the frames.
        (graph,) = list(objects.glob("*/*/filtergraph_yuv420p.txt"))
        total = EDIT_SHOTS * EDIT_FRAMES - (EDIT_SHOTS - 1) * EDIT_DISSOLVE
        tail = "scale=out_color_matrix=bt709:out_range=tv,setparams=color_primaries=bt709:color_trc=bt709" \
               ":colorspace=bt709:range=tv,format=yuv420p"
        script = tmp / "filmc_graph.txt"
        script.write_text(graph.read_text().rstrip() + f";\n[v]{web_mp4_args().yuv420p_tail}[vout]\n")
        filmc_cmd = [ffmpeg_exe(), "-v", "error", "-y", "-/filter_complex", str(script), "-map", "[vout]",
                     "-fps_mode:v", "passthrough", *video_args(), str(tmp / "filmc.mp4")]
        filmc_walls = [timed(filmc_cmd, cwd=objects) for _ in range(repeat)]
        # The 20 pictures, exactly as filmc rendered them: each shot's frame outside its dissolves.
        stills = []
        for k in range(EDIT_SHOTS):
            at = k * (EDIT_FRAMES - EDIT_DISSOLVE) + EDIT_FRAMES // 2
            png = tmp / f"still_{k:02d}.png"
            subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(tmp / "filmc.mp4"), "-vf",
                            f"select=eq(n\\,{at})", "-frames:v", "1", str(png)], check=True)
            stills.append(png)
        seconds, fade = EDIT_FRAMES / 24, EDIT_DISSOLVE / 24
        inputs: list[str] = []
        for png in stills:
            inputs += ["-loop", "1", "-framerate", "24", "-t", f"{seconds:.6f}", "-i", str(png)]
        parts, prev, length = [], "[0:v]", EDIT_FRAMES
        for k in range(1, EDIT_SHOTS):
            offset = (length - EDIT_DISSOLVE) / 24
            parts.append(f"{prev}[{k}:v]xfade=transition=fade:duration={fade:.6f}:offset={offset:.6f}[x{k}]")
            prev, length = f"[x{k}]", length + EDIT_FRAMES - EDIT_DISSOLVE
        parts.append(f"{prev}{tail}[vout]")
        hand_cmd = [ffmpeg_exe(), "-v", "error", "-y", *inputs, "-filter_complex", ";".join(parts), "-map", "[vout]",
                    *video_args(), str(tmp / "hand.mp4")]
        hand_walls = [timed(hand_cmd) for _ in range(repeat)]
        entry = {"frames": total, "size": "640x360", "runs": repeat,
                 "filmc_cold_build_s": round(cold, 2),
                 "filmc_filtergraph_encode_s": round(median(filmc_walls), 2),
                 "hand_written_xfade_s": round(median(hand_walls), 2),
                 "filmc_over_hand": round(median(filmc_walls) / median(hand_walls), 3), "target_ratio": 1.15}
        if moviepy_python:
            mp = [timed([moviepy_python, "-c", MOVIEPY_SCRIPT, ",".join(map(str, stills)), str(tmp / "moviepy.mp4"),
                         str(seconds), str(fade)]) for _ in range(max(1, min(repeat, 3)))]
            entry["moviepy_s"] = round(median(mp), 2)
            entry["moviepy_runs"] = len(mp)
            entry["moviepy_over_hand"] = round(median(mp) / median(hand_walls), 2)
        results["20-shot dissolve edit"] = entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--repeat-full", type=int, default=3, help="runs of the full-scale cold build (slow)")
    parser.add_argument("--only", choices=["short", "noop", "feature", "edit"], action="append")
    parser.add_argument("--feature-cache", type=Path, default=Path(tempfile.gettempdir()) / "filmc-bench-feature"
                        / "cache")
    parser.add_argument("--moviepy-python", default=os.environ.get("MOVIEPY_PYTHON", "/tmp/mpvenv/bin/python"))
    args = parser.parse_args()
    parts = set(args.only or ["short", "noop", "feature", "edit"])
    moviepy = args.moviepy_python if args.moviepy_python and Path(args.moviepy_python).is_file() else None
    results: dict = {"cpus": os.cpu_count()}
    if "short" in parts:
        bench_short(args.repeat, args.repeat_full, results)
    if "noop" in parts:
        bench_noop(args.repeat, results)
    if "feature" in parts:
        args.feature_cache.parent.mkdir(parents=True, exist_ok=True)
        bench_feature(args.repeat, args.feature_cache, results)
    if "edit" in parts:
        bench_edit(args.repeat, moviepy, results)
        if moviepy is None:
            results["20-shot dissolve edit"]["moviepy_s"] = "not run: no MoviePy interpreter (--moviepy-python)"
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
