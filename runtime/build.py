"""`filmc build`: check a film, plan it, run the plan, deliver the results.

1. Check (diagnostics as `filmc check` prints them; errors stop the build, exit 1).
2. Plan for the chosen backend (scale 0.5 by default for the preview backend).
   Every export profile is validated before anything renders, so a broken
   profile is reported at its definition's line.
3. Execute with the cached, parallel executor. The preview backend's assemble
   and encode read the layers of every shot by path, so when any earlier object
   is missing from the cache those nodes are built first, in their own pass.
4. Deliver into the output folder, each file written atomically: the film per
   profile (`<slug>.<ext>`; `<slug>_<profile>.<ext>` when two profiles would
   share a name), sidecar subtitles, `<slug>.otio`, `contact_sheet.png`,
   `qc.json`, `mix.wav` and `stems/`, `<slug>.srt`/`.vtt`, and the rendered
   sound clips the timeline points at (`audio/`).

The OTIO timeline points every shot clip at the first profile's encoded film
(which is one file), with the clip's source range at its record position; the
frames under a transition are therefore the film's own, already mixed frames.
(When every profile is an image sequence, shot clips stay MissingReferences.)
Dialogue, bed and effect clips point at their rendered WAVs under `audio/`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from filmc.atomic import link_or_copy, replacing, write_text
from filmc.compiler.render_plan import PlanNode, RenderPlan

from .backend import Backend
from .cache import INDEX_NAME, Cache, CacheBusy
from .executor import BuildResult, Checkpoint, PlanError, execute, select, warm_workers
from .progress import make_renderer

if TYPE_CHECKING:
    from filmc.compiler.extend import Overflow

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
DEFAULT_PREVIEW_SCALE = 0.5
FINISHING_OPS = frozenset({"assemble", "encode", "contact_sheet", "qc"})
"""Ops that read (through their inputs' files) objects of nodes they do not list as inputs."""


class BuildError(Exception):
    """A user-facing failure before or after execution; `code` is the exit status. `located`
    messages already start with their .film location and severity, like diagnostics."""

    def __init__(self, message: str, code: int = EXIT_ERRORS, located: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.located = located

    def text(self) -> str:
        return str(self) if self.located else f"filmc: error: {self}"


@dataclass
class BuildOptions:
    film: Path
    out: Path | None = None
    backend: str = "preview"
    profiles: list[str] | None = None
    jobs: int | None = None
    only: list[str] | None = None
    dry_run: bool = False
    scale: float | None = None
    cache: Path | None = None
    json: bool = False
    colour: bool = False
    memory_budget_mb: int | None = None
    extend_shots: bool = False
    ray: str | None = None
    """Run the nodes on Ray: local, auto, default or a cluster's HOST:PORT (runtime/distributed.py)."""


@dataclass
class BuildOutcome:
    code: int
    plan: RenderPlan | None = None
    result: BuildResult | None = None
    delivered: dict[str, str] = field(default_factory=dict)
    qc: dict[str, Any] | None = None


# --- the steps -------------------------------------------------------------------------------------


def check_film(path: Path, colour: bool, err: IO[str]):
    """The checked IR, after printing diagnostics; BuildError when there are errors."""
    from filmc.compiler.check import check_file
    from filmc.compiler.diagnostics import render_all

    if not path.is_file():
        raise BuildError(f"no such file: {path}", EXIT_USAGE)
    result = check_file(path)
    if result.diagnostics:
        print(render_all(result.diagnostics, result.sources, colour), file=err)
    if result.has_errors or result.film is None:
        raise BuildError("the film has errors; nothing was built")
    return result.film


def default_scale(backend: str, scale: float | None) -> float:
    if scale is not None:
        return scale
    return DEFAULT_PREVIEW_SCALE if backend == "preview" else 1.0


def make_plan(film, backend: Backend, scale: float, profiles: list[str] | None) -> RenderPlan:
    from filmc.compiler.plan import PlanError as LoweringError
    from filmc.compiler.plan import build_plan

    try:
        return build_plan(film, backend=backend.name, backend_version=backend.version, scale=scale,
                          profiles=profiles)
    except LoweringError as exc:
        raise BuildError(str(exc), EXIT_USAGE) from None


MIN_SIZE = {"dnxhr": (256, 120)}
"""Encoders that refuse small pictures (ffmpeg's dnxhd: at least 256x120)."""


def check_profiles(plan: RenderPlan, film) -> None:
    """Every encode's settings must translate to ffmpeg arguments and suit the picture size;
    a bad one is reported at its definition's line before anything renders."""
    from .profiles import ProfileError, encode_args

    problems = []
    for node in plan.nodes:
        if node.op != "encode":
            continue
        name = node.params["profile"]
        settings = {k: v for k, v in node.params["settings"].items() if v is not None}
        for key in ("bitrate", "audio_bitrate", "audio_rate", "crf"):
            if key in settings:
                settings[key] = int(round(float(settings[key])))
        definition = film.definitions.get("profile", {}).get(name)
        where = f"{definition.span}: " if definition is not None else ""
        try:
            encode_args(name.removeprefix("std."), settings)
        except ProfileError as exc:
            problems.append(f"{where}error: {exc}")
            continue
        width, height = node.params["resolution"]
        need = MIN_SIZE.get(str(settings.get("video")))
        if need and (width < need[0] or height < need[1]):
            problems.append(f"{where}error: profile {name.removeprefix('std.')}: {settings['video']} needs a picture "
                            f"of at least {need[0]}x{need[1]}; this build renders {width}x{height} "
                            "(raise --scale or the film's resolution)")
    if problems:
        raise BuildError("\n".join(problems), located=True)


def needed(plan: RenderPlan, targets: Iterable[str]) -> set[str]:
    """The targets and everything they transitively read."""
    by_id = plan.by_id()
    seen: set[str] = set()
    stack = list(targets)
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        stack.extend(by_id[nid].inputs)
    return seen


def first_pass(plan: RenderPlan, cache: Cache, wanted: set[str]) -> list[str]:
    """Nodes to build before the finishing ones, or none.

    Finishing nodes read the objects of nodes upstream of their inputs by path. Dependencies
    keep that safe while every missing node's dependants run too (a cold build, an edit); but
    a missing object under a cached dependant (an object deleted from the cache) would be
    rebuilt in parallel with an encode already reading it. Then every missing non-finishing
    node is built first, in a pass of its own."""
    present = {n.id for n in plan.nodes if n.id in wanted and cache.object_dir(n.id).is_dir()}
    missing = [n.id for n in plan.nodes if n.id in wanted and n.id not in present and n.op not in FINISHING_OPS]
    if not missing:
        return []
    dependants: dict[str, list[str]] = {}
    for node in plan.nodes:
        for i in node.inputs:
            dependants.setdefault(i, []).append(node.id)
    hazard = any(d in present for m in missing for d in dependants.get(m, ()))
    return missing if hazard else []


def expand_only(only: list[str] | None, film) -> list[str] | None:
    """`--only` selectors: a scene name selects its shots, `scene/shot` one shot; anything else
    goes to the executor as is (output name, op, label or node id)."""
    if not only:
        return None
    scenes: dict[str, list[str]] = {}
    for shot in film.shots():
        scenes.setdefault(shot.scene, []).append(shot.id)
    out: list[str] = []
    for selector in only:
        for item in filter(None, (s.strip() for s in selector.split(","))):
            if "/" in item and item.split("/", 1)[0] in scenes:
                scene, shot = item.split("/", 1)
                if shot not in scenes[scene]:
                    raise BuildError(f"scene {scene} has no shot {shot}; its shots: {', '.join(scenes[scene])}",
                                     EXIT_USAGE)
                out.append(shot)
            elif item in scenes:
                out.extend(scenes[item])
            else:
                out.append(item)
    return out


def cost_estimate(backend: Backend, plan: RenderPlan) -> Callable[[PlanNode], float]:
    """The cost model's seconds per node for this backend, so the executor starts the longest chains first."""
    from filmc.compiler.costs import load_costs, plan_seconds

    models = load_costs().get("backends", {})
    model = models.get("preview_cpu" if backend.name == "preview" else "gpu", {})
    seconds = plan_seconds(plan, model)
    return lambda node: seconds[node.id]


def ray_options(opts: BuildOptions, stack: contextlib.ExitStack, err: IO[str]) -> dict[str, Any]:
    """With `--ray`, connect to Ray until `stack` closes and return the executor options that run the
    nodes there (workers, jobs, memory budget, GPU slots); without it, none."""
    if opts.ray is None:
        return {}
    from .distributed import DistributedError, connect

    try:
        cluster = stack.enter_context(connect(opts.ray))
    except DistributedError as exc:
        raise BuildError(str(exc), EXIT_USAGE) from None
    print(f"filmc: {cluster.describe()}", file=err)
    return cluster.executor_options(opts.jobs, opts.memory_budget_mb)


def run_plan(plan: RenderPlan, backend: Backend, cache: Cache, opts: BuildOptions, events,
             workers: dict[str, Any] | None = None, checkpoint: Checkpoint | None = None) -> BuildResult:
    try:
        targets = select(plan, opts.only)
        early = first_pass(plan, cache, needed(plan, targets))
        common = {"jobs": opts.jobs, "events": events, "memory_budget_mb": opts.memory_budget_mb,
                  "estimate": cost_estimate(backend, plan), "checkpoint": checkpoint, **(workers or {})}
        if early:
            first = execute(plan, backend, cache, only=early, **common)
            if not first.ok:
                return first
        return execute(plan, backend, cache, only=opts.only, **common)
    except CacheBusy as exc:
        raise BuildError(str(exc), EXIT_USAGE) from None
    except PlanError as exc:
        raise BuildError(str(exc), EXIT_USAGE) from None


def line_lengths(plan: RenderPlan, film, cache: Cache) -> list[int]:
    """Real length in frames of each dialogue line of `layout(film).lines`, from the rendered
    speech files' headers (the mix's dialogue entries follow the layout's line order)."""
    by_id = plan.by_id()
    mix = by_id[plan.outputs["mix"]]
    fps = Fraction(film.header.fps)
    lengths = []
    for entry in mix.params["entries"]:
        if entry["stem"] == "dialogue":
            samples, rate = wav_samples(cache.outputs(by_id[mix.inputs[int(entry["input"])]]).single())
            lengths.append(max(1, math.ceil(Fraction(samples) * fps / rate)))
    return lengths


def overflow_message(o: Overflow, fps: Fraction) -> str:
    """The error for a line longer than its shot: where, how long it is, how long the shot is."""
    line, shot = o.line.line, o.line.shot_id

    def sec(frames: int) -> str:
        return f"{float(Fraction(frames) / fps):.2f}s"

    return (f"{line.span.file}:{line.span.line}:{line.span.col}: error: dialogue line {o.line.line_id} "
            f"({line.speaker.removeprefix('std.')}: \"{line.text}\") lasts {sec(o.frames)} but shot `{shot}` lasts "
            f"{sec(o.shot_frames)}; starting {sec(o.at_frame - o.shot_start)} into the shot it ends "
            f"{sec(o.over_frames)} after the shot does\n  = hint: lengthen the shot to at least "
            f"{sec(o.needed_frames)}, split the line, raise the voice's `rate`, or build with --extend-shots")


@dataclass
class DialogueFit:
    """The check that every dialogue line fits its shot at its real length, made as soon as the
    last line is spoken (a build Checkpoint), while the pictures render. Lines that spill past
    the cut play over the next shot, as an editor's overlap would; a line longer than its whole
    shot stops the build (or, with `extend_shots`, any overflow stops it to lengthen the shots)."""

    film: Any
    plan: RenderPlan
    cache: Cache
    extend_shots: bool
    lengths: list[int] = field(default_factory=list)
    overflows: list[Overflow] = field(default_factory=list)

    def checkpoint(self, wanted: set[str]) -> Checkpoint | None:
        """The checkpoint for a build of `wanted`, or None when it makes neither the mix nor subtitles."""
        speech = frozenset(n.id for n in self.plan.nodes if n.op == "speech")
        products = {self.plan.outputs.get("mix"), self.plan.outputs.get("subtitles")} - {None}
        if not speech or not products & wanted:
            return None
        return Checkpoint(speech, self.verdict)

    def verdict(self) -> str | None:
        from filmc.compiler.extend import dialogue_overflows

        self.lengths = line_lengths(self.plan, self.film, self.cache)
        overflows = dialogue_overflows(self.film, self.lengths)
        if not self.extend_shots:
            overflows = [o for o in overflows if o.frames > o.shot_frames]
        self.overflows = overflows
        return f"{len(overflows)} dialogue line(s) do not fit their shots" if overflows else None

    def extended(self, backend: Backend, opts: BuildOptions, err: IO[str]) -> tuple[Any, RenderPlan]:
        """The film with its shots lengthened to fit their lines (reported on `err`), and its plan.
        Speech ids do not depend on shot lengths, so the lines stay cached."""
        from filmc.compiler.extend import extend_shots, fit_shots

        fps = Fraction(self.film.header.fps)
        grown = fit_shots(self.film, self.lengths)
        old = {shot.id: shot.duration.frames for shot in self.film.shots()}
        for shot, frames in grown.items():
            print(f"extended shot `{shot}` by {float(Fraction(frames - old[shot]) / fps):.2f}s "
                  f"({frames - old[shot]} frames): {float(Fraction(old[shot]) / fps):.2f}s -> "
                  f"{float(Fraction(frames) / fps):.2f}s to fit its dialogue", file=err)
        film = extend_shots(self.film, grown)
        return film, make_plan(film, backend, default_scale(backend.name, opts.scale), opts.profiles)


def build_fitting_dialogue(film, plan: RenderPlan, backend: Backend, cache: Cache, opts: BuildOptions, events,
                           err: IO[str], workers: dict[str, Any] | None = None) -> tuple[Any, RenderPlan, BuildResult]:
    """Run the plan, checking mid-build that the dialogue fits (DialogueFit). A line longer than its
    shot is a BuildError naming it; with `extend_shots` the shots are lengthened and the build
    runs again from the new plan, reusing everything still valid. Returns the film and plan built."""
    try:
        wanted = needed(plan, select(plan, opts.only))
    except PlanError as exc:
        raise BuildError(str(exc), EXIT_USAGE) from None
    for _ in range(3):
        fit = DialogueFit(film, plan, cache, opts.extend_shots)
        result = run_plan(plan, backend, cache, opts, events, workers, fit.checkpoint(wanted))
        if result.stopped is None:
            return film, plan, result
        if not opts.extend_shots:
            fps = Fraction(film.header.fps)
            raise BuildError("\n".join(overflow_message(o, fps) for o in fit.overflows), located=True)
        film, plan = fit.extended(backend, opts, err)
        wanted = needed(plan, select(plan, opts.only))
    raise BuildError(f"the shots still do not fit their dialogue after extending them: {result.stopped}")


# --- delivery --------------------------------------------------------------------------------------


def _atomic_copy(src: Path, dst: Path) -> None:
    """Put a cached product at `dst` atomically: a hard link to the cached object where the output
    folder shares its filesystem (instant: the short example's 170 MB took 0.45 s to copy), else a
    copy. Cached objects are never written again; a delivered file edited in place changes its
    object's size or time, which the cache's quick check catches, so that node is rebuilt."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", dir=dst.parent))
        shutil.copytree(src, tmp, dirs_exist_ok=True, copy_function=link_or_copy)
        os.chmod(tmp, 0o755)
        if dst.exists():
            old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
            os.replace(dst, old)
            os.replace(tmp, dst)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dst)
        return
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.link")
    try:
        tmp.unlink(missing_ok=True)
        os.link(src, tmp)
    except OSError:
        with replacing(dst) as out, open(src, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        return
    os.replace(tmp, dst)


def _atomic_text(dst: Path, text: str) -> None:
    write_text(dst, text)


def _short(name: str) -> str:
    return name.removeprefix("std.")


def delivery_names(plan: RenderPlan) -> dict[str, dict[str, str]]:
    """encode node id -> {output name in the cache: file name in the output folder}."""
    encodes = [n for n in plan.nodes if n.op == "encode"]
    counts: dict[str, int] = {}
    for node in encodes:
        for name in node.outputs:
            counts[name] = counts.get(name, 0) + 1
    names: dict[str, dict[str, str]] = {}
    for node in encodes:
        short = _short(node.params["profile"])
        mapping = {}
        for name in node.outputs:
            if counts[name] == 1:
                mapping[name] = name.rstrip("/")
            else:
                stem, dot, ext = name.rstrip("/").partition(".")
                mapping[name] = f"{stem}_{short}{dot}{ext}"
        names[node.id] = mapping
    return names


def wav_samples(path: Path) -> tuple[int, int]:
    """(samples per channel, sample rate) of a PCM/float WAV, from its header alone."""
    import struct

    with path.open("rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError(f"{path} is not a WAV file")
        block_align = rate = 0
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise ValueError(f"{path} has no data chunk")
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                fmt = f.read(size)
                _, _, rate, _, block_align = struct.unpack("<HHIIH", fmt[:14])
                f.seek(size & 1, 1)
            elif cid == b"data":
                return size // max(1, block_align), rate
            else:
                f.seek(size + (size & 1), 1)


class Delivery:
    """Puts cached products into the output folder (hard links, or copies across filesystems),
    each atomically, skipping any already there and intact: still the cached object itself, or
    the copy made of the same content and untouched since (a manifest keeps each file's sha256,
    size and time), so a rebuild that changed nothing writes nothing."""

    MANIFEST = ".filmc-delivered.json"

    def __init__(self, cache: Cache, out: Path) -> None:
        self.cache, self.out = cache, out
        self.path = out / self.MANIFEST
        try:
            self.previous: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.previous = {}
        self.current: dict[str, Any] = {}
        self.records = cache.records()

    def copy(self, node_id: str, src: Path, name: str, target: str) -> None:
        digest = next((r.sha256 for r in self.records.get(node_id, []) if r.name == name), None)
        dst = self.out / target
        if not self._intact(src, dst, target, digest):
            _atomic_copy(src, dst)
        if digest is not None:
            self._record(dst, target, digest)

    def _record(self, dst: Path, target: str, digest: str) -> None:
        st = dst.stat()
        self.current[target] = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def _intact(self, src: Path, dst: Path, target: str, digest: str | None) -> bool:
        try:
            if os.path.samefile(src, dst):
                return True
        except OSError:
            return False
        return digest is not None and self._unchanged(dst, target, digest)

    def _unchanged(self, dst: Path, target: str, digest: str) -> bool:
        """`dst` is what this manifest delivered from content `digest`, untouched since."""
        try:
            st = dst.stat()
        except OSError:
            return False
        was = self.previous.get(target)
        return (isinstance(was, dict) and was.get("sha256") == digest
                and (was.get("size"), was.get("mtime_ns")) == (st.st_size, st.st_mtime_ns))

    def text(self, target: str, text: str) -> None:
        import hashlib

        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        dst = self.out / target
        if not self._unchanged(dst, target, digest):
            _atomic_text(dst, text)
        self._record(dst, target, digest)

    def finish(self) -> None:
        if self.current != self.previous:
            _atomic_text(self.path, json.dumps(self.current, indent=1, sort_keys=True))


def deliver(plan: RenderPlan, film, cache: Cache, out: Path) -> dict[str, str]:
    """Copy the products into `out`; returns {what: path relative to out}."""
    from filmc.compiler.plan import slug
    from filmc.compiler.timeline import build_timeline

    by_id = plan.by_id()
    done = {nid for nid in by_id if cache.object_dir(nid).is_dir()}
    delivered: dict[str, str] = {}
    out.mkdir(parents=True, exist_ok=True)
    d = Delivery(cache, out)
    film_files: list[Path] = []
    for node_id, mapping in delivery_names(plan).items():
        if node_id not in done:
            continue
        outputs = cache.outputs(by_id[node_id])
        for name, target in mapping.items():
            d.copy(node_id, outputs.path(name), name, target)
            delivered[f"{_short(by_id[node_id].params['profile'])}:{name.rstrip('/')}"] = target
            if not name.endswith((".srt", ".vtt", "/")):
                film_files.append(out / target)
    named = plan.outputs
    for product, name in (("contact_sheet", "contact_sheet.png"), ("qc", "qc.json")):
        if named.get(product) in done:
            d.copy(named[product], cache.outputs(by_id[named[product]]).path(name), name, name)
            delivered[product] = name
    title = slug(film.header.title)
    if named.get("mix") in done:
        mix = cache.outputs(by_id[named["mix"]])
        for name in mix.files:
            if name == "mix.wav" or name.startswith("stems/"):
                d.copy(mix.id, mix.path(name), name, name)
                delivered["mix" if name == "mix.wav" else f"stem:{Path(name).stem}"] = name
    if named.get("subtitles") in done:
        subs = cache.outputs(by_id[named["subtitles"]])
        for ext in ("srt", "vtt"):
            d.copy(subs.id, subs.path(f"subtitles.{ext}"), f"subtitles.{ext}", f"{title}.{ext}")
            delivered[f"subtitles:{ext}"] = f"{title}.{ext}"
    media: dict[str, Path] = {}
    speech_frames: dict[str, int] = {}
    sfx_frames: dict[str, int] = {}
    fps = film.header.fps
    for node in plan.nodes:
        if node.op in ("speech", "bed", "sfx") and node.id in done:
            src = cache.outputs(node).single()
            target = f"audio/{node.op}/{node.id[:16]}.wav"
            d.copy(node.id, src, node.outputs[0], target)
            media[node.id] = out / target
            if node.op in ("speech", "sfx"):
                samples, rate = wav_samples(src)
                frames = max(1, math.ceil(Fraction(samples) * Fraction(fps) / rate))  # frames the clip covers
                (speech_frames if node.op == "speech" else sfx_frames)[node.id] = frames
    if named.get("picture") in done:
        import opentimelineio as otio

        timeline = build_timeline(film, plan, media=media, speech_durations=speech_frames, sfx_durations=sfx_frames)
        if film_files:  # image sequences only: the shot clips stay MissingReferences
            point_shots_at_film(timeline, film, film_files[0])
        stems = {k.removeprefix("stem:"): out / v for k, v in delivered.items() if k.startswith("stem:")}
        add_stem_tracks(timeline, film, stems)
        d.text(f"{title}.otio", otio.adapters.write_to_string(timeline, "otio_json"))
        delivered["timeline"] = f"{title}.otio"
    d.finish()
    return delivered


STEM_ORDER = ("dialogue", "ambience", "music", "sfx")


def add_stem_tracks(timeline, film, stems: dict[str, Path]) -> None:
    """One muted audio track per delivered stem, a single clip over the whole film: an editor can
    switch from the placed sources (A1-A4) to the mixed stems without relinking."""
    import opentimelineio as otio
    from filmc.compiler.plan import layout

    rate = float(film.header.fps_fraction)
    whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                    otio.opentime.RationalTime(layout(film).total_frames, rate))
    for index, name in enumerate(n for n in STEM_ORDER if n in stems):
        track = otio.schema.Track(name=f"S{index + 1} {name.title()} stem", kind=otio.schema.TrackKind.Audio)
        track.enabled = False
        track.metadata["filmc"] = {"stem": name}
        ref = otio.schema.ExternalReference(target_url=stems[name].resolve().as_uri(), available_range=whole)
        track.append(otio.schema.Clip(name=f"{name} stem", media_reference=ref, source_range=whole))
        timeline.tracks.append(track)


def point_shots_at_film(timeline, film, picture: Path) -> None:
    """Every shot clip on V1 references the rendered film at the shot's record position."""
    import opentimelineio as otio
    from filmc.compiler.plan import layout

    rate = float(film.header.fps_fraction)
    slots = {slot.shot.id: slot for slot in layout(film).shots}
    total = layout(film).total_frames
    available = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(total, rate))
    for track in timeline.video_tracks():
        for clip in track.find_clips():
            slot = slots.get(clip.name)
            if slot is None:
                continue
            visible = clip.source_range.duration
            clip.media_reference = otio.schema.ExternalReference(target_url=picture.resolve().as_uri(),
                                                                 available_range=available)
            clip.source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(slot.start + slot.head, rate),
                                                        visible)


# --- reporting -------------------------------------------------------------------------------------


def qc_summary(report: dict[str, Any]) -> str:
    lines = [f"QC {report['status'].upper()}: {report['errors']} error(s), {report['warnings']} warning(s)"]
    for profile in report.get("profiles", []):
        bad = [c for c in profile["checks"] if not c["ok"]]
        passed = sum(1 for c in profile["checks"] if c["ok"] and c["severity"] != "info")
        lines.append(f"  {_short(profile['profile'])} ({profile.get('file')}): {passed} passed, {len(bad)} failed")
        for c in bad:
            lines.append(f"    {c['severity']}: {c['name']}: expected {c['expected']}, measured {c['measured']}"
                         + (f" ({c['detail']})" if c.get("detail") else ""))
    for section in ("mix", "picture"):
        for c in report.get(section, {}).get("checks", []):
            if not c["ok"]:
                lines.append(f"  {section}: {c['severity']}: {c['name']}: expected {c['expected']}, "
                             f"measured {c['measured']}")
            elif c["severity"] == "info" and c.get("detail"):
                lines.append(f"  {section}: {c['name']}: {c['detail']}")
    return "\n".join(lines)


def failure_report(result: BuildResult) -> str:
    lines = []
    for failure in result.failures:
        lines.append("error: " + failure.describe())
    return "\n".join(lines)


def dry_run_report(plan: RenderPlan, cache: Cache, only: list[str] | None) -> dict[str, Any]:
    targets = needed(plan, select(plan, only))
    ops: dict[str, dict[str, int]] = {}
    for node in plan.nodes:
        if node.id not in targets:
            continue
        row = ops.setdefault(node.op, {"nodes": 0, "cached": 0})
        row["nodes"] += 1
        row["cached"] += cache.object_dir(node.id).is_dir()
    return {"film": plan.film, "backend": f"{plan.backend} {plan.backend_version}", "ops": ops,
            "to_run": sum(r["nodes"] - r["cached"] for r in ops.values()),
            "cached": sum(r["cached"] for r in ops.values())}


# --- the command ---------------------------------------------------------------------------------------


def warm_if_cold(opts: BuildOptions, backend: Backend | None = None) -> None:
    """A film this cache never built runs nodes: start the workers' imports now, beside checking
    and planning it (a no-op for a dry run, on Ray, or once the workers are warm)."""
    if opts.dry_run or opts.ray is not None or not opts.film.is_file():
        return
    if (Cache.directory_for(opts.film, opts.cache) / INDEX_NAME).exists():
        return
    if backend is None:
        from .registry import BackendNotFound, get_backend

        try:
            backend = get_backend(opts.backend)
        except BackendNotFound:
            return  # the build reports it
    warm_workers(backend)


def build(opts: BuildOptions, out_stream: IO[str] | None = None, err_stream: IO[str] | None = None) -> BuildOutcome:
    """Run `filmc build`; never raises for user errors (they become an exit code and a message)."""
    out_stream = out_stream or sys.stdout
    err_stream = err_stream or sys.stderr
    try:
        return _build(opts, out_stream, err_stream)
    except BuildError as exc:
        print(exc.text(), file=err_stream)
        return BuildOutcome(exc.code)


def _build(opts: BuildOptions, out_stream: IO[str], err_stream: IO[str]) -> BuildOutcome:
    from .registry import BackendNotFound, get_backend

    started = time.monotonic()
    try:
        backend = get_backend(opts.backend)
    except BackendNotFound as exc:
        backend = None
        not_found = exc
    if backend is not None:
        warm_if_cold(opts, backend)
    film = check_film(opts.film, opts.colour, err_stream)
    if backend is None:
        raise BuildError(str(not_found), EXIT_USAGE) from None
    plan = make_plan(film, backend, default_scale(backend.name, opts.scale), opts.profiles)
    check_profiles(plan, film)
    opts.only = expand_only(opts.only, film)
    cache = Cache.for_film(opts.film, opts.cache)
    try:
        if opts.dry_run:
            report = dry_run_report(plan, cache, opts.only)
            if opts.json:
                print(json.dumps({"event": "dry_run", **report}), file=out_stream)
            else:
                print(f"would build {report['to_run']} node(s), {report['cached']} cached:", file=out_stream)
                for op, row in report["ops"].items():
                    print(f"  {op:<14} {row['nodes']:>5}  ({row['cached']} cached)", file=out_stream)
            return BuildOutcome(EXIT_OK, plan)
        to_run = [op for op, row in dry_run_report(plan, cache, opts.only)["ops"].items() if row["nodes"] > row["cached"]]
        if opts.ray is None and to_run:
            warm_workers(backend, to_run)  # their imports run beside the rest of the set-up
        renderer = make_renderer(json_lines=opts.json, stream=out_stream if opts.json else err_stream)
        on_ray = contextlib.ExitStack()  # with --ray: the connection, closed however the build ends
        try:
            workers = ray_options(opts, on_ray, err_stream)
            film, plan, result = build_fitting_dialogue(film, plan, backend, cache, opts, renderer, err_stream,
                                                        workers)
        finally:
            on_ray.close()
            renderer.close()
        if result.failures or result.skipped:
            report = failure_report(result)
            if report:
                print(report, file=err_stream)
            return BuildOutcome(EXIT_ERRORS, plan, result)
        out = opts.out or opts.film.resolve().parent / "build"
        delivered = deliver(plan, film, cache, out)
    finally:
        cache.close()
    qc = None
    if "qc" in delivered:
        qc = json.loads((out / "qc.json").read_text(encoding="utf-8"))
    code = EXIT_ERRORS if qc is not None and qc.get("status") == "fail" else EXIT_OK
    if opts.json:
        print(json.dumps({"event": "delivered", "out": str(out), "files": delivered,
                          "qc": qc.get("status") if qc else None, "exit": code,
                          "wall_s": round(time.monotonic() - started, 3)}), file=out_stream)
    else:
        if qc is not None:
            print(qc_summary(qc), file=err_stream)
        print(f"wrote {len(delivered)} product(s) to {out}", file=err_stream)
    return BuildOutcome(code, plan, result, delivered, qc)


def clean(film_path: Path, *, everything: bool, backend_name: str, scale: float | None, profiles: list[str] | None,
          cache_dir: Path | None, colour: bool, err: IO[str]) -> int:
    """`filmc clean`: remove every cached object, or those the film's current plan does not use."""
    from .registry import BackendNotFound, get_backend

    if not film_path.is_file():
        raise BuildError(f"no such file: {film_path}", EXIT_USAGE)
    cache = Cache.for_film(film_path, cache_dir)
    try:
        if everything:
            report = cache.clean(all=True)
        else:
            film = check_film(film_path, colour, err)
            try:
                backend = get_backend(backend_name)
            except BackendNotFound as exc:
                raise BuildError(str(exc), EXIT_USAGE) from None
            plan = make_plan(film, backend, default_scale(backend.name, scale), profiles)
            report = cache.clean(unreferenced_by=plan)
    except CacheBusy as exc:
        raise BuildError(str(exc), EXIT_USAGE) from None
    finally:
        cache.close()
    print(f"removed {report.removed} object(s), {report.bytes_freed / 1e6:.1f} MB freed from {cache.root}", file=err)
    return EXIT_OK

