"""Keep freed memory for reuse instead of handing it back to the operating system.

A training step allocates the same large arrays again and again: the im2col columns of
every convolution (several MB each), matrix products, gradients. glibc's ``malloc``
serves blocks of that size with fresh ``mmap`` pages or trims them off the heap as soon
as they are freed, so each new array starts with one page fault per 4 KiB page. On the
course's benchmark shapes those faults cost more than the arithmetic: the first touch
of a 4 MB im2col buffer took about 2 ms against under 1 ms for the copy itself.

:func:`keep_freed_memory` asks glibc (through ``mallopt``) to serve blocks up to 32 MiB
from the heap and to keep freed heap memory mapped, so that later arrays reuse pages that
are already faulted in. A process then holds on to its peak memory rather than
returning it between steps, which is what PyTorch's own allocators do too. It is called
once when ``labs`` is imported, on Linux with glibc only; set the environment variable
``LABS_KEEP_FREED_MEMORY=0`` before importing ``labs`` to leave ``malloc`` as it was.
The setting is process-wide, so code running next to ``labs`` (numpy, torch) gets it as
well.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt parameters, from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's upper limit on 64-bit systems
TRIM_THRESHOLD = 1024 * 1024 * 1024

applied = False


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as described above; returns whether it was applied."""
    global applied
    if applied:
        return True
    if (
        not sys.platform.startswith("linux")
        or os.environ.get("LABS_KEEP_FREED_MEMORY") == "0"
    ):
        return False
    try:
        # the running process's own symbols, libc's among them (no library search)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a libc without mallopt: nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return applied
