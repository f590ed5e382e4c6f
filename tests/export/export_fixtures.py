"""Build filmc timelines that follow the timeline contract, without the compiler (export tests).

The exporters are tested against these so they do not depend on the lowering pass:
shots with dissolve / wipe / dip transitions, fades, match cuts, scene and shot markers,
four audio tracks, and a mix of MissingReference and ExternalReference media.
"""

from __future__ import annotations

from dataclasses import dataclass

import opentimelineio as otio

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange

FPS_24 = 24.0
FPS_23976 = 24000 / 1001

# (kind, direction, frames) between shot i and shot i+1, cycled over the film.
# With four shots per scene, index 3 and 7 fall on scene boundaries.
TRANSITION_CYCLE: list[tuple[str, str | None, int]] = [
    ("dissolve", None, 24),
    ("cut", None, 0),
    ("wipe", "left", 12),
    ("cut", None, 0),
    ("dip_to_black", None, 13),
    ("match_cut", None, 0),
    ("dip_to_white", None, 12),
    ("wipe", "up", 11),
]
SHOTS_PER_SCENE = 4
SPEAKERS = ("rae", "kai")
SHOT_TYPES = ("wide", "medium", "close_up", "over_the_shoulder")


@dataclass(frozen=True)
class ShotSpec:
    shot_id: str
    frames: int
    scene: str
    scene_index: int
    shot_index: int
    line: int


def _shot_specs(n: int) -> list[ShotSpec]:
    specs = []
    for i in range(n):
        scene_index = i // SHOTS_PER_SCENE + 1
        shot_index = i % SHOTS_PER_SCENE + 1
        # One named shot ("snap") exercises the contract's `shot name:` ids.
        shot_id = "snap" if i == 2 else f"s{scene_index:02d}_{shot_index:03d}"
        frames = 48 + (i * 7) % 41  # 48..88 frames, odd and even lengths
        specs.append(ShotSpec(shot_id, frames, f"scene_{scene_index}", scene_index, shot_index, 10 + 6 * i))
    return specs


def _media(spec: ShotSpec, rate: float, i: int, media_root: str) -> otio.core.MediaReference:
    if i % 2 == 0:
        return otio.schema.MissingReference()
    return otio.schema.ExternalReference(
        target_url=f"file://{media_root}/{spec.shot_id}.mov",
        available_range=TR(RT(0, rate), RT(spec.frames, rate)),
    )


def _add_render_handles(track: otio.schema.Track, rate: float) -> None:
    """Rendered shots carry the frames their transitions borrow: media starts before source 0."""
    items = list(track)
    for i, clip in enumerate(items):
        ref = getattr(clip, "media_reference", None)
        if not isinstance(ref, otio.schema.ExternalReference):
            continue
        before = items[i - 1] if i > 0 and isinstance(items[i - 1], otio.schema.Transition) else None
        after = items[i + 1] if i + 1 < len(items) and isinstance(items[i + 1], otio.schema.Transition) else None
        pre = int(before.in_offset.value) if before else 0
        post = int(after.out_offset.value) if after else 0
        length = int(clip.source_range.duration.value)
        ref.available_range = TR(RT(-pre, rate), RT(pre + length + post, rate))


def _transition(kind: str, direction: str | None, frames: int, rate: float) -> otio.schema.Transition:
    """As the contract has it: in_offset = d // 2, out_offset = d - d // 2."""
    effect = "dip" if kind.startswith("dip") else kind
    name = f"{kind}_{direction}" if direction else kind
    colour = "#ffffff" if kind == "dip_to_white" else "#000000"
    meta = {"effect": effect, "direction": direction, "colour": colour, "frames": frames}
    return otio.schema.Transition(
        name=name,
        transition_type="SMPTE_Dissolve" if kind == "dissolve" else "Custom_Transition",
        in_offset=RT(frames // 2, rate),
        out_offset=RT(frames - frames // 2, rate),
        metadata={"filmc": meta},
    )


def _clip_meta(spec: ShotSpec, film_file: str) -> dict:
    return {
        "shot_id": spec.shot_id,
        "scene": spec.scene,
        "scene_index": spec.scene_index,
        "shot_index": spec.shot_index,
        "act": 1,
        "span": f"{film_file}:{spec.line}:3",
        "source": {"file": film_file, "line": spec.line, "col": 3},
        "shot_type": SHOT_TYPES[spec.shot_index % len(SHOT_TYPES)],
        "camera": {"move": "static", "speed": "normal"},
        "lens_mm": 35,
        "angle": "eye_level",
        "action": f"Action of {spec.shot_id}.",
        "characters": {"rae": {"states": ["tired"], "wardrobe": "black denim jacket", "holding": []}},
        "subjects": ["rae"],
        "dialogue": [f"Line of {spec.shot_id}."],
        "prompts": {"image": "a parking lot at night", "motion": "static", "negative": "cartoon"},
        "seed": 1000 + spec.scene_index * 100 + spec.shot_index,
        "plan_node": f"node_{spec.shot_id}",
    }


def make_timeline(
    n_shots: int = 10,
    rate: float = FPS_24,
    start_tc: str = "01:00:00:00",
    title: str = "Blackout",
    film_file: str = "/films/blackout/blackout.film",
    media_root: str = "/films/blackout/render",
    audio: bool = True,
    markers: bool = True,
    render_handles: bool = True,
) -> otio.schema.Timeline:
    """A contract-shaped timeline: `n_shots` shots, transitions cycled from TRANSITION_CYCLE."""
    fps_text = "24000/1001" if abs(rate - FPS_23976) < 1e-9 else str(int(rate))
    tl = otio.schema.Timeline(name=title)
    tl.global_start_time = otio.opentime.from_timecode(start_tc, rate)
    tl.metadata["filmc"] = {
        "schema": "FilmTimeline.1",
        "title": title,
        "fps": fps_text,
        "resolution": [1920, 1080],
        "source": film_file,
    }
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(v1)
    specs = _shot_specs(n_shots)
    record = 0
    scene_seen: set[str] = set()
    shot_starts: list[int] = []
    for i, spec in enumerate(specs):
        meta = _clip_meta(spec, film_file)
        if i > 0:
            kind, direction, frames = TRANSITION_CYCLE[(i - 1) % len(TRANSITION_CYCLE)]
            if kind in ("dissolve", "wipe", "dip_to_black", "dip_to_white"):
                v1.append(_transition(kind, direction, frames, rate))
            elif kind == "match_cut":
                meta["match_cut"] = True
            elif spec.shot_index == 1:
                # A scene boundary on a plain cut: fade out, then fade in.
                v1[-1].metadata["filmc"]["fade_out"] = 12
                meta["fade_in"] = 12
        if i == 0:
            meta["fade_in"] = 24
        if i == n_shots - 1:
            meta["fade_out"] = 24
        clip = otio.schema.Clip(
            name=spec.shot_id,
            media_reference=_media(spec, rate, i, media_root),
            source_range=TR(RT(0, rate), RT(spec.frames, rate)),
            metadata={"filmc": meta},
        )
        v1.append(clip)
        shot_starts.append(record)
        if markers:
            if spec.scene not in scene_seen:
                scene_seen.add(spec.scene)
                v1.markers.append(
                    otio.schema.Marker(
                        name=f"scene: {spec.scene}",
                        marked_range=TR(RT(record, rate), RT(0, rate)),
                        color=otio.schema.MarkerColor.RED,
                    )
                )
            v1.markers.append(
                otio.schema.Marker(
                    name=spec.shot_id,
                    marked_range=TR(RT(record, rate), RT(0, rate)),
                    color=otio.schema.MarkerColor.GREEN,
                    metadata={"filmc": {"span": meta["span"]}},
                )
            )
        record += spec.frames
    if render_handles:
        _add_render_handles(v1, rate)
    if audio:
        _add_audio(tl, specs, shot_starts, rate, media_root)
    return tl


def _audio_clip(name: str, frames: int, rate: float, ref: otio.core.MediaReference, meta: dict) -> otio.schema.Clip:
    if isinstance(ref, otio.schema.ExternalReference):
        ref.available_range = TR(RT(0, rate), RT(frames, rate))
    return otio.schema.Clip(
        name=name,
        media_reference=ref,
        source_range=TR(RT(0, rate), RT(frames, rate)),
        metadata={"filmc": meta},
    )


def _place(track: otio.schema.Track, items: list[tuple[int, otio.schema.Clip]], rate: float) -> None:
    """Append clips at absolute record frames, with Gaps between them."""
    cursor = 0
    for at, clip in items:
        if at > cursor:
            track.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT(at - cursor, rate))))
            cursor = at
        track.append(clip)
        cursor += int(clip.source_range.duration.value)


def _add_audio(
    tl: otio.schema.Timeline, specs: list[ShotSpec], starts: list[int], rate: float, media_root: str
) -> None:
    audio = otio.schema.TrackKind.Audio
    names = ["A1 Dialogue", "A2 Ambience", "A3 Music", "A4 SFX"]
    tracks = [otio.schema.Track(name=n, kind=audio) for n in names]
    dialogue = []
    for i, (spec, start) in enumerate(zip(specs, starts, strict=True)):
        speaker = SPEAKERS[i % 2]
        ref = (
            otio.schema.ExternalReference(target_url=f"file://{media_root}/audio/{spec.shot_id}_dlg.wav")
            if i % 2
            else otio.schema.MissingReference()
        )
        meta = {"text": f"Line of {spec.shot_id}.", "speaker": speaker, "shot_id": spec.shot_id,
                "span": f"/films/blackout/blackout.film:{spec.line + 2}:5"}
        dialogue.append((start + 6, _audio_clip(speaker, spec.frames - 20, rate, ref, meta)))
    _place(tracks[0], dialogue, rate)
    scenes: dict[int, list[int]] = {}
    for spec, start in zip(specs, starts, strict=True):
        scenes.setdefault(spec.scene_index, []).append(start)
    total = starts[-1] + specs[-1].frames
    scene_bounds = sorted((v[0], k) for k, v in scenes.items())
    beds = []
    for j, (s0, k) in enumerate(scene_bounds):
        s1 = scene_bounds[j + 1][0] if j + 1 < len(scene_bounds) else total
        ref = otio.schema.ExternalReference(target_url=f"file://{media_root}/audio/amb_{k}.wav")
        beds.append((s0, _audio_clip(f"city_night {k}", s1 - s0, rate, ref, {"bed": "city_night"})))
    _place(tracks[1], beds, rate)
    music_ref = otio.schema.ExternalReference(target_url=f"file://{media_root}/audio/music.wav")
    _place(tracks[2], [(0, _audio_clip("tension", total, rate, music_ref, {"cue": "tension"}))], rate)
    sfx = [
        (start + 3, _audio_clip("glass_break", 10, rate, otio.schema.MissingReference(), {"cue": "glass_break"}))
        for start in starts[1::3]
    ]
    _place(tracks[3], sfx, rate)
    for t in tracks:
        tl.tracks.append(t)


def video_clips(tl: otio.schema.Timeline) -> list[otio.schema.Clip]:
    track = next(t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video)
    return [c for c in track if isinstance(c, otio.schema.Clip)]


def video_transitions(tl: otio.schema.Timeline) -> list[otio.schema.Transition]:
    track = next(t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video)
    return [c for c in track if isinstance(c, otio.schema.Transition)]
