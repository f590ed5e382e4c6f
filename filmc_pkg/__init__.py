"""filmc: a compiler for films. See `filmc.compiler` and `filmc.runtime`."""

__version__ = "0.1.0"
