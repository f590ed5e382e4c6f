"""Unused definitions: a user definition nothing refers to is probably a mistake."""

from __future__ import annotations

from . import ir
from .diagnostics import Sink
from .symbols import KIND_WORDS, Symbols

_WARNED_KINDS = ("character", "location", "prop", "style", "voice", "grade", "ambience", "music", "sfx",
                 "shot_type", "camera_move", "camera_speed", "angle", "transition", "profile", "time_of_day")


def check_unused(symbols: Symbols, scenes: list[ir.Scene], sink: Sink) -> None:
    used = set(symbols.used)
    for scene in scenes:
        for member in scene.cast:
            used.add(("character", member.name))
        for shot in scene.shots:
            for line in shot.lines:
                used.add(("character", line.speaker))
            for event in shot.events:
                used.add(("character", event.subject))
    for kind in _WARNED_KINDS:
        for key, sym in symbols.tables[kind].items():
            if sym.std or (kind, key) in used:
                continue
            sink.error("W0305", f"{KIND_WORDS[kind]} `{key}` is never used", sym.node.name_span,
                       label="defined but not used",
                       hint=f"remove it, or use it{' in a scene' if kind in ('character', 'location', 'prop') else ''}")
