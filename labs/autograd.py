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
  paths;
* every array kept for backward (``ctx.save_for_backward``) is stamped with the
  *version* of its memory, which every in-place change bumps; a backward pass that
  finds a saved array changed raises PyTorch's error instead of returning a wrong
  gradient.

One deliberate difference from PyTorch: inside ``forward`` and ``backward`` you hold
plain numpy arrays, not tensors. That is where numpy does the arithmetic, and it keeps
every op's forward and backward short enough to read on one screen. The one exception
is ``create_graph=True`` (a gradient that is itself differentiable, for second
derivatives): then the ops that declare ``supports_double_backward`` run their backward
on tensors, so that it is recorded like any other computation.
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
import weakref

import numpy as np

from labs.grad_mode import (
    _GradMode,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Function",
    "FunctionCtx",
    "AccumulateGrad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "backward",
    "grad",
    "sum_to",
]


_INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created "
    "in inference mode in computation tracked by autograd. To work around this, you can "
    "make a clone to get a normal tensor and use it in autograd, or use "
    "`labs.no_grad()` instead of `labs.inference_mode()`."
)


# --------------------------------------------------------------------------------------
# Versions: a counter per block of memory, bumped by every in-place change
# --------------------------------------------------------------------------------------

_versions: dict[int, int] = {}  # id(the array that owns the memory) -> version


def _storage(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (``array`` itself if it owns it).

    Views (slices, reshapes, ``detach()``) share their owner, and so their version.
    """
    while True:
        base = getattr(array, "base", None)
        if isinstance(base, np.ndarray):
            array = base
        elif isinstance(getattr(base, "base", None), np.ndarray):  # as_strided wrapper
            array = base.base
        else:
            return array


def version(array) -> int:
    """How many in-place changes the memory under ``array`` has seen."""
    if not isinstance(array, np.ndarray):
        return 0
    return _versions.get(id(_storage(array)), 0)


def bump_version(array: np.ndarray) -> None:
    """Record an in-place change to ``array``'s memory (PyTorch's version
    counter)."""
    owner = _storage(array)
    key = id(owner)
    if key not in _versions:
        _versions[key] = 0
        # forget the counter when the memory is freed
        weakref.finalize(owner, _versions.pop, key, None)
    _versions[key] += 1


def _describe(array) -> str:
    return f"[labs {np.dtype(array.dtype).name} Tensor [{', '.join(map(str, array.shape))}]]"


class SavedTensor:
    """An array kept for backward: where it came from, and its version at the time.

    ``origin`` is the input tensor it is the data of, or the index of the output it
    is, or None for an array made inside ``forward`` (nobody else can change those).
    """

    __slots__ = ("value", "version", "origin")

    def __init__(self, value, origin):
        self.value = value
        self.version = version(value)
        self.origin = origin

    def unpack(self, node):
        if isinstance(self.value, np.ndarray) and version(self.value) != self.version:
            which = ""
            if isinstance(self.origin, int):
                which = f", which is output {self.origin} of {node.name()},"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: {_describe(self.value)}{which} is at version "
                f"{version(self.value)}; expected version {self.version} instead."
            )
        if not _BackwardMode.create_graph or not isinstance(self.value, np.ndarray):
            return self.value
        return _as_graph_tensor(self, node)


def _as_graph_tensor(saved: SavedTensor, node):
    """For ``create_graph``: the saved array as a tensor connected to the graph."""
    from labs.tensor import Tensor

    if isinstance(saved.origin, Tensor):
        return saved.origin
    tensor = Tensor._make(saved.value)
    if isinstance(saved.origin, int):  # an output of this very node
        tensor.grad_fn, tensor._output_nr = node, saved.origin
        tensor._requires_grad = True
    return tensor


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

_hook_ids = itertools.count()


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: dict):
        self.id = next(_hook_ids)
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


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
        self._saved: tuple = ()
        self._freed = False
        self._non_differentiable: list = []
        self._materialize_grads = True
        self._outputs_meta: list = []  # (shape, dtype) of each output
        self._retained: dict = {}  # output index -> weak ref to a tensor that retains grad
        self._hooks: dict = {}  # output index -> {hook id: hook} from register_hook

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for ``backward``; read them back from :attr:`saved_tensors`."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """The arrays given to :meth:`save_for_backward`; freed after a backward pass.

        Raises if one of them was changed in place since it was saved.
        """
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        return tuple(
            s.unpack(self) if isinstance(s, SavedTensor) else s for s in self._saved
        )

    def mark_non_differentiable(self, *arrays) -> None:
        """Declare outputs (by identity) that have no gradient, such as argmax indices."""
        self._non_differentiable.extend(id(a) for a in arrays)

    def set_materialize_grads(self, value: bool) -> None:
        """If False, ``backward`` receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)

    def apply(self, *grad_outputs):
        """Run the Function's ``backward`` with this node as ``ctx``."""
        return self._function.backward(self, *grad_outputs)

    def _pack(self, inputs, outputs) -> None:
        """Stamp every saved array with its origin and its current version."""
        from labs.tensor import Tensor

        packed = []
        for value in self._saved:
            origin = next(
                (t for t in inputs if isinstance(t, Tensor) and t.data is value), None
            )
            if origin is None:
                origin = next((i for i, o in enumerate(outputs) if o is value), None)
            elif origin._inference:
                raise RuntimeError(_INFERENCE_SAVED)
            packed.append(SavedTensor(value, origin))
        self._saved = tuple(packed)

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

    Set ``supports_double_backward = True`` on a Function whose ``backward`` is written
    only with operations that also work on tensors (``+``, ``*``, ``@``, ``sum_to``,
    ``.reshape``, ...): with ``create_graph=True`` it then receives tensors, and its
    backward is recorded so that it can be differentiated again.
    """

    supports_double_backward = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(
            f"{cls.__name__}Backward", (FunctionCtx,), {"_function": cls}
        )

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must implement a static forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "Function subclasses must implement a static backward"
        )

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
            ctx._pack(args, outputs)
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
# Gradients and broadcasting
# --------------------------------------------------------------------------------------


def sum_to(grad, shape: tuple):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape``
    up to ``grad.shape``.

    Leading axes that broadcasting added are summed away; axes where
    ``shape`` has size 1 are summed with ``keepdims``:
    ``sum_to(np.ones((2, 3)), (3,))`` is ``[2., 2., 2.]``. Works on numpy
    arrays and on labs tensors alike.
    """
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    ones = [i for i, n in enumerate(shape) if n == 1]  # size 1 in shape,
    axes = tuple(i for i in ones if grad.shape[i] != 1)  # not in grad
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _shape_list(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _expandable(shape, target) -> bool:
    """Whether ``shape`` broadcasts to ``target`` (the test PyTorch applies to gradients)."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


def _input_meta(node, index):
    """Shape and dtype of the tensor behind ``node.next_functions[index]``."""
    child, nr = node.next_functions[index]
    if isinstance(child, AccumulateGrad):
        return child.variable.shape, child.variable.dtype
    return child._outputs_meta[nr]


def _checked(node, index, grad):
    """The gradient a node returned for input ``index``, with that input's shape and dtype."""
    shape, dtype = _input_meta(node, index)
    if not _BackwardMode.create_graph:
        grad = np.asarray(grad)
    if grad.shape != tuple(shape):
        if not _expandable(tuple(shape), grad.shape):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - "
                f"got {_shape_list(grad.shape)} but expected shape compatible with "
                f"{_shape_list(shape)}"
            )
        grad = sum_to(grad, shape)
    if grad.dtype != dtype:
        grad = grad.astype(dtype) if isinstance(grad, np.ndarray) else grad.to(dtype)
    return grad


# --------------------------------------------------------------------------------------
# The backward pass
# --------------------------------------------------------------------------------------


class _BackwardMode:
    """Set while a backward pass runs with ``create_graph=True``."""

    create_graph = False


def _topological_order(roots):
    """Nodes reachable from ``roots``, each after every node that feeds
    gradients into it.

    An iterative depth-first search: a recursive one would overflow Python's
    stack on a long chain of operations.
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


def _add_to_buffer(buffers, node, nr, gradient):
    slots = buffers.get(id(node))
    if slots is None:
        leaf = isinstance(node, AccumulateGrad)
        count = 1 if leaf else len(node._outputs_meta)
        slots = buffers[id(node)] = [None] * count
    # Never add in place: the array may be shared with another buffer or
    # with the caller.
    slots[nr] = gradient if slots[nr] is None else slots[nr] + gradient


def _node_of(tensor) -> Node:
    return tensor.grad_fn if tensor.grad_fn is not None else tensor._grad_accumulator()


@contextlib.contextmanager
def _backward_mode(create_graph: bool):
    """Record the backward computations only when ``create_graph`` asks for it."""
    outer, _BackwardMode.create_graph = _BackwardMode.create_graph, create_graph
    try:
        with set_grad_enabled(create_graph), np.errstate(all="ignore"):
            yield
    finally:
        _BackwardMode.create_graph = outer


def _run_backward(roots, retain_graph, create_graph=False, capture=None):
    """Propagate gradients from ``roots``, (tensor, gradient) pairs.

    Without ``capture`` the gradients reaching leaves are accumulated into
    their ``.grad``. With ``capture``, a dict keyed by (node, output index),
    the total gradient reaching each key is stored there instead and no
    ``.grad`` is touched: that is :func:`grad`.
    """
    buffers = {}  # id(node) -> one gradient slot per output of the node
    for tensor, gradient in roots:
        node = _node_of(tensor)
        _add_to_buffer(buffers, node, tensor._output_nr, gradient)
    with _backward_mode(create_graph):
        for node in _topological_order([_node_of(t) for t, _ in roots]):
            grads = buffers.pop(id(node), None)
            if grads is None:  # no gradient reached this node
                continue
            grads = _apply_hooks(node, grads, capture)
            if isinstance(node, AccumulateGrad):  # a leaf: to its .grad
                if capture is None:
                    node.variable._accumulate(grads[0])
                continue
            input_grads = _call_backward(node, grads)
            for (child, nr), g in zip(node.next_functions, input_grads):
                if child is not None and g is not None:
                    _add_to_buffer(buffers, child, nr, g)
            if not retain_graph:
                node._free()  # drop what it saved: the graph is used up


def _apply_hooks(node, grads, capture):
    """Run the tensors' hooks on a node's gradients, then keep what is asked to be kept."""
    from labs.tensor import Tensor

    hooks = node.variable._hooks if isinstance(node, AccumulateGrad) else node._hooks
    for nr in range(len(grads)):
        table = hooks if isinstance(node, AccumulateGrad) else hooks.get(nr, {})
        for hook in list(table.values()):
            if grads[nr] is None:
                break
            g = grads[nr]
            as_tensor = g if isinstance(g, Tensor) else Tensor._make(g)
            new = hook(as_tensor)
            if new is not None:
                grads[nr] = new if _BackwardMode.create_graph else np.asarray(new.data)
        if capture is not None and (id(node), nr) in capture and grads[nr] is not None:
            capture[(id(node), nr)] = grads[nr]
        retained = node._retained.get(nr) if isinstance(node, FunctionCtx) else None
        tensor = retained() if retained is not None else None
        if capture is None and tensor is not None and grads[nr] is not None:
            tensor._accumulate(grads[nr])
    return grads


def _call_backward(node, grads):
    """Call a node's backward on its output gradients; one checked gradient per input."""
    if _BackwardMode.create_graph and not node._function.supports_double_backward:
        raise RuntimeError(
            f"labs cannot differentiate the backward pass of {node.name()} "
            "(create_graph=True): its backward works on numpy arrays"
        )
    if node._materialize_grads:
        grads = [
            g if g is not None else _zeros(shape, dtype)
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
    return [
        None if g is None or child is None else _checked(node, index, g)
        for index, ((child, _), g) in enumerate(zip(node.next_functions, input_grads))
    ]


def _zeros(shape, dtype):
    from labs.tensor import Tensor

    zeros = np.zeros(shape, dtype)
    return Tensor._make(zeros) if _BackwardMode.create_graph else zeros


def _as_tuple(value):
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,)


def _prepare_roots(outputs, grad_outputs, create_graph):
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
            raise TypeError(
                f"expected a labs.Tensor as output {index}, got {type(out).__name__}"
            )
        if not out.requires_grad:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out.data.size != 1:  # PyTorch's rule: exactly one element
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs"
                )
            g = np.ones(out.shape, out.dtype)
        elif not (create_graph and isinstance(g, Tensor)):
            g = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=out.dtype)
        if g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{index}] has a shape of "
                f"{_shape_list(g.shape)} and output[{index}] has a shape of "
                f"{_shape_list(out.shape)}."
            )
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._make(g)
        roots.append((out, g))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate into each leaf's ``.grad`` the gradient of ``tensors``
    (``torch.autograd.backward``).

    ``grad_tensors`` holds the vector v of the vector-Jacobian product v^T J, one per
    output; it may be omitted only for outputs with a single element. With
    ``create_graph=True`` the gradients are themselves recorded (the ``.grad`` tensors
    have a ``grad_fn``), so that they can be differentiated again.
    """
    if retain_graph is None:
        retain_graph = create_graph
    roots = _prepare_roots(tensors, grad_tensors, create_graph)
    if create_graph:
        warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between "
            "the parameter and its gradient which can cause a memory leak. We recommend "
            "using autograd.grad when creating the graph to avoid this. If you have to use "
            "this function, make sure to reset the .grad fields of your parameters to None "
            "after use to break the cycle and avoid the leak.",
            UserWarning,
            stacklevel=3,
        )
    _run_backward(roots, bool(retain_graph), bool(create_graph))


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=False,
):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (``torch.autograd.grad``).

    Unlike :func:`backward`, nothing is accumulated into ``.grad``. With
    ``create_graph=True`` the returned gradients are recorded and can be differentiated
    again (a Hessian-vector product is ``grad`` of ``grad``).
    """
    from labs.tensor import Tensor

    inputs = _as_tuple(inputs)
    capture = {}
    keys = []
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors does not require grad (input {index})"
            )
        # One call: a leaf's AccumulateGrad node is only weakly held by the leaf, so a
        # second call could make a new node, at another address, than the one keyed.
        node = _node_of(tensor)
        key = (id(node), tensor._output_nr)
        capture[key] = None
        keys.append((key, node))  # keep the node alive while we run
    if retain_graph is None:
        retain_graph = create_graph
    roots = _prepare_roots(outputs, grad_outputs, create_graph)
    _run_backward(roots, bool(retain_graph), bool(create_graph), capture=capture)
    results = []
    for key, _ in keys:
        if capture[key] is None and not allow_unused:
            raise RuntimeError(
                "One of the differentiated Tensors appears to not have been used in the "
                "graph. Set allow_unused=True if this is the desired behavior."
            )
        value = capture[key]
        results.append(
            value if value is None or isinstance(value, Tensor) else Tensor._make(value)
        )
    return tuple(results)
