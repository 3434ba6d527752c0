"""The grader's helper inside a student's kernel. Its source is sent to the kernel as text.

It runs in the student's process, so nothing it reports is trusted beyond what the
student controls anyway: the answers of the student's own functions. It never imports
the checkers. For each request the grader sends the arguments (a pickle made by the
grader: trusted data going into the sandbox); the helper calls the student's
function and writes back a JSON description of the answer made only of plain values,
lists and base64 array buffers (:func:`encode`), which the grader decodes without ever
unpickling or evaluating anything that came from the kernel (``codec.decode``).
Requests and answers travel over a Unix socket in the submission's directory
(:func:`serve`); a checker call run inside the kernel writes its verdict to a file
(:func:`run_check`).
"""

import base64
import builtins
import contextlib
import json
import pickle

MAX_BYTES = 64 * 2**20  # an answer larger than this is not transferred
MAX_DEPTH = 32
MAX_ITEMS = 200_000


class _TooBig(Exception):
    pass


def encode(value, budget=None, depth=0):
    """A JSON-able description of ``value``: plain data, or an opaque placeholder."""
    import numpy as np

    torch = _torch()
    if budget is None:
        budget = [MAX_BYTES, MAX_ITEMS]
    budget[1] -= 1
    if budget[1] < 0 or depth > MAX_DEPTH:
        raise _TooBig("the answer is nested too deeply or has too many items")
    if value is None or type(value) in (bool, int):
        return value
    if type(value) is float:
        finite = value == value and abs(value) != float("inf")
        return value if finite else {"t": "float", "v": builtins.repr(value)}
    if type(value) is str:
        budget[0] -= len(value)
        if budget[0] < 0:
            raise _TooBig("the answer is too large")
        return {"t": "str", "v": value}
    if type(value) in (list, tuple):
        return {
            "t": type(value).__name__,
            "v": [encode(v, budget, depth + 1) for v in value],
        }
    if type(value) is dict:
        return {
            "t": "dict",
            "v": [
                [encode(k, budget, depth + 1), encode(v, budget, depth + 1)]
                for k, v in value.items()
            ],
        }
    if torch is not None and type(value) is torch.Size:
        return {"t": "size", "v": [int(v) for v in value]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        return _array("ndarray", value, budget)
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return _array("npscalar", np.asarray(value), budget)
    if (
        torch is not None
        and isinstance(value, torch.Tensor)
        and value.layout == torch.strided
    ):
        try:
            data = value.detach().cpu().resolve_conj().resolve_neg().numpy()
        except Exception:
            data = None
        if data is not None:
            out = _array("tensor", data, budget)
            out["torch_dtype"] = str(value.dtype).replace("torch.", "")
            out["requires_grad"] = bool(value.requires_grad)
            return out
    kind = type(value)
    try:
        text = builtins.repr(value)[:300]
    except BaseException:
        text = "?"
    return {
        "t": "opaque",
        "type": str(getattr(kind, "__qualname__", "object")),
        "module": str(getattr(kind, "__module__", "")),
        "repr": text,
    }


def _array(tag, array, budget):
    import numpy as np

    array = np.array(
        array, order="C", copy=True
    )  # ascontiguousarray would make 0-d 1-d
    budget[0] -= array.nbytes
    if budget[0] < 0:
        raise _TooBig("the answer is too large")
    return {
        "t": tag,
        "dtype": array.dtype.str,
        "shape": list(array.shape),
        "data": base64.b64encode(array.tobytes()).decode("ascii"),
    }


def _torch():
    import sys

    return sys.modules.get("torch")


def _error(error):
    kind = type(error)
    try:
        message = str(error)
    except BaseException:
        message = ""
    return {
        "type": str(getattr(kind, "__name__", "Exception")),
        "module": str(getattr(kind, "__module__", "")),
        "message": message[:2000],
        "exit": isinstance(error, (SystemExit, KeyboardInterrupt, GeneratorExit)),
        "where": _where(error),
    }


def _where(error):
    """[function, line number, line] of the innermost frame of the student's code."""
    import linecache
    import os
    import sys
    import sysconfig

    libraries = [
        os.path.dirname(os.path.dirname(m.__file__))
        if name == "labs"
        else os.path.dirname(m.__file__)
        for name, m in (
            ("numpy", sys.modules.get("numpy")),
            ("torch", sys.modules.get("torch")),
            ("labs", sys.modules.get("labs")),
        )
        if m is not None and getattr(m, "__file__", None)
    ]
    libraries += [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    libraries = tuple(os.path.join(d, "") for d in libraries)
    found, traceback = None, error.__traceback__
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if (
            code.co_filename != "labs_grader"
            and not code.co_filename.startswith("<frozen")
            and not os.path.abspath(code.co_filename).startswith(libraries)
        ):
            found = traceback
        traceback = traceback.tb_next
    if found is None:
        return None
    code = found.tb_frame.f_code
    return [
        code.co_name,
        found.tb_lineno,
        linecache.getline(code.co_filename, found.tb_lineno).strip(),
    ]


def _describe(namespace, name):
    import inspect

    if name not in namespace:
        return {"kind": "missing"}
    value = namespace[name]
    if not callable(value):
        try:
            return {"kind": "value", "value": encode(value)}
        except _TooBig as error:
            return {
                "kind": "value",
                "value": {
                    "t": "opaque",
                    "type": type(value).__name__,
                    "module": "",
                    "repr": str(error),
                },
            }
    parameters = []
    try:
        for parameter in inspect.signature(value).parameters.values():
            default = (
                None
                if parameter.default is parameter.empty
                else builtins.repr(parameter.default)[:100]
            )
            parameters.append([parameter.name, int(parameter.kind), default])
        signature = True
    except (TypeError, ValueError):
        signature = False
    is_class = isinstance(value, type)
    return {
        "kind": "callable",
        "signature": signature,
        "parameters": parameters,
        "class": is_class,
        "name": str(getattr(value, "__name__", name)),
    }


def serve(namespace, path):
    """Answer the grader's requests, one JSON line each, over a Unix socket at ``path``.

    Runs in the kernel's main thread, so the grader's interrupt (its time limit) stops
    the student's function with KeyboardInterrupt, which becomes that call's answer.
    """
    import socket

    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    reader = connection.makefile("rb")
    try:
        while True:
            line = reader.readline()
            if not line:
                return
            request = json.loads(line)
            if request.get("op") == "stop":
                return
            try:
                if request.get("op") == "describe":
                    answer = _describe(namespace, request["name"])
                else:
                    answer = _call(namespace, request["name"], request["arguments"])
            except BaseException as error:
                answer = {"error": _error(error), "changed": []}
            connection.sendall((json.dumps(answer) + "\n").encode())
    finally:
        reader.close()
        connection.close()


def _call(namespace, name, arguments):
    """Call the student's function on the (base64, pickled) arguments; describe the answer."""
    import numpy as np

    torch = _torch()
    positional, keywords = pickle.loads(base64.b64decode(arguments))
    arguments = list(positional) + list(keywords.values())
    before = [_copy(a, np, torch) for a in arguments]
    try:
        function = namespace[name]
        answer = {"answer": encode(function(*positional, **keywords))}
    except _TooBig as error:
        answer = {
            "error": {
                "type": "ValueError",
                "module": "builtins",
                "message": f"the grader could not transfer your function's answer: {error}",
                "exit": False,
            }
        }
    except (
        BaseException
    ) as error:  # the student's exception, whatever it is, is the answer
        answer = {"error": _error(error)}
    changed = []
    for index, (now, then) in enumerate(zip(arguments, before)):
        if then is not None and not _same(now, then, np, torch):
            with contextlib.suppress(_TooBig):
                changed.append([index, encode(now)])
    answer["changed"] = changed
    return answer


def _copy(value, np, torch):
    if isinstance(value, np.ndarray):
        return value.copy()
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().clone()
    return None


def _same(now, then, np, torch):
    try:
        if isinstance(then, np.ndarray):
            return (
                isinstance(now, np.ndarray)
                and now.shape == then.shape
                and np.array_equal(now, then, equal_nan=True)
            )
        if not isinstance(now, torch.Tensor) or now.shape != then.shape:
            return False
        return bool(
            torch.equal(now.detach(), then)
            or torch.allclose(now.detach(), then, rtol=0, atol=0, equal_nan=True)
        )
    except Exception:
        return False


def run_check(namespace, expression, answer_path):
    """In-kernel mode: evaluate a checker call here and write its verdict's fields."""
    try:
        result = eval(expression, namespace)
        answer = {
            "status": result.status,
            "name": result.name,
            "cases": result.cases,
            "total": result.total,
            "message": result.message,
        }
    except BaseException as error:
        answer = {"error": _error(error)}
    with open(answer_path, "w") as file:
        json.dump(answer, file)
