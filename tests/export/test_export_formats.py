"""Every format written and read back: names, frame-exact durations, transitions, start, provenance."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
from export_checks import (
    check_aaf,
    check_edl,
    check_fcp7,
    check_fcpxml,
    check_fcpxml_with_otio_reader,
    check_otio,
)
from export_fixtures import FPS_24, make_timeline


def codes(diags) -> set[str]:
    return {d.code for d in diags}


def test_otio_round_trip_is_lossless(any_film: otio.schema.Timeline, tmp_path: Path) -> None:
    check_otio(any_film, tmp_path / "film.otio")


def test_edl_parses_with_pycmx_into_the_same_events(any_film: otio.schema.Timeline, tmp_path: Path) -> None:
    diags = check_edl(any_film, tmp_path / "film.edl")
    assert codes(diags) == {"W0701", "W0702", "W0703"}


def test_fcp7_xml_reads_back_with_tracks_gaps_transitions_and_start(
    any_film: otio.schema.Timeline, tmp_path: Path
) -> None:
    diags = check_fcp7(any_film, tmp_path / "film.xml")
    assert codes(diags) == {"W0701", "W0703", "W0704"}


def test_fcpxml_reads_back_exactly(any_film: otio.schema.Timeline, tmp_path: Path) -> None:
    diags = check_fcpxml(any_film, tmp_path / "film.fcpxml")
    assert codes(diags) == {"W0701", "W0703", "W0704", "W0707"}


def test_fcpxml_reads_with_otio_fcpx_reader_at_integer_rates(film: otio.schema.Timeline, tmp_path: Path) -> None:
    path = tmp_path / "film.fcpxml"
    check_fcpxml(film, path)
    check_fcpxml_with_otio_reader(film, path)


def test_aaf_reads_back_with_otio_and_pyaaf2(any_film: otio.schema.Timeline, tmp_path: Path) -> None:
    diags = check_aaf(any_film, tmp_path / "film.aaf")
    assert codes(diags) == {"W0701", "W0703", "W0704", "W0705"}


@pytest.mark.parametrize("n_shots", [1, 2, 17])
def test_every_editor_format_on_other_film_lengths(n_shots: int, tmp_path: Path) -> None:
    """A single shot (fade in and out on one clip), two shots, and a film past two cycles."""
    tl = make_timeline(n_shots=n_shots, rate=FPS_24)
    check_edl(tl, tmp_path / "f.edl")
    check_fcp7(tl, tmp_path / "f.xml")
    check_fcpxml(tl, tmp_path / "f.fcpxml")


def test_picture_only_film_without_markers(tmp_path: Path) -> None:
    tl = make_timeline(n_shots=6, audio=False, markers=False)
    assert "W0702" not in codes(check_edl(tl, tmp_path / "f.edl"))
    assert "W0704" not in codes(check_fcp7(tl, tmp_path / "f.xml"))
    assert "W0704" not in codes(check_fcpxml(tl, tmp_path / "f.fcpxml"))
    assert "W0704" not in codes(check_aaf(tl, tmp_path / "f.aaf"))
