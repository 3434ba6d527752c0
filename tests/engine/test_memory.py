"""labs keeps freed memory mapped for reuse (labs/_memory.py), unless told not to."""

import os
import subprocess
import sys

import pytest

from labs import _memory

GLIBC = (
    sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None
)


def _applied_in_fresh_process(**environment):
    code = "import labs, labs._memory as m; print(m.applied)"
    env = {**os.environ, **environment}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="the tuning applies to glibc's malloc only")
def test_importing_labs_tunes_malloc():
    assert _applied_in_fresh_process(LABS_KEEP_FREED_MEMORY="1") == "True"
    assert _memory.keep_freed_memory() is True  # idempotent


def test_the_environment_variable_opts_out():
    assert _applied_in_fresh_process(LABS_KEEP_FREED_MEMORY="0") == "False"
