"""Beds: every generator loops without a click, sits at the reference loudness, is repeatable."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from filmc.runtime.sound import (
    BED_REFERENCE_LUFS,
    SoundError,
    bed_gain_db,
    bed_loop,
    bed_names,
    decode_audio,
    file_bed,
    integrated_loudness,
    loop_seam_step,
    render_bed,
    true_peak_dbtp,
)
from filmc.runtime.sound.beds import LOOP_CROSSFADE_S, clear_bed_cache, loop_length
from sound_helpers import SR

AMBIENCE = ["room_tone", "wind", "rain", "city_night", "forest", "ocean", "traffic", "crowd", "office",
            "night_insects"]
MUSIC = ["drone", "pulse", "tension", "melancholy", "chase"]


def seam_steps(bed: np.ndarray, period: int) -> tuple[float, float]:
    """Largest sample step across the loop points of a rendered bed, and the 99.9th percentile
    of all its sample-to-sample steps (what a click has to stand out from)."""
    steps = np.abs(np.diff(bed, axis=0)).max(axis=1)
    at_loop = [steps[k * period - 1] for k in range(1, bed.shape[0] // period)]
    return float(max(at_loop)), float(np.percentile(steps, 99.9))


def test_every_standard_bed_is_built_in() -> None:
    assert list(bed_names("ambience")) == AMBIENCE
    assert list(bed_names("music")) == MUSIC


# Loops are periodic by construction at any length; the tests use 6 s loops to stay quick and
# check the default lengths of a few beds the other tests render anyway.
TEST_LOOP_S = 6.0


@pytest.mark.parametrize(("name", "loop_s"), [(n, TEST_LOOP_S) for n in AMBIENCE + MUSIC]
                         + [("rain", None), ("pulse", None), ("drone", None)])
def test_bed_loops_without_discontinuity(name: str, loop_s: float | None) -> None:
    loop = bed_loop(name, 0, loop_s)
    period = loop.shape[0]
    bed = render_bed(name, 2.5 * period / SR, loop_s=loop_s)
    seam, typical = seam_steps(bed, period)
    assert seam <= typical, f"{name}: step {seam:.4f} at the loop point vs 99.9% of steps under {typical:.4f}"
    assert loop_seam_step(loop)[0] == pytest.approx(seam, abs=1e-6)


def test_seam_measure_catches_a_click() -> None:
    """The same measure flags a loop that does not close: a tone with a fractional cycle count."""
    t = np.arange(SR) / SR
    broken = np.stack([0.3 * np.sin(2 * np.pi * 110.25 * t)] * 2, axis=1).astype(np.float32)
    tiled = np.concatenate([broken] * 3)
    seam, typical = seam_steps(tiled, SR)
    assert seam > 10 * typical


@pytest.mark.parametrize("name", AMBIENCE + MUSIC)
def test_bed_level_and_stereo(name: str) -> None:
    loop = bed_loop(name, 0, TEST_LOOP_S)
    assert loop.dtype == np.float32 and loop.ndim == 2 and loop.shape[1] == 2
    assert integrated_loudness(loop) == pytest.approx(BED_REFERENCE_LUFS, abs=0.1)
    assert true_peak_dbtp(loop) < -0.5
    assert abs(np.corrcoef(loop[:, 0], loop[:, 1])[0, 1]) < 0.999  # a real stereo image
    assert not loop.flags.writeable


def test_music_loops_are_whole_bars() -> None:
    assert loop_length("chase") == int(8 * 4 * 0.4 * SR)  # 150 bpm
    assert loop_length("pulse") == int(8 * 4 * 0.6 * SR)  # 100 bpm
    assert loop_length("pulse", loop_s=5.0) == int(2 * 4 * 0.6 * SR)


def test_beds_are_repeatable_and_seeds_vary() -> None:
    a = render_bed("tension", 3.0, seed=4, loop_s=TEST_LOOP_S)
    clear_bed_cache()
    np.testing.assert_array_equal(render_bed("tension", 3.0, seed=4, loop_s=TEST_LOOP_S), a)
    assert not np.array_equal(render_bed("ocean", 3.0, seed=1, loop_s=TEST_LOOP_S),
                              render_bed("ocean", 3.0, seed=2, loop_s=TEST_LOOP_S))


def test_render_offsets_and_fades() -> None:
    whole = render_bed("rain", 8.0)
    later = render_bed("rain", 5.0, offset_s=3.0)
    np.testing.assert_array_equal(later, whole[3 * SR :])
    faded = render_bed("rain", 8.0, fade_in_s=1.0, fade_out_s=2.0)
    assert faded.shape == (8 * SR, 2)
    assert np.abs(faded[:10]).max() < 1e-3 and np.abs(faded[-10:]).max() < 1e-3
    np.testing.assert_array_equal(faded[2 * SR : 5 * SR], whole[2 * SR : 5 * SR])
    assert bed_gain_db(-28.0) == pytest.approx(-28.0 - BED_REFERENCE_LUFS)


def test_unknown_bed_is_a_clear_error() -> None:
    with pytest.raises(SoundError, match="unknown bed 'lava'"):
        render_bed("lava", 2.0)
    assert render_bed("std.wind", 1.0).shape == (SR, 2)


@pytest.mark.parametrize("suffix", ["mp3", "ogg"])
def test_user_file_bed_is_resampled_and_loops(suffix: str, tmp_path) -> None:
    source = tmp_path / f"ambience.{suffix}"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
         "anoisesrc=d=3:c=pink:r=44100:a=0.2,lowpass=f=3000", "-ac", "1", str(source)],
        check=True,
    )
    bed = file_bed(source, 10.0)
    assert bed.shape == (10 * SR, 2) and bed.dtype == np.float32
    assert integrated_loudness(bed) == pytest.approx(BED_REFERENCE_LUFS, abs=0.5)
    decoded = decode_audio(source)
    assert decoded.shape[0] == pytest.approx(3 * SR, abs=SR // 20)  # 44.1 kHz in, 48 kHz out
    loop_len = decoded.shape[0] - round(min(LOOP_CROSSFADE_S, decoded.shape[0] / SR / 4) * SR)
    np.testing.assert_array_equal(bed[loop_len : 2 * loop_len], bed[:loop_len])
    seam, typical = seam_steps(bed, loop_len)
    assert seam <= typical
    with pytest.raises(SoundError, match="not found"):
        file_bed(tmp_path / "missing.wav", 2.0)
