"""Finding backends by name: built-ins registered in code, plugins through entry points.

A plugin package declares, in its pyproject.toml,

    [project.entry-points."filmc.backends"]
    mybackend = "mypkg.backend:MyBackend"

where the object is a `Backend` subclass, a factory returning a `Backend`, or a
`Backend` instance. Nothing is imported until a backend is asked for, so a
broken plugin cannot break `filmc` for users who never select it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from .backend import Backend

ENTRY_POINT_GROUP = "filmc.backends"

BackendFactory = Callable[..., Backend]

_BUILTINS: dict[str, str | BackendFactory | type[Backend]] = {
    "preview": "filmc.runtime.preview:PreviewBackend",
}


class BackendNotFound(LookupError):
    """No backend of that name, or it failed to load: the message says which and why."""


@dataclass(frozen=True)
class BackendInfo:
    name: str
    origin: str
    """'built-in' or 'entry point from <distribution> <version>'."""
    target: str
    """What the name points at ('module:attribute' or a qualified name)."""
    version: str | None
    """The backend's declared version, or None when it could not be loaded."""
    error: str | None = None
    """Why loading failed, when it did."""

    @property
    def available(self) -> bool:
        return self.error is None


def register_backend(name: str, target: str | BackendFactory | type[Backend], *, replace: bool = False) -> None:
    """Register a built-in backend: a 'module:attribute' path (imported lazily), a
    Backend subclass, or a factory taking keyword options and returning a Backend."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"invalid backend name {name!r}: use letters, digits, '-' and '_'")
    if name in _BUILTINS and not replace:
        raise ValueError(f"backend {name!r} is already registered")
    _BUILTINS[name] = target


def unregister_backend(name: str) -> None:
    _BUILTINS.pop(name, None)


def _entry_points() -> dict[str, metadata.EntryPoint]:
    found: dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)  # first on sys.path wins, as for imports
    return found


def _describe(target: object) -> str:
    if isinstance(target, str):
        return target
    return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', repr(target))}"


def _resolve(target: object) -> object:
    if isinstance(target, str):
        module_name, _, attribute = target.partition(":")
        obj: object = importlib.import_module(module_name)
        for part in filter(None, attribute.split(".")):
            obj = getattr(obj, part)
        return obj
    if isinstance(target, metadata.EntryPoint):
        return target.load()
    return target


def _instantiate(obj: object, options: dict[str, Any]) -> Backend:
    if isinstance(obj, Backend):
        if options:
            raise TypeError("options were given but the backend is registered as a ready instance")
        return obj
    if callable(obj):
        made = obj(**options)
        if isinstance(made, Backend):
            return made
        raise TypeError(f"{_describe(obj)} returned {type(made).__name__}, not a filmc Backend")
    raise TypeError(f"{_describe(obj)} is neither a Backend, a Backend subclass nor a factory")


def get_backend(name: str, **options: Any) -> Backend:
    """The backend called `name`, instantiated with `options`. Built-ins shadow plugins."""
    if name in _BUILTINS:
        target: object = _BUILTINS[name]
        where = f"built-in backend {name!r} ({_describe(target)})"
    else:
        eps = _entry_points()
        if name not in eps:
            known = ", ".join(sorted(set(_BUILTINS) | set(eps))) or "none"
            raise BackendNotFound(f"unknown backend {name!r}; known backends: {known}")
        target = eps[name]
        where = f"backend {name!r} from entry point {eps[name].value}"
    try:
        backend = _instantiate(_resolve(target), options)
    except Exception as exc:  # a plugin may fail in any way; report it, don't crash
        raise BackendNotFound(f"{where} failed to load: {type(exc).__name__}: {exc}") from exc
    if not backend.name:
        raise BackendNotFound(f"{where} declares no name")
    return backend


def list_backends(load: bool = True) -> list[BackendInfo]:
    """Every known backend, built-ins first. With `load`, each is imported to read its
    version; a failure becomes the entry's `error` instead of an exception."""
    infos: list[BackendInfo] = []
    candidates: list[tuple[str, str, str]] = [(n, "built-in", _describe(t)) for n, t in sorted(_BUILTINS.items())]
    for name, ep in sorted(_entry_points().items()):
        if name in _BUILTINS:
            continue
        dist = f" from {ep.dist.name} {ep.dist.version}" if ep.dist is not None else ""
        candidates.append((name, f"entry point{dist}", ep.value))
    for name, origin, target in candidates:
        version: str | None = None
        error: str | None = None
        if load:
            try:
                version = get_backend(name).version
            except BackendNotFound as exc:
                error = str(exc)
        infos.append(BackendInfo(name=name, origin=origin, target=target, version=version, error=error))
    return infos
