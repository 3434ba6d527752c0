"""Shared test settings.

Hypothesis runs derandomized: the same examples on every run and every machine, so a
red CI run can be reproduced exactly. Raise ``max_examples`` locally when hunting bugs.

Two profiles: ``course`` (the default, what ``make test`` and CI run) and ``quick``
(``make check``: fewer examples per property, for the inner loop). Choose one with the
environment variable ``LABS_HYPOTHESIS_PROFILE``.
"""

import os

from hypothesis import HealthCheck, settings

COMMON = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("course", max_examples=40, **COMMON)
settings.register_profile("quick", max_examples=8, **COMMON)
settings.load_profile(os.environ.get("LABS_HYPOTHESIS_PROFILE", "course"))
