"""Mixer: pan law, ducking under explicit dialogue spans, 5.1 routing, stems, crossfades, master."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from filmc.runtime.sound import (
    BUSES,
    LAYOUTS,
    BedCue,
    Ducking,
    SoundError,
    Track,
    VoiceParams,
    bed_gain_db,
    bed_tracks,
    dialogue_track,
    duck_gain,
    master,
    measure_ebur128,
    mix_tracks,
    pan_gains,
    parse_delivery,
    read_wav,
    render_bed,
    render_sfx,
    spans_from_tracks,
    speak,
    write_mix,
    write_wav,
)
from filmc.runtime.sound.dsp import apply_fades
from hypothesis import given, settings
from hypothesis import strategies as st
from sound_helpers import SR, band_energy_db, decode_with_pyav, rms_db

LINES = [(1.0, "Not tonight."), (6.0, "He always finds me, doesn't he?"), (11.0, "Where were you?")]


def _steady_music(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    chord = 0.1 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 277.2 * t) + np.sin(2 * np.pi * 329.6 * t))
    return np.stack([chord, chord], axis=1).astype(np.float32)


def _dialogue() -> list[Track]:
    voice = VoiceParams(language="en-us", pitch=45)
    return [dialogue_track(speak(text, voice), start) for start, text in LINES]


def test_pan_law_is_minus_3_db_at_centre_and_constant_power() -> None:
    left, right = pan_gains(0.0)
    assert 20 * np.log10(left) == pytest.approx(-3.01, abs=0.01)
    assert left == pytest.approx(right)
    assert pan_gains(-1.0) == pytest.approx((1.0, 0.0), abs=1e-12)
    for pan in np.linspace(-1, 1, 9):
        gl, gr = pan_gains(float(pan))
        assert gl**2 + gr**2 == pytest.approx(1.0)
    with pytest.raises(SoundError, match="outside"):
        pan_gains(1.5)


@pytest.mark.parametrize("depth", [6.0, 12.0, 20.0])
def test_music_ducks_by_the_configured_depth_during_dialogue(depth: float) -> None:
    dialogue = _dialogue()
    spans = spans_from_tracks(dialogue)
    ducking = Ducking(depth_db=depth, attack_s=0.1, release_s=0.4)
    result = mix_tracks([Track("music", _steady_music(16.0)), *dialogue], 16.0, dialogue_spans=spans,
                        ducking=ducking)
    music = result.stems["music"]
    during = np.concatenate([music[int(s * SR) : int(e * SR)] for s, e in spans])
    between = np.concatenate([
        music[int((e + ducking.release_s + 0.2) * SR) : int((nxt - ducking.attack_s - 0.2) * SR)]
        for (_, e), (nxt, _) in zip(spans, spans[1:], strict=False)
    ])
    assert rms_db(between) - rms_db(during) == pytest.approx(depth, abs=1.0)


def test_ducking_follows_the_given_spans_not_the_signal() -> None:
    """A real bed, ducked under spans where nothing is said: the stem follows the spans exactly."""
    bed = render_bed("drone", 10.0)
    spans = [(2.0, 4.0)]
    ducking = Ducking(depth_db=10.0, attack_s=0.2, release_s=0.5)
    music = mix_tracks([Track("music", bed)], 10.0, dialogue_spans=spans, ducking=ducking).stems["music"]
    ratio_in = rms_db(music[int(2.0 * SR) : int(4.0 * SR)]) - rms_db(bed[int(2.0 * SR) : int(4.0 * SR)])
    ratio_out = rms_db(music[int(5.0 * SR) : int(9.0 * SR)]) - rms_db(bed[int(5.0 * SR) : int(9.0 * SR)])
    assert ratio_in == pytest.approx(-10.0, abs=0.05)
    assert ratio_out == pytest.approx(0.0, abs=1e-4)
    gain = np.abs(music[:, 0]) / np.maximum(np.abs(bed[:, 0]), 1e-9)
    assert gain[int(1.7 * SR) : int(1.8 * SR)].max() > 0.4  # the attack ramp is under way, not a step
    dry = mix_tracks([Track("music", bed)], 10.0, dialogue_spans=spans, ducking=None).stems["music"]
    np.testing.assert_array_equal(dry, bed)


def test_five_one_channel_order_with_dialogue_in_centre(tmp_path) -> None:
    dialogue = _dialogue()
    tracks = [*dialogue,
              Track("music", render_bed("pulse", 14.0), gain_db=bed_gain_db(-24)),
              Track("ambience", render_bed("rain", 14.0), gain_db=bed_gain_db(-30)),
              Track("sfx", render_sfx("door_slam"), start_s=4.0, pan=0.6)]
    result = mix_tracks(tracks, 14.0, layout="5.1", dialogue_spans=spans_from_tracks(dialogue))
    assert result.channels == ("FL", "FR", "FC", "LFE", "BL", "BR") == LAYOUTS["5.1"]
    paths = write_mix(tmp_path, result)

    decoded, layout, names = decode_with_pyav(paths["mix"])
    assert layout == "5.1" and names == ["FL", "FR", "FC", "LFE", "BL", "BR"]
    dialogue_stem, _ = read_wav(paths["dialogue"])
    speech_only = np.abs(dialogue_stem).max(axis=0)
    assert speech_only[2] > 0.1 and np.all(np.delete(speech_only, 2) == 0.0)
    mix, _ = read_wav(paths["mix"])
    assert decoded.shape == mix.shape
    np.testing.assert_allclose(decoded, mix, atol=1e-6)
    # The centre carries the dialogue: it correlates with the dialogue stem, the fronts do not.
    centre = np.corrcoef(mix[:, 2], dialogue_stem[:, 2])[0, 1]
    assert centre > 0.9
    # LFE holds only the low end; surrounds carry the beds.
    assert band_energy_db(mix[:, 3], 20, 150) - band_energy_db(mix[:, 3], 400, 20_000) > 30.0
    assert rms_db(mix[:, 4]) > -60.0 and rms_db(mix[:, 5]) > -60.0

    flac = tmp_path / "mix.flac"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(paths["mix"]), "-c:a", "flac",
                    str(flac)], check=True)
    encoded, layout, _ = decode_with_pyav(flac)
    assert layout == "5.1"
    assert np.abs(encoded - mix).max() < 1e-6

    # Mastered 5.1: FFmpeg's meter (which leaves out the LFE, as BS.1770 says) agrees.
    meter = measure_ebur128(write_mix(tmp_path / "master", master(result, -16.0))["mix"])
    assert meter.integrated_lufs == pytest.approx(-16.0, abs=0.5)
    assert meter.true_peak_dbtp <= -1.0

def test_stems_silent_and_non_silent_as_expected(tmp_path) -> None:
    dialogue = _dialogue()
    result = mix_tracks([*dialogue, Track("music", _steady_music(14.0))], 14.0,
                        dialogue_spans=spans_from_tracks(dialogue))
    paths = write_mix(tmp_path / "stems", result)
    assert sorted(paths) == ["ambience", "dialogue", "mix", "music", "sfx"]
    audio = {name: read_wav(path) for name, path in paths.items()}
    for name, (samples, rate) in audio.items():
        assert rate == 48_000 and samples.shape == (14 * SR, 2), name
    assert np.all(audio["ambience"][0] == 0.0) and np.all(audio["sfx"][0] == 0.0)
    assert rms_db(audio["dialogue"][0]) > -50.0 and rms_db(audio["music"][0]) > -40.0
    summed = sum(audio[bus][0] for bus in ("dialogue", "ambience", "music", "sfx"))
    assert np.abs(summed - audio["mix"][0]).max() < 1e-5
    assert not list(tmp_path.joinpath("stems").glob("*.tmp"))


def test_master_meets_loudness_and_true_peak(tmp_path) -> None:
    dialogue = [dialogue_track(speak("Get down! Get down now!", VoiceParams(pitch=60)), 1.0,
                               parse_delivery(["shouting"])), *_dialogue()]
    tracks = [*dialogue, Track("music", render_bed("chase", 15.0), gain_db=bed_gain_db(-18)),
              Track("sfx", render_sfx("gunshot"), start_s=3.0, gain_db=6.0)]
    result = mix_tracks(tracks, 15.0, dialogue_spans=spans_from_tracks(dialogue))
    done = master(result, -14.0)
    meter = measure_ebur128(write_mix(tmp_path, done)["mix"])
    assert meter.integrated_lufs == pytest.approx(-14.0, abs=0.5)
    assert meter.true_peak_dbtp <= -1.0
    gain = 10 ** (done.gain_db / 20)
    np.testing.assert_allclose(done.stems["music"], result.stems["music"] * gain, rtol=1e-5, atol=1e-7)


def _short_term_db(x: np.ndarray, window_s: float = 0.2) -> np.ndarray:
    w = int(window_s * SR)
    frames = x[: x.shape[0] // w * w].reshape(-1, w, x.shape[1])
    return 10 * np.log10(np.mean(frames**2, axis=(1, 2)) + 1e-30)


def test_different_beds_crossfade_with_constant_power() -> None:
    cues = [BedCue("ambience", 0.0, 10.0, name="rain"), BedCue("ambience", 10.0, 20.0, name="wind")]
    tracks = bed_tracks(cues, crossfade_s=2.0, edge_fade_s=1.0)
    assert [(t.start_s, t.end_s) for t in tracks] == [(0.0, 11.0), (9.0, 20.0)]
    stem = mix_tracks(tracks, 20.0).stems["ambience"]
    assert np.abs(stem[0]).max() < 1e-3 and np.abs(stem[-1]).max() < 1e-3  # faded in and out
    level = _short_term_db(stem)
    inside = level[int(2.0 / 0.2) : int(18.0 / 0.2)]
    # Both beds sit at the same reference loudness: no hole and no bump across the boundary.
    assert inside.max() - inside.min() < 6.0
    across = level[int(8.6 / 0.2) : int(11.4 / 0.2)]
    assert across.min() > min(level[int(5 / 0.2) : int(8 / 0.2)].min(), level[int(12 / 0.2) : int(15 / 0.2)].min()) - 2.0


def test_a_bed_continuing_into_the_next_scene_has_no_seam() -> None:
    cues = [BedCue("ambience", 0.0, 10.0, name="rain", gain_db=0.0),
            BedCue("ambience", 10.0, 20.0, name="rain", gain_db=-6.0)]
    stem = mix_tracks(bed_tracks(cues, crossfade_s=2.0, edge_fade_s=0.0), 20.0).stems["ambience"]
    plain = mix_tracks([Track("ambience", render_bed("rain", 20.0))], 20.0).stems["ambience"]
    # Same phase on both sides, so the join is just a gain ramp from 0 dB to -6 dB.
    ok = np.abs(plain[:, 0]) > 1e-3
    ratio = stem[ok, 0] / plain[ok, 0]
    t = np.nonzero(ok)[0] / SR
    assert np.all(np.abs(ratio[t < 8.99] - 1.0) < 1e-4)
    assert np.all(np.abs(ratio[t > 11.01] - 10 ** (-6 / 20)) < 1e-4)
    middle = ratio[(t > 9.0) & (t < 11.0)]
    assert np.all(np.diff(middle) <= 1e-4)  # falls monotonically


def test_tracks_are_cut_to_the_programme_and_bad_input_is_refused() -> None:
    tone = _steady_music(4.0)
    result = mix_tracks([Track("music", tone, start_s=-1.0), Track("sfx", tone[:, 0], start_s=2.5)], 3.0,
                        ducking=None)
    assert result.mix.shape == (3 * SR, 2)
    np.testing.assert_array_equal(result.stems["music"], tone[SR : 4 * SR])
    with pytest.raises(SoundError, match="unknown bus"):
        mix_tracks([Track("foley", tone)], 3.0)
    with pytest.raises(SoundError, match="unknown layout"):
        mix_tracks([Track("music", tone)], 3.0, layout="7.1")
    with pytest.raises(SoundError, match="exactly one"):
        bed_tracks([BedCue("music", 0.0, 5.0)])


def _plain_stereo_mix(tracks: list[Track], duration_s: float, ducking: Ducking) -> dict[str, np.ndarray]:
    """The mixer's recipe done the plain way, track by track: fade the whole track, pan it
    (constant power; a stereo track keeps its centre at unity), gain, duck, add to its stem."""
    n = round(duration_s * SR)
    stems = {bus: np.zeros((n, 2), np.float32) for bus in BUSES}
    spans = np.array(sorted(spans_from_tracks(tracks)), dtype=np.float64).reshape(-1, 2)
    for t in tracks:
        start = round(t.start_s * SR)
        lo, hi = max(0, -start), min(t.samples.shape[0], n - start)
        if hi <= lo:
            continue
        x = apply_fades(t.samples, t.fade_in_s, t.fade_out_s, fade_in_shape=t.fade_in_shape,
                        fade_out_shape=t.fade_out_shape)
        left, right = pan_gains(t.pan)
        if x.ndim == 1:
            routed = np.stack([x * np.float32(left), x * np.float32(right)], axis=1)
        else:
            centre = pan_gains(0.0)[0]
            routed = np.stack([x[:, 0] * np.float32(min(1.0, left / centre)),
                               x[:, 1] * np.float32(min(1.0, right / centre))], axis=1)
        block = routed[lo:hi] * np.float32(10.0 ** (t.gain_db / 20.0))
        if t.bus in ducking.buses:
            block *= duck_gain(start + lo, hi - lo, spans, ducking)[:, None]
        stems[t.bus][start + lo : start + hi] += block
    mix = np.zeros((n, 2), np.float32)
    for bus in BUSES:
        mix += stems[bus]
    return stems | {"mix": mix}


_track = st.builds(
    lambda bus, stereo, length, start, gain_db, pan, fades, shapes, seed: Track(
        bus, np.random.default_rng(seed).uniform(-0.5, 0.5, (length, 2) if stereo else length).astype(np.float32),
        start_s=start, gain_db=gain_db, pan=pan, fade_in_s=fades[0], fade_out_s=fades[1],
        fade_in_shape=shapes[0], fade_out_shape=shapes[1]),
    st.sampled_from(BUSES), st.booleans(), st.integers(1, 30_000), st.sampled_from([-0.3, -0.01, 0.0, 0.05, 0.37]),
    st.sampled_from([0.0, -6.0, 3.1, -13.7]), st.sampled_from([0.0, -1.0, -0.4, 0.25, 1.0]),
    st.tuples(st.sampled_from([0.0, 0.002, 0.1, 0.3, 1.0]), st.sampled_from([0.0, 0.004, 0.2, 0.5])),
    st.tuples(st.sampled_from(["equal_power", "linear"]), st.sampled_from(["equal_power", "linear"])),
    st.integers(0, 2**16),
)


@settings(max_examples=40, deadline=None)
@given(tracks=st.lists(_track, min_size=1, max_size=5))
def test_stereo_mix_equals_the_plain_recipe_value_for_value(tracks: list[Track]) -> None:
    """The mixer fades only the faded stretches and skips unity gains: the same float32 values as
    fading whole tracks and routing them, whatever the fades, pans, cuts and ducking."""
    ducking = Ducking(depth_db=9.0, attack_s=0.05, release_s=0.1)
    rng = np.random.default_rng(len(tracks))
    # Two lines far enough apart that a bed under both is ducked in two separate stretches.
    tracks = [Track("dialogue", rng.uniform(-0.5, 0.5, 2_400).astype(np.float32), start_s=0.02),
              Track("dialogue", rng.uniform(-0.5, 0.5, 2_400).astype(np.float32), start_s=0.3),
              Track("ambience", rng.uniform(-0.5, 0.5, (24_000, 2)).astype(np.float32), fade_in_s=0.1), *tracks]
    result = mix_tracks(tracks, 0.5, dialogue_spans=spans_from_tracks(tracks), ducking=ducking)
    plain = _plain_stereo_mix(tracks, 0.5, ducking)
    for bus in BUSES:
        np.testing.assert_array_equal(result.stems[bus], plain[bus])
    np.testing.assert_array_equal(result.mix, plain["mix"])


def test_stems_written_with_the_master_gain_are_the_mastered_stems(tmp_path) -> None:
    """The mix op writes the stems with the master's static gain folded into the writer: the same
    bytes as writing `master`'s scaled stems."""
    tracks = [Track("music", _steady_music(3.0), gain_db=-3.0), *_dialogue()[:1]]
    result = mix_tracks(tracks, 3.0, dialogue_spans=spans_from_tracks(tracks))
    done = master(result, -14.0)
    assert done.gain_db != 0
    for bus in BUSES:
        scaled = write_wav(tmp_path / f"{bus}_master.wav", done.stems[bus]).read_bytes()
        folded = write_wav(tmp_path / f"{bus}_folded.wav", result.stems[bus], gain=10 ** (done.gain_db / 20))
        assert folded.read_bytes() == scaled
