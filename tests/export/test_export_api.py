"""The export API's contract: errors for bad paths and formats, atomic writes, untouched input."""

from __future__ import annotations

import os
from pathlib import Path

import opentimelineio as otio
import pytest
from export_fixtures import make_timeline
from filmc.compiler.export import EXTENSIONS, FORMATS, ExportError, export_timeline, format_for_path
from filmc.compiler.export import aaf as aaf_module
from filmc.compiler.export.common import atomic_write


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_formats_and_extensions() -> None:
    assert FORMATS == ("otio", "otioz", "edl", "fcp7xml", "fcpxml", "aaf")
    assert [format_for_path(Path(f"cut{EXTENSIONS[f]}")) for f in FORMATS] == list(FORMATS)
    assert format_for_path(Path("cut.mov")) is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_input_timeline_is_not_modified(fmt: str, film: otio.schema.Timeline, tmp_path: Path) -> None:
    before = otio.adapters.write_to_string(film, adapter_name="otio_json")
    export_timeline(film, fmt, tmp_path / f"film{EXTENSIONS[fmt]}")
    assert otio.adapters.write_to_string(film, adapter_name="otio_json") == before
    assert leftovers(tmp_path) == []


def test_unknown_format_is_an_export_error(film: otio.schema.Timeline, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown export format 'mov'; choose one of otio, otioz"):
        export_timeline(film, "mov", tmp_path / "film.mov")


def test_missing_folder_is_an_export_error(film: otio.schema.Timeline, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="folder .*nowhere does not exist"):
        export_timeline(film, "edl", tmp_path / "nowhere" / "film.edl")


def test_directory_as_target_is_an_export_error(film: otio.schema.Timeline, tmp_path: Path) -> None:
    (tmp_path / "film.edl").mkdir()
    with pytest.raises(ExportError, match="it is a directory"):
        export_timeline(film, "edl", tmp_path / "film.edl")


def test_file_as_folder_is_an_export_error(film: otio.schema.Timeline, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ExportError, match="is not a folder"):
        export_timeline(film, "fcpxml", tmp_path / "notes.txt" / "film.fcpxml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_folder_is_an_export_error(film: otio.schema.Timeline, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ExportError, match="not writable"):
            export_timeline(film, "aaf", folder / "film.aaf")
    finally:
        folder.chmod(0o755)


def test_a_timeline_without_pictures_is_an_export_error(tmp_path: Path) -> None:
    empty = otio.schema.Timeline(name="empty")
    empty.tracks.append(otio.schema.Track(name="V1"))
    for fmt in ("edl", "fcp7xml", "fcpxml", "aaf"):
        with pytest.raises(ExportError, match="no (video )?clips"):
            export_timeline(empty, fmt, tmp_path / f"empty{EXTENSIONS[fmt]}")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "film.edl"
    target.write_text("previous cut\n")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("001  HALF")
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError, match="No space left on device"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "previous cut\n"
    assert leftovers(tmp_path) == []


def test_failed_export_leaves_the_previous_file(
    film: otio.schema.Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "film.aaf"
    target.write_bytes(b"previous")

    def broken(path: Path) -> None:
        assert path != target and path.is_file()  # the adapter wrote the temporary file
        raise RuntimeError("disk pulled")

    monkeypatch.setattr(aaf_module, "_fix_sequence_lengths", broken)
    with pytest.raises(RuntimeError, match="disk pulled"):
        export_timeline(film, "aaf", target)
    assert target.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []


def test_export_replaces_an_existing_file(film: otio.schema.Timeline, tmp_path: Path) -> None:
    target = tmp_path / "film.otioz"
    export_timeline(make_timeline(n_shots=2), "otioz", target)
    export_timeline(film, "otioz", target)
    assert len(list(otio.adapters.read_from_file(str(target)).find_clips())) == len(list(film.find_clips()))
