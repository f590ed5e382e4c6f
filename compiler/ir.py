"""The checked intermediate representation: what every later pass reads.

Immutable pydantic models, JSON-serialisable (`filmc check --emit ir`). Names
are resolved (to their qualified key, e.g. `std.wide` or `rae`), units are
normalised (durations in frames plus exact rational seconds), and every shot
records the continuity state in effect so later passes never recompute it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .source import Span


class Node(BaseModel):
    model_config = ConfigDict(frozen=True)


class Duration(Node):
    frames: int
    seconds: str
    """Exact seconds as a rational `num/den` (frames / fps)."""

    @classmethod
    def of(cls, frames: int, fps: Fraction) -> Duration:
        s = Fraction(frames) / fps
        return cls(frames=frames, seconds=f"{s.numerator}/{s.denominator}")

    @property
    def as_fraction(self) -> Fraction:
        return Fraction(self.seconds)

    @property
    def as_float(self) -> float:
        return float(Fraction(self.seconds))


class Header(Node):
    title: str
    width: int
    height: int
    fps: str
    """Exact frame rate, `24` or `24000/1001`."""
    working_space: str = "ACEScg"
    output_space: str = "rec709"
    loudness_lufs: float = -14.0
    exports: list[str] = Field(default_factory=list)
    start_frame: int = 0
    start_timecode: str = "01:00:00:00"
    audio_layout: Literal["stereo", "5.1"] = "stereo"
    style: str | None = None
    seed: int = 0
    span: Span

    @property
    def fps_fraction(self) -> Fraction:
        return Fraction(self.fps)


class Definition(Node):
    """A named thing from a definition: style, voice, character, shot type...

    `props` holds normalised values keyed by property name, with inherited
    (`extends`) values merged in; `spans` records where each was written.
    """

    kind: str
    name: str
    """Qualified key: `std.noir` for the standard library, `rae` for user code."""
    title: str | None = None
    extends: str | None = None
    props: dict[str, Any] = Field(default_factory=dict)
    std: bool = False
    span: Span

    def get(self, key: str, default: Any = None) -> Any:
        return self.props.get(key, default)


class CharacterState(Node):
    states: list[str] = Field(default_factory=list)
    wardrobe: str | None = None
    holding: list[str] = Field(default_factory=list)


class Continuity(Node):
    """Who is present and how everyone looks at one instant of the film."""

    location: str
    time_of_day: str
    present: list[str] = Field(default_factory=list)
    characters: dict[str, CharacterState] = Field(default_factory=dict)
    props: dict[str, str] = Field(default_factory=dict)
    """Held props -> holder."""


class Line(Node):
    speaker: str
    text: str
    mode: Literal["on", "off_screen", "voice_over"] = "on"
    parentheticals: list[str] = Field(default_factory=list)
    words: int
    estimated_seconds: float
    span: Span


class Cue(Node):
    sfx: str
    at: Duration
    level_db: float | None = None
    span: Span


class Event(Node):
    subject: str
    verb: str
    args: list[str] = Field(default_factory=list)
    before_shot: int | None = None
    """For scene-level events: 0-based index in the scene of the shot they precede."""
    span: Span


class Transition(Node):
    name: str
    effect: Literal["cut", "dissolve", "fade_in", "fade_out", "dip", "wipe", "match_cut"]
    direction: str | None = None
    colour: str | None = None
    duration: Duration
    span: Span


class Media(Node):
    path: str
    source_in: Duration
    source_out: Duration | None = None
    colour: str | None = None
    """The clip's declared colour space (a schema.MEDIA_COLOUR_SPACES name); None: read the file's tags."""
    span: Span


class Camera(Node):
    move: str
    speed: str | None = None


class Shot(Node):
    id: str
    """Stable id: the shot's own name, else `s<scene>_<shot>` e.g. `s01_003`."""
    name: str | None = None
    scene: str
    index: int
    """Position in the whole film, 0-based."""
    number: int
    """Position in its scene, 1-based."""
    type: str
    duration: Duration
    subjects: list[str] = Field(default_factory=list)
    subject_spans: list[Span] = Field(default_factory=list)
    camera: Camera | None = None
    lens_mm: float | None = None
    angle: str | None = None
    action: str | None = None
    lines: list[Line] = Field(default_factory=list)
    cues: list[Cue] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    media: Media | None = None
    seed: int
    notes: list[str] = Field(default_factory=list)
    style: str | None = None
    grade: dict[str, Any] | None = None
    reference: bool = False
    transition_in: Transition | None = None
    transition_out: Transition | None = None
    start: Continuity
    """State when the shot begins."""
    end: Continuity
    """State after the shot's events."""
    span: Span


class Bed(Node):
    kind: Literal["ambience", "music"]
    name: str
    level_db: float
    span: Span


class Member(Node):
    name: str
    states: list[str] = Field(default_factory=list)
    not_states: list[str] = Field(default_factory=list)
    wardrobe: str | None = None
    span: Span


class Scene(Node):
    name: str
    title: str | None = None
    index: int
    """1-based."""
    act: str | None = None
    location: str
    time_of_day: str
    continuous: bool = False
    cast: list[Member] = Field(default_factory=list)
    style: str | None = None
    target: Duration | None = None
    beds: list[Bed] = Field(default_factory=list)
    grade: dict[str, Any] | None = None
    seed: int
    notes: list[str] = Field(default_factory=list)
    shots: list[Shot] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    """Events between shots, in order."""
    span: Span

    @property
    def running_frames(self) -> int:
        """Screen time: shot lengths minus the overlap of transitions into its shots."""
        total = sum(s.duration.frames for s in self.shots)
        overlap = sum(s.transition_in.duration.frames for s in self.shots
                      if s.transition_in and s.transition_in.effect in OVERLAPPING)
        return total - overlap


class Act(Node):
    number: str
    title: str | None = None
    span: Span


class Film(Node):
    """The whole checked film: the root of the IR."""

    schema_: str = Field(default="FilmIR.1", alias="schema")
    source: str
    files: list[str]
    header: Header
    definitions: dict[str, dict[str, Definition]]
    """kind -> qualified name -> definition."""
    acts: list[Act] = Field(default_factory=list)
    scenes: list[Scene] = Field(default_factory=list)

    def definition(self, kind: str, name: str) -> Definition:
        return self.definitions[kind][name]

    def shots(self) -> list[Shot]:
        return [shot for scene in self.scenes for shot in scene.shots]

    def to_json(self) -> str:
        return self.model_dump_json(indent=1, by_alias=True)


OVERLAPPING = {"dissolve", "wipe", "dip"}
"""Transitions during which both shots are on screen: they shorten the film."""
