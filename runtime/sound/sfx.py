"""Synthesised sound effects, and effects from user audio files.

Each effect is a mono float32 event at 48 kHz, peak-normalised to :data:`SFX_PEAK_DBFS` so a
cue's level is a plain gain on top. The seed picks a variation (two gunshots in a scene need not
be identical); the same name and seed always give the same samples.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from scipy import signal
from scipy.ndimage import uniform_filter1d

from . import instruments as ins
from .audio_files import decode_audio
from .dsp import SAMPLE_RATE, bandpass, envelope, highpass, lowpass, normalise_peak
from .errors import SoundError

SFX_PEAK_DBFS = -6.0


def _t(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / SAMPLE_RATE


def _n(seconds: float) -> int:
    return int(seconds * SAMPLE_RATE)


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def _room_tail(rng: np.random.Generator, seconds: float, decay_s: float, cutoff: float = 3_000.0) -> np.ndarray:
    """Diffuse reverb tail: filtered noise with an exponential decay."""
    n = _n(seconds)
    return lowpass(_noise(rng, n), cutoff) * envelope(n, 0.005, decay_s)


def _impact(rng: np.random.Generator) -> np.ndarray:
    n = _n(1.2)
    t = _t(n)
    freq = 35 + 110 * np.exp(-t / 0.04)
    boom = np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE) * np.exp(-t / 0.25)
    crack = highpass(_noise(rng, n), 1_500) * envelope(n, 0.0005, 0.012)
    body = bandpass(_noise(rng, n), 150, 900) * envelope(n, 0.002, 0.08)
    return (boom + 0.5 * crack + 0.6 * body + 0.15 * _room_tail(rng, 1.2, 0.3)).astype(np.float32)


def _whoosh(rng: np.random.Generator) -> np.ndarray:
    """Band of noise whose centre sweeps up then down while it swells past the listener."""
    n = _n(0.9)
    nper = 1_024
    _, _, spec = signal.stft(_noise(rng, n), fs=SAMPLE_RATE, nperseg=nper)
    freqs = np.fft.rfftfreq(nper, 1.0 / SAMPLE_RATE)
    frames = spec.shape[1]
    pos = np.linspace(0.0, 1.0, frames)
    centre = 300 * (1 + 8 * np.sin(np.pi * pos) ** 2)
    width = 0.5 * centre
    mask = np.exp(-0.5 * ((freqs[:, None] - centre[None, :]) / width[None, :]) ** 2)
    _, out = signal.istft(spec * mask * np.sin(np.pi * pos)[None, :] ** 2, fs=SAMPLE_RATE, nperseg=nper)
    return out[:n].astype(np.float32)


def _glass_break(rng: np.random.Generator) -> np.ndarray:
    n = _n(1.6)
    t = _t(n)
    out = highpass(_noise(rng, n), 2_000) * envelope(n, 0.0003, 0.03)
    for _ in range(90):
        start = int(min(n - 1, rng.exponential(0.18) * SAMPLE_RATE))
        m = n - start
        freq = rng.uniform(2_500, 9_500)
        decay = rng.uniform(0.02, 0.25)
        amp = rng.uniform(0.1, 0.6) * np.exp(-start / SAMPLE_RATE / 0.5)
        out[start:] += (amp * np.sin(2 * np.pi * freq * t[:m] + rng.uniform(0, 6)) * np.exp(-t[:m] / decay)).astype(np.float32)
    return out


def _step(rng: np.random.Generator) -> np.ndarray:
    n = _n(0.25)
    heel = lowpass(_noise(rng, n), 400) * envelope(n, 0.002, 0.03) * 3.0
    scuff = bandpass(_noise(rng, n), 1_500, 6_000) * envelope(n, 0.01, 0.04) * 0.4
    out = heel + np.roll(scuff, _n(0.03))
    out[: _n(0.03)] = heel[: _n(0.03)]
    return out.astype(np.float32)


def _footsteps(rng: np.random.Generator) -> np.ndarray:
    steps = 6
    interval = rng.uniform(0.5, 0.6)
    out = np.zeros(_n(interval * steps + 0.4), dtype=np.float32)
    for k in range(steps):
        step = _step(rng) * (0.8 + 0.2 * (k % 2))
        start = _n(k * interval + rng.uniform(-0.02, 0.02) + 0.02)
        out[start : start + step.shape[0]] += step[: out.shape[0] - start]
    return out


def _click(rng: np.random.Generator) -> np.ndarray:
    n = _n(0.08)
    t = _t(n)
    tone = np.sin(2 * np.pi * rng.uniform(2_500, 3_500) * t) * np.exp(-t / 0.004)
    snap = highpass(_noise(rng, n), 3_000) * envelope(n, 0.0002, 0.002)
    return (tone + 0.6 * snap).astype(np.float32)


def _door_slam(rng: np.random.Generator) -> np.ndarray:
    n = _n(1.8)
    t = _t(n)
    thud = np.sin(2 * np.pi * (60 + 40 * np.exp(-t / 0.03)) * t) * np.exp(-t / 0.15)
    bang = bandpass(_noise(rng, n), 200, 2_500) * envelope(n, 0.001, 0.05)
    rattle = np.zeros(n, dtype=np.float32)
    for k in range(5):
        start = _n(0.05 + 0.035 * k + rng.uniform(0, 0.01))
        m = _n(0.03)
        rattle[start : start + m] += bandpass(_noise(rng, m), 800, 4_000) * envelope(m, 0.001, 0.006) * 0.5 ** k
    return (thud + 0.8 * bang + 0.6 * rattle + 0.3 * _room_tail(rng, 1.8, 0.35)).astype(np.float32)


def _thunder(rng: np.random.Generator) -> np.ndarray:
    n = _n(7.0)
    t = _t(n)
    crack = highpass(_noise(rng, n), 800) * envelope(n, 0.001, 0.15)
    rumble = lowpass(np.cumsum(_noise(rng, n)).astype(np.float32), 200)
    rumble -= uniform_filter1d(rumble, 4_801)
    rumble /= max(1e-6, float(np.std(rumble)))
    swells = lowpass(np.abs(_noise(rng, n)), 3.0)
    swells /= max(1e-6, float(swells.max()))
    rumble_env = np.clip(t / 0.4, 0, 1) * np.exp(-t / 2.2) * (0.4 + 0.6 * swells)
    return (0.7 * crack + rumble * rumble_env).astype(np.float32)


def _phone_ring(rng: np.random.Generator) -> np.ndarray:
    """Two double-rings of an old bell phone: bright partials struck at 20 Hz."""
    ring = _n(0.4)
    t = _t(ring)
    tune = rng.uniform(0.97, 1.03)
    bell = sum(a * np.sin(2 * np.pi * f * tune * t) for f, a in ((1_250, 1.0), (1_890, 0.6), (2_560, 0.4), (3_140, 0.25)))
    strike = 0.55 + 0.45 * np.sign(np.sin(2 * np.pi * 20 * t))
    burst = (bell * lowpass(strike.astype(np.float32), 200) * envelope(ring, 0.005, 1.0)).astype(np.float32)
    gap, pause = np.zeros(_n(0.2), np.float32), np.zeros(_n(2.0), np.float32)
    one = np.concatenate([burst, gap, burst])
    return np.concatenate([one, pause, one, np.zeros(_n(0.3), np.float32)])


def _gunshot(rng: np.random.Generator) -> np.ndarray:
    n = _n(2.0)
    t = _t(n)
    blast = _noise(rng, n) * envelope(n, 0.0002, 0.02)
    boom = np.sin(2 * np.pi * (70 + 80 * np.exp(-t / 0.01)) * t) * np.exp(-t / 0.09)
    tail = _room_tail(rng, 2.0, 0.5, 2_000)
    return (blast + 0.8 * boom + 0.25 * tail).astype(np.float32)


def _heartbeat(rng: np.random.Generator) -> np.ndarray:
    beat = 60.0 / rng.uniform(58, 72)
    beats = 4
    out = np.zeros(_n(beats * beat + 0.5), dtype=np.float32)
    for k in range(beats):
        for offset, freq, gain in ((0.0, 55.0, 1.0), (0.28, 48.0, 0.7)):
            hit = ins.thump(freq, gain, 0.07)
            start = _n(k * beat + offset)
            out[start : start + hit.shape[0]] += hit[: out.shape[0] - start]
    return out


EFFECTS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "impact": _impact,
    "whoosh": _whoosh,
    "glass_break": _glass_break,
    "footsteps": _footsteps,
    "click": _click,
    "door_slam": _door_slam,
    "thunder": _thunder,
    "phone_ring": _phone_ring,
    "gunshot": _gunshot,
    "heartbeat": _heartbeat,
}


def sfx_names() -> tuple[str, ...]:
    return tuple(EFFECTS)


def render_sfx(name: str, seed: int = 0) -> np.ndarray:
    """A built-in effect as mono float32 at 48 kHz, peak at :data:`SFX_PEAK_DBFS`."""
    key = name.removeprefix("std.")
    if key not in EFFECTS:
        raise SoundError(f"unknown sound effect {name!r}; built-in effects: {', '.join(EFFECTS)}")
    rng = np.random.default_rng([seed, sum(ord(c) * 131**i for i, c in enumerate(key))])
    out = highpass(EFFECTS[key](rng), 20.0)  # no DC or subsonic drift into the mix
    fade = min(out.shape[0], _n(0.01))
    out[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return normalise_peak(out, SFX_PEAK_DBFS)


def file_sfx(path: str | os.PathLike, normalise: bool = False) -> np.ndarray:
    """An effect from a user audio file, resampled to 48 kHz (mono or stereo as recorded)."""
    audio = decode_audio(path)
    out = audio[:, 0] if audio.shape[1] == 1 else audio
    return normalise_peak(out, SFX_PEAK_DBFS) if normalise else out
