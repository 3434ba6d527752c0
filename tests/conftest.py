"""Shared test settings.

Hypothesis runs derandomized: the same examples on every run and every machine, so a
red CI run can be reproduced exactly. Raise ``max_examples`` locally when hunting bugs.

Two profiles: ``course`` (the default, what ``make test`` and CI run) and ``quick``
(``make check``: fewer examples per property, for the inner loop). Choose one with the
environment variable ``LABS_HYPOTHESIS_PROFILE``.
"""

import os

import torch
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

COMMON = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("course", max_examples=40, **COMMON)
settings.register_profile("quick", max_examples=8, **COMMON)
settings.load_profile(os.environ.get("LABS_HYPOTHESIS_PROFILE", "course"))

# One thread per test process for PyTorch and numpy's BLAS, whatever was imported before
# the root conftest.py set OMP_NUM_THREADS: pytest-xdist already runs one process per
# core, and a second thread each only makes them wait for one another. Measured here on
# a busy machine: torch's float64 max_pool2d forward + backward on a small sample took
# 6 ms with two threads and 0.02 ms with one.
torch.set_num_threads(1)
threadpool_limits(limits=1)
