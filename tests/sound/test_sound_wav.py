"""WAV stems: 24-bit 48 kHz, atomic, readable by FFmpeg (PyAV) with the right channel layout."""

from __future__ import annotations

import numpy as np
import pytest
from filmc.runtime.sound import SoundError, read_wav, write_wav
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sound_helpers import SR, decode_with_pyav


@pytest.mark.parametrize(("channels", "layout"), [(1, "mono"), (2, "stereo"), (6, "5.1")])
def test_24_bit_wav_round_trips_and_ffmpeg_agrees(channels: int, layout: str, tmp_path) -> None:
    x = np.random.default_rng(channels).uniform(-0.99, 0.99, (SR // 2, channels)).astype(np.float32)
    path = write_wav(tmp_path / "a.wav", x[:, 0] if channels == 1 else x)
    back, rate = read_wav(path)
    assert rate == SR and back.shape == x.shape
    assert np.abs(back - x).max() <= 0.5 / 2**23 + 1e-9
    assert path.stat().st_size == 68 + x.size * 3  # 24-bit samples after a 68-byte extensible header
    decoded, found_layout, _ = decode_with_pyav(path)
    assert found_layout == layout
    np.testing.assert_allclose(decoded, back, atol=1e-9)


def test_header_says_what_the_data_is(tmp_path) -> None:
    path = write_wav(tmp_path / "s.wav", np.zeros((480, 2), np.float32))
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert int.from_bytes(data[20:22], "little") == 0xFFFE  # extensible, as >16-bit PCM asks
    assert int.from_bytes(data[24:28], "little") == SR
    assert int.from_bytes(data[34:36], "little") == 24
    assert int.from_bytes(data[40:44], "little") == 0x3  # FL|FR


def test_out_of_range_samples_clip_and_other_depths_work(tmp_path) -> None:
    x = np.array([[1.5, -1.5], [0.25, -0.25]], dtype=np.float32)
    back, _ = read_wav(write_wav(tmp_path / "clip.wav", x))
    assert back[0, 0] == pytest.approx(1.0, abs=1e-6) and back[0, 1] == -1.0
    b16, _ = read_wav(write_wav(tmp_path / "b16.wav", x * 0.5, bits=16))
    assert b16[1, 0] == pytest.approx(0.125, abs=1 / 32768)
    f32, _ = read_wav(write_wav(tmp_path / "f32.wav", x, bits=32))
    np.testing.assert_array_equal(f32, x)  # float keeps over-range values


def test_writes_are_atomic(tmp_path) -> None:
    path = tmp_path / "mix.wav"
    write_wav(path, np.zeros(480, np.float32))
    before = path.read_bytes()
    with pytest.raises(SoundError, match="bit depth"):
        write_wav(path, np.ones(480, np.float32), bits=12)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mix.wav"]


def test_reading_bad_files_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wave file at all")
    with pytest.raises(SoundError, match="not a RIFF/WAVE"):
        read_wav(bad)
    with pytest.raises(SoundError, match="cannot read"):
        read_wav(tmp_path / "missing.wav")


def test_24_bit_codes_are_rounded_to_nearest_and_read_back_exactly(tmp_path) -> None:
    """Every code (extremes, halves, tiny values of both signs) as a float64 reference writes it."""
    rng = np.random.default_rng(5)
    edges = np.array([0.0, -0.0, 1.0, -1.0, 1.2, -1.2, 0.5 / 2**23, -0.5 / 2**23, 1.5 / 2**23, -1.5 / 2**23,
                      (2**23 - 1) / 2**23, -(2**23 - 1) / 2**23, 3e-9, -3e-9], dtype=np.float32)
    x = np.concatenate([edges, rng.uniform(-1, 1, 20_000).astype(np.float32)]).reshape(-1, 2)
    codes = np.clip(np.round(x.astype(np.float64) * 2**23), -(2**23), 2**23 - 1).astype(np.int64)
    expected = b"".join(int(c).to_bytes(3, "little", signed=True) for c in codes.reshape(-1))
    path = write_wav(tmp_path / "codes.wav", x)
    assert path.read_bytes()[68:] == expected
    back, _ = read_wav(path)
    np.testing.assert_array_equal(back, (codes / 2**23).astype(np.float32))


def _reference_pcm(x: np.ndarray, bits: int) -> bytes:
    """Codes as float64 arithmetic makes them: round to nearest even, clip, little-endian."""
    if bits == 32:
        return x.astype("<f4").tobytes()
    full = 2 ** (bits - 1)
    codes = np.clip(np.round(x.astype(np.float64) * full), -full, full - 1).astype(np.int64)
    twos = (codes.reshape(-1) & (2**bits - 1)).astype("<u4")  # two's complement in the low bytes
    return twos.view(np.uint8).reshape(-1, 4)[:, : bits // 8].tobytes()


@settings(max_examples=30, deadline=None)
@example(frames=3 * 2**15 + 7, channels=2, bits=24, gain=3.7218, silent=True, seed=1)
@example(frames=2**15 + 1, channels=6, bits=16, gain=0.5, silent=True, seed=2)
@given(frames=st.integers(0, 3 * 2**15 + 7), channels=st.sampled_from([1, 2, 6]), bits=st.sampled_from([16, 24, 32]),
       gain=st.sampled_from([1.0, 0.5, 2.0, 3.7218, 0.0123]), silent=st.booleans(), seed=st.integers(0, 2**16))
def test_written_codes_are_those_of_the_gained_samples(tmp_path_factory, frames: int, channels: int, bits: int,
                                                       gain: float, silent: bool, seed: int) -> None:
    """Any length (across the writer's blocks), with silent stretches, and ``gain`` folded into the
    quantiser: the file holds exactly the codes of ``samples * float32(gain)``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.3, 1.3, (frames, channels)).astype(np.float32)
    if silent and frames:
        x[frames // 3 : frames - 5] = 0.0
        x[frames // 2 :: 3] = -0.0
    expected = _reference_pcm(x * np.float32(gain), bits)
    path = write_wav(tmp_path_factory.mktemp("w") / "g.wav", x, bits=bits, gain=gain)
    data = path.read_bytes()
    header = 44 if channels <= 2 and bits == 16 else 68
    assert data[header:] == expected + b"\0" * (len(expected) & 1)  # RIFF pads odd chunks
    back, _ = read_wav(path)
    assert back.shape == (frames, channels)
    if bits == 24:
        codes = np.frombuffer(expected, np.uint8).reshape(-1, 3).astype(np.int64)
        ints = codes[:, 0] | codes[:, 1] << 8 | codes[:, 2] << 16
        ints = np.where(ints >= 2**23, ints - 2**24, ints)
        np.testing.assert_array_equal(back.reshape(-1), (ints / 2**23).astype(np.float32))
