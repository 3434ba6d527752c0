"""Shared test settings.

Hypothesis runs derandomized: the same examples on every run and every machine, so a
red CI run can be reproduced exactly. Raise ``max_examples`` locally when hunting bugs.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "course",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("course")
