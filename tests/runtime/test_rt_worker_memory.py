"""Worker processes keep freed memory for their next node (glibc): a buffer freed and allocated
again costs no new page faults, where by default it is unmapped and faulted in afresh."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
from filmc.runtime.executor import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
def frame_buffer():
    a = np.ones(5 * 1024 * 1024, dtype=np.float32)  # 20 MB, touched
    del a
frame_buffer()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
frame_buffer()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults_of_a_second_buffer(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True).stdout
    return int(out.strip())


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "mallopt"), reason="glibc's mallopt")
def test_a_worker_reuses_freed_buffers_without_page_faults() -> None:
    default = faults_of_a_second_buffer("default")
    reused = faults_of_a_second_buffer("reuse")
    assert default > 200  # 20 MB mapped afresh: thousands of pages, fewer with fault-around
    assert reused < 20, (default, reused)
