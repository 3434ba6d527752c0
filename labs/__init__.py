"""labs: a from-scratch numpy engine for the course *Convolutions and Autograd from Scratch*.

One import line gives what the chapters use::

    import labs
    import labs.functional as F
    from labs import check

The public API mirrors PyTorch (``labs.tensor``, ``Tensor.backward``, ``labs.no_grad``,
``labs.autograd.Function``, ``labs.functional.conv2d``, ...), so every result can be
compared with ``torch`` by making the same call. ``labs`` itself never imports torch;
only :mod:`labs.check` does, to use it as the oracle. The test suite runs PyTorch's own
test samples (its OpInfo database) through every op labs has.

What is where:

* the engine the chapters teach from: ``tensor.py`` (the Tensor), ``autograd.py``
  (Function, the graph, the backward pass, version counters), ``grad_mode.py``
  (no_grad and friends), ``ops.py`` (elementwise ops, reductions, shapes, indexing),
  ``functional.py`` (convolutions, padding, pooling, losses; also
  ``labs.nn.functional``, as in PyTorch), ``shapes.py`` (every size
  formula), ``nn.py`` and ``optim.py`` (layers and optimizers);
* the plain specification: ``reference.py``, convolution and pooling as Python loops,
  which the fast kernels must agree with;
* performance only: ``kernels.py`` (im2col and matrix products, the fast path behind
  ``functional``) and ``_memory.py`` (asks glibc to keep freed memory; opt out with
  ``LABS_KEEP_FREED_MEMORY=0``). Neither changes a result, only how fast it comes.
  Inside ``functional.py``, the ``Linear`` Function is performance only too: one graph
  node for what ``input @ weight.t() + bias`` computes in three;
* ``viz.py`` (figures and animations), ``capstone.py`` (chapter 9's data and loop),
  ``notebook.py`` (helpers the chapters share), ``check/`` (the checkers).

What labs deliberately leaves out of PyTorch's API (each is refused with an error, never
silently wrong): ``out=`` arguments; devices and memory formats (``memory_format`` is
accepted and ignored); complex and half-precision dtypes; differentiating *through* an
in-place operation (PyTorch records ``y += 1`` on a tensor that requires grad; labs
raises and asks for ``y = y + 1``); second derivatives (``create_graph=True``) through
ops whose backward works on numpy arrays (convolutions, pooling, padding, indexing,
losses), which raise by name.
"""

import numpy as _np

from labs import _memory

_memory.keep_freed_memory()  # reuse freed pages: see labs/_memory.py

from labs import autograd, functional, kernels, nn, ops, optim, reference, shapes
from labs.autograd import (
    Function,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from labs.nn import manual_seed
from labs.ops import (
    abs,
    argmax,
    cat,
    clamp,
    clip,
    clone,
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
    minimum,
    mm,
    permute,
    relu,
    reshape,
    rsub,
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
    "Tensor",
    "tensor",
    "from_numpy",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "Function",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "manual_seed",
    "float32",
    "float64",
    "int64",
    "bool",
    "abs",
    "argmax",
    "cat",
    "clamp",
    "clip",
    "clone",
    "cos",
    "exp",
    "flatten",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mm",
    "permute",
    "relu",
    "reshape",
    "rsub",
    "sigmoid",
    "sin",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "where",
    "autograd",
    "functional",
    "kernels",
    "nn",
    "ops",
    "optim",
    "reference",
    "shapes",
]
