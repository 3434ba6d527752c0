"""`make test`: the whole pytest suite and the notebooks on other CPUs' code paths,
side by side.

    .venv/bin/python tools/run_tests.py [variant ...]    (default: avx2 baseline)

Both parts spend much of their time waiting rather than computing: the website's
tests wait on Chromium and its pages, the JupyterLab test on a server, and every
notebook run on a kernel starting. Run one after the other, a core sat idle during
those waits; run together, each part uses the time the other leaves. Nothing about
what runs changes: pytest runs exactly as ``python -m pytest`` (its output as it
comes), and tools/cpu_paths.py exactly as on its own, its output held back and
printed after pytest's so that the two never interleave. The exit status is non-zero
when either part failed, and the last lines say which.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VARIANTS = ["avx2", "baseline"]


def main(variants: list[str]) -> int:
    start = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as log:
        cpu_paths = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "cpu_paths.py"), *variants],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, to stop it as a whole
        )
        try:
            pytest_status = subprocess.run(
                [sys.executable, "-m", "pytest"], cwd=ROOT
            ).returncode
            pytest_seconds = time.monotonic() - start
            cpu_paths_status = cpu_paths.wait()
        finally:
            if cpu_paths.poll() is None:  # interrupted: stop the notebooks too
                os.killpg(cpu_paths.pid, signal.SIGTERM)
                cpu_paths.wait()
        cpu_paths_seconds = time.monotonic() - start
        print(
            f"\n=== the notebooks on other CPUs' code paths ({', '.join(variants)}), "
            "run alongside pytest:",
            flush=True,
        )
        log.seek(0)
        sys.stdout.write(log.read())
    print(
        f"\npytest: {'passed' if pytest_status == 0 else 'FAILED'} "
        f"({pytest_seconds:.0f} s); other CPUs' code paths: "
        f"{'passed' if cpu_paths_status == 0 else 'FAILED'} "
        f"(finished at {cpu_paths_seconds:.0f} s)",
        flush=True,
    )
    return 1 if pytest_status or cpu_paths_status else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or DEFAULT_VARIANTS))
