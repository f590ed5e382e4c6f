"""Fountain screenplay (`fountain.Screenplay`) -> a `.film` skeleton to refine by hand.

The output parses, passes `filmc check` and is already in `filmc fmt`'s
layout. Everything is a heuristic a filmmaker will revise; the rules are kept
simple so that the result is predictable:

Header and cast
  * Title page `Title` -> `film "Title" { resolution 1920x1080; fps 24; export web_mp4 }`
    (else the title passed in, e.g. from the file name, else "Untitled");
    Credit + Author(s), Source, Draft date and Copyright become comments.
  * Every distinct cue name (extensions and `^` removed, case-folded) is one
    `character`, in order of first line; only speakers are characters. The
    identifier is the name in ASCII snake_case (`MRS. O'BRIEN` -> `mrs_obrien`,
    `JOSÉ` -> `jose`), prefixed `char_` when it would start with a digit or
    be a keyword (`char_2nd_guard`, `char_voice`), suffixed `_2`, `_3` when
    taken. The display name is title-cased (`Mrs. O'Brien`, `R2D2`) unless a
    forced cue is in mixed case (`@McCLANE`), and gains the rest of the name
    when the introduction reads `NORA VANCE (40s, ...)` or `DICK STEEL, ...`.
  * `look` is the first action sentence naming the character in capitals (a
    screenplay's introduction), else the display name.
  * Voices alternate between characters in order of first line: each gets the
    least used of en_us_male, en_us_female, en_gb_male, en_gb_female (first in
    that order on a tie), choosing among the two male or two female voices
    when the pronouns of the introduction and the next two action sentences
    (up to another character's name) say he/him/his or she/her.
  * Every distinct (interior/exterior, place) in the headings is one
    `location` (EST counts as exterior), identified like characters with the
    prefix `loc_`; a second setting of a place already named gets `_ext` /
    `_int` (`house`, `house_ext`). Its `look` is "Interior|Exterior, <Place>"
    (just the place for forced headings) plus the first sentence of the first action at that place that names no
    character, uses no personal pronoun and is not a camera direction.

Scenes
  * Each heading -> `scene sNNN "<heading>" at <location>, <time> with ...`;
    the cast lists everyone who speaks (V.O. included) or is framed in it.
    Times: DAY/NIGHT/MORNING/AFTERNOON/EVENING/DUSK/DAWN map to the std times
    (also NOON, MIDDAY -> day; MIDNIGHT -> night; SUNSET, TWILIGHT -> dusk;
    SUNRISE -> dawn; MAGIC/GOLDEN HOUR -> magic_hour; clock times by hour);
    CONTINUOUS -> `continuous` when a scene comes before; LATER, MOMENTS
    LATER, SAME -> the previous scene's (resolved) time; anything else or
    nothing -> `day` with a comment. Scene numbers and heading segments after
    the time (FLASHBACK) become comments.
  * Action or dialogue before the first heading goes into a scene at the
    location `unspecified_location`. A heading with nothing under it gets a
    2 s shot of its place (establishing outside, wide inside).

Shots (durations are rounded up to half seconds, so whole frames at 24 fps)
  * Action paragraph -> one shot with `action "..."` (whitespace folded,
    quotes and backslashes escaped), lasting 1 s per 12 words, at least 2 s.
    Type: `insert` when it says INSERT or CLOSE ON, `pov` for POV, `aerial`
    for AERIAL (these frame nobody); otherwise the first shot of a scene is
    `establishing` (exterior, first visit of the place; frames nobody) or
    `wide`; later shots frame the characters the text names in CAPS or Title
    case (a title such as DR. may be dropped: `Reyes`): none -> wide,
    one -> medium, two -> two_shot, more -> wide.
  * A bare camera direction in caps (`INSERT - THE LETTER`, `CLOSE ON ...`,
    `ANGLE ON ...`) merges with the action paragraph after it.
  * Centred text is action. Lyrics inside or right after a dialogue block are
    sung by that speaker (`name (singing): "..."`); other lyrics are action
    "Song: line / line".
  * Dialogue block -> one shot, lasting its words at 150 wpm (the std voices
    speak 155-170 wpm) plus 1 s, plus 1 s per (beat)/(pause), at least 2 s.
    Type: `close_up` on the speaker for a short emotional line (<= 8 words
    with `!`, a trailing `...`/dash, or a parenthetical such as whispering,
    quietly, shouting, crying); `over_the_shoulder` on the speaker and the
    previous speaker when two people trade lines with nothing in between;
    `medium` on the speaker otherwise. Dual dialogue (`^`) joins the previous
    block in one `two_shot` on both on-screen speakers.
  * Lines: (V.O.) and (O.S.)/(O.C.) are kept, (CONT'D) dropped; FILTERED,
    ON PHONE, ON RADIO, ON TV, PRE-LAP and the like become `(O.S.)` plus the
    extension as a delivery note; other extensions and parentheticals are kept
    before the line they precede: `name (quietly): "..."`. Parentheticals
    after the last line (`(exits)`) become the shot's action; a block with no
    line at all is a 2 s medium shot of the speaker with that action. A
    speaker off screen is not framed: the shot frames the previous on-screen
    speaker of the scene, or nobody (wide).

Transitions (written after a scene's last shot, they open the next scene)
  * CUT TO:, JUMP CUT, BACK TO, INTERCUT, TIME CUT -> nothing (a cut);
    DISSOLVE TO: -> `dissolve 1s`; FADE IN: -> `fade_in 1s`; FADE OUT. /
    FADE TO BLACK. -> `fade_out 1s` (stays after its shot); CUT TO BLACK ->
    `dip_to_black 12f`; FADE TO WHITE -> `dip_to_white 1s`; WIPE ->
    `wipe left 500ms`; SMASH CUT / MATCH CUT -> `match_cut`; anything else ->
    a comment. A transition the checker would reject (no shot before it or
    after it, two in a row, a second fade-out) becomes a comment saying why.

Notes and structure
  * Notes `[[...]]` -> `note "..."` on their shot or scene (comments before
    the first scene). Sections at the shallowest level used -> `act N "Title"`
    before the next scene; deeper sections (`# ## Title`) and synopses
    (`# Synopsis: ...`) -> comments, moved before the next scene when they
    close a scene. Boneyard and page breaks are dropped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from filmc.atomic import write_text

from .fountain import (
    Action,
    Centered,
    Dialogue,
    Lyric,
    Lyrics,
    Note,
    PageBreak,
    Parenthetical,
    SceneHeading,
    Screenplay,
    Section,
    Speech,
    Synopsis,
    Transition,
    parse,
    read_fountain,
    time_keyword,
)

VOICES = ("en_us_male", "en_us_female", "en_gb_male", "en_gb_female")
DIALOGUE_WPM = 150
ACTION_WORDS_PER_SECOND = 12
MIN_SHOT_SECONDS = 2.0
INDENT = "  "

# Words the grammar reserves (and a few it gives meaning to) cannot be identifiers.
RESERVED = {
    "film", "import", "act", "scene", "at", "with", "shot", "on", "extends", "std", "continuous", "not",
    "style", "grade", "voice", "character", "location", "prop", "shot_type", "camera_move", "camera_speed",
    "angle", "transition", "profile", "ambience", "music", "sfx", "time_of_day",
    "enters", "exits", "becomes", "sheds", "takes", "drops", "gives", "wears", "wearing", "to", "when",
}  # fmt: skip

_WORD = re.compile(r"[\w']+")
_VOICE_OVER = {"VO", "VOICEOVER"}
_OFF_SCREEN = {"OS", "OC", "OFF", "OFFSCREEN", "OFFCAMERA"}
_CONTINUED = {"CONTD", "CONT", "CONTINUING", "CONTINUED", "MORE"}
_HEARD_ONLY = re.compile(
    r"^(FILTERED|ON (THE )?(PHONE|RADIO|TV|TELEVISION|SPEAKER|SPEAKERPHONE|INTERCOM|WALKIE|RECORDING|TAPE|SCREEN)|"
    r"OVER (THE )?(PHONE|RADIO|INTERCOM|SPEAKER|PA)|PRE-?LAP|RECORDED|RECORDING|THROUGH (THE )?DOOR)\b"
)
_EMOTIONAL = re.compile(
    r"\b(whisper|cry|crie|sob|tear|scream|shout|yell|angr|furious|quiet|soft|trembl|shak|choke|desperat|plead|"
    r"laugh|beg|terrif|hyster|broken|gasp|breathless)", re.I)  # fmt: skip
_BEAT = re.compile(r"^(beat|pause|a beat|long beat|long pause|silence)$", re.I)
_INSERT = re.compile(r"\b(INSERT|CLOSE ON|CLOSE-UP ON|CLOSEUP ON|CLOSE UP ON)\b")
_POV = re.compile(r"\bPOV\b")
_PERSONAL = re.compile(r"\b(she|he|they|her|him|his|them|their)\b", re.I)
_SLUG = re.compile(r"^(INSERT|CLOSE ON|CLOSE UP|CLOSE-UP|CLOSEUP|ANGLE ON|POV|WIDE ON|WIDE SHOT|AERIAL|BACK TO SCENE)\b")
_AERIAL = re.compile(r"\bAERIAL\b")
_TITLES = {"MR", "MRS", "MS", "MISS", "DR", "DETECTIVE", "DET", "OFFICER", "AGENT", "CAPTAIN", "CAPT", "SERGEANT",
           "SGT", "LIEUTENANT", "LT", "PROFESSOR", "PROF", "UNCLE", "AUNT", "FATHER", "SISTER", "BROTHER",
           "COLONEL", "GENERAL", "JUDGE", "NURSE", "DOCTOR", "SIR", "LADY", "LORD", "KING", "QUEEN"}
_SETTING_WORDS = {"INT": "Interior", "EXT": "Exterior", "INT/EXT": "Interior and exterior"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(A-Z0-9])")


# --- small text helpers ------------------------------------------------------


def film_string(text: str) -> str:
    """A .film string literal: one line, backslashes and quotes escaped."""
    flat = " ".join(text.replace("\t", " ").split())
    flat = "".join(ch for ch in flat if ch.isprintable())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def comment(text: str) -> str:
    flat = " / ".join(part.strip() for part in text.splitlines() if part.strip())
    flat = "".join(ch for ch in flat if ch.isprintable())
    return f"# {flat}".rstrip()


def identifier(text: str, taken: set[str], prefix: str) -> str:
    """ASCII snake_case, not a keyword, not starting with a digit, unique within `taken` (which it extends)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = ascii_text.replace("'", "")
    base = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_").lower() or prefix
    if base[0].isdigit() or base in RESERVED:
        base = f"{prefix}_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def display_name(name: str) -> str:
    """`MRS. O'BRIEN` -> `Mrs. O'Brien`; `MAN'S VOICE` -> `Man's Voice`; mixed case is kept."""
    if name != name.upper() and name != name.lower():
        return name
    out = []
    word_start = 0
    for i, ch in enumerate(name):
        previous = name[i - 1] if i else " "
        if previous in " -":
            word_start = i
        if previous == "'":
            upper = i - word_start == 2  # O'Brien, D'Angelo; but Man's
        elif previous.isdigit():
            upper = not re.match(r"(ST|ND|RD|TH)\b", name[i:])  # R2D2; but 2nd
        else:
            upper = not previous.isalpha()
        out.append(ch.upper() if upper else ch.lower())
    return "".join(out)


def seconds_text(seconds: float) -> str:
    """Round up to half a second (whole frames at the 24 fps the header sets) and write it as `2s`, `3.5s`."""
    half = math.ceil(seconds * 2 - 1e-9) / 2
    return f"{half:g}s"


def guess_gender(text: str) -> str | None:
    """`female`/`male` from the pronouns of a character's introduction, None when they do not tell."""
    female = len(re.findall(r"\b(she|her|hers|herself)\b", text, re.I))
    male = len(re.findall(r"\b(he|him|his|himself)\b", text, re.I))
    if female > male:
        return "female"
    if male > female:
        return "male"
    return None


def words(text: str) -> int:
    return len(_WORD.findall(text))


_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:[A-Za-z]|mr|mrs|ms|dr|st|jr|sr|prof|capt|lt|sgt|det|gen|col|rev|fr|no|vs|mt|ft|ave)\.$", re.I)


def sentences(text: str) -> list[str]:
    """Split at sentence ends, but not after `Mrs.`, `Dr.`, `St.` or an initial."""
    flat = " ".join(text.split())
    out: list[str] = []
    for piece in _SENTENCE_END.split(flat):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return [s.strip() for s in out if s.strip()]


def _whole_words(forms) -> re.Pattern[str]:
    """One of `forms` as whole words, longest first; a pattern matching nothing when there are none."""
    ordered = sorted({f for f in forms if f}, key=lambda f: (-len(f), f))
    if not ordered:
        return re.compile(r"(?!)")
    return re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(f) for f in ordered) + r")(?![\w])")


def _key(name: str) -> str:
    return " ".join(name.upper().split())


# --- intermediate model ------------------------------------------------------


@dataclass
class _Character:
    id: str
    display: str
    cue: str  # canonical cue name (upper case)
    voice: str
    look: str = ""


@dataclass
class _Location:
    id: str
    display: str
    setting: str
    look: str = ""
    described: bool = False


@dataclass
class _Shot:
    type: str
    seconds: float
    subjects: list[str]
    action: str | None = None
    lines: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)  # everyone whose line is in the shot
    notes: list[str] = field(default_factory=list)
    from_dialogue: bool = False
    slug: bool = False  # a bare camera direction such as `INSERT - THE LETTER`


@dataclass
class _Transition:
    statement: str  # `dissolve 1s`, or "" for a cut
    source: str  # the Fountain text, for comments
    effect: str


@dataclass
class _Comment:
    text: str
    movable: bool = False  # sections and synopses written just before a heading belong to the next scene


@dataclass
class _SceneNote:
    text: str


_Item = _Shot | _Transition | _Comment | _SceneNote


@dataclass
class _Scene:
    name: str
    title: str
    location: _Location
    time: str
    setting: str
    first_visit: bool
    comments_before: list[str] = field(default_factory=list)
    act: tuple[int, str] | None = None
    head_comments: list[str] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    cast: list[str] = field(default_factory=list)
    last_speaker: str | None = None  # last on-screen speaker
    previous_was_dialogue: bool = False
    last_dialogue: Dialogue | None = None

    @property
    def shots(self) -> list[_Shot]:
        return [i for i in self.items if isinstance(i, _Shot)]

    def present(self, who: str) -> None:
        if who not in self.cast:
            self.cast.append(who)


# --- transitions -------------------------------------------------------------


def transition_statement(text: str) -> tuple[str, str] | None:
    """Map a Fountain transition to (`.film` statement, effect); "" is a plain cut; None is unknown."""
    t = " ".join(re.sub(r"[^A-Z ]", " ", text.upper()).split())
    if t.startswith(("SMASH CUT", "MATCH CUT")):
        return "match_cut", "match_cut"
    if t.startswith("CUT TO BLACK"):
        return "dip_to_black 12f", "dip"
    if t.startswith("FADE IN"):
        return "fade_in 1s", "fade_in"
    if t.startswith(("FADE OUT", "FADE TO BLACK")):
        return "fade_out 1s", "fade_out"
    if t.startswith("FADE TO WHITE"):
        return "dip_to_white 1s", "dip"
    if "DISSOLVE" in t:
        return "dissolve 1s", "dissolve"
    if t.startswith("WIPE"):
        return "wipe left 500ms", "wipe"
    if t.endswith("CUT TO") or t.startswith(("CUT", "JUMP CUT", "BACK TO", "INTERCUT", "TIME CUT")):
        return "", "cut"
    return None


# --- the converter -----------------------------------------------------------


class _Converter:
    def __init__(self, play: Screenplay) -> None:
        self.play = play
        self.characters: dict[str, _Character] = {}
        self.locations: dict[tuple[str, str], _Location] = {}
        self.scenes: list[_Scene] = []
        self.top_comments: list[str] = []  # notes and such before the first scene
        self.pending_before: list[str] = []
        self.pending_head: list[_Item] = []
        self.pending_act: tuple[int, str] | None = None
        self.acts = 0
        self.character_ids: set[str] = set()
        self.location_ids: set[str] = set()
        sections = [e.level for e in play.elements if isinstance(e, Section)]
        self.act_level = min(sections) if sections else 0
        self.action_sentences = [s for e in play.elements if isinstance(e, Action) for s in sentences(e.text)]
        self.top_comments_after: list[str] = []
        self.voices_given: dict[str, int] = {}
        self.any_cue = _whole_words({_key(e.character) for e in play.elements if isinstance(e, Dialogue)})
        self.mention_patterns: dict[str, re.Pattern[str]] = {}
        for element in play.elements:  # identifiers and voices in order of first line
            if isinstance(element, Dialogue):
                self.character(element.character)

    # --- cast and places ---------------------------------------------------

    def character(self, cue_name: str) -> _Character:
        key = _key(cue_name)
        if key not in self.characters:
            display = display_name(" ".join(cue_name.split()))
            intro, following = self.introduction(key)
            if intro and display == display_name(key):
                # `NORA VANCE (40s)`, `DICK STEEL, his partner`: the introduction gives the full name.
                full = re.search(rf"(?<![\w'])((?:[A-Z][A-Z'-]+ ){{0,2}}){re.escape(key)}((?: [A-Z][A-Z'-]+){{0,2}})"
                                 r"(?= ?[(,])", intro)
                if full:
                    display = display_name(full.group(1) + key + full.group(2))
            ident = identifier(display_name(key) if key == key.upper() else key, self.character_ids, "char")
            voice = self.voice(guess_gender(f"{intro} {following}") if intro else None)
            self.characters[key] = _Character(ident, display, key, voice, intro or display)
        return self.characters[key]

    def voice(self, gender: str | None) -> str:
        """The least used voice of the right kind (the first such in `VOICES` order on a tie)."""
        pool = VOICES if gender is None else tuple(v for v in VOICES if v.endswith(f"_{gender}"))
        chosen = min(pool, key=lambda v: self.voices_given.get(v, 0))
        self.voices_given[chosen] = self.voices_given.get(chosen, 0) + 1
        return chosen

    def introduction(self, key: str) -> tuple[str | None, str]:
        """The first action sentence naming `key` in capitals, and the two action sentences after it."""
        pattern = _whole_words([key])
        for i, sentence in enumerate(self.action_sentences):
            if pattern.search(sentence):
                following = []
                for after in self.action_sentences[i + 1 : i + 3]:
                    if any(m.group(0) != key for m in self.any_cue.finditer(after)):
                        break  # someone else's introduction: their pronouns are theirs
                    following.append(after)
                return sentence[:300], " ".join(following)
        return None, ""

    def location(self, heading: SceneHeading | None) -> tuple[_Location, bool]:
        if heading is None:
            setting, place = "", "UNSPECIFIED"
        else:
            setting = "EXT" if heading.setting == "EST" else heading.setting
            place = _key(heading.location) or "UNSPECIFIED"
        key = (setting, place)
        if key in self.locations:
            return self.locations[key], False
        display = display_name(place) if place != "UNSPECIFIED" else "Unspecified location"
        ident = identifier(display, set(), "loc")
        if ident in self.location_ids and setting:
            ident = identifier(f"{display} {setting.replace('/', ' ')}", self.location_ids, "loc")
        else:
            ident = identifier(display, self.location_ids, "loc")
        setting_word = _SETTING_WORDS.get(setting, "")
        loc = _Location(ident, display, setting, f"{setting_word}, {display}" if setting_word else display)
        self.locations[key] = loc
        return loc, True

    # --- walking the screenplay --------------------------------------------

    def run(self) -> None:
        elements = self.play.elements
        scene: _Scene | None = None
        for index, element in enumerate(elements):
            if isinstance(element, SceneHeading):
                scene = self.open_scene(element, scene)
            elif isinstance(element, Section):
                if element.level == self.act_level:
                    self.acts += 1
                    self.pending_act = (self.acts, element.title)
                else:
                    self.add_comment(scene, "#" * element.level + " " + element.title, movable=True)
            elif isinstance(element, Synopsis):
                self.add_comment(scene, f"Synopsis: {element.text}", movable=True)
            elif isinstance(element, Note):
                if scene is None:
                    self.top_comments.append(comment(f"Note: {element.text}"))
                else:
                    scene.items.append(_SceneNote(element.text))
            elif isinstance(element, Transition):
                self.add_transition(scene, element)
            elif isinstance(element, PageBreak):
                continue
            else:
                if scene is None:
                    scene = self.open_scene(None, None)
                self.add_content(scene, element, elements[index - 1] if index else None)
        self.finish(scene)
        if self.pending_act is not None:
            number, act_title = self.pending_act
            self.top_comments_after = [comment(f'Act {number} "{act_title}" has no scenes')]

    def add_comment(self, scene: _Scene | None, text: str, movable: bool) -> None:
        if scene is None:
            self.pending_before.append(comment(text))
        else:
            scene.items.append(_Comment(comment(text), movable))

    def add_transition(self, scene: _Scene | None, t: Transition) -> None:
        mapped = transition_statement(t.text)
        if mapped is None:
            item: _Item = _Comment(comment(f"{t.text} (transition not recognised; a cut)"), movable=True)
        else:
            item = _Transition(mapped[0], t.text, mapped[1])
        if scene is None:
            self.pending_head.append(item)
        else:
            scene.items.append(item)

    def open_scene(self, heading: SceneHeading | None, previous: _Scene | None) -> _Scene:
        carried: list[_Item] = []
        if previous is not None:
            # Transitions, sections and synopses after the last shot introduce the next scene.
            while previous.items:
                last = previous.items[-1]
                movable = (isinstance(last, _Transition) and last.effect != "fade_out") or (
                    isinstance(last, _Comment) and last.movable)
                if not movable:
                    break
                carried.insert(0, previous.items.pop())
            self.finish(previous)
        location, first_visit = self.location(heading)
        name = f"s{len(self.scenes) + 1:03d}"
        time, time_comment = self.time_of_day(heading)
        title = heading.text if heading else "Before the first scene heading"
        scene = _Scene(name, title, location, time, heading.setting if heading else "", first_visit)
        if time_comment:
            scene.head_comments.append(comment(time_comment))
        if heading is not None:
            if heading.number:
                scene.head_comments.append(comment(f"Scene number {heading.number}"))
            if heading.extra:
                scene.head_comments.append(comment("Heading also says: " + " - ".join(heading.extra)))
            scene.items.extend(_SceneNote(n) for n in heading.notes)
        scene.comments_before = self.pending_before
        self.pending_before = []
        for item in carried:
            if isinstance(item, _Comment):
                scene.comments_before.append(item.text)
            else:
                self.pending_head.append(item)
        scene.items[:0] = self.pending_head
        self.pending_head = []
        scene.act, self.pending_act = self.pending_act, None
        self.scenes.append(scene)
        return scene

    def time_of_day(self, heading: SceneHeading | None) -> tuple[str, str | None]:
        previous = self.scenes[-1].time if self.scenes else None
        resolved_previous = self.resolved_time(len(self.scenes) - 1) if self.scenes else None
        if heading is None:
            return "day", "No scene heading: time of day assumed to be day"
        meaning = time_keyword(heading.time) if heading.time else None
        if meaning == "continuous":
            if previous is None:
                return "day", f"{heading.time}: no scene before this one; assumed day"
            return "continuous", None
        if meaning in ("later", "same"):
            if resolved_previous is None:
                return "day", f"{heading.time}: no scene before this one; assumed day"
            return resolved_previous, None
        if meaning is None:
            if not heading.time:
                return "day", "The heading gives no time of day; assumed day"
            return "day", f'Time of day "{heading.time}" not recognised; assumed day'
        return meaning, None

    def resolved_time(self, index: int) -> str:
        while index > 0 and self.scenes[index].time == "continuous":
            index -= 1
        time = self.scenes[index].time
        return "day" if time == "continuous" else time

    # --- shots -------------------------------------------------------------

    def add_content(self, scene: _Scene, element, previous_element) -> None:
        if isinstance(element, Action | Centered):
            self.action_shot(scene, element.text, element.notes)
        elif isinstance(element, Lyrics):
            if isinstance(previous_element, Dialogue) and scene.last_dialogue is previous_element:
                singer = self.character(previous_element.character)
                shot = self.dialogue_shot(scene, previous_element, sung=element.text)
                shot.notes.extend(element.notes)
                scene.items.append(shot)
                scene.present(singer.id)
            else:
                self.action_shot(scene, "Song: " + " / ".join(element.text.splitlines()), element.notes)
        elif isinstance(element, Dialogue):
            self.add_dialogue(scene, element)

    def mention_pattern(self, char: _Character) -> re.Pattern[str]:
        """How action text names a character: in CAPS or Title case, perhaps by surname after a title."""
        if char.cue not in self.mention_patterns:
            forms = {char.cue, display_name(char.cue), char.display}
            parts = char.cue.split()
            if len(parts) > 1 and parts[0].rstrip(".") in _TITLES and len(parts[-1]) > 2:
                forms |= {parts[-1], display_name(parts[-1])}
            self.mention_patterns[char.cue] = _whole_words(forms)
        return self.mention_patterns[char.cue]

    def mentioned(self, text: str) -> list[str]:
        found: list[tuple[int, str]] = []
        for char in self.characters.values():
            m = self.mention_pattern(char).search(text)
            if m:
                found.append((m.start(), char.id))
        return [ident for _, ident in sorted(found)]

    def action_shot(self, scene: _Scene, text: str, notes: tuple[str, ...]) -> None:
        flat = " ".join(text.split())
        seconds = max(MIN_SHOT_SECONDS, words(flat) / ACTION_WORDS_PER_SECOND)
        subjects = self.mentioned(flat)
        first = not scene.shots
        if _INSERT.search(flat):
            shot_type, subjects = "insert", []
        elif _POV.search(flat):
            shot_type, subjects = "pov", []
        elif _AERIAL.search(flat):
            shot_type, subjects = "aerial", []
        elif first and scene.setting in ("EXT", "EST") and scene.first_visit:
            shot_type, subjects = "establishing", []
        elif first:
            shot_type = "wide"
        else:
            shot_type = {1: "medium", 2: "two_shot"}.get(len(subjects), "wide")
        for who in subjects:
            scene.present(who)
        if scene.first_visit and not scene.location.described:
            # The first sentence about the place itself, not about the people in it.
            for sentence in sentences(flat):
                if not (self.mentioned(sentence) or _SLUG.match(sentence) or _PERSONAL.search(sentence)):
                    scene.location.look += ": " + sentence[:300]
                    scene.location.described = True
                    break
        previous = scene.items[-1] if scene.items else None
        if isinstance(previous, _Shot) and previous.slug:
            # `INSERT - THE LETTER` then `It reads: ...`: the paragraph is what the slug shows.
            previous.action = f"{previous.action}: {flat}"
            previous.seconds = max(MIN_SHOT_SECONDS, words(previous.action) / ACTION_WORDS_PER_SECOND)
            previous.slug = False
            previous.notes += notes
        else:
            slug = bool(_SLUG.match(flat)) and flat == flat.upper() and words(flat) <= 10
            scene.items.append(_Shot(shot_type, seconds, subjects, action=flat, notes=list(notes), slug=slug))
        scene.previous_was_dialogue = False

    def lines_of(self, d: Dialogue, speaker: str, sung: str | None = None) -> tuple[list[str], int, int, bool]:
        """Rendered lines, words spoken, beats, and whether the speaker is on screen."""
        mode: str | None = None
        delivery: list[str] = []
        for ext in d.extensions:
            key = re.sub(r"[^A-Z]", "", ext.upper())
            if key in _VOICE_OVER:
                mode = "V.O."
            elif key in _OFF_SCREEN:
                mode = mode or "O.S."
            elif key in _CONTINUED:
                continue
            elif _HEARD_ONLY.match(" ".join(re.sub(r"[^A-Z -]", " ", ext.upper()).split())):
                mode = mode or "O.S."
                delivery.append(ext.lower())
            else:
                delivery.append(ext)
        head = [f"({mode})"] if mode else []
        head += [p for p in (_paren(x) for x in delivery) if p]
        said: list[tuple[list[str], str]] = []
        spoken = 0
        beats = 0
        pending: list[str] = []
        parts = list(d.parts) if sung is None else [Lyric(line) for line in sung.splitlines() if line.strip()]
        for part in parts:
            if isinstance(part, Parenthetical):
                if _BEAT.match(part.text.strip(" .")):
                    beats += 1
                p = _paren(part.text)
                if p:
                    pending.append(p)
                continue
            extra = ["(singing)"] if isinstance(part, Lyric) else []
            said.append((head + pending + extra, part.text))
            spoken += words(part.text)
            pending = []
        out = [f"{speaker}{''.join(' ' + p for p in parens)}: {film_string(text)}" for parens, text in said]
        return out, spoken, beats, mode is None

    def dialogue_shot(self, scene: _Scene, d: Dialogue, sung: str | None = None) -> _Shot:
        char = self.character(d.character)
        lines, spoken, beats, on_screen = self.lines_of(d, char.id, sung)
        seconds = max(MIN_SHOT_SECONDS, spoken / DIALOGUE_WPM * 60 + 1 + beats)
        if not lines:
            asides = " ".join(f"({p.text})" for p in d.parts if isinstance(p, Parenthetical))
            return _Shot("medium", MIN_SHOT_SECONDS, [char.id], action=f"{char.display} {asides}".strip(),
                         notes=list(d.notes))
        text = " ".join(p.text for p in d.parts if isinstance(p, Speech)) if sung is None else sung
        trailing = _trailing_parentheticals(d) if sung is None else []
        aside = f"{char.display} " + " ".join(f"({t})" for t in trailing) if trailing else None
        parentheticals = " ".join(p.text for p in d.parts if isinstance(p, Parenthetical)) + " " + " ".join(
            d.extensions)
        if not on_screen:
            listener = scene.last_speaker if scene.last_speaker not in (None, char.id) else None
            return _Shot("medium" if listener else "wide", seconds, [listener] if listener else [], action=aside,
                         lines=lines, speakers=[char.id], notes=list(d.notes), from_dialogue=True)
        emotional = words(text) <= 8 and (
            "!" in text or text.rstrip().endswith(("...", "--", "\u2014", "\u2026"))
            or bool(_EMOTIONAL.search(parentheticals)))
        previous = scene.last_speaker
        if emotional:
            shot_type, subjects = "close_up", [char.id]
        elif scene.previous_was_dialogue and previous is not None and previous != char.id:
            shot_type, subjects = "over_the_shoulder", [char.id, previous]
        else:
            shot_type, subjects = "medium", [char.id]
        return _Shot(shot_type, seconds, subjects, action=aside, lines=lines, speakers=[char.id],
                     notes=list(d.notes), from_dialogue=True)

    def add_dialogue(self, scene: _Scene, d: Dialogue) -> None:
        char = self.character(d.character)
        previous_shot = scene.items[-1] if scene.items else None
        if d.dual and isinstance(previous_shot, _Shot) and previous_shot.from_dialogue and scene.last_dialogue:
            extra = self.dialogue_shot(scene, d)
            both = [s for s in dict.fromkeys(self.framed_speakers(scene.last_dialogue) + self.framed_speakers(d))]
            previous_shot.lines += extra.lines
            previous_shot.speakers += extra.speakers
            previous_shot.seconds += extra.seconds - 1
            previous_shot.notes += extra.notes
            previous_shot.action = previous_shot.action or extra.action
            if len(both) >= 2:
                previous_shot.type, previous_shot.subjects = "two_shot", both
            elif both:
                previous_shot.type, previous_shot.subjects = "medium", both
            else:
                previous_shot.type, previous_shot.subjects = "wide", []
        else:
            shot = self.dialogue_shot(scene, d)
            scene.items.append(shot)
            previous_shot = shot
        for who in previous_shot.subjects + previous_shot.speakers:
            scene.present(who)
        if self.framed_speakers(d):
            scene.last_speaker = char.id
        scene.previous_was_dialogue = True
        scene.last_dialogue = d

    def framed_speakers(self, d: Dialogue) -> list[str]:
        char = self.character(d.character)
        _, _, _, on_screen = self.lines_of(d, char.id)
        has_lines = any(isinstance(p, Speech | Lyric) for p in d.parts)
        return [char.id] if on_screen or not has_lines else []

    def finish(self, scene: _Scene | None) -> None:
        if scene is not None and not scene.shots:
            kind = "wide" if scene.setting in ("INT", "INT/EXT") else "establishing"
            scene.items.append(_Shot(kind, MIN_SHOT_SECONDS, [], action=scene.location.display))


def _trailing_parentheticals(d: Dialogue) -> list[str]:
    """Parentheticals after the last spoken line: stage directions such as `(exits)`."""
    out: list[str] = []
    for part in reversed(d.parts):
        if not isinstance(part, Parenthetical):
            break
        out.insert(0, " ".join(re.sub(r"[()]", " ", part.text).split()))
    return [t for t in out if t] if len(out) < len(d.parts) else []


def _paren(text: str) -> str:
    flat = " ".join(re.sub(r"[()]", " ", text).split())
    return f"({flat})" if flat else ""


# --- checking transitions in film order --------------------------------------


def _settle_transitions(scenes: list[_Scene]) -> None:
    """Turn transitions the checker would reject into comments (it reads them in film order)."""
    have_shot = False
    faded_out = False
    pending: tuple[_Scene, int] | None = None
    for scene in scenes:
        for i, item in enumerate(scene.items):
            if isinstance(item, _Shot):
                have_shot, faded_out, pending = True, False, None
                continue
            if not isinstance(item, _Transition) or not item.statement:
                continue
            problem = None
            if item.effect == "fade_out":
                if not have_shot:
                    problem = "no shot before it"
                elif faded_out:
                    problem = "the shot already fades out"
                faded_out = problem is None or faded_out
            elif pending is not None:
                problem = "follows another transition"
            elif item.effect != "fade_in" and not have_shot:
                problem = "no shot before it"
            else:
                pending = (scene, i)
            if problem:
                scene.items[i] = _Comment(comment(f"{item.source} ({problem})"))
    if pending is not None:
        scene, i = pending
        t = scene.items[i]
        assert isinstance(t, _Transition)
        scene.items[i] = _Comment(comment(f"{t.source} (no shot after it)"))


# --- writing .film text ------------------------------------------------------


def _shot_lines(shot: _Shot) -> list[str]:
    head = f"shot {shot.type} {seconds_text(shot.seconds)}"
    if shot.subjects:
        head += " on " + ", ".join(shot.subjects)
    body = []
    if shot.action is not None:
        body.append(f"action {film_string(shot.action)}")
    body += shot.lines
    body += [f"note {film_string(n)}" for n in shot.notes if n.strip()]
    return [head + " {", *(INDENT + b for b in body), "}"]


def _scene_lines(scene: _Scene) -> list[str]:
    header = f"scene {scene.name} {film_string(scene.title)} at {scene.location.id}, {scene.time}"
    if scene.cast:
        header += " with " + ", ".join(scene.cast)
    body: list[str] = list(scene.head_comments)
    for item in scene.items:
        if isinstance(item, _Shot):
            body += _shot_lines(item)
        elif isinstance(item, _Transition):
            if item.statement:
                body.append(item.statement)
        elif isinstance(item, _Comment):
            body.append(item.text)
        elif isinstance(item, _SceneNote) and item.text.strip():
            body.append(f"note {film_string(item.text)}")
    return [header + " {", *(INDENT + b for b in body), "}"]


def _title_comments(play: Screenplay) -> list[str]:
    tp = play.title_page
    out = []
    credit = tp.get("Credit")
    authors = tp.get("Author") or tp.get("Authors")
    if authors:
        out.append(comment(f"{credit or 'Written by'} {', '.join(authors.splitlines())}"))
    elif credit:
        out.append(comment(credit))
    for key in ("Source", "Draft date", "Copyright"):
        value = tp.get(key)
        if value:
            out.append(comment(f"{key}: {value}"))
    return out


def convert(play: Screenplay, *, title: str | None = None, source_name: str | None = None) -> str:
    """The `.film` source for a parsed screenplay. `title` is used when the title page has none."""
    converter = _Converter(play)
    converter.run()
    _settle_transitions(converter.scenes)
    film_title = " ".join((play.title_page.get("Title") or "").split()) or title or "Untitled"

    blocks: list[list[str]] = []
    intro = []
    if source_name:
        intro.append(comment(f"Imported from {source_name} by `filmc import`: a skeleton to refine."))
    intro += _title_comments(play)
    intro += [
        f"film {film_string(film_title)} {{",
        f"{INDENT}resolution 1920x1080",
        f"{INDENT}fps 24",
        f"{INDENT}export web_mp4",
        "}",
    ]
    blocks.append(intro)
    for char in converter.characters.values():
        blocks.append([
            f"character {char.id} {film_string(char.display)} {{",
            f"{INDENT}look {film_string(char.look)}",
            f"{INDENT}voice {char.voice}",
            "}",
        ])
    for loc in converter.locations.values():
        blocks.append([f"location {loc.id} {film_string(loc.display)} {{", f"{INDENT}look {film_string(loc.look)}",
                       "}"])
    if converter.top_comments:
        blocks.append(converter.top_comments)
    for scene in converter.scenes:
        if scene.act is not None:
            number, act_title = scene.act
            blocks.append([f"act {number} {film_string(act_title)}" if act_title else f"act {number}"])
        blocks.append(scene.comments_before + _scene_lines(scene))
    for scene_less in converter.top_comments_after:
        blocks.append([scene_less])
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def fountain_to_film(text: str, *, title: str | None = None, source_name: str | None = None) -> str:
    """Fountain text -> `.film` text."""
    return convert(parse(text), title=title, source_name=source_name)


def import_fountain(source: str | Path, output: str | Path | None = None) -> Path:
    """Convert a .fountain file and write the .film next to it (or to `output`), atomically.

    Raises `fountain.FountainReadError` (a ValueError) with a clear message when
    the file cannot be read.
    """
    src = Path(source)
    dst = Path(output) if output is not None else src.with_suffix(".film")
    title = src.stem.replace("_", " ").replace("-", " ").strip().title() or None
    text = convert(read_fountain(src), title=title, source_name=src.name)
    return write_text(dst, text)
