"""Small signal helpers shared by the sound modules.

Everything works on float32 numpy arrays at :data:`SAMPLE_RATE`, shaped ``(n,)`` for mono or
``(n, channels)`` otherwise. Generators build *periodic* signals (FFT-shaped noise, events added
with wrap-around) so a loop of any length repeats without a click.
"""

from __future__ import annotations

from math import gcd

import numpy as np
from scipy import fft as sp_fft
from scipy import signal

SAMPLE_RATE = 48_000
_SINE_BLOCK = 2048
_MEAN_BLOCK = 4096


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * np.log10(max(gain, 1e-12)))


def seconds_to_samples(seconds: float, sample_rate: int = SAMPLE_RATE) -> int:
    return int(round(seconds * sample_rate))


def as_frames(samples: np.ndarray) -> np.ndarray:
    """View mono ``(n,)`` as ``(n, 1)`` so channel loops need no special case."""
    return samples[:, None] if samples.ndim == 1 else samples


def resample(samples: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling along time (exact rational ratio, linear phase)."""
    if rate_in == rate_out:
        return samples.astype(np.float32, copy=False)
    g = gcd(int(rate_in), int(rate_out))
    out = signal.resample_poly(samples, rate_out // g, rate_in // g, axis=0)
    return out.astype(np.float32)


def fade_curve(n: int, shape: str = "equal_power") -> np.ndarray:
    """Rising gain curve of n samples from 0 towards 1.

    ``equal_power`` (sine) keeps the summed power constant when two unrelated signals cross;
    ``linear`` keeps the summed amplitude constant, right for two copies of the same signal.
    """
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    x = (np.arange(n, dtype=np.float64) + 0.5) / n
    if shape == "equal_power":
        return np.sin(0.5 * np.pi * x).astype(np.float32)
    if shape == "linear":
        return x.astype(np.float32)
    raise ValueError(f"unknown fade shape {shape!r} (use 'equal_power' or 'linear')")


def apply_fades(
    samples: np.ndarray,
    fade_in_s: float = 0.0,
    fade_out_s: float = 0.0,
    *,
    fade_in_shape: str = "equal_power",
    fade_out_shape: str = "equal_power",
    sample_rate: int = SAMPLE_RATE,
    in_place: bool = False,
) -> np.ndarray:
    """Return a copy with fade-in and fade-out ramps (each clamped to the signal length).

    ``in_place`` ramps ``samples`` itself (a float32 array the caller owns) and returns it.
    """
    out = samples if in_place else np.array(samples, dtype=np.float32, copy=True)
    frames = as_frames(out)
    n = frames.shape[0]
    n_in = min(n, seconds_to_samples(fade_in_s, sample_rate))
    n_out = min(n, seconds_to_samples(fade_out_s, sample_rate))
    if n_in:
        frames[:n_in] *= fade_curve(n_in, fade_in_shape)[:, None]
    if n_out:
        frames[n - n_out :] *= fade_curve(n_out, fade_out_shape)[::-1, None]
    return out


def tile_to_length(loop: np.ndarray, n: int, offset: int = 0) -> np.ndarray:
    """Repeat a periodic loop to n samples, starting ``offset`` samples into it."""
    period = loop.shape[0]
    if period == 0:
        raise ValueError("cannot loop an empty signal")
    out = np.empty((n,) + loop.shape[1:], dtype=loop.dtype)
    position, done = offset % period, 0
    while done < n:
        take = min(n - done, period - position)
        out[done : done + take] = loop[position : position + take]
        done += take
        position = 0
    return out


def make_loopable(samples: np.ndarray, crossfade: int) -> np.ndarray:
    """Turn an arbitrary recording into a periodic loop by crossfading its tail into its head.

    The result is ``crossfade`` samples shorter; its last sample flows into its first exactly
    as the original recording flowed at the crossfade, so tiling it never clicks.
    """
    n = samples.shape[0]
    crossfade = max(0, min(crossfade, n // 2))
    if crossfade == 0:
        return np.array(samples, dtype=np.float32, copy=True)
    frames = as_frames(np.asarray(samples, dtype=np.float32))
    body = frames[: n - crossfade].copy()
    tail = frames[n - crossfade :]
    rise = fade_curve(crossfade, "equal_power")[:, None]
    fall = fade_curve(crossfade, "equal_power")[::-1, None]
    body[:crossfade] = body[:crossfade] * rise + tail * fall
    return body[:, 0] if samples.ndim == 1 else body


def noise_spectrum(n: int, magnitude) -> np.ndarray:
    """``magnitude`` evaluated on the n-sample loop's FFT bins, for several :func:`shaped_noise`."""
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE).astype(np.float32)
    return np.asarray(magnitude(freqs), dtype=np.float32)


def shaped_noise(n: int, rng: np.random.Generator, magnitude) -> np.ndarray:
    """Periodic noise of n samples whose spectrum follows ``magnitude(freqs_hz)``.

    ``magnitude`` may also be its values on the bins (:func:`noise_spectrum`). Built in the
    frequency domain, so the result is exactly periodic in n: a loop of it is seamless.
    Normalised to unit RMS.
    """
    shape = magnitude if isinstance(magnitude, np.ndarray) else noise_spectrum(n, magnitude)
    size = n // 2 + 1
    spectrum = np.empty(size, dtype=np.complex64)
    spectrum.real = rng.standard_normal(size, dtype=np.float32)
    spectrum.imag = rng.standard_normal(size, dtype=np.float32)
    spectrum *= shape
    spectrum[0] = 0.0
    out = sp_fft.irfft(spectrum, n, overwrite_x=True)
    rms = float(np.sqrt(np.vdot(out, out) / n)) if n else 0.0  # vdot: no BLAS threads
    if rms > 0:
        out *= np.float32(1.0 / rms)
    return out.astype(np.float32, copy=False)


def band(low_hz: float, high_hz: float, slope: float = 2.0):
    """Magnitude function for :func:`shaped_noise`: a soft band-pass between two corners.

    Evaluated in float32 (the spectrum is float32 anyway); a corner term too large for float32
    only means the magnitude there is zero, as it is to far better than float32 precision.
    """
    power = np.float32(2 * slope)

    def magnitude(f: np.ndarray) -> np.ndarray:
        f = np.maximum(np.asarray(f, dtype=np.float32), np.float32(1.0))
        with np.errstate(over="ignore"):
            denominator = (f * np.float32(1.0 / high_hz)) ** power + np.float32(1.0)
            if low_hz > 0:
                denominator *= (np.float32(low_hz) / f) ** power + np.float32(1.0)
        return np.float32(1.0) / np.sqrt(denominator)

    return magnitude


def pink(low_hz: float = 20.0, high_hz: float = 20_000.0, tilt: float = 0.5):
    """Magnitude function: 1/f**tilt noise (0.5 pink, 1.0 brown) inside a band."""
    shape = band(low_hz, high_hz)

    def magnitude(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=np.float32)
        return shape(f) / np.maximum(f, np.float32(low_hz)) ** np.float32(tilt)

    return magnitude


def smooth_modulation(n: int, rng: np.random.Generator, max_hz: float, depth: float = 1.0) -> np.ndarray:
    """Slow periodic random gain curve in [1 - depth, 1] (gusts, swells, crowd swell).

    Drawn at a 200 Hz control rate (periodic by construction) and interpolated with wrap-around.
    """
    control_rate = 200.0
    m = max(8, int(round(n * control_rate / SAMPLE_RATE)))
    freqs = np.fft.rfftfreq(m, 1.0 / control_rate)
    spectrum = (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)) / np.sqrt(
        1.0 + (np.maximum(freqs, 1e-6) / max_hz) ** 6)
    spectrum[0] = 0.0
    control = np.fft.irfft(spectrum, m)
    lo, hi = float(control.min()), float(control.max())
    control = (control - lo) / (hi - lo) if hi > lo else np.ones(m)
    control = 1.0 - depth + depth * control
    if n % m == 0:
        # Whole samples per control point: each row of the result is one straight segment.
        ramp = np.arange(n // m, dtype=np.float32) / np.float32(n // m)
        start = control.astype(np.float32)[:, None]
        rise = (np.roll(control, -1) - control).astype(np.float32)[:, None]
        return (start + rise * ramp).reshape(-1)
    positions = np.arange(n, dtype=np.float64) * (m / n)
    return np.interp(positions, np.arange(m + 1), np.append(control, control[0])).astype(np.float32)


def periodic_sine(n: int, freq_hz: float, phase: float = 0.0) -> np.ndarray:
    """Sine rounded to a whole number of cycles in n samples, so it loops exactly."""
    cycles = max(1, round(freq_hz * n / SAMPLE_RATE))
    # Sample k = row * _SINE_BLOCK + col: sin(a + b) = sin a cos b + cos a sin b, with both
    # angles reduced exactly (integer turns modulo n) and their sines taken in float64, so one
    # multiply-add per sample remains and the loop's phase is exact however long it is.
    block = min(n, _SINE_BLOCK)
    rows = -(-n // block)
    coarse = 2 * np.pi * ((np.arange(rows, dtype=np.int64) * (block * cycles)) % n) / n + phase
    fine = 2 * np.pi * ((np.arange(block, dtype=np.int64) * cycles) % n) / n
    sin_a, cos_a = np.sin(coarse).astype(np.float32)[:, None], np.cos(coarse).astype(np.float32)[:, None]
    out = np.empty((rows, block), dtype=np.float32)
    np.multiply(sin_a, np.cos(fine).astype(np.float32), out=out)
    out += cos_a * np.sin(fine).astype(np.float32)
    return out.reshape(-1)[:n]


def add_wrapped(buffer: np.ndarray, event: np.ndarray, position: int, gain: float = 1.0) -> None:
    """Add ``event`` into the circular ``buffer`` at ``position``, wrapping past the end."""
    n = buffer.shape[0]
    length = event.shape[0]
    position %= n
    done = 0
    while done < length:
        start = (position + done) % n
        take = min(length - done, n - start)
        buffer[start : start + take] += gain * event[done : done + take]
        done += take


def circular_convolve(impulses: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve a periodic impulse train with a kernel, wrapping the tail: still periodic."""
    n = impulses.shape[0]
    k = np.zeros(n, dtype=np.float64)
    m = min(n, kernel.shape[0])
    k[:m] = kernel[:m]
    out = np.fft.irfft(np.fft.rfft(impulses) * np.fft.rfft(k), n)
    return out.astype(np.float32)


def lowpass(samples: np.ndarray, cutoff_hz: float, order: int = 4) -> np.ndarray:
    sos = signal.butter(order, cutoff_hz, btype="low", fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, samples, axis=0).astype(np.float32)


def highpass(samples: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    sos = signal.butter(order, cutoff_hz, btype="high", fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, samples, axis=0).astype(np.float32)


def bandpass(samples: np.ndarray, low_hz: float, high_hz: float, order: int = 2) -> np.ndarray:
    sos = signal.butter(order, [low_hz, high_hz], btype="band", fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, samples, axis=0).astype(np.float32)


def envelope(n: int, attack_s: float, decay_s: float) -> np.ndarray:
    """Linear attack then exponential decay (time constant ``decay_s``) over n samples."""
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    a = max(attack_s, 1.0 / SAMPLE_RATE)
    rise = np.clip(t / a, 0.0, 1.0)
    fall = np.exp(-np.maximum(t - a, 0.0) / max(decay_s, 1e-4))
    return (rise * fall).astype(np.float32)


def channel_means(frames: np.ndarray) -> np.ndarray:
    """Mean of each column of ``(n, channels)`` frames, shaped ``(1, channels)``.

    Summed as rows of 4096 frames added together, then those partial sums: NumPy's own column
    mean of a tall two-column array is ten times slower, and a BLAS product with ones leaves
    BLAS threads spinning on CPU the rest of the build needs.
    """
    n, channels = frames.shape
    if n == 0:
        return np.zeros((1, channels), dtype=np.float32)
    whole = n - n % _MEAN_BLOCK
    rows = frames[:whole].reshape(-1, _MEAN_BLOCK * channels).sum(axis=0, dtype=np.float64)
    total = rows.reshape(_MEAN_BLOCK, channels).sum(axis=0) + frames[whole:].sum(axis=0, dtype=np.float64)
    return (total / n).astype(np.float32)[None, :]


def normalise_peak(samples: np.ndarray, peak_dbfs: float) -> np.ndarray:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak == 0.0:
        return samples.astype(np.float32)
    return (samples * (db_to_gain(peak_dbfs) / peak)).astype(np.float32)
