"""Fixtures for the export tests: contract-shaped timelines built without the compiler."""

from __future__ import annotations

import opentimelineio as otio
import pytest
from export_fixtures import FPS_24, FPS_23976, make_timeline


@pytest.fixture
def film() -> otio.schema.Timeline:
    """Ten shots at 24 fps: every transition kind, fades, markers, four audio tracks."""
    return make_timeline(n_shots=10, rate=FPS_24)


@pytest.fixture
def film_23976() -> otio.schema.Timeline:
    return make_timeline(n_shots=10, rate=FPS_23976, title="Blackout 23.976")


@pytest.fixture(params=["24", "23.976"])
def any_film(request: pytest.FixtureRequest) -> otio.schema.Timeline:
    rate = FPS_24 if request.param == "24" else FPS_23976
    return make_timeline(n_shots=10, rate=rate)
