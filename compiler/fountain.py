"""A Fountain 1.1 screenplay parser producing a small typed document model.

Written against the spec at fountain.io/syntax because the PyPI parsers miss
real-world cues (apostrophes, digits, `^`, two extensions) or mistake all-caps
action for cues. Every text is a valid Fountain document, so `parse` never
fails; it only decides which element each paragraph is.

Pre-processing (in this order):
  * newlines: CRLF, lone CR and LF are all line ends; a BOM is dropped;
  * typography: curly quotes/apostrophes become straight ones, NBSP a space;
  * boneyard `/* ... */` is removed (its text is kept in `Screenplay.boneyard`),
    its line breaks are kept so line numbers still point at the source;
  * notes `[[ ... ]]` (inline or spanning lines, no truly empty line inside)
    are lifted out of the text and attached to the element they sit in, or
    become `Note` elements when they stand alone.

Classification follows the spec, with these leniencies for real scripts:
  * a `Key: value` block at the top is a title page only when one of its keys
    is a usual one (Title, Credit, Author(s), Source, Draft date, Date,
    Contact, Copyright, Notes, ...): scripts without a title page open with
    `FADE IN:` or an action line holding a colon;
  * a scene heading needs a blank line before it and, unless it is all upper
    case, one after it;
  * `FADE IN:`, `FADE OUT.`, `FADE TO BLACK.` and `CUT TO BLACK.` standing
    alone in caps are transitions, like lines ending in `TO:`;
  * an all-caps line is a character cue only when it reads like a name: no
    trailing `.`, `!`, `?`, `:`, `,` or `;`, no ` - ` or `--`, at most 6 words
    and 40 characters, not a camera direction (`CLOSE ON`, `INSERT`, ...).
    `@` forces a cue anyway.
A heading's text after INT/EXT/... is split at ` - `, `--` (spaces optional)
or en/em dashes; the last segment naming a time (or a clock time or year) is
the time, the segments before it the location.
`(MORE)` and `(CONT'D)` lines inside dialogue, left at page breaks by
PDF conversions, are dropped. Emphasis markers (`*`, `**`, `***`, `_`) are stripped; `\\*` and `\\_`
stay as literal characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# --- document model ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TitleEntry:
    key: str
    value: str  # lines of a multi-line value joined with "\n"


@dataclass(frozen=True, slots=True)
class TitlePage:
    entries: tuple[TitleEntry, ...] = ()

    def get(self, key: str) -> str | None:
        """The value of `key` (case-insensitive), or None."""
        wanted = key.casefold()
        for entry in self.entries:
            if entry.key.casefold() == wanted:
                return entry.value
        return None


@dataclass(frozen=True, slots=True)
class SceneHeading:
    text: str  # as written, without the scene number or a forcing `.`
    setting: str  # "INT", "EXT", "INT/EXT", "EST" or "" (forced headings)
    location: str  # e.g. "KITCHEN" from "INT. KITCHEN - NIGHT"
    time: str  # e.g. "NIGHT"; "" when the heading names no time of day
    extra: tuple[str, ...]  # segments after the time, e.g. ("FLASHBACK",)
    number: str | None  # "1A" from `#1A#`
    forced: bool
    line: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Action:
    text: str  # lines joined with "\n"; indentation kept, as the spec asks
    forced: bool
    line: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Centered:
    text: str
    line: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Speech:
    text: str


@dataclass(frozen=True, slots=True)
class Parenthetical:
    text: str  # without the surrounding parentheses


@dataclass(frozen=True, slots=True)
class Lyric:
    text: str


DialoguePart = Speech | Parenthetical | Lyric


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A character cue and everything under it up to the next blank line."""

    character: str  # the cue's name, e.g. "MRS. O'BRIEN" or "McCLANE"
    extensions: tuple[str, ...]  # e.g. ("V.O.",), ("O.S.", "CONT'D")
    parts: tuple[DialoguePart, ...]
    dual: bool  # `^`: spoken at the same time as the previous dialogue
    forced: bool
    line: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lyrics:
    """Lyric lines (`~`) outside any dialogue block."""

    text: str
    line: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Transition:
    text: str  # e.g. "CUT TO:", "FADE OUT."
    forced: bool
    line: int


@dataclass(frozen=True, slots=True)
class PageBreak:
    line: int


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    line: int


@dataclass(frozen=True, slots=True)
class Section:
    level: int  # number of `#`
    title: str
    line: int


@dataclass(frozen=True, slots=True)
class Synopsis:
    text: str
    line: int


Element = (
    SceneHeading | Action | Centered | Dialogue | Lyrics | Transition | PageBreak | Note | Section | Synopsis
)


@dataclass(frozen=True, slots=True)
class Screenplay:
    title_page: TitlePage
    elements: tuple[Element, ...]
    boneyard: tuple[str, ...] = field(default=())


# --- pre-processing ----------------------------------------------------------

_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00a0": " ", "\ufeff": None, "\u200b": None,
})  # fmt: skip

_BONEYARD = re.compile(r"/\*(.*?)\*/", re.S)
# A note may span lines but not a truly empty one (the spec asks for two spaces there).
_NOTE = re.compile(r"\[\[((?:(?!\n\n).)*?)\]\]", re.S)
_NOTE_MARK = re.compile("\ue000(\\d+)\ue001")


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_TYPOGRAPHY)


def _remove_boneyard(text: str) -> tuple[str, list[str]]:
    kept: list[str] = []

    def drop(m: re.Match[str]) -> str:
        kept.append(m.group(1).strip())
        return "\n" * m.group(0).count("\n")

    return _BONEYARD.sub(drop, text), kept


def _lift_notes(text: str) -> tuple[str, list[str], list[int]]:
    """Replace each note by a marker; return text, notes and each output line's source line."""
    notes: list[str] = []
    line_of = [1]
    source_line = 1
    pieces: list[str] = []
    pos = 0

    def keep(piece: str) -> None:
        nonlocal source_line
        for ch in piece:
            if ch == "\n":
                source_line += 1
                line_of.append(source_line)
        pieces.append(piece)

    for m in _NOTE.finditer(text):
        keep(text[pos : m.start()])
        body = "\n".join(line.strip() for line in m.group(1).split("\n"))
        notes.append(body.strip())
        pieces.append(f"\ue000{len(notes) - 1}\ue001")
        source_line += m.group(0).count("\n")
        pos = m.end()
    keep(text[pos:])
    return "".join(pieces), notes, line_of


# --- inline text -------------------------------------------------------------

_EMPHASIS = (
    re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*"),
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"\*(?=\S)(.+?)(?<=\S)\*"),
    re.compile(r"(?<![A-Za-z0-9])_(?=\S)(.+?)(?<=\S)_(?![A-Za-z0-9])"),
)


def strip_emphasis(line: str) -> str:
    """Remove `*italic*`, `**bold**`, `***both***` and `_underline_` markers (one line)."""
    line = line.replace("\\*", "\ue002").replace("\\_", "\ue003")
    changed = True
    while changed:
        changed = False
        for pattern in _EMPHASIS:
            new = pattern.sub(r"\1", line)
            if new != line:
                line, changed = new, True
    return line.replace("\ue002", "*").replace("\ue003", "_")


class _Notes:
    """Turns note markers in a piece of text back into note strings."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes

    def split(self, text: str) -> tuple[str, tuple[str, ...]]:
        found = tuple(self.notes[int(i)] for i in _NOTE_MARK.findall(text))
        clean = _NOTE_MARK.sub("", text)
        if found:
            clean = "\n".join(re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", ln).rstrip() for ln in clean.split("\n"))
        return clean, found


def _text(lines: list[str]) -> str:
    return "\n".join(strip_emphasis(line) for line in lines).strip("\n")


# --- line patterns -----------------------------------------------------------

_HEADING = re.compile(r"^(INT\.?/EXT|EXT\.?/INT|INT/EXT|I/E|E/I|INT|EXT|EST)(?:\.|\s)\s*", re.I)
_SETTINGS = {"INT": "INT", "EXT": "EXT", "EST": "EST"}
_SCENE_NUMBER = re.compile(r"\s*#([A-Za-z0-9.\-]+)#\s*$")
_SEPARATOR = re.compile(r"\s+-+\s+|\s*-{2,}\s*|\s*[\u2013\u2014]+\s*")
_PAGE_BREAK = re.compile(r"^={3,}$")
_TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9 _\-]*?)[ \t]*:[ \t]*(.*)$")
_KNOWN_TITLE_KEYS = {
    "title", "credit", "author", "authors", "source", "draft date", "date", "contact", "copyright",
    "notes", "revision", "format", "font", "watermark",
}  # fmt: skip
_BARE_TRANSITIONS = {"FADE IN:", "FADE IN", "FADE OUT.", "FADE OUT", "FADE TO BLACK.", "CUT TO BLACK."}
_PAGE_MARKS = {"MORE", "CONT'D", "CONTD", "CONT", "CONTINUED"}  # left by PDF conversions at page ends
_CUE = re.compile(r"^([^()]*?)[ \t]*((?:\([^()]*\)[ \t]*)*)$")
_CAMERA_DIRECTIONS = re.compile(
    r"^(CLOSE ON|CLOSE UP|CLOSEUP|ANGLE ON|ANGLE|INSERT|BACK TO|POV|WIDE ON|WIDE SHOT|INTERCUT|MONTAGE|"
    r"SERIES OF SHOTS|FLASHBACK|END FLASHBACK|CONTINUED|MOMENTS LATER|LATER|SUPER|TITLE|END OF|THE END|"
    r"FREEZE FRAME|SPLIT SCREEN|OVER BLACK|BLACK SCREEN|ON SCREEN|ESTABLISHING)\b"
)


def _is_blank(line: str) -> bool:
    return not line.strip()


@dataclass(frozen=True, slots=True)
class Cue:
    name: str
    extensions: tuple[str, ...]
    dual: bool
    forced: bool


def parse_cue(line: str) -> Cue | None:
    """Read a character cue line, or None when the line cannot be one."""
    body = line.strip()
    forced = body.startswith("@")
    if forced:
        body = body[1:].strip()
    dual = body.endswith("^")
    if dual:
        body = body[:-1].rstrip()
    m = _CUE.match(body)
    if not m:
        return None
    name = " ".join(m.group(1).split())
    extensions = tuple(" ".join(e.split()) for e in re.findall(r"\(([^()]*)\)", m.group(2)))
    if not name or _NOTE_MARK.search(name):
        return None
    if not forced:
        if not any(c.isalpha() for c in name) or name != name.upper():
            return None
        if name[-1] in ".!?:;," or " - " in name or "--" in name:
            return None
        if len(name) > 40 or len(name.split()) > 6 or _CAMERA_DIRECTIONS.match(name):
            return None
    return Cue(name, extensions, dual, forced)


def split_heading(body: str) -> tuple[str, str, tuple[str, ...]]:
    """Split `KITCHEN - NIGHT - FLASHBACK` into location, time and the segments after the time."""
    segments = [s.strip() for s in _SEPARATOR.split(body.strip()) if s.strip()]
    for i in range(len(segments) - 1, 0, -1):
        if time_keyword(segments[i]) is not None:
            return " - ".join(segments[:i]), segments[i], tuple(segments[i + 1 :])
    if len(segments) > 1 and _CLOCK_OR_YEAR.search(segments[-1]):
        return " - ".join(segments[:-1]), segments[-1], ()
    return " - ".join(segments), "", ()


_CLOCK = re.compile(r"\b(\d{1,2})(?:[:.](\d\d))?\s*([AP])\.?\s*M\b\.?", re.I)
_CLOCK_OR_YEAR = re.compile(r"\b(\d{1,2}(?:[:.]\d\d)?\s*[AP]\.?\s*M\b|\d{1,2}:\d\d|(1[5-9]|2[0-2])\d\d)\b", re.I)


def _clock_time(segment: str) -> str | None:
    """`3 AM` -> night, `7:30 AM` -> morning, `2 PM` -> afternoon."""
    m = _CLOCK.search(segment)
    if not m:
        return None
    hour = int(m.group(1)) % 12 + (12 if m.group(3).upper() == "P" else 0)
    for last_hour, time in ((4, "night"), (6, "dawn"), (11, "morning"), (13, "day"), (16, "afternoon"),
                            (18, "dusk"), (21, "evening"), (23, "night")):
        if hour <= last_hour:
            return time
    return None


_TIME_WORDS = (
    ("MOMENTS LATER", "later"), ("SAME TIME", "same"), ("MAGIC HOUR", "magic_hour"),
    ("GOLDEN HOUR", "magic_hour"), ("CONTINUOUS", "continuous"), ("CONT", "continuous"),
    ("LATER", "later"), ("SAME", "same"), ("AFTERNOON", "afternoon"), ("MORNING", "morning"),
    ("EVENING", "evening"), ("MIDNIGHT", "night"), ("NIGHTTIME", "night"), ("NIGHT", "night"),
    ("DUSK", "dusk"), ("SUNSET", "dusk"), ("TWILIGHT", "dusk"), ("DAWN", "dawn"), ("SUNRISE", "dawn"),
    ("DAYTIME", "day"), ("MIDDAY", "day"), ("NOON", "day"), ("DAY", "day"),
)  # fmt: skip


def time_keyword(segment: str) -> str | None:
    """Classify a heading's time segment: a std time_of_day, `continuous`, `later`, `same` or None."""
    words = re.sub(r"[^A-Z0-9 ]", " ", segment.upper())
    padded = f" {' '.join(words.split())} "
    for phrase, meaning in _TIME_WORDS:
        if f" {phrase} " in padded:
            return meaning
    return _clock_time(segment)


# --- the parser --------------------------------------------------------------


def _title_page(lines: list[str], start: int) -> tuple[TitlePage, int]:
    """Read the title page at `start` if there is one; return it and the first line after it."""
    first = _TITLE_KEY.match(lines[start]) if start < len(lines) else None
    if not first:
        return TitlePage(), start
    # Any `Key:` is allowed, but a block is only a title page when one of its keys is a usual one:
    # scripts without a title page may open with `FADE IN:` or an action line holding a colon.
    block_keys = []
    for line in lines[start:]:
        if _is_blank(line):
            break
        m = _TITLE_KEY.match(line)
        if m and line[:1] not in (" ", "\t"):
            block_keys.append(m.group(1).strip().casefold())
    if not any(k in _KNOWN_TITLE_KEYS for k in block_keys):
        return TitlePage(), start
    entries: list[tuple[str, list[str]]] = []
    i = start
    while i < len(lines) and not _is_blank(lines[i]):
        line = lines[i]
        m = _TITLE_KEY.match(line)
        if line[:1] in (" ", "\t") or not m:
            if entries:
                entries[-1][1].append(line.strip())
        else:
            entries.append((m.group(1).strip(), [m.group(2).strip()] if m.group(2).strip() else []))
        i += 1
    result = []
    for k, values in entries:
        value = "\n".join(strip_emphasis(_NOTE_MARK.sub("", v)).strip() for v in values)
        result.append(TitleEntry(k, value.strip()))
    return TitlePage(tuple(result)), i


class _Parser:
    def __init__(self, lines: list[str], line_of: list[int], notes: list[str]) -> None:
        self.lines = lines
        self.line_of = line_of
        self.notes = _Notes(notes)
        self.out: list[Element] = []

    def blank(self, i: int) -> bool:
        return i < 0 or i >= len(self.lines) or _is_blank(self.lines[i])

    def paragraph_end(self, i: int) -> int:
        while i < len(self.lines) and not _is_blank(self.lines[i]):
            i += 1
        return i

    def run(self, start: int) -> list[Element]:
        i = start
        while i < len(self.lines):
            if _is_blank(self.lines[i]):
                i += 1
                continue
            i = self.element(i, prev_blank=i == start or self.blank(i - 1))
        return self.out

    def element(self, i: int, prev_blank: bool) -> int:
        s = self.lines[i].strip()
        ln = self.line_of[i]
        if _PAGE_BREAK.match(s):
            self.out.append(PageBreak(ln))
            return i + 1
        if not _NOTE_MARK.sub("", s).strip():
            for n in _NOTE_MARK.findall(s):
                self.out.append(Note(self.notes.notes[int(n)], ln))
            return i + 1
        if s.startswith("#"):
            level = len(s) - len(s.lstrip("#"))
            title, _ = self.notes.split(strip_emphasis(s[level:].strip()))
            self.out.append(Section(level, title.strip(), ln))
            return i + 1
        if s.startswith("=") and not s.startswith("=="):
            text, _ = self.notes.split(strip_emphasis(s[1:].strip()))
            self.out.append(Synopsis(text.strip(), ln))
            return i + 1
        if s.startswith("!"):
            return self.action(i, forced=True)
        if s.startswith("~"):
            return self.lyrics(i)
        if prev_blank and s.startswith(".") and not s.startswith("..") and len(s) > 1:
            return self.heading(i, s[1:].strip(), forced=True)
        if prev_blank and _HEADING.match(s) and (self.blank(i + 1) or _upper(s)):
            return self.heading(i, s, forced=False)
        if s.startswith(">") and s.endswith("<") and len(s) > 1:
            return self.centered(i)
        if s.startswith(">"):
            text, _ = self.notes.split(strip_emphasis(s[1:].strip()))
            self.out.append(Transition(text.strip(), True, ln))
            return i + 1
        if prev_blank and self.blank(i + 1) and s == s.upper() and (s.endswith("TO:") or s in _BARE_TRANSITIONS):
            text, _ = self.notes.split(strip_emphasis(s))
            self.out.append(Transition(text.strip(), False, ln))
            return i + 1
        if prev_blank and not self.blank(i + 1):
            cue = parse_cue(s)
            if cue is not None:
                return self.dialogue(i, cue)
        return self.action(i, forced=False)

    def heading(self, i: int, text: str, forced: bool) -> int:
        text, notes = self.notes.split(text)
        number = None
        m = _SCENE_NUMBER.search(text)
        if m:
            number, text = m.group(1), text[: m.start()]
        text = strip_emphasis(text.strip())
        setting = ""
        body = text
        hm = _HEADING.match(text)
        if hm:
            prefix = hm.group(1).upper().replace(".", "")
            setting = _SETTINGS.get(prefix, "INT/EXT")
            body = text[hm.end() :]
        location, time, extra = split_heading(body)
        self.out.append(SceneHeading(text, setting, location, time, extra, number, forced, self.line_of[i], notes))
        return i + 1

    def action(self, i: int, forced: bool) -> int:
        end = self.paragraph_end(i)
        lines = [ln.rstrip() for ln in self.lines[i:end]]
        if forced:
            lines = [ln[1:] if ln.startswith("!") else (ln.lstrip()[1:] if ln.lstrip().startswith("!") else ln)
                     for ln in lines]
        text, notes = self.notes.split(_text(lines))
        if text.strip() or notes:
            if text.strip():
                self.out.append(Action(text, forced, self.line_of[i], notes))
            else:
                self.out.extend(Note(n, self.line_of[i]) for n in notes)
        return end

    def lyrics(self, i: int) -> int:
        end = i
        while end < len(self.lines) and self.lines[end].strip().startswith("~"):
            end += 1
        text, notes = self.notes.split(_text([ln.strip()[1:].strip() for ln in self.lines[i:end]]))
        self.out.append(Lyrics(text, self.line_of[i], notes))
        return end

    def centered(self, i: int) -> int:
        end = i
        while end < len(self.lines):
            s = self.lines[end].strip()
            if not (s.startswith(">") and s.endswith("<") and len(s) > 1):
                break
            end += 1
        text, notes = self.notes.split(_text([ln.strip()[1:-1].strip() for ln in self.lines[i:end]]))
        self.out.append(Centered(text, self.line_of[i], notes))
        return end

    def dialogue(self, i: int, cue: Cue) -> int:
        parts: list[DialoguePart] = []
        speech: list[str] = []
        notes: list[str] = []

        def flush() -> None:
            if speech:
                text, found = self.notes.split(_text(speech))
                notes.extend(found)
                if text.strip():
                    parts.append(Speech(text.strip()))
                speech.clear()

        j = i + 1
        while j < len(self.lines) and (not _is_blank(self.lines[j]) or self.lines[j] == "  "):
            s = self.lines[j].strip()
            if s.startswith("(") and s.endswith(")") and s[1:-1].strip().upper() in _PAGE_MARKS:
                j += 1  # a page-break mark: the speech goes on
                continue
            if s.startswith("(") and (s.endswith(")") or ")" not in s):
                flush()
                paren_lines = [s]
                while not paren_lines[-1].endswith(")") and j + 1 < len(self.lines) and not self.blank(j + 1):
                    j += 1
                    paren_lines.append(self.lines[j].strip())
                joined = " ".join(paren_lines)
                if joined.endswith(")"):
                    text, found = self.notes.split(strip_emphasis(joined[1:-1].strip()))
                    notes.extend(found)
                    if text.strip():
                        parts.append(Parenthetical(" ".join(text.split())))
                else:
                    speech.extend(paren_lines)
            elif s.startswith("~"):
                flush()
                text, found = self.notes.split(strip_emphasis(s[1:].strip()))
                notes.extend(found)
                if text.strip():
                    parts.append(Lyric(text.strip()))
            else:
                speech.append(s)
            j += 1
        flush()
        self.out.append(Dialogue(cue.name, cue.extensions, tuple(parts), cue.dual, cue.forced, self.line_of[i],
                                 tuple(notes)))
        return j


def _upper(line: str) -> bool:
    body = _SCENE_NUMBER.sub("", _NOTE_MARK.sub("", line))
    return body == body.upper()


def parse(text: str) -> Screenplay:
    """Parse Fountain text (any newline convention, optional BOM) into a `Screenplay`."""
    text, boneyard = _remove_boneyard(_normalise(text))
    text, notes, line_of = _lift_notes(text)
    lines = [ln.rstrip("\n") for ln in text.split("\n")]
    start = 0
    while start < len(lines) and _is_blank(lines[start]):
        start += 1
    title_page, body_start = _title_page(lines, start)
    elements = _Parser(lines, line_of, notes).run(body_start)
    return Screenplay(title_page, tuple(elements), tuple(boneyard))


class FountainReadError(ValueError):
    """A file that cannot be read as text."""


def read_fountain(path: str | Path) -> Screenplay:
    """Read and parse a .fountain file: UTF-8 (with or without BOM), else Windows-1252."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise FountainReadError(f"cannot read {p}: {err.strerror or err}") from None
    if b"\x00" in data[:4096]:
        raise FountainReadError(f"{p} is not a text file (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return parse(text)
