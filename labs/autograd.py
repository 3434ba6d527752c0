"""The autograd machinery: ``Function``, the recorded graph, and the backward pass.

Chapter 7 ("Build an autograd engine") walks through this file. The design follows
``torch.autograd`` closely:

* every differentiable operation is a subclass of :class:`Function` with a static
  ``forward(ctx, ...)`` and a static ``backward(ctx, *grad_outputs)``;
* calling ``MyFunction.apply(...)`` runs ``forward`` and, when a gradient will be
  needed, records a *node* in the graph. The node is also the ``ctx`` object that
  ``forward`` received, exactly as in PyTorch, and it becomes the ``grad_fn`` of
  the outputs;
* :func:`backward` sorts the nodes reachable from the outputs topologically (with
  an explicit stack, so a chain of 100,000 operations is fine), calls each node's
  ``backward`` once, and *adds* the gradients that reach a tensor along different
  paths.

One deliberate difference from PyTorch: inside ``forward`` and ``backward`` you hold
plain numpy arrays, not tensors. That is where numpy does the arithmetic, and it keeps
every op's forward and backward short enough to read on one screen.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "Function",
    "FunctionCtx",
    "AccumulateGrad",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "backward",
    "grad",
]


class _GradMode:
    """Whether operations record a graph. Read with :func:`is_grad_enabled`."""

    enabled = True


def is_grad_enabled() -> bool:
    """Return True when new operations are recorded for backward (``torch.is_grad_enabled``)."""
    return _GradMode.enabled


class _SetGradMode:
    """Context manager and decorator that sets gradient recording on or off."""

    mode = True

    def __enter__(self):
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        _GradMode.enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_SetGradMode):
    """Disable graph recording inside a ``with`` block or a decorated function.

    Like ``torch.no_grad()``: results computed inside have ``requires_grad=False``
    and no ``grad_fn``, so nothing is kept for a backward pass.
    """

    mode = False


class enable_grad(_SetGradMode):
    """Re-enable graph recording inside a ``no_grad`` block (``torch.enable_grad``)."""

    mode = True


# --------------------------------------------------------------------------------------
# Graph nodes
# --------------------------------------------------------------------------------------

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)


class Node:
    """A vertex of the backward graph: something that turns output grads into input grads."""

    next_functions: tuple = ()

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad(Node):
    """The node behind a leaf tensor: it adds the incoming gradient to ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable


class FunctionCtx(Node):
    """The ``ctx`` handed to ``forward`` and ``backward``; after forward it is the ``grad_fn``.

    Subclassed once per :class:`Function` as ``<FunctionName>Backward`` so that a
    result prints as ``grad_fn=<MulBackward>``, the way PyTorch names its nodes.
    """

    _function: type  # the Function subclass this node belongs to

    def __init__(self):
        self.needs_input_grad: tuple = ()
        self.next_functions = ()
        self._saved = ()
        self._freed = False
        self._non_differentiable: list = []
        self._materialize_grads = True
        self._outputs_meta: list = []  # (shape, dtype) of each output
        self._retained: dict = {}  # output index -> tensor that called retain_grad()

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for ``backward``; read them back from :attr:`saved_tensors`."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """The arrays given to :meth:`save_for_backward`; freed after a backward pass."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        return self._saved

    def mark_non_differentiable(self, *arrays) -> None:
        """Declare outputs (by identity) that have no gradient, such as argmax indices."""
        self._non_differentiable.extend(id(a) for a in arrays)

    def set_materialize_grads(self, value: bool) -> None:
        """If False, ``backward`` receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)

    def apply(self, *grad_outputs):
        """Run the Function's ``backward`` with this node as ``ctx``."""
        return self._function.backward(self, *grad_outputs)

    def _free(self) -> None:
        self._saved = ()
        self._freed = True


class Function:
    """Base class for differentiable operations, shaped like ``torch.autograd.Function``.

    Subclass it with two static methods and call ``.apply``::

        class Square(Function):
            @staticmethod
            def forward(ctx, x):              # x is a numpy array
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad_output):   # one gradient per output
                (x,) = ctx.saved_tensors
                return 2 * x * grad_output    # one gradient per input

        y = Square.apply(labs.tensor([3.0], requires_grad=True))

    ``forward`` receives the positional arguments of ``apply`` with every
    :class:`~labs.Tensor` replaced by its numpy array, and returns an array or a
    tuple of arrays. ``backward`` receives one array per output and returns one
    gradient per input of ``forward`` (``None`` for inputs that are not tensors or
    need no gradient).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(f"{cls.__name__}Backward", (FunctionCtx,), {"_function": cls})

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must implement a static forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function subclasses must implement a static backward")

    @classmethod
    def apply(cls, *args):
        from labs.tensor import Tensor

        ctx = cls._backward_cls()
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx.needs_input_grad = needs
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        with no_grad(), np.errstate(all="ignore"):
            raw = cls.forward(ctx, *arrays)
        is_tuple = isinstance(raw, tuple)
        returned = raw if is_tuple else (raw,)
        outputs = [o if isinstance(o, np.ndarray) else np.asarray(o) for o in returned]
        record = _GradMode.enabled and any(needs)
        results = []
        for index, (array, original) in enumerate(zip(outputs, returned)):
            out = Tensor._make(array)
            differentiable = (
                array.dtype.kind == "f" and id(original) not in ctx._non_differentiable
            )
            if record and differentiable:
                out.grad_fn = ctx
                out._output_nr = index
                out._requires_grad = True
            results.append(out)
        if record:
            ctx.next_functions = tuple(_edge(a) for a in args)
            ctx._outputs_meta = [(a.shape, a.dtype) for a in outputs]
        else:
            ctx._free()
        return tuple(results) if is_tuple else results[0]


def _edge(value):
    """The (node, output index) that gradients for ``value`` flow into."""
    from labs.tensor import Tensor

    if not isinstance(value, Tensor) or not value.requires_grad:
        return (None, 0)
    if value.grad_fn is not None:
        return (value.grad_fn, value._output_nr)
    return (value._grad_accumulator(), 0)


# --------------------------------------------------------------------------------------
# The backward pass
# --------------------------------------------------------------------------------------


def _topological_order(roots):
    """Nodes reachable from ``roots``, each after every node that feeds gradients into it.

    An iterative depth-first search: a recursive one would overflow Python's stack on
    a long chain of operations.
    """
    order, visited = [], set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, children = stack[-1]
            for child, _ in children:
                if child is not None and id(child) not in visited:
                    visited.add(id(child))
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _shape_list(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _sum_to(array, shape):
    """Sum ``array`` over the axes along which ``shape`` was broadcast to reach it."""
    extra = array.ndim - len(shape)
    if extra > 0:
        array = array.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and array.shape[i] != 1)
    if axes:
        array = array.sum(axis=axes, keepdims=True)
    return array


def _expandable(shape, target) -> bool:
    """Whether ``shape`` broadcasts to ``target`` (the test PyTorch applies to gradients)."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


def _validate_gradient(node, index, grad, shape, dtype):
    grad = np.asarray(grad)
    if grad.shape != tuple(shape):
        if not _expandable(tuple(shape), grad.shape):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - "
                f"got {_shape_list(grad.shape)} but expected shape compatible with "
                f"{_shape_list(shape)}"
            )
        grad = _sum_to(grad, shape)
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


def _input_meta(node, index):
    """Shape and dtype of the tensor behind ``node.next_functions[index]``."""
    child, nr = node.next_functions[index]
    if isinstance(child, AccumulateGrad):
        return child.variable.shape, child.variable.dtype
    return child._outputs_meta[nr]


def _run_backward(roots, retain_graph, capture=None):
    """Propagate gradients from ``roots``, a list of (tensor, gradient array) pairs.

    Without ``capture`` the gradients reaching leaves are accumulated into their
    ``.grad``. With ``capture`` (a dict keyed by (id(node), output index)), the total
    gradient reaching each key is stored there instead and no ``.grad`` is touched:
    that is :func:`grad`.
    """
    buffers: dict = {}  # id(node) -> list of gradient arrays, one per output of node
    nodes = []
    for tensor, gradient in roots:
        node = tensor.grad_fn if tensor.grad_fn is not None else tensor._grad_accumulator()
        _add_to_buffer(buffers, node, tensor._output_nr, gradient)
        nodes.append(node)

    with np.errstate(all="ignore"):
        for node in _topological_order(nodes):
            grads = buffers.pop(id(node), None)
            if grads is None:
                continue
            if capture is not None:
                for nr, g in enumerate(grads):
                    if g is not None and (id(node), nr) in capture:
                        capture[(id(node), nr)] = g
            if isinstance(node, AccumulateGrad):
                if capture is None:
                    node.variable._accumulate(grads[0])
                continue
            if capture is None:
                for nr, tensor in node._retained.items():
                    if grads[nr] is not None:
                        tensor._accumulate(grads[nr])
            if node._materialize_grads:
                grads = [
                    g if g is not None else np.zeros(shape, dtype)
                    for g, (shape, dtype) in zip(grads, node._outputs_meta)
                ]
            input_grads = node.apply(*grads)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(node.next_functions):
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {len(node.next_functions)}, got {len(input_grads)})"
                )
            for index, ((child, nr), g) in enumerate(zip(node.next_functions, input_grads)):
                if child is None or g is None:
                    continue
                shape, dtype = _input_meta(node, index)
                g = _validate_gradient(node, index, g, shape, dtype)
                _add_to_buffer(buffers, child, nr, g)
            if not retain_graph:
                node._free()


def _add_to_buffer(buffers, node, nr, gradient):
    slots = buffers.get(id(node))
    if slots is None:
        count = len(node._outputs_meta) if isinstance(node, FunctionCtx) else 1
        slots = buffers[id(node)] = [None] * count
    # Never add in place: the array may be shared with another buffer or with the caller.
    slots[nr] = gradient if slots[nr] is None else slots[nr] + gradient


def _as_tuple(value):
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,)


def _prepare_roots(outputs, grad_outputs):
    """Pair each output with its starting gradient, checking what PyTorch checks."""
    from labs.tensor import Tensor

    outputs = _as_tuple(outputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"got {len(grad_outputs)} gradients for {len(outputs)} outputs; "
            "pass one gradient per output"
        )
    roots = []
    for index, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"expected a labs.Tensor as output {index}, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out.data.size != 1:  # PyTorch's rule: exactly one element
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = np.ones(out.shape, out.dtype)
        else:
            g = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=out.dtype)
            if g.shape != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{index}] has a shape of "
                    f"{_shape_list(g.shape)} and output[{index}] has a shape of "
                    f"{_shape_list(out.shape)}."
                )
        roots.append((out, g))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None) -> None:
    """Accumulate into each leaf's ``.grad`` the gradient of ``tensors`` (``torch.autograd.backward``).

    ``grad_tensors`` holds the vector v of the vector-Jacobian product v^T J, one per
    output; it may be omitted only for outputs with a single element.
    """
    _run_backward(_prepare_roots(tensors, grad_tensors), retain_graph=bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, allow_unused=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (``torch.autograd.grad``).

    Unlike :func:`backward`, nothing is accumulated into ``.grad``.
    """
    inputs = _as_tuple(inputs)
    capture = {}
    keys = []
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors does not require grad (input {index})"
            )
        node = tensor.grad_fn if tensor.grad_fn is not None else tensor._grad_accumulator()
        key = (id(node), tensor._output_nr)
        capture[key] = None
        keys.append(key)
    _run_backward(_prepare_roots(outputs, grad_outputs), bool(retain_graph), capture=capture)
    from labs.tensor import Tensor

    results = []
    for key in keys:
        if capture[key] is None and not allow_unused:
            raise RuntimeError(
                "One of the differentiated Tensors appears to not have been used in the "
                "graph. Set allow_unused=True if this is the desired behavior."
            )
        results.append(None if capture[key] is None else Tensor._make(capture[key]))
    return tuple(results)

