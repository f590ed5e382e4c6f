"""Which version and default scale a backend has, as an installed runtime reports them.

`filmc plan` shows the node ids and cache state `filmc build` would use, but the compiler never
imports the runtime: the runtime registers a resolver here instead. A module of its own, without
imports, so registering costs `filmc build` nothing before it starts its workers.
"""

from __future__ import annotations

from collections.abc import Callable

BackendDefaults = Callable[[str], "tuple[str, float] | None"]
_RESOLVERS: list[BackendDefaults] = []


def register_backend_defaults(resolver: BackendDefaults) -> None:
    """Let an installed runtime say a backend's version and default scale."""
    _RESOLVERS.append(resolver)


def backend_defaults(backend: str) -> tuple[str, float]:
    """(version, scale) for `backend`: from a registered runtime, else the plan's defaults."""
    from .plan import DEFAULT_BACKEND_VERSION

    for resolver in reversed(_RESOLVERS):
        found = resolver(backend)
        if found is not None:
            return found
    return DEFAULT_BACKEND_VERSION, 1.0
