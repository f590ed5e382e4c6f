"""Benchmark: whole-process `export_timeline` of a 750-shot film to each format (median of 5).

Each run is a fresh `python -c` that builds a contract timeline (750 shots with dissolves,
wipes, dips and fades, 750 shot and 188 scene markers, four audio tracks) and exports it once.
The same process without the export, measured in the same run, is subtracted, so the numbers
are the export alone, start-up and imports excluded. Wall-clock and CPU seconds are both shown:
CPU time stays honest when other work shares the machine.
Run: python tests/benchmarks/bench_export.py [formats...]
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from filmc.compiler.export import EXTENSIONS

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "export"
SHOTS = 750
RUNS = 5
FORMATS = ("otio", "otioz", "edl", "fcp7xml", "fcpxml", "aaf")

BUILD = f"""
import sys
sys.path.insert(0, {str(FIXTURES)!r})
from pathlib import Path
from export_fixtures import make_timeline
from filmc.compiler.export import export_timeline, EXTENSIONS
tl = make_timeline(n_shots={SHOTS})
"""


def median_seconds(code: str) -> tuple[float, float]:
    """Median wall-clock and CPU (user + system) seconds of a fresh process running `code`.

    CPU time is reported too because it barely moves when other work shares the machine.
    """
    walls, cpus = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def describe() -> str:
    sys.path.insert(0, str(FIXTURES))
    from export_fixtures import make_timeline

    tl = make_timeline(n_shots=SHOTS)
    clips = sum(len(list(t.find_clips())) for t in tl.tracks)
    markers = len(tl.tracks[0].markers)
    transitions = sum(1 for t in tl.tracks[0] if t.schema_name() == "Transition")
    return f"{SHOTS} shots, {transitions} transitions, {clips} clips on 5 tracks, {markers} markers"


def main() -> None:
    formats = sys.argv[1:] or list(FORMATS)
    print(f"timeline: {describe()}; median of {RUNS} whole-process runs")
    build_wall, build_cpu = median_seconds(BUILD)
    print(f"{'':20} {'wall':>8}   {'cpu':>8}")
    print(f"{'build (subtracted)':20} {build_wall:7.3f} s  {build_cpu:7.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            out = Path(tmp) / f"film_{fmt}"
            code = BUILD + f"export_timeline(tl, {fmt!r}, Path({str(out)!r} + EXTENSIONS[{fmt!r}]))\n"
            wall, cpu = median_seconds(code)
            size = Path(str(out) + EXTENSIONS[fmt]).stat().st_size
            print(f"{fmt:20} {wall - build_wall:7.3f} s  {cpu - build_cpu:7.3f} s   ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
