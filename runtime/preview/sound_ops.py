"""The sound ops (speech, bed, sfx, mix, subtitles) on top of runtime/sound.

Levels follow the plan's single scale: a line is normalised to `reference_lufs`
and placed at `level_db` (dialogue sits at -20, so its gain is 0); a bed is
rendered at the sound engine's bed reference loudness and placed with
`bed_gain_db(level)`; an effect is peak-normalised and its level is a plain gain.
Dialogue lines are placed by `place_dialogue` with their real lengths, the same
rule the subtitles and the timeline use, so what you hear is what you read.
The mix is exactly the picture's length, normalised to the film's loudness with
a true-peak ceiling, its stems given the same static gain (runtime/sound `master`, done
here with the stems scaled as they are written).
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from filmc.compiler.plan import place_dialogue, resolve_path
from filmc.runtime.backend import NodeError, NodeOutputs
from filmc.runtime.colour.cube import atomic_write_text
from filmc.runtime.sound import (
    SAMPLE_RATE,
    SoundError,
    SubtitleLine,
    Track,
    VoiceParams,
    apply_off_screen,
    bed_gain_db,
    file_bed,
    file_sfx,
    integrated_loudness,
    mix_tracks,
    normalise_loudness,
    parse_delivery,
    read_wav,
    render_bed,
    render_sfx,
    spans_from_tracks,
    speak,
    write_srt,
    write_wav,
    write_webvtt,
)
from filmc.runtime.sound.dsp import db_to_gain
from filmc.runtime.sound.meter import EBUR128_RECORD, measure_ebur128

from .tools import fps_fraction

SILENCE_DB = -50.0
"""Leading and trailing audio quieter than this (relative to the line's peak) is trimmed."""
PAD_S = 0.01
BED_EDGE_FADE_S = 0.5


def samples_per_frame(fps: str, rate: int = SAMPLE_RATE) -> Fraction:
    return Fraction(rate) / fps_fraction(fps)


def frames_of(n_samples: int, fps: str, rate: int = SAMPLE_RATE) -> int:
    """Whole film frames an audio clip of n samples covers (rounded up)."""
    return max(1, math.ceil(Fraction(n_samples) / samples_per_frame(fps, rate)))


def exact_samples(frames: int, fps: str) -> int:
    return round(frames * samples_per_frame(fps))


def _fit(samples: np.ndarray, n: int) -> np.ndarray:
    """Pad with silence or cut to exactly n samples."""
    if samples.shape[0] >= n:
        return samples[:n]
    pad = np.zeros((n - samples.shape[0],) + samples.shape[1:], dtype=np.float32)
    return np.concatenate([samples.astype(np.float32), pad])


def trim_silence(samples: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak <= 0:
        return samples
    loud = np.nonzero(np.abs(samples) > peak * 10 ** (SILENCE_DB / 20))[0]
    pad = int(PAD_S * SAMPLE_RATE)
    return samples[max(0, loud[0] - pad): min(samples.shape[0], loud[-1] + pad + 1)]


def _int(value: Any) -> int | None:
    return None if value is None else int(round(float(value)))


def speech(params: dict[str, Any], out: Path) -> None:
    v = params["voice"]
    voice = VoiceParams(engine=v.get("engine") or "espeak", language=v.get("language") or "en-us",
                        pitch=_int(v.get("pitch")), rate=_int(v.get("rate_wpm")), variant=v.get("variant"),
                        amplitude=_int(v.get("amplitude")))
    try:
        line = speak(params["text"], voice, parse_delivery(params.get("delivery") or []))
    except SoundError as exc:
        raise NodeError(f"speech {params.get('speaker')}: {exc}") from None
    samples = trim_silence(line.samples.astype(np.float32))
    if params.get("mode") == "off_screen":
        samples = apply_off_screen(samples)
    reference = float(params.get("reference_lufs", -20.0))
    if integrated_loudness(samples) is not None:
        samples = normalise_loudness(samples, reference, -1.0).samples
    write_wav(out, samples, int(params.get("sample_rate", SAMPLE_RATE)))


def bed(params: dict[str, Any], film: str, out: Path) -> None:
    frames, fps = int(params["frames"]), params["fps"]
    seconds = float(Fraction(frames) / fps_fraction(fps))
    try:
        if params.get("file"):
            samples = file_bed(resolve_path(params["file"]["path"], film), seconds)
        elif params.get("synth"):
            samples = render_bed(params["synth"], seconds, int(params.get("seed", 0)))
        else:
            raise NodeError(f"{params.get('kind')} {params.get('name')} has neither a synth nor a file")
    except SoundError as exc:
        raise NodeError(f"{params.get('kind')} {params.get('name')}: {exc}") from None
    write_wav(out, _fit(samples, exact_samples(frames, fps)))


def sfx(params: dict[str, Any], film: str, out: Path) -> None:
    try:
        if params.get("file"):
            samples = file_sfx(resolve_path(params["file"]["path"], film))
        elif params.get("synth"):
            samples = render_sfx(params["synth"])
        else:
            raise NodeError(f"sfx {params.get('name')} has neither a synth nor a file")
    except SoundError as exc:
        raise NodeError(f"sfx {params.get('name')}: {exc}") from None
    write_wav(out, samples)


def _load(outputs: NodeOutputs) -> np.ndarray:
    samples, rate = read_wav(outputs.single())
    if rate != SAMPLE_RATE:
        raise NodeError(f"{outputs.op} {outputs.label}: {rate} Hz audio, expected {SAMPLE_RATE}")
    return samples[:, 0] if samples.shape[1] == 1 else samples


def dialogue_positions(entries: list[dict[str, Any]], lengths: list[int], gap: int) -> list[int]:
    return place_dialogue([int(e["at_frame"]) for e in entries], lengths, gap)


def mix(params: dict[str, Any], inputs: list[NodeOutputs], workdir: Path) -> None:
    fps = params["fps"]
    frames = int(params["frames"])
    rate = Fraction(fps_fraction(fps))
    audio = [_load(o) for o in inputs]
    entries = params["entries"]
    dialogue = [e for e in entries if e["stem"] == "dialogue"]
    lengths = [frames_of(audio[int(e["input"])].shape[0], fps) for e in dialogue]
    placed = iter(dialogue_positions(dialogue, lengths, int(params.get("gap_frames", 0))))
    tracks: list[Track] = []
    placements = []
    for e in entries:
        samples = audio[int(e["input"])]
        at = next(placed) if e["stem"] == "dialogue" else int(e["at_frame"])
        start_s = float(Fraction(at) / rate)
        level = float(e["level_db"])
        if e["stem"] == "dialogue":
            tracks.append(Track("dialogue", samples, start_s=start_s, gain_db=level - (-20.0)))
        elif e["stem"] in ("ambience", "music"):
            if e.get("frames"):
                samples = _fit(samples, exact_samples(int(e["frames"]), fps))
            fade = min(BED_EDGE_FADE_S, samples.shape[0] / SAMPLE_RATE / 4)
            tracks.append(Track(e["stem"], samples, start_s=start_s, gain_db=bed_gain_db(level), fade_in_s=fade,
                                fade_out_s=fade))
        else:
            tracks.append(Track("sfx", samples, start_s=start_s, gain_db=level))
        placements.append({"stem": e["stem"], "input": e["input"], "at_frame": at,
                           "frames": frames_of(samples.shape[0], fps)})
    duration = float(Fraction(frames) / rate)
    try:
        mixed = mix_tracks(tracks, duration, layout=str(params.get("layout") or "stereo"),
                           dialogue_spans=spans_from_tracks(tracks))
        # What `master` does, with the stems' static gain applied as they are written (same codes).
        done = normalise_loudness(mixed.mix, float(params["loudness_lufs"]),
                                  float(params.get("true_peak_dbtp", -1.0)))
    except SoundError as exc:
        raise NodeError(f"mix: {exc}") from None
    n = exact_samples(frames, fps)
    write_wav(workdir / "mix.wav", _fit(done.samples, n))
    # The independent meter QC reports reads the mix while the stems are written, not at the end of
    # the build when QC runs (the mix is delivered as it is here).
    with ThreadPoolExecutor(max_workers=1) as meter:
        independent = meter.submit(measure_ebur128, workdir / "mix.wav")
        for bus, stem in mixed.stems.items():
            write_wav(workdir / "stems" / f"{bus}.wav", _fit(stem, n), gain=db_to_gain(done.gain_db))
        try:
            m = independent.result()
        except SoundError as exc:
            raise NodeError(f"mix: ffmpeg cannot measure the mix: {exc}") from None
    report = {"target_lufs": float(params["loudness_lufs"]), "integrated_lufs": done.output_lufs,
              "true_peak_dbtp": done.true_peak_dbtp, "gain_db": done.gain_db, "layout": mixed.layout,
              "sample_rate": SAMPLE_RATE, "frames": frames, "samples": n, "placements": placements,
              EBUR128_RECORD: {"integrated_lufs": m.integrated_lufs, "true_peak_dbtp": m.true_peak_dbtp,
                               "loudness_range_lu": m.loudness_range_lu, "meter": "ffmpeg ebur128 peak=true"}}
    atomic_write_text(workdir / "loudness.json", json.dumps(report, indent=1, sort_keys=True))


def subtitles(params: dict[str, Any], inputs: list[NodeOutputs], workdir: Path) -> None:
    fps = params["fps"]
    rate = fps_fraction(fps)
    cues = params["cues"]
    lengths = [frames_of(_load(inputs[int(c["input"])]).shape[0], fps) for c in cues]
    placed = dialogue_positions(cues, lengths, int(params.get("gap_frames", 0)))
    lines = [SubtitleLine(float(Fraction(at) / rate), float(Fraction(at + n) / rate),
                          str(c.get("speaker") or "").removeprefix("std.") or None, c["text"])
             for c, at, n in zip(cues, placed, lengths, strict=True)]
    write_srt(workdir / "subtitles.srt", lines)
    write_webvtt(workdir / "subtitles.vtt", lines)
