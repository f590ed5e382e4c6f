"""A dense, music-like test programme: what lossy encoders overshoot on.

Kick drums, noise-burst snares and hats, clicks, detuned saw chords and a noise bed, all panned
differently, summed by the sound engine and mastered with its own `master` to a loud target at the
-1 dBTP ceiling (the plan masters lossy deliveries 1 dB lower; this one leaves no such margin).
Deterministic: the same seed gives the same samples.
"""

from __future__ import annotations

import numpy as np
from filmc.runtime.sound import SAMPLE_RATE, Track, master, mix_tracks
from scipy import signal

BEAT_S = 0.5


def _hits(n: int, times: np.ndarray, hit: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=np.float32)
    for t in times:
        a = int(t * SAMPLE_RATE)
        b = min(n, a + hit.shape[0])
        out[a:b] += hit[: b - a]
    return out


def dense_programme(seconds: float, target_lufs: float = -14.0, ceiling_dbtp: float = -1.0,
                    seed: int = 7) -> np.ndarray:
    """(n, 2) float32 master of `seconds` of dense broadband material at `target_lufs` / `ceiling_dbtp`."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    beats = np.arange(0.0, seconds - 0.5, BEAT_S)
    k = np.arange(int(0.35 * SAMPLE_RATE)) / SAMPLE_RATE
    kick = (np.sin(2 * np.pi * (45 * k + 60 * (1 - np.exp(-k * 30)) / 30)) * np.exp(-k * 9)).astype(np.float32)
    kick[:48] += np.hanning(96)[48:].astype(np.float32) * 0.8  # beater click
    s = np.arange(int(0.2 * SAMPLE_RATE))
    hp = signal.butter(2, 2000, "highpass", fs=SAMPLE_RATE, output="sos")
    snare = (rng.standard_normal(s.shape[0]) * np.exp(-s / SAMPLE_RATE * 25)).astype(np.float32)
    hat = signal.sosfilt(hp, rng.standard_normal(int(0.05 * SAMPLE_RATE)) * np.exp(-np.arange(2400) / 300))
    hats = beats[:, None] + np.array([0.0, 0.125, 0.25, 0.375])[None, :]
    clicks = np.sort(rng.uniform(0, seconds - 0.1, size=int(seconds * 3)))
    click = np.zeros(64, dtype=np.float32)
    click[0], click[1] = 1.0, -0.9
    chords = np.zeros(n, dtype=np.float32)
    roots = [55.0, 65.4, 73.4, 49.0]
    for i, start in enumerate(np.arange(0.0, seconds, 2.0)):
        a, b = int(start * SAMPLE_RATE), min(n, int((start + 2.0) * SAMPLE_RATE))
        for ratio in (1.0, 1.26, 1.5, 2.0, 3.0):
            for detune in (0.997, 1.003):  # naive saws: their aliasing only adds to the density
                phase = t[a:b] * (roots[i % 4] * ratio * detune) + rng.uniform(0.0, 1.0)
                chords[a:b] += (0.16 * (phase % 1.0) - 0.08).astype(np.float32)
    bed = signal.lfilter([0.05], [1, -0.95], rng.standard_normal(n)).astype(np.float32)
    tracks = [
        Track("music", _hits(n, beats, kick), gain_db=0.0, pan=0.0),
        Track("music", _hits(n, beats[1::2] + 0.0, snare), gain_db=-6.0, pan=-0.2),
        Track("music", _hits(n, hats.ravel(), hat.astype(np.float32)), gain_db=-4.0, pan=0.5),
        Track("sfx", _hits(n, clicks, click), gain_db=-3.0, pan=-0.7),
        Track("music", chords, gain_db=-8.0, pan=0.3),
        Track("ambience", bed, gain_db=-10.0, pan=-0.4),
    ]
    mixed = mix_tracks(tracks, seconds, ducking=None, keep_stems=False)
    return master(mixed, target_lufs, ceiling_dbtp).mix
