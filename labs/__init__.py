"""labs: a from-scratch numpy engine for the course *Convolutions and Autograd from Scratch*.

One import line gives what the chapters use::

    import labs
    import labs.functional as F
    from labs import check

The public API mirrors PyTorch (``labs.tensor``, ``Tensor.backward``, ``labs.no_grad``,
``labs.autograd.Function``, ``labs.functional.conv2d``, ...), so every result can be
compared with ``torch`` by making the same call. ``labs`` itself never imports torch;
only :mod:`labs.check` does, to use it as the oracle.
"""

import numpy as _np

from labs import _memory

_memory.keep_freed_memory()  # reuse freed pages: see labs/_memory.py

from labs import autograd, functional, kernels, nn, ops, optim, reference, shapes
from labs.autograd import Function, enable_grad, is_grad_enabled, no_grad
from labs.nn import manual_seed
from labs.ops import (
    abs,
    argmax,
    cat,
    clamp,
    cos,
    exp,
    flatten,
    log,
    log_softmax,
    matmul,
    max,
    maximum,
    mean,
    min,
    permute,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    sqrt,
    squeeze,
    stack,
    sum,
    tanh,
    transpose,
    unsqueeze,
    where,
)
from labs.tensor import Tensor, from_numpy, ones, ones_like, tensor, zeros, zeros_like

float32 = _np.dtype(_np.float32)
float64 = _np.dtype(_np.float64)
int64 = _np.dtype(_np.int64)
bool = _np.dtype(_np.bool_)

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "zeros_like", "ones_like",
    "Function", "no_grad", "enable_grad", "is_grad_enabled", "manual_seed",
    "float32", "float64", "int64", "bool",
    "abs", "argmax", "cat", "clamp", "cos", "exp", "flatten", "log", "log_softmax", "matmul",
    "max", "maximum", "mean", "min", "permute", "relu", "reshape", "sigmoid", "sin", "softmax",
    "sqrt", "squeeze", "stack", "sum", "tanh", "transpose", "unsqueeze", "where",
    "autograd", "functional", "kernels", "nn", "ops", "optim", "reference", "shapes",
]
