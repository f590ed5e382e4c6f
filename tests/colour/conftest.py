"""Fixtures for the colour tests: colour-science as the independent reference, quietly imported."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cs():
    """The colour-science package (its missing-matplotlib warning silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour

        colour.utilities.filter_warnings(colour_usage_warnings=True)
    return colour


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(20261122)
