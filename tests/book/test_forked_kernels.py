"""tests/forked_kernels.py, the forked kernels of tools/cpu_paths.py's re-runs: a forked
kernel must show a notebook what an ordinary kernel shows, fall back to ordinary kernels
when its template would hide a warning or cannot start, and leave no process behind.
(That it computes as a fresh process does under each CPU variant's switches is checked
in test_cpu_paths.py, with the fingerprints computed there.)"""

from __future__ import annotations

import json
import os
import subprocess
import time

import ipykernel.kernelspec
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager

from .. import forked_kernels
from ..paths import ROOT

pytestmark = pytest.mark.skipif(
    not forked_kernels.possible(), reason="forked kernels need os.fork and /proc"
)


class _Specs(KernelSpecManager):
    """This Python's ipykernel, as nbval's --nbval-current-env starts it, forked or not."""

    def __init__(self, forked: bool):
        super().__init__()
        self.forked = forked

    def get_kernel_spec(self, kernel_name):
        spec = KernelSpec(
            resource_dir=ipykernel.kernelspec.RESOURCES,
            **ipykernel.kernelspec.get_kernel_dict(),
        )
        if self.forked:
            spec.metadata = {**spec.metadata, **forked_kernels.METADATA}
        return spec


class Kernel:
    """A started kernel; ``run(code)`` returns its outputs as (type, text) pairs."""

    def __init__(self, forked: bool, env: dict | None = None, cwd=ROOT / "book"):
        forked_kernels.register()
        self.manager = KernelManager(
            kernel_name="python3", kernel_spec_manager=_Specs(forked)
        )
        self.manager.start_kernel(
            env=env or dict(os.environ), cwd=str(cwd), stderr=subprocess.DEVNULL
        )
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    @property
    def forked(self) -> bool:
        return isinstance(
            self.manager.provisioner.process, forked_kernels.ForkedProcess
        )

    def run(self, code: str, timeout: float = 60) -> list[tuple[str, str]]:
        outputs = []

        def collect(message):
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                outputs.append((content["name"], content["text"]))
            elif kind in ("display_data", "execute_result"):
                outputs.append((kind, " ".join(sorted(content["data"]))))
            elif kind == "error":
                outputs.append(("error", content["ename"]))

        self.client.execute_interactive(code, output_hook=collect, timeout=timeout)
        return outputs

    def stdout(self, code: str) -> str:
        return "".join(text for kind, text in self.run(code) if kind == "stdout")

    def close(self):
        if self.client.channels_running:
            self.client.stop_channels()
            self.manager.shutdown_kernel()


@pytest.fixture
def kernels():
    started = []

    def start(forked, **kwargs):
        started.append(Kernel(forked, **kwargs))
        return started[-1]

    yield start
    for kernel in started:
        kernel.close()


# What a notebook can see of the process it runs in.
PROCESS = """
import json, os, sys, warnings
import numpy, torch, labs  # as every chapter does first
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
print(json.dumps({
    "argv[0]": os.path.basename(sys.argv[0]),
    "sys.path": sys.path,
    "working folder": os.getcwd(),
    "executable": sys.executable,
    "parent_handle": app.parent_handle == int(os.environ["JPY_PARENT_PID"]),
    "parent poller": type(getattr(app, "poller", None)).__name__,
    "leads its own session": os.getsid(0) == os.getpgid(0) == os.getpid(),
    "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    "MPLBACKEND": os.environ.get("MPLBACKEND"),
    "warning filters": list(map(str, warnings.filters)),
}))
"""
FIGURE = """
import matplotlib.pyplot as plt
print(plt.get_backend())
plt.plot([0, 1], [1, 0])
plt.show()
"""
WARNS = "import warnings\nwarnings.warn('a warning the notebook shows')"
UNSEEDED = (
    "import random\nprint(random.random())",
    "import numpy as np\nprint(np.random.rand())",
)


def test_a_forked_kernel_shows_a_notebook_what_an_ordinary_one_shows(kernels):
    ordinary, forked = kernels(forked=False), kernels(forked=True)
    assert forked.forked and not ordinary.forked
    seen = {}
    for kernel in (ordinary, forked):
        seen[kernel] = {
            "process": json.loads(kernel.stdout(PROCESS)),
            "figure": kernel.run(FIGURE),
            "warning": [kind for kind, _ in kernel.run(WARNS)],
            "error": kernel.run("1 / 0"),
        }
    assert seen[forked] == seen[ordinary]
    assert seen[forked]["process"]["parent poller"] == "ParentPollerUnix"
    assert ("display_data", "image/png text/plain") in seen[forked]["figure"]
    assert seen[forked]["warning"] == ["stderr"]
    assert seen[forked]["process"]["leads its own session"]
    # new seeds in each child, as in each new process: Python's and numpy's generators
    another = kernels(forked=True)
    for code in UNSEEDED:
        assert forked.stdout(code) != another.stdout(code), code


def test_an_endless_cell_is_interrupted(kernels):
    """nbval's cell time limit interrupts the kernel (SIGINT to its process group)."""
    kernel = kernels(forked=True)
    assert kernel.forked
    endless = kernel.client.execute("while True:\n    pass")
    time.sleep(0.5)
    kernel.manager.interrupt_kernel()
    reply = kernel.client.get_shell_msg(timeout=20)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    # It runs the next cell, once it is idle again: until then, after an error,
    # ipykernel aborts whatever was sent in the meantime (an ordinary kernel too).
    while True:
        message = kernel.client.get_iopub_msg(timeout=20)
        if (
            message["parent_header"].get("msg_id") == endless
            and message["msg_type"] == "status"
            and message["content"]["execution_state"] == "idle"
        ):
            break
    assert kernel.stdout("print(1 + 1)") == "2\n"


# A module the template imports that would make its kernels differ, or never ready.
BAD_IMPORTS = {
    "warns": "import warnings\nwarnings.warn('imported')\n",  # missing from output
    "fails": "raise ImportError('not here')\n",
    "hangs": "import time\ntime.sleep(60)\n",
}


@pytest.mark.parametrize("kind", BAD_IMPORTS)
def test_a_template_that_cannot_serve_means_ordinary_kernels(
    kind, kernels, tmp_path, monkeypatch
):
    (tmp_path / f"{kind}_on_import.py").write_text(BAD_IMPORTS[kind])
    # a variable of its own: a new template, not one started by an earlier test
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    # only that module (and ipykernel): ready in well under a second were it harmless
    monkeypatch.setattr(forked_kernels, "PRELOAD", (f"{kind}_on_import",))
    monkeypatch.setattr(forked_kernels, "STARTUP_TIMEOUT", 3)
    kernel = kernels(forked=True)
    assert not kernel.forked  # started the ordinary way instead
    assert kernel.stdout("print('still runs')") == "still runs\n"


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if forked_kernels.ForkedProcess(pid).poll() is not None:
            return True
        time.sleep(0.05)
    return False


def test_no_process_is_left_behind(kernels):
    """A kernel shut down is gone; when the template's parent goes (the template's
    stdin closes), the template goes, and so do the kernels it still has."""
    env = {**os.environ, "LABS_TEST_TEMPLATE": "its own"}  # a template of its own
    first, second = kernels(forked=True, env=env), kernels(forked=True, env=env)
    assert first.forked and second.forked
    first_pid, second_pid = (k.manager.provisioner.pid for k in (first, second))
    first.close()
    assert _gone(first_pid)
    template = forked_kernels.template_for(env)
    template.close()
    assert template.process.returncode is not None
    assert _gone(second_pid)


def test_a_template_gone_means_an_ordinary_kernel(kernels):
    """A template that stopped, or stopped answering, is passed over."""
    env = {**os.environ, "LABS_TEST_TEMPLATE": "gone"}
    assert kernels(forked=True, env=env).forked
    template = forked_kernels.template_for(env)
    os.unlink(template.path)  # still running, but nobody can reach it
    assert not kernels(forked=True, env=env).forked
    template.close()  # and stopped
    assert not kernels(forked=True, env=env).forked


def test_where_forking_is_not_possible_kernels_start_the_ordinary_way(
    kernels, monkeypatch
):
    """Without os.fork or /proc (macOS, say), the provisioner launches as usual."""
    monkeypatch.setattr(forked_kernels, "possible", lambda: False)
    kernel = kernels(forked=True)
    assert not kernel.forked
    assert kernel.stdout("print('runs')") == "runs\n"
