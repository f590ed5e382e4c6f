"""Pure parts of the preview backend: camera maths, the edit's frame arithmetic, subtitle timing."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest
from filmc.runtime.backend import NodeError
from filmc.runtime.preview.encode import parse_srt
from filmc.runtime.preview.filtergraph import Shot, build_graph, xfade_name
from filmc.runtime.preview.motion import OVERSCAN, PRIMITIVES, camera_motion, evaluate, layer_size
from filmc.runtime.preview.sound_ops import frames_of
from filmc.runtime.sound import to_srt
from hypothesis import given, settings
from hypothesis import strategies as st

W, H = 320, 180


@settings(max_examples=150, deadline=None)
@given(primitive=st.sampled_from(PRIMITIVES), amount=st.floats(-0.6, 2.0), frames=st.integers(1, 200),
       seed=st.integers(0, 2**31 - 1))
def test_the_camera_window_stays_inside_every_layer(primitive: str, amount: float, frames: int, seed: int) -> None:
    if primitive == "zoom":
        amount = abs(amount) + 0.5  # a zoom amount is the factor at the end
    motion = camera_motion({"motion": primitive, "amount": amount}, frames, "24", W, H, seed)
    lw, lh = layer_size(W, H)
    assert abs(lw - W * OVERSCAN) <= 1 and abs(lh - H * OVERSCAN) <= 1 and lw % 2 == lh % 2 == 0
    assert motion.base_zoom >= 1.0
    for layer in (motion.background, motion.subjects):
        for n in range(frames):
            k = evaluate(layer.zoom, n)
            # The scaled layer's size as the filtergraph rounds it (to even pixels, downwards).
            sw, sh = math.trunc(lw * k / 2) * 2, math.trunc(lh * k / 2) * 2
            assert abs(evaluate(layer.x, n)) <= (sw - W) / 2
            assert abs(evaluate(layer.y, n)) <= (sh - H) / 2


def test_moves_reach_their_amount_and_are_deterministic() -> None:
    pan = camera_motion({"motion": "pan", "amount": 0.25}, 96, "24", W, H, 1)
    travelled = evaluate(pan.background.x, 95) - evaluate(pan.background.x, 0)
    assert travelled == pytest.approx(0.25 * W)
    zoom = camera_motion({"motion": "zoom", "amount": 1.3}, 96, "24", W, H, 1)
    assert evaluate(zoom.subjects.zoom, 95) / evaluate(zoom.subjects.zoom, 0) == pytest.approx(1.3)
    dolly = camera_motion({"motion": "dolly", "amount": 0.2}, 48, "24", W, H, 1)
    grow_subjects = evaluate(dolly.subjects.zoom, 47) / evaluate(dolly.subjects.zoom, 0)
    grow_background = evaluate(dolly.background.zoom, 47) / evaluate(dolly.background.zoom, 0)
    assert grow_subjects > grow_background > 1  # parallax: near things grow faster
    a = camera_motion({"motion": "handheld", "amount": 0.02}, 48, "24", W, H, 7)
    b = camera_motion({"motion": "handheld", "amount": 0.02}, 48, "24", W, H, 7)
    c = camera_motion({"motion": "handheld", "amount": 0.02}, 48, "24", W, H, 8)
    assert a == b and a.background.x != c.background.x
    assert max(abs(evaluate(a.background.x, n)) for n in range(48)) <= 0.02 * W + 1e-9
    assert camera_motion({"motion": "static", "amount": 0}, 48, "24", W, H, 7).static


def _clip(index: int, frames: int, fade_in: int = 0, fade_out: int = 0) -> Shot:
    info = {"frames": frames, "source": {"kind": "clip", "clip": f"ab/{index:024d}/clip.mov"}}
    return Shot(index=index, shot=f"s{index}", frames=frames, info=info, fade_in=fade_in,
                fade_out=fade_out, fade_colour="#000000")


def test_overlaps_and_offsets_are_exact_at_23976() -> None:
    fps = "24000/1001"
    shots = [_clip(0, 48, fade_in=12), _clip(1, 30), _clip(2, 40), _clip(3, 25, fade_out=10), _clip(4, 20)]
    transitions = [{"after": 0, "effect": "dissolve", "frames": 12}, {"after": 2, "effect": "wipe", "direction": "up",
                                                                      "frames": 7},
                   {"after": 3, "effect": "dip", "colour": "#ffffff", "frames": 9}]
    graph, edit = build_graph(shots, transitions, 64, 36, fps)
    assert edit["frames"] == 48 + 30 + 40 + 25 + 20 - (12 + 7 + 9)
    assert [s["record_start"] for s in edit["shots"]] == [0, 36, 66, 99, 115]
    offsets = [Fraction(x) for x in re.findall(r"offset=([\d.]+)", graph)]
    rate = Fraction(24000, 1001)
    # Each offset, as ffmpeg rounds it to its timebase, is a whole frame: where the overlap starts,
    # counted from the start of its run of joined shots (the cut at 66 starts the second run).
    assert [round(o * rate) for o in offsets] == [36, 99 - 66, 115 - 66]
    assert graph.count("concat=n=2") == 1
    assert all(abs(o * rate - round(o * rate)) < Fraction(1, 1000) for o in offsets)
    assert "transition=wipeup" in graph and "transition=fadewhite" in graph and graph.rstrip().endswith("[v]")
    assert edit["intended_black"] == [[0, 12], [114, 124], [115, 124]]


def test_a_transition_longer_than_its_shot_is_refused() -> None:
    with pytest.raises(NodeError, match="longer than a shot"):
        build_graph([_clip(0, 10), _clip(1, 5)], [{"after": 0, "effect": "dissolve", "frames": 8}], 64, 36, "24")


def test_xfade_names() -> None:
    assert xfade_name({"effect": "dissolve"}) == "fade"
    assert xfade_name({"effect": "wipe", "direction": "right"}) == "wiperight"
    assert xfade_name({"effect": "dip", "colour": "#000000"}) == "fadeblack"
    assert xfade_name({"effect": "dip", "colour": "#f0f0f0"}) == "fadewhite"
    with pytest.raises(NodeError):
        xfade_name({"effect": "cut"})


def test_subtitle_cues_round_trip_to_frames() -> None:
    fps = "24000/1001"
    rate = Fraction(24000, 1001)
    cues = [(10, 40, "First line."), (100, 137, "Second line.")]
    text = to_srt([(float(a / rate), float(b / rate), "ada", t) for a, b, t in cues])
    assert [(a, b) for a, b, _ in parse_srt(text, fps)] == [(a, b) for a, b, _ in cues]
    assert frames_of(2002, fps) == 1 and frames_of(2003, fps) == 2
