"""Shared test settings.

Hypothesis runs derandomized: the same examples on every run and every machine, so a
red CI run can be reproduced exactly. Raise ``max_examples`` locally when hunting bugs.
"""

import pytest
from hypothesis import HealthCheck, settings

from .site import Build

settings.register_profile(
    "course",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("course")


@pytest.fixture(scope="session")
def website(tmp_path_factory):
    """The website, built once per test session (about a minute: it runs every notebook)."""
    return Build(tmp_path_factory.mktemp("website"))
