"""Subtitles: SRT and WebVTT from timed dialogue lines.

Lines are ``(start_s, end_s, speaker, text)``; the speaker may be None or left out of the
output. SRT prefixes the speaker (``RAE: Not tonight.``); WebVTT uses its voice tag
(``<v Rae>Not tonight.``). Text is wrapped to at most 42 characters a row, the usual limit.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from filmc.atomic import write_text

from .errors import SoundError

MAX_LINE_CHARS = 42


@dataclass(frozen=True)
class SubtitleLine:
    start_s: float
    end_s: float
    speaker: str | None
    text: str


def _lines(lines: Iterable[SubtitleLine | tuple]) -> list[SubtitleLine]:
    out: list[SubtitleLine] = []
    for item in lines:
        line = item if isinstance(item, SubtitleLine) else SubtitleLine(*item)
        if line.start_s < 0 or line.end_s <= line.start_s:
            raise SoundError(f"subtitle {line.text[:30]!r} has bad times {line.start_s}s -> {line.end_s}s")
        if not line.text.strip():
            raise SoundError(f"subtitle at {line.start_s}s has no text")
        out.append(line)
    return sorted(out, key=lambda ln: (ln.start_s, ln.end_s))


def _timestamp(seconds: float, separator: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def _wrap(text: str, width: int) -> list[str]:
    rows: list[str] = []
    for paragraph in text.strip().splitlines():
        rows.extend(textwrap.wrap(paragraph, width) or [""])
    return rows


def to_srt(lines: Iterable[SubtitleLine | tuple], *, speakers: bool = True, width: int = MAX_LINE_CHARS) -> str:
    blocks = []
    for index, line in enumerate(_lines(lines), start=1):
        text = f"{line.speaker.upper()}: {line.text}" if speakers and line.speaker else line.text
        times = f"{_timestamp(line.start_s, ',')} --> {_timestamp(line.end_s, ',')}"
        blocks.append("\n".join([str(index), times, *_wrap(text, width)]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "--&gt;")


def to_webvtt(lines: Iterable[SubtitleLine | tuple], *, speakers: bool = True, width: int = MAX_LINE_CHARS) -> str:
    blocks = ["WEBVTT"]
    for index, line in enumerate(_lines(lines), start=1):
        rows = [_vtt_escape(r) for r in _wrap(line.text, width)]
        if speakers and line.speaker:
            rows[0] = f"<v {_vtt_escape(line.speaker)}>{rows[0]}"
        times = f"{_timestamp(line.start_s, '.')} --> {_timestamp(line.end_s, '.')}"
        blocks.append("\n".join([str(index), times, *rows]))
    return "\n\n".join(blocks) + "\n"


def _write_text(path: str | os.PathLike, text: str) -> Path:
    return write_text(path, text)


def write_srt(path: str | os.PathLike, lines: Iterable[SubtitleLine | tuple], *, speakers: bool = True) -> Path:
    return _write_text(path, to_srt(lines, speakers=speakers))


def write_webvtt(path: str | os.PathLike, lines: Iterable[SubtitleLine | tuple], *, speakers: bool = True) -> Path:
    return _write_text(path, to_webvtt(lines, speakers=speakers))
