"""The `grade` op: the shot's exact colour chain, applied once to what the shot is made of.

Preview pixels (painted stills, conformed footage) are display code values in
the film's output space, so the chain is display -> working space -> shot match
-> grade (exposure, white balance, contrast, saturation, LUT at strength; see
runtime/colour/chain.py) -> display, converted colorimetrically: the ACES view's
inverse is not exact (a neutral round trip moves saturated colours by up to 0.56),
while the colorimetric one is, so an almost-neutral grade looks almost neutral.

Where the grade runs is what makes it cheap:
- a painted shot is two still layers (background, subjects) moved by the camera
  in assembly, so the grade node grades the two stills through the exact OCIO
  chain (no bake, no error; ~0.01 s per 800x450 layer) and assembly runs no colour
  filter at all. Grading the layers instead of the composite differs only on the
  subjects' soft alpha edges; the burn-in layer stays ungraded.
- footage is graded frame by frame: the chain is baked (1D shaper, 65^3
  tetrahedral LUT, 1D output encoding; runtime/colour/bake.py), applied in float
  by one ffmpeg pass into a graded lossless clip (conform.INTERMEDIATE), and the
  bake's error against the exact chain on a chart (measure_bake) is kept in
  grade.json for QC.
- an identity grade (neutral, no match) links its inputs: nothing is computed.
grade.cube (33^3) is the chain for thumbnails of other backends and for tools.

Shot matching: a non-reference shot's grade node also takes its scene's
reference shot's compose (or conform) node; each side's colour statistics come
from a representative picture (the keyframe's background + subjects composite,
or a conformed clip's middle frame) converted to the working space, and the
LabTransfer correction (runtime/colour/match.py) becomes the chain's match step.
"""

from __future__ import annotations

import functools
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
from filmc.compiler.plan import resolve_path
from filmc.runtime.backend import NodeError, NodeOutputs
from filmc.runtime.colour.bake import Bake, bake_chain, measure_bake, process_bake_dir
from filmc.runtime.colour.chain import ColourChain, build_chain
from filmc.runtime.colour.cube import (
    Cube,
    LutError,
    atomic_write_text,
    identity_table,
    lattice_inputs,
    write_cube,
)
from filmc.runtime.colour.grade import Grade, GradeError
from filmc.runtime.colour.match import LabStats, LabTransfer, ShotMatch, lab_stats, match_shot
from filmc.runtime.colour.spaces import ColourSpaceError, convert, space

from .tools import objects_root, ref

CUBE_SIZE = 33
BAKE_SIZE = 65
"""Measured: 65^3 keeps display-referred bakes within 2 codes (rec709 1.1, hdr10 1.8; 45^3: 2.2 / 3.2)
at 40% of 97^3's bake time and size."""
BAKE_1D_SIZE = 4096
"""The 1D stages' nodes: same error as 65536 here, and ffmpeg parses every LUT file once per filter
instance (each graded layer), so smaller files start faster (0.18 s vs 0.26 s per instance)."""
STATS_WIDTH = 256
"""Statistics are taken on pictures scaled to this width: means and spreads barely move, time does."""
NEUTRAL = {"exposure": 0.0, "contrast": 1.0, "saturation": 1.0, "temperature": 0.0, "tint": 0.0}
STAGE_FILES = {"shaper": "bake_shaper.cube", "cube": "bake_lut.cube", "encoder": "bake_encode.cube"}


def is_neutral(grade: dict[str, Any]) -> bool:
    """No LUT at any strength and every operator at its neutral value."""
    if grade.get("lut") and float(grade.get("strength") or 0.0) > 0.0:
        return False
    return all(float(grade.get(k, v)) == v for k, v in NEUTRAL.items())


def shot_source(source: NodeOutputs) -> dict[str, Any]:
    """What assemble needs to draw the shot: its layers and move, or its conformed clip."""
    if source.op == "animate":
        motion = json.loads(source.path("motion.json").read_text(encoding="utf-8"))
        return {"kind": "layers", **motion}
    if source.op == "conform":
        return {"kind": "clip", "clip": ref(source, "clip.mov")}
    raise NodeError(f"grade cannot take a {source.op} node as its source")


def _file_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns


def _loaded(path: Path) -> Any:
    """The picture at `path`, decoded (a Pillow image that callers must not modify)."""
    return _decoded(_file_key(path))


@functools.lru_cache(maxsize=4)
def _decoded(key: tuple[str, int, int]) -> Any:
    """A painted shot's two layers are read for its match picture and again to be graded: kept decoded
    between the two (cached objects never change; the key holds each file's size and modification time)."""
    from PIL import Image

    with Image.open(key[0]) as opened:
        opened.load()
    return opened


def _composite(background: Path, subjects: Path, resolution: tuple[int, int]) -> np.ndarray:
    """Subjects over background, cropped to the frame the camera sees at rest (the layers' centre)."""
    picture = _loaded(background).convert("RGBA")
    fg = _loaded(subjects)
    if fg.mode != "RGBA" or fg.size != picture.size:
        fg = fg.convert("RGBA").resize(picture.size)
    picture.alpha_composite(fg)
    width, height = min(resolution[0], picture.width), min(resolution[1], picture.height)
    left, top = (picture.width - width) // 2, (picture.height - height) // 2
    return _small(picture.convert("RGB").crop((left, top, left + width, top + height)))


def _small(picture: Any) -> np.ndarray:
    from PIL import Image

    if picture.width > STATS_WIDTH:
        picture = picture.resize((STATS_WIDTH, max(1, round(picture.height * STATS_WIDTH / picture.width))),
                                 Image.Resampling.BILINEAR)
    return np.asarray(picture, dtype=np.float32) / 255.0


def _middle_frame(clip: Path) -> np.ndarray:
    """The clip's middle frame (index frames // 2 in display order)."""
    import av
    from PIL import Image

    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        declared = int(stream.frames or 0)
        middle = _frame_from_keyframe(container, stream, declared // 2) if declared else None
    if middle is None:
        middle = _decoded_middle(clip)
    return _small(Image.fromarray(middle))


def _frame_from_keyframe(container: Any, stream: Any, index: int) -> np.ndarray | None:
    """Frame `index` decoded from the last keyframe before it (a conformed clip's every frame is one):
    only for codecs that never reorder frames, whose packets come in display order. None where that
    cannot be shown (reordering codec, out-of-order or missing timestamps, a short stream)."""
    if stream.codec_context.codec.reorder:
        return None
    run: list[Any] = []
    seen, last_pts = 0, None
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        if packet.pts is None or (last_pts is not None and packet.pts <= last_pts):
            return None
        last_pts = packet.pts
        run = [packet] if packet.is_keyframe else run + [packet]
        seen += 1
        if seen == index + 1:
            break
    if seen != index + 1 or not run[0].is_keyframe:
        return None
    decoder = stream.codec_context
    frames = [f for p in run for f in decoder.decode(p)] + list(decoder.decode(None))
    wanted = [f for f in frames if f.pts == last_pts]
    return wanted[0].to_ndarray(format="rgb24") if len(wanted) == 1 else None


def _decoded_middle(clip: Path) -> np.ndarray:
    """Every frame decoded, the middle one kept: the general way."""
    import av

    with av.open(str(clip)) as container:
        frames = list(container.decode(video=0))
    if not frames:
        raise NodeError(f"shot match: {clip.name} has no frames")
    return frames[len(frames) // 2].to_ndarray(format="rgb24")


def match_picture(outputs: NodeOutputs, resolution: tuple[int, int]) -> np.ndarray:
    """A shot's representative picture (H x W x 3 display codes, 0-1) from its compose, animate or conform."""
    return _cached_picture(_picture_files(outputs), resolution)


def _picture_files(outputs: NodeOutputs) -> tuple[Path, ...]:
    if outputs.op == "compose":
        files = (outputs.path("background.png"), outputs.path("subjects.png"))
    elif outputs.op == "animate":
        layers = json.loads(outputs.path("motion.json").read_text(encoding="utf-8"))["layers"]
        root = objects_root(outputs)
        files = (root / layers["background"], root / layers["subjects"])
    elif outputs.op == "conform":
        files = (outputs.path("clip.mov"),)
    else:
        raise NodeError(f"shot match cannot read pictures from a {outputs.op} node")
    return files


def _picture_key(files: tuple[Path, ...], resolution: tuple[int, int]) -> tuple[Any, ...]:
    return (resolution, *(_file_key(f) for f in files))


def _read_picture(files: tuple[Path, ...], resolution: tuple[int, int]) -> np.ndarray:
    return _middle_frame(files[0]) if len(files) == 1 else _composite(files[0], files[1], resolution)


def _cached_picture(files: tuple[Path, ...], resolution: tuple[int, int]) -> np.ndarray:
    return _picture_for(_picture_key(files, resolution), files, resolution)


@functools.lru_cache(maxsize=16)
def _picture_for(key: tuple[Any, ...], files: tuple[Path, ...], resolution: tuple[int, int]) -> np.ndarray:
    """A scene's reference picture serves every shot matched to it; cached objects never change, and the key
    holds each file's size and modification time besides."""
    picture = _read_picture(files, resolution)
    picture.setflags(write=False)
    return picture


def _reference_stats(reference: NodeOutputs, resolution: tuple[int, int], display: str, lin: str) -> LabStats:
    files = _picture_files(reference)
    return _stats_for(_picture_key(files, resolution), files, resolution, display, lin)


@functools.lru_cache(maxsize=16)
def _stats_for(key: tuple[Any, ...], files: tuple[Path, ...], resolution: tuple[int, int], display: str,
               lin: str) -> LabStats:
    """A scene's reference serves every shot matched to it: its match statistics are kept, keyed like
    its picture and by the conversion into the working space."""
    return lab_stats(convert(_cached_picture(files, resolution), display, lin), lin)


def _linear(working: str) -> str:
    return "ACEScg" if space(working).kind == "log" else space(working).name


def shot_match(shot: str, source: NodeOutputs, reference: NodeOutputs, display: str, working: str,
               resolution: tuple[int, int]) -> ShotMatch:
    """The shot's correction to the reference, from their pictures in the scene-linear working space."""
    lin = _linear(working)
    frames = convert(_read_picture(_picture_files(source), resolution), display, lin)
    return match_shot(frames, _reference_stats(reference, resolution, display, lin), working=lin, shot=shot)


def grade_shot(params: dict[str, Any], source: NodeOutputs, film: str, workdir: Path,
               reference: NodeOutputs | None = None, threads: int = 1) -> None:
    """Write grade.json, grade.cube and the graded pictures (background.png + subjects.png, or
    clip.mov) into `workdir`."""
    g = params["grade"]
    out = str(params.get("output_space") or "rec709")
    working = str(params.get("working_space") or "ACEScg")
    info: dict[str, Any] = {"shot": params["shot"], "frames": params["frames"], "fps": params["fps"],
                            "resolution": params["resolution"], "grade": g, "output_space": out,
                            "working_space": params.get("working_space"), "cube": "grade.cube",
                            "source": shot_source(source), "match": None, "stages": []}
    match = params.get("match")
    correction: LabTransfer | None = None
    if match and reference is not None:
        try:
            size = (int(params["resolution"][0]), int(params["resolution"][1]))
            m = shot_match(params["shot"], source, reference, out, working, size)
        except ColourSpaceError as exc:
            raise NodeError(f"shot match of {params['shot']}: {exc}") from None
        correction = m.correction
        info["match"] = {"reference": match["reference"], "delta_e_before": round(m.delta_e_before, 3),
                         "delta_e_after": round(m.delta_e_after, 3), "correction": correction.params()}
    pictures = _source_pictures(source)
    if is_neutral(g) and correction is None:
        write_cube(workdir / "grade.cube", Cube(identity_table(2), title="filmc identity grade"))
        for name, path in pictures.items():
            _link(path, workdir / name)
        info.update(identity=True, size=2, accuracy=None, applied="linked")
        atomic_write_text(workdir / "grade.json", json.dumps(info, indent=1, sort_keys=True))
        return
    lut = resolve_path(g["lut"]["path"], film) if g.get("lut") else None
    if lut is not None and not lut.is_file():
        raise NodeError(f"grade {g.get('name') or ''}: LUT file not found: {lut}")
    try:
        chain = _chain(g, lut, out, working, correction)
        _thumbnail_cube(chain, workdir / "grade.cube", g)
        if "clip.mov" in pictures:
            bake, accuracy = _bake(chain)
            info["stages"] = _grade_clip(bake, pictures["clip.mov"], workdir, int(params["frames"]), threads)
            info.update(accuracy=accuracy, bake_size=BAKE_SIZE, applied="baked")
        else:
            for name, path in pictures.items():
                _grade_still(chain, path, workdir / name)
            info.update(accuracy=None, applied="exact")  # no bake: the stills went through the exact chain
    except (GradeError, LutError, ColourSpaceError) as exc:
        raise NodeError(f"grade {g.get('name') or ''} of shot {params['shot']}: {exc}") from None
    info.update(identity=False, size=CUBE_SIZE, chain=chain.describe())
    atomic_write_text(workdir / "grade.json", json.dumps(info, indent=1, sort_keys=True))


def graded_source(grade: NodeOutputs, info: dict[str, Any]) -> dict[str, Any]:
    """The shot's source (grade.json `source`) with its pictures swapped for the grade node's graded
    ones, as objects-relative paths: what assembly and thumbnails draw."""
    src = dict(info["source"])
    if src["kind"] == "clip":
        src["clip"] = ref(grade, "clip.mov")
    else:
        src["layers"] = dict(src["layers"]) | {name: ref(grade, f"{name}.png") for name in GRADED_LAYERS}
    return src


GRADED_LAYERS = ("background", "subjects")


def _source_pictures(source: NodeOutputs) -> dict[str, Path]:
    """Output name -> the ungraded picture it is made from."""
    if source.op == "conform":
        return {"clip.mov": source.path("clip.mov")}
    layers = json.loads(source.path("motion.json").read_text(encoding="utf-8"))["layers"]
    root = objects_root(source)
    return {f"{name}.png": root / layers[name] for name in GRADED_LAYERS}


def _link(source: Path, target: Path) -> None:
    """Cached objects are immutable, so an unchanged picture is shared by a hard link (a copy where
    the file system has none)."""
    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copyfile(source, target)


def _grade_still(chain: ColourChain, source: Path, target: Path) -> None:
    """One still through the exact chain; alpha (the subjects' cut-outs) passes untouched."""
    from PIL import Image

    from .drawing import save_png

    img = _loaded(source)
    source_mode = img.mode
    mode = "RGBA" if "A" in img.getbands() else "RGB"
    pixels = np.asarray(img if img.mode == mode else img.convert(mode))
    if mode == "RGB":
        result = grade_codes(chain, pixels.reshape(-1, 3)).reshape(pixels.shape)
    else:
        visible = np.flatnonzero(pixels[..., 3].reshape(-1))
        if not len(visible) and source_mode == "RGBA":
            _link(source, target)  # nothing visible: the grade leaves every pixel as it is
            return
        result = pixels.copy()
        flat = result.reshape(-1, 4)
        flat[visible, :3] = grade_codes(chain, flat[visible, :3])
    save_png(Image.fromarray(result, mode), target)


def grade_codes(chain: ColourChain, codes: np.ndarray) -> np.ndarray:
    """8-bit RGB codes (N x 3) through the chain, each distinct colour once: painted plates hold far
    fewer colours than pixels, and the chain is a per-colour map."""
    if not len(codes):
        return codes
    packed = (codes[:, 0].astype(np.uint32) << 16) | (codes[:, 1].astype(np.uint32) << 8) | codes[:, 2]
    ordered = np.sort(packed)
    colours = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    if len(colours) <= 1 << 16:
        # Each pixel's colour number from a table over all 2^24 codes: only the pages of colours present
        # are touched, and one gather beats unique's argsort or a binary search per pixel.
        slots = _colour_slots()
        slots[colours] = np.arange(len(colours), dtype=np.uint16)
        index = slots[packed]
    else:
        index = np.searchsorted(colours, packed)
    rgb = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=-1).astype(np.float32)
    graded = np.clip(chain.apply(rgb / 255.0), 0.0, 1.0) * 255.0 + 0.5
    return np.take(graded.astype(np.uint8), index, axis=0)  # take: 4x faster than indexing rows here


_SLOTS = threading.local()


def _colour_slots() -> np.ndarray:
    """grade_codes' table over all 2^24 colours, kept for the thread (nodes run in threads with
    `processes=False`): a fresh one faults in its pages on every still (1.1 of its 1.4 ms). Only entries
    just written are read, so old contents do no harm."""
    table = getattr(_SLOTS, "table", None)
    if table is None:
        table = _SLOTS.table = np.empty(1 << 24, dtype=np.uint16)
    return table


def in_float(grade: str, pix_fmt: str) -> str:
    """Run a grade's LUT stages on float pixels: between a 1D shaper, the 3D LUT and a steep 1D output
    encoding, 8-bit intermediates would cost several codes in the shadows."""
    if not grade.startswith("lut1d"):
        return grade
    wide = "gbrapf32le" if pix_fmt == "rgba" else "gbrpf32le"
    return f"format={wide},{grade},format={pix_fmt}"


def _in_float_rounded(stages: str) -> str:
    """in_float for the graded clip, but back to 8-bit through zscale where ffmpeg has it: swscale's
    float -> gbrp rounds up (measured +0.5 codes on average, up to +1); zscale rounds exactly."""
    from .conform import has_zscale

    if not has_zscale():
        return in_float(stages, "gbrp")
    return f"format=gbrpf32le,{stages},zscale=rangein=full:range=full:dither=none,format=gbrp"


def _grade_clip(bake: Bake, clip: Path, workdir: Path, frames: int, threads: int) -> list[dict[str, str]]:
    """The conformed clip through the baked stages, in float, into a graded lossless clip.mov."""
    from filmc.runtime.media_tools import probe

    from .conform import INTERMEDIATE
    from .tools import BITEXACT, ffmpeg

    stages = []
    for kind in ("shaper", "cube", "encoder"):
        path = getattr(bake, kind)
        if path is not None:
            name = STAGE_FILES[kind]
            shutil.copyfile(path, workdir / name)
            stages.append({"filter": "lut3d" if kind == "cube" else "lut1d", "file": name})
    chain = ",".join(f"{s['filter']}=file={s['file']}:interp={'tetrahedral' if s['filter'] == 'lut3d' else 'linear'}"
                     for s in stages)
    ffmpeg(["-i", str(clip), "-map", "0:v:0", "-vf", _in_float_rounded(chain), *INTERMEDIATE,
            "-threads", str(max(1, threads)), *BITEXACT, "-f", "mov", "clip.mov"], cwd=workdir)
    counted = probe(workdir / "clip.mov", count_frames=True).video()
    if counted is None or counted.frames != frames:
        raise NodeError(f"graded clip has {counted.frames if counted else 0} frames, expected {frames}")
    return stages


def _chain(g: dict[str, Any], lut: Path | None, out: str, working: str,
           correction: LabTransfer | None) -> ColourChain:
    grade = Grade(lut=lut, strength=float(g.get("strength") or 0.0) if lut else 1.0,
                  exposure=float(g.get("exposure", 0.0)), contrast=float(g.get("contrast", 1.0)),
                  pivot=float(g.get("pivot", 0.18)), saturation=float(g.get("saturation", 1.0)),
                  temperature=float(g.get("temperature", 0.0)), tint=float(g.get("tint", 0.0)))
    return build_chain(grade, out, out, working=working, rendering="colorimetric", match=correction)


_BAKES: dict[str, tuple[Bake, dict[str, Any]]] = {}


def _bake(chain: ColourChain) -> tuple[Bake, dict[str, Any]]:
    """bake_chain's files for `chain` and their measured error on the chart's in-gamut colours."""
    key = chain.signature()
    if key not in _BAKES:
        bake = bake_chain(chain, process_bake_dir("bakes"), size=BAKE_SIZE, lut1d_size=BAKE_1D_SIZE)
        report = measure_bake(chain, bake, random=False)
        accuracy = {"max_10bit_codes": round(report.max_codes, 3), "p99_10bit_codes": round(report.p99_codes, 3),
                    "in_gamut": report.in_gamut, "chart": report.total}
        _BAKES[key] = (bake, accuracy)
    return _BAKES[key]


def _thumbnail_cube(chain: ColourChain, path: Path, g: dict[str, Any]) -> None:
    """One display-in, display-out 33^3 cube of the chain, for pictures graded in numpy (thumbnails)."""
    values = chain.apply(lattice_inputs(CUBE_SIZE).reshape(-1, 3).astype(np.float32))
    table = np.clip(values.astype(np.float64), 0.0, 1.0).reshape(CUBE_SIZE, CUBE_SIZE, CUBE_SIZE, 3)
    cube = Cube(table, title=f"filmc grade {g.get('name') or ''}".strip(),
                comments=tuple(f"step: {s}" for s in chain.describe()))
    write_cube(path, cube)
