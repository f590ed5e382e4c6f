"""`filmc build` sound, end to end: voices, stems against the timeline, loudness of the
delivered films, 5.1 channel order, and dialogue longer than its shot.

Each film is built once per module at a tiny scale; every check measures the files the build
wrote (stems with numpy, films with PyAV and FFmpeg's ebur128 meter).
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from filmc.compiler.check import check_file
from filmc.compiler.extend import dialogue_overflows, extend_shots, fit_shots
from filmc.compiler.plan import layout
from filmc.runtime.build import BuildOptions, BuildOutcome, build
from filmc.runtime.sound import measure_ebur128, read_wav

ROOT = Path(__file__).resolve().parents[2]
BLACKOUT = ROOT / "examples" / "short" / "blackout.film"
FILMS = Path(__file__).resolve().parent / "films"
SILENT_DBFS = -90.0
AUDIBLE_DBFS = -60.0


class Built:
    def __init__(self, outcome: BuildOutcome, out: Path, err: str) -> None:
        self.outcome, self.out, self.err = outcome, out, err

    def timeline(self) -> otio.schema.Timeline:
        return otio.adapters.read_from_file(str(next(self.out.glob("*.otio"))))


def run_build(film: Path, tmp: Path, scale: float = 0.125, extend: bool = False) -> Built:
    err = io.StringIO()
    out = tmp / "out"
    opts = BuildOptions(film=film, out=out, cache=tmp / "cache", scale=scale, extend_shots=extend, jobs=2)
    outcome = build(opts, out_stream=io.StringIO(), err_stream=err)
    return Built(outcome, out, err.getvalue())


@pytest.fixture(scope="module")
def blackout(tmp_path_factory) -> Built:
    built = run_build(BLACKOUT, tmp_path_factory.mktemp("blackout"))
    assert built.outcome.code == 0, built.err[-3000:]
    return built


@pytest.fixture(scope="module")
def surround(tmp_path_factory) -> Built:
    built = run_build(FILMS / "surround.film", tmp_path_factory.mktemp("surround"), scale=0.5)
    assert built.outcome.code == 0, built.err[-3000:]
    return built


def frame_rms_db(samples: np.ndarray, fps: Fraction, rate: int) -> np.ndarray:
    """RMS (dBFS, all channels) of each film frame of a stem."""
    per = Fraction(rate) / fps
    n = int(samples.shape[0] / per)
    edges = [round(i * per) for i in range(n + 1)]
    power = np.square(samples.astype(np.float64)).mean(axis=1)
    sums = np.add.reduceat(power, edges[:-1])
    counts = np.diff(edges)
    return 10 * np.log10(np.maximum(sums / counts, 1e-20))


def clip_spans(timeline: otio.schema.Timeline, track_name: str, fps: Fraction) -> list[tuple[int, int]]:
    """(first frame, end frame) of every clip on a track, in record frames from the picture start."""
    track = next(t for t in timeline.audio_tracks() if t.name == track_name)
    spans = []
    for clip in track.find_clips():
        r = clip.trimmed_range_in_parent()
        start = round(r.start_time.to_seconds() * fps)
        spans.append((start, start + round(r.duration.to_seconds() * fps)))
    return spans


def stem(built: Built, name: str) -> tuple[np.ndarray, int]:
    return read_wav(built.out / "stems" / f"{name}.wav")


def active_outside(levels: np.ndarray, spans: list[tuple[int, int]], slack: int = 1) -> list[int]:
    covered = np.zeros(levels.shape[0], dtype=bool)
    for a, b in spans:
        covered[max(0, a - slack): b + slack] = True
    return [int(i) for i in np.nonzero((levels > SILENT_DBFS) & ~covered)[0]]


# --- blackout: voices, stems, loudness ---------------------------------------------------------


def test_two_distinct_voices_are_audible(blackout: Built) -> None:
    plan = blackout.outcome.plan
    assert plan is not None
    speech = [n for n in plan.nodes if n.op == "speech"]
    voices = {}
    for node in speech:
        voices.setdefault(tuple(sorted(node.params["voice"].items(), key=lambda kv: kv[0])), []).append(node)
    assert len(voices) >= 2
    for nodes in voices.values():
        wav = blackout.out / "audio" / "speech" / f"{nodes[0].id[:16]}.wav"
        samples, _ = read_wav(wav)
        assert samples.shape[0] > 4800
        assert 20 * np.log10(np.sqrt(np.mean(np.square(samples))) + 1e-12) > -35


@pytest.mark.parametrize(("bus", "track"), [("dialogue", "A1 Dialogue"), ("ambience", "A2 Ambience"),
                                            ("music", "A3 Music"), ("sfx", "A4 SFX")])
def test_stems_sound_only_under_their_clips(blackout: Built, bus: str, track: str) -> None:
    fps = Fraction(24)
    samples, rate = stem(blackout, bus)
    levels = frame_rms_db(samples, fps, rate)
    spans = clip_spans(blackout.timeline(), track, fps)
    assert spans, f"the timeline has no {bus} clips"
    for a, b in spans:
        assert levels[a:b].max() > AUDIBLE_DBFS, f"{bus} silent under its clip {a}-{b}"
    assert active_outside(levels, spans) == []
    assert levels.shape[0] == layout(check_file(BLACKOUT).film).total_frames


def test_dialogue_stem_lines_up_with_timeline_clips(blackout: Built) -> None:
    fps = Fraction(24)
    samples, rate = stem(blackout, "dialogue")
    levels = frame_rms_db(samples, fps, rate)
    spans = clip_spans(blackout.timeline(), "A1 Dialogue", fps)
    assert len(spans) == len(layout(check_file(BLACKOUT).film).lines)
    for a, b in spans:
        window = np.nonzero(levels[max(0, a - 2): b + 2] > AUDIBLE_DBFS)[0] + max(0, a - 2)
        assert abs(int(window[0]) - a) <= 1, (a, b, window[0])
        assert abs(int(window[-1]) + 1 - b) <= 1, (a, b, window[-1])


def test_timeline_references_the_delivered_stems(blackout: Built) -> None:
    stems = {t.metadata["filmc"]["stem"]: t for t in blackout.timeline().audio_tracks() if "stem" in t.metadata.get(
        "filmc", {})}
    assert sorted(stems) == ["ambience", "dialogue", "music", "sfx"]
    for name, track in stems.items():
        (clip,) = track.find_clips()
        assert clip.media_reference.target_url == (blackout.out / "stems" / f"{name}.wav").resolve().as_uri()
        assert not track.enabled  # muted: A1-A4 carry the placed sources


def test_encoded_film_meets_loudness_target(blackout: Built) -> None:
    m = measure_ebur128(blackout.out / "blackout.mp4")
    assert abs(m.integrated_lufs - (-14.0)) <= 0.5, m
    assert m.true_peak_dbtp <= -1.0, m


# --- surround: 5.1 channel order, centre dialogue, a profile with its own target ----------------


def test_surround_has_six_channels_in_order(surround: Built) -> None:
    with av.open(str(surround.out / "surround_web_mp4.mp4")) as container:
        stream = container.streams.audio[0]
        assert stream.channels == 6
        assert stream.layout.name in ("5.1", "5.1(side)")
        names = [c.name for c in stream.layout.channels]
        assert names[:4] == ["FL", "FR", "FC", "LFE"]


def decode_channels(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray() for f in container.decode(stream)]
        rate = stream.rate
    planes = np.concatenate(chunks, axis=1) if chunks[0].ndim == 2 else np.concatenate(chunks)
    return planes.astype(np.float64), rate


def test_surround_dialogue_sits_in_the_centre(surround: Built) -> None:
    planes, rate = decode_channels(surround.out / "surround_web_mp4.mp4")
    assert planes.shape[0] == 6
    fps = Fraction(24)
    spans = clip_spans(surround.timeline(), "A1 Dialogue", fps)
    assert len(spans) == 2
    for a, b in spans:
        part = planes[:, int(a / fps * rate): int(b / fps * rate)]
        energy = np.square(part).mean(axis=1)
        assert int(np.argmax(energy)) == 2, energy
        assert energy[2] > 10 * max(energy[0], energy[1]), energy


def test_each_profile_gets_its_own_loudness(surround: Built) -> None:
    loud = measure_ebur128(surround.out / "surround_web_mp4.mp4")
    quiet = measure_ebur128(surround.out / "surround_web_quiet.mp4")
    assert abs(loud.integrated_lufs - (-14.0)) <= 0.5, loud
    assert abs(quiet.integrated_lufs - (-23.0)) <= 0.5, quiet
    assert quiet.true_peak_dbtp <= -1.0, quiet


def test_surround_loud_profile_true_peak(surround: Built) -> None:
    assert measure_ebur128(surround.out / "surround_web_mp4.mp4").true_peak_dbtp <= -1.0


def test_surround_music_and_sfx_stems_are_silent(surround: Built) -> None:
    for bus in ("music", "sfx"):
        samples, _ = stem(surround, bus)
        assert float(np.max(np.abs(samples))) == 0.0, bus


# --- dialogue longer than its shot -----------------------------------------------------------


def test_overlong_line_stops_the_build_with_its_location(tmp_path: Path) -> None:
    built = run_build(FILMS / "overlong.film", tmp_path)
    assert built.outcome.code == 1
    assert "Traceback" not in built.err
    message = next(line for line in built.err.splitlines() if "dialogue line" in line)
    assert "overlong.film:23:" in message
    assert "s01_002.1" in message and "shot `s01_002` lasts 1.00s" in message
    real = float(message.split(" lasts ")[1].split("s ")[0])
    assert real > 2.0
    assert not (built.out / "overlong.mp4").exists()


def test_extend_shots_lengthens_the_shot_and_the_timeline(tmp_path: Path) -> None:
    built = run_build(FILMS / "overlong.film", tmp_path, extend=True)
    assert built.outcome.code == 0, built.err[-3000:]
    said = next(line for line in built.err.splitlines() if line.startswith("extended shot `s01_002`"))
    timeline = built.timeline()
    shot = next(c for c in timeline.video_tracks()[0].find_clips() if c.name == "s01_002")
    frames = round(shot.duration().to_seconds() * 24)
    assert frames > 24 * 2
    assert f"-> {frames / 24:.2f}s" in said
    line = clip_spans(timeline, "A1 Dialogue", Fraction(24))[0]
    start = round(shot.trimmed_range_in_parent().start_time.to_seconds() * 24)
    assert start <= line[0] and line[1] <= start + frames


def test_fit_shots_is_pure_and_settles() -> None:
    film = check_file(FILMS / "overlong.film").film
    lines = layout(film).lines
    lengths = [24 * 5] * len(lines)
    grown = fit_shots(film, lengths)
    assert set(grown) == {"s01_002"}
    longer = extend_shots(film, grown)
    assert dialogue_overflows(longer, lengths) == []
    assert dialogue_overflows(film, lengths)[0].line.shot_id == "s01_002"
    assert film.shots()[1].duration.frames == 24
    assert longer.shots()[1].duration.frames == grown["s01_002"] == 6 + 24 * 5
