"""The CPU preview backend: a deterministic animatic rendered by ffmpeg filtergraphs."""

from .backend import PREVIEW_VERSION, PreviewBackend

__all__ = ["PREVIEW_VERSION", "PreviewBackend"]
