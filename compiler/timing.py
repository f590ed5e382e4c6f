"""Timing checks: dialogue that cannot fit its shot, sound cues past a shot's end,
transitions longer than the shots they join, and scene pacing against targets."""

from __future__ import annotations

from . import ir
from .diagnostics import Diagnostic, Label, Sink
from .units import format_seconds

PACING_TOLERANCE = 0.05


def check_timing(scenes: list[ir.Scene], sink: Sink) -> None:
    shots = [shot for scene in scenes for shot in scene.shots]
    for previous, shot in zip([None, *shots], shots, strict=False):
        _dialogue_fits(shot, sink)
        _cues_fit(shot, sink)
        _transition_fits(previous, shot, sink)
    for scene in scenes:
        _pacing(scene, sink)


def _dialogue_fits(shot: ir.Shot, sink: Sink) -> None:
    spoken = [line for line in shot.lines]
    if not spoken:
        return
    needed = sum(line.estimated_seconds for line in spoken)
    available = shot.duration.as_float
    if needed > available:
        first = spoken[0]
        sink.error("W0510", f"dialogue needs about {needed:.1f}s but shot `{shot.id}` lasts {available:.2f}s",
                   first.span, label=f"{sum(line.words for line in spoken)} words at the voice's rate",
                   hint=f"lengthen the shot to at least {needed:.1f}s, split the line across shots, "
                        "or raise the voice's `rate`")


def _cues_fit(shot: ir.Shot, sink: Sink) -> None:
    for cue in shot.cues:
        if cue.at.frames >= shot.duration.frames:
            sink.error("E0412", f"sfx at {format_seconds(cue.at.as_fraction)} is past the end of shot `{shot.id}` "
                       f"({format_seconds(shot.duration.as_fraction)})", cue.span, label="after the shot ends",
                       hint="cue offsets are measured from the start of the shot; move it into the next shot")


def _transition_fits(previous: ir.Shot | None, shot: ir.Shot, sink: Sink) -> None:
    checks = []
    if shot.transition_in and shot.transition_in.effect not in ("cut", "match_cut"):
        joined = [shot] + ([previous] if previous and shot.transition_in.effect != "fade_in" else [])
        checks.append((shot.transition_in, joined))
    if shot.transition_out:
        checks.append((shot.transition_out, [shot]))
    for transition, joined in checks:
        for other in joined:
            if transition.duration.frames > other.duration.frames:
                sink.add(Diagnostic(
                    "E0511", f"`{transition.name}` lasts {format_seconds(transition.duration.as_fraction)}, longer "
                    f"than shot `{other.id}` ({format_seconds(other.duration.as_fraction)})", transition.span,
                    label="too long", labels=(Label(other.span, "this shot"),),
                    hint="shorten the transition or lengthen the shot"))


def _pacing(scene: ir.Scene, sink: Sink) -> None:
    if scene.target is None or not scene.shots:
        return
    fps_frames = scene.running_frames
    target = scene.target.frames
    if target <= 0:
        return
    ratio = fps_frames / target
    if abs(ratio - 1) > PACING_TOLERANCE:
        seconds = fps_frames * scene.target.as_float / target
        diff = seconds - scene.target.as_float
        direction = "long" if diff > 0 else "short"
        sink.error("W0601", f"scene `{scene.name}` runs {seconds:.2f}s against a target of "
                   f"{scene.target.as_float:.2f}s ({abs(ratio - 1) * 100:.0f}% {direction})", scene.span,
                   label="pacing off target",
                   hint=(f"cut {diff:.2f}s from its shots" if diff > 0 else f"add {-diff:.2f}s to its shots")
                   + f", or set `target {seconds:.1f}s`")
