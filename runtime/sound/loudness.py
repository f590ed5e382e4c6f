"""Loudness: BS.1770 integrated loudness, 4x-oversampled true peak, normalisation and limiting.

Normalising speech up to -14 LUFS pushes true peaks above 0 dBTP, so normalisation is a gain
followed by an offline look-ahead limiter on the oversampled peak envelope, iterated until the
integrated loudness sits on target (the limiter takes a little loudness away each time).
:func:`measure_ebur128` is an independent meter (FFmpeg's ebur128 filter) for checking results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyloudnorm
from pyloudnorm.iirfilter import IIRfilter
from scipy import signal
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from .dsp import SAMPLE_RATE, as_frames, db_to_gain, gain_to_db, seconds_to_samples
from .errors import SoundError
from .meter import EbuR128Measurement, measure_ebur128  # noqa: F401  (re-exported: the meter of record)

PROFILES: dict[str, float] = {
    "streaming": -14.0,
    "web": -14.0,
    "podcast": -16.0,
    "mobile": -16.0,
    "broadcast": -23.0,
    "ebu_r128": -23.0,
}
DEFAULT_TARGET_LUFS = -14.0
DEFAULT_CEILING_DBTP = -1.0
OVERSAMPLING = 4
LFE_INDEX_5_1 = 3
LOUDNESS_TOLERANCE_LU = 0.05
LIMITER_MARGIN_DB = 0.3  # below the ceiling: covers the 4x filter's residual under-read
MAX_EXTRA_GAIN_DB = 20.0
_CHUNK = 1 << 18  # small enough that malloc reuses chunk buffers instead of faulting in new pages
_PAD = 64
# 4x interpolation filter: 32 input samples either side, Kaiser beta 9, cut at the input's
# Nyquist. SciPy's default resample_poly filter (10 samples, beta 5) droops above ~15 kHz and
# under-reads the peaks of clicks and cymbal-like transients by up to 0.65 dB against ideal
# band-limited reconstruction; this one stays within 0.2 dB.
_INTERPOLATOR = signal.firwin(2 * 32 * OVERSAMPLING + 1, 1.0 / OVERSAMPLING, window=("kaiser", 9.0))
# Its phases 1..3 as a (1, phases, taps) convolution kernel: the oversampled value 4k+p is
# full_convolution(x, h[p::4])[k + _PHASE_DELAY]. Phase 0 is the input sample itself (the
# windowed sinc is zero at every other multiple of 4), so it is read from the input directly.
_PHASE_TAPS = _INTERPOLATOR.size // OVERSAMPLING
_PHASE_DELAY = _PHASE_TAPS // 2
_PHASE_KERNEL = (OVERSAMPLING * np.stack(
    [_INTERPOLATOR[p::OVERSAMPLING][:_PHASE_TAPS] for p in range(1, OVERSAMPLING)]
)).astype(np.float32)[None, :, :]
_MERGE_GAP = 19_200
_CHANNEL_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.41, 1.41])
_BLOCK_STEPS = 4  # a 400 ms gating block is four 100 ms steps (75 % overlap)
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
_STEPS_PER_CHUNK = 8  # the meter keeps the filter's state every 0.8 s for partial re-measurement
_K_TAIL_S = 0.2  # the K filter's impulse response has fallen below 1e-21 of its peak by then

Rows = Callable[[int, int], np.ndarray]
"""``rows(start, stop)``: those frames of a result that is never held whole (a limited programme)."""


def target_for_profile(profile: str) -> float:
    """Integrated loudness target (LUFS) of a named delivery profile."""
    try:
        return PROFILES[profile]
    except KeyError:
        raise SoundError(f"unknown loudness profile {profile!r}; known: {', '.join(sorted(PROFILES))}") from None


def loudness_channels(samples: np.ndarray) -> np.ndarray:
    """Channels that count for loudness: all of them, except the LFE of a 5.1 signal."""
    frames = as_frames(samples)
    if frames.shape[1] == 6:
        return np.delete(frames, LFE_INDEX_5_1, axis=1)
    if frames.shape[1] > 5:
        raise SoundError(f"cannot measure loudness of {frames.shape[1]} channels (mono to 5.1 only)")
    return frames


@lru_cache(maxsize=8)
def _k_weighting(sample_rate: int) -> np.ndarray:
    """K-weighting (the BS.1770 pre-filter) as pyloudnorm, the measurement of record, designs
    it: its own two biquads, run here as one second-order-sections cascade over all channels."""
    stages = (IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
              IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass"))
    return np.array([np.concatenate([f.b, f.a]) for f in stages])


def _pyloudnorm_lufs(frames: np.ndarray, sample_rate: int) -> float | None:
    value = pyloudnorm.Meter(sample_rate).integrated_loudness(frames)
    return float(value) if np.isfinite(value) and value >= _ABSOLUTE_GATE_LUFS else None


def integrated_loudness(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float | None:
    """BS.1770-4 gated integrated loudness in LUFS (pyloudnorm's K-weighting and gating).

    Returns None when it is undefined: shorter than one 400 ms gating block, or every block
    below the -70 LUFS absolute gate (silence, very quiet signals).
    """
    frames = loudness_channels(samples)
    if frames.shape[0] <= seconds_to_samples(0.4, sample_rate):
        return None
    return LoudnessMeter(frames, sample_rate).loudness()


def _gated_loudness(energy: np.ndarray, samples: int, sample_rate: int = SAMPLE_RATE) -> float | None:
    """Integrated loudness from per-step K-weighted energies ``(steps, channels)``.

    Blocks are laid out as pyloudnorm lays them (its count, rounded; the last may reach past
    the end and then holds fewer samples), so both give the same value.
    """
    step = sample_rate // 10
    duration = samples / sample_rate
    blocks = int(np.round((duration - 0.4) / 0.1)) + 1
    if blocks < 1:
        return None
    padded = np.zeros((blocks + _BLOCK_STEPS - 1, energy.shape[1]))
    used = min(energy.shape[0], padded.shape[0])
    padded[:used] = energy[:used]
    sums = padded[:blocks].copy()
    for k in range(1, _BLOCK_STEPS):
        sums += padded[k : k + blocks]
    z = sums / (_BLOCK_STEPS * step)
    weights = _CHANNEL_WEIGHTS[: z.shape[1]]
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(z @ weights)
    above = block_lufs >= _ABSOLUTE_GATE_LUFS
    if not above.any():
        return None
    relative = -0.691 + 10.0 * np.log10(z[above].mean(axis=0) @ weights) + _RELATIVE_GATE_LU
    gated = (block_lufs > relative) & (block_lufs > _ABSOLUTE_GATE_LUFS)
    if not gated.any():
        return None
    value = -0.691 + 10.0 * np.log10(z[gated].mean(axis=0) @ weights)
    return float(value) if np.isfinite(value) and value >= _ABSOLUTE_GATE_LUFS else None


def _step_energies(weighted: np.ndarray, step: int) -> np.ndarray:
    """Sum of squares per ``step`` samples and channel (the last step may be partial)."""
    m = weighted.shape[0]
    whole = m - m % step
    squares = np.square(weighted)
    energy = squares[:whole].reshape(-1, step, squares.shape[1]).sum(axis=1)
    if whole < m:
        energy = np.concatenate([energy, squares[whole:].sum(axis=0, keepdims=True)])
    return energy


class LoudnessMeter:
    """K-weighted energies of one programme, re-usable for gained and limited versions of it.

    The K filter is linear and time-invariant, so ``x * g`` measures exactly ``g**2`` times the
    energy of ``x`` (the gates then follow the levels, the absolute gate included). Where a
    limiter bent the gain the filter is run again, from the nearest kept state (scaled by the
    gain) to where the difference has died out in the filter; every other 100 ms step is
    reused. Normalising a programme then costs one K-weighting pass, not one per attempt.
    """

    def __init__(self, frames: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
        x = loudness_channels(frames)
        self.samples, self.channels = x.shape
        self.rate = sample_rate
        self.step = sample_rate // 10
        self.chunk = self.step * _STEPS_PER_CHUNK
        self.sos = _k_weighting(sample_rate)
        self.states: list[np.ndarray] = []
        self.energy = np.zeros((0, self.channels))
        self._odd_rate = x if sample_rate % 10 else None  # 100 ms is no whole number of samples
        if self._odd_rate is not None:
            return
        zi = np.zeros((self.sos.shape[0], 2, self.channels))
        energies = []
        for start in range(0, self.samples, self.chunk):
            self.states.append(zi)
            weighted, zi = signal.sosfilt(self.sos, x[start : start + self.chunk].astype(np.float64), axis=0, zi=zi)
            energies.append(_step_energies(weighted, self.step))
        if energies:
            self.energy = np.concatenate(energies)

    def loudness(self, gain: float = 1.0) -> float | None:
        """Integrated loudness of the programme times a constant ``gain``."""
        if self.samples <= seconds_to_samples(0.4, self.rate):
            return None
        if self._odd_rate is not None:
            return _pyloudnorm_lufs(self._odd_rate * gain, self.rate)
        return _gated_loudness(self.energy * (gain * gain), self.samples, self.rate)

    def loudness_after(self, out: np.ndarray, gain: float, curve: np.ndarray | None) -> float | None:
        """Integrated loudness of ``out``: the programme times ``curve`` (or ``gain`` if None).

        ``curve`` equals ``gain`` wherever the limiter left the programme alone; only steps
        at or after a bent stretch, up to the filter's tail, are measured again from ``out``.
        """
        frames = as_frames(out)
        return self.loudness_of(lambda start, stop: frames[start:stop], gain, curve)

    def loudness_of(self, rows: Rows, gain: float, curve: np.ndarray | None) -> float | None:
        """:meth:`loudness_after` of a result given by ``rows(start, stop)``: only the rows it
        measures again are made (see :func:`_limited_rows`)."""
        if curve is None or self.samples <= seconds_to_samples(0.4, self.rate):
            return self.loudness(gain)
        if self._odd_rate is not None:
            return _pyloudnorm_lufs(loudness_channels(rows(0, self.samples)), self.rate)
        energy = self.energy * (gain * gain)
        tail = seconds_to_samples(_K_TAIL_S, self.rate)
        # Each bent stretch is re-measured from the kept state at or before it to a step
        # boundary past its tail; stretches whose spans meet are measured together.
        spans: list[list[int]] = []
        for a, b in _runs(curve != np.float32(gain), 0):
            start = (a // self.chunk) * self.chunk
            stop = min(self.samples, -(-(b + tail) // self.step) * self.step)
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], stop)
            else:
                spans.append([start, stop])
        for start, stop in spans:
            zi = self.states[start // self.chunk] * gain
            x = loudness_channels(rows(start, stop)).astype(np.float64)
            weighted, _ = signal.sosfilt(self.sos, x, axis=0, zi=zi)
            part = _step_energies(weighted, self.step)
            first = start // self.step
            energy[first : first + part.shape[0]] = part
        return _gated_loudness(energy, self.samples, self.rate)


def _runs(mask: np.ndarray, reach: int, merge_gap: int = 0) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in ``mask``, widened by ``reach`` either side (clipped
    to the array) and merged when less than ``merge_gap`` apart."""
    n = mask.shape[0]
    if n == 0:
        return []
    edges = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    if mask[0]:
        edges = np.concatenate(([0], edges))
    if mask[-1]:
        edges = np.concatenate((edges, [n]))
    widened = ((max(0, int(a) - reach), min(n, int(b) + reach)) for a, b in edges.reshape(-1, 2))
    return _merge_runs(list(widened), merge_gap)


def _merge_runs(runs: list[tuple[int, int]], merge_gap: int) -> list[tuple[int, int]]:
    """Sorted [start, stop) runs, those less than ``merge_gap`` apart joined."""
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] < merge_gap:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _max_outside(values: np.ndarray, runs: list[tuple[int, int]]) -> float:
    """Largest of non-negative ``values`` outside sorted, disjoint [start, stop) ``runs`` (0 if none)."""
    n = values.shape[0]
    bounds = np.asarray(runs, dtype=np.intp).reshape(-1)
    starts = np.concatenate(([0], bounds[1::2]))
    stops = np.concatenate((bounds[0::2], [n]))
    keep = stops > starts
    if not keep.any():
        return 0.0
    # maximum.reduceat over start, stop, start, stop...: the even entries are the gaps' maxima.
    edges = np.stack([starts[keep], stops[keep]], axis=1).reshape(-1)
    if edges[-1] == n:
        edges = edges[:-1]
    return float(np.maximum.reduceat(values, edges)[0::2].max())


def _phase_peaks(frames: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Largest |value| of the 4x-oversampled frames (any channel) between each sample and the next.

    The three in-between phases are short convolutions of the input (overlap-add FFTs over all
    channels and phases at once); samples beyond the frames count as silence.
    """
    n = frames.shape[0]
    a, b = max(0, start - _PAD), min(n, stop + _PAD)
    part = np.ascontiguousarray(frames[a:b].T, dtype=np.float32)  # (channels, samples)
    up = signal.oaconvolve(part[:, None, :], _PHASE_KERNEL, axes=-1)  # (channels, phases, samples)
    lo = start - a + _PHASE_DELAY
    rows = up.reshape(-1, up.shape[-1])[:, lo : lo + stop - start]
    peaks = np.abs(part[:, start - a : stop - a]).max(axis=0)
    for row in rows:
        np.maximum(peaks, np.abs(row), out=peaks)
    return peaks


def true_peak_envelope(samples: np.ndarray) -> np.ndarray:
    """Per-sample true-peak magnitude: max over channels of the 4x-oversampled signal.

    Entry n is the largest |value| between sample n and sample n+1. Computed in overlapping
    chunks, so an hour-long programme costs constant memory.
    """
    frames = as_frames(np.asarray(samples, dtype=np.float32))
    n = frames.shape[0]
    env = np.zeros(n, dtype=np.float32)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        env[start:stop] = _phase_peaks(frames, start, stop)
    return env


def true_peak_dbtp(samples: np.ndarray) -> float:
    """Maximum true peak in dBTP (4x oversampling, as BS.1770-4 Annex 2)."""
    if samples.size == 0:
        return float("-inf")
    peak = float(true_peak_envelope(samples).max())
    return gain_to_db(peak) if peak > 0 else float("-inf")


@dataclass(frozen=True)
class LimiterSettings:
    """Offline look-ahead limiter: gain falls before a peak and recovers after a hold."""

    lookahead_s: float = 0.015
    hold_s: float = 0.040
    smoothing_s: tuple[float, float] = (0.005, 0.010)


def limiter_gain(required: np.ndarray, settings: LimiterSettings = LimiterSettings()) -> np.ndarray:
    """Smooth gain curve that never exceeds ``required`` (the per-sample allowed gain).

    A sliding minimum over [n - hold, n + lookahead] followed by centred moving averages whose
    half-widths add up to less than both lookahead and hold: every average then only spans
    values at or below the requirement of the sample it is computed for.
    """
    lookahead = seconds_to_samples(settings.lookahead_s)
    hold = seconds_to_samples(settings.hold_s)
    widths = [seconds_to_samples(s) for s in settings.smoothing_s]
    if sum(widths) > min(lookahead, hold):
        raise ValueError("limiter smoothing must be shorter than both lookahead and hold")
    n = required.shape[0]
    gain = np.ones(n, dtype=np.float32)
    margin = lookahead + hold + sum(widths) + 2
    size = hold + lookahead + 1
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        a, b = max(0, start - margin), min(n, stop + margin)
        seg = required[a:b]
        if float(seg.min()) >= 1.0:
            continue
        g = minimum_filter1d(seg, size, origin=hold - size // 2, mode="constant", cval=1.0)
        for w in widths:
            g = uniform_filter1d(g, 2 * w + 1, mode="nearest")
        gain[start:stop] = g[start - a : stop - a]
    return np.minimum(gain, 1.0)


def _apply_limiter(
    frames: np.ndarray, envelope: np.ndarray, gain: float, ceiling_dbtp: float, settings: LimiterSettings
) -> tuple[np.ndarray, np.ndarray | None]:
    """Gain then limit; returns the result and its gain curve (None where a plain gain sufficed)."""
    curve = _limiter_curve(envelope, gain, ceiling_dbtp, settings)
    return _limited_rows(frames, gain, curve)(0, frames.shape[0]), curve


def _limited_rows(frames: np.ndarray, gain: float, curve: np.ndarray | None) -> Rows:
    """``rows(start, stop)``: those rows of the limited result, ``frames`` times ``curve`` (or
    ``gain``), the same values whether made alone or as part of the whole."""
    if curve is None:
        g = np.float32(gain)
        return lambda start, stop: frames[start:stop] * g
    return lambda start, stop: frames[start:stop] * curve[start:stop, None]


def _limiter_curve(
    envelope: np.ndarray, gain: float, ceiling_dbtp: float, settings: LimiterSettings
) -> np.ndarray | None:
    """The gain curve that limits the programme times ``gain`` (None where a plain gain suffices).

    Uses the envelope of the un-gained signal scaled by the gain: the envelope is linear in
    gain, so no new oversampling pass is needed.
    """
    ceiling = np.float32(db_to_gain(ceiling_dbtp))
    if float(envelope.max(initial=0.0)) * gain <= ceiling:
        return None
    # In place where possible: for an hour-long programme each temporary is most of a gigabyte.
    required = envelope * np.float32(gain)
    np.maximum(required, np.float32(1e-30), out=required)
    np.divide(ceiling, required, out=required)
    np.minimum(required, np.float32(1.0), out=required)
    curve = limiter_gain(required, settings)
    del required
    curve *= np.float32(gain)
    return curve


def _true_peak_after(out: np.ndarray, envelope: np.ndarray, gain: float, curve: np.ndarray | None) -> float:
    """True peak of a gained and limited result, oversampling only where the limiter acted.

    Where the gain curve is flat at ``gain`` across the interpolation filter's reach, the
    output is the input times a constant, so its true peak is exactly ``gain`` times the input
    envelope. Only the stretches the limiter touched (plus the filter's reach) are measured again.
    """
    frames = as_frames(out)
    return _true_peak_of(lambda start, stop: frames[start:stop], frames.shape[0], envelope, gain, curve)


def _true_peak_of(rows: Rows, n: int, envelope: np.ndarray, gain: float, curve: np.ndarray | None) -> float:
    """:func:`_true_peak_after` of a result of ``n`` rows given by ``rows(start, stop)``."""
    if curve is None:
        peak = float(envelope.max(initial=0.0)) * gain
        return gain_to_db(peak) if peak > 0 else float("-inf")
    # Touched: within the filter's reach of a bent sample, each bent run widened by it either side.
    touched = _runs(curve < np.float32(gain) * np.float32(1 - 1e-6), _PAD)
    peak = _max_outside(envelope, touched) * gain
    # Runs less than a gating block apart are merged: fewer, larger oversampling calls.
    for a, b in _merge_runs(touched, _MERGE_GAP):
        # The rows the oversampler reads (the filter's reach either side), made alone.
        lo, hi = max(0, a - _PAD), min(n, b + _PAD)
        peak = max(peak, float(_phase_peaks(rows(lo, hi), a - lo, b - lo).max()))
    return gain_to_db(peak) if peak > 0 else float("-inf")


def limit_true_peak(
    samples: np.ndarray, ceiling_dbtp: float = DEFAULT_CEILING_DBTP, settings: LimiterSettings = LimiterSettings()
) -> np.ndarray:
    """Return samples limited so their true peak stays at or under ``ceiling_dbtp``."""
    return normalise_loudness(samples, None, ceiling_dbtp, settings=settings).samples


@dataclass(frozen=True, eq=False)
class NormalisedAudio:
    """Result of :func:`normalise_loudness`. Loudness values are None when unmeasurable."""

    samples: np.ndarray
    input_lufs: float | None
    output_lufs: float | None
    gain_db: float
    true_peak_dbtp: float
    iterations: int


def _loudness_search(
    frames: np.ndarray, envelope: np.ndarray, meter: LoudnessMeter, gain_db: float, target_lufs: float,
    ceiling_dbtp: float, max_iterations: int, settings: LimiterSettings,
) -> tuple[np.ndarray | None, float, float | None, int]:
    """Secant search for the gain whose limited result measures ``target_lufs``: its gain curve
    (None: a plain gain), gain, loudness and iterations. No attempt's result is made whole: the
    meter re-measures only the rows the limiter bent."""
    history: list[tuple[float, float]] = []
    ceiling_gain_db = gain_db + MAX_EXTRA_GAIN_DB
    best: tuple[np.ndarray | None, float, float | None] | None = None
    for iteration in range(1, max_iterations + 1):
        best = None  # let the previous attempt go before the next is built
        gain = db_to_gain(gain_db)
        curve = _limiter_curve(envelope, gain, ceiling_dbtp, settings)
        lufs = meter.loudness_of(_limited_rows(frames, gain, curve), float(np.float32(gain)), curve)
        best = (curve, gain_db, lufs)
        if lufs is None or abs(lufs - target_lufs) <= LOUDNESS_TOLERANCE_LU:
            return (*best, iteration)
        slope = 1.0
        if history and abs(lufs - history[-1][1]) > 1e-3:
            slope = float(np.clip((gain_db - history[-1][0]) / (lufs - history[-1][1]), 1.0, 10.0))
        history.append((gain_db, lufs))
        gain_db = min(ceiling_gain_db, gain_db + (target_lufs - lufs) * slope)
        del curve
    assert best is not None
    return (*best, max_iterations)


def normalise_loudness(
    samples: np.ndarray,
    target_lufs: float | None = DEFAULT_TARGET_LUFS,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    sample_rate: int = SAMPLE_RATE,
    max_iterations: int = 5,
    settings: LimiterSettings = LimiterSettings(),
) -> NormalisedAudio:
    """Bring a programme to ``target_lufs`` integrated with true peaks at or under ``ceiling_dbtp``.

    Signals whose loudness is undefined (under 400 ms, or entirely below the -70 LUFS gate), or
    ``target_lufs=None``, get no loudness gain: they are only limited to the ceiling. The
    result is measured again at the end; any true-peak overshoot (the gain curve's own
    modulation) lowers the limiter's internal ceiling and the pass is redone.
    """
    x = np.asarray(samples, dtype=np.float32)
    frames = as_frames(x)
    envelope = true_peak_envelope(frames)
    meter = LoudnessMeter(frames, sample_rate)
    input_lufs = meter.loudness()
    gain_db = 0.0 if input_lufs is None or target_lufs is None else target_lufs - input_lufs
    margin_db = LIMITER_MARGIN_DB
    peak = float("-inf")
    n = frames.shape[0]
    for _ in range(4):
        if input_lufs is None or target_lufs is None:
            gain = db_to_gain(gain_db)
            curve = _limiter_curve(envelope, gain, ceiling_dbtp - margin_db, settings)
            rows = _limited_rows(frames, gain, curve)
            output_lufs, iterations = meter.loudness_of(rows, float(np.float32(gain)), curve), 0
        else:
            curve, gain_db, output_lufs, iterations = _loudness_search(
                frames, envelope, meter, gain_db, target_lufs, ceiling_dbtp - margin_db, max_iterations, settings,
            )
            rows = _limited_rows(frames, db_to_gain(gain_db), curve)
        peak = _true_peak_of(rows, n, envelope, db_to_gain(gain_db), curve)
        if peak <= ceiling_dbtp - 0.01:
            out = rows(0, n)  # the one whole result: the attempts were measured row by row
            result = out[:, 0] if x.ndim == 1 else out
            return NormalisedAudio(result, input_lufs, output_lufs, gain_db, peak, iterations)
        margin_db += peak - ceiling_dbtp + 0.05
    raise SoundError(f"true-peak limiter could not reach {ceiling_dbtp} dBTP (last {peak:.2f} dBTP)")

