"""`filmc build` starts its workers' forkserver before the full command line is parsed, and only
when the build will run nodes; a command line it cannot read is left, silently, to the real parser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SHORT = Path(__file__).resolve().parents[2] / "examples" / "short" / "blackout.film"
PROBE = """
import os, sys
from filmc.runtime.commands import prewarm
prewarm(sys.argv[1:])
children = [p for p in os.listdir("/proc") if p.isdigit() and
            any(l.split()[1] == str(os.getpid()) for l in open(f"/proc/{p}/status") if l.startswith("PPid:"))]
print(len(children))
"""


def children_after_prewarm(*argv: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True,
                          timeout=60)
    return int(proc.stdout.strip()), proc.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_cold_build_starts_the_forkserver_and_nothing_else_does(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    started, said = children_after_prewarm("build", str(SHORT), "--cache", cache)
    assert started >= 1 and said == ""  # the forkserver (and multiprocessing's resource tracker)
    assert children_after_prewarm("build", str(SHORT), "--cache", cache, "--dry-run") == (0, "")
    assert children_after_prewarm("check", str(SHORT)) == (0, "")
    assert children_after_prewarm("build", str(SHORT), "--jobs", "many") == (0, "")  # the real parse says why
    assert children_after_prewarm("build", str(tmp_path / "missing.film"), "--cache", cache) == (0, "")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "index.sqlite").write_bytes(b"")  # a cache that has built it: maybe nothing to run
    assert children_after_prewarm("build", str(SHORT), "--cache", cache) == (0, "")
