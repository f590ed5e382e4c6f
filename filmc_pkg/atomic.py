"""Atomic file writes: a temp file in the target's folder, fsync, then rename over the target.

A reader (or a build killed mid-write) sees either the old file or the new
one, never half of one. Shared by the compiler and the runtime.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def replacing(path: str | os.PathLike[str], mode: str = "wb", keep_mode: bool = False) -> Iterator[IO]:
    """Open a temp file beside `path` for writing; on success it replaces `path`, on error it vanishes."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    old_mode = target.stat().st_mode & 0o7777 if keep_mode and target.exists() else _default_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        kwargs = {"encoding": "utf-8", "newline": "\n"} if "b" not in mode else {}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, old_mode)  # mkstemp makes 0600; the result gets ordinary permissions
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str, keep_mode: bool = False) -> Path:
    with replacing(path, "w", keep_mode) as handle:
        handle.write(text)
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    with replacing(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def link_or_copy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Hard-link `source` at `target` (instant, for files that are never written again), or copy it
    where the filesystem cannot link (another device, no hard links)."""
    import shutil

    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)

