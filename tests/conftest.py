"""Shared helpers for the front-end tests: what a film means, with where it was written left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filmc.compiler.check import check_file


def without_spans(value: object) -> object:
    """JSON data with every source position removed (`span`, `*_span`, `*_spans`)."""
    if isinstance(value, dict):
        return {k: without_spans(v) for k, v in value.items()
                if not (k == "span" or k.endswith("_span") or k.endswith("_spans"))}
    if isinstance(value, list):
        return [without_spans(v) for v in value]
    return value


def meaning(path: Path) -> tuple[object, list[tuple[str, str, str | None]]]:
    """The checked IR of a film (spans excluded) and its diagnostics (code, message, hint), in order."""
    result = check_file(path)
    film = without_spans(json.loads(result.film.model_dump_json())) if result.film is not None else None
    return film, [(d.code, d.message, d.hint) for d in result.diagnostics]


@pytest.fixture
def film_meaning():
    """`film_meaning(path)` -> (IR without spans, diagnostics): equal before and after formatting."""
    return meaning
