"""Loudness: EBU Tech 3341 signals through filmc's normaliser, checked by FFmpeg's ebur128 meter."""

from __future__ import annotations

import numpy as np
import pytest
from filmc.runtime.sound import (
    SoundError,
    VoiceParams,
    integrated_loudness,
    limit_true_peak,
    measure_ebur128,
    normalise_loudness,
    speak,
    target_for_profile,
    true_peak_dbtp,
    write_wav,
)
from filmc.runtime.sound.loudness import LimiterSettings, limiter_gain
from hypothesis import given, settings
from hypothesis import strategies as st
from sound_helpers import EBU_LOUDNESS_CASES, EBU_TRUE_PEAK_CASES, ebu_signal

LOUDNESS_CASES = sorted(EBU_LOUDNESS_CASES)
TRUE_PEAK_CASES = sorted(EBU_TRUE_PEAK_CASES)


@pytest.mark.parametrize("case", LOUDNESS_CASES)
def test_ebu_loudness_signals_read_as_the_spec_says(case: int) -> None:
    expected = EBU_LOUDNESS_CASES[case][1]
    assert integrated_loudness(ebu_signal(case)) == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("case", TRUE_PEAK_CASES)
def test_ebu_true_peak_signals_read_as_the_spec_says(case: int) -> None:
    expected = EBU_TRUE_PEAK_CASES[case][3]
    measured = true_peak_dbtp(ebu_signal(case))
    assert expected - 0.4 <= measured <= expected + 0.2


# Each case goes to the default -14 target; a few also to the other profiles' targets.
NORMALISE = [(case, -14.0) for case in LOUDNESS_CASES + TRUE_PEAK_CASES] + [(1, -23.0), (2, -16.0), (19, -23.0)]


@pytest.mark.parametrize(("case", "target"), NORMALISE)
def test_ebu_signals_normalised_meet_target_on_independent_meter(case: int, target: float, tmp_path) -> None:
    result = normalise_loudness(ebu_signal(case), target)
    path = write_wav(tmp_path / f"ebu_{case}.wav", result.samples)
    meter = measure_ebur128(path)
    assert meter.integrated_lufs == pytest.approx(target, abs=0.5)
    assert meter.true_peak_dbtp <= -1.0
    assert result.true_peak_dbtp <= -1.0
    assert result.output_lufs == pytest.approx(target, abs=0.1)


def _hot_speech() -> np.ndarray:
    """Speech quietly recorded with a little noise: raising it to -14 LUFS needs the limiter."""
    lines = [
        speak("Not tonight. He always finds me.", VoiceParams(language="en-us", pitch=40)),
        speak("Where were you last night? I waited for hours!", VoiceParams(language="en-gb", variant="f2")),
        speak("Get out of here, now!", VoiceParams(language="en-us", pitch=70, amplitude=150)),
    ] * 2
    gap = np.zeros(12_000, dtype=np.float32)
    mono = np.concatenate([np.concatenate([line.samples * 0.4, gap]) for line in lines])
    mono += 0.002 * np.random.default_rng(3).standard_normal(mono.shape[0]).astype(np.float32)
    return np.stack([mono, 0.9 * mono], axis=1)


def test_speech_raised_to_minus_14_is_limited_under_minus_1_dbtp(tmp_path) -> None:
    speech = _hot_speech()
    before = integrated_loudness(speech)
    assert before is not None
    # Sanity check of the premise: plain gain to -14 LUFS would put true peaks above -1 dBTP.
    assert true_peak_dbtp(speech) + (-14.0 - before) > -1.0
    result = normalise_loudness(speech, -14.0)
    meter = measure_ebur128(write_wav(tmp_path / "speech.wav", result.samples))
    assert meter.integrated_lufs == pytest.approx(-14.0, abs=0.5)
    assert meter.true_peak_dbtp <= -1.0


def test_profiles_name_their_targets() -> None:
    assert target_for_profile("web") == -14.0
    assert target_for_profile("podcast") == -16.0
    assert target_for_profile("broadcast") == -23.0
    with pytest.raises(SoundError, match="unknown loudness profile"):
        target_for_profile("loud")


def test_too_short_signal_is_only_limited(tmp_path) -> None:
    """Under one 400 ms gating block integrated loudness is undefined: no gain, only the ceiling."""
    t = np.arange(int(0.3 * 48_000)) / 48_000
    tone = 0.99 * np.sin(2 * np.pi * 12_000 * t + 0.8)
    # Starts on a 5 ms ramp like any real effect: FFmpeg's true-peak meter over-reads a file
    # whose very first sample jumps from nothing to a high-frequency tone (it reads the same
    # tone 0.5 dB higher at the start of a file than after a little silence).
    ramp = 240
    tone[:ramp] *= np.linspace(0.0, 1.0, ramp)
    burst = np.stack([tone] * 2, axis=1).astype(np.float32)
    assert integrated_loudness(burst) is None
    result = normalise_loudness(burst, -14.0)
    assert result.input_lufs is None and result.gain_db == 0.0
    assert result.true_peak_dbtp <= -1.0
    assert measure_ebur128(write_wav(tmp_path / "short.wav", result.samples)).true_peak_dbtp <= -1.0


def test_signal_below_absolute_gate_is_left_alone() -> None:
    t = np.arange(48_000 * 2) / 48_000
    whisper = np.stack([10 ** (-80 / 20) * np.sin(2 * np.pi * 1000 * t)] * 2, axis=1).astype(np.float32)
    result = normalise_loudness(whisper, -14.0)
    assert result.input_lufs is None
    np.testing.assert_allclose(result.samples, whisper, atol=1e-9)


def test_limiter_gain_never_exceeds_requirement_and_is_smooth() -> None:
    rng = np.random.default_rng(0)
    required = np.ones(48_000, dtype=np.float32)
    required[rng.integers(0, 48_000, 40)] = rng.uniform(0.3, 0.9, 40).astype(np.float32)
    gain = limiter_gain(required, LimiterSettings())
    assert np.all(gain <= required + 1e-6)
    assert float(np.max(np.abs(np.diff(gain)))) < 0.01  # no steps: ramps of tens of milliseconds


def test_limit_true_peak_keeps_quiet_material_untouched() -> None:
    t = np.arange(48_000) / 48_000
    quiet = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    np.testing.assert_array_equal(limit_true_peak(quiet), quiet)
    loud = (1.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    assert true_peak_dbtp(limit_true_peak(loud)) <= -1.0


def test_five_one_loudness_leaves_out_the_lfe() -> None:
    t = np.arange(48_000 * 3) / 48_000
    tone = (10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    six = np.zeros((tone.shape[0], 6), dtype=np.float32)
    six[:, 0] = six[:, 1] = tone
    with_lfe = six.copy()
    with_lfe[:, 3] = 0.5
    assert integrated_loudness(six) == pytest.approx(-23.0, abs=0.1)
    assert integrated_loudness(with_lfe) == pytest.approx(integrated_loudness(six), abs=1e-6)


@pytest.mark.parametrize("case", TRUE_PEAK_CASES)
def test_true_peak_meter_agrees_with_ffmpeg(case: int, tmp_path) -> None:
    """Written as 32-bit float so case 19 keeps its +3 dBTP."""
    signal = ebu_signal(case)
    meter = measure_ebur128(write_wav(tmp_path / f"tp_{case}.wav", signal, bits=32))
    assert true_peak_dbtp(signal) == pytest.approx(meter.true_peak_dbtp, abs=0.2)


def test_true_peak_after_limiting_matches_a_full_measurement() -> None:
    """The normaliser re-measures only where the limiter acted; that must equal measuring all."""
    from filmc.runtime.sound.loudness import _apply_limiter, _true_peak_after, true_peak_envelope

    speech = _hot_speech()
    envelope = true_peak_envelope(speech)
    for gain_db in (12.0, 20.0):
        gain = 10 ** (gain_db / 20)
        out, curve = _apply_limiter(speech, envelope, gain, -1.1, LimiterSettings())
        assert curve is not None
        assert _true_peak_after(out, envelope, gain, curve) == pytest.approx(true_peak_dbtp(out), abs=1e-6)


def test_ceiling_holds_for_transients_against_ideal_reconstruction() -> None:
    """Clicks and breaking glass hide peaks between samples that a soft 4x filter misses."""
    from filmc.runtime.sound import render_sfx
    from sound_helpers import ideal_true_peak_db

    hits = [render_sfx(name, seed) for name in ("click", "glass_break", "gunshot", "impact") for seed in (0, 1)]
    mono = np.concatenate([np.concatenate([h, np.zeros(4_800, np.float32)]) for h in hits])
    stereo = np.stack([mono, 0.8 * mono], axis=1)
    result = normalise_loudness(stereo, -14.0)
    assert result.output_lufs == pytest.approx(-14.0, abs=0.1)
    assert ideal_true_peak_db(result.samples) <= -1.0


def _programme() -> np.ndarray:
    """Speech over a quiet bed with a near-silent stretch: the gates have work to do."""
    speech = _hot_speech()
    rng = np.random.default_rng(7)
    bed = (0.01 * rng.standard_normal(speech.shape)).astype(np.float32)
    bed[48_000:96_000] *= 1e-4
    return speech + bed


@pytest.mark.parametrize("length", [19_201, 48_000, 48_000 * 3 + 17, None])
def test_meter_equals_pyloudnorm(length: int | None) -> None:
    """pyloudnorm is the measurement of record: filmc's faster meter must read the same."""
    import pyloudnorm

    x = _programme()[:length]
    reference = pyloudnorm.Meter(48_000).integrated_loudness(x.astype(np.float64))
    assert integrated_loudness(x) == pytest.approx(reference, abs=0.01)
    assert integrated_loudness(x) == pytest.approx(reference, abs=1e-6)


def test_meter_equals_pyloudnorm_for_five_one_and_other_rates() -> None:
    import pyloudnorm

    x = _programme()
    six = np.zeros((x.shape[0], 6), dtype=np.float32)
    six[:, [0, 1, 2, 4, 5]] = np.concatenate([x, x[:, :1] * 0.5, x * 0.3], axis=1)
    six[:, 3] = 0.7
    reference = pyloudnorm.Meter(48_000).integrated_loudness(np.delete(six, 3, axis=1).astype(np.float64))
    assert integrated_loudness(six) == pytest.approx(reference, abs=1e-6)
    for rate in (44_100, 11_025):
        expected = pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64))
        assert integrated_loudness(x, rate) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("gain_db", [-40.0, 6.0, 14.0, 24.0])
def test_meter_reuse_after_gain_and_limiting_equals_a_fresh_measurement(gain_db: float) -> None:
    """The normaliser measures each attempt from the input's kept energies; that must equal
    measuring the attempt from scratch (gates included: -40 dB drops the quiet blocks under -70 LUFS)."""
    from filmc.runtime.sound.loudness import LoudnessMeter, _apply_limiter, true_peak_envelope

    x = _programme()
    meter = LoudnessMeter(x)
    gain = 10 ** (gain_db / 20)
    out, curve = _apply_limiter(x, true_peak_envelope(x), gain, -1.3, LimiterSettings())
    assert (curve is not None) == (gain_db > 10)
    fresh = integrated_loudness(out)
    assert fresh is not None
    assert meter.loudness_after(out, float(np.float32(gain)), curve) == pytest.approx(fresh, abs=1e-6)


def _true_peak_after_by_mask(out: np.ndarray, envelope: np.ndarray, gain: float, curve: np.ndarray) -> float:
    """The re-measurement as a dilated mask states it: every sample within the filter's reach
    of a bent one is oversampled again (runs of them less than a gating block apart together),
    every other one is ``gain`` times the input's envelope."""
    from filmc.runtime.sound.loudness import _MERGE_GAP, _PAD, _phase_peaks, _runs
    from scipy.ndimage import maximum_filter1d

    bent = curve < np.float32(gain) * np.float32(1 - 1e-6)
    touched = maximum_filter1d(bent.view(np.uint8), 2 * _PAD + 1) > 0
    untouched = envelope[~touched]
    peak = float(untouched.max()) * gain if untouched.size else 0.0
    for a, b in _runs(touched, 0, _MERGE_GAP):
        peak = max(peak, float(_phase_peaks(out, a, b).max()))
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), gain_db=st.sampled_from([8.0, 14.0, 22.0]), bursts=st.integers(1, 12),
       stereo=st.booleans())
def test_true_peak_re_measurement_equals_the_masked_one(seed: int, gain_db: float, bursts: int, stereo: bool) -> None:
    """Bent runs widened by the filter's reach (instead of a dilated mask), the untouched maximum
    over the gaps between them: the same true peak, to the last bit, as the masked measurement."""
    from filmc.runtime.sound.loudness import _apply_limiter, _true_peak_after, true_peak_envelope

    rng = np.random.default_rng(seed)
    n = 48_000
    x = 0.05 * rng.standard_normal((n, 2 if stereo else 1))
    for _ in range(bursts):  # loud stretches (some at the ends) for the limiter to bend
        at, length = int(rng.integers(-50, n)), int(rng.integers(1, 3_000))
        x[max(0, at) : at + length] *= rng.uniform(4.0, 15.0)
    x = x.astype(np.float32)
    envelope = true_peak_envelope(x)
    gain = 10 ** (gain_db / 20)
    out, curve = _apply_limiter(x, envelope, gain, -1.0, LimiterSettings())
    if curve is None:
        return
    assert _true_peak_after(out, envelope, gain, curve) == _true_peak_after_by_mask(out, envelope, gain, curve)


@given(mask=st.lists(st.booleans(), min_size=1, max_size=300), reach=st.integers(0, 5))
def test_max_outside_runs_equals_the_masked_maximum(mask: list[bool], reach: int) -> None:
    from filmc.runtime.sound.loudness import _max_outside, _runs

    values = np.random.default_rng(len(mask)).uniform(0, 1, len(mask)).astype(np.float32)
    bent = np.array(mask)
    touched = np.zeros_like(bent)
    for i in np.flatnonzero(bent):
        touched[max(0, i - reach) : i + reach + 1] = True
    expected = float(values[~touched].max()) if (~touched).any() else 0.0
    assert _max_outside(values, _runs(bent, reach)) == expected
