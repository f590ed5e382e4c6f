"""Pure parts of the preview backend: camera maths, the edit's frame arithmetic, subtitle timing."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from filmc.runtime.backend import NodeError
from filmc.runtime.media_tools import ffmpeg_exe
from filmc.runtime.preview.encode import parse_srt
from filmc.runtime.preview.filtergraph import Shot, build_graph, xfade_name
from filmc.runtime.preview.motion import (
    OVERSCAN,
    PRIMITIVES,
    SLOW_MOVE_LIMITS,
    camera_motion,
    evaluate,
    layer_size,
    slow_move_stretches,
)
from filmc.runtime.preview.picture_scan import SCAN_NAME, has_loopback_decoding, scan_picture
from filmc.runtime.preview.qc import judge_picture
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


def _brute_slow_moves(series: list[np.ndarray], limits: list[float], min_frames: int) -> list[list[int]]:
    """The definition: the union of the longest window from every frame over which each series
    stays within its limit, kept where it is at least `min_frames` long."""
    frames = len(series[0])
    covered = np.zeros(frames, dtype=bool)
    for start in range(frames):
        end = start + 1
        while end < frames and all(np.ptp(v[start:end + 1]) < limit for v, limit in zip(series, limits, strict=True)):
            end += 1
        if end - start >= min_frames:
            covered[start:end] = True
    runs, start = [], None
    for f, c in enumerate([*covered, False]):
        if c and start is None:
            start = f
        elif not c and start is not None:
            runs.append([start, f])
            start = None
    return runs


@settings(max_examples=60, deadline=None)
@given(frames=st.integers(1, 160), speeds=st.lists(st.floats(-0.2, 0.2), min_size=4, max_size=4),
       wobble=st.floats(0, 3), min_frames=st.integers(1, 60), seed=st.integers(0, 1000))
def test_slow_move_stretches_match_their_definition(frames: int, speeds: list[float], wobble: float,
                                                   min_frames: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = np.arange(frames, dtype=np.float64)
    geometry = [speed * n + wobble * np.sin(rng.uniform(0.01, 0.3) * n) for speed in speeds]
    found = slow_move_stretches([geometry], min_frames)
    assert found == _brute_slow_moves(geometry, list(SLOW_MOVE_LIMITS), min_frames)


def test_a_slow_move_at_a_small_scale_freezes_only_where_the_edit_says_it_may(tmp_path) -> None:
    """At 64x36 a gentle pan moves the window less than a pixel a frame: ffmpeg renders runs of
    identical frames that QC's freeze detector finds. The edit lists those stretches, so QC does not
    call them faults; without the list it would."""
    from PIL import Image

    rng = np.random.default_rng(3)
    w, h, frames, fps = 64, 36, 192, "24"
    lw, lh = layer_size(w, h)
    Image.fromarray(rng.integers(0, 255, (lh, lw, 3), dtype=np.uint8)).save(tmp_path / "background.png")
    motion = camera_motion({"motion": "pan", "amount": 0.05, "speed": "slow"}, frames, fps, w, h, 7)
    assert not motion.static
    source = {**motion.to_json(), "kind": "layers", "layers": {"background": "background.png"},
              "subjects_empty": True}
    shot = Shot(index=0, shot="pan", frames=frames, info={"frames": frames, "source": source}, fade_in=0,
                fade_out=0, fade_colour="#000000")
    graph, edit = build_graph([shot], [], w, h, fps)
    (tmp_path / "graph.txt").write_text(graph.rstrip().rstrip(";") + ";\n[v]format=yuv420p[out]\n")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-/filter_complex", "graph.txt", "-map", "[out]",
                    "-c:v", "libx264", "-crf", "0", "-preset", "ultrafast", "pan.mp4"], cwd=tmp_path, check=True)
    scan = scan_picture(["-i", str(tmp_path / "pan.mp4")], fps, frames)
    assert scan["frozen"], "the pan should render identical frames at this size"
    assert edit["slow_move_still"] and edit["intended_still"] == []
    assert all(c.ok for c in judge_picture(scan, edit, fps)), (scan, edit["slow_move_still"])
    assert not all(c.ok for c in judge_picture(scan, {**edit, "slow_move_still": []}, fps))


def test_picture_ops_preload_without_the_sound_engine() -> None:
    """A rebuild that re-runs picture ops, the encodes and QC starts its workers without importing
    scipy (the sound engine's half second): those modules, and the meter QC reads, stay light."""
    from filmc.runtime.preview.backend import PreviewBackend

    backend = PreviewBackend()
    picture_ops = ["compose", "animate", "grade", "assemble", "encode_video", "encode_audio", "encode", "qc",
                   "contact_sheet", "conform", "plate", "portrait"]
    modules = backend.preload_for(picture_ops)
    assert "filmc.runtime.preview.sound_ops" not in modules
    assert set(backend.preload_for(["mix"])) == {"filmc.runtime.preview.sound_ops"}
    assert set(backend.worker_preload) >= set(modules) | {"filmc.runtime.preview.sound_ops"}
    # The sound ops have workers of their own: the forkserver every picture worker waits for skips them.
    assert {backend.worker_group(op) for op in ("speech", "bed", "sfx", "mix", "subtitles")} == {"sound"}
    assert {backend.worker_group(op) for op in picture_ops} == {""}
    assert set(backend.default_preload()) == set(modules)
    code = ("import importlib, sys\n"
            f"for m in {list(modules)!r}: importlib.import_module(m)\n"
            "from filmc.runtime.sound import SoundError, measure_ebur128\n"
            "print(sorted(m for m in sys.modules if m.startswith('scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


@pytest.mark.parametrize("loopback", [True, False])
def test_encode_video_scans_the_stream_it_encodes(tmp_path, monkeypatch, loopback: bool) -> None:
    """encode_video records the black and frozen stretches of its own output: by decoding the encoder's
    output in the same ffmpeg run where ffmpeg can (7.1+), else by decoding the written file. Both
    give what a scan of the delivered file gives."""
    import json

    from filmc.runtime.backend import NodeOutputs
    from filmc.runtime.preview import encode

    if loopback and not has_loopback_decoding():
        pytest.skip("this ffmpeg has no loopback decoders")
    monkeypatch.setattr(encode, "has_loopback_decoding", lambda: loopback)
    assembled = tmp_path / "objects" / "ab" / "abcd"
    assembled.mkdir(parents=True)
    # 1 s black, then 3 s of one still picture (frozen), then 2 s of noise (neither).
    graph = ("color=c=black:s=64x36:r=24:d=1,format=gbrp[a];color=c=0x3060c0:s=64x36:r=24:d=3,format=gbrp[b];"
             "nullsrc=s=64x36:r=24:d=2,geq=random(1)*255:128:128,format=gbrp[c];"
             "[a][b][c]concat=n=3:v=1:a=0,settb=expr=1/24,setpts=N[v]\n")
    (assembled / "filtergraph.txt").write_text(graph)
    (assembled / "filtergraph_yuv420p.txt").write_text(graph.replace("format=gbrp", "format=yuv420p"))
    picture = NodeOutputs("abcd", "assemble", "assemble", assembled,
                          {name: assembled / name for name in ("filtergraph.txt", "filtergraph_yuv420p.txt")})
    settings = {"container": "mp4", "video": "h264", "video_profile": "high", "pixel_format": "yuv420p", "crf": 20,
                "preset": "medium", "colour": "rec709"}
    params = {"profile": "std.web_mp4", "settings": settings, "resolution": [64, 36], "frames": 144, "fps": "24"}
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    encode.encode_video(params, ["video.mp4", SCAN_NAME], picture, None, out, scratch, 2)
    recorded = json.loads((out / SCAN_NAME).read_text())
    assert recorded.pop("method") == ("loopback decode" if loopback else "decode of the written stream")
    assert recorded == scan_picture(["-i", str(out / "video.mp4")], "24", 144)
    assert recorded["black"] == [[0, 24]]
    assert [24, 96] in recorded["frozen"] and all(end <= 96 for _, end in recorded["frozen"]), recorded


def test_loopback_decoding_is_known_from_the_release(monkeypatch) -> None:
    from filmc.runtime import media_tools
    from filmc.runtime.preview import picture_scan

    for version, expected in (("6.1.1-3ubuntu5", False), ("7.0.2", False), ("7.1", True), ("n9.0.2-17-g2a57", True)):
        monkeypatch.setattr(picture_scan, "ffmpeg", lambda v=version: media_tools.Ffmpeg("ffmpeg", v, "system"))
        picture_scan.has_loopback_decoding.cache_clear()
        assert picture_scan.has_loopback_decoding() is expected, version
    picture_scan.has_loopback_decoding.cache_clear()
