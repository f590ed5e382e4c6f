"""A build killed with SIGKILL resumes: finished nodes never run again, and the result is identical."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pv_support import frame_hashes, last_run, query, run_build, write_film

RESUME = """\
film "Resume" {
  resolution 128x72
  fps 24
  loudness -14 LUFS
  export web_mp4
}

character ada "Ada" {
  look "young keeper, red knitted hat"
  voice std.en_gb_female
  wears "yellow oilskin coat"
}

location street "Street" {
  look "city street, shopfronts"
}

scene one "One" at street, night with ada {
  ambience std.rain at -30 dB
  music std.drone at -26 dB
  shot wide 1s on ada { camera pan_right }
  shot medium 1s on ada {
    camera push_in
    ada: "Rain again."
  }
  dissolve 6f
  shot close_up 1s on ada { camera handheld }
  shot wide 1s { camera crane_up }
  shot full 1s on ada { camera orbit }
  shot medium 1s on ada {
    camera static
    ada: "Time to go."
  }
}
"""


@pytest.mark.slow
def test_sigkill_mid_build_then_resume(tmp_path: Path) -> None:
    film = write_film(tmp_path / "film", "resume.film", RESUME)
    out, cache = tmp_path / "out", tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-m", "filmc.cli", "build", str(film), "-o", str(out), "--cache", str(cache), "--scale", "1",
         "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    finished = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        finished += event["event"] == "node_finished"
        if finished >= 6:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the build ended before it could be killed"
    assert not (out / "resume.mp4").exists()
    done_before = {r[0] for r in query(cache, "SELECT id FROM nodes WHERE status = 'done'")}
    assert len(done_before) >= 6
    killed_run = last_run(cache)

    resumed = run_build(film, out, cache)
    assert resumed.code == 0, resumed.stderr
    ran = {r[0] for r in query(cache, "SELECT node_id FROM executions WHERE run_id > ?", killed_run)}
    assert ran, "nothing was left to do after the kill"
    assert not ran & done_before, "finished nodes ran again"

    reference = run_build(film, tmp_path / "ref_out", tmp_path / "ref_cache")
    assert reference.code == 0, reference.stderr
    assert frame_hashes(out / "resume.mp4") == frame_hashes(tmp_path / "ref_out" / "resume.mp4")
    assert (out / "mix.wav").read_bytes() == (tmp_path / "ref_out" / "mix.wav").read_bytes()


def test_delivered_files_share_the_cache_and_an_edit_in_place_is_rebuilt(tmp_path: Path) -> None:
    """Products are hard-linked from the cache into the output folder (no 170 MB copy). Editing a
    delivered file in place therefore edits its cached object: the next build notices (size or
    time), rebuilds that node and delivers the right bytes again."""
    import hashlib

    from pv_support import TWO_SHOTS, executed_since

    film = write_film(tmp_path / "film", "two.film", TWO_SHOTS)
    built = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert built.code == 0, built.stderr
    (mix,) = [r[0] for r in query(built.cache, "SELECT id FROM nodes WHERE op = 'mix'")]
    cached = built.cache / "objects" / mix[:2] / mix / "mix.wav"
    delivered = built.file("mix.wav")
    assert os.stat(delivered).st_ino == os.stat(cached).st_ino
    original = hashlib.sha256(delivered.read_bytes()).hexdigest()
    with open(delivered, "r+b") as f:  # an editor that overwrites in place
        f.seek(4096)
        f.write(b"\x7f" * 4096)
    run_id = last_run(built.cache)
    again = run_build(film, tmp_path / "out", tmp_path / "cache")
    assert again.code == 0, again.stderr
    assert "mix" in [op for op, _ in executed_since(built.cache, run_id)]
    assert hashlib.sha256(delivered.read_bytes()).hexdigest() == original
