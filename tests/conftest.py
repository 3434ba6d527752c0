"""Shared test settings.

Hypothesis runs derandomized: the same examples on every run and every machine, so a
red CI run can be reproduced exactly. Raise ``max_examples`` locally when hunting bugs.
"""

import pytest
import torch
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

from .site import Build

settings.register_profile(
    "course",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("course")

# One thread per test process for PyTorch and for numpy's BLAS. pytest-xdist already
# runs one process per core; a second thread each only makes them wait for one another.
# Measured here on a busy machine: torch's float64 max_pool2d forward + backward on a
# small sample took 6 ms with two threads and 0.02 ms with one.
torch.set_num_threads(1)
threadpool_limits(limits=1)


@pytest.fixture(scope="session")
def website(tmp_path_factory):
    """The website, built once per test session from the committed outputs."""
    return Build(tmp_path_factory.mktemp("website"))
