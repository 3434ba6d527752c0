"""Decoding what a student's kernel sends back, as data only.

The kernel's side (:mod:`kernel_side`) describes an answer with JSON: plain values,
lists, tuples, dicts, numpy arrays and torch tensors as dtype, shape and base64 bytes.
Here that description becomes Python objects again. Nothing is unpickled or evaluated,
dtypes come from a fixed list and sizes are checked, so a hostile kernel can at worst
send a wrong answer, never run code in the grader or change a verdict.
"""

from __future__ import annotations

import base64
import builtins
import linecache

import numpy as np
import torch

DTYPES = {
    np.dtype(t).str
    for t in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
}
TORCH_DTYPES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "bfloat16",
}
MAX_DEPTH = 40


class DecodeError(ValueError):
    """The kernel sent something that is not a description of an answer."""


class Opaque:
    """Stands for an answer the grader cannot transfer (an object other than data)."""

    def __init__(self, text: str):
        self._text = text

    def __repr__(self) -> str:
        return self._text


_OPAQUE_TYPES: dict[tuple[str, str], type] = {}


def _opaque(kind: str, module: str, text: str) -> Opaque:
    key = (kind, module)
    if key not in _OPAQUE_TYPES:
        name = (
            kind.rsplit(".", 1)[-1]
            if kind.replace(".", "").replace("_", "").isalnum()
            else "object"
        )
        _OPAQUE_TYPES[key] = type(name, (Opaque,), {"__module__": module or "student"})
    return _OPAQUE_TYPES[key](text)


def decode(value, depth: int = 0):
    if depth > MAX_DEPTH:
        raise DecodeError("too deep")
    if value is None or type(value) in (bool, int, float):
        return value
    if type(value) is not dict or type(value.get("t")) is not str:
        raise DecodeError(f"unexpected {type(value).__name__}")
    tag = value["t"]
    if tag == "float":
        text = value.get("v")
        if text not in ("nan", "inf", "-inf"):
            raise DecodeError("bad float")
        return float(text)
    if tag == "str":
        return _str(value.get("v"))
    if tag in ("list", "tuple"):
        items = [decode(v, depth + 1) for v in _list(value.get("v"))]
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        pairs = []
        for pair in _list(value.get("v")):
            if type(pair) is not list or len(pair) != 2:
                raise DecodeError("bad dict")
            pairs.append((decode(pair[0], depth + 1), decode(pair[1], depth + 1)))
        try:
            return dict(pairs)
        except TypeError:
            raise DecodeError("unhashable key") from None
    if tag == "size":
        return torch.Size([_int(v) for v in _list(value.get("v"))])
    if tag in ("ndarray", "npscalar", "tensor"):
        array = _array(value)
        if tag == "ndarray":
            return array
        if tag == "npscalar":
            if array.shape != ():
                raise DecodeError("bad scalar")
            return array[()]
        dtype = value.get("torch_dtype")
        if dtype not in TORCH_DTYPES:
            raise DecodeError("bad tensor dtype")
        tensor = torch.from_numpy(array.copy())
        if dtype == "bfloat16":
            tensor = tensor.to(torch.bfloat16)
        if value.get("requires_grad") is True and tensor.is_floating_point():
            tensor.requires_grad_()
        return tensor
    if tag == "opaque":
        return _opaque(
            _str(value.get("type")), _str(value.get("module")), _str(value.get("repr"))
        )
    raise DecodeError(f"unknown tag {tag[:20]!r}")


def _array(value) -> np.ndarray:
    dtype = value.get("dtype")
    if dtype not in DTYPES:
        raise DecodeError("bad dtype")
    shape = tuple(_int(n) for n in _list(value.get("shape")))
    if any(n < 0 for n in shape) or len(shape) > 32:
        raise DecodeError("bad shape")
    try:
        data = base64.b64decode(_str(value.get("data")), validate=True)
    except ValueError:
        raise DecodeError("bad data") from None
    dtype = np.dtype(dtype)
    if len(data) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise DecodeError("data does not match the shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _list(value) -> list:
    if type(value) is not list:
        raise DecodeError("expected a list")
    return value


def _str(value) -> str:
    if type(value) is not str:
        raise DecodeError("expected a string")
    return value


def _int(value) -> int:
    if type(value) is not int:
        raise DecodeError("expected an int")
    return value


# --- Exceptions -----------------------------------------------------------------------


class StudentStop(Exception):
    """The student's code tried to stop the process (sys.exit, KeyboardInterrupt)."""


_EXCEPTION_TYPES: dict[str, type] = {}


def exception(error: dict) -> Exception:
    """An exception like the one the student's code raised, made from its description.

    Built-in exception types are used as they are (so ``NotImplementedError`` still
    means "not attempted"); numpy's and torch's are looked up in the grader's own copies
    of those modules; any other type becomes a new exception class of the same name.
    """
    if type(error) is not dict:
        raise DecodeError("bad error")
    name, module, message = (
        _str(error.get("type")),
        _str(error.get("module")),
        _str(error.get("message")),
    )
    if error.get("exit") is True:
        what = {
            "SystemExit": "called sys.exit() (or exit())",
            "KeyboardInterrupt": "was interrupted",
        }
        return StudentStop(
            f"your code {what.get(name, 'raised ' + name)}{': ' + message if message else ''}"
        )
    kind = None
    if module == "builtins":
        kind = getattr(builtins, name, None)
    elif module.split(".")[0] in ("numpy", "torch") and name.isidentifier():
        import importlib
        import sys

        if module in sys.modules:
            kind = getattr(importlib.import_module(module), name, None)
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        safe = name if name.isidentifier() else "Error"
        if safe not in _EXCEPTION_TYPES:
            _EXCEPTION_TYPES[safe] = type(safe, (Exception,), {"__module__": "student"})
        kind = _EXCEPTION_TYPES[safe]
    try:
        return kind(message)
    except Exception:
        return Exception(message)


def raise_from_student(error: Exception, where) -> None:
    """Raise ``error`` from a frame that shows the student's line, as the checkers expect.

    A checker names the innermost frame of the learner's code in its verdict ("in
    conv1d, line 7: ..."). The exception was raised in the kernel; ``where`` is that
    frame's function name, line number and line. The error is raised again here from a
    tiny function of the same name, compiled so that its traceback shows that line.
    """
    if (
        type(where) is list
        and len(where) == 3
        and type(where[0]) is str
        and where[0].isidentifier()
        and type(where[1]) is int
        and 0 < where[1] < 1_000_000
        and type(where[2]) is str
    ):
        name, line, text = where
        filename = f"<your notebook: {name}>"
        lines = ["\n"] * (line - 1) + [text[:300].replace("\n", " ") + "\n"]
        linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
        source = "\n" * max(line - 2, 0) + f"def {name}(error):\n    raise error\n"
        if line == 1:
            source = f"def {name}(error): raise error\n"
        namespace: dict = {}
        exec(compile(source, filename, "exec"), namespace)
        namespace[name](error)
    raise error
