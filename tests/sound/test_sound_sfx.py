"""Synthesised sound effects: present, shaped like what they are named, repeatable."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from filmc.runtime.sound import SFX_PEAK_DBFS, SoundError, file_sfx, render_sfx, sfx_names
from scipy import signal
from sound_helpers import SR, band_energy_db, rms_db

EFFECTS = ["impact", "whoosh", "glass_break", "footsteps", "click", "door_slam", "thunder", "phone_ring",
           "gunshot", "heartbeat"]


def onsets(x: np.ndarray, min_gap_s: float = 0.15) -> int:
    """Count distinct hits: peaks of the 10 ms envelope above a third of its maximum."""
    env = np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(480) / 480, mode="same"))
    peaks, _ = signal.find_peaks(env, height=env.max() / 3, distance=int(min_gap_s * SR))
    return len(peaks)


def test_every_standard_effect_is_built_in() -> None:
    assert list(sfx_names()) == EFFECTS


@pytest.mark.parametrize("name", EFFECTS)
def test_effect_is_a_clean_mono_event(name: str) -> None:
    x = render_sfx(name)
    assert x.dtype == np.float32 and x.ndim == 1
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(SFX_PEAK_DBFS, abs=0.01)
    assert 0.05 < x.shape[0] / SR < 10.0
    assert rms_db(x) > -45.0
    assert abs(float(x[-1])) < 1e-4  # ends in silence: no click when the event stops
    assert abs(float(np.mean(x))) < 1e-3
    np.testing.assert_array_equal(render_sfx(name), x)
    other = render_sfx(name, seed=7)
    assert other.shape != x.shape or not np.array_equal(other, x)


def test_effects_sound_like_their_names() -> None:
    glass, thunder = render_sfx("glass_break"), render_sfx("thunder")
    assert band_energy_db(glass, 2_000, 12_000) > band_energy_db(glass, 20, 500) + 10
    assert band_energy_db(thunder, 20, 300) > band_energy_db(thunder, 2_000, 12_000) + 10
    assert thunder.shape[0] > 5 * SR
    assert onsets(render_sfx("footsteps")) == 6
    assert onsets(render_sfx("heartbeat"), min_gap_s=0.2) == 8  # four lub-dubs
    ring = render_sfx("phone_ring")
    assert band_energy_db(ring, 1_000, 3_500) > band_energy_db(ring, 20, 800) + 20
    shot = render_sfx("gunshot")
    attack = int(np.argmax(np.abs(shot)))
    assert attack < int(0.01 * SR)  # the crack comes first
    click = render_sfx("click")
    assert click.shape[0] < int(0.1 * SR)


def test_unknown_effect_and_user_files(tmp_path) -> None:
    with pytest.raises(SoundError, match="unknown sound effect 'kaboom'"):
        render_sfx("kaboom")
    assert render_sfx("std.click").shape == render_sfx("click").shape
    path = tmp_path / "knock.ogg"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "sine=f=300:d=0.5:r=22050", "-ac", "2", str(path)], check=True)
    knock = file_sfx(path)
    assert knock.ndim == 2 and knock.shape[1] == 2
    assert knock.shape[0] == pytest.approx(SR // 2, abs=SR // 50)
    assert 20 * np.log10(np.abs(file_sfx(path, normalise=True)).max()) == pytest.approx(SFX_PEAK_DBFS, abs=0.01)
