"""User errors name the .film line and exit non-zero; the other runtime commands work."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from pv_support import TWO_SHOTS, executed_since, last_run, run_build, write_film


def _line_of(film: Path, text: str) -> int:
    return next(n for n, line in enumerate(film.read_text().splitlines(), start=1) if text in line)


def _filmc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "filmc.cli", *args], capture_output=True, text=True, timeout=300)


MEDIA = TWO_SHOTS.replace('''  shot close_up 1s on ada {''', '''  shot insert 1s {
    media "footage/take.mp4" from 0s to 1s
  }
  shot close_up 1s on ada {''')


def test_missing_media_file_names_its_line(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "media.film", MEDIA)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 1
    assert f"media.film:{_line_of(film, 'footage/take.mp4')}" in built.stderr
    assert "take.mp4" in built.stderr and not (tmp_path / "out").exists()


def test_unreadable_media_fails_its_conform_with_the_tool_error(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "media.film", MEDIA)
    (film.parent / "footage").mkdir()
    (film.parent / "footage" / "take.mp4").write_bytes(b"not a movie at all" * 100)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 1
    failure = built.stderr[built.stderr.index("error: "):]
    lines = (_line_of(film, "shot insert 1s"), _line_of(film, "footage/take.mp4"))  # the plan's span for the clip
    assert any(f"media.film:{n}:" in failure for n in lines), failure
    assert "conform" in failure and "s01_002" in failure and "Invalid data" in failure
    failed = [e for e in built.events() if e["event"] == "node_failed"]
    assert {e["node"]["op"] for e in failed} == {"conform"}


BROKEN_PROFILE = TWO_SHOTS.replace("  export web_mp4\n}\n", '''  export editorial
}

profile editorial "Editorial" extends std.prores_422 {
  video_profile ultra
}
''')


def test_broken_profile_names_its_definition(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "profile.film", BROKEN_PROFILE)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 1
    assert f"profile.film:{_line_of(film, 'profile editorial')}" in built.stderr
    assert "ultra" in built.stderr
    assert not (tmp_path / "cache" / "index.sqlite").exists() or last_run(tmp_path / "cache") == 0


def test_unknown_profile_and_backend_are_usage_errors(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "two.film", TWO_SHOTS)
    built = run_build(film, tmp_path / "out", tmp_path / "cache", profiles=["betamax"])
    assert built.code == 2 and "betamax" in built.stderr and "web_mp4" in built.stderr
    proc = _filmc("build", str(film), "--backend", "nonesuch", "--cache", str(tmp_path / "cache"))
    assert proc.returncode == 2 and "nonesuch" in proc.stderr and "preview" in proc.stderr


def test_only_dry_run_clean_backends_doctor(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "two.film", TWO_SHOTS)
    cache = tmp_path / "cache"
    dry = _filmc("build", str(film), "--scale", "1", "--cache", str(cache), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["cached"] == 0 and report["ops"]["encode"] == {"nodes": 1, "cached": 0}
    assert not (cache / "objects").exists() or not any((cache / "objects").iterdir())

    only = run_build(film, tmp_path / "out", cache, only=["first/s01_002"])
    assert only.code == 0, only.stderr
    ran = Counter(op for op, _ in executed_since(cache, 0))
    # s01_002's grade is matched to its scene's reference shot, so the reference's keyframe is composed too.
    assert ran == Counter({"plate": 1, "portrait": 1, "compose": 2, "animate": 1, "grade": 1})

    full = run_build(film, tmp_path / "out", cache)
    assert full.code == 0
    film.write_text(TWO_SHOTS.replace("The lamp turns.", "The lamp stops."), encoding="utf-8")
    clean = _filmc("clean", str(film), "--unreferenced", "--scale", "1", "--cache", str(cache))
    assert clean.returncode == 0, clean.stderr
    removed = int(clean.stderr.split("removed ")[1].split(" ")[0])
    # the old s01_001 compose/animate/grade, s01_002's grade (matched to s01_001's keyframe), assemble,
    # encode_video, encode, contact sheet, qc
    assert removed == 9

    backends = _filmc("backends", "--json")
    assert backends.returncode == 0
    preview = next(b for b in json.loads(backends.stdout) if b["name"] == "preview")
    assert preview["version"] == "preview-4" and "encode" in preview["ops"] and len(preview["ops"]) == 17
    doctor = _filmc("doctor", "--json")
    assert doctor.returncode == 0, doctor.stdout
    info = json.loads(doctor.stdout)
    assert Path(info["ffmpeg"]["path"]).is_file() and info["missing"] == []
