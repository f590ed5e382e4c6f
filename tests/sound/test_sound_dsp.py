"""Signal helpers against their plain definitions: the fast forms must compute the same thing."""

from __future__ import annotations

import numpy as np
import pytest
from filmc.runtime.sound.dsp import (
    SAMPLE_RATE,
    band,
    channel_means,
    periodic_sine,
    shaped_noise,
    smooth_modulation,
    tile_to_length,
)


@pytest.mark.parametrize(("n", "freq", "phase"), [(1_152_000, 55.0, 1.0), (1_152_000, 739.99, 0.5),
                                                  (1_000_003, 8_000.0, 0.0), (1_000, 60.0, 0.3)])
def test_periodic_sine_is_the_sine_of_whole_cycles(n: int, freq: float, phase: float) -> None:
    cycles = max(1, round(freq * n / SAMPLE_RATE))
    expected = np.sin(2 * np.pi * cycles * (np.arange(n) / n) + phase)
    got = periodic_sine(n, freq, phase)
    assert got.dtype == np.float32 and got.shape == (n,)
    assert np.abs(got - expected).max() < 3e-7


@pytest.mark.parametrize(("n", "offset"), [(1_728_000, 0), (1_728_000, 1_000_000), (5, 3), (100, 99_995), (0, 7)])
def test_tile_to_length_repeats_the_loop_from_the_offset(n: int, offset: int) -> None:
    loop = np.random.default_rng(0).standard_normal((100_000, 2)).astype(np.float32)
    np.testing.assert_array_equal(tile_to_length(loop, n, offset), loop[(np.arange(n) + offset) % loop.shape[0]])


def _modulation_by_interp(n: int, rng: np.random.Generator, max_hz: float, depth: float) -> np.ndarray:
    """smooth_modulation's definition: its 200 Hz control curve through np.interp."""
    m = max(8, int(round(n * 200.0 / SAMPLE_RATE)))
    freqs = np.fft.rfftfreq(m, 1.0 / 200.0)
    spectrum = (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)) / np.sqrt(
        1.0 + (np.maximum(freqs, 1e-6) / max_hz) ** 6)
    spectrum[0] = 0.0
    control = np.fft.irfft(spectrum, m)
    control = (control - control.min()) / (control.max() - control.min())
    curve = np.interp(np.arange(n) * (m / n), np.arange(m + 1), np.append(control, control[0]))
    return 1.0 - depth + depth * curve


@pytest.mark.parametrize("n", [1_152_000, 1_000_003])
def test_smooth_modulation_interpolates_its_control_curve(n: int) -> None:
    """Both the whole-samples-per-point path and the general one equal np.interp's line segments."""
    curve = smooth_modulation(n, np.random.default_rng(3), 0.2, 0.9)
    assert curve.dtype == np.float32 and curve.shape == (n,)
    expected = _modulation_by_interp(n, np.random.default_rng(3), 0.2, 0.9)
    assert np.abs(curve - expected).max() < 1e-6


def test_channel_means_match_numpy() -> None:
    for n in (1_152_000, 5_000, 3):
        x = np.random.default_rng(n).standard_normal((n, 2)).astype(np.float32) + 0.1
        np.testing.assert_allclose(channel_means(x)[0], x.mean(axis=0, dtype=np.float64), atol=1e-6)


def test_shaped_noise_is_unit_rms_and_takes_a_precomputed_spectrum() -> None:
    from filmc.runtime.sound.dsp import noise_spectrum

    n = 96_000
    shape = band(200, 2_000)
    a = shaped_noise(n, np.random.default_rng(1), shape)
    b = shaped_noise(n, np.random.default_rng(1), noise_spectrum(n, shape))
    np.testing.assert_array_equal(a, b)
    assert float(np.sqrt(np.mean(a.astype(np.float64) ** 2))) == pytest.approx(1.0, abs=1e-4)
    spectrum = np.abs(np.fft.rfft(a)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    inside = spectrum[(freqs > 300) & (freqs < 1_500)].mean()
    assert spectrum[freqs > 10_000].mean() < inside / 1_000


@pytest.mark.parametrize("width", [0.0, 0.4, 0.9, 1.0])
def test_stereo_noise_has_unit_channels_correlated_one_minus_width(width: float) -> None:
    from filmc.runtime.sound.beds import _noise2

    x = _noise2(480_000, np.random.default_rng(2), band(100, 4_000), width).astype(np.float64)
    rms = np.sqrt(np.mean(x**2, axis=0))
    np.testing.assert_allclose(rms, 1.0, atol=0.01)
    assert np.corrcoef(x.T)[0, 1] == pytest.approx(1.0 - width, abs=0.01)
