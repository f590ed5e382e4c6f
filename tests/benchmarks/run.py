"""Run every benchmark in this folder, one after another, and print their reports.

Each `bench_*.py` measures its figure and a baseline in the same run (start-up,
ffmpeg alone, a hand-written filtergraph...), so ratios are comparable even on
a busy machine. Run: python tests/benchmarks/run.py [name ...]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if any(n in s.stem for n in names)]
    failed = 0
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parents[1], check=False)
        print(f"--- {script.stem}: {time.perf_counter() - start:.1f} s, exit {proc.returncode}", flush=True)
        failed += proc.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
