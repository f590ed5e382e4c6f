"""ffmpeg invocation, frame-rate arithmetic and cache references shared by the preview ops."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from filmc.runtime.backend import NodeOutputs, run_tool
from filmc.runtime.media_tools import ffmpeg_exe

BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
"""No encoder version strings or timestamps in the files: the same film gives the same bytes."""


def fps_fraction(fps: str | int | float) -> Fraction:
    """'24' or '24000/1001' -> an exact Fraction."""
    return Fraction(str(fps))


def frames_to_seconds(frames: int, fps: str) -> Fraction:
    return Fraction(frames) / fps_fraction(fps)


def seconds_text(value: Fraction | float) -> str:
    """Seconds as ffmpeg parses them exactly (microseconds, rounded to nearest)."""
    return f"{round(Fraction(value) * 1_000_000) / 1_000_000:.6f}"


def timebase(fps: str) -> str:
    """The timebase of one frame, as `settb=expr=` takes it."""
    f = fps_fraction(fps)
    return f"{f.denominator}/{f.numerator}"


def ffmpeg(args: Sequence[str | Path], *, cwd: Path | None = None, timeout_s: float | None = None,
           input_bytes: bytes | None = None, loglevel: str = "error"):
    """Run ffmpeg quietly (errors only, unless a filter's findings are wanted from its log);
    failures become NodeErrors carrying its stderr."""
    argv: list[str | Path] = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", loglevel, "-y",
                              *args]
    return run_tool(argv, cwd=cwd, timeout_s=timeout_s, input_bytes=input_bytes)


def objects_root(outputs: NodeOutputs) -> Path:
    """The cache's objects folder: every node's outputs live at <root>/<id[:2]>/<id>/."""
    return outputs.directory.parent.parent


def ref(outputs: NodeOutputs, name: str) -> str:
    """A node's output as a path relative to the objects folder, so graphs that name it
    keep working if the whole cache moves (ffmpeg runs with the objects folder as cwd)."""
    outputs.path(name)  # raises a clear KeyError for an undeclared name
    return (outputs.directory.relative_to(objects_root(outputs)) / name).as_posix()
