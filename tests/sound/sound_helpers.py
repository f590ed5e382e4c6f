"""Test signals and measurements for the sound engine tests."""

from __future__ import annotations

import numpy as np

SR = 48_000

# EBU Tech 3341 test signals, synthesised from the spec's definitions (all stereo, the same
# signal in both channels, 48 kHz). Loudness cases: 1 kHz sine segments as (dBFS, seconds),
# where dBFS is the sine's peak level in each channel (so -23 dBFS reads -23 LUFS).
EBU_LOUDNESS_CASES: dict[int, tuple[list[tuple[float, float]], float]] = {
    1: ([(-23.0, 20.0)], -23.0),
    2: ([(-33.0, 20.0)], -33.0),
    3: ([(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)], -23.0),
    4: ([(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)], -23.0),
    5: ([(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)], -23.0),
}
# True-peak cases: (frequency as a fraction of fs, peak amplitude, phase in degrees) and the
# expected maximum true peak in dBTP (tolerance +0.2/-0.4 dB).
EBU_TRUE_PEAK_CASES: dict[int, tuple[float, float, float, float]] = {
    15: (1 / 4, 0.50, 0.0, -6.0),
    16: (1 / 4, 0.50, 45.0, -6.0),
    17: (1 / 6, 0.50, 60.0, -6.0),
    18: (1 / 8, 0.50, 67.5, -6.0),
    19: (1 / 4, 1.41, 45.0, 3.0),
}
TRUE_PEAK_CASE_SECONDS = 5.0


def ebu_signal(case: int) -> np.ndarray:
    """The stereo float32 signal of an EBU Tech 3341 case (1-5 or 15-19)."""
    if case in EBU_LOUDNESS_CASES:
        parts = []
        for level_dbfs, seconds in EBU_LOUDNESS_CASES[case][0]:
            t = np.arange(int(round(seconds * SR))) / SR
            parts.append(10 ** (level_dbfs / 20) * np.sin(2 * np.pi * 1000.0 * t))
        mono = np.concatenate(parts)
    else:
        fraction, amplitude, phase, _ = EBU_TRUE_PEAK_CASES[case]
        n = np.arange(int(TRUE_PEAK_CASE_SECONDS * SR))
        mono = amplitude * np.sin(2 * np.pi * fraction * n + np.deg2rad(phase))
        # A 20 ms raised-cosine onset and ending: an abrupt start rings every oversampling
        # filter (FFmpeg's meter reads case 16 as -5.4 dBTP raw), which is not what the case tests.
        ramp = int(0.02 * SR)
        fade = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        mono[:ramp] *= fade
        mono[-ramp:] *= fade[::-1]
    return np.stack([mono, mono], axis=1).astype(np.float32)


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30))


def median_f0(x: np.ndarray, sr: int = SR) -> float:
    """Median fundamental (Hz) over loud frames, by autocorrelation in the 60-400 Hz range."""
    frame = int(0.04 * sr)
    loud_floor = np.sqrt(np.mean(x**2)) * 0.5
    lo, hi = int(sr / 400), int(sr / 60)
    f0s = []
    for start in range(0, x.shape[0] - frame, frame // 2):
        seg = x[start : start + frame].astype(np.float64)
        if np.sqrt(np.mean(seg**2)) < loud_floor:
            continue
        seg = seg - seg.mean()
        ac = np.correlate(seg, seg, mode="full")[frame - 1 :]
        if ac[0] <= 0:
            continue
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] / ac[0] > 0.3:
            f0s.append(sr / lag)
    return float(np.median(f0s)) if f0s else 0.0


def band_energy_db(x: np.ndarray, low: float, high: float, sr: int = SR) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(x.shape[0], 1 / sr)
    return float(10 * np.log10(spectrum[(freqs >= low) & (freqs < high)].sum() + 1e-30))


def decode_with_pyav(path) -> tuple[np.ndarray, str, list[str]]:
    """Decode every audio frame with PyAV: float64 ``(n, channels)``, layout name, channel names."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        layout = stream.layout.name
        names = [c.name for c in stream.layout.channels]
        parts = []
        for frame in container.decode(stream):
            data = frame.to_ndarray()
            data = data.T if frame.format.is_planar else data.reshape(-1, len(names))
            if np.issubdtype(data.dtype, np.integer):
                data = data.astype(np.float64) / float(np.iinfo(data.dtype).max + 1)
            parts.append(data.astype(np.float64))
    return np.concatenate(parts, axis=0), layout, names


def ideal_true_peak_db(x: np.ndarray, factor: int = 16) -> float:
    """Peak of the band-limited reconstruction (zero-padded FFT interpolation), per channel."""
    frames = x[:, None] if x.ndim == 1 else x
    pad = np.zeros((SR // 2, frames.shape[1]))
    padded = np.concatenate([pad, frames.astype(np.float64), pad])
    spectrum = np.fft.rfft(padded, axis=0)
    up = np.fft.irfft(spectrum, padded.shape[0] * factor, axis=0) * factor
    return float(20 * np.log10(np.abs(up).max()))
