"""``labs.Tensor``: a numpy array that remembers how it was made.

The public surface mirrors ``torch.Tensor`` (``data``, ``grad``, ``requires_grad``,
``grad_fn``, ``is_leaf``, ``backward``, ``detach``, ``numpy``, the arithmetic
operators and the usual methods), so that every result can be compared with PyTorch
by calling it with the same arguments. Chapter 7 walks through it.

Differences from PyTorch worth knowing:

* ``.data`` is the underlying ``numpy.ndarray`` (PyTorch returns a tensor);
* ``.dtype`` is a numpy dtype (``numpy.float32``, ``numpy.float64``, ...);
* in-place operations are not differentiable: on a tensor that requires grad they
  raise an error (PyTorch records them). They are allowed where nothing is recorded
  (under ``no_grad``, on tensors outside any graph, e.g. the parameter update
  ``w -= lr * w.grad``), and, as in PyTorch, every in-place change bumps the version of
  the tensor's memory (shared with its views and ``detach()``): a backward pass that
  needs an array changed since it was saved raises instead of returning a wrong
  gradient. Writing into ``.data`` or ``.numpy()`` directly bypasses that check, as
  ``.data`` does in PyTorch.
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from labs import autograd
from labs.autograd import AccumulateGrad, RemovableHandle
from labs.autograd import backward as _backward

__all__ = ["Tensor", "tensor", "zeros", "ones", "zeros_like", "ones_like", "from_numpy"]


def _default_dtype(array: np.ndarray) -> np.ndarray:
    """Python floats become float32 and Python ints int64, as in ``torch.tensor``."""
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype.kind in "iu" and array.dtype != np.int64:
        return array.astype(np.int64)
    return array


def _to_array(data, dtype=None) -> np.ndarray:
    if isinstance(data, Tensor):
        array = np.array(data.data, dtype=dtype, copy=True)
    elif isinstance(data, np.ndarray):
        array = np.array(data, dtype=dtype, copy=True)
    else:
        array = np.array(data, dtype=dtype)
        if dtype is None:
            array = _default_dtype(array)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(
            f"labs.tensor needs numbers (bool, int or float); got an array of dtype {array.dtype}"
        )
    return array


class Tensor:
    """An n-dimensional array with optional gradient tracking (like ``torch.Tensor``).

    Args:
        data: a numpy array (wrapped as is, without a copy: the tensor shares its
            memory) or nested lists of numbers (Python floats become float32, ints
            int64, as in PyTorch). :func:`labs.tensor` always copies.
        requires_grad: record operations on this tensor so that ``backward`` can fill
            its ``.grad``. Only floating-point tensors can require gradients.
    """

    # Make ``ndarray + Tensor`` call ``Tensor.__radd__`` instead of numpy broadcasting.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        self.data = data if isinstance(data, np.ndarray) else _to_array(data)
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        self._accumulator = None
        self._hooks = {}
        self._inference = autograd._GradMode.inference
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, array: np.ndarray) -> Tensor:
        """Wrap an array produced inside the engine, skipping the public checks."""
        out = cls.__new__(cls)
        out.data = array
        out._grad = None
        out.grad_fn = None
        out._output_nr = 0
        out._requires_grad = False
        out._accumulator = None
        out._hooks = {}
        out._inference = autograd._GradMode.inference
        return out

    # ---- gradient bookkeeping --------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return
        if value and self.data.dtype.kind != "f":
            raise RuntimeError(
                "only Tensors of floating point dtype can require gradients, "
                f"but this tensor has dtype {self.data.dtype}"
            )
        if value and self._inference and not autograd.is_inference_mode_enabled():
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is "
                "not allowed."
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return ``self``."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by a recorded operation."""
        return self.grad_fn is None

    @property
    def grad(self):
        """The accumulated gradient (a leaf's, or a non-leaf's after ``retain_grad()``)."""
        if self.grad_fn is not None and not self.retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being "
                "accessed. Its .grad attribute won't be populated during "
                "autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        self._grad = value

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (``torch.Tensor._version``)."""
        return autograd.version(self.data)

    def is_inference(self) -> bool:
        """Whether the tensor was created under :class:`labs.inference_mode`."""
        return self._inference

    def _grad_accumulator(self) -> AccumulateGrad:
        node = self._accumulator() if self._accumulator is not None else None
        if node is None:
            node = AccumulateGrad(self)
            self._accumulator = weakref.ref(node)
        return node

    def _accumulate(self, gradient) -> None:
        if isinstance(gradient, Tensor):  # create_graph=True: keep its graph
            old = self._grad
            self._grad = gradient if old is None else old + gradient
        elif self._grad is None:
            copy = np.array(gradient, dtype=self.dtype, copy=True)
            self._grad = Tensor._make(copy)
        else:
            self._grad.data += gradient
            autograd.bump_version(self._grad.data)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        if self.grad_fn is None:
            return False
        retained = self.grad_fn._retained.get(self._output_nr)
        return retained is not None and retained() is self

    def retain_grad(self) -> None:
        """Keep the gradient of a non-leaf tensor in its ``.grad`` after ``backward``."""
        if not self.requires_grad:
            raise RuntimeError(
                "can't retain_grad on Tensor that has requires_grad=False"
            )
        if self.grad_fn is not None:
            self.grad_fn._retained[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` whenever the gradient with respect to this tensor is computed.

        The hook receives the gradient as a tensor and may return a replacement (or None
        to keep it). For a leaf it runs before the gradient is added to ``.grad``. Returns
        a handle whose ``remove()`` unregisters the hook (``torch.Tensor.register_hook``).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        hooks = (
            self._hooks
            if self.grad_fn is None
            else self.grad_fn._hooks.setdefault(self._output_nr, {})
        )
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def backward(self, gradient=None, retain_graph=None, create_graph=False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        A tensor with one element needs no ``gradient``. For any other tensor pass the
        vector v of the vector-Jacobian product (same shape as ``self``); without it
        PyTorch, and labs, raise "grad can be implicitly created only for scalar outputs".
        Gradients *add up*: call ``zero_()`` on ``.grad`` or set it to None between steps.
        ``create_graph=True`` records the backward pass too (for second derivatives).
        """
        _backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def detach(self) -> Tensor:
        """A tensor sharing the same data, cut from the graph (``requires_grad=False``)."""
        return Tensor._make(self.data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self, memory_format=None) -> Tensor:
        """A copy with its own memory; gradients flow back to ``self`` (``torch.clone``)."""
        return ops.clone(self)

    def _check_inplace(self, other=None) -> None:
        """Refuse an in-place change that autograd would need to record."""
        other_requires = isinstance(other, Tensor) and other.requires_grad
        if autograd.is_grad_enabled() and (self.requires_grad or other_requires):
            if self.requires_grad and self.is_leaf:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place "
                    "operation."
                )
            raise RuntimeError(
                "labs does not differentiate through in-place operations; write "
                "y = y - z instead of y -= z, or update under labs.no_grad()"
            )
        if self._inference and not autograd.is_inference_mode_enabled():
            raise RuntimeError(
                "Inplace update to inference tensor outside InferenceMode is not allowed. "
                "You can make a clone to get a normal tensor before doing inplace update."
            )

    def _write(self, index, values) -> Tensor:
        """Store ``values`` into ``self.data[index]`` and bump the memory's version."""
        self.data[index] = values
        autograd.bump_version(self.data)
        return self

    def __setitem__(self, index, value) -> None:
        self._check_inplace(value)
        self._write(_index_array(index), _raw(value))

    def zero_(self) -> Tensor:
        """Fill with zeros in place (used as ``x.grad.zero_()``)."""
        self._check_inplace()
        return self._write(Ellipsis, 0)

    def fill_(self, value) -> Tensor:
        self._check_inplace(value)
        return self._write(Ellipsis, _raw(value))

    def copy_(self, source) -> Tensor:
        """Copy ``source`` (broadcast to this shape) into this tensor's memory."""
        self._check_inplace(source)
        return self._write(Ellipsis, np.broadcast_to(_raw(source), self.shape))

    # ---- array-like properties -------------------------------------------------------

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None):
        """The shape, or the size of one dimension (``torch.Tensor.size``)."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), as ``torch.Tensor.numpy``."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self.data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and dtype != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.dtype not in (np.float32, np.int64):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__

    # ---- arithmetic (each a Function in labs.ops) --------------------------------------

    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __neg__(self):
        return ops.neg(self)

    # In place: allowed where PyTorch allows it without autograd (under no_grad, or on
    # tensors outside any graph), e.g. the parameter update ``w -= lr * w.grad``.
    def _inplace(self, other, operation):
        self._check_inplace(other)
        result = operation(self.data, _raw(other))
        if not np.can_cast(result.dtype, self.dtype, casting="same_kind"):
            raise RuntimeError(
                f"result type {result.dtype} can't be cast to the desired output type "
                f"{self.dtype}"
            )
        if np.broadcast_shapes(result.shape, self.shape) != self.shape:
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(result.shape, self.shape))}"
            )
        return self._write(Ellipsis, result)

    def __iadd__(self, other):
        return self._inplace(other, np.add)

    def __isub__(self, other):
        return self._inplace(other, np.subtract)

    def __imul__(self, other):
        return self._inplace(other, np.multiply)

    def __itruediv__(self, other):
        return self._inplace(other, np.true_divide)

    def add_(self, other, *, alpha=1):
        return self._inplace(other if alpha == 1 else _raw(other) * alpha, np.add)

    def sub_(self, other, *, alpha=1):
        return self._inplace(other if alpha == 1 else _raw(other) * alpha, np.subtract)

    def mul_(self, other):
        return self._inplace(other, np.multiply)

    def div_(self, other):
        return self._inplace(other, np.true_divide)

    def clamp_(self, min=None, max=None):
        self._check_inplace()
        return self._write(Ellipsis, np.clip(self.data, _raw(min), _raw(max)))

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __getitem__(self, index):
        return ops.index(self, index)

    # Comparisons give boolean tensors outside the graph, as in PyTorch.
    def __lt__(self, other):
        return Tensor._make(self.data < _raw(other))

    def __le__(self, other):
        return Tensor._make(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor._make(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor._make(self.data >= _raw(other))

    def __eq__(self, other):
        return Tensor._make(self.data == _raw(other))

    def __ne__(self, other):
        return Tensor._make(self.data != _raw(other))

    # ---- methods mirroring torch.Tensor ----------------------------------------------

    def add(self, other, *, alpha=1):
        return ops.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return ops.sub(self, other, alpha=alpha)

    def mul(self, other):
        return ops.mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return ops.div(self, other, rounding_mode=rounding_mode)

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    def where(self, condition, other):
        return ops.where(condition, self, other)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def neg(self):
        return ops.neg(self)

    def matmul(self, other):
        return ops.matmul(self, other)

    def exp(self):
        return ops.exp(self)

    def sin(self):
        return ops.sin(self)

    def cos(self):
        return ops.cos(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)

    def clamp(self, min=None, max=None):
        return ops.clamp(self, min, max)

    clip = clamp

    def sum(
        self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None
    ):
        """Sum over ``dim``; ``axis`` and ``keepdims`` are accepted too, as in PyTorch."""
        return ops.sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None):
        return ops.mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim: bool = False):
        return ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        return ops.min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False):
        return ops.argmax(self, dim, keepdim)

    def log_softmax(self, dim: int):
        return ops.log_softmax(self, dim)

    def softmax(self, dim: int):
        return ops.softmax(self, dim)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def view(self, *shape):
        return ops.reshape(self, *shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return ops.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim: int):
        return ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def expand(self, *sizes):
        return ops.expand(self, *sizes)

    def transpose(self, dim0: int, dim1: int):
        return ops.transpose(self, dim0, dim1)

    swapaxes = transpose

    def permute(self, *dims):
        return ops.permute(self, *dims)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return ops.transpose(self, 0, -1) if self.ndim == 2 else self

    @property
    def T(self):
        return ops.permute(self, *reversed(range(self.ndim)))

    def to(self, dtype):
        return ops.to_dtype(self, dtype)

    def type(self, dtype):
        return ops.to_dtype(self, dtype)

    # ``memory_format`` is accepted for PyTorch's signatures and ignored: a labs tensor
    # is a numpy array, with numpy's layout.
    def float(self, memory_format=None):
        return ops.to_dtype(self, np.float32)

    def double(self, memory_format=None):
        return ops.to_dtype(self, np.float64)

    def long(self, memory_format=None):
        return ops.to_dtype(self, np.int64)

    def int(self, memory_format=None):
        return ops.to_dtype(self, np.int32)

    def bool(self, memory_format=None):
        return ops.to_dtype(self, np.bool_)


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _index_array(index):
    """Replace tensors inside an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """Build a tensor from data, copying it (``torch.tensor``).

    Python floats become float32 and Python ints int64, as in PyTorch; a numpy array
    keeps its dtype.
    """
    return Tensor(_to_array(data, dtype), requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor(array)


def zeros(*size, dtype=np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (``torch.zeros``); default dtype float32."""
    return Tensor(np.zeros(_size(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size, dtype=np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (``torch.ones``); default dtype float32."""
    return Tensor(np.ones(_size(size), dtype=dtype), requires_grad=requires_grad)


def zeros_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return zeros(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def ones_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return ones(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(n) for n in size)


from labs import ops  # noqa: E402  (ops needs Tensor defined first)
