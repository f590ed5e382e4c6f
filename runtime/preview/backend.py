"""The preview backend: a deterministic CPU animatic, pixels pushed by ffmpeg.

Python draws stills once (plates, portraits, each shot's layers); every
per-frame operation (camera moves, grade, fades, transitions, subtitles, colour
tags, encoding) happens inside one ffmpeg filtergraph per export profile,
streaming straight into the encoder. See /work/notes/preview_design.md.

Op outputs (the plan declares them for backend "preview"):
plate.png; portrait.png; compose -> background.png, subjects.png, burnin.png;
animate -> motion.json; conform -> clip.mov, conform.json; grade -> grade.json, grade.cube and
the graded background.png + subjects.png (painted shots) or clip.mov (footage);
assemble -> edit.json, filtergraph.txt; encode_video -> the profile's video stream (or frames);
encode_audio -> the profile's audio stream and audio_true_peak.json; encode -> the profile's file(s)
(the two streams muxed) and a copy of that record;
speech/bed/sfx -> WAV; mix -> mix.wav, stems, loudness.json; subtitles -> SRT,
WebVTT; contact_sheet.png; qc.json.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

from filmc.compiler.render_plan import Op, PlanNode
from filmc.runtime.backend import Backend, Capabilities, NodeError, NodeOutputs, RunContext

PREVIEW_VERSION = "preview-4"
# Each op imports what it uses when it runs: loading the backend (every `filmc build`, a no-op
# rebuild included) stays cheap, and workers pay for numpy/scipy/OCIO only for ops that need them.


def _ordered(node: PlanNode, inputs: dict[str, NodeOutputs]) -> list[NodeOutputs]:
    """The node's inputs in plan order (params refer to them by index)."""
    return [inputs[i] for i in node.inputs]


class PreviewBackend(Backend):
    name = "preview"
    version = PREVIEW_VERSION
    capabilities = Capabilities(ops=frozenset(get_args(Op)), devices=frozenset({"cpu"}))
    op_modules = {
        "plate": "plate", "portrait": "portrait", "compose": "compose", "animate": "motion", "conform": "conform",
        "grade": "grading", "assemble": "filtergraph", "encode_video": "encode", "encode_audio": "encode",
        "encode": "encode", "contact_sheet": "contact_sheet", "qc": "qc", "speech": "sound_ops",
        "bed": "sound_ops", "sfx": "sound_ops", "mix": "sound_ops", "subtitles": "sound_ops",
    }
    """The module each op's work lives in: what a worker imports before running it."""
    worker_preload = tuple(sorted({f"filmc.runtime.preview.{m}" for m in op_modules.values()}))
    worker_groups = {"sound": frozenset({"speech", "bed", "sfx", "mix", "subtitles"})}
    """The sound engine (scipy.signal: half a second to import) loads in a sound worker of its own,
    beside the first pictures, instead of holding up every worker's start."""

    def preload_for(self, ops: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted({f"filmc.runtime.preview.{self.op_modules[op]}" for op in ops if op in self.op_modules}))

    # --- pictures ------------------------------------------------------------------

    def op_plate(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from filmc.compiler.plan import resolve_path

        from .drawing import save_png
        from .plate import render_plate

        image = node.params.get("image")
        path = resolve_path(image["path"], ctx.film) if image else None
        if path is not None and not path.is_file():
            raise NodeError(f"plate of {node.params.get('location')}: image not found: {path}")
        try:
            plate = render_plate(node.params, path)
        except OSError as exc:
            raise NodeError(f"plate of {node.params.get('location')}: cannot read {path}: {exc}") from None
        save_png(plate, workdir / "plate.png")

    def op_portrait(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from .drawing import save_png
        from .portrait import render_portrait

        save_png(render_portrait(node.params), workdir / "portrait.png")

    def op_compose(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from .compose import compose_layers

        ordered = _ordered(node, inputs)
        portraits = {k: o.path("portrait.png") for k, o in enumerate(ordered) if o.op == "portrait"}
        compose_layers(node.params, ordered[0].path("plate.png"), portraits, workdir)

    def op_animate(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from filmc.runtime.colour.cube import atomic_write_text
        from PIL import Image

        from .motion import camera_motion
        from .tools import ref

        p = node.params
        layers = _ordered(node, inputs)[0]
        width, height = p["resolution"]
        motion = camera_motion(p["camera"], int(p["frames"]), p["fps"], width, height, int(p.get("seed", 0)))
        with Image.open(layers.path("burnin.png")) as img:
            box = img.getchannel("A").getbbox()
        with Image.open(layers.path("subjects.png")) as img:
            empty = img.getchannel("A").getbbox() is None
        data = motion.to_json() | {
            "layers": {name: ref(layers, f"{name}.png") for name in ("background", "subjects", "burnin")},
            "burnin_box": list(box) if box else None,
            "subjects_empty": empty,
        }
        atomic_write_text(workdir / "motion.json", json.dumps(data, indent=1, sort_keys=True))

    def op_conform(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from .conform import conform_clip

        conform_clip(node.params, ctx.film, workdir / node.outputs[0], ctx.threads)

    def op_grade(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from .grading import grade_shot

        ordered = _ordered(node, inputs)
        grade_shot(node.params, ordered[0], ctx.film, workdir, ordered[1] if len(ordered) > 1 else None,
                   ctx.threads)

    def op_assemble(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from .filtergraph import assemble

        assemble(node.params, _ordered(node, inputs), workdir)

    def op_encode_video(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path,
                        ctx: RunContext) -> None:
        from .encode import encode_video

        ordered = _ordered(node, inputs)
        picture = next(o for o in ordered if o.op == "assemble")
        subtitles = next((o for o in ordered if o.op == "subtitles"), None)
        encode_video(node.params, node.outputs, picture, subtitles, workdir, ctx.scratch_dir(), ctx.threads)

    def op_encode(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from .encode import encode

        ordered = _ordered(node, inputs)
        video = next(o for o in ordered if o.op == "encode_video")
        audio = next((o for o in ordered if o.op == "encode_audio"), None)
        mix = next((o for o in ordered if o.op == "mix"), None)
        subtitles = next((o for o in ordered if o.op == "subtitles"), None)
        encode(node.params, node.outputs, video, audio, mix, subtitles, workdir, ctx.scratch_dir(), ctx.threads)

    def op_encode_audio(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path,
                        ctx: RunContext) -> None:
        from .encode import encode_audio

        mix = next(o for o in _ordered(node, inputs) if o.op == "mix")
        encode_audio(node.params, node.outputs, mix, workdir, ctx.scratch_dir())

    def op_contact_sheet(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path,
                         ctx: RunContext) -> None:
        from .contact_sheet import contact_sheet

        contact_sheet(node.params, _ordered(node, inputs), workdir / "contact_sheet.png")

    def op_qc(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from .qc import run_qc

        ordered = _ordered(node, inputs)
        p = node.params
        encodes = [ordered[int(e["input"])] for e in p["profiles"]]
        mix = ordered[int(p["mix_input"])] if "mix_input" in p else next(o for o in ordered if o.op == "mix")
        picture = next((o for o in ordered if o.op == "assemble"), None)
        edit = json.loads(picture.path("edit.json").read_text(encoding="utf-8")) if picture else None
        grades = [(g, ordered[int(g["input"])]) for g in p.get("grades", [])]
        conforms = [(c, ordered[int(c["input"])]) for c in p.get("conforms", [])]
        run_qc(p, encodes, mix, edit, workdir / "qc.json", grades, conforms)

    # --- sound ---------------------------------------------------------------------

    def op_speech(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from . import sound_ops

        sound_ops.speech(node.params, workdir / "speech.wav")

    def op_bed(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from . import sound_ops

        sound_ops.bed(node.params, ctx.film, workdir / "bed.wav")

    def op_sfx(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from . import sound_ops

        sound_ops.sfx(node.params, ctx.film, workdir / "sfx.wav")

    def op_mix(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from . import sound_ops

        sound_ops.mix(node.params, _ordered(node, inputs), workdir)

    def op_subtitles(self, node: PlanNode, inputs: dict[str, NodeOutputs], workdir: Path, ctx: RunContext) -> None:
        from . import sound_ops

        sound_ops.subtitles(node.params, _ordered(node, inputs), workdir)
