"""Prompts: what a generative backend is told about each shot, plate and portrait.

Jinja2 templates (stdlib/prompts/*.j2, or a style's own `image_template` /
`motion_template` / `negative_template`) write one phrase per line, most
important first. The rendered text is then linted into the exact string a
model receives: phrases deduplicated, fitted to the model family's token budget
by dropping whole phrases from the end, never ending on a dangling article or
preposition, and never empty. Everything is deterministic: the same film gives
the same prompts byte for byte.

Token counts: CLIP prompts are counted with the real CLIP BPE tokenizer when the
`instant-clip-tokenizer` wheel is installed (it embeds CLIP's vocabulary; no
download), else with a conservative approximation; T5 prompts are always
approximated (no T5 vocabulary ships in any wheel here). `TOKENIZERS` says which.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from . import ir
from .diagnostics import Diagnostic
from .modules import stdlib_dir
from .source import Span

# --- token budgets -----------------------------------------------------------------

CLIP_CONTEXT = 77
"""CLIP's context length, start and end tokens included."""


@dataclass(frozen=True)
class Family:
    """A model family's text encoder and how many tokens of a prompt it reads."""

    name: str
    encoder: str  # "clip" | "t5"
    budget: int


IMAGE_FAMILIES = {
    "sd": Family("sd", "clip", CLIP_CONTEXT),
    "sdxl": Family("sdxl", "clip", CLIP_CONTEXT),
    "sd3": Family("sd3", "clip", CLIP_CONTEXT),
    "flux": Family("flux", "t5", 512),
}
VIDEO_FAMILIES = {
    "ltx": Family("ltx", "t5", 128),
    "ltx-256": Family("ltx-256", "t5", 256),
    "cogvideox": Family("cogvideox", "t5", 226),
    "wan": Family("wan", "t5", 512),
}
DEFAULT_IMAGE_FAMILY = "sd"
DEFAULT_VIDEO_FAMILY = "ltx"


def _load_clip() -> Callable[[str], int] | None:
    try:
        from instant_clip_tokenizer import Tokenizer
    except ImportError:
        return None
    tokenizer = Tokenizer()
    return lambda text: len(tokenizer.encode(text.lower())) + 2


_CLIP_PIECES = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+")


def clip_tokens_approx(text: str) -> int:
    """CLIP tokens, approximated without the vocabulary: CLIP's own pre-tokenizer split
    (letters runs, single digits, punctuation runs), one token per 7 letters of a word
    (common English words are one token), plus start and end tokens. It over-counts
    slightly against the real tokenizer on film prompts, which is the safe side."""
    count = 2
    for piece in _CLIP_PIECES.findall(text.lower()):
        count += math.ceil(len(piece) / 7) if piece[0].isalpha() else 1
    return count


_T5_LETTERS = re.compile(r"[a-z]+")
_T5_DIGITS = re.compile(r"[0-9]+")
_T5_PUNCT = re.compile(r"[^\sa-z0-9]")


def t5_tokens_approx(text: str) -> int:
    """T5 (SentencePiece, 32k) tokens, approximated: one per 5 letters of a word (at least
    one), one per two digits, one per punctuation character, plus the end token."""
    text = text.lower()
    return (1 + sum((len(w) + 4) // 5 for w in _T5_LETTERS.findall(text))
            + sum((len(d) + 1) // 2 for d in _T5_DIGITS.findall(text)) + len(_T5_PUNCT.findall(text)))


_REAL_CLIP = _load_clip()
TOKENIZERS = {
    "clip": "instant-clip-tokenizer (CLIP BPE, exact)" if _REAL_CLIP else "approximation (no CLIP vocabulary)",
    "t5": "approximation (no T5 vocabulary offline)",
}


def count_tokens(text: str, encoder: str) -> int:
    if encoder == "clip":
        return _REAL_CLIP(text) if _REAL_CLIP else clip_tokens_approx(text)
    return t5_tokens_approx(text)


# --- linting -----------------------------------------------------------------------

DANGLING = frozenset({
    "a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by", "for", "with",
    "from", "into", "onto", "over", "under", "towards", "toward", "through", "across", "behind",
    "beside", "between", "near", "as", "than", "like", "without", "about", "against", "along", "around"
})
"""Words a phrase must not end on: a prompt that does was cut mid-phrase."""

LINT_CODES = {
    "W0801": "repeated phrase removed from a prompt",
    "W0802": "a prompt had to be cut inside a phrase; the dangling article or preposition was removed",
    "W0803": "image prompt over the model's token budget; essential lines dropped",
    "W0804": "motion prompt over the model's token budget; essential lines dropped",
    "W0805": "motion prompt is empty; a still-scene default was used",
    "W0806": "negative prompt over the model's token budget; essential lines dropped",
    "E0801": "a prompt template failed to render",
}
OVER_BUDGET = {"image": "W0803", "plate": "W0803", "portrait": "W0803", "motion": "W0804", "negative": "W0806"}
EMPTY_MOTION_DEFAULT = "still scene, subtle natural motion"
OPTIONAL_MARK = "~"
"""A template line holding only `~`: the lines after it may be dropped silently to fit a budget."""


@dataclass
class Linted:
    text: str
    tokens: int
    dropped: list[str] = field(default_factory=list)
    """Lines left out to fit the budget, essential or not."""
    warnings: list[tuple[str, str, str]] = field(default_factory=list)
    """(code, message, hint)."""


@dataclass
class _Unit:
    """One template line: comma-separated phrases that stay together when fitting a budget."""

    phrases: list[str]
    optional: bool

    @property
    def text(self) -> str:
        return ", ".join(self.phrases)


def _phrases(line: str) -> list[str]:
    out = []
    for raw in line.split(","):
        phrase = " ".join(raw.split()).strip(" .;:")
        if phrase:
            out.append(phrase)
    return out


def split_units(text: str) -> list[_Unit]:
    """Template output -> units (lines) of phrases; lines after a `~` line are optional."""
    units, optional = [], False
    for line in text.splitlines():
        if line.strip() == OPTIONAL_MARK:
            optional = True
            continue
        phrases = _phrases(line)
        if phrases:
            units.append(_Unit(phrases, optional))
    return units


def _strip_dangling(words: list[str]) -> list[str]:
    removed = []
    while len(words) > 1 and words[-1].lower().strip("'\"") in DANGLING:
        removed.insert(0, words.pop())
    return removed


def lint(text: str, kind: str, family: Family) -> Linted:
    """The prompt a model receives: deduped, fitted to `family`'s budget, cleanly ended."""
    warnings: list[tuple[str, str, str]] = []
    units = split_units(text)
    seen: set[str] = set()
    repeated: list[str] = []
    for unit in units:
        kept = []
        for phrase in unit.phrases:
            key = phrase.lower()
            if key in seen:
                repeated.append(phrase)
            else:
                seen.add(key)
                kept.append(phrase)
        unit.phrases = kept
    units = [u for u in units if u.phrases]
    if repeated:
        warnings.append(("W0801", f"{kind} prompt repeats {_quote(repeated)}; removed the repeat",
                         "the same words come from two places (look, wardrobe, style, location); keep them in one"))

    # Token counts are additive over ", "-joined units (tokenizers split at the comma), up to a
    # token where punctuation meets the comma: search with the sums, then verify exactly below.
    overhead = count_tokens("", family.encoder)
    separator = count_tokens("a, a", family.encoder) - 2 * count_tokens("a", family.encoder) + overhead
    costs: dict[str, int] = {}

    def cost(u: _Unit) -> int:
        text = u.text
        if text not in costs:
            costs[text] = count_tokens(text, family.encoder) - overhead
        return costs[text]

    def fits(us: list[_Unit]) -> bool:
        total = overhead + sum(cost(u) for u in us) + separator * max(0, len(us) - 1)
        return total <= family.budget

    kept: list[_Unit] = []
    dropped: list[_Unit] = []
    running = overhead
    for i, unit in enumerate(units):
        step = cost(unit) + (separator if kept else 0)
        if running + step <= family.budget:
            kept.append(unit)
            running += step
            continue
        dropped = units[i:]
        if not unit.optional:
            part, rest, mid_phrase = _prefix(kept, unit, fits)
            if part is not None:
                kept.append(part)
                dropped = [_Unit([rest], False)] + units[i + 1:]
                if mid_phrase:
                    warnings.append(("W0802", f"{kind} prompt had to be cut inside a phrase, before `{rest}`",
                                     "shorten the action, looks or location"))
        break
    while len(kept) > 1 and count_tokens(", ".join(u.text for u in kept), family.encoder) > family.budget:
        dropped.insert(0, kept.pop())
    units = kept
    essential = [u.text for u in dropped if not u.optional]
    if essential:
        warnings.append((OVER_BUDGET[kind], f"{kind} prompt is over the {family.name} budget of {family.budget} "
                         f"{family.encoder.upper()} tokens; dropped {_quote(essential)}",
                         "shorten the action, looks or location; lines at the end of the template go first"))
    result = ", ".join(u.text for u in units)
    if kind == "motion" and not result:
        result = EMPTY_MOTION_DEFAULT
        warnings.append(("W0805", "motion prompt is empty; using a still-scene default",
                         "give the shot an `action` or a `camera` move"))
    tokens = count_tokens(result, family.encoder) if result else 0
    return Linted(result, tokens, [u.text for u in dropped], warnings)


def _prefix(kept: list[_Unit], unit: _Unit, fits: Callable[[list[_Unit]], bool]) -> tuple[_Unit | None, str, bool]:
    """The longest start of `unit` that still fits after `kept`: whole phrases; only when nothing
    at all would be left (the prompt's first line alone is too long) whole words of a phrase,
    never ending on a dangling word. Returns (part or None, the rest, whether a phrase was cut)."""
    phrases = unit.phrases
    k = 0
    while k < len(phrases) and fits(kept + [_Unit(phrases[:k + 1], False)]):
        k += 1
    if k or kept:
        if not k:
            return None, unit.text, False
        return _Unit(phrases[:k], unit.optional), ", ".join(phrases[k:]), False
    words = phrases[k].split(" ")
    m = 0
    while m < len(words) and fits(kept + [_Unit(phrases[:k] + [" ".join(words[:m + 1])], False)]):
        m += 1
    head = words[:m]
    _strip_dangling(head)
    if head and len(head) < len(words) and head[-1].lower().strip("'\"") in DANGLING:
        head = []
    part_phrases = phrases[:k] + ([" ".join(head)] if head else [])
    if not part_phrases:
        return None, unit.text, False
    rest_words = words[len(head):]
    rest = ", ".join(([" ".join(rest_words)] if rest_words else []) + phrases[k + 1:])
    return _Unit(part_phrases, unit.optional), rest, bool(head)


def _quote(items: list[str], limit: int = 4) -> str:
    shown = ", ".join(f"`{i}`" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# --- templates ---------------------------------------------------------------------

TEMPLATE_NAMES = ("image", "motion", "negative", "plate", "portrait")


def template_dir() -> Path:
    return stdlib_dir() / "prompts"


@cache
def _environment():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@cache
def _compile(text: str):
    return _environment().from_string(text)


@cache
def _read(path: str, mtime_ns: int) -> str:
    return Path(path).read_text(encoding="utf-8")


def _template_text(path: Path) -> str:
    return _read(str(path), os.stat(path).st_mtime_ns)


class TemplateError(Exception):
    """A template failed to render (undefined variable, syntax error, sandbox violation)."""


def render_template(path: Path, context: dict[str, Any]) -> str:
    from jinja2 import TemplateError as JinjaError

    try:
        return _compile(_template_text(path)).render(**context)
    except JinjaError as err:
        line = getattr(err, "lineno", None)
        where = f"{path.name}:{line}" if line else path.name
        raise TemplateError(f"{where}: {type(err).__name__}: {err}") from None
    except OSError as err:
        raise TemplateError(f"cannot read {path}: {err.strerror or err}") from None


# --- contexts ----------------------------------------------------------------------


def _short(name: str | None) -> str | None:
    return name.removeprefix("std.") if name else name


def _mm(value: float | None) -> str | None:
    if value is None:
        return None
    return f"{value:g}"


@dataclass(frozen=True)
class ShotPrompts:
    image: str
    motion: str
    negative: str

    def as_dict(self) -> dict[str, str]:
        return {"image": self.image, "motion": self.motion, "negative": self.negative}


@dataclass
class PromptSet:
    """Every prompt of a film, and the lint diagnostics raised while making them."""

    shots: dict[str, ShotPrompts] = field(default_factory=dict)
    plates: dict[tuple[str, str, str | None], dict[str, str]] = field(default_factory=dict)
    """(location, time of day, style) -> {"image", "negative"}."""
    portraits: dict[tuple[str, str | None, tuple[str, ...]], dict[str, str]] = field(default_factory=dict)
    """(character, wardrobe, states) -> {"image", "negative"}."""
    diagnostics: list[Diagnostic] = field(default_factory=list)


class Prompter:
    """Builds prompts for one film; templates and definitions are looked up once."""

    def __init__(self, film: ir.Film, image_family: str = DEFAULT_IMAGE_FAMILY,
                 video_family: str = DEFAULT_VIDEO_FAMILY) -> None:
        if image_family not in IMAGE_FAMILIES:
            raise ValueError(f"unknown image model family {image_family!r}; known: {', '.join(IMAGE_FAMILIES)}")
        if video_family not in VIDEO_FAMILIES:
            raise ValueError(f"unknown video model family {video_family!r}; known: {', '.join(VIDEO_FAMILIES)}")
        self.film = film
        self.image = IMAGE_FAMILIES[image_family]
        self.video = VIDEO_FAMILIES[video_family]
        self.result = PromptSet()
        self._failed: set[tuple[str, str]] = set()
        self._templates: dict[tuple[str, str | None], tuple[Path, Span | None]] = {}

    # definitions as plain template values ---------------------------------------

    def _def(self, kind: str, name: str | None) -> ir.Definition | None:
        if not name:
            return None
        return self.film.definitions.get(kind, {}).get(name)

    def style(self, name: str | None) -> dict[str, Any]:
        d = self._def("style", name)
        props = d.props if d else {}
        return {
            "name": _short(name), "title": d.title if d else None, "look": props.get("look"),
            "lighting": props.get("lighting"), "texture": props.get("texture"),
            "lens_mm": _mm(props.get("lens")), "avoid": list(props.get("avoid", [])),
            "palette": list(props.get("palette", [])),
        }

    def location(self, name: str, time: str) -> dict[str, Any]:
        d = self._def("location", name)
        props = d.props if d else {}
        variant = props.get("when", {}).get(time, {})
        return {"name": _short(name), "title": d.title if d else None,
                "look": variant.get("look") or props.get("look", ""), "base_look": props.get("look", "")}

    def time(self, name: str) -> dict[str, Any]:
        d = self._def("time_of_day", name)
        return {"name": _short(name), "prompt": d.get("prompt", "") if d else ""}

    def character(self, name: str, state: ir.CharacterState | None) -> dict[str, Any]:
        d = self._def("character", name)
        state = state or ir.CharacterState()
        holding = []
        for prop in state.holding:
            pd = self._def("prop", prop)
            holding.append((pd.get("look") if pd else None) or (pd.title if pd and pd.title else _short(prop)))
        return {"name": _short(name), "title": d.title if d and d.title else _short(name),
                "look": d.get("look", "") if d else "", "wardrobe": state.wardrobe, "states": list(state.states),
                "holding": holding}

    def lens(self, shot_lens: float | None, style: dict[str, Any]) -> str | None:
        return _mm(shot_lens) if shot_lens is not None else style["lens_mm"]

    def shot_context(self, shot: ir.Shot, scene: ir.Scene) -> dict[str, Any]:
        style = self.style(shot.style)
        type_def = self._def("shot_type", shot.type)
        move = shot.camera.move if shot.camera else "std.static"
        move_def = self._def("camera_move", move)
        speed_def = self._def("camera_speed", shot.camera.speed if shot.camera else None)
        angle_def = self._def("angle", shot.angle)
        characters = [self.character(name, shot.end.characters.get(name)) for name in shot.subjects]
        return {
            "film": {"title": self.film.header.title},
            "scene": {"name": scene.name, "title": scene.title},
            "shot": {
                "id": shot.id, "type": _short(shot.type),
                "type_prompt": type_def.get("prompt", "") if type_def else "",
                "abbrev": type_def.get("abbrev", "") if type_def else "",
                "action": shot.action, "lens_mm": _mm(shot.lens_mm), "angle": _short(shot.angle),
                "angle_prompt": angle_def.get("prompt") if angle_def else None,
                "camera_move": _short(move), "camera_prompt": move_def.get("prompt", "") if move_def else "",
                "speed": _short(shot.camera.speed) if shot.camera else None,
                "speed_prompt": speed_def.get("prompt") if speed_def else None,
                "frames": shot.duration.frames, "seconds": shot.duration.as_float,
                "subjects": [_short(s) for s in shot.subjects],
            },
            "characters": characters,
            "location": self.location(shot.end.location or scene.location, shot.end.time_of_day or scene.time_of_day),
            "time": self.time(shot.end.time_of_day or scene.time_of_day),
            "style": style,
            "lens_mm": self.lens(shot.lens_mm, style),
        }

    # rendering -------------------------------------------------------------------

    def _template(self, name: str, style_name: str | None) -> tuple[Path, Span | None]:
        key = (name, style_name)
        if key not in self._templates:
            d = self._def("style", style_name)
            override = d.get(f"{name}_template") if d else None
            self._templates[key] = (Path(override), d.span) if override and d else (template_dir() / f"{name}.j2",
                                                                                    None)
        return self._templates[key]

    def _render(self, kind: str, template: str, style_name: str | None, context: dict[str, Any],
                family: Family, span: Span | None, what: str) -> str:
        path, style_span = self._template(template, style_name)
        try:
            text = render_template(path, context)
        except TemplateError as err:
            key = (str(path), str(err))
            if key not in self._failed:
                self._failed.add(key)
                self.result.diagnostics.append(Diagnostic(
                    "E0801", f"prompt template failed: {err}", style_span or span,
                    label="template named here" if style_span else None,
                    hint="templates see: film, scene, shot, characters, location, time, style, lens_mm"))
            text = ""
        linted = lint(text, kind, family)
        for code, message, hint in linted.warnings:
            self.result.diagnostics.append(Diagnostic(code, f"{what}: {message}", span, hint=hint))
        return linted.text

    def shot(self, shot: ir.Shot, scene: ir.Scene) -> ShotPrompts:
        if shot.id in self.result.shots:
            return self.result.shots[shot.id]
        ctx = self.shot_context(shot, scene)
        what = f"shot `{shot.id}`"
        prompts = ShotPrompts(
            image=self._render("image", "image", shot.style, ctx, self.image, shot.span, what),
            motion=self._render("motion", "motion", shot.style, ctx, self.video, shot.span, what),
            negative=self._render("negative", "negative", shot.style, ctx, self.image, shot.span, what),
        )
        self.result.shots[shot.id] = prompts
        return prompts

    def plate(self, location: str, time: str, style_name: str | None, span: Span | None) -> dict[str, str]:
        key = (location, time, style_name)
        if key not in self.result.plates:
            style = self.style(style_name)
            ctx = {"film": {"title": self.film.header.title}, "location": self.location(location, time),
                   "time": self.time(time), "style": style, "lens_mm": style["lens_mm"]}
            d = self._def("location", location)
            what = f"plate `{_short(location)}` at {_short(time)}"
            self.result.plates[key] = {
                "image": self._render("plate", "plate", None, ctx, self.image, d.span if d else span, what),
                "negative": self._render("negative", "negative", style_name, ctx | {"characters": []}, self.image,
                                         d.span if d else span, what),
            }
        return self.result.plates[key]

    def portrait(self, character: str, state: ir.CharacterState, span: Span | None) -> dict[str, str]:
        key = (character, state.wardrobe, tuple(state.states))
        if key not in self.result.portraits:
            ctx = {"film": {"title": self.film.header.title},
                   "character": self.character(character, state.model_copy(update={"holding": []})),
                   "style": self.style(None)}
            d = self._def("character", character)
            what = f"portrait of `{_short(character)}`"
            self.result.portraits[key] = {
                "image": self._render("portrait", "portrait", None, ctx, self.image, d.span if d else span, what),
                "negative": self._render("negative", "negative", None, ctx, self.image, d.span if d else span, what),
            }
        return self.result.portraits[key]


def build_prompts(film: ir.Film, image_family: str = DEFAULT_IMAGE_FAMILY,
                  video_family: str = DEFAULT_VIDEO_FAMILY) -> PromptSet:
    """Image, motion and negative prompts of every shot, with their lint diagnostics."""
    prompter = Prompter(film, image_family, video_family)
    for scene in film.scenes:
        for shot in scene.shots:
            prompter.shot(shot, scene)
    return prompter.result
