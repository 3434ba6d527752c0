"""One fresh Jupyter kernel per submission, in its own directory, under time limits.

The kernel is the same python3 kernel the course's notebooks run in (ipykernel, through
jupyter_client, which nbclient also uses), started with its working directory, HOME,
IPython and matplotlib configuration directories and TMPDIR all inside a new temporary
directory, so that files a submission writes land there and are deleted with it. Each
execution has a time limit: past it the kernel is interrupted, and if it does not stop
it is killed (the grader then starts a new one). Output is read and counted but only
the first few kilobytes are kept, so a flood of prints costs nothing but time.
"""

from __future__ import annotations

import contextlib
import os
import queue
import resource
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import KernelManager

OUTPUT_KEPT = 4000  # characters of output kept per execution, for the feedback page
FILE_SIZE_LIMIT = 256 * 2**20  # the largest file a submission may write


class KernelDied(Exception):
    """The kernel stopped (the student's code ended the process, or it was killed)."""


@dataclass
class Outcome:
    status: str  # "ok", "error", "timeout" or "died"
    ename: str = ""
    evalue: str = ""
    output: str = ""
    output_chars: int = 0  # all the output the execution printed, kept or not
    seconds: float = 0.0
    killed: bool = False  # the kernel had to be killed (so it must be restarted)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _limits() -> None:  # runs in the kernel's process, before Python starts
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@dataclass
class Sandbox:
    workdir: Path
    startup_timeout: float = 120.0
    km: KernelManager | None = field(default=None, repr=False)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in list(env):
            if name.startswith(("JUPYTER", "IPYTHON", "PYTEST", "JPY_")):
                env.pop(name)
        home = self.workdir / "home"
        for sub in ("home", "tmp", "home/.ipython", "home/.matplotlib"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        env.update(
            # marks every process the kernel starts
            LABS_GRADER_SANDBOX=str(self.workdir),
            HOME=str(home),
            TMPDIR=str(self.workdir / "tmp"),
            IPYTHONDIR=str(home / ".ipython"),
            MPLCONFIGDIR=str(home / ".matplotlib"),
            MPLBACKEND="Agg",
            PYTHONDONTWRITEBYTECODE="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
        )
        return env

    def start(self) -> None:
        self.km = KernelManager(kernel_name="python3")
        # sockets in the submission's own directory rather than TCP ports
        self.km.transport = "ipc"
        self.km.ip = str(self.workdir / "kernel")
        self.km.start_kernel(
            cwd=str(self.workdir),
            env=self.environment(),
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            preexec_fn=_limits,
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=self.startup_timeout)
        except RuntimeError as error:
            self.stop()
            raise KernelDied(f"the Python kernel did not start: {error}") from None

    def stop(self) -> None:
        if self.km is None:
            return
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:
            pass
        finally:
            with contextlib.suppress(Exception):
                self.km.cleanup_resources()
        self.km = None

    def drain(self) -> None:
        """Drop the outputs waiting to be read (what a student's function printed)."""
        if self.km is None:
            return
        try:
            while self.kc.iopub_channel.msg_ready():
                self.kc.iopub_channel.get_msg(timeout=0)
        except Exception:
            pass

    def kill_leftovers(self) -> list[int]:
        """Kill processes the submission started that outlived its kernel (Linux only).

        Every process started from the kernel inherits ``LABS_GRADER_SANDBOX``, even one
        that left the kernel's process group; none may run on while the next submission
        is graded.
        """
        marker = f"LABS_GRADER_SANDBOX={self.workdir}".encode()
        killed = []
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    os.kill(int(entry.name), signal.SIGKILL)
                    killed.append(int(entry.name))
            except (OSError, ValueError):
                continue
        return killed

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def alive(self) -> bool:
        return self.km is not None and self.km.is_alive()

    def execute(self, code: str, timeout: float) -> Outcome:
        """Run ``code`` in the kernel; never raises for anything the code does."""
        if not self.alive:
            return Outcome("died", killed=True)
        return self.wait(self.submit(code), timeout)

    def submit(self, code: str) -> str:
        """Start running ``code``; :meth:`wait` for it to finish."""
        return self.kc.execute(
            code, store_history=False, allow_stdin=False, stop_on_error=False
        )

    def wait(self, msg_id: str, timeout: float) -> Outcome:
        """Read the outputs of execution ``msg_id`` until it ends, or stop it at ``timeout``."""
        start = time.monotonic()
        outcome = Outcome("ok")
        kept: list[str] = []
        deadline = start + max(timeout, 0.1)
        interrupted_at = None
        while True:
            now = time.monotonic()
            if interrupted_at is None and now > deadline:
                outcome.status = "timeout"
                self.km.interrupt_kernel()
                interrupted_at = now
            if interrupted_at is not None and now > interrupted_at + 5:
                self._kill()
                outcome.killed = True
                break
            try:
                message = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if not self.km.is_alive():
                    outcome.status, outcome.killed = "died", True
                    break
                continue
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            text = ""
            if kind == "stream":
                text = content.get("text", "")
            elif kind in ("execute_result", "display_data"):
                text = str(content.get("data", {}).get("text/plain", "")) + "\n"
            elif kind == "error":
                if outcome.status == "ok":
                    outcome.status = "error"
                outcome.ename = str(content.get("ename", ""))[:200]
                outcome.evalue = str(content.get("evalue", ""))[:2000]
            elif kind == "status" and content.get("execution_state") == "idle":
                break
            if text:
                outcome.output_chars += len(text)
                room = OUTPUT_KEPT - sum(len(t) for t in kept)
                if room > 0:
                    kept.append(text[:room])
        outcome.output = "".join(kept)
        outcome.seconds = time.monotonic() - start
        return outcome

    def _kill(self) -> None:
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)
