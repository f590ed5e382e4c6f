"""Benchmark: the plan's mix + loudness stage (the `mix` node) on the short and feature examples.

The speech, bed and sfx nodes run first (cached, not timed); then the mix node alone is timed:
placing every entry, mixing stems, mastering to the film's loudness with a true-peak ceiling and
writing mix.wav + stems. Realtime factor = programme seconds / wall seconds.
`--feature-scenes N` keeps only the feature's first N scenes (0 = the whole 75-minute film).
Run: python tests/benchmarks/bench_soundbuild.py [--feature-scenes N] [--skip-feature]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from filmc.compiler.check import check_file
from filmc.compiler.plan import build_plan
from filmc.runtime.cache import Cache
from filmc.runtime.executor import execute
from filmc.runtime.registry import get_backend

ROOT = Path(__file__).resolve().parents[2]


def bench(film_path: Path, scenes: int) -> None:
    film = check_file(film_path).film
    if scenes:
        film = film.model_copy(update={"scenes": film.scenes[:scenes]})
    backend = get_backend("preview")
    plan = build_plan(film, backend=backend.name, backend_version=backend.version, scale=0.125)
    mix = plan.by_id()[plan.outputs["mix"]]
    seconds = float(Fraction(mix.params["frames"]) / Fraction(mix.params["fps"]))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(Path(tmp))
        try:
            t0 = time.monotonic()
            sources = execute(plan, backend, cache, only=list(mix.inputs), jobs=2)
            t1 = time.monotonic()
            assert sources.ok, "speech/bed/sfx failed"
            done = execute(plan, backend, cache, only=[mix.id], jobs=1)
            t2 = time.monotonic()
            assert done.ok, "mix failed"
        finally:
            cache.close()
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    label = f"{film_path.name}" + (f" (first {scenes} scenes)" if scenes else "")
    print(f"{label}: {seconds / 60:.1f} min programme, {len(mix.inputs)} sources, {len(mix.params['entries'])} entries, "
          f"{mix.params['layout']}")
    print(f"  sources (speech/bed/sfx) {t1 - t0:.1f} s")
    print(f"  mix + loudness {t2 - t1:.1f} s  -> realtime factor {seconds / (t2 - t1):.0f}x  (child max RSS {rss:.0f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feature-scenes", type=int, default=0)
    ap.add_argument("--skip-feature", action="store_true")
    args = ap.parse_args()
    bench(ROOT / "examples" / "short" / "blackout.film", 0)
    if not args.skip_feature:
        bench(ROOT / "examples" / "feature" / "feature.film", args.feature_scenes)


if __name__ == "__main__":
    main()
