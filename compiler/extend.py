"""Dialogue that overflows its shot once its real length is known, and lengthening shots to fit.

The static check (W0510) estimates speech from word counts; the build knows the real length of
every rendered line. `dialogue_overflows` places the lines with the same rule the mix and the
timeline use (`place_dialogue`) and reports every line that ends after its shot's last frame;
`fit_shots` finds the shot lengths that make every line fit, and `extend_shots` applies them as a
pure IR transform (only shot durations change, so speech nodes keep their ids and stay cached).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from . import ir
from .plan import LineSlot, layout, place_dialogue

MAX_FIT_ROUNDS = 64
"""Lengthening one shot moves the shots after it; a few rounds settle any real film."""


@dataclass(frozen=True)
class Overflow:
    """A line that does not end inside its shot."""

    line: LineSlot
    at_frame: int
    """Record frame the line starts at (after `place_dialogue`)."""
    frames: int
    """The line's real length in frames."""
    shot_start: int
    shot_frames: int

    @property
    def over_frames(self) -> int:
        """Frames past the shot's last frame."""
        return self.at_frame + self.frames - (self.shot_start + self.shot_frames)

    @property
    def needed_frames(self) -> int:
        """The shot length that would hold the line."""
        return self.shot_frames + self.over_frames


def dialogue_overflows(film: ir.Film, lengths: list[int]) -> list[Overflow]:
    """Lines (in film order) whose real end falls after their shot's end; `lengths` are the real
    lengths in frames of `layout(film).lines`, in that order."""
    lay = layout(film)
    if len(lengths) != len(lay.lines):
        raise ValueError(f"{len(lengths)} line lengths for {len(lay.lines)} dialogue lines")
    placed = place_dialogue([ls.at_frame for ls in lay.lines], lengths, lay.gap_frames)
    slots = {slot.shot.id: slot for slot in lay.shots}
    found = []
    for ls, at, n in zip(lay.lines, placed, lengths, strict=True):
        slot = slots[ls.shot_id]
        if at + n > slot.end:
            found.append(Overflow(ls, at, n, slot.start, slot.frames))
    return found


def extend_shots(film: ir.Film, frames: dict[str, int]) -> ir.Film:
    """A copy of `film` whose shots named in `frames` last that many frames (never shorter than now)."""
    unknown = set(frames) - {shot.id for shot in film.shots()}
    if unknown:
        raise ValueError(f"no such shot(s): {', '.join(sorted(unknown))}")
    fps = Fraction(film.header.fps)
    scenes = []
    for scene in film.scenes:
        shots = []
        for shot in scene.shots:
            new = frames.get(shot.id)
            if new is not None and new > shot.duration.frames:
                shot = shot.model_copy(update={"duration": ir.Duration.of(new, fps)})
            shots.append(shot)
        scenes.append(scene.model_copy(update={"shots": shots}))
    return film.model_copy(update={"scenes": scenes})


def fit_shots(film: ir.Film, lengths: list[int]) -> dict[str, int]:
    """New lengths (frames) of the shots that must grow so every line ends inside its shot; empty
    when everything fits. Lines are re-placed after each round, since a longer shot moves later ones."""
    grown: dict[str, int] = {}
    current = film
    for _ in range(MAX_FIT_ROUNDS):
        overflows = dialogue_overflows(current, lengths)
        if not overflows:
            return grown
        for o in overflows:
            shot = o.line.shot_id
            grown[shot] = max(grown.get(shot, 0), o.needed_frames)
        current = extend_shots(film, grown)
    raise ValueError("dialogue placement did not settle while lengthening shots")
