"""Notebook kernels forked from a process that has already imported PyTorch.

A new kernel spends most of its start importing PyTorch: about 1.5 s of CPU each time,
against about 0.3 s for the rest of ipykernel's start. Here a *template* process imports
numpy, PyTorch, ipykernel and ``labs`` once; each kernel is then a forked child of it,
which takes on the kernel's environment and working folder and runs ipykernel as
``python -m ipykernel_launcher`` would.

``tools/cpu_paths.py`` uses it for its re-runs of the notebooks under other CPUs' code
paths (``LABS_FORKED_KERNELS=1``; ``=0`` turns it off). The main pytest session does
not: its kernels start the ordinary way, as a learner's Jupyter starts them, so that
every notebook is proved there in a kernel like theirs.

A forked kernel must show a notebook what a fresh one would, or the re-runs would prove
less (tests/book/test_forked_kernels.py checks each point against an ordinary kernel):

- The template imports only modules that a kernel or every chapter imports anyway, and
  binds no name in the notebook's namespace. Not matplotlib: it reads its backend when
  imported, and ipykernel chooses the inline backend only as the kernel starts.
- Imports read the environment (the CPU variants switch code paths through variables
  read at start-up), so there is one template per environment, apart from the variables
  set anew for each kernel or test (``PER_KERNEL``). The two settings ipykernel reads
  from those when imported are set again in each child.
- An import that warns disqualifies the template, since the warning would be missing
  from the notebook's output: the kernels then start the ordinary way.
- The warning filters the libraries add when imported are moved in front of those the
  kernel adds as it starts, where a notebook's first imports would have put them (the
  first filter that matches a warning decides what happens to it).
- Each child draws new seeds for numpy's global generator, as a new process does (Python's
  own reseeds itself in a forked child), so that a notebook which forgets to seed still
  changes between runs.
- The template runs no Python thread and computes nothing. OpenBLAS starts its thread
  pool when numpy is imported; its own fork handler stops the pool before each fork and
  the child starts another when it first needs one, as with any fork of a numpy process.

What stays different: a forked kernel's parent is the template (the template exits when
the process that started it does, and stops its kernels then), and all kernels of one
template share Python's string-hash seed.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from jupyter_client.provisioning import LocalProvisioner

# What the template imports: what ipykernel imports as it starts, then what every
# chapter imports first (the libraries, the ones a test may change).
KERNEL = ("ipykernel.kernelapp", "ipykernel.ipkernel")
PRELOAD = ("numpy", "torch", "labs")
# seconds the template may take to import them (nbval gives a kernel 60 to start)
STARTUP_TIMEOUT = 60
# the warning filters the libraries' imports added, in the template (see _serve)
_LIBRARY_FILTERS: list = []
# variables set anew for each kernel (by jupyter_client) or each test (by pytest);
# every other variable selects the template
PER_KERNEL = ("JPY_", "PYTEST_CURRENT_TEST")


def possible() -> bool:
    """On Linux: os.fork, and /proc, through which a forked kernel is watched."""
    return hasattr(os, "fork") and os.path.isdir("/proc/self")


def enabled() -> bool:
    return os.environ.get("LABS_FORKED_KERNELS") == "1" and possible()


# --------------------------------------------------------------------------------------
# The template (this file run as a script: forked_kernels.py SOCKET [MODULE ...])
# --------------------------------------------------------------------------------------


def _serve(path: str, modules: list[str]) -> None:
    import warnings

    # `python forked_kernels.py` put this folder first on the path; a kernel has not
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:  # not with -P
        del sys.path[0]
    # Warnings the imports show, under the filters a kernel's imports have (the
    # filters the imports add stay, as they would in the kernel).
    shown, show = [], warnings.showwarning
    warnings.showwarning = lambda message, *args, **kwargs: shown.append(message)
    try:
        for name in KERNEL:
            __import__(name)
        before = list(warnings.filters)
        for name in modules:
            __import__(name)
        _LIBRARY_FILTERS.extend(f for f in warnings.filters if f not in before)
    finally:
        warnings.showwarning = show
    if shown:
        print(f"not forking: an import warned: {shown[0]}", file=sys.stderr)
        sys.exit(3)
    if threading.active_count() > 1:
        print("not forking: an import started a Python thread", file=sys.stderr)
        sys.exit(3)

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # each kernel is reaped as it exits
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)  # closed when our parent ends
    kernels, template = [], os.getpid()
    print("ready", flush=True)
    try:
        while True:
            for key, _ in selector.select():
                if key.fileobj is sys.stdin:
                    if not os.read(sys.stdin.fileno(), 1024):
                        return
                    continue
                connection, _ = listener.accept()
                with connection:
                    message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
                    try:
                        request = json.loads(message)
                    except ValueError:  # the asking process went away
                        request = None
                    if request is None or len(fds) != 3:
                        for fd in fds:
                            os.close(fd)
                        continue
                    pid = os.fork()
                    if pid == 0:
                        selector.close()
                        listener.close()
                        connection.close()
                        _become_kernel(request, fds)  # ends in SystemExit
                    for fd in fds:
                        os.close(fd)
                    kernels.append(pid)
                    try:
                        connection.sendall(json.dumps({"pid": pid}).encode())
                    except OSError:  # nobody to tell: it will not be used
                        os.kill(pid, signal.SIGKILL)
    finally:
        # as a kernel whose parent is gone stops itself (ipykernel's parent poller);
        # a kernel unwinding from _become_kernel passes here too, and stops nothing
        for pid in kernels:
            if os.getpid() == template and _parent(pid) == template:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


def _stat(pid: int) -> list[str] | None:
    """A process's state and what follows it in /proc/PID/stat (the parent's id is
    second), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # after the command's name, which is in parentheses and may hold anything
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _parent(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _become_kernel(request: dict, fds: list[int]) -> None:
    """In the forked child: become ``python -m ipykernel_launcher ARGV``."""
    code = 1
    try:
        os.setsid()  # its own process group, which is what jupyter_client signals
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for target, fd in enumerate(fds):  # stdin, stdout, stderr
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        import numpy

        # numpy's global generator, which a notebook reaches through np.random.rand
        # and the like (Python's own generator reseeds itself in a forked child)
        numpy.random.seed()  # noqa: NPY002
        import ipykernel_launcher  # noqa: F401 - for its path, the kernel's sys.argv[0]
        from ipykernel import kernelapp

        sys.argv = [sys.modules["ipykernel_launcher"].__file__, *request["argv"]]
        # Two settings ipykernel took from the environment when it was imported, in
        # the template: given again, from this kernel's environment.
        app = kernelapp.IPKernelApp.instance(
            parent_handle=int(os.environ.get("JPY_PARENT_PID") or 0),
            interrupt=int(os.environ.get("JPY_INTERRUPT_EVENT") or 0),
        )
        app.initialize(request["argv"])
        _libraries_imported_last()
        app.start()
        code = 0
    except SystemExit as stop:
        code = stop.code
    except BaseException:
        import traceback

        traceback.print_exc()
    # Python then shuts down as after any script (exit handlers, flushed streams),
    # unwinding through the template's loop, which holds nothing of the kernel's
    raise SystemExit(code)


def _libraries_imported_last() -> None:
    """Put the libraries' warning filters back in front of those the kernel added as it
    started, where a notebook's first imports would have put them: each filter is
    inserted at the front, and the first that matches a warning decides."""
    import warnings

    others = [f for f in warnings.filters if f not in _LIBRARY_FILTERS]
    warnings.filters[:] = [*_LIBRARY_FILTERS, *others]
    warnings._filters_mutated()


# --------------------------------------------------------------------------------------
# The provisioner, in the process that starts the kernels
# --------------------------------------------------------------------------------------


class _Template:
    """One template process, for one environment."""

    def __init__(self, env: dict):
        self.folder = tempfile.TemporaryDirectory(prefix="labs-kernels-")
        self.path = os.path.join(self.folder.name, "template.sock")
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.path, *PRELOAD],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        # "ready" once imported (about 2 s); anything else, or nothing within the
        # time a kernel has to start, and the kernels start the ordinary way
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            answered = selector.select(timeout=STARTUP_TIMEOUT)
        self.ready = bool(answered) and self.process.stdout.readline() == "ready\n"
        if not self.ready and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    @property
    def alive(self) -> bool:
        return self.ready and self.process.poll() is None

    def fork(self, argv: list[str], env: dict, cwd: str, fds: list[int]) -> int:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(self.path)
            message = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
            socket.send_fds(connection, [message], fds)
            reply = b""
            while chunk := connection.recv(4096):
                reply += chunk
        return json.loads(reply)["pid"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.folder.cleanup()


_TEMPLATES: dict[tuple, _Template] = {}
_LOCK = threading.Lock()


def template_for(env: dict) -> _Template | None:
    """The running template for this environment (started on first use), or None when
    it could not start or refused to (see the module's docstring)."""
    key = tuple(sorted((k, v) for k, v in env.items() if not k.startswith(PER_KERNEL)))
    with _LOCK:
        if key not in _TEMPLATES:
            _TEMPLATES[key] = _Template(dict(key))
        template = _TEMPLATES[key]
    return template if template.alive else None


class ForkedProcess:
    """The part of a Popen that jupyter_client uses, for a kernel that is the template's
    child, not ours: it is watched through /proc and signalled by its process id."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            fields = _stat(self.pid)
            if fields is None or fields[0] in ("Z", "X"):
                # the template reaped it; its exit status is not known here
                self.returncode = 0
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


def ipykernel_arguments(cmd: list[str]) -> list[str] | None:
    """The kernel's arguments when ``cmd`` runs ipykernel on this Python, else None."""
    if (
        len(cmd) >= 3
        and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable)
        and cmd[1:3] == ["-m", "ipykernel_launcher"]
    ):
        return cmd[3:]
    return None


def _fds(kwargs: dict, devnull: int) -> list[int] | None:
    """The kernel's stdin, stdout and stderr as file descriptors for the template to
    pass on (None where the caller wants a pipe: that starts the ordinary way)."""
    fds = [devnull]  # ipykernel reads nothing from stdin
    for name, default in (("stdout", 1), ("stderr", 2)):
        stream = kwargs.get(name)
        if stream is None:
            fds.append(default)  # inherited, as with Popen
        elif stream == subprocess.DEVNULL:
            fds.append(devnull)
        elif isinstance(stream, int) and stream >= 0:
            fds.append(stream)
        elif hasattr(stream, "fileno"):
            fds.append(stream.fileno())
        else:
            return None
    return fds


class ForkedKernelProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with each ipykernel forked from a template.
    Any other command, or a template that refused, starts the ordinary way."""

    async def launch_kernel(self, cmd, **kwargs):
        arguments = ipykernel_arguments(cmd)
        env = dict(kwargs.get("env") or os.environ)
        if not kwargs.get("independent"):  # as jupyter_client's launcher does
            env["JPY_PARENT_PID"] = str(os.getpid())
        with open(os.devnull, "r+b") as devnull:
            fds = _fds(kwargs, devnull.fileno())
            usable = arguments is not None and fds is not None and possible()
            # a template is started only for a kernel it can serve
            template = template_for(env) if usable else None
            if template is None:
                return await super().launch_kernel(cmd, **kwargs)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                pid = template.fork(arguments, env, cwd, fds)
            except (OSError, ValueError, KeyError):  # the template has gone
                return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedProcess(pid)
        self.pid = self.pgid = pid
        self.cwd = cwd
        return self.connection_info


NAME = "labs-forked"
# what a kernel spec's metadata says to be started by this provisioner
METADATA = {"kernel_provisioner": {"provisioner_name": NAME}}


def register() -> None:
    """Let jupyter_client find the provisioner by its name (entry points are read from
    installed packages' metadata; this file is not in one)."""
    from importlib.metadata import EntryPoint

    from jupyter_client.provisioning import KernelProvisionerFactory

    KernelProvisionerFactory.instance().provisioners[NAME] = EntryPoint(
        name=NAME,
        value="tests.forked_kernels:ForkedKernelProvisioner",
        group="jupyter_client.kernel_provisioners",
    )


def use_for_nbval() -> None:
    """Make nbval start its kernels (``--nbval-current-env``) with the provisioner above."""
    import nbval.kernel

    register()
    manager = nbval.kernel.NbvalKernelspecManager
    ordinary = manager.get_kernel_spec

    def get_kernel_spec(self, kernel_name):
        spec = ordinary(self, kernel_name)
        spec.metadata = {**spec.metadata, **METADATA}
        return spec

    manager.get_kernel_spec = get_kernel_spec


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2:])
