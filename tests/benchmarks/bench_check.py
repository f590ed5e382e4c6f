"""Benchmark: whole-process `filmc check` on the feature example (median of 5).

Start-up is measured separately in the same run: `python -c pass` (the
interpreter) and `python -c "import filmc.compiler.check"` (our imports).
Run: python tests/benchmarks/bench_check.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FEATURE = ROOT / "examples" / "feature" / "feature.film"
RUNS = 5


def median_seconds(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    py = sys.executable
    interpreter = median_seconds([py, "-c", "pass"])
    imports = median_seconds([py, "-c", "import filmc.compiler.check"])
    check = median_seconds([py, "-m", "filmc.cli", "check", str(FEATURE)])
    shots = FEATURE.parent.glob("*.film")
    lines = sum(len(p.read_text().splitlines()) for p in shots)
    print(f"feature example: {lines} lines of .film")
    print(f"python start-up            {interpreter:6.3f} s")
    print(f"start-up + filmc imports   {imports:6.3f} s")
    print(f"filmc check (whole)        {check:6.3f} s   (target < 1.5 s)")
    print(f"checking itself            {check - imports:6.3f} s")


if __name__ == "__main__":
    main()
