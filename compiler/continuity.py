"""Continuity pass: who is where, how they look and what they hold, shot by shot.

Walks the film in order carrying every character's states, wardrobe and
props across scenes, fills each shot's `start` / `end` continuity, and
reports what a script supervisor would flag: absent characters framed or
speaking, speakers out of frame, contradicted starting states, props in the
wrong hands, wardrobe changes in continuous time, no-op state changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ir
from .diagnostics import Diagnostic, Label, Sink
from .source import Span


@dataclass
class _World:
    characters: dict[str, ir.CharacterState] = field(default_factory=dict)
    props: dict[str, str] = field(default_factory=dict)
    prop_spans: dict[str, Span] = field(default_factory=dict)
    state_spans: dict[tuple[str, str], Span] = field(default_factory=dict)
    """(character, state) -> where it was last set or shed."""
    seen: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)
    location: str = ""
    time: str = ""

    def snapshot(self) -> ir.Continuity:
        return ir.Continuity.model_construct(
            location=self.location, time_of_day=self.time, present=sorted(self.present),
            characters=dict(self.characters), props=dict(self.props),
        )

    def update(self, name: str, **changes) -> None:
        self.characters[name] = self.characters[name].model_copy(update=changes)


def _display(defs: dict, name: str) -> str:
    return name.removeprefix("std.")


def annotate(film_scenes: list[ir.Scene], defs: dict, sink: Sink) -> list[ir.Scene]:
    world = _World()
    for name, d in defs["character"].items():
        world.characters[name] = ir.CharacterState(wardrobe=d.get("wears"))
    out = []
    for scene in film_scenes:
        out.append(_scene(scene, world, defs, sink))
    return out


def _scene(scene: ir.Scene, world: _World, defs: dict, sink: Sink) -> ir.Scene:
    world.location, world.time = scene.location, scene.time_of_day
    world.present = {m.name for m in scene.cast}
    for member in scene.cast:
        _declared_state(member, scene, world, sink)
        world.seen.add(member.name)
    events = list(scene.events)
    shots = []
    for i, shot in enumerate(scene.shots):
        for event in [e for e in events if e.before_shot == i]:
            _apply(event, world, sink, set())
        start = world.snapshot()
        for subject in shot.subjects:
            if subject not in world.present and not any(
                e.subject == subject and e.verb == "enters" for e in shot.events
            ):
                sink.error("E0501", f"`{subject}` is framed but not present in scene `{scene.name}`",
                           _subject_span(shot, subject), label="not in this scene",
                           hint=f"add `{subject}` to the scene's `with` list, or write `{subject} enters` first")
        for line in shot.lines:
            _check_speaker(line, shot, scene, world, sink)
        wore: set[str] = set()
        for event in shot.events:
            _apply(event, world, sink, wore)
        shots.append(shot.model_copy(update={"start": start, "end": world.snapshot()}))
    for event in [e for e in events if e.before_shot == len(scene.shots)]:
        _apply(event, world, sink, set())
    return scene.model_copy(update={"shots": shots})


def _subject_span(shot: ir.Shot, subject: str) -> Span:
    return shot.subject_spans[shot.subjects.index(subject)]


def _declared_state(member: ir.Member, scene: ir.Scene, world: _World, sink: Sink) -> None:
    name = member.name
    state = world.characters[name]
    first_appearance = name not in world.seen
    if first_appearance:
        world.characters[name] = state.model_copy(update={
            "states": sorted(set(state.states) | set(member.states)),
            "wardrobe": member.wardrobe or state.wardrobe,
        })
        for s in member.states:
            world.state_spans[(name, s)] = member.span
        return
    for s in member.states:
        if s not in state.states:
            where = world.state_spans.get((name, s))
            sink.add(Diagnostic(
                "E0504", f"scene `{scene.name}` starts with `{name}` {s}, but {name} is not {s} here",
                member.span, label=f"declared {s}",
                labels=(Label(where, f"`{s}` was shed here"),) if where else (),
                hint=f"write `{name} becomes {s}` in an earlier scene, or remove `{s}` here"))
    for s in member.not_states:
        if s in state.states:
            where = world.state_spans.get((name, s))
            sink.add(Diagnostic(
                "E0504", f"scene `{scene.name}` starts with `{name}` not {s}, but {name} is still {s}",
                member.span, label=f"declared not {s}",
                labels=(Label(where, f"became {s} here"),) if where else (),
                hint=f"write `{name} sheds {s}` where it stops being true"))
    if member.wardrobe and member.wardrobe != state.wardrobe:
        if scene.continuous:
            sink.error("E0509", f"`{name}` changes clothes in a continuous scene",
                       member.span, label=f"wearing \"{member.wardrobe}\"",
                       hint=f"{name} was wearing \"{state.wardrobe}\"; continuous time allows no change")
        world.update(name, wardrobe=member.wardrobe)


def _check_speaker(line: ir.Line, shot: ir.Shot, scene: ir.Scene, world: _World, sink: Sink) -> None:
    if line.mode == "voice_over":
        return
    who = line.speaker
    entered = any(e.subject == who and e.verb == "enters" for e in shot.events)
    if who not in world.present and not entered:
        sink.error("E0502", f"`{who}` speaks but is not present in scene `{scene.name}`", line.span,
                   label="not in this scene",
                   hint=f"add `{who}` to the scene's `with` list, or mark the line `{who} (V.O.): ...`")
        return
    if line.mode == "on" and who not in shot.subjects:
        sink.error("E0503", f"`{who}` speaks but is not in frame", line.span, label="speaker not framed",
                   hint=f"add `on {who}` to the shot, or mark the line `{who} (O.S.): ...`")


def _apply(event: ir.Event, world: _World, sink: Sink, wore: set[str]) -> None:
    who, verb = event.subject, event.verb
    if verb == "enters":
        if who in world.present:
            sink.error("W0512", f"`{who}` enters but is already present", event.span, label="already here",
                       hint="remove this line, or add an `exits` before it")
        world.present.add(who)
        return
    if who not in world.present:
        code = "W0512" if verb == "exits" else "E0501"
        sink.error(code, f"`{who}` {verb} but is not present", event.span, label="not in this scene",
                   hint=f"add `{who}` to the scene's `with` list, or write `{who} enters` first")
        if verb == "exits":
            return
    state = world.characters[who]
    if verb == "exits":
        world.present.discard(who)
    elif verb == "becomes":
        for s in event.args:
            if s in state.states:
                where = world.state_spans.get((who, s))
                sink.add(Diagnostic("W0506", f"`{who}` becomes {s} but already is", event.span,
                                    label="changes nothing", labels=(Label(where, f"became {s} here"),) if where else (),
                                    hint="remove this line"))
            world.state_spans[(who, s)] = event.span
        world.update(who, states=sorted(set(state.states) | set(event.args)))
    elif verb == "sheds":
        for s in event.args:
            if s not in state.states:
                sink.error("W0506", f"`{who}` sheds {s} but is not {s}", event.span, label="changes nothing",
                           hint="remove this line")
            world.state_spans[(who, s)] = event.span
        world.update(who, states=sorted(set(state.states) - set(event.args)))
    elif verb == "wears":
        (wardrobe,) = event.args
        if who in wore:
            sink.error("E0509", f"`{who}` changes clothes twice in one shot", event.span, label="second change",
                       hint="split the shot, or keep one `wears`")
        elif wardrobe == state.wardrobe:
            sink.error("W0506", f"`{who}` already wears \"{wardrobe}\"", event.span, label="changes nothing",
                       hint="remove this line")
        wore.add(who)
        world.update(who, wardrobe=wardrobe)
    elif verb == "takes":
        (prop,) = event.args
        holder = world.props.get(prop)
        if holder == who:
            sink.error("W0506", f"`{who}` takes `{prop}` but already holds it", event.span, label="changes nothing",
                       hint="remove this line")
        elif holder is not None:
            sink.add(Diagnostic("E0508", f"`{who}` takes `{prop}`, but `{holder}` is holding it", event.span,
                                label="held by someone else",
                                labels=(Label(world.prop_spans[prop], f"{holder} took it here"),),
                                hint=f"write `{holder} drops {prop}` or `{holder} gives {prop} to {who}` first"))
            _release(world, holder, prop)
        world.props[prop] = who
        world.prop_spans[prop] = event.span
        world.update(who, holding=sorted(set(world.characters[who].holding) | {prop}))
    elif verb in ("drops", "gives"):
        prop = event.args[0]
        holder = world.props.get(prop)
        if holder != who:
            sink.error("E0507", f"`{who}` {verb} `{prop}` but does not hold it", event.span,
                       label="not holding it",
                       hint=(f"`{holder}` holds it" if holder else f"nobody holds it; write `{who} takes {prop}` first"))
        if holder is not None:
            _release(world, holder, prop)
        world.props.pop(prop, None)
        if verb == "gives":
            to = event.args[1]
            if to not in world.present:
                sink.error("E0501", f"`{who}` gives `{prop}` to `{to}`, who is not present", event.span,
                           label="not in this scene", hint=f"add `{to}` to the scene's `with` list")
            world.props[prop] = to
            world.prop_spans[prop] = event.span
            world.update(to, holding=sorted(set(world.characters[to].holding) | {prop}))


def _release(world: _World, holder: str, prop: str) -> None:
    world.update(holder, holding=sorted(set(world.characters[holder].holding) - {prop}))
