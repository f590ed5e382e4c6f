"""Delivery from parentheticals: how a line is spoken and where it sits."""

from __future__ import annotations

import numpy as np
from filmc.runtime.sound import Delivery, apply_off_screen, parse_delivery, place_line
from sound_helpers import band_energy_db, rms_db


def test_parentheticals_map_to_delivery() -> None:
    assert parse_delivery([]) == Delivery()
    whisper = parse_delivery(["(whispering)"])
    assert whisper.amplitude_scale < 0.5 and not whisper.voice_over
    shout = parse_delivery(["Shouting"])
    assert shout.amplitude_scale > 1.0 and shout.pitch_shift > 0
    assert parse_delivery(["yelling"]) == shout
    assert parse_delivery(["slowly"]).rate_scale < 1.0 < parse_delivery(["quickly"]).rate_scale
    vo = parse_delivery(["V.O.", "whispering"])
    assert vo.voice_over and vo.amplitude_scale == whisper.amplitude_scale
    assert parse_delivery(["O.S."]).off_screen
    assert parse_delivery(["CONT'D"]) == Delivery()
    combined = parse_delivery(["whispering, slowly"])
    assert combined.amplitude_scale < 0.5 and combined.rate_scale < 1.0
    noted = parse_delivery(["beat", "to Kai"])
    assert noted.notes == ("beat", "to kai") and noted.amplitude_scale == 1.0


def test_off_screen_is_quieter_and_muffled() -> None:
    rng = np.random.default_rng(0)
    voice = rng.standard_normal(48_000).astype(np.float32) * 0.1
    muffled = apply_off_screen(voice)
    assert rms_db(muffled) < rms_db(voice) - 6.0
    high_loss = band_energy_db(voice, 5_000, 20_000) - band_energy_db(muffled, 5_000, 20_000)
    low_loss = band_energy_db(voice, 100, 1_000) - band_energy_db(muffled, 100, 1_000)
    assert high_loss > low_loss + 12.0
    samples, pan = place_line(voice, parse_delivery(["O.S."]), pan=0.4)
    np.testing.assert_array_equal(samples, muffled)
    assert pan == 0.4


def test_voice_over_is_dry_and_centred() -> None:
    voice = np.random.default_rng(1).standard_normal(4_800).astype(np.float32)
    samples, pan = place_line(voice, parse_delivery(["V.O."]), pan=-0.7)
    np.testing.assert_array_equal(samples, voice)
    assert pan == 0.0
