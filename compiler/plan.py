"""Lowering the IR to a render plan: a content-addressed DAG of render jobs.

A node's params hold everything its backend needs and nothing else (no spans,
comments or notes), so its id changes exactly when its output would: editing
one shot's action re-renders that shot's compose/animate/grade chain and the
products made from every shot (assembly, encodes, contact sheet, QC), while
plates and portraits stay shared and cached. The op contract (params, inputs,
outputs) is documented in /work/notes/plan_ops.md.

Paths in params are portable: relative to the .film file's folder, or `std:`
for the standard library, each with the file's sha256 (`resolve_path` turns
one back into a real path). Record time (where each shot and line falls in the
film) is computed here too, because the mix needs it; `timeline.py` reuses it.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import ir
from .modules import stdlib_dir
from .prompts import (
    DEFAULT_IMAGE_FAMILY,
    DEFAULT_VIDEO_FAMILY,
    Prompter,
    PromptSet,
)
from .render_plan import Op, PlanNode, RenderPlan, Resources, node_id
from .scenes import stable_seed
from .schema import PROFILE
from .source import Span

DEFAULT_BACKEND = "preview"
DEFAULT_BACKEND_VERSION = "1"
GPU_BACKENDS = frozenset({"diffusers", "gpu"})
"""Backends whose generative ops (plate, portrait, compose, animate) run on a GPU."""
GENERATIVE_OPS = frozenset({"plate", "portrait", "compose", "animate"})
DEFAULT_PROFILE = "std.web_mp4"
SAMPLE_RATE = 48000
DIALOGUE_LEVEL_DB = -20.0
"""Loudness of dialogue in the pre-normalisation mix; bed and sfx levels are relative to the same scale."""
DEFAULT_SFX_LEVEL_DB = -18.0
SPEECH_REFERENCE_LUFS = -20.0
TRUE_PEAK_DBTP = -1.0
LOSSY_TRUE_PEAK_MARGIN_DB = 1.0
"""Lossy encoders (AAC, Opus) overshoot the peaks of the master they are given (measured 0.2-0.6 dB
with AAC's fast coder), so a film delivered lossy is mastered this much lower: a first guess that
usually spares the encode a re-limit pass. The guarantee is the encode's: it measures each lossy
stream with ebur128 and re-limits until it reads <= TRUE_PEAK_DBTP (runtime/preview/encode_audio.py)."""
LOSSY_AUDIO = {"aac", "opus"}
SEQUENCE_CONTAINERS = frozenset({"exr", "dpx"})
"""Image sequences: a folder of frames, the mix beside them as WAV."""
PROFILE_AUDIO_SETTINGS = frozenset({"audio", "audio_bitrate", "audio_rate", "loudness"})
"""Profile properties only the audio of an encode depends on."""
AUDIO_STREAM_SUFFIX = {"aac": "m4a", "opus": "mka", "pcm": "wav"}
"""encode_audio's file per codec: one that keeps the encoder's priming delay (AAC in MP4's edit list,
Opus's pre-skip in Matroska) or every sample's exact time (PCM), for the mux's stream copy."""
PICTURE_SCAN = "picture_scan.json"
"""Black and frozen stretches of an encode's picture, found while it is encoded; the final encode
carries it to QC."""
LOUDNESS_TOLERANCE_LU = 0.5
LEAD_IN_SECONDS = Fraction(1, 4)
"""Silence before a shot's first line."""
LINE_GAP_SECONDS = Fraction(1, 5)
"""Silence between consecutive lines."""
DEFAULT_LENS_MM = 35.0
CONTACT_COLUMNS = 6
CONTACT_THUMB_WIDTH = 320
OVERLAPPING = ir.OVERLAPPING
STD_PREFIX = "std:"


# --- paths -------------------------------------------------------------------------


def film_dir(film: ir.Film) -> Path:
    return Path(film.source).resolve().parent


def portable_path(path: str | Path, base: Path) -> str:
    """`std:luts/x.cube` for stdlib files, else the path relative to `base` (the film's folder)."""
    p = Path(path).resolve()
    std = stdlib_dir().resolve()
    if p.is_relative_to(std):
        return STD_PREFIX + p.relative_to(std).as_posix()
    return Path(os.path.relpath(p, base)).as_posix()


def resolve_path(path: str, film_path: str | Path) -> Path:
    """The real file a plan param names; `film_path` is the .film file (`RunContext.film`)."""
    if path.startswith(STD_PREFIX):
        return stdlib_dir() / path.removeprefix(STD_PREFIX)
    return (Path(film_path).resolve().parent / path).resolve()


_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """Content hash of a file, remembered per (path, size, mtime) for this process."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        with open(path, "rb") as f:
            _HASHES[key] = hashlib.file_digest(f, "sha256").hexdigest()
    return _HASHES[key]


def _file_ref(path: str | None, base: Path) -> dict[str, str] | None:
    if not path:
        return None
    return {"path": portable_path(path, base), "sha256": file_sha256(path)}


_SPAN_FILES: dict[tuple[str, Path], str] = {}


def portable_span(span: Span, base: Path) -> Span:
    """The span with its file relative to the film's folder (std spans unchanged)."""
    if span.file.startswith("<"):
        return span
    key = (span.file, base)
    if key not in _SPAN_FILES:
        _SPAN_FILES[key] = Path(os.path.relpath(Path(span.file).resolve(), base)).as_posix()
    return span.model_copy(update={"file": _SPAN_FILES[key]})


# --- record time -------------------------------------------------------------------


@dataclass(frozen=True)
class ShotSlot:
    """Where a shot falls in the film. Its media holds all `frames`; transitions overlap them."""

    shot: ir.Shot
    start: int
    """Record frame (from 0) of the shot's first frame."""
    head: int
    """Frames at its start under the incoming transition's first half (OTIO in_offset)."""
    tail: int
    """Frames at its end under the outgoing transition's second half (OTIO out_offset)."""

    @property
    def frames(self) -> int:
        return self.shot.duration.frames

    @property
    def end(self) -> int:
        return self.start + self.frames


@dataclass(frozen=True)
class LineSlot:
    """A dialogue line at its nominal record position (from estimated lengths)."""

    line_id: str
    """`<shot id>.<n>`, n 1-based within the shot."""
    shot_id: str
    line: ir.Line
    at_frame: int
    frames: int
    """Estimated length in frames."""


@dataclass(frozen=True)
class Layout:
    shots: list[ShotSlot]
    lines: list[LineSlot]
    scenes: dict[str, tuple[int, int]]
    """Scene name -> (first record frame, end frame)."""
    total_frames: int
    gap_frames: int


def overlap_of(t: ir.Transition | None) -> int:
    return t.duration.frames if t is not None and t.effect in OVERLAPPING else 0


def layout(film: ir.Film) -> Layout:
    fps = film.header.fps_fraction
    shots = film.shots()
    slots: list[ShotSlot] = []
    start = 0
    for i, shot in enumerate(shots):
        d_in = overlap_of(shot.transition_in) if i > 0 else 0
        d_out = overlap_of(shots[i + 1].transition_in) if i + 1 < len(shots) else 0
        if i > 0:
            start = slots[-1].end - d_in
        slots.append(ShotSlot(shot, start, d_in // 2, d_out - d_out // 2))
    total = slots[-1].end if slots else 0
    lead = round(LEAD_IN_SECONDS * fps)
    gap = round(LINE_GAP_SECONDS * fps)
    lines: list[LineSlot] = []
    for slot in slots:
        at = slot.start + lead
        for n, line in enumerate(slot.shot.lines, start=1):
            frames = max(1, math.ceil(Fraction(str(line.estimated_seconds)) * fps))
            lines.append(LineSlot(f"{slot.shot.id}.{n}", slot.shot.id, line, at, frames))
            at += frames + gap
    scenes: dict[str, tuple[int, int]] = {}
    for slot in slots:
        first, _ = scenes.get(slot.shot.scene, (slot.start, slot.end))
        scenes[slot.shot.scene] = (first, slot.end)
    return Layout(slots, lines, scenes, total, gap)


def place_dialogue(at_frames: list[int], lengths: list[int], gap: int) -> list[int]:
    """Final dialogue positions: each line at its nominal frame, pushed later when the
    previous line (at its real length) has not finished plus `gap`. The mix, the
    subtitles and the timeline all place lines with this rule."""
    placed: list[int] = []
    previous_end: int | None = None
    for at, length in zip(at_frames, lengths, strict=True):
        pos = at if previous_end is None else max(at, previous_end + gap)
        placed.append(pos)
        previous_end = pos + length
    return placed


# --- the plan ----------------------------------------------------------------------


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _short(name: str | None) -> str | None:
    return name.removeprefix("std.") if name else name


def slug(title: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_").lower()
    return text or "film"


class PlanError(ValueError):
    """The plan cannot be built as asked (unknown profile, bad scale): a user error."""


@dataclass
class _Builder:
    backend: str
    backend_version: str
    nodes: dict[str, PlanNode] = field(default_factory=dict)

    def add(self, op: Op, params: dict[str, Any], inputs: list[str], outputs: list[str], label: str,
            spans: list[Span], memory_mb: int) -> str:
        nid = node_id(op, params, inputs, self.backend_version)
        existing = self.nodes.get(nid)
        if existing is not None:
            merged = existing.spans + [s for s in spans if s not in existing.spans]
            self.nodes[nid] = existing.model_copy(update={"spans": merged})
            return nid
        if self.backend == "preview" and op in PREVIEW_OUTPUTS:
            outputs = PREVIEW_OUTPUTS[op]
        device = "gpu" if self.backend in GPU_BACKENDS and op in GENERATIVE_OPS else "cpu"
        if device == "gpu":
            memory_mb = max(memory_mb, GPU_MEMORY_MB.get(op, 0))
        self.nodes[nid] = PlanNode(id=nid, op=op, params=params, inputs=inputs, outputs=outputs,
                                   resources=Resources(device=device, memory_mb=int(memory_mb)), spans=spans,
                                   label=label)
        return nid


GPU_MEMORY_MB = {"plate": 16000, "portrait": 16000, "compose": 16000, "animate": 40000}
"""Host memory a GPU node may hold while loading its pipeline (weights pass through RAM)."""

PREVIEW_OUTPUTS: dict[str, list[str]] = {
    "compose": ["background.png", "subjects.png", "burnin.png"],
    "animate": ["motion.json"],
    "assemble": ["edit.json", "filtergraph.txt", "filtergraph_yuv420p.txt"],
}
"""The preview backend draws layers once and moves them inside one ffmpeg filtergraph per profile,
so these ops output layers, expressions and the filtergraph instead of pictures."""

PREVIEW_GRADE_OUTPUTS: dict[str, list[str]] = {
    "animate": ["grade.json", "grade.cube", "background.png", "subjects.png"],
    "conform": ["grade.json", "grade.cube", "clip.mov"],
}
"""A preview grade node grades its shot's still layers (or its conformed clip) once, so assembly
runs no colour filters; grade.cube is the chain's small cube for thumbnails."""


def _mb(n_bytes: float) -> int:
    return int(math.ceil(n_bytes / 1_000_000))


class PlanLowering:
    """One film -> one RenderPlan. Use `build_plan` / `plan_with_prompts`."""

    def __init__(self, film: ir.Film, backend: str, backend_version: str, scale: float, profiles: list[str] | None,
                 image_family: str, video_family: str) -> None:
        if not (0 < scale <= 4):
            raise PlanError(f"scale {scale:g} is outside (0, 4]")
        self.film = film
        self.h = film.header
        self.base = film_dir(film)
        self.fps = self.h.fps
        self.resolution = [_even(self.h.width * scale), _even(self.h.height * scale)]
        self.scale = scale
        self.profiles = self._profiles(profiles)
        self.prompter = Prompter(film, image_family, video_family)
        self.b = _Builder(backend, backend_version)
        self.layout = layout(film)

    def _def(self, kind: str, name: str | None) -> ir.Definition | None:
        return self.film.definitions.get(kind, {}).get(name) if name else None

    def _span(self, span: Span | None) -> list[Span]:
        return [portable_span(span, self.base)] if span is not None else []

    def _mix_ceiling(self) -> float:
        """The mix's true-peak ceiling: the delivery target, less a margin when any export is lossy."""
        lossy = any(self.film.definitions["profile"][p].get("audio", "aac") in LOSSY_AUDIO for p in self.profiles)
        return TRUE_PEAK_DBTP - (LOSSY_TRUE_PEAK_MARGIN_DB if lossy else 0.0)

    def _profiles(self, names: list[str] | None) -> list[str]:
        wanted = names if names else (self.h.exports or [DEFAULT_PROFILE])
        known = self.film.definitions.get("profile", {})
        out = []
        for name in wanted:
            key = name if name in known else f"std.{name}" if f"std.{name}" in known else None
            if key is None:
                raise PlanError(f"unknown export profile `{name}`; known: "
                                + ", ".join(sorted(_short(k) or k for k in known)))
            if key not in out:
                out.append(key)
        return out

    # --- picture ---------------------------------------------------------------

    def plate(self, location: str, time: str, style: str | None) -> str:
        loc = self._def("location", location)
        tod = self._def("time_of_day", time)
        sty = self._def("style", style)
        variant = (loc.get("when", {}) if loc else {}).get(time, {})
        image = variant.get("plate") or (loc.get("plate") if loc else None)
        prompts = self.prompter.plate(location, time, style, loc.span if loc else None)
        w, h = self.resolution
        params = {
            "location": location,
            "location_look": variant.get("look") or (loc.get("look", "") if loc else ""),
            "image": _file_ref(image, self.base),
            "image_colour": (loc.get("colour") if loc else None) or "sRGB",
            "time_of_day": time,
            "time_prompt": tod.get("prompt", "") if tod else "",
            "palette": list(tod.get("palette", [])) if tod else [],
            "brightness": float(tod.get("brightness", 0.5)) if tod else 0.5,
            "style": style,
            "style_palette": list(sty.get("palette", [])) if sty else [],
            "prompts": prompts,
            "resolution": self.resolution,
            "seed": stable_seed(self.h.seed, f"plate:{location}:{time}:{style}"),
        }
        label = f"plate {_short(location)}@{_short(time)}" + (f"/{_short(style)}" if style else "")
        return self.b.add("plate", params, [], ["plate.png"], label,
                          self._span(loc.span if loc else None), 64 + _mb(w * h * 4 * 4 * 3))

    def portrait(self, character: str, state: ir.CharacterState) -> str:
        d = self._def("character", character)
        pure = ir.CharacterState(states=sorted(state.states), wardrobe=state.wardrobe)
        prompts = self.prompter.portrait(character, pure, d.span if d else None)
        size = [_even(self.h.height * self.scale / 2), _even(self.h.height * self.scale)]
        params = {
            "character": character,
            "title": (d.title if d and d.title else _short(character)),
            "look": d.get("look", "") if d else "",
            "wardrobe": state.wardrobe,
            "states": sorted(state.states),
            "prompts": prompts,
            "resolution": size,
            "seed": stable_seed(self.h.seed, f"portrait:{character}"),
        }
        label = f"portrait {_short(character)}" + (f": {state.wardrobe}" if state.wardrobe else "") + (
            f" ({', '.join(pure.states)})" if pure.states else "")
        return self.b.add("portrait", params, [], ["portrait.png"], label, self._span(d.span if d else None),
                          64 + _mb(size[0] * size[1] * 4 * 4 * 3))

    def compose(self, slot: ShotSlot, scene: ir.Scene) -> str:
        shot = slot.shot
        location = shot.end.location or scene.location
        time = shot.end.time_of_day or scene.time_of_day
        plate = self.plate(location, time, shot.style)
        inputs = [plate]
        subjects = []
        for name in shot.subjects:
            state = shot.end.characters.get(name, ir.CharacterState())
            pid = self.portrait(name, state)
            if pid not in inputs:
                inputs.append(pid)
            holding = []
            for prop in state.holding:
                pd = self._def("prop", prop)
                holding.append({"prop": prop, "look": (pd.get("look") if pd else None) or _short(prop)})
            subjects.append({"name": name, "input": inputs.index(pid), "holding": holding})
        type_def = self._def("shot_type", shot.type)
        abbrev = (type_def.get("abbrev") if type_def else None) or (_short(shot.type) or "").upper()
        prompts = self.prompter.shot(shot, scene)
        w, h = self.resolution
        params = {
            "shot": shot.id,
            "shot_type": shot.type,
            "abbrev": abbrev,
            "framing": float(type_def.get("framing", 1.0)) if type_def else 1.0,
            "subjects": subjects,
            "angle": shot.angle,
            "lens_mm": self._lens(shot),
            "burn_in": self._burn_in(shot, abbrev),
            "prompts": {"image": prompts.image, "negative": prompts.negative},
            "resolution": self.resolution,
            "seed": shot.seed,
        }
        return self.b.add("compose", params, inputs, ["keyframe.png"], shot.id, self._span(shot.span),
                          128 + _mb(w * h * 4 * 4 * (2 + len(subjects))))

    def _lens(self, shot: ir.Shot) -> float:
        if shot.lens_mm is not None:
            return float(shot.lens_mm)
        style = self._def("style", shot.style)
        return float(style.get("lens", DEFAULT_LENS_MM)) if style else DEFAULT_LENS_MM

    def _burn_in(self, shot: ir.Shot, abbrev: str) -> list[str]:
        head = f"{shot.id}  {abbrev}"
        if shot.subjects:
            head += "  " + ", ".join(_short(s) or s for s in shot.subjects)
        return [head] + ([shot.action] if shot.action else [])

    def camera(self, shot: ir.Shot) -> dict[str, Any]:
        move = shot.camera.move if shot.camera else "std.static"
        speed = shot.camera.speed if shot.camera else None
        md = self._def("camera_move", move)
        sd = self._def("camera_speed", speed)
        motion = md.get("motion", "static") if md else "static"
        factor = float(sd.get("factor", 1.0)) if sd else 1.0
        amount = float(md.get("amount", 0.0)) if md else 0.0
        # A zoom's amount is a factor: the speed scales its distance from 1 (no zoom).
        effective = 1.0 + (amount - 1.0) * factor if motion == "zoom" else amount * factor
        return {"move": move, "motion": motion, "amount": round(effective, 6), "speed": speed, "factor": factor}

    def animate(self, slot: ShotSlot, scene: ir.Scene, compose: str) -> str:
        shot = slot.shot
        prompts = self.prompter.shot(shot, scene)
        w, h = self.resolution
        params = {
            "shot": shot.id,
            "camera": self.camera(shot),
            "frames": shot.duration.frames,
            "fps": self.fps,
            "prompts": prompts.as_dict(),
            "resolution": self.resolution,
            "seed": shot.seed,
        }
        return self.b.add("animate", params, [compose], ["clip.mov"], shot.id, self._span(shot.span),
                          256 + _mb(w * h * 3 * 8))

    def conform(self, slot: ShotSlot) -> str:
        shot = slot.shot
        media = shot.media
        assert media is not None
        fps = self.h.fps_fraction
        frames = shot.duration.frames
        out = Fraction(media.source_in.frames + frames) / fps
        params = {
            "shot": shot.id,
            "path": portable_path(media.path, self.base),
            "sha256": file_sha256(media.path),
            "size": os.stat(media.path).st_size,
            "in_frame": media.source_in.frames,
            "frames": frames,
            "in_seconds": media.source_in.seconds,
            "out_seconds": f"{out.numerator}/{out.denominator}",
            "fps": self.fps,
            "resolution": self.resolution,
            "colour": media.colour,
            "output_space": self.h.output_space,
        }
        w, h = self.resolution
        return self.b.add("conform", params, [], ["clip.mov", "conform.json"], shot.id, self._span(media.span),
                          256 + _mb(w * h * 3 * 8))

    def grade_params(self, shot: ir.Shot) -> dict[str, Any]:
        graded = shot.grade
        if graded is None:
            style = self._def("style", shot.style)
            graded = style.get("grade") if style else None
        out: dict[str, Any] = {"name": None, "lut": None, "strength": 0.0, "exposure": 0.0, "contrast": 1.0,
                               "pivot": 0.18, "saturation": 1.0, "temperature": 0.0, "tint": 0.0}
        if not graded:
            return out
        d = self._def("grade", graded["grade"])
        props = d.props if d else {}
        lut = props.get("lut")
        out.update({
            "name": graded["grade"],
            "lut": _file_ref(lut["path"], self.base) if lut else None,
            "strength": round(float(graded.get("strength", 1.0)) * float(props.get("strength", 100.0)) / 100, 6),
        })
        for key in ("exposure", "contrast", "pivot", "saturation", "temperature", "tint"):
            if key in props:
                out[key] = float(props[key])
        return out

    def grade(self, slot: ShotSlot, clip: str, reference: tuple[str, str] | None = None) -> str:
        """`reference` = (reference shot id, its compose or conform node): the shot is matched to it by
        colour statistics before the creative grade (the reference's own grade has none)."""
        shot = slot.shot
        params = {
            "shot": shot.id,
            "grade": self.grade_params(shot),
            "working_space": self.h.working_space,
            "output_space": self.h.output_space,
            "resolution": self.resolution,
            "fps": self.fps,
            "frames": shot.duration.frames,
        }
        inputs = [clip]
        if reference is not None:
            params["match"] = {"reference": reference[0], "input": 1}
            inputs.append(reference[1])
        w, h = self.resolution
        outputs = ["clip.mov"]
        if self.b.backend == "preview":
            outputs = PREVIEW_GRADE_OUTPUTS[self.b.nodes[clip].op]
        return self.b.add("grade", params, inputs, outputs, shot.id, self._span(shot.span),
                          256 + _mb(w * h * 4 * 4 * 4))

    def match_source(self, slot: ShotSlot, scene: ir.Scene) -> str:
        """The node whose pictures stand for a shot's colour: its compose (keyframe layers) or conform."""
        return self.conform(slot) if slot.shot.media is not None else self.compose(slot, scene)

    def references(self) -> dict[str, ShotSlot]:
        """Each scene's reference shot: the one marked `reference`, else its first shot."""
        refs: dict[str, ShotSlot] = {}
        for slot in self.layout.shots:
            scene = slot.shot.scene
            if scene not in refs or (slot.shot.reference and not refs[scene].shot.reference):
                refs[scene] = slot
        return refs

    # --- sound -----------------------------------------------------------------

    def voice(self, speaker: str) -> dict[str, Any]:
        cd = self._def("character", speaker)
        name = cd.get("voice") if cd else None
        vd = self._def("voice", name)
        props = vd.props if vd else {}
        return {
            "name": name,
            "engine": props.get("engine", "espeak"),
            "language": props.get("language", "en-us"),
            "variant": props.get("variant"),
            "pitch": props.get("pitch"),
            "rate_wpm": props.get("rate"),
            "amplitude": props.get("amplitude"),
        }

    def speech(self, slot: LineSlot) -> str:
        line = slot.line
        params = {
            "text": line.text,
            "speaker": line.speaker,
            "voice": self.voice(line.speaker),
            "delivery": list(line.parentheticals),
            "mode": line.mode,
            "reference_lufs": SPEECH_REFERENCE_LUFS,
            "sample_rate": SAMPLE_RATE,
        }
        return self.b.add("speech", params, [], ["speech.wav"], f"{slot.line_id} {_short(line.speaker)}",
                          self._span(line.span), 128)

    def bed(self, scene: ir.Scene, bed: ir.Bed, frames: int) -> str:
        d = self._def(bed.kind, bed.name)
        props = d.props if d else {}
        params = {
            "kind": bed.kind,
            "name": bed.name,
            "synth": props.get("synth"),
            "file": _file_ref(props.get("file"), self.base),
            "description": props.get("description"),
            "frames": frames,
            "fps": self.fps,
            "sample_rate": SAMPLE_RATE,
            "seed": stable_seed(scene.seed, f"{bed.kind}:{bed.name}"),
        }
        seconds = frames / float(self.h.fps_fraction)
        return self.b.add("bed", params, [], ["bed.wav"], f"{bed.kind} {_short(bed.name)} ({scene.name})",
                          self._span(bed.span), 64 + _mb(seconds * SAMPLE_RATE * 2 * 4 * 4))

    def sfx(self, cue: ir.Cue) -> str:
        d = self._def("sfx", cue.sfx)
        props = d.props if d else {}
        params = {
            "name": cue.sfx,
            "synth": props.get("synth"),
            "file": _file_ref(props.get("file"), self.base),
            "description": props.get("description"),
            "sample_rate": SAMPLE_RATE,
        }
        return self.b.add("sfx", params, [], ["sfx.wav"], f"sfx {_short(cue.sfx)}", self._span(cue.span), 64)

    def sound(self) -> tuple[str, str]:
        """speech, bed and sfx nodes, then mix and subtitles; returns (mix id, subtitles id)."""
        inputs: list[str] = []
        entries: list[dict[str, Any]] = []

        def use(nid: str) -> int:
            if nid not in inputs:
                inputs.append(nid)
            return inputs.index(nid)

        for scene in self.film.scenes:
            if scene.name not in self.layout.scenes:
                continue
            first, end = self.layout.scenes[scene.name]
            for bed in scene.beds:
                nid = self.bed(scene, bed, end - first)
                entries.append({"stem": bed.kind, "input": use(nid), "at_frame": first, "level_db": bed.level_db,
                                "frames": end - first})
        cues: list[dict[str, Any]] = []
        cue_inputs: list[str] = []
        for ls in self.layout.lines:
            nid = self.speech(ls)
            entries.append({"stem": "dialogue", "input": use(nid), "at_frame": ls.at_frame,
                            "level_db": DIALOGUE_LEVEL_DB, "frames": None})
            if nid not in cue_inputs:
                cue_inputs.append(nid)
            cues.append({"input": cue_inputs.index(nid), "text": ls.line.text, "speaker": ls.line.speaker,
                         "at_frame": ls.at_frame, "frames": ls.frames})
        for slot in self.layout.shots:
            for cue in slot.shot.cues:
                d = self._def("sfx", cue.sfx)
                level = cue.level_db if cue.level_db is not None else (d.get("level") if d else None)
                entries.append({"stem": "sfx", "input": use(self.sfx(cue)), "at_frame": slot.start + cue.at.frames,
                                "level_db": float(level) if level is not None else DEFAULT_SFX_LEVEL_DB,
                                "frames": None})
        total = self.layout.total_frames
        seconds = total / float(self.h.fps_fraction)
        mix_params = {
            "entries": entries,
            "gap_frames": self.layout.gap_frames,
            "frames": total,
            "fps": self.fps,
            "loudness_lufs": self.h.loudness_lufs,
            "true_peak_dbtp": self._mix_ceiling(),
            "layout": self.h.audio_layout,
            "sample_rate": SAMPLE_RATE,
        }
        mix = self.b.add("mix", mix_params, inputs,
                         ["mix.wav", "stems/dialogue.wav", "stems/ambience.wav", "stems/music.wav", "stems/sfx.wav",
                          "loudness.json"], "mix", self._span(self.h.span),
                         256 + _mb(seconds * SAMPLE_RATE * 2 * 4 * 8))
        sub_params = {"cues": cues, "gap_frames": self.layout.gap_frames, "fps": self.fps,
                      "start_timecode": self.h.start_timecode}
        subtitles = self.b.add("subtitles", sub_params, cue_inputs, ["subtitles.srt", "subtitles.vtt"], "subtitles",
                               self._span(self.h.span), 64)
        return mix, subtitles

    # --- finishing ---------------------------------------------------------------

    def assemble(self, graded: list[str]) -> str:
        clips, transitions = [], []
        slots = self.layout.shots
        for i, slot in enumerate(slots):
            shot = slot.shot
            t_in, t_out = shot.transition_in, shot.transition_out
            fade_in = t_in.duration.frames if t_in and t_in.effect == "fade_in" else 0
            fade_out = t_out.duration.frames if t_out and t_out.effect == "fade_out" else 0
            colour = (t_in.colour if fade_in and t_in else None) or (t_out.colour if fade_out and t_out else None)
            clips.append({"input": i, "shot": shot.id, "frames": shot.duration.frames, "fade_in": fade_in,
                          "fade_out": fade_out, "fade_colour": colour or "#000000",
                          "match_cut": bool(t_in and t_in.effect == "match_cut")})
            if i > 0 and t_in is not None and t_in.effect in OVERLAPPING:
                d = t_in.duration.frames
                transitions.append({"after": i - 1, "name": t_in.name, "effect": t_in.effect,
                                    "direction": t_in.direction, "colour": t_in.colour, "frames": d,
                                    "in_offset": d // 2, "out_offset": d - d // 2})
        params = {
            "clips": clips,
            "transitions": transitions,
            "frames": self.layout.total_frames,
            "fps": self.fps,
            "resolution": self.resolution,
            "start_timecode": self.h.start_timecode,
        }
        w, h = self.resolution
        return self.b.add("assemble", params, list(graded), ["picture.mov"], "assemble", self._span(self.h.span),
                          512 + _mb(w * h * 4 * 4 * 4))

    def encode(self, profile: str, picture: str, mix: str, subtitles: str) -> str:
        d = self._def("profile", profile)
        props = d.props if d else {}
        settings = {key: props.get(key) for key in PROFILE}
        settings["loudness"] = props.get("loudness", self.h.loudness_lufs)
        subs = settings.get("subtitles") or "none"
        container = settings.get("container") or "mp4"
        ext = settings.get("extension") or container
        name = slug(self.h.title)
        sequence = container in SEQUENCE_CONTAINERS
        outputs = [f"{name}/", PICTURE_SCAN] if sequence else [f"{name}.{ext}", "audio_true_peak.json", PICTURE_SCAN]
        if subs == "sidecar":
            outputs += [f"{name}.srt", f"{name}.vtt"]
        params = {
            "profile": profile,
            "settings": settings,
            "title": self.h.title,
            "frames": self.layout.total_frames,
            "fps": self.fps,
            "resolution": self.resolution,
            "start_timecode": self.h.start_timecode,
            "output_space": self.h.output_space,
            "audio_layout": self.h.audio_layout,
            "true_peak_dbtp": TRUE_PEAK_DBTP,
        }
        w, h = self.resolution
        video_inputs = [picture, subtitles] if subs == "burn" else [picture]
        # The video stream's id leaves out the sound settings: a new audio bitrate or loudness
        # target re-runs the final encode, not the video encode.
        video_params = {k: v for k, v in params.items() if k not in ("audio_layout", "true_peak_dbtp")} | {
            "settings": {k: v for k, v in settings.items() if k not in PROFILE_AUDIO_SETTINGS}}
        video = self.b.add("encode_video", video_params, video_inputs,
                           [f"{name}/" if sequence else f"video.{ext}", PICTURE_SCAN],
                           f"video {_short(profile)}", self._span(self.h.span), 512 + _mb(w * h * 3 * 16))
        codec = settings.get("audio") or "aac"
        sound = mix
        if not sequence and codec != "none":
            sound = self.encode_audio(profile, params, settings, codec, mix)
        inputs = [video, sound, subtitles] if subs == "sidecar" else [video, sound]
        return self.b.add("encode", params, inputs, outputs, f"encode {_short(profile)}", self._span(self.h.span),
                          512)

    def encode_audio(self, profile: str, params: dict[str, Any], settings: dict[str, Any], codec: str,
                     mix: str) -> str:
        """The profile's audio stream on its own (encoded, measured, re-limited), so it runs beside the
        video encode and the final encode only muxes. Its id holds only what shapes the sound."""
        audio_params = {k: params[k] for k in ("profile", "frames", "fps", "audio_layout", "true_peak_dbtp")} | {
            "settings": {k: settings.get(k) for k in sorted(PROFILE_AUDIO_SETTINGS)}}
        # Re-limiting lossy audio holds the gain-applied programme as float32 plus the limiter's
        # envelopes: ~48 bytes per stereo sample frame, measured.
        channels = 6 if self.h.audio_layout == "5.1" else 2
        audio_frames = float(self.layout.total_frames / Fraction(self.fps)) * SAMPLE_RATE
        return self.b.add("encode_audio", audio_params, [mix],
                          [f"audio.{AUDIO_STREAM_SUFFIX.get(codec, 'mka')}", "audio_true_peak.json"],
                          f"audio {_short(profile)}", self._span(self.h.span), 512 + _mb(audio_frames * 24 * channels))

    def contact_sheet(self, graded: list[str]) -> str:
        shots = []
        for i, slot in enumerate(self.layout.shots):
            td = self._def("shot_type", slot.shot.type)
            shots.append({"input": i, "shot": slot.shot.id, "abbrev": td.get("abbrev", "") if td else "",
                          "scene": slot.shot.scene, "frames": slot.frames})
        params = {"shots": shots, "columns": CONTACT_COLUMNS,
                  "thumb_width": min(CONTACT_THUMB_WIDTH, self.resolution[0])}
        return self.b.add("contact_sheet", params, list(graded), ["contact_sheet.png"], "contact sheet",
                          self._span(self.h.span), 256 + _mb(len(shots) * CONTACT_THUMB_WIDTH * 180 * 4))

    def qc(self, encodes: dict[str, str], mix: str, graded: list[str], picture: str,
           footage: dict[str, str]) -> str:
        """QC reads the encodes, the mix, each shot's grade (bake accuracy, match ΔE), each footage
        shot's conform (its colour conversion and that bake's accuracy) and the assembly's edit
        (which black or still frames are intended)."""
        profiles = []
        inputs = []
        for profile, nid in encodes.items():
            props = self._def("profile", profile).props
            inputs.append(nid)
            profiles.append({"input": len(inputs) - 1, "profile": profile, "container": props.get("container"),
                             "video": props.get("video"), "colour": props.get("colour"),
                             "loudness_lufs": props.get("loudness", self.h.loudness_lufs)})
        inputs.append(mix)
        grades = []
        for slot, nid in zip(self.layout.shots, graded, strict=True):
            if nid not in inputs:
                inputs.append(nid)
            grades.append({"input": inputs.index(nid), "shot": slot.shot.id, "scene": slot.shot.scene})
        params = {
            "expect": {"frames": self.layout.total_frames, "fps": self.fps, "resolution": self.resolution,
                       "loudness_lufs": self.h.loudness_lufs, "loudness_tolerance_lu": LOUDNESS_TOLERANCE_LU,
                       "true_peak_dbtp": TRUE_PEAK_DBTP},
            "profiles": profiles,
            "mix_input": inputs.index(mix),
            "grades": grades,
        }
        conforms = []
        for shot_id, nid in footage.items():
            if nid not in inputs:
                inputs.append(nid)
            conforms.append({"input": inputs.index(nid), "shot": shot_id})
        params["conforms"] = conforms
        inputs.append(picture)
        return self.b.add("qc", params, inputs, ["qc.json"], "qc", self._span(self.h.span), 512)

    # --- whole film --------------------------------------------------------------

    def run(self) -> RenderPlan:
        scenes = {s.name: s for s in self.film.scenes}
        graded: list[str] = []
        footage: dict[str, str] = {}
        references = self.references()
        for slot in self.layout.shots:
            scene = scenes[slot.shot.scene]
            if slot.shot.media is not None:
                clip = footage[slot.shot.id] = self.conform(slot)
            else:
                clip = self.animate(slot, scene, self.compose(slot, scene))
            ref = references[slot.shot.scene]
            reference = None if ref is slot else (ref.shot.id, self.match_source(ref, scene))
            graded.append(self.grade(slot, clip, reference))
        mix, subtitles = self.sound()
        picture = self.assemble(graded)
        encodes = {p: self.encode(p, picture, mix, subtitles) for p in self.profiles}
        sheet = self.contact_sheet(graded)
        qc = self.qc(encodes, mix, graded, picture, footage)
        outputs = {"picture": picture, "mix": mix, "subtitles": subtitles, "contact_sheet": sheet, "qc": qc}
        for profile, nid in encodes.items():
            outputs[_short(profile) or profile] = nid
        return RenderPlan(backend=self.b.backend, backend_version=self.b.backend_version,
                          film=str(self.base / Path(self.film.source).name), nodes=list(self.b.nodes.values()),
                          outputs=outputs)


def plan_with_prompts(
    film: ir.Film,
    backend: str = DEFAULT_BACKEND,
    backend_version: str = DEFAULT_BACKEND_VERSION,
    scale: float = 1.0,
    profiles: list[str] | None = None,
    image_family: str = DEFAULT_IMAGE_FAMILY,
    video_family: str = DEFAULT_VIDEO_FAMILY,
) -> tuple[RenderPlan, PromptSet]:
    """The plan and every prompt in it, with the prompts' lint diagnostics."""
    lowering = PlanLowering(film, backend, backend_version, scale, profiles, image_family, video_family)
    plan = lowering.run()
    return plan, lowering.prompter.result


def build_plan(
    film: ir.Film,
    backend: str = DEFAULT_BACKEND,
    backend_version: str = DEFAULT_BACKEND_VERSION,
    scale: float = 1.0,
    profiles: list[str] | None = None,
) -> RenderPlan:
    """The render plan of a checked film (see /work/notes/plan_ops.md for the ops)."""
    return plan_with_prompts(film, backend, backend_version, scale, profiles)[0]
