"""Scenes pass: AST scenes and shots -> `ir.Scene` / `ir.Shot` (before continuity).

Resolves every name a scene or shot mentions, gives shots stable ids,
attaches transitions to the shots they join, and estimates dialogue length.
Continuity state is filled in afterwards by `continuity.py`.
"""

from __future__ import annotations

import re
import zlib
from fractions import Fraction

from . import ast, ir
from .definitions import parse_properties
from .diagnostics import Diagnostic, Label, Sink, did_you_mean
from .modules import Program
from .schema import CONTINUOUS, SCENE, SHOT, TRANSITION_DIRECTIONS
from .symbols import Symbols
from .values import ValueParser

DEFAULT_WPM = 160.0
_EMPTY = ir.Continuity(location="", time_of_day="")
_WORD = re.compile(r"[\w']+")


def stable_seed(base: int, key: str) -> int:
    return zlib.crc32(f"{base}:{key}".encode()) & 0x7FFFFFFF


def parse_member(member: ast.Member, symbols: Symbols, sink: Sink) -> ir.Member | None:
    name = symbols.resolve("character", member.name, member.name_span, sink)
    if name is None:
        return None
    states: list[str] = []
    not_states: list[str] = []
    wardrobe = None
    if member.paren:
        for part in _split_paren(member.paren):
            words = part.split(None, 1)
            if not words:
                continue
            if words[0] == "not" and len(words) == 2 and words[1].isidentifier():
                not_states.append(words[1])
            elif words[0] == "wearing" and len(words) == 2 and words[1].startswith('"') and words[1].endswith('"'):
                wardrobe = words[1][1:-1]
            elif len(words) == 1 and re.fullmatch(r"[A-Za-z_][\w-]*", words[0]):
                states.append(words[0])
            else:
                sink.error("E0401", f"cannot read starting state `{part}`", member.paren_span,
                           label="expected `state`, `not state` or `wearing \"...\"`",
                           hint='e.g. `with rae (bloody, not tired, wearing "red coat")`')
    return ir.Member(name=name, states=sorted(states), not_states=sorted(not_states), wardrobe=wardrobe,
                     span=member.span)


def _split_paren(text: str) -> list[str]:
    parts, depth, current = [], False, ""
    for ch in text:
        if ch == '"':
            depth = not depth
        if ch == "," and not depth:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return [p for p in parts if p]


def _line_mode(parens: tuple[tuple[str, object], ...]) -> tuple[str, list[str]]:
    mode = "on"
    delivery = []
    for text, _ in parens:
        key = re.sub(r"[^A-Z]", "", text.upper())
        if key == "VO":
            mode = "voice_over"
        elif key in ("OS", "OC"):
            mode = "off_screen"
        elif key == "CONTD":
            continue
        else:
            delivery.append(text)
    return mode, delivery


class SceneLowering:
    def __init__(self, program: Program, symbols: Symbols, defs: dict, header: ir.Header, sink: Sink) -> None:
        self.program = program
        self.symbols = symbols
        self.defs = defs
        self.header = header
        self.fps: Fraction = header.fps_fraction
        self.sink = sink
        self.shot_ids: dict[str, ast.Shot] = {}
        self.shot_index = 0
        self.pending_transition: ir.Transition | None = None
        self.last_shot: ir.Shot | None = None
        self.scenes: list[ir.Scene] = []

    def values(self, module_path: str) -> ValueParser:
        return ValueParser(self.sink, self.fps,
                           lambda kind, atom: self.symbols.resolve(kind, atom.text, atom.span, self.sink),
                           self.program.directory_of(module_path))

    def run(self) -> tuple[list[ir.Act], list[ir.Scene]]:
        acts: list[ir.Act] = []
        current_act: str | None = None
        for module in self.program.user_modules():
            for item in module.items:
                if isinstance(item, ast.Act):
                    acts.append(ir.Act(number=item.number, title=item.title, span=item.span))
                    current_act = item.number
                elif isinstance(item, ast.Scene):
                    self.lower_scene(item, module.path, current_act)
        if self.pending_transition is not None:
            t = self.pending_transition
            self.sink.error("E0513", f"`{t.name}` has no shot after it", t.span, label="nothing to transition to",
                            hint="end the film with `fade_out` instead, or add a shot after it")
        return acts, self.scenes

    # --- scenes ------------------------------------------------------------

    def lower_scene(self, scene: ast.Scene, module_path: str, act: str | None) -> None:
        values = self.values(module_path)
        index = len(self.scenes) + 1
        location = self.symbols.resolve("location", scene.location.dotted, scene.location.span, self.sink) or ""
        continuous = scene.time == CONTINUOUS
        if continuous:
            time = self.scenes[-1].time_of_day if self.scenes else ""
            if not self.scenes:
                self.sink.error("E0505", f"scene `{scene.name}` is `continuous` but no scene comes before it",
                                scene.time_span, label="nothing to continue from",
                                hint="give the first scene a time of day, e.g. `night`")
        else:
            time = self.symbols.resolve("time_of_day", scene.time, scene.time_span, self.sink) or ""
        cast = [m for m in (parse_member(m, self.symbols, self.sink) for m in scene.cast) if m]
        seen_cast: dict[str, ast.Member] = {}
        for m, node in zip(cast, [m for m in scene.cast], strict=False):
            if m.name in seen_cast:
                self.sink.add(Diagnostic("E0302", f"`{node.name}` is listed twice in the cast", node.name_span,
                                         label="listed again", labels=(Label(seen_cast[m.name].name_span, "first here"),),
                                         hint="list each character once"))
            seen_cast[m.name] = node
        props = parse_properties(scene.block, SCENE, values, self.sink, "a scene", self.symbols, unknown_ok=True)
        beds = []
        for kind in ("ambience", "music"):
            for bed in props.get(kind, []):
                default = self.defs[kind][bed["name"]].get("level", -24.0 if kind == "ambience" else -20.0)
                level = bed["level_db"] if bed["level_db"] is not None else default
                beds.append(ir.Bed(kind=kind, name=bed["name"], level_db=level, span=scene.span))
        scene_seed = int(props["seed"]) if "seed" in props else stable_seed(self.header.seed, scene.name)
        shots: list[ir.Shot] = []
        events: list[tuple[int, ir.Event]] = []
        for stmt in scene.block.stmts:
            if isinstance(stmt, ast.Shot):
                shot = self.lower_shot(stmt, scene, index, len(shots) + 1, values, props, scene_seed)
                if shot is not None:
                    shots.append(shot)
            elif isinstance(stmt, ast.Event):
                event = self.lower_event(stmt, values)
                if event is not None:
                    events.append((len(shots), event))
            elif isinstance(stmt, ast.Dialogue):
                self.sink.error("E0401", "dialogue must be inside a shot", stmt.span, label="outside any shot",
                                hint="move the line into the shot where it is spoken")
            elif isinstance(stmt, ast.Property) and stmt.key not in SCENE:
                self.scene_transition(stmt, shots)
        style = props.get("style") or self.header.style
        self.scenes.append(ir.Scene(
            name=scene.name, title=scene.title, index=index, act=act, location=location, time_of_day=time,
            continuous=continuous, cast=cast, style=style,
            target=ir.Duration(**props["target"]) if "target" in props else None,
            beds=beds, grade=props.get("grade"), seed=scene_seed, notes=props.get("note", []), shots=shots,
            events=[e.model_copy(update={"before_shot": i}) for i, e in events], span=scene.span,
        ))

    # --- transitions -------------------------------------------------------

    def scene_transition(self, stmt: ast.Property, shots: list[ir.Shot]) -> None:
        key = self.symbols.lookup("transition", stmt.key)
        if key is None:
            options = list(SCENE) + self.symbols.candidates("transition")
            guess = did_you_mean(stmt.key, options)
            self.sink.error("E0301", f"unknown transition or scene property `{stmt.key}`", stmt.key_span,
                            label="not a transition or scene property",
                            hint=f"did you mean `{guess}`?" if guess else
                            "transitions: " + ", ".join(self.symbols.candidates("transition")))
            return
        definition = self.defs["transition"][key]
        effect = definition.get("effect", "cut")
        direction = None
        duration = None
        for atom in stmt.atoms:
            if atom.kind == "ref" and atom.text in TRANSITION_DIRECTIONS:
                direction = atom.text
            elif atom.kind == "quantity":
                duration = self.values_for(stmt).duration(atom)
                if duration is None:
                    return
            else:
                self.sink.error("E0401", f"unexpected `{atom.text}` in a transition", atom.span,
                                label="expected a direction or a duration",
                                hint="e.g. `dissolve 1s` or `wipe left 500ms`")
                return
        if effect == "wipe" and direction is None:
            direction = "left"
        if direction is not None and effect != "wipe":
            self.sink.error("E0401", f"`{stmt.key}` takes no direction", stmt.span, label="only wipes have a direction",
                            hint=f"write `{stmt.key} 1s`")
            return
        if duration is None:
            duration = definition.get("duration") or {"frames": 0, "seconds": "0"}
        if effect in ("cut", "match_cut"):
            duration = {"frames": 0, "seconds": "0"}
        elif duration["frames"] == 0:
            duration = ir.Duration.of(round(self.fps), self.fps).model_dump()
        colour = (definition.get("colour") or [None])[0]
        if effect in ("fade_in", "fade_out") and colour is None:
            colour = "#000000"
        transition = ir.Transition(name=key.removeprefix("std."), effect=effect, direction=direction, colour=colour,
                                   duration=ir.Duration(**duration), span=stmt.span)
        if effect == "fade_out":
            if self.last_shot is None:
                self.sink.error("E0513", "`fade_out` has no shot before it", stmt.span, label="nothing to fade out",
                                hint="put `fade_out` after a shot")
                return
            self._replace_last(self.last_shot.model_copy(update={"transition_out": transition}), shots)
            return
        if effect != "fade_in" and self.last_shot is None:
            self.sink.error("E0513", f"`{stmt.key}` has no shot before it", stmt.span,
                            label="nothing to transition from", hint="start a film with `fade_in` or a cut")
            return
        if self.pending_transition is not None:
            self.sink.error("E0513", "two transitions in a row", stmt.span, label="second transition",
                            labels=(Label(self.pending_transition.span, "first transition"),),
                            hint="keep one transition between two shots")
            return
        self.pending_transition = transition

    def values_for(self, stmt) -> ValueParser:
        return self.values(stmt.span.file)

    def _replace_last(self, shot: ir.Shot, shots: list[ir.Shot]) -> None:
        self.last_shot = shot
        if shots and shots[-1].id == shot.id:
            shots[-1] = shot
        else:
            for scene_index, scene in enumerate(self.scenes):
                if scene.shots and scene.shots[-1].id == shot.id:
                    self.scenes[scene_index] = scene.model_copy(update={"shots": scene.shots[:-1] + [shot]})

    # --- shots -------------------------------------------------------------

    def lower_shot(self, shot: ast.Shot, scene: ast.Scene, scene_index: int, number: int, values: ValueParser,
                   scene_props: dict, scene_seed: int) -> ir.Shot | None:
        shot_id = shot.name or f"s{scene_index:02d}_{number:03d}"
        if shot.name:
            if shot.name in self.shot_ids:
                self.sink.add(Diagnostic("E0302", f"shot name `{shot.name}` is used twice", shot.header_span,
                                         label="used again", labels=(Label(self.shot_ids[shot.name].header_span,
                                                                           "first used here"),),
                                         hint="shot names must be unique in a film"))
            self.shot_ids[shot.name] = shot
        shot_type = self.symbols.resolve("shot_type", shot.type.dotted, shot.type.span, self.sink)
        subjects, subject_spans = [], []
        for name, span in shot.subjects:
            key = self.symbols.resolve("character", name, span, self.sink)
            if key in subjects:
                first = subject_spans[subjects.index(key)]
                self.sink.add(Diagnostic("E0302", f"`{name}` is framed twice in this shot", span, label="framed again",
                                         labels=(Label(first, "first here"),), hint="frame each character once"))
            elif key:
                subjects.append(key)
                subject_spans.append(span)
        props = parse_properties(shot.block, SHOT, values, self.sink, "a shot", self.symbols)
        media = props.get("media")
        duration = values.duration(shot.duration) if shot.duration is not None else None
        if shot.duration is None:
            if media and media["source_out"]:
                duration = {"frames": media["source_out"]["frames"] - media["source_in"]["frames"]}
                duration = ir.Duration.of(duration["frames"], self.fps).model_dump()
            else:
                self.sink.error("E0416", "shot has no duration", shot.header_span, label="how long is this shot?",
                                hint="add a duration after the shot type, e.g. `shot wide 4s`")
        lines, events = [], []
        for stmt in shot.block.stmts if shot.block else ():
            if isinstance(stmt, ast.Dialogue):
                line = self.lower_line(stmt)
                if line:
                    lines.append(line)
            elif isinstance(stmt, ast.Event):
                event = self.lower_event(stmt, values)
                if event:
                    events.append(event)
            elif isinstance(stmt, ast.Shot):
                self.sink.error("E0401", "a shot cannot contain another shot", stmt.header_span,
                                label="nested shot", hint="close the previous shot with `}` first")
        if shot_type is None or duration is None:
            return None
        camera = props.get("camera")
        cues = [ir.Cue(sfx=c["sfx"], at=ir.Duration(**c["at"]), level_db=c["level_db"], span=shot.span)
                for c in props.get("sfx", [])]
        cue_spans = [p.span for p in (shot.block.properties() if shot.block else []) if p.key == "sfx"]
        cues = [c.model_copy(update={"span": s}) for c, s in zip(cues, cue_spans, strict=False)]
        result = ir.Shot(
            id=shot_id, name=shot.name, scene=scene.name, index=self.shot_index, number=number, type=shot_type,
            duration=ir.Duration(**duration), subjects=subjects, subject_spans=subject_spans,
            camera=ir.Camera(**camera) if camera else None, lens_mm=props.get("lens"), angle=props.get("angle"),
            action=props.get("action"), lines=lines, cues=cues, events=events,
            media=ir.Media(path=media["path"], source_in=ir.Duration(**media["source_in"]),
                           source_out=ir.Duration(**media["source_out"]) if media["source_out"] else None,
                           colour=media["colour"], span=shot.span) if media else None,
            seed=int(props["seed"]) if "seed" in props else stable_seed(scene_seed, shot_id),
            notes=props.get("note", []), style=props.get("style") or scene_props.get("style") or self.header.style,
            grade=props.get("grade") or scene_props.get("grade"), reference="reference" in props,
            transition_in=self.pending_transition, start=_EMPTY, end=_EMPTY, span=shot.span,
        )
        self.pending_transition = None
        self.shot_index += 1
        self.last_shot = result
        return result

    def lower_line(self, d: ast.Dialogue) -> ir.Line | None:
        speaker = self.symbols.resolve("character", d.speaker, d.speaker_span, self.sink)
        if speaker is None:
            return None
        mode, delivery = _line_mode(d.parens)
        words = len(_WORD.findall(d.text))
        wpm = DEFAULT_WPM
        voice = self.defs["character"][speaker].get("voice")
        if voice:
            wpm = self.defs["voice"][voice].get("rate", DEFAULT_WPM)
        return ir.Line(speaker=speaker, text=d.text, mode=mode, parentheticals=delivery, words=words,
                       estimated_seconds=round(words / wpm * 60, 3), span=d.span)

    def lower_event(self, e: ast.Event, values: ValueParser) -> ir.Event | None:
        subject = self.symbols.resolve("character", e.subject, e.subject_span, self.sink)
        args: list[str] = []
        atoms = [a for a in e.atoms if a.kind != "comma"]
        ok = subject is not None
        if e.verb in ("enters", "exits"):
            if atoms:
                values.extra(tuple(atoms), e.verb)
                ok = False
        elif e.verb in ("becomes", "sheds"):
            if not atoms:
                self.sink.error("E0401", f"`{e.verb}` needs a state", e.span, label="which state?",
                                hint=f"e.g. `{e.subject} {e.verb} bloody`")
                ok = False
            for a in atoms:
                if a.kind != "ref" or "." in a.text:
                    values.type_error(a, "a state name")
                    ok = False
                else:
                    args.append(a.text)
        elif e.verb in ("takes", "drops", "gives"):
            need = 3 if e.verb == "gives" else 1
            if len(atoms) != need or (e.verb == "gives" and atoms[1].text != "to"):
                self.sink.error("E0401", f"`{e.verb}` takes {'`PROP to CHARACTER`' if need == 3 else 'a prop'}",
                                e.span, label="malformed",
                                hint=f"e.g. `{e.subject} {e.verb} baton{' to kai' if need == 3 else ''}`")
                return None
            prop = values.name(atoms[0], "prop")
            ok = ok and prop is not None
            args.append(prop or "")
            if e.verb == "gives":
                to = values.name(atoms[2], "character")
                ok = ok and to is not None
                args.append(to or "")
        elif e.verb == "wears":
            if len(atoms) != 1 or atoms[0].kind != "string":
                self.sink.error("E0401", "`wears` takes one string", e.span, label="malformed",
                                hint=f'e.g. `{e.subject} wears "torn raincoat"`')
                return None
            args.append(atoms[0].string_value)
        if not ok or subject is None:
            return None
        return ir.Event(subject=subject, verb=e.verb, args=args, span=e.span)
