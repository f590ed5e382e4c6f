"""Lowering the colleague's examples: one clip per shot, and exact invalidation on the feature."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import opentimelineio as otio
import pytest
from filmc.compiler.plan import build_plan
from filmc.compiler.render_plan import RenderPlan
from filmc.compiler.timeline import build_timeline
from lowering_support import REPO, checked

SHORT = REPO / "examples" / "short" / "blackout.film"
FEATURE = REPO / "examples" / "feature" / "feature.film"


def keyed(plan: RenderPlan) -> dict[tuple[str, str], str]:
    out = {(n.op, n.label): n.id for n in plan.nodes}
    assert len(out) == len(plan.nodes), "labels are not unique per op"
    return out


@pytest.mark.parametrize("film", [SHORT, FEATURE], ids=["short", "feature"])
def test_one_clip_per_shot_and_frame_exact(film: Path) -> None:
    if not film.exists():
        pytest.skip(f"{film} is not there yet")
    ir_film = checked(film).film
    plan = build_plan(ir_film)
    tl = build_timeline(ir_film, plan)
    shots = ir_film.shots()
    clips = list(tl.tracks[0].find_clips(shallow_search=True))
    assert [c.name for c in clips] == [s.id for s in shots]
    assembly = plan.by_id()[plan.outputs["picture"]]
    assert int(tl.tracks[0].duration().value) == assembly.params["frames"]
    overlaps = sum(t.duration.frames for s in shots[1:] if (t := s.transition_in) and t.effect in ("dissolve", "wipe",
                                                                                                     "dip"))
    assert assembly.params["frames"] == sum(s.duration.frames for s in shots) - overlaps
    ops = Counter(n.op for n in plan.nodes)
    media = sum(1 for s in shots if s.media)
    assert ops["grade"] == len(shots) and ops["conform"] == media and ops["animate"] == len(shots) - media
    assert ops["speech"] <= sum(len(s.lines) for s in shots)
    assert ops["plate"] < ops["compose"] and ops["portrait"] < ops["compose"]
    dialogue = list(tl.tracks[1].find_clips(shallow_search=True))
    assert len(dialogue) == sum(len(s.lines) for s in shots)
    assert isinstance(tl.tracks[0].markers[0], otio.schema.Marker)


def test_feature_edit_one_shot_changes_exactly_its_chain(tmp_path: Path) -> None:
    if not FEATURE.exists():
        pytest.skip("the feature example is not there yet")
    folder = FEATURE.parent
    texts = {p.name: p.read_text() for p in folder.glob("*.film")}
    actions = re.findall(r'action "([^"]+)"', texts["act2.film"])
    action = next(a for a in actions if sum(t.count(f'action "{a}"') for t in texts.values()) == 1)
    before_film = checked(FEATURE).film
    shot = next(s for s in before_film.shots() if s.action == action)
    before = build_plan(before_film)

    copy = tmp_path / "feature"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    act2 = copy / "act2.film"
    act2.write_text(texts["act2.film"].replace(f'action "{action}"', f'action "{action} Slowly."'))
    after = build_plan(checked(copy / FEATURE.name).film)

    a, b = keyed(before), keyed(after)
    assert a.keys() == b.keys()
    diff = {k for k in a if a[k] != b[k]}
    encodes = {(n.op, n.label) for n in before.nodes if n.op in ("encode_video", "encode")}
    assert len(encodes) == 2 * len(before_film.header.exports)
    assert diff == {("compose", shot.id), ("animate", shot.id), ("grade", shot.id), ("assemble", "assemble"),
                    ("qc", "qc"), ("contact_sheet", "contact sheet")} | encodes
