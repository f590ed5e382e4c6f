"""The mixer: tracks on four buses, panned into stereo or 5.1, beds ducked under dialogue.

Buses are dialogue, ambience, music and sfx; each becomes a stem, and the stems sum to the mix.
Panning uses a constant-power (-3 dB at centre) law. In 5.1 (channel order FL FR FC LFE BL BR)
dialogue goes to the centre channel, beds spread to the surrounds, and effects and music feed
the LFE through a 120 Hz low-pass.

Ducking lowers music and ambience while someone speaks. The spans come from the plan (when each
line is placed), not from detecting speech in the signal, so the result is exact and repeatable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal

from .beds import file_bed, render_bed
from .delivery import Delivery, place_line
from .dsp import SAMPLE_RATE, apply_fades, as_frames, db_to_gain, fade_curve, seconds_to_samples
from .errors import SoundError
from .loudness import DEFAULT_CEILING_DBTP, DEFAULT_TARGET_LUFS, normalise_loudness
from .tts import Speech
from .wav import write_stems

BUSES = ("dialogue", "ambience", "music", "sfx")
LAYOUTS: dict[str, tuple[str, ...]] = {"stereo": ("L", "R"), "5.1": ("FL", "FR", "FC", "LFE", "BL", "BR")}
FL, FR, FC, LFE, BL, BR = range(6)
LFE_CUTOFF_HZ = 120.0
LFE_SEND_DB = -10.0
SURROUND_DB = {"ambience": -3.0, "music": -6.0}
SURROUND_DELAY_S = 0.012


@dataclass(frozen=True, eq=False)
class Track:
    """One clip on a bus: mono ``(n,)`` or stereo ``(n, 2)`` samples at 48 kHz placed at ``start_s``.

    ``pan`` runs from -1 (left) to +1 (right). Fades are applied before panning; the linear shape
    is for crossfading two copies of the same signal, equal-power for unrelated ones.
    """

    bus: str
    samples: np.ndarray
    start_s: float = 0.0
    gain_db: float = 0.0
    pan: float = 0.0
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    fade_in_shape: str = "equal_power"
    fade_out_shape: str = "equal_power"

    @property
    def end_s(self) -> float:
        return self.start_s + self.samples.shape[0] / SAMPLE_RATE


@dataclass(frozen=True)
class Ducking:
    """How far and how fast ducked buses dip under dialogue (the dip starts ``attack_s`` early)."""

    depth_db: float = 12.0
    attack_s: float = 0.1
    release_s: float = 0.4
    buses: tuple[str, ...] = ("music", "ambience")


@dataclass(frozen=True, eq=False)
class MixResult:
    """The mix ``(n, channels)`` and one stem per bus, all float32 at 48 kHz."""

    mix: np.ndarray
    stems: dict[str, np.ndarray] = field(default_factory=dict)
    layout: str = "stereo"
    channels: tuple[str, ...] = LAYOUTS["stereo"]
    sample_rate: int = SAMPLE_RATE
    gain_db: float = 0.0
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None

    @property
    def duration_s(self) -> float:
        return self.mix.shape[0] / self.sample_rate


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power pan: (left, right) gains, each -3 dB (0.707) at centre."""
    if not -1.0 <= pan <= 1.0:
        raise SoundError(f"pan {pan} is outside -1 (left) .. +1 (right)")
    angle = (pan + 1.0) * np.pi / 4.0
    return float(np.cos(angle)), float(np.sin(angle))


def duck_gain(start: int, n: int, spans: np.ndarray, ducking: Ducking, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Linear gain for samples [start, start + n) of a ducked bus.

    Full depth inside every span, ramping linearly in dB over ``attack_s`` before a span and
    ``release_s`` after it; overlapping ramps take the deeper value.
    """
    depth = np.zeros(n, dtype=np.float32)
    if n == 0 or spans.size == 0 or ducking.depth_db == 0:
        return np.ones(n, dtype=np.float32)
    t0, t1 = start / sample_rate, (start + n) / sample_rate
    near = (spans[:, 0] - ducking.attack_s < t1) & (spans[:, 1] + ducking.release_s > t0)
    for span_start, span_end in spans[near]:
        a = span_start - ducking.attack_s
        b = span_end + ducking.release_s
        i0 = max(0, int(np.floor(a * sample_rate)) - start)
        i1 = min(n, int(np.ceil(b * sample_rate)) - start + 1)
        t = (start + np.arange(i0, i1, dtype=np.float64)) / sample_rate
        rise = np.clip((t - a) / ducking.attack_s, 0.0, 1.0) if ducking.attack_s > 0 else (t >= span_start) * 1.0
        fall = np.clip((b - t) / ducking.release_s, 0.0, 1.0) if ducking.release_s > 0 else (t <= span_end) * 1.0
        np.maximum(depth[i0:i1], np.minimum(rise, fall).astype(np.float32), out=depth[i0:i1])
    return np.power(np.float32(10.0), -ducking.depth_db * depth / np.float32(20.0)).astype(np.float32)


def _duck(block: np.ndarray, start: int, spans: np.ndarray, ducking: Ducking, sample_rate: int = SAMPLE_RATE) -> None:
    """``block *= duck_gain(start, len(block), ...)[:, None]``, made and applied only within the
    spans' reach: everywhere else that gain is exactly 1 (a bed is mostly not under dialogue)."""
    n = block.shape[0]
    if n == 0 or spans.size == 0 or ducking.depth_db == 0:
        return
    reach: list[list[int]] = []
    for span_start, span_end in spans:  # sorted by start, as duck_gain's callers give them
        i0 = max(0, int(np.floor((span_start - ducking.attack_s) * sample_rate)) - start)
        i1 = min(n, int(np.ceil((span_end + ducking.release_s) * sample_rate)) - start + 1)
        if i0 >= i1:
            continue
        if reach and i0 <= reach[-1][1]:
            reach[-1][1] = max(reach[-1][1], i1)
        else:
            reach.append([i0, i1])
    for i0, i1 in reach:
        block[i0:i1] *= duck_gain(start + i0, i1 - i0, spans, ducking, sample_rate)[:, None]


def _lfe(mono: np.ndarray) -> np.ndarray:
    sos = signal.butter(4, LFE_CUTOFF_HZ, btype="low", fs=SAMPLE_RATE, output="sos")
    return (signal.sosfilt(sos, mono) * db_to_gain(LFE_SEND_DB)).astype(np.float32)


def _delayed(x: np.ndarray, samples: int) -> np.ndarray:
    out = np.zeros_like(x)
    if samples < x.shape[0]:
        out[samples:] = x[: x.shape[0] - samples]
    return out


def _stereo_gains(channels: int, pan: float) -> tuple[np.float32, np.float32]:
    """(left, right) gains of a mono or stereo track in the stereo layout, as float32."""
    if channels == 1:
        left, right = pan_gains(pan)
    else:
        centre = pan_gains(0.0)[0]
        left, right = (min(1.0, g / centre) for g in pan_gains(pan))
    return np.float32(left), np.float32(right)


def _route_stereo(frames: np.ndarray, pan: float, gain: float = 1.0) -> np.ndarray:
    """``route(frames, bus, pan, "stereo") * float32(gain)``, value for value, without the passes
    that multiply by one (a centred stereo bed is only scaled by its gain)."""
    left, right = _stereo_gains(frames.shape[1], pan)
    scale = np.float32(gain)
    out = np.empty((frames.shape[0], 2), dtype=np.float32)
    if frames.shape[1] == 2 and left == right == 1:
        np.multiply(frames, scale, out=out)
        return out
    for channel, g in enumerate((left, right)):
        np.multiply(frames[:, channel if frames.shape[1] == 2 else 0], g, out=out[:, channel])
    if scale != 1:
        out *= scale
    return out


def route(samples: np.ndarray, bus: str, pan: float, layout: str) -> np.ndarray:
    """Place one track's samples into the layout's channels: returns ``(n, channels)``."""
    frames = as_frames(np.asarray(samples, dtype=np.float32))
    if frames.shape[1] > 2:
        raise SoundError(f"{bus} track has {frames.shape[1]} channels; tracks are mono or stereo")
    if layout == "stereo":
        return _route_stereo(frames, pan)
    if layout != "5.1":
        raise SoundError(f"unknown layout {layout!r}; use 'stereo' or '5.1'")
    n = frames.shape[0]
    mono = frames[:, 0] if frames.shape[1] == 1 else frames.mean(axis=1)
    out = np.zeros((n, 6), dtype=np.float32)
    if bus == "dialogue":
        # Pairwise constant power across FL-FC-FR: centre-panned lines sit only in FC.
        p = float(np.clip(pan, -1.0, 1.0))
        first, second = (FL, FC) if p <= 0 else (FC, FR)
        angle = (p + 1.0 if p <= 0 else p) * np.pi / 2.0
        out[:, first], out[:, second] = mono * np.cos(angle), mono * np.sin(angle)
        return out
    out[:, [FL, FR]] = _route_stereo(frames, pan)
    if bus in SURROUND_DB:
        g = db_to_gain(SURROUND_DB[bus])
        d = seconds_to_samples(SURROUND_DELAY_S)
        # Swapped and delayed so the surrounds widen the bed instead of doubling the fronts.
        out[:, BL] = _delayed(out[:, FR], d) * g
        out[:, BR] = _delayed(out[:, FL], d) * g
    if bus in ("sfx", "music"):
        out[:, LFE] = _lfe(mono)
    return out


def _placed_stereo(track: Track, lo: int, hi: int, gain: np.float32) -> np.ndarray:
    """``route(apply_fades(samples), ..., "stereo")[lo:hi] * gain`` without copying the track.

    Stereo routing works sample by sample, so only the faded stretches need fading first;
    they are routed again, faded, over the plain result."""
    frames = as_frames(np.asarray(track.samples, dtype=np.float32))
    if frames.shape[1] > 2:
        raise SoundError(f"{track.bus} track has {frames.shape[1]} channels; tracks are mono or stereo")
    block = _route_stereo(frames[lo:hi], track.pan, gain)
    n = frames.shape[0]
    n_in = min(n, seconds_to_samples(track.fade_in_s))
    n_out = min(n, seconds_to_samples(track.fade_out_s))
    stretches = [(0, n)] if n_in + n_out > n else [(0, n_in), (n - n_out, n)]
    for a, b in stretches:
        a, b = max(a, lo), min(b, hi)
        if a >= b:
            continue
        part = frames[a:b].copy()
        # As apply_fades: the fade-in first, then the fade-out, on the same samples.
        if a < n_in:
            part[: min(b, n_in) - a] *= fade_curve(n_in, track.fade_in_shape)[a : min(b, n_in), None]
        if b > n - n_out:
            start = max(a, n - n_out)
            curve = fade_curve(n_out, track.fade_out_shape)[::-1]
            part[start - a :] *= curve[start - (n - n_out) : b - (n - n_out), None]
        block[a - lo : b - lo] = _route_stereo(part, track.pan, gain)
    return block


def spans_from_tracks(tracks: Iterable[Track], bus: str = "dialogue") -> list[tuple[float, float]]:
    """The (start, end) of every track on a bus: the dialogue spans to duck under."""
    return [(t.start_s, t.end_s) for t in tracks if t.bus == bus]


def mix_tracks(
    tracks: Iterable[Track],
    duration_s: float,
    *,
    layout: str = "stereo",
    dialogue_spans: Sequence[tuple[float, float]] = (),
    ducking: Ducking | None = Ducking(),
    keep_stems: bool = True,
) -> MixResult:
    """Sum tracks into a programme of ``duration_s`` (tracks are cut to it).

    ``dialogue_spans`` are the times to duck music and ambience under; pass
    ``spans_from_tracks(tracks)`` to duck under every dialogue track. ``tracks`` may be a
    generator (see :func:`iter_bed_tracks`): each is read once, so a long programme need not
    hold every rendered bed in memory at the same time.
    """
    if layout not in LAYOUTS:
        raise SoundError(f"unknown layout {layout!r}; use 'stereo' or '5.1'")
    if duration_s <= 0:
        raise SoundError("programme duration must be positive")
    channels = len(LAYOUTS[layout])
    n = seconds_to_samples(duration_s)
    spans = np.array(sorted(dialogue_spans), dtype=np.float64).reshape(-1, 2)
    stems = {bus: np.zeros((n, channels), dtype=np.float32) for bus in BUSES} if keep_stems else {}
    mix = None if keep_stems else np.zeros((n, channels), dtype=np.float32)
    for track in tracks:
        if track.bus not in BUSES:
            raise SoundError(f"unknown bus {track.bus!r}; buses are {', '.join(BUSES)}")
        start = seconds_to_samples(track.start_s)
        length = track.samples.shape[0]
        lo, hi = max(0, -start), min(length, n - start)
        if hi <= lo:
            continue
        gain = np.float32(db_to_gain(track.gain_db))
        if layout == "stereo":
            block = _placed_stereo(track, lo, hi, gain)
        else:
            x = track.samples
            if track.fade_in_s or track.fade_out_s:
                x = apply_fades(x, track.fade_in_s, track.fade_out_s, fade_in_shape=track.fade_in_shape,
                                fade_out_shape=track.fade_out_shape)
            block = route(x, track.bus, track.pan, layout)[lo:hi]
            block *= gain
        if ducking is not None and track.bus in ducking.buses:
            _duck(block, start + lo, spans, ducking)
        target = stems[track.bus] if keep_stems else mix
        target[start + lo : start + hi] += block
    if keep_stems:
        # The stems' sum in bus order, as adding each to silence would make it (0 + x is x).
        mix = stems[BUSES[0]] + stems[BUSES[1]]
        for bus in BUSES[2:]:
            mix += stems[bus]
    return MixResult(mix=mix, stems=stems, layout=layout, channels=LAYOUTS[layout])


def master(result: MixResult, target_lufs: float = DEFAULT_TARGET_LUFS,
           ceiling_dbtp: float = DEFAULT_CEILING_DBTP, *, in_place: bool = False) -> MixResult:
    """Normalise the mix to ``target_lufs`` with true peaks at or under ``ceiling_dbtp``.

    Stems get the same static gain as the mix (not the limiter), so they still add up to the
    master apart from limited peaks and can be remixed at the delivered level. ``in_place``
    scales the given stems instead of copying them (an hour of 5.1 stems is gigabytes); the
    input result must not be used afterwards.
    """
    done = normalise_loudness(result.mix, target_lufs, ceiling_dbtp)
    g = np.float32(db_to_gain(done.gain_db))
    if in_place:
        stems = result.stems
        for stem in stems.values():
            np.multiply(stem, g, out=stem)
    else:
        stems = {bus: stem * g for bus, stem in result.stems.items()}
    return MixResult(mix=done.samples, stems=stems, layout=result.layout, channels=result.channels,
                     gain_db=done.gain_db, loudness_lufs=done.output_lufs, true_peak_dbtp=done.true_peak_dbtp)


def write_mix(directory: str | os.PathLike, result: MixResult) -> dict[str, Path]:
    """Write ``dialogue.wav``, ``ambience.wav``, ``music.wav``, ``sfx.wav`` and ``mix.wav``."""
    return write_stems(directory, result.stems, result.mix, result.sample_rate)


def dialogue_track(line: Speech | np.ndarray, start_s: float, delivery: Delivery | None = None, *,
                   pan: float = 0.0, gain_db: float = 0.0) -> Track:
    """A spoken line as a dialogue track: V.O. dry and centred, O.S. muffled and quieter."""
    samples = line.samples if isinstance(line, Speech) else np.asarray(line, dtype=np.float32)
    placed, pan = place_line(samples, delivery or Delivery(), pan)
    return Track("dialogue", placed, start_s=start_s, gain_db=gain_db, pan=pan)


@dataclass(frozen=True)
class BedCue:
    """A bed for one scene: a built-in generator (``name``) or a user file (``path``)."""

    bus: str
    start_s: float
    end_s: float
    gain_db: float = 0.0
    name: str | None = None
    path: str | None = None
    seed: int = 0

    def source(self) -> tuple:
        return (self.name, self.path, self.seed)


def bed_tracks(cues: Sequence[BedCue], crossfade_s: float = 2.0, edge_fade_s: float = 1.0) -> list[Track]:
    """Tracks for scene beds: the list form of :func:`iter_bed_tracks`."""
    return list(iter_bed_tracks(cues, crossfade_s, edge_fade_s))


def iter_bed_tracks(
    cues: Sequence[BedCue], crossfade_s: float = 2.0, edge_fade_s: float = 1.0
) -> Iterator[Track]:
    """Tracks for scene beds, crossfading across scene boundaries where beds on a bus meet.

    Where two cues on a bus touch, each extends by half the crossfade past the boundary. A bed
    that continues into the next scene is rendered in phase with itself (its loop position
    follows programme time), so the crossfade is linear and only the level changes; different
    beds crossfade with equal power. Free edges fade in and out over ``edge_fade_s``.
    """
    for cue in cues:
        if cue.end_s <= cue.start_s:
            raise SoundError(f"bed cue on {cue.bus} ends ({cue.end_s}s) before it starts ({cue.start_s}s)")
        if (cue.name is None) == (cue.path is None):
            raise SoundError("a bed cue needs exactly one of a generator name or a file path")
        if cue.bus not in BUSES:
            raise SoundError(f"unknown bus {cue.bus!r}; buses are {', '.join(BUSES)}")
    for bus in BUSES:
        on_bus = sorted((c for c in cues if c.bus == bus), key=lambda c: c.start_s)
        for i, cue in enumerate(on_bus):
            prev = on_bus[i - 1] if i > 0 and abs(on_bus[i - 1].end_s - cue.start_s) < 1e-3 else None
            nxt = on_bus[i + 1] if i + 1 < len(on_bus) and abs(on_bus[i + 1].start_s - cue.end_s) < 1e-3 else None
            start = cue.start_s - crossfade_s / 2 if prev else cue.start_s
            end = cue.end_s + crossfade_s / 2 if nxt else cue.end_s
            fade_in = crossfade_s if prev else min(edge_fade_s, (end - start) / 2)
            fade_out = crossfade_s if nxt else min(edge_fade_s, (end - start) / 2)
            if cue.name is not None:
                samples = render_bed(cue.name, end - start, cue.seed, offset_s=start)
            else:
                samples = file_bed(cue.path, end - start, offset_s=start)
            yield Track(
                bus, samples, start_s=start, gain_db=cue.gain_db, fade_in_s=fade_in, fade_out_s=fade_out,
                fade_in_shape="linear" if prev and prev.source() == cue.source() else "equal_power",
                fade_out_shape="linear" if nxt and nxt.source() == cue.source() else "equal_power",
            )
