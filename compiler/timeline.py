"""Lowering the IR to an OpenTimelineIO timeline (the contract in /work/notes/timeline_contract.md).

Dissolves, wipes and dips overlap the two shots they join: a shot's media holds
all its declared frames, and each clip's source range leaves out the handle
frames a transition borrows (in_offset = d//2 from the incoming shot's head,
out_offset = d - d//2 from the outgoing shot's tail). The track's duration is
therefore exactly the rendered film's frame count. Record positions (shots,
dialogue, beds, cues) come from `plan.layout`, the same numbers the mix uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import opentimelineio as otio

from . import ir
from .plan import (
    Layout,
    ShotSlot,
    film_dir,
    layout,
    place_dialogue,
    portable_path,
    portable_span,
)
from .prompts import Prompter
from .render_plan import RenderPlan
from .source import Span

SCHEMA = "FilmTimeline.1"
DEFAULT_SFX_SECONDS = 1
"""Nominal length of an sfx clip before its rendered length is known."""

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def _short(name: str | None) -> str | None:
    return name.removeprefix("std.") if name else name


def _span_text(span: Span) -> str:
    return f"{span.file}:{span.line}:{span.col}"


def _source(span: Span) -> dict[str, Any]:
    return {"file": span.file, "line": span.line, "col": span.col}


@dataclass
class _AudioItem:
    at: int
    frames: int
    clip: otio.schema.Clip


class TimelineLowering:
    def __init__(self, film: ir.Film, plan: RenderPlan | None, media: dict[str, Path] | None,
                 speech_durations: dict[str, int] | None, sfx_durations: dict[str, int] | None) -> None:
        self.film = film
        self.h = film.header
        self.rate = float(self.h.fps_fraction)
        self.base = film_dir(film)
        self.plan = plan
        self.media = {k: Path(v) for k, v in (media or {}).items()}
        self.speech_durations = dict(speech_durations or {})
        self.sfx_durations = dict(sfx_durations or {})
        self.layout: Layout = layout(film)
        self.scenes = {s.name: s for s in film.scenes}
        self.nodes = self._index_plan(plan)
        self.prompter = Prompter(film) if plan is None else None

    # --- plan lookups ------------------------------------------------------------

    @staticmethod
    def _index_plan(plan: RenderPlan | None) -> dict[tuple[str, str], Any]:
        """(op, key) -> node: per-shot nodes by shot id, speech by line text+speaker, bed/sfx by name."""
        index: dict[tuple[str, str], Any] = {}
        if plan is None:
            return index
        for node in plan.nodes:
            if node.op in ("compose", "animate", "grade", "conform"):
                index[(node.op, node.params["shot"])] = node
        return index

    def _mix(self):
        if self.plan is None:
            return None
        return next((n for n in self.plan.nodes if n.op == "mix"), None)

    # --- references --------------------------------------------------------------

    def _reference(self, keys: list[str | None], frames: int) -> otio.core.MediaReference:
        for key in keys:
            if key and key in self.media:
                path = self.media[key].resolve()
                return otio.schema.ExternalReference(target_url=path.as_uri(),
                                                     available_range=TR(RT(0, self.rate), RT(frames, self.rate)))
        return otio.schema.MissingReference()

    # --- picture -----------------------------------------------------------------

    def _shot_meta(self, slot: ShotSlot) -> dict[str, Any]:
        shot = slot.shot
        scene = self.scenes[shot.scene]
        span = portable_span(shot.span, self.base)
        present = sorted(set(shot.end.present) | set(shot.subjects))
        characters = {}
        for name in present:
            state = shot.end.characters.get(name, ir.CharacterState())
            characters[name] = {"states": list(state.states), "wardrobe": state.wardrobe,
                                "holding": list(state.holding)}
        grade = self.nodes.get(("grade", shot.id))
        animate = self.nodes.get(("animate", shot.id))
        if shot.media is not None:
            prompts: dict[str, str] = {}
        elif animate is not None:
            prompts = dict(animate.params["prompts"])
        else:
            assert self.prompter is not None
            prompts = self.prompter.shot(shot, scene).as_dict()
        meta: dict[str, Any] = {
            "shot_id": shot.id,
            "scene": scene.name,
            "scene_index": scene.index,
            "shot_index": shot.number,
            "act": scene.act,
            "span": _span_text(span),
            "source": _source(span),
            "shot_type": _short(shot.type),
            "camera": {"move": _short(shot.camera.move) if shot.camera else "static",
                       "speed": _short(shot.camera.speed) if shot.camera else None},
            "lens_mm": shot.lens_mm,
            "angle": _short(shot.angle),
            "action": shot.action,
            "characters": characters,
            "subjects": list(shot.subjects),
            "dialogue": [line.text for line in shot.lines],
            "prompts": prompts,
            "seed": shot.seed,
            "plan_node": grade.id if grade is not None else None,
            "frames": shot.duration.frames,
            "record_start": slot.start,
            "handles": {"head": slot.head, "tail": slot.tail},
        }
        t_in, t_out = shot.transition_in, shot.transition_out
        if t_in is not None and t_in.effect == "fade_in":
            meta["fade_in"] = t_in.duration.frames
        if t_out is not None and t_out.effect == "fade_out":
            meta["fade_out"] = t_out.duration.frames
        if t_in is not None and t_in.effect == "match_cut":
            meta["match_cut"] = True
        if shot.media is not None:
            meta["media"] = {"path": portable_path(shot.media.path, self.base),
                             "in_frame": shot.media.source_in.frames}
        return meta

    def _transition(self, t: ir.Transition) -> otio.schema.Transition:
        d = t.duration.frames
        name = f"{t.name}_{t.direction}" if t.effect == "wipe" and t.direction else t.name
        return otio.schema.Transition(
            name=name,
            transition_type=(otio.schema.TransitionTypes.SMPTE_Dissolve if t.effect == "dissolve"
                             else otio.schema.TransitionTypes.Custom),
            in_offset=RT(d // 2, self.rate),
            out_offset=RT(d - d // 2, self.rate),
            metadata={"filmc": {"effect": t.effect, "direction": t.direction, "colour": t.colour, "frames": d}},
        )

    def video(self) -> otio.schema.Track:
        track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
        seen_scenes: set[str] = set()
        for i, slot in enumerate(self.layout.shots):
            shot = slot.shot
            if i > 0 and shot.transition_in is not None and shot.transition_in.effect in ir.OVERLAPPING:
                track.append(self._transition(shot.transition_in))
            visible = slot.frames - slot.head - slot.tail
            grade = self.nodes.get(("grade", shot.id))
            clip = otio.schema.Clip(
                name=shot.id,
                media_reference=self._reference([shot.id, grade.id if grade else None], slot.frames),
                source_range=TR(RT(slot.head, self.rate), RT(visible, self.rate)),
                metadata={"filmc": self._shot_meta(slot)},
            )
            track.append(clip)
            span = portable_span(shot.span, self.base)
            if shot.scene not in seen_scenes:
                seen_scenes.add(shot.scene)
                scene = self.scenes[shot.scene]
                track.markers.append(otio.schema.Marker(
                    name=f"scene: {scene.name}", marked_range=TR(RT(slot.start, self.rate), RT(0, self.rate)),
                    color=otio.schema.MarkerColor.RED,
                    metadata={"filmc": {"scene": scene.name, "scene_index": scene.index, "title": scene.title,
                                        "span": _span_text(portable_span(scene.span, self.base))}}))
            track.markers.append(otio.schema.Marker(
                name=shot.id, marked_range=TR(RT(slot.start, self.rate), RT(0, self.rate)),
                color=otio.schema.MarkerColor.GREEN, metadata={"filmc": {"span": _span_text(span)}}))
        return track

    # --- sound -------------------------------------------------------------------

    def _place(self, name: str, items: list[_AudioItem]) -> otio.schema.Track:
        """Clips at absolute record frames with Gaps between; an overlap with the previous
        clip becomes a crossfade Transition taking handles from both, as on V1."""
        track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
        cursor = 0
        previous: _AudioItem | None = None
        for item in sorted(items, key=lambda it: it.at):
            if previous is not None and item.at < cursor:
                overlap = cursor - item.at
                head, tail = overlap // 2, overlap - overlap // 2
                prev_range = previous.clip.source_range
                if overlap >= item.frames or tail >= prev_range.duration.value:
                    continue  # wholly inside the previous clip: it stays in the mix, not on this track
                previous.clip.source_range = TR(prev_range.start_time,
                                                RT(prev_range.duration.value - tail, self.rate))
                track.append(otio.schema.Transition(
                    name="crossfade", transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=RT(head, self.rate), out_offset=RT(tail, self.rate),
                    metadata={"filmc": {"effect": "dissolve", "direction": None, "colour": None,
                                        "frames": overlap}}))
                item.clip.source_range = TR(RT(head, self.rate), RT(item.frames - head, self.rate))
            else:
                if item.at > cursor:
                    track.append(otio.schema.Gap(source_range=TR(RT(0, self.rate), RT(item.at - cursor, self.rate))))
                item.clip.source_range = TR(RT(0, self.rate), RT(item.frames, self.rate))
            track.append(item.clip)
            cursor = item.at + item.frames
            previous = item
        return track

    def _audio_clip(self, name: str, frames: int, keys: list[str | None], meta: dict[str, Any]) -> otio.schema.Clip:
        return otio.schema.Clip(name=name, media_reference=self._reference(keys, frames),
                                source_range=TR(RT(0, self.rate), RT(frames, self.rate)), metadata={"filmc": meta})

    def _speech_ids(self) -> list[str | None]:
        """The speech node id of each dialogue line, in film order (from the plan's mix)."""
        mix = self._mix()
        if mix is None:
            return [None] * len(self.layout.lines)
        entries = [e for e in mix.params["entries"] if e["stem"] == "dialogue"]
        return [mix.inputs[e["input"]] for e in entries]

    def dialogue(self) -> otio.schema.Track:
        lines = self.layout.lines
        node_ids = self._speech_ids()
        lengths = []
        for slot, nid in zip(lines, node_ids, strict=True):
            length = self.speech_durations.get(nid or "") or self.speech_durations.get(slot.line_id) or slot.frames
            lengths.append(int(length))
        placed = place_dialogue([s.at_frame for s in lines], lengths, self.layout.gap_frames)
        items = []
        for slot, nid, at, length in zip(lines, node_ids, placed, lengths, strict=True):
            span = portable_span(slot.line.span, self.base)
            meta = {"text": slot.line.text, "speaker": slot.line.speaker, "shot_id": slot.shot_id,
                    "line_id": slot.line_id, "mode": slot.line.mode, "span": _span_text(span), "plan_node": nid,
                    "estimated": slot.line_id not in self.speech_durations and (nid or "") not in self.speech_durations}
            clip = self._audio_clip(_short(slot.line.speaker) or slot.line.speaker, length,
                                    [slot.line_id, nid], meta)
            items.append(_AudioItem(at, length, clip))
        return self._place("A1 Dialogue", items)

    def beds(self, kind: str, name: str) -> otio.schema.Track:
        mix = self._mix()
        node_list = [mix.inputs[e["input"]] for e in mix.params["entries"] if e["stem"] == kind] if mix else []
        items = []
        used = 0
        for scene in self.film.scenes:
            if scene.name not in self.layout.scenes:
                continue
            first, end = self.layout.scenes[scene.name]
            beds = [b for b in scene.beds if b.kind == kind]
            nids = node_list[used:used + len(beds)] if node_list else [None] * len(beds)
            used += len(beds)
            if not beds:
                continue
            bed, nid = beds[0], nids[0]
            meta = {"name": bed.name, "kind": kind, "scene": scene.name, "level_db": bed.level_db,
                    "span": _span_text(portable_span(bed.span, self.base)), "plan_node": nid,
                    "also": [{"name": b.name, "level_db": b.level_db} for b in beds[1:]]}
            clip = self._audio_clip(_short(bed.name) or bed.name, end - first, [nid], meta)
            items.append(_AudioItem(first, end - first, clip))
        return self._place(name, items)

    def sfx(self) -> otio.schema.Track:
        mix = self._mix()
        sfx_ids = [mix.inputs[e["input"]] for e in mix.params["entries"] if e["stem"] == "sfx"] if mix else []
        cues = [(slot.start + cue.at.frames, slot, cue) for slot in self.layout.shots for cue in slot.shot.cues]
        items = []
        nominal = round(DEFAULT_SFX_SECONDS * self.rate)
        for k, (at, slot, cue) in enumerate(cues):
            nid = sfx_ids[k] if k < len(sfx_ids) else None
            frames = int(self.sfx_durations.get(nid or "", nominal))
            if k + 1 < len(cues) and cues[k + 1][0] > at:
                frames = min(frames, cues[k + 1][0] - at)
            meta = {"name": cue.sfx, "shot_id": slot.shot.id, "at": cue.at.frames, "level_db": cue.level_db,
                    "span": _span_text(portable_span(cue.span, self.base)), "plan_node": nid}
            items.append(_AudioItem(at, max(1, frames), self._audio_clip(_short(cue.sfx) or cue.sfx, max(1, frames),
                                                                          [nid], meta)))
        return self._place("A4 SFX", items)

    # --- whole film --------------------------------------------------------------

    def run(self) -> otio.schema.Timeline:
        h = self.h
        tl = otio.schema.Timeline(name=h.title, global_start_time=RT(h.start_frame, self.rate))
        tl.metadata["filmc"] = {
            "schema": SCHEMA,
            "title": h.title,
            "fps": h.fps,
            "resolution": [h.width, h.height],
            "source": Path(self.film.source).name,
            "start_timecode": h.start_timecode,
            "frames": self.layout.total_frames,
            "plan": ({"backend": self.plan.backend, "backend_version": self.plan.backend_version}
                     if self.plan is not None else None),
        }
        tl.tracks.append(self.video())
        tl.tracks.append(self.dialogue())
        tl.tracks.append(self.beds("ambience", "A2 Ambience"))
        tl.tracks.append(self.beds("music", "A3 Music"))
        tl.tracks.append(self.sfx())
        return tl


def build_timeline(
    film: ir.Film,
    plan: RenderPlan | None = None,
    media: dict[str, Path] | None = None,
    speech_durations: dict[str, int] | None = None,
    sfx_durations: dict[str, int] | None = None,
) -> otio.schema.Timeline:
    """The film as an OTIO timeline.

    `media` maps shot ids (or grade node ids) to rendered shot files, line ids
    (`s01_002.1`) or speech/bed/sfx node ids to rendered audio; anything not in it
    is a MissingReference. `speech_durations` gives real line lengths in frames,
    keyed by speech node id or line id (estimates are used until then);
    `sfx_durations` the same for sfx nodes (1 s until then).
    """
    return TimelineLowering(film, plan, media, speech_durations, sfx_durations).run()
