"""Subtitles: exact SRT and WebVTT text, and FFmpeg (PyAV) reads back the same cues."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest
from filmc.runtime.sound import SoundError, SubtitleLine, to_srt, to_webvtt, write_srt, write_webvtt

LINES = [
    (0.5, 1.75, "Rae", "Not tonight."),
    (2.0, 4.2, None, "He always finds me."),
    (3601.25, 3603.999, "Kai", "Rae? Where are you <really>?"),
]


def test_srt_text() -> None:
    assert to_srt(LINES) == (
        "1\n00:00:00,500 --> 00:00:01,750\nRAE: Not tonight.\n\n"
        "2\n00:00:02,000 --> 00:00:04,200\nHe always finds me.\n\n"
        "3\n01:00:01,250 --> 01:00:03,999\nKAI: Rae? Where are you <really>?\n"
    )
    assert "RAE" not in to_srt(LINES, speakers=False)


def test_webvtt_text() -> None:
    assert to_webvtt(LINES) == (
        "WEBVTT\n\n"
        "1\n00:00:00.500 --> 00:00:01.750\n<v Rae>Not tonight.\n\n"
        "2\n00:00:02.000 --> 00:00:04.200\nHe always finds me.\n\n"
        "3\n01:00:01.250 --> 01:00:03.999\n<v Kai>Rae? Where are you &lt;really&gt;?\n"
    )


def test_long_lines_wrap_and_order_is_by_time() -> None:
    text = "This line is far too long to sit on one row of a subtitle without wrapping it."
    srt = to_srt([SubtitleLine(5.0, 8.0, None, text), SubtitleLine(1.0, 2.0, None, "First.")])
    blocks = srt.strip().split("\n\n")
    assert blocks[0].splitlines()[2] == "First."
    rows = blocks[1].splitlines()[2:]
    assert len(rows) == 2 and all(len(r) <= 42 for r in rows)


def test_bad_times_are_clear_errors() -> None:
    with pytest.raises(SoundError, match="bad times"):
        to_srt([(2.0, 1.0, None, "Backwards.")])
    with pytest.raises(SoundError, match="no text"):
        to_webvtt([(1.0, 2.0, "Rae", "  ")])


@pytest.mark.parametrize("kind", ["srt", "vtt"])
def test_ffmpeg_reads_the_same_cues(kind: str, tmp_path) -> None:
    path = tmp_path / f"film.{kind}"
    (write_srt if kind == "srt" else write_webvtt)(path, LINES)
    with av.open(str(path)) as container:
        stream = container.streams.subtitles[0]
        base = stream.time_base
        cues = [(Fraction(p.pts) * base, Fraction(p.duration) * base) for p in container.demux(stream)
                if p.pts is not None]
    found = [float(t) for start, length in cues for t in (start, start + length)]
    assert found == pytest.approx([t for s, e, _, _ in LINES for t in (s, e)], abs=1e-3)
