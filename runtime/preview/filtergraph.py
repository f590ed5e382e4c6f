"""The `assemble` op: the whole picture as one ffmpeg -filter_complex script.

Per shot, a chain that ends in W x H planar RGB at the film rate, exactly the
shot's frames long:
- layers (from compose/animate): each layer is decoded once (`movie`) and
  repeated with `loop`; a moving layer is scaled per frame (`scale=...:eval=frame`)
  and cropped at per-frame x/y (`crop`), subjects overlaid on the background,
  the burn-in overlaid last so it stays sharp and ungraded. A shot where
  nothing moves is composited and burnt in on its single frame before `loop`:
  its cost per frame is nothing.
- clips: read as they are.
Every picture comes from the shot's grade node already graded (grading.py), so
the graph runs no colour filter.
- fades (`fade`, to the transition's colour), then the joins: dissolves / wipes
  / dips by `xfade` (fade, wipeleft/right/up/down, fadeblack/fadewhite) with
  overlap semantics (shot i+1 starts d frames before shot i ends, so total =
  sum(frames) - sum(d)), and cuts and match cuts by one `concat` of the runs
  of shots that transitions join.
The output pad is [v]. Paths are relative to the cache's objects folder, where
encode runs ffmpeg. edit.json records each shot's record range, which ranges are
meant to be black (fades, dips) or still (shots where nothing moves), for QC.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filmc.runtime.backend import NodeError, NodeOutputs
from filmc.runtime.colour.cube import atomic_write_text

from .drawing import hex_rgb
from .motion import Motion, evaluate, layer_geometry, slow_move_stretches
from .picture_scan import FREEZE_SECONDS
from .tools import fps_fraction, frames_to_seconds, seconds_text, timebase

WIPES = {"left": "wipeleft", "right": "wiperight", "up": "wipeup", "down": "wipedown"}
SCALE_FLAGS = "bilinear"
DIPS = ("fadeblack", "fadewhite")


@dataclass(frozen=True)
class Working:
    """The pixel layout shots are composited in. Planar RGB suits every profile; a profile that
    delivers 8-bit 4:2:0 BT.709 (the web and streaming ones) gets the same picture composited in
    that layout instead: each still layer is converted once, before it loops, and every per-frame
    filter then moves half the bytes, with no conversion of the finished frames (measured on the
    short example at 640x360: the graph's CPU 2.07 -> 1.30 s, its frames within 60 dB PSNR of RGB)."""

    name: str
    opaque: str
    """Format of layers without alpha and of each shot's result."""
    alpha: str
    overlay: str
    """overlay's `format` option."""
    into: str
    """Filters that bring an RGB picture into this layout ('' for RGB itself)."""
    crop: str
    """crop's options before w/h/x/y: YUV crops exactly, so odd camera offsets are not rounded."""

    def convert(self, fmt: str) -> str:
        return f"{self.into},format={fmt}" if self.into else f"format={fmt}"


RGB = Working("rgb", "gbrp", "rgba", "gbrp", "", "")
YUV420 = Working("yuv420p", "yuv420p", "yuva420p", "yuv420", "scale=out_color_matrix=bt709:out_range=tv", "exact=1:")
FROM_YUV420 = "scale=in_color_matrix=bt709:in_range=tv,format=gbrp"
GRAPHS = {RGB.name: "filtergraph.txt", YUV420.name: "filtergraph_yuv420p.txt"}
"""The graph file assemble writes for each working layout (encode_video picks by profile)."""


@dataclass(frozen=True)
class Shot:
    index: int
    shot: str
    frames: int
    info: dict[str, Any]
    """The shot's grade.json, its `source` pointing at the graded pictures (grading.graded_source)."""
    fade_in: int
    fade_out: int
    fade_colour: str


def xfade_name(transition: dict[str, Any]) -> str:
    effect = transition.get("effect")
    if effect == "dissolve":
        return "fade"
    if effect == "wipe":
        return WIPES.get(str(transition.get("direction") or "left"), "wipeleft")
    if effect == "dip":
        r, g, b = hex_rgb(str(transition.get("colour") or "#000000"))
        return "fadewhite" if 0.2126 * r + 0.7152 * g + 0.0722 * b >= 128 else "fadeblack"
    raise NodeError(f"assemble: transition effect {effect!r} is not an overlapping transition")


def _colour(hex_colour: str) -> str:
    r, g, b = hex_rgb(hex_colour, (0, 0, 0))
    return f"0x{r:02x}{g:02x}{b:02x}"


def _loop(frames: int, fps: str) -> str:
    """Repeat one decoded frame `frames` times and stamp the frames at the film rate."""
    return f"loop=loop={frames - 1}:size=1:start=0,settb=expr={timebase(fps)},setpts=N,fps={fps}"


def _concat(n: int, fps: str) -> str:
    """Cuts: concat stamps in microseconds; restamp at the film rate so xfade and the encoder agree."""
    return f"concat=n={n}:v=1:a=0,settb=expr={timebase(fps)},setpts=N"


def _quote(expression: str) -> str:
    return f"'{expression}'"


def _layer_chain(path: str, pix_fmt: str, layer: dict[str, Any], lw: int, lh: int, width: int, height: int,
                 frames: int, fps: str, still: bool, working: Working) -> str:
    """movie -> (scale) -> (loop) -> crop, for one layer; `still` keeps it to one frame (no loop)."""
    parts = [f"movie={path}", working.convert(pix_fmt)]
    zoom, x, y = layer["zoom"], layer["x"], layer["y"]
    if layer["zoom_constant"]:
        k = evaluate(zoom, 0)
        if k != 1.0:
            parts.append(f"scale=w={_even(lw * k)}:h={_even(lh * k)}:flags={SCALE_FLAGS}")
        if not still:
            parts.append(_loop(frames, fps))
    else:
        parts.append(_loop(frames, fps))
        parts.append(f"scale=w={_quote(f'trunc({lw}*{zoom}/2)*2')}:h={_quote(f'trunc({lh}*{zoom}/2)*2')}"
                     f":eval=frame:flags={SCALE_FLAGS}")
    if layer["offset_constant"]:
        parts.append(f"crop={working.crop}w={width}:h={height}:x=(in_w-{width})/2+{evaluate(x, 0):.0f}"
                     f":y=(in_h-{height})/2+{evaluate(y, 0):.0f}")
    else:
        parts.append(f"crop={working.crop}w={width}:h={height}:x={_quote(f'(in_w-{width})/2+{x}')}"
                     f":y={_quote(f'(in_h-{height})/2+{y}')}")
    parts.append("setsar=1")  # scaling to rounded sizes skews the sample aspect; square it again
    return ",".join(parts)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _neutral(hex_colour: str) -> bool:
    r, g, b = hex_rgb(hex_colour, (0, 0, 0))
    return r == g == b


def shot_chain(s: Shot, width: int, height: int, fps: str, working: Working = RGB) -> list[str]:
    """Filter statements that produce [s<i>] for one shot, in the `working` layout.

    ffmpeg's fade turns its colour into YUV itself (older releases with BT.601 weights, right only
    for greys): a YUV shot that fades through another colour is faded in RGB, then converted."""
    if working is not RGB and (s.fade_in or s.fade_out) and not _neutral(s.fade_colour):
        lines = shot_chain(s, width, height, fps, RGB)
        return lines[:-1] + [lines[-1].removesuffix(f"[s{s.index}]") + f",{working.convert(working.opaque)}"
                             f"[s{s.index}]"]
    i, src, out = s.index, s.info["source"], f"[s{s.index}]"
    fades = []
    if s.fade_in:
        fades.append(f"fade=t=in:s=0:n={s.fade_in}:color={_colour(s.fade_colour)}")
    if s.fade_out:
        # ffmpeg's fade reaches the colour n frames after its start: start one frame early so the
        # shot's last frame is the colour, as its first frame is on a fade in.
        start = max(0, s.frames - s.fade_out - 1)
        fades.append(f"fade=t=out:s={start}:n={s.frames - 1 - start}:color={_colour(s.fade_colour)}")
    tail = "".join("," + f for f in fades)
    opaque = working.opaque
    if src["kind"] == "clip":
        return [f"movie={src['clip']},settb=expr={timebase(fps)},setpts=N,fps={fps},{working.convert(opaque)},"
                f"setsar=1{tail}{out}"]
    motion = Motion.from_json({k: v for k, v in src.items() if k in Motion.__dataclass_fields__})
    lw, lh = motion.layer_resolution
    still = motion.static
    layers = src["layers"]
    lines = [_layer_chain(layers["background"], opaque, src["background"], lw, lh, width, height, s.frames, fps,
                          still, working) + f"[b{i}]"]
    picture = f"[b{i}]"
    if not src.get("subjects_empty"):
        lines.append(_layer_chain(layers["subjects"], working.alpha, src["subjects"], lw, lh, width, height,
                                  s.frames, fps, still, working) + f"[u{i}]")
        lines.append(f"{picture}[u{i}]overlay=x=0:y=0:format={working.overlay}[c{i}]")
        picture = f"[c{i}]"
    box = src.get("burnin_box")
    after = (("," + _loop(s.frames, fps)) if still else "") + tail
    if box:
        # From an even corner: overlay rounds a 4:2:0 position down to even, and the layer is
        # transparent around its text, so the wider box draws the same burn-in in any layout.
        x0, y0, x1, y1 = box[0] // 2 * 2, box[1] // 2 * 2, box[2], box[3]
        lines.append(f"movie={layers['burnin']},{working.convert(working.alpha)},"
                     f"crop={working.crop}w={x1 - x0}:h={y1 - y0}:x={x0}:y={y0}[t{i}]")
        lines.append(f"{picture}[t{i}]overlay=x={x0}:y={y0}:format={working.overlay}:eof_action=repeat,"
                     f"format={opaque},setsar=1{after}{out}")
    else:
        lines.append(f"{picture}format={opaque},setsar=1{after}{out}")
    return lines


def _dip_in_rgb(run: str, run_length: int, shot: str, d: int, name: str, duration: str, fps: str, out: str,
                tag: int) -> list[str]:
    """A dip between YUV pictures, made in RGB: ffmpeg's xfade dips a YUV picture to full-range
    black (Y=0, under legal black) or white. Only the d frames each side of the join are
    converted, dipped and converted back; the rest passes through."""
    head = run_length - d
    return [
        f"{run}split[da{tag}][db{tag}]",
        f"[da{tag}]trim=end_frame={head}[dh{tag}]",
        f"[db{tag}]trim=start_frame={head},setpts=PTS-STARTPTS,{FROM_YUV420}[dt{tag}]",
        f"{shot}split[dc{tag}][dd{tag}]",
        f"[dc{tag}]trim=end_frame={d},{FROM_YUV420}[di{tag}]",
        f"[dd{tag}]trim=start_frame={d},setpts=PTS-STARTPTS[dr{tag}]",
        f"[dt{tag}][di{tag}]xfade=transition={name}:duration={duration}:offset=0,"
        f"{YUV420.convert(YUV420.opaque)}[dx{tag}]",
        f"[dh{tag}][dx{tag}][dr{tag}]{_concat(3, fps)}{out}",
    ]


def build_graph(shots: list[Shot], transitions: list[dict[str, Any]], width: int, height: int,
                fps: str, working: Working = RGB) -> tuple[str, dict[str, Any]]:
    """The filtergraph text (output pad [v], in the `working` layout) and the edit description.

    Shots joined by overlapping transitions form runs (each an `xfade` chain, offsets counted
    from the run's start); the runs are joined by one `concat`. A frame therefore passes
    through its shot's filters, its run's few xfades and one concat, however long the film:
    a left fold over every join would make early frames of a feature cross hundreds of filters.
    """
    joins = {int(t["after"]): t for t in transitions}
    lines: list[str] = []
    for s in shots:
        lines.extend(shot_chain(s, width, height, fps, working))
    runs: list[str] = []
    run, run_length = f"[s{shots[0].index}]", shots[0].frames
    length = shots[0].frames
    starts = [0]
    edit_transitions = []
    for prev, s in zip(shots, shots[1:], strict=False):
        t = joins.get(prev.index)
        if t is None:
            runs.append(run)
            run, run_length = f"[s{s.index}]", s.frames
            starts.append(length)
            length += s.frames
            continue
        d = int(t["frames"])
        if d > s.frames or d > prev.frames:
            raise NodeError(f"assemble: the {t.get('effect')} of {d} frames between {prev.shot} ({prev.frames} frames) "
                            f"and {s.shot} ({s.frames} frames) is longer than a shot it joins")
        name = xfade_name(t)
        duration = seconds_text(frames_to_seconds(d, fps))
        offset = seconds_text(frames_to_seconds(run_length - d, fps))
        if working is not RGB and name in DIPS:
            lines += _dip_in_rgb(run, run_length, f"[s{s.index}]", d, name, duration, fps, f"[x{s.index}]", s.index)
        else:
            lines.append(f"{run}[s{s.index}]xfade=transition={name}:duration={duration}:offset={offset}"
                         f"[x{s.index}]")
        edit_transitions.append({"after": prev.index, "xfade": name, "frames": d, "record_start": length - d})
        run, run_length = f"[x{s.index}]", run_length + s.frames - d
        starts.append(length - d)
        length += s.frames - d
    runs.append(run)
    if len(runs) > 1:
        lines.append(f"{''.join(runs)}{_concat(len(runs), fps)}[v]")
    else:
        lines.append(f"{runs[0]}null[v]")
    edit = _edit(shots, starts, edit_transitions, length, width, height, fps)
    return ";\n".join(lines) + "\n", edit


def _edit(shots: list[Shot], starts: list[int], transitions: list[dict[str, Any]], frames: int, width: int,
          height: int, fps: str) -> dict[str, Any]:
    black: list[list[int]] = []
    still: list[list[int]] = []
    slow: list[list[int]] = []
    entries = []
    for s, start in zip(shots, starts, strict=True):
        src = s.info["source"]
        is_still = src["kind"] == "layers" and bool(src.get("static"))
        entries.append({"shot": s.shot, "frames": s.frames, "record_start": start, "record_end": start + s.frames,
                        "kind": src["kind"], "still": is_still, "fade_in": s.fade_in, "fade_out": s.fade_out,
                        "fade_colour": s.fade_colour, "identity_grade": bool(s.info.get("identity"))})
        if s.fade_in:
            black.append([start, start + s.fade_in])
        if s.fade_out:
            black.append([start + s.frames - s.fade_out, start + s.frames])
        if is_still:
            still.append([start, start + s.frames])
        elif src["kind"] == "layers":
            slow += [[start + a, start + b] for a, b in _slow_moves(src, s.frames, width, height, fps)]
    for t in transitions:
        if t["xfade"] in ("fadeblack", "fadewhite"):
            black.append([t["record_start"], t["record_start"] + t["frames"]])
    return {"frames": frames, "fps": fps, "resolution": [width, height], "shots": entries,
            "transitions": transitions, "intended_black": black, "intended_still": still, "slow_move_still": slow}


def _slow_moves(src: dict[str, Any], frames: int, width: int, height: int, fps: str) -> list[list[int]]:
    """Stretches of a moving shot, long enough for QC's freeze detector, over which its camera moves too
    little to show (a slow move at a small preview scale): motion.slow_move_stretches."""
    motion = Motion.from_json({k: v for k, v in src.items() if k in Motion.__dataclass_fields__})
    lw, lh = motion.layer_resolution
    layers = [motion.background] + ([] if src.get("subjects_empty") else [motion.subjects])
    geometry = [layer_geometry(layer, lw, lh, width, height, frames) for layer in layers]
    return slow_move_stretches(geometry, math.ceil(FREEZE_SECONDS * fps_fraction(fps)))


def assemble(params: dict[str, Any], inputs: list[NodeOutputs], workdir: Path) -> None:
    """Write filtergraph.txt and edit.json; check the frame arithmetic against `frames`."""
    from .grading import graded_source

    width, height = params["resolution"]
    fps = params["fps"]
    shots = []
    for clip in params["clips"]:
        grade = inputs[int(clip["input"])]
        info = json.loads(grade.path("grade.json").read_text(encoding="utf-8"))
        if int(info["frames"]) != int(clip["frames"]):
            raise NodeError(f"assemble: shot {clip['shot']} is {info['frames']} frames, the edit expects {clip['frames']}")
        info["source"] = graded_source(grade, info)
        shots.append(Shot(index=len(shots), shot=clip["shot"], frames=int(clip["frames"]), info=info,
                          fade_in=int(clip.get("fade_in") or 0), fade_out=int(clip.get("fade_out") or 0),
                          fade_colour=str(clip.get("fade_colour") or "#000000")))
    if not shots:
        raise NodeError("assemble: the film has no shots")
    transitions = params.get("transitions") or []
    graph, edit = build_graph(shots, transitions, width, height, fps)
    expected = sum(s.frames for s in shots) - sum(int(t["frames"]) for t in transitions)
    if edit["frames"] != expected or edit["frames"] != int(params["frames"]):
        raise NodeError(f"assemble: the edit is {edit['frames']} frames; shots minus transitions give {expected}, "
                        f"the timeline says {params['frames']}")
    atomic_write_text(workdir / GRAPHS[RGB.name], graph)
    atomic_write_text(workdir / GRAPHS[YUV420.name], build_graph(shots, transitions, width, height, fps, YUV420)[0])
    atomic_write_text(workdir / "edit.json", json.dumps(edit, indent=1, sort_keys=True))
