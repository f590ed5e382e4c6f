"""Cold builds of a film through a local Ray instance vs the local process pool, alternating.

    .venv/bin/python tests/distributed/bench_ray_build.py [FILM] [--rounds N]

Each round builds the film twice from an empty cache (`filmc build`, then `filmc build --ray local`),
in fresh processes, and prints wall time, the executor's time (the speech pass plus the main
pass, from the build's own events), the load average before the run and whether the delivered
film is byte-identical to the first local build. Then it times starting and stopping a local Ray
instance alone. The machine's other load is not controlled: compare medians, and run it again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def one_build(film: Path, work: Path, ray: bool) -> dict:
    out, cache = work / "out", work / "cache"
    cmd = [sys.executable, "-m", "filmc.cli", "build", str(film), "-o", str(out), "--cache", str(cache), "--json"]
    if ray:
        cmd += ["--ray", "local"]
    load = os.getloadavg()[0]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    passes = [e["wall_s"] for e in events if e["event"] == "build_finished"]
    delivered = next(e for e in events if e["event"] == "delivered")
    film_file = next(out / name for key, name in delivered["files"].items() if key.endswith((".mp4", ".mov", ".mkv")))
    return {"mode": "ray" if ray else "local", "wall_s": wall, "executor_s": sum(passes), "load": load,
            "ran": sum(e["ran"] for e in events if e["event"] == "build_finished"),
            "sha256": hashlib.sha256(film_file.read_bytes()).hexdigest()}


def ray_start_stop() -> float:
    code = ("import time; t = time.monotonic()\n"
            "from filmc.runtime.distributed import connect\n"
            "with connect('local'):\n    pass\n"
            "print(time.monotonic() - t)")
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("film", nargs="?", default=str(REPO / "examples/short/blackout.film"))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="filmc-ray-bench-") as tmp:
        for r in range(args.rounds):
            for ray in (False, True):
                work = Path(tmp) / f"{r}-{'ray' if ray else 'local'}"
                row = one_build(Path(args.film).resolve(), work, ray)
                rows.append(row)
                same = row["sha256"] == rows[0]["sha256"]
                print(f"round {r + 1} {row['mode']:<5} wall {row['wall_s']:6.1f} s  executor {row['executor_s']:6.1f} s  "
                      f"{row['ran']} nodes ran  load before {row['load']:.1f}  film identical to local #1: {same}",
                      flush=True)
    for mode in ("local", "ray"):
        mine = [r for r in rows if r["mode"] == mode]
        print(f"median {mode:<5} wall {statistics.median(r['wall_s'] for r in mine):6.1f} s  "
              f"executor {statistics.median(r['executor_s'] for r in mine):6.1f} s")
    costs = [ray_start_stop() for _ in range(2)]
    print("starting + stopping a local Ray instance alone: " + ", ".join(f"{c:.1f} s" for c in costs))


if __name__ == "__main__":
    main()
