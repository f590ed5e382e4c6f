"""What kind of filmc transition an OTIO Transition is: dissolve, wipe (with direction) or dip.

filmc records the effect in `metadata["filmc"]`; timelines from elsewhere only have the OTIO
type and name, so both are read.
"""

from __future__ import annotations

from dataclasses import dataclass

import opentimelineio as otio

from .common import filmc_meta

DIRECTIONS = ("left", "right", "up", "down")


@dataclass(frozen=True)
class TransitionKind:
    effect: str  # dissolve | wipe | dip | other
    name: str  # filmc's name: dissolve, wipe_left, dip_to_black, ...
    direction: str | None = None
    colour: str = "#000000"


def transition_kind(t: otio.schema.Transition) -> TransitionKind:
    meta = filmc_meta(t)
    name = t.name or ""
    effect = meta.get("effect")
    if not effect:
        if t.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve or name.startswith("dissolve"):
            effect = "dissolve"
        elif name.startswith("wipe") or t.transition_type == "SMPTE_Wipe":
            effect = "wipe"
        elif name.startswith("dip"):
            effect = "dip"
        else:
            effect = "other"
    direction = meta.get("direction")
    if effect == "wipe" and not direction:
        direction = next((d for d in DIRECTIONS if name.endswith(d)), None)
    colour = str(meta.get("colour") or ("#ffffff" if name == "dip_to_white" else "#000000")).lower()
    return TransitionKind(effect=str(effect), name=name or str(effect), direction=direction, colour=colour)
