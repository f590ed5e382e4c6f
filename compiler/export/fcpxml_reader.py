"""Read back an FCPXML file's project: the spine, connected clips, markers and fades, in frames.

OTIO's `fcpx_xml` reader skips transitions, truncates 23.976 to 23 fps and leaves 1.9+ media
unresolved, so filmc checks its own FCPXML with this reader as well: exact rational times,
every reference resolved, every time on a frame boundary, and a spine that tiles.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

SPINE_ITEMS = ("asset-clip", "clip", "gap", "ref-clip", "sync-clip", "title", "video", "audio")


@dataclass(frozen=True)
class SpineEntry:
    tag: str
    name: str
    record: int  # frames from the sequence's start timecode
    start: int  # the item's own time at its first frame
    duration: int
    effect: str = ""  # transitions: the name of the effect resource
    src: str = ""  # clips: the media URL of the asset


@dataclass(frozen=True)
class Connected:
    """A clip, gap or transition outside the primary storyline, placed in film frames."""

    lane: int
    tag: str
    name: str
    record: int
    duration: int
    src: str = ""
    role: str = ""


@dataclass
class FcpxmlProject:
    version: str
    frame: Fraction  # seconds per frame
    tc_start: int  # frames
    duration: int
    spine: list[SpineEntry] = field(default_factory=list)
    connected: list[Connected] = field(default_factory=list)  # clips, gaps and transitions by lane
    markers: list[tuple[str, str, int, str]] = field(default_factory=list)  # (tag, value, record, note)
    fades: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # clip -> (record frame, opacity)
    notes: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def clips(self) -> list[SpineEntry]:
        return [e for e in self.spine if e.tag != "transition" and e.tag != "gap"]

    @property
    def transitions(self) -> list[SpineEntry]:
        return [e for e in self.spine if e.tag == "transition"]


def parse_time(text: str | None) -> Fraction:
    if not text:
        return Fraction(0)
    value = text[:-1] if text.endswith("s") else text
    num, _, den = value.partition("/")
    return Fraction(int(num), int(den) if den else 1)


class _Reader:
    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.problems: list[str] = []
        self.ids = {e.get("id"): e for e in root.iter() if e.get("id") and e.tag in ("format", "asset", "effect", "media")}

    def frames(self, text: str | None, frame: Fraction, what: str) -> int:
        t = parse_time(text)
        n = t / frame
        if n.denominator != 1:
            self.problems.append(f"{what}: {text} is not on a frame boundary")
        return int(n)

    def ref(self, element: ET.Element) -> ET.Element | None:
        rid = element.get("ref")
        target = self.ids.get(rid)
        if rid and target is None:
            self.problems.append(f"{element.tag} {element.get('name')}: ref {rid} does not resolve")
        return target

    def src(self, element: ET.Element) -> str:
        asset = self.ref(element)
        if asset is None or asset.tag != "asset":
            return ""
        rep = asset.find("media-rep")
        if rep is None or not rep.get("src"):
            self.problems.append(f"asset {asset.get('id')}: no media-rep src")
            return ""
        return rep.get("src", "")


def read_fcpxml(path: Path) -> FcpxmlProject:
    root = ET.parse(path).getroot()
    if root.tag != "fcpxml":
        raise ValueError(f"{path}: not an FCPXML file (root element {root.tag})")
    reader = _Reader(root)
    sequence = root.find("./library/event/project/sequence")
    if sequence is None:
        raise ValueError(f"{path}: no library/event/project/sequence")
    fmt = reader.ids.get(sequence.get("format"))
    if fmt is None or not fmt.get("frameDuration"):
        raise ValueError(f"{path}: the sequence's format has no frameDuration")
    frame = parse_time(fmt.get("frameDuration"))
    tc_start = reader.frames(sequence.get("tcStart"), frame, "sequence tcStart")
    project = FcpxmlProject(
        version=root.get("version", ""),
        frame=frame,
        tc_start=tc_start,
        duration=reader.frames(sequence.get("duration"), frame, "sequence duration"),
    )
    spine = sequence.find("spine")
    if spine is None:
        raise ValueError(f"{path}: the sequence has no spine")
    for element in spine:
        if element.tag == "transition":
            effect_ref = element.find("filter-video")
            effect = reader.ids.get(effect_ref.get("ref")) if effect_ref is not None else None
            if effect_ref is not None and effect is None:
                reader.problems.append(f"transition {element.get('name')}: effect ref does not resolve")
            project.spine.append(
                SpineEntry(
                    "transition",
                    element.get("name", ""),
                    reader.frames(element.get("offset"), frame, "transition offset") - tc_start,
                    0,
                    reader.frames(element.get("duration"), frame, "transition duration"),
                    effect=effect.get("name", "") if effect is not None else "",
                )
            )
            continue
        if element.tag not in SPINE_ITEMS:
            continue
        name = element.get("name", "")
        record = reader.frames(element.get("offset"), frame, f"{name} offset") - tc_start
        local = reader.frames(element.get("start"), frame, f"{name} start")
        entry = SpineEntry(
            element.tag,
            name,
            record,
            local,
            reader.frames(element.get("duration"), frame, f"{name} duration"),
            src=reader.src(element) if element.get("ref") else "",
        )
        project.spine.append(entry)
        note = element.find("note")
        if note is not None and note.text:
            project.notes[name] = note.text
        for child in element:
            if child.tag == "spine" and child.get("lane") is not None:
                origin = record + reader.frames(child.get("offset"), frame, "storyline offset") - local
                project.connected.extend(_storyline(reader, child, origin, frame))
            elif child.get("lane") is not None and child.tag in SPINE_ITEMS:
                at = reader.frames(child.get("offset"), frame, f"{child.get('name')} offset")
                project.connected.append(
                    Connected(
                        int(child.get("lane", "0")),
                        child.tag,
                        child.get("name", ""),
                        record + at - local,
                        reader.frames(child.get("duration"), frame, f"{child.get('name')} duration"),
                        reader.src(child),
                        child.get("audioRole", child.get("videoRole", "")),
                    )
                )
            elif child.tag in ("marker", "chapter-marker"):
                at = reader.frames(child.get("start"), frame, f"marker {child.get('value')}")
                project.markers.append((child.tag, child.get("value", ""), record + at - local, child.get("note", "")))
            elif child.tag == "adjust-blend":
                keys = child.findall("./param/keyframeAnimation/keyframe")
                project.fades[name] = [
                    (record + reader.frames(k.get("time"), frame, f"{name} keyframe") - local, float(k.get("value", "1")))
                    for k in keys
                ]
    _check_tiling(project)
    project.problems = reader.problems + project.problems
    return project


def _storyline(reader: _Reader, spine: ET.Element, origin: int, frame: Fraction) -> list[Connected]:
    """The items of a connected storyline; their offsets count from the storyline's start."""
    lane = int(spine.get("lane", "0"))
    out = []
    cursor = None
    for child in spine:
        if child.tag != "transition" and child.tag not in SPINE_ITEMS:
            continue
        name = child.get("name", "")
        at = reader.frames(child.get("offset"), frame, f"{name} offset")
        length = reader.frames(child.get("duration"), frame, f"{name} duration")
        if child.tag == "transition":
            effect = child.find("filter-audio")
            effect = effect if effect is not None else child.find("filter-video")
            if effect is None or reader.ids.get(effect.get("ref")) is None:
                reader.problems.append(f"lane {lane} transition at {at}: no resolvable effect")
            out.append(Connected(lane, "transition", name, origin + at, length))
            continue
        if cursor is not None and at != cursor:
            reader.problems.append(f"lane {lane}: {name} starts at {at}, expected {cursor}")
        cursor = at + length
        src = reader.src(child) if child.get("ref") else ""
        role = child.get("audioRole", child.get("videoRole", ""))
        out.append(Connected(lane, child.tag, name, origin + at, length, src, role))
    return out


def _check_tiling(project: FcpxmlProject) -> None:
    """Spine clips end to end from frame 0; each transition inside the two items around it."""
    items = [e for e in project.spine if e.tag != "transition"]
    cursor = 0
    for entry in items:
        if entry.record != cursor:
            project.problems.append(f"spine item {entry.name} starts at frame {entry.record}, expected {cursor}")
        cursor = entry.record + entry.duration
    for index, entry in enumerate(project.spine):
        if entry.tag != "transition":
            continue
        before = project.spine[index - 1] if index else None
        after = project.spine[index + 1] if index + 1 < len(project.spine) else None
        if before is None or after is None or "transition" in (before.tag, after.tag):
            project.problems.append(f"transition at frame {entry.record} is not between two spine items")
            continue
        cut = after.record
        if not (before.record <= entry.record <= cut <= entry.record + entry.duration <= after.record + after.duration):
            project.problems.append(f"transition at frame {entry.record} does not span the cut at {cut}")
