"""Simple synthesised instrument notes and drums for the procedural music beds.

Each function returns one mono float32 event (note plus its decay) at 48 kHz; beds place events
into a circular buffer so the music loops without a seam.
"""

from __future__ import annotations

from functools import lru_cache, wraps

import numpy as np
from scipy import signal

from .dsp import SAMPLE_RATE, envelope

WAVETABLE_SIZE = 4096


def _cached_note(render):
    """Cache a pure note renderer (music repeats the same notes); results are read-only."""
    cached = lru_cache(maxsize=256)(render)

    @wraps(render)
    def note(*args, **kwargs) -> np.ndarray:
        out = cached(*args, **kwargs)
        out.setflags(write=False)
        return out

    return note


def midi_hz(note: float) -> float:
    return float(440.0 * 2.0 ** ((note - 69) / 12.0))


def _t(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / SAMPLE_RATE


@lru_cache(maxsize=64)
def _saw_table(harmonics: int) -> np.ndarray:
    theta = np.arange(WAVETABLE_SIZE + 1) / WAVETABLE_SIZE
    k = np.arange(1, harmonics + 1)[:, None]
    return (np.sin(2 * np.pi * k * theta[None, :]) / k).sum(axis=0)


def _saw(freq: float, n: int, phase: float = 0.0, max_hz: float = 12_000.0) -> np.ndarray:
    """Band-limited sawtooth: harmonics below ``max_hz`` only (no aliasing, and no work spent on
    harmonics a following low-pass removes), read from a one-cycle wavetable."""
    table = _saw_table(max(1, int(max_hz // freq)))
    position = np.arange(n, dtype=np.float64)  # in cycles, then reduced to the table's length
    position *= freq / SAMPLE_RATE
    position += phase / (2 * np.pi)
    position -= np.floor(position)
    position *= WAVETABLE_SIZE
    index = position.astype(np.intp)
    position -= index
    low = np.take(table, index)
    out = np.take(table, index + 1)
    out -= low
    out *= position
    out += low
    return out


def _tail(x: np.ndarray, seconds: float = 0.02) -> np.ndarray:
    """Fade the last few milliseconds so an event never ends on a step."""
    m = min(x.shape[0], int(seconds * SAMPLE_RATE))
    x[-m:] *= np.linspace(1.0, 0.0, m, dtype=x.dtype)
    return x


def _lowpass(x: np.ndarray, cutoff: float, order: int = 2) -> np.ndarray:
    sos = signal.butter(order, min(cutoff, 0.45 * SAMPLE_RATE), btype="low", fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, x)


@_cached_note
def pad(freq: float, duration_s: float, brightness: float = 1_200.0, attack_s: float = 0.8,
        release_s: float = 1.5) -> np.ndarray:
    """Soft string-like pad: two detuned saws, low-passed, slow attack and release."""
    n = int((duration_s + release_s) * SAMPLE_RATE)
    x = _saw(freq * 0.997, n, 0.0, 3 * brightness) + _saw(freq * 1.003, n, 1.3, 3 * brightness)
    x = _lowpass(x, brightness)
    t = _t(n)
    env = np.clip(t / attack_s, 0, 1) * np.clip((duration_s + release_s - t) / release_s, 0, 1)
    return (0.2 * x * env).astype(np.float32)


@_cached_note
def pluck(freq: float, decay_s: float = 0.8, brightness: float = 3.0) -> np.ndarray:
    """Piano/harp-like note: harmonics that decay faster the higher they are."""
    n = int(decay_s * 4 * SAMPLE_RATE)
    t = _t(n)
    # sin(k w) by the Chebyshev recurrence and exp(-k t / decay) as powers of exp(-t / decay):
    # one sine, cosine and exponential per note instead of one per harmonic, in float32 once
    # the phase is reduced to one turn in float64 (the harmonics' error stays near 1e-6).
    turns = freq * t
    turns -= np.floor(turns)
    w = (2 * np.pi * turns).astype(np.float32)
    before, harmonic = np.zeros(n, dtype=np.float32), np.sin(w)
    twice_cos = np.float32(2) * np.cos(w)
    decay = np.exp(-(t / decay_s).astype(np.float32))
    fade = decay.copy()
    out = np.zeros(n, dtype=np.float32)
    for k in range(1, 9):
        if k * freq > 16_000:
            break
        out += harmonic * fade * np.float32(2 / k**brightness)
        before, harmonic = harmonic, twice_cos * harmonic - before
        fade *= decay
    out *= np.clip(t / 0.004, 0, 1).astype(np.float32) * np.float32(0.5)
    return _tail(out)


@_cached_note
def bass(freq: float, duration_s: float, cutoff: float = 600.0) -> np.ndarray:
    n = int((duration_s + 0.05) * SAMPLE_RATE)
    x = _lowpass(_saw(freq, n, 0.0, 4 * cutoff), cutoff, order=4)
    env = envelope(n, 0.005, duration_s * 0.6).astype(np.float64)
    env *= np.clip((n - np.arange(n)) / (0.02 * SAMPLE_RATE), 0, 1)
    return (0.5 * x * env).astype(np.float32)


def kick(gain: float = 1.0) -> np.ndarray:
    n = int(0.45 * SAMPLE_RATE)
    t = _t(n)
    freq = 45 + 90 * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    return _tail(gain * np.sin(phase) * np.exp(-t / 0.12)).astype(np.float32)


def snare(rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    n = int(0.3 * SAMPLE_RATE)
    t = _t(n)
    noise = signal.sosfilt(signal.butter(2, [1_500, 9_000], btype="band", fs=SAMPLE_RATE, output="sos"),
                           rng.standard_normal(n))
    body = np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)
    return (gain * (0.8 * noise * np.exp(-t / 0.06) + 0.6 * body)).astype(np.float32)


def hat(rng: np.random.Generator, gain: float = 1.0, decay_s: float = 0.03) -> np.ndarray:
    n = int(0.12 * SAMPLE_RATE)
    noise = signal.sosfilt(signal.butter(4, 7_000, btype="high", fs=SAMPLE_RATE, output="sos"),
                           rng.standard_normal(n))
    return (gain * 0.5 * noise * np.exp(-_t(n) / decay_s)).astype(np.float32)


@_cached_note
def tick(freq: float = 2_800.0, gain: float = 1.0) -> np.ndarray:
    n = int(0.05 * SAMPLE_RATE)
    t = _t(n)
    return (gain * np.sin(2 * np.pi * freq * t) * np.exp(-t / 0.006)).astype(np.float32)


@_cached_note
def thump(freq: float = 50.0, gain: float = 1.0, decay_s: float = 0.1) -> np.ndarray:
    """Low, soft hit (heartbeat, distant drum)."""
    n = int(6 * decay_s * SAMPLE_RATE)
    t = _t(n)
    x = np.sin(2 * np.pi * freq * t) * np.clip(t / 0.01, 0, 1) * np.exp(-t / decay_s)
    return (gain * x).astype(np.float32)
