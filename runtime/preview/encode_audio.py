"""The audio of one export: encoded alone, measured, re-limited until its true peak holds.

Lossy encoders do not keep the master's true peak (FACTS.md: AAC's default coder put a +5.6 dB
spike on a -2.3 dBTP passage), and no fixed margin is safe. So a lossy profile's audio is encoded
on its own first and measured with FFmpeg's ebur128 meter (the meter QC uses). When it reads over
the ceiling, the master after the profile's loudness gain goes through the sound engine's
true-peak limiter again, at a ceiling lowered by the measured overshoot (plus a step), and is
encoded and measured again, a bounded number of times; the loudness search holds the programme at
the loudness it had, so only peaks move. The film then takes the measured stream by stream copy: the
delivered bytes are the measured bytes. PCM delivers the master's own samples, so it needs the
limiter only where the profile's gain lifts the master over the ceiling.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from filmc.atomic import write_text
from filmc.compiler.plan import TRUE_PEAK_DBTP
from filmc.runtime.backend import NodeError
from filmc.runtime.media_tools import ffmpeg_exe
from filmc.runtime.profiles import LOSSY_AUDIO_SUFFIX, EncodeArgs
from filmc.runtime.sound import SoundError, measure_ebur128

from .tools import ffmpeg

CEILING_DBTP = TRUE_PEAK_DBTP
"""Every delivered programme measures at or under this (ebur128, peak=true), unless the encode's
params name another `true_peak_dbtp`."""
MAX_ENCODES = 4
"""The first encode plus at most three re-limited ones."""
RELIMIT_STEP_DB = 0.2
"""Extra drop of the limiter's ceiling beyond the measured overshoot (twice the meter's 0.1 dB step)."""
LOUDNESS_TOLERANCE_LU = 0.5
SILENT_LUFS = -69.0
"""ebur128 reads -70 LUFS when everything is under its absolute gate: no loudness to hold."""
REPORT_NAME = "audio_true_peak.json"
"""Written beside the encode's outputs (not a delivered file): what the true-peak control did."""
AUDIO_BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact"]


@dataclass(frozen=True)
class Attempt:
    """One encode of the profile's audio and what the meter read on it."""

    limiter_ceiling_dbtp: float | None
    """Ceiling the master was re-limited to before this encode; None: the master as mixed."""
    input_true_peak_dbtp: float | None
    """True peak of the encoder's input (the sound engine's 4x meter); None when not measured."""
    true_peak_dbtp: float
    integrated_lufs: float


@dataclass
class AudioPlan:
    """What the film's ffmpeg run takes as its audio: `inputs` (-i ...), then `codec` arguments."""

    inputs: list[str | Path]
    codec: list[str]
    report: dict[str, Any] = field(default_factory=dict)


def read_float(path: Path) -> tuple[np.ndarray, int]:
    """A WAV's samples as float32 (n, channels), decoded by ffmpeg straight into one array.

    The sound engine's read_wav holds the whole file's bytes beside its float32 samples, 7 bytes a
    sample: 3 GB for a 75-minute stereo mix, against 1.7 GB here."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels, rate = stream.channels, stream.sample_rate
    # At least 2 bytes a sample in the file: an upper bound on the frames; pages never written cost nothing.
    out = np.empty((path.stat().st_size // (2 * channels) + 1, channels), dtype=np.float32)
    view = memoryview(out.reshape(-1).view(np.uint8))
    filled = 0
    with subprocess.Popen([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
                           "-f", "f32le", "-c:a", "pcm_f32le", "-"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        while filled < len(view) and (got := proc.stdout.readinto(view[filled:])):
            filled += got
        error = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise NodeError(f"cannot decode {path.name}", output=error)
    return out[: filled // (4 * channels)], rate


class _Master:
    """The mix after the profile's gain, loaded once on first need (an hour of stereo is ~1.4 GB).
    The sound engine (scipy) is imported only here: most encodes never re-limit."""

    def __init__(self, mix_wav: Path, gain_db: float) -> None:
        self.mix_wav, self.gain_db = mix_wav, gain_db
        self._samples: np.ndarray | None = None
        self.rate = 0

    def samples(self) -> np.ndarray:
        if self._samples is None:
            samples, self.rate = read_float(self.mix_wav)
            if self.gain_db:
                from filmc.runtime.sound.dsp import db_to_gain

                np.multiply(samples, np.float32(db_to_gain(self.gain_db)), out=samples)
            self._samples = samples
        return self._samples

    def true_peak(self) -> float:
        from filmc.runtime.sound import true_peak_dbtp

        return round(true_peak_dbtp(self.samples()), 2)

    def limited(self, profile: str, target_lufs: float | None, ceiling_dbtp: float, path: Path) -> float:
        """Write the master limited to `ceiling_dbtp` with its loudness held on `target_lufs`; its true peak.

        Fails when the limiter cannot hold the loudness (dense material has a crest factor no peak
        limiter can squeeze: that loudness is then out of reach under this ceiling)."""
        from filmc.runtime.sound import normalise_loudness, write_wav

        try:
            done = normalise_loudness(self.samples(), target_lufs, ceiling_dbtp, sample_rate=self.rate)
        except SoundError as exc:
            raise NodeError(f"profile {profile}: true-peak limiter: {exc}") from None
        if (target_lufs is not None and done.output_lufs is not None
                and abs(done.output_lufs - target_lufs) > LOUDNESS_TOLERANCE_LU):
            raise NodeError(f"profile {profile}: limited to {ceiling_dbtp:+.2f} dBTP its audio reaches only "
                            f"{done.output_lufs:.1f} LUFS, more than {LOUDNESS_TOLERANCE_LU} LU from "
                            f"{target_lufs:.1f} LUFS (the mix {self.gain_db:+.2f} dB louder)")
        write_wav(path, done.samples, self.rate)
        return round(done.true_peak_dbtp, 2)


def _volume(gain_db: float) -> list[str]:
    return ["-af", f"volume={gain_db}dB"] if gain_db else []


def plan_audio(profile: str, args: EncodeArgs, mix_wav: Path, mix_info: dict[str, Any], gain_db: float,
               target_lufs: float | None, scratch: Path, ceiling_dbtp: float = CEILING_DBTP) -> AudioPlan:
    """Prepare one profile's audio so its delivered true peak is at or under `ceiling_dbtp`.

    `mix_info` is the mix's loudness.json (its true peak and loudness); `gain_db` takes the mix to the
    profile's `target_lufs`. Re-limiting holds the loudness the mix has after that gain (the target,
    unless the mix could not reach its own)."""
    peak = mix_info.get("true_peak_dbtp")
    input_peak = None if peak is None else round(float(peak) + gain_db, 2)
    hold_lufs = target_lufs
    if "integrated_lufs" in mix_info:  # None: silent, nothing to hold
        measured = mix_info["integrated_lufs"]
        hold_lufs = None if measured is None else round(float(measured) + gain_db, 2)
    master = _Master(mix_wav, gain_db)
    report: dict[str, Any] = {"profile": profile, "codec": args.audio_codec, "ceiling_dbtp": ceiling_dbtp,
                              "gain_db": gain_db, "target_lufs": target_lufs, "held_lufs": hold_lufs,
                              "meter": "ffmpeg ebur128 peak=true"}
    source: Path = mix_wav
    filters = _volume(gain_db)
    ceiling: float | None = None
    if input_peak is None and gain_db > 0:  # no record of the mix's peak: measure it
        input_peak = master.true_peak()
    # The profile's gain may lift the master over the ceiling (a louder profile than the film): limit first.
    if input_peak is not None and input_peak > ceiling_dbtp:
        ceiling = ceiling_dbtp
        source = scratch / "master_0.wav"
        input_peak = master.limited(profile, hold_lufs, ceiling, source)
        filters = []
    if not args.lossy_audio:
        report |= {"relimited": ceiling is not None, "limiter_ceiling_dbtp": ceiling,
                   "input_true_peak_dbtp": input_peak}
        return AudioPlan(["-i", source], [*filters, *args.audio], report)
    assert args.audio_codec is not None
    suffix = LOSSY_AUDIO_SUFFIX[args.audio_codec]
    attempts: list[Attempt] = []
    for k in range(1, MAX_ENCODES + 1):
        encoded = scratch / f"audio_{k}.{suffix}"
        ffmpeg(["-i", source, *filters, "-map", "0:a:0", *args.audio, *AUDIO_BITEXACT, "-map_metadata", "-1",
                encoded])
        try:
            m = measure_ebur128(encoded)
        except SoundError as exc:
            raise NodeError(f"profile {profile}: cannot measure its encoded audio: {exc}") from None
        attempts.append(Attempt(ceiling, input_peak, m.true_peak_dbtp, m.integrated_lufs))
        if m.true_peak_dbtp <= ceiling_dbtp:
            break
        if k == MAX_ENCODES:
            tried = ", ".join(f"{a.true_peak_dbtp:+.1f}" for a in attempts)
            raise NodeError(f"profile {profile}: {args.audio_codec} audio still measures {m.true_peak_dbtp:+.1f} dBTP "
                            f"over the {ceiling_dbtp:+.1f} dBTP ceiling after {k} encodes (measured {tried} dBTP; "
                            f"last limiter ceiling {ceiling:+.2f} dBTP)")
        if input_peak is None:
            input_peak = master.true_peak()
        # The encoder added (measured - input) dB over its input: aim the input that much under the ceiling.
        ceiling = round(input_peak - (m.true_peak_dbtp - ceiling_dbtp) - RELIMIT_STEP_DB, 2)
        source = scratch / f"master_{k}.wav"
        input_peak = master.limited(profile, hold_lufs, ceiling, source)
        filters = []
    final = attempts[-1]
    if (ceiling is not None and hold_lufs is not None and final.integrated_lufs > SILENT_LUFS
            and abs(final.integrated_lufs - hold_lufs) > LOUDNESS_TOLERANCE_LU):
        raise NodeError(f"profile {profile}: re-limited to {ceiling:+.2f} dBTP, its encoded audio measures "
                        f"{final.integrated_lufs:.1f} LUFS, more than {LOUDNESS_TOLERANCE_LU} LU from the "
                        f"{hold_lufs:.1f} LUFS it was mastered to")
    report |= {"relimited": ceiling is not None, "limiter_ceiling_dbtp": ceiling, "encodes": len(attempts),
               "true_peak_dbtp": final.true_peak_dbtp, "integrated_lufs": final.integrated_lufs,
               "attempts": [asdict(a) for a in attempts]}
    return AudioPlan(["-i", encoded], ["-c:a", "copy"], report)


def write_report(workdir: Path, report: dict[str, Any]) -> None:
    write_text(workdir / REPORT_NAME, json.dumps(report, indent=1, sort_keys=True))


def read_report(directory: Path) -> dict[str, Any] | None:
    """An encode node's true-peak report, None when it has none (no audio, or an older encode)."""
    try:
        return json.loads((directory / REPORT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
