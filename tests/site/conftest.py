"""The website, built once per test session for the tests in this folder."""

import pytest

from .website import Build


@pytest.fixture(scope="session")
def website(tmp_path_factory):
    """The website, built once per test session (about a minute: it runs no notebook,
    it renders their committed outputs)."""
    return Build(tmp_path_factory.mktemp("website"))
