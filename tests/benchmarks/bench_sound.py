"""Benchmark: speech synthesis speed, and mix + loudness speed for 2- and 60-minute programmes.

Speech: seconds of speech produced per CPU-second, counting the espeak server process and its
forked children (their CPU is collected when the server exits) or piper's ONNX threads.
Mix: a synthetic programme (a scene a minute with an ambience and a music bed crossfading at
each boundary, a spoken line every 6 s ducking the beds, an effect every 15 s) is mixed to
stereo stems and mastered to -14 LUFS / -1 dBTP; the realtime factor is programme seconds per
wall-clock second. Bed loops are generated first and reported separately (they are cached).
Wall-clock times depend on what else the machine runs; CPU times (all threads) are printed too.
Run: python tests/benchmarks/bench_sound.py [--skip-hour] [--long-minutes N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator
from itertools import chain

import numpy as np
from filmc.runtime.sound import (
    BedCue,
    Track,
    VoiceParams,
    bed_gain_db,
    bed_loop,
    dialogue_track,
    iter_bed_tracks,
    master,
    mix_tracks,
    parse_delivery,
    render_sfx,
    spans_from_tracks,
)
from filmc.runtime.sound.delivery import Delivery
from filmc.runtime.sound.espeak_engine import EspeakEngine

LINES = [
    "Not tonight.",
    "He always finds me, doesn't he?",
    "Where were you last night? I waited for hours.",
    "Get out of here, now!",
    "The lot was empty when I got there, just the lights and the rain.",
    "You should have called me before you went in alone.",
    "I did call. Twice. Nobody picked up.",
    "Keep your voice down, they can hear us from the street.",
    "Then let them hear. I'm done hiding from people like him.",
    "Rae, listen to me. This isn't the way.",
]
VOICES = [
    VoiceParams(language="en-us", pitch=40, rate=150, variant="m3"),
    VoiceParams(language="en-gb", pitch=65, rate=170, variant="f2"),
]
AMBIENCE = ["city_night", "rain", "office", "forest", "traffic"]
MUSIC = ["tension", "drone", "melancholy", "pulse", "chase"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_espeak(repeats: int = 3) -> tuple[float, float]:
    """(seconds of speech per CPU-second, per wall-second) for the espeak engine."""
    idle = EspeakEngine()  # an engine that speaks nothing: start-up cost to subtract
    cpu0 = children_cpu()
    idle._worker.close()
    startup = children_cpu() - cpu0
    engine = EspeakEngine()
    cpu_children0, cpu_self0, wall0 = children_cpu(), time.process_time(), time.perf_counter()
    produced = 0.0
    for _ in range(repeats):
        for i, line in enumerate(LINES):
            produced += engine.synthesize(line, VOICES[i % 2], Delivery()).duration_s
    wall = time.perf_counter() - wall0
    cpu_self = time.process_time() - cpu_self0
    engine._worker.close()
    cpu = cpu_self + (children_cpu() - cpu_children0) - startup
    return produced / cpu, produced / wall


def bench_piper() -> tuple[float, float] | None:
    try:
        from filmc.runtime.sound.piper_engine import PiperEngine
        engine = PiperEngine()
    except Exception as exc:  # not installed here: say so instead of failing the benchmark
        print(f"piper: not available ({exc})")
        return None
    voice = VoiceParams(engine="piper", language="en-us")
    engine.synthesize(LINES[0], voice, Delivery())
    cpu0, wall0 = time.process_time(), time.perf_counter()
    produced = sum(engine.synthesize(line, voice, Delivery()).duration_s for line in LINES)
    return produced / (time.process_time() - cpu0), produced / (time.perf_counter() - wall0)


def programme(minutes: int, speech: list) -> tuple[Iterator[Track], int, list[tuple[float, float]], float]:
    """Tracks (beds rendered lazily, as the mixer reads them), their count, dialogue spans, length."""
    duration = minutes * 60.0
    cues = []
    for scene in range(minutes):
        start, end = scene * 60.0, (scene + 1) * 60.0
        cues.append(BedCue("ambience", start, end, bed_gain_db(-30), name=AMBIENCE[scene % len(AMBIENCE)]))
        cues.append(BedCue("music", start, end, bed_gain_db(-24), name=MUSIC[scene % len(MUSIC)]))
    lines = []
    t, k = 1.0, 0
    while t < duration - 6.0:
        line, delivery = speech[k % len(speech)]
        lines.append(dialogue_track(line, t, delivery, pan=((k % 5) - 2) * 0.2))
        t, k = t + 6.0, k + 1
    effects = [Track("sfx", render_sfx(name), start_s=s, pan=0.3)
               for s, name in zip(np.arange(7.0, duration - 8.0, 15.0), ["door_slam", "glass_break", "footsteps",
                                                                         "click", "impact"] * 10_000, strict=False)]
    count = len(cues) + len(lines) + len(effects)
    return chain(iter_bed_tracks(cues), lines, effects), count, spans_from_tracks(lines), duration


def bench_mix(minutes: int, speech: list) -> None:
    wall0 = time.perf_counter()
    tracks, count, spans, duration = programme(minutes, speech)
    built = time.perf_counter() - wall0
    t0, c0 = time.perf_counter(), time.process_time()
    mixed = mix_tracks(tracks, duration, dialogue_spans=spans)  # renders the beds as it goes
    t1, c1 = time.perf_counter(), time.process_time()
    mastered = master(mixed, -14.0, in_place=True)
    t2, c2 = time.perf_counter(), time.process_time()
    print(f"{minutes:3d} min programme, {count} tracks: mix {t1 - t0:6.1f} s (cpu {c1 - c0:6.1f} s), "
          f"loudness {t2 - t1:6.1f} s (cpu {c2 - c1:6.1f} s) -> {duration / (t2 - t0 + built):6.1f}x real time "
          f"({duration / (c2 - c0):6.1f}x per CPU-second); "
          f"out {mastered.loudness_lufs:.2f} LUFS, {mastered.true_peak_dbtp:.2f} dBTP")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-hour", action="store_true", help="only the 2-minute programme")
    parser.add_argument("--long-minutes", type=int, default=60, help="length of the long programme")
    args = parser.parse_args()

    per_cpu, per_wall = bench_espeak()
    print(f"espeak: {per_cpu:7.1f} s of speech per CPU-second ({per_wall:6.1f} per wall-second)")
    piper = bench_piper()
    if piper:
        print(f"piper:  {piper[0]:7.1f} s of speech per CPU-second ({piper[1]:6.1f} per wall-second)")

    t0 = time.perf_counter()
    for name in AMBIENCE + MUSIC:
        bed_loop(name)
    print(f"bed loops: {len(AMBIENCE + MUSIC)} generated in {time.perf_counter() - t0:.1f} s (cached after)")

    engine = EspeakEngine()
    speech = [(engine.synthesize(line, VOICES[i % 2], Delivery()), parse_delivery(["O.S."] if i == 3 else []))
              for i, line in enumerate(LINES)]
    bench_mix(2, speech)
    if not args.skip_hour:
        bench_mix(args.long_minutes, speech)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak memory {peak_gib:.1f} GiB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
