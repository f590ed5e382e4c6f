"""Procedural ambience and music beds, and beds from user audio files.

Every generator renders one *periodic* stereo loop: noise is shaped in the frequency domain,
tones have a whole number of cycles in the loop, and events (rain drops, cars, notes) are added
with wrap-around, so the loop's last sample flows into its first like any other pair and a bed
of any length has no seam. Textures that are easier to render in time (crowd babble) are made
periodic by crossfading their tail into their head.

Loops are normalised to :data:`BED_REFERENCE_LUFS`; a .film level such as ``at -28 dB`` then
maps to a mixer gain of ``bed_gain_db(-28)`` and the bed plays at about -28 LUFS.
Output is deterministic for a given name, seed and loop length.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d

from . import instruments as ins
from .audio_files import decode_audio
from .dsp import (
    SAMPLE_RATE,
    add_wrapped,
    apply_fades,
    band,
    bandpass,
    channel_means,
    circular_convolve,
    db_to_gain,
    envelope,
    highpass,
    lowpass,
    make_loopable,
    noise_spectrum,
    periodic_sine,
    pink,
    seconds_to_samples,
    shaped_noise,
    smooth_modulation,
    tile_to_length,
)
from .errors import SoundError
from .loudness import integrated_loudness

BED_REFERENCE_LUFS = -20.0
DEFAULT_AMBIENCE_LOOP_S = 24.0
LOOP_CROSSFADE_S = 1.0

Render = Callable[[int, np.random.Generator], np.ndarray]


def bed_gain_db(level_db: float) -> float:
    """Mixer gain that makes a bed (mastered at the reference loudness) play at ``level_db`` LUFS."""
    return level_db - BED_REFERENCE_LUFS


def _pan_gains(pan: float) -> tuple[float, float]:
    angle = (np.clip(pan, -1.0, 1.0) + 1.0) * np.pi / 4.0
    return float(np.cos(angle)), float(np.sin(angle))


def _place(buf: np.ndarray, event: np.ndarray, position: int, pan: float = 0.0, gain: float = 1.0) -> None:
    """Add a mono event into the stereo circular buffer at a pan position."""
    left, right = _pan_gains(pan)
    add_wrapped(buf[:, 0], event, position, gain * left)
    add_wrapped(buf[:, 1], event, position, gain * right)


def _noise2(n: int, rng: np.random.Generator, magnitude, width: float = 0.7) -> np.ndarray:
    """Stereo periodic noise; ``width`` 0 is mono, 1 fully decorrelated.

    The channels are unit-RMS Gaussian noises with correlation ``1 - width``: the right is
    ``rho * left + sqrt(1 - rho**2) * other``, the same pair (in distribution) as a common
    noise plus one private noise per channel, from two noises instead of three.
    """
    shape = noise_spectrum(n, magnitude)
    rho = 1.0 - min(max(width, 0.0), 1.0)
    out = np.empty((n, 2), dtype=np.float32)
    out[:, 0] = shaped_noise(n, rng, shape)
    np.multiply(shaped_noise(n, rng, shape), np.float32(np.sqrt(1.0 - rho * rho)), out=out[:, 1])
    out[:, 1] += np.float32(rho) * out[:, 0]
    return out


def _mod2(n: int, rng: np.random.Generator, max_hz: float, depth: float) -> np.ndarray:
    out = np.empty((n, 2), dtype=np.float32)
    for ch in range(2):
        out[:, ch] = smooth_modulation(n, rng, max_hz, depth)
    return out


def _loop_from_time_signal(render: Callable[[int], np.ndarray], n: int) -> np.ndarray:
    """Render n + crossfade samples of a non-periodic texture and fold it into a loop of n."""
    crossfade = seconds_to_samples(LOOP_CROSSFADE_S)
    return make_loopable(render(n + crossfade), crossfade)


def _sweep_event(rng: np.random.Generator, duration_s: float, low: float, high: float, pan_from: float,
                 pan_to: float, drop: float = 0.0) -> np.ndarray:
    """A passing source: band noise swelling and fading while it moves across the stereo field."""
    m = int(duration_s * SAMPLE_RATE)
    t = np.linspace(0.0, 1.0, m, dtype=np.float32)
    noise = bandpass(rng.standard_normal(m).astype(np.float32), low, high)
    noise *= np.sin(np.float32(np.pi) * t) ** 3  # swell
    if drop:
        noise *= 1.0 - np.float32(drop) * t
    angle = (np.float32(pan_from) + np.float32(pan_to - pan_from) * t + 1.0) * np.float32(np.pi / 4.0)
    out = np.empty((m, 2), dtype=np.float32)
    np.multiply(noise, np.cos(angle), out=out[:, 0])
    np.multiply(noise, np.sin(angle), out=out[:, 1])
    return out


# ---------------------------------------------------------------- ambience


def _room_tone(n: int, rng: np.random.Generator) -> np.ndarray:
    air = _noise2(n, rng, pink(30, 3_500, tilt=0.7), width=0.5)
    hum = 0.03 * periodic_sine(n, 60.0) + 0.015 * periodic_sine(n, 120.0, 0.4)
    return air + hum[:, None]


def _wind(n: int, rng: np.random.Generator) -> np.ndarray:
    rumble = _noise2(n, rng, band(35, 350), 0.6) * _mod2(n, rng, 0.12, 0.75)
    gust = _noise2(n, rng, band(250, 1_600), 0.8) * _mod2(n, rng, 0.2, 0.95) ** 2
    whistle = _noise2(n, rng, band(650, 950, slope=6.0), 0.9) * _mod2(n, rng, 0.15, 1.0) ** 3
    return rumble + 0.8 * gust + 0.35 * whistle


def _rain(n: int, rng: np.random.Generator) -> np.ndarray:
    out = 0.6 * _noise2(n, rng, band(700, 12_000), 0.9) + 0.25 * _noise2(n, rng, band(60, 400), 0.5)
    seconds = n / SAMPLE_RATE
    for ch in range(2):
        for centre, count in ((2_600.0, 900), (4_800.0, 1_400), (1_400.0, 300)):
            impulses = np.zeros(n)
            idx = rng.integers(0, n, int(count * seconds))
            np.add.at(impulses, idx, rng.exponential(1.0, idx.size) * rng.choice([-1.0, 1.0], idx.size))
            m = int(0.02 * SAMPLE_RATE)
            kernel = np.sin(2 * np.pi * centre * np.arange(m) / SAMPLE_RATE) * np.exp(-np.arange(m) / (0.002 * SAMPLE_RATE))
            out[:, ch] += 0.35 * circular_convolve(impulses, kernel)
    return out


def _city_night(n: int, rng: np.random.Generator) -> np.ndarray:
    out = _noise2(n, rng, pink(30, 900, tilt=1.0), 0.4) * _mod2(n, rng, 0.05, 0.35)
    seconds = n / SAMPLE_RATE
    for _ in range(max(1, int(seconds / 7))):
        side = rng.choice([-1.0, 1.0])
        car = _sweep_event(rng, rng.uniform(5.0, 8.0), 70, 900, -0.8 * side, 0.8 * side)
        pos = int(rng.integers(0, n))
        for ch in range(2):
            add_wrapped(out[:, ch], car[:, ch], pos, 0.9)
    # A distant siren wailing once per loop.
    m = int(9.0 * SAMPLE_RATE)
    t = np.arange(m) / SAMPLE_RATE
    freq = 900 + 350 * np.sin(2 * np.pi * 0.22 * t)
    wail = np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE) + 0.3 * np.sin(4 * np.pi * np.cumsum(freq) / SAMPLE_RATE)
    wail = lowpass(wail.astype(np.float32), 1_800) * np.hanning(m).astype(np.float32)
    _place(out, wail, int(rng.integers(0, n)), pan=float(rng.uniform(-0.6, 0.6)), gain=0.12)
    neon = 0.02 * (periodic_sine(n, 120.0) + 0.5 * periodic_sine(n, 240.0, 1.0))
    return out + neon[:, None]


def _bird_phrase(rng: np.random.Generator) -> np.ndarray:
    base = rng.uniform(2_200, 4_200)
    chirps = []
    for _ in range(int(rng.integers(2, 6))):
        m = int(rng.uniform(0.05, 0.14) * SAMPLE_RATE)
        t = np.arange(m) / SAMPLE_RATE
        sweep = base * (1 + rng.uniform(-0.3, 0.4) * t / t[-1])
        phase = 2 * np.pi * np.cumsum(sweep) / SAMPLE_RATE
        chirp = np.sin(phase) + 0.2 * np.sin(2 * phase)
        chirps.append((chirp * np.hanning(m)).astype(np.float32))
        chirps.append(np.zeros(int(rng.uniform(0.03, 0.12) * SAMPLE_RATE), dtype=np.float32))
    return np.concatenate(chirps)


def _forest(n: int, rng: np.random.Generator) -> np.ndarray:
    leaves = 0.5 * _noise2(n, rng, band(1_500, 9_000), 0.9) * _mod2(n, rng, 0.3, 0.85)
    air = 0.4 * _noise2(n, rng, band(50, 400), 0.5)
    out = leaves + air
    for _ in range(max(1, int(n / SAMPLE_RATE / 2.2))):
        _place(out, _bird_phrase(rng), int(rng.integers(0, n)), float(rng.uniform(-0.9, 0.9)),
               float(rng.uniform(0.15, 0.45)))
    return out


def _ocean(n: int, rng: np.random.Generator) -> np.ndarray:
    out = 0.5 * _noise2(n, rng, pink(60, 2_000, 0.8), 0.6)
    seconds = n / SAMPLE_RATE
    waves = max(1, int(round(seconds / 8.0)))
    for i in range(waves):
        m = int(rng.uniform(6.0, 8.0) * SAMPLE_RATE)
        t = np.arange(m) / SAMPLE_RATE
        peak = rng.uniform(2.0, 3.0)
        env = np.where(t < peak, (t / peak) ** 2, np.exp(-(t - peak) / 1.6)) * np.clip((t[-1] - t) / 0.5, 0, 1)
        body = bandpass(rng.standard_normal(m).astype(np.float32), 80, 2_500) * env
        foam = highpass(rng.standard_normal(m).astype(np.float32), 2_500) * (
            np.clip((t - peak) / 0.08, 0.0, 1.0) * np.exp(-np.maximum(t - peak, 0.0) / 0.9))
        wave = (body + 0.5 * foam).astype(np.float32)
        pos = int(i * n / waves + rng.integers(0, int(SAMPLE_RATE)))
        _place(out, wave, pos, float(rng.uniform(-0.4, 0.4)), 1.2)
    return out


def _engine_pass(rng: np.random.Generator, side: float) -> np.ndarray:
    duration = rng.uniform(3.0, 5.0)
    car = _sweep_event(rng, duration, 150, 2_500, -0.9 * side, 0.9 * side)
    m = car.shape[0]
    t = np.linspace(0.0, 1.0, m)
    f0 = rng.uniform(70, 140) * (1.08 - 0.16 * t)  # doppler: pitch falls as it passes
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    hum = (np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)) * np.sin(np.pi * t) ** 3
    angle = ((-0.9 * side) + 1.8 * side * t + 1.0) * np.pi / 4.0
    return car + 0.4 * np.stack([hum * np.cos(angle), hum * np.sin(angle)], axis=1).astype(np.float32)


def _traffic(n: int, rng: np.random.Generator) -> np.ndarray:
    out = 0.6 * _noise2(n, rng, pink(40, 3_000, 0.8), 0.5) * _mod2(n, rng, 0.1, 0.3)
    for _ in range(max(2, int(n / SAMPLE_RATE / 1.8))):
        car = _engine_pass(rng, float(rng.choice([-1.0, 1.0])))
        pos = int(rng.integers(0, n))
        for ch in range(2):
            add_wrapped(out[:, ch], car[:, ch], pos, float(rng.uniform(0.4, 1.0)))
    m = int(0.45 * SAMPLE_RATE)
    t = np.arange(m) / SAMPLE_RATE
    horn = np.sign(np.sin(2 * np.pi * 415 * t)) + np.sign(np.sin(2 * np.pi * 520 * t))
    horn = lowpass(horn.astype(np.float32), 2_500) * envelope(m, 0.01, 0.4)
    _place(out, horn, int(rng.integers(0, n)), float(rng.uniform(-0.7, 0.7)), 0.08)
    return out


def _babble(length: int, rng: np.random.Generator, talkers: int) -> np.ndarray:
    """Many indistinct voices: buzzy glottal sources through formant filters, gated in syllables."""
    out = np.zeros((length, 2), dtype=np.float32)
    t = np.arange(length) / SAMPLE_RATE
    for _ in range(talkers):
        f0 = rng.uniform(95, 230) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6)))
        phase = np.cumsum(f0) / SAMPLE_RATE
        source = (2.0 * (phase % 1.0) - 1.0).astype(np.float32)
        voice = np.zeros(length, dtype=np.float32)
        for lo, hi in ((rng.uniform(300, 700), rng.uniform(900, 1_300)), (rng.uniform(1_400, 2_000), rng.uniform(2_300, 3_000))):
            voice += bandpass(source, lo, hi)
        syllables = np.clip(np.sin(2 * np.pi * np.cumsum(rng.uniform(3.0, 5.5, length) / SAMPLE_RATE)), 0, 1) ** 2
        phrases = (np.sin(2 * np.pi * rng.uniform(0.08, 0.2) * t + rng.uniform(0, 6)) > -0.3).astype(np.float32)
        phrases = uniform_filter1d(phrases, 4_800)
        left, right = _pan_gains(float(rng.uniform(-0.9, 0.9)))
        line = voice * syllables * phrases * rng.uniform(0.4, 1.0)
        out[:, 0] += left * line
        out[:, 1] += right * line
    return lowpass(out, 4_000, order=2)


def _crowd(n: int, rng: np.random.Generator) -> np.ndarray:
    voices = _loop_from_time_signal(lambda m: _babble(m, rng, 14), n)
    murmur = 0.3 * _noise2(n, rng, band(250, 2_000), 0.8)
    return voices / max(1e-6, float(np.std(voices))) + murmur


def _keystroke(rng: np.random.Generator) -> np.ndarray:
    m = int(0.03 * SAMPLE_RATE)
    click = bandpass(rng.standard_normal(m).astype(np.float32), 2_000, 6_000) * envelope(m, 0.0005, 0.004)
    thock = ins.thump(rng.uniform(180, 260), 0.3, 0.006)[:m]
    out = np.zeros(m, dtype=np.float32)
    out[: thock.shape[0]] += thock
    return click + out


def _office(n: int, rng: np.random.Generator) -> np.ndarray:
    hvac = 0.8 * _noise2(n, rng, pink(40, 3_000, 0.9), 0.4)
    hum = 0.02 * periodic_sine(n, 120.0)
    out = hvac + hum[:, None]
    murmur = _loop_from_time_signal(lambda m: _babble(m, rng, 4), n)
    out += 0.25 * lowpass(murmur / max(1e-6, float(np.std(murmur))), 1_500)
    pos = 0
    while pos < n:
        burst = rng.uniform(1.5, 4.0)
        pan = float(rng.uniform(-0.7, 0.7))
        k = pos
        while k < pos + burst * SAMPLE_RATE and k < n:
            _place(out, _keystroke(rng), k, pan, float(rng.uniform(0.3, 0.7)))
            k += int(rng.uniform(0.08, 0.22) * SAMPLE_RATE)
        pos = k + int(rng.uniform(1.5, 5.0) * SAMPLE_RATE)
    return out


def _cricket(rng: np.random.Generator) -> np.ndarray:
    freq = rng.uniform(4_200, 4_900)
    pulse_n = int(0.016 * SAMPLE_RATE)
    gap_n = int(0.02 * SAMPLE_RATE)
    t = np.arange(pulse_n) / SAMPLE_RATE
    pulse = (np.sin(2 * np.pi * freq * t) * np.hanning(pulse_n)).astype(np.float32)
    parts = []
    for _ in range(int(rng.integers(3, 5))):
        parts += [pulse, np.zeros(gap_n, dtype=np.float32)]
    return np.concatenate(parts)


def _night_insects(n: int, rng: np.random.Generator) -> np.ndarray:
    out = 0.3 * _noise2(n, rng, band(3_000, 9_000), 0.9) * _mod2(n, rng, 0.2, 0.5)
    out += 0.2 * _noise2(n, rng, band(60, 300), 0.5)
    for _ in range(4):
        pan = float(rng.uniform(-0.9, 0.9))
        gain = float(rng.uniform(0.2, 0.6))
        period = rng.uniform(0.45, 0.9)
        chirp = _cricket(rng)
        count = max(1, int(round(n / SAMPLE_RATE / period)))
        start = int(rng.integers(0, n))
        for k in range(count):
            jitter = int(rng.uniform(-0.02, 0.02) * SAMPLE_RATE)
            _place(out, chirp, start + int(k * n / count) + jitter, pan, gain)
    # A katydid rasp now and then.
    m = int(0.6 * SAMPLE_RATE)
    rasp = highpass(rng.standard_normal(m).astype(np.float32), 7_000) * (
        (np.sin(2 * np.pi * 14 * np.arange(m) / SAMPLE_RATE) > 0.3).astype(np.float32)) * np.hanning(m).astype(np.float32)
    for _ in range(max(1, int(n / SAMPLE_RATE / 6))):
        _place(out, rasp, int(rng.integers(0, n)), float(rng.uniform(-0.8, 0.8)), 0.25)
    return out


# ---------------------------------------------------------------- music


def _drone(n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros((n, 2), dtype=np.float32)
    for freq, amp in ((55.0, 1.0), (82.4, 0.6), (110.0, 0.5), (164.8, 0.3), (220.0, 0.2), (329.6, 0.1)):
        for ch in range(2):
            detune = freq * (1 + rng.uniform(-0.003, 0.003))
            swell = 0.6 + 0.4 * periodic_sine(n, rng.uniform(0.03, 0.12), rng.uniform(0, 6))
            out[:, ch] += amp * periodic_sine(n, detune, rng.uniform(0, 6)) * swell
    air = 0.15 * _noise2(n, rng, band(200, 1_500), 0.9) * _mod2(n, rng, 0.1, 0.8)
    return out + air


def _place_notes(out: np.ndarray, events: list[tuple[float, np.ndarray, float, float]]) -> None:
    for start_s, event, pan, gain in events:
        _place(out, event, seconds_to_samples(start_s), pan, gain)


def _pulse(n: int, rng: np.random.Generator) -> np.ndarray:
    beat = 60.0 / 100.0
    beats = int(round(n / SAMPLE_RATE / beat))
    out = np.zeros((n, 2), dtype=np.float32)
    kick = ins.kick(0.9)
    roots = [45, 45, 41, 43]  # A2 A2 F2 G2, one per bar
    chords = {45: (57, 60, 64), 41: (53, 57, 60), 43: (55, 59, 62)}
    events = []
    for b in range(beats):
        bar_root = roots[(b // 4) % len(roots)]
        events.append((b * beat, kick, 0.0, 0.8))
        for half in (0, 1):
            note = bar_root + (7 if half else 0)
            events.append((b * beat + half * beat / 2, ins.bass(ins.midi_hz(note), beat / 2.2), 0.0, 0.7))
        if b % 4 == 0:
            for k, note in enumerate(chords[bar_root]):
                events.append((b * beat, ins.pad(ins.midi_hz(note), 4 * beat * 0.95, 1_500, 0.3, 0.8),
                               (k - 1) * 0.5, 0.5))
    _place_notes(out, events)
    return out


def _tension(n: int, rng: np.random.Generator) -> np.ndarray:
    beat = 60.0 / 80.0
    beats = int(round(n / SAMPLE_RATE / beat))
    out = np.zeros((n, 2), dtype=np.float32)
    cluster = 0.5 * (periodic_sine(n, 55.0) + periodic_sine(n, 58.27, 1.0)) + 0.2 * periodic_sine(n, 27.5)
    out += cluster[:, None]
    swell = 0.5 - 0.5 * periodic_sine(n, SAMPLE_RATE / n, np.pi / 2)  # one raised-cosine rise and fall
    for ch, (f1, f2) in enumerate(((659.3, 698.5), (698.5, 739.99))):
        saw = lowpass(
            (periodic_sine(n, f1) + 0.5 * periodic_sine(n, 2 * f1) + periodic_sine(n, f2, 0.5)).astype(np.float32),
            2_500)
        tremolo = 0.5 + 0.5 * periodic_sine(n, 8.0)
        out[:, ch] += 0.25 * saw * tremolo * swell
    events = []
    for b in range(beats):
        events.append((b * beat, ins.thump(48.0, 1.0, 0.08), 0.0, 0.9))
        events.append((b * beat + 0.22, ins.thump(44.0, 0.6, 0.08), 0.0, 0.9))
        for half in (0, 1):
            events.append((b * beat + half * beat / 2, ins.tick(3_000 if half else 2_400), 0.5 - half, 0.15))
    _place_notes(out, events)
    return out


def _melancholy(n: int, rng: np.random.Generator) -> np.ndarray:
    beat = 60.0 / 66.0
    bars = max(1, int(round(n / SAMPLE_RATE / (4 * beat))))
    out = np.zeros((n, 2), dtype=np.float32)
    progression = [(45, (57, 60, 64)), (41, (53, 57, 60)), (48, (55, 60, 64)), (43, (55, 59, 62))]
    scale = [69, 71, 72, 74, 76, 77, 79, 81]
    events = []
    for bar in range(bars):
        root, chord = progression[bar % len(progression)]
        start = bar * 4 * beat
        events.append((start, ins.pad(ins.midi_hz(root), 4 * beat, 600, 0.6, 1.5), 0.0, 0.9))
        for k, note in enumerate(chord):
            events.append((start, ins.pad(ins.midi_hz(note), 4 * beat, 1_100, 0.9, 1.5), (k - 1) * 0.6, 0.5))
        for b in range(4):
            if rng.random() < 0.7:
                tone = int(rng.choice([c + 12 for c in chord] + scale))
                events.append((start + b * beat + rng.choice([0.0, beat / 2]), ins.pluck(ins.midi_hz(tone), 0.9),
                               float(rng.uniform(-0.3, 0.3)), 0.35))
    _place_notes(out, events)
    return out


def _chase(n: int, rng: np.random.Generator) -> np.ndarray:
    beat = 60.0 / 150.0
    beats = int(round(n / SAMPLE_RATE / beat))
    out = np.zeros((n, 2), dtype=np.float32)
    roots = [38, 38, 46, 48]  # D2 D2 Bb2 C3
    kick, events = ins.kick(1.0), []
    for b in range(beats):
        t0 = b * beat
        root = roots[(b // 4) % len(roots)]
        if b % 2 == 0:
            events.append((t0, kick, 0.0, 0.9))
        else:
            events.append((t0, ins.snare(rng), 0.1, 0.6))
        if b % 4 == 1:
            events.append((t0 + beat / 2, kick, 0.0, 0.7))
        for s in range(4):
            events.append((t0 + s * beat / 4, ins.hat(rng, decay_s=0.02), 0.4, 0.25 if s % 2 else 0.4))
            note = root + (12 if s == 2 else 0)
            events.append((t0 + s * beat / 4, ins.bass(ins.midi_hz(note), beat / 4.5, 900), 0.0, 0.55))
        if b % 4 == 3:
            for k, note in enumerate((root + 24, root + 27, root + 31)):
                events.append((t0 + beat / 2, ins.pluck(ins.midi_hz(note), 0.25, 1.5), (k - 1) * 0.6, 0.3))
    _place_notes(out, events)
    return out


@dataclass(frozen=True)
class BedSpec:
    kind: str  # "ambience" or "music"
    render: Render
    loop_s: float
    beat_s: float | None = None  # music loops round to whole bars of 4 beats


AMBIENCE: dict[str, BedSpec] = {
    "room_tone": BedSpec("ambience", _room_tone, DEFAULT_AMBIENCE_LOOP_S),
    "wind": BedSpec("ambience", _wind, DEFAULT_AMBIENCE_LOOP_S),
    "rain": BedSpec("ambience", _rain, DEFAULT_AMBIENCE_LOOP_S),
    "city_night": BedSpec("ambience", _city_night, DEFAULT_AMBIENCE_LOOP_S),
    "forest": BedSpec("ambience", _forest, DEFAULT_AMBIENCE_LOOP_S),
    "ocean": BedSpec("ambience", _ocean, DEFAULT_AMBIENCE_LOOP_S),
    "traffic": BedSpec("ambience", _traffic, DEFAULT_AMBIENCE_LOOP_S),
    "crowd": BedSpec("ambience", _crowd, DEFAULT_AMBIENCE_LOOP_S),
    "office": BedSpec("ambience", _office, DEFAULT_AMBIENCE_LOOP_S),
    "night_insects": BedSpec("ambience", _night_insects, DEFAULT_AMBIENCE_LOOP_S),
}
MUSIC: dict[str, BedSpec] = {
    "drone": BedSpec("music", _drone, 32.0),
    "pulse": BedSpec("music", _pulse, 19.2, 60.0 / 100.0),
    "tension": BedSpec("music", _tension, 24.0, 60.0 / 80.0),
    "melancholy": BedSpec("music", _melancholy, 29.1, 60.0 / 66.0),
    "chase": BedSpec("music", _chase, 12.8, 60.0 / 150.0),
}
BEDS: dict[str, BedSpec] = {**AMBIENCE, **MUSIC}


def bed_names(kind: str | None = None) -> tuple[str, ...]:
    return tuple(name for name, spec in BEDS.items() if kind is None or spec.kind == kind)


def loop_length(name: str, loop_s: float | None = None) -> int:
    """Samples in a bed's loop: music rounds to whole 4-beat bars so the groove never skips."""
    spec = _spec(name)
    seconds = loop_s if loop_s is not None else spec.loop_s
    if spec.beat_s is not None:
        bars = max(1, round(seconds / (4 * spec.beat_s)))
        seconds = bars * 4 * spec.beat_s
    return max(seconds_to_samples(seconds), seconds_to_samples(1.0))


def _spec(name: str) -> BedSpec:
    key = name.removeprefix("std.")
    if key not in BEDS:
        raise SoundError(f"unknown bed {name!r}; built-in beds: {', '.join(BEDS)}")
    return BEDS[key]


def _normalise(loop: np.ndarray) -> np.ndarray:
    loop = loop - channel_means(loop)
    lufs = integrated_loudness(loop)
    if lufs is None:
        raise SoundError("bed generator produced silence")
    loop *= np.float32(db_to_gain(BED_REFERENCE_LUFS - lufs))
    return loop


def bed_loop(name: str, seed: int = 0, loop_s: float | None = None) -> np.ndarray:
    """One exactly periodic stereo loop of a built-in bed at the reference loudness (read-only).

    Loops are cached: a bed used in many scenes is generated once.
    """
    _spec(name)
    return _cached_loop(name.removeprefix("std."), int(seed), loop_length(name, loop_s))


@lru_cache(maxsize=32)
def _cached_loop(name: str, seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng([seed, sum(ord(c) * 131**i for i, c in enumerate(name))])
    loop = _normalise(np.asarray(BEDS[name].render(n, rng), dtype=np.float32))
    loop.setflags(write=False)
    return loop


def clear_bed_cache() -> None:
    """Forget generated loops and decoded bed files (frees memory between films)."""
    _cached_loop.cache_clear()
    _file_loop.cache_clear()


def render_bed(
    name: str, duration_s: float, seed: int = 0, *, offset_s: float = 0.0, fade_in_s: float = 0.0,
    fade_out_s: float = 0.0, loop_s: float | None = None,
) -> np.ndarray:
    """A built-in bed of any length, starting ``offset_s`` into its loop, with edge fades.

    Passing the programme time as ``offset_s`` keeps a bed that spans several scenes in phase
    with itself, so crossfading two pieces of the same bed is seamless.
    """
    loop = bed_loop(name, seed, loop_s)
    n = seconds_to_samples(duration_s)
    out = tile_to_length(loop, n, seconds_to_samples(offset_s))
    return apply_fades(out, fade_in_s, fade_out_s, in_place=True)


@lru_cache(maxsize=16)
def _file_loop(path: str, mtime_ns: int, size: int, normalise: bool) -> np.ndarray:
    audio = decode_audio(path, channels=2)
    loop = make_loopable(audio, seconds_to_samples(min(LOOP_CROSSFADE_S, audio.shape[0] / SAMPLE_RATE / 4)))
    if normalise:
        lufs = integrated_loudness(loop)
        if lufs is not None:
            loop = (loop * db_to_gain(BED_REFERENCE_LUFS - lufs)).astype(np.float32)
    loop.setflags(write=False)
    return loop


def file_bed(
    path: str | os.PathLike, duration_s: float, *, offset_s: float = 0.0, fade_in_s: float = 0.0,
    fade_out_s: float = 0.0, normalise: bool = True,
) -> np.ndarray:
    """A bed from a user audio file (any format FFmpeg reads), looped seamlessly to any length.

    The file is resampled to 48 kHz stereo, its tail crossfaded into its head so it loops, and
    (by default) brought to the bed reference loudness so levels mean the same as for built-ins.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise SoundError(f"bed file not found: {p}") from exc
    loop = _file_loop(str(p.resolve()), st.st_mtime_ns, st.st_size, normalise)
    out = tile_to_length(loop, seconds_to_samples(duration_s), seconds_to_samples(offset_s))
    return apply_fades(out, fade_in_s, fade_out_s, in_place=True)


def loop_seam_step(loop: np.ndarray) -> tuple[float, float]:
    """(step across the seam, 99.9th percentile of steps inside the loop), for loop checks."""
    steps = np.abs(np.diff(loop, axis=0)).max(axis=1)
    seam = float(np.abs(loop[0] - loop[-1]).max())
    return seam, float(np.percentile(steps, 99.9))


__all__ = [
    "AMBIENCE", "BEDS", "BED_REFERENCE_LUFS", "MUSIC", "BedSpec", "bed_gain_db", "bed_loop", "bed_names",
    "clear_bed_cache",
    "file_bed", "loop_length", "loop_seam_step", "render_bed",
]
