"""Checkers for chapter 6: a predicted ``x.grad``, and a vector-Jacobian product.

``predicted_grad`` runs a short torch program given by the exercise and compares the
``x.grad`` it leaves with the learner's prediction, written down without running the
program. To explain a wrong prediction it watches the program's backward passes (a
``TorchFunctionMode`` hooks every recorded node that feeds ``x``), so that it knows how
much each backward call and each use of ``x`` contributed. A prediction that leaves out
a backward call, a use of ``x``, or a reset of ``.grad`` is then named as such.

``vjp`` compares the learner's vector-Jacobian product ``vᵀJ`` with
``torch.autograd.grad(f(x), x, v)`` on seeded random ``x`` and ``v``. Wrong answers are
compared with what the usual mistakes give on the same case: ``J v`` (the Jacobian
transposed), ``1ᵀJ`` (``v`` left out), the whole Jacobian, ``v`` times the gradient of
``y.sum()`` elementwise.

Both compute in float64 where they choose the numbers, and neither touches numpy's or
torch's global random state.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from labs.check._compare import (
    compare_values,
    constant_factor,
    factor_hint,
    none_mismatch,
)
from labs.check._core import (
    ATOL,
    RTOL,
    Case,
    Cases,
    Exercise,
    Impossible,
    Mismatch,
    Mistake,
    NotAttempted,
    check,
    exception_mismatch,
)
from labs.check._result import Result
from labs.check._text import TINY, array_text, shape_text, type_phrase
from labs.check.autograd import _EXERCISE_PROBLEM, _as_array, _named

__all__ = ["predicted_grad", "vjp"]


# --- predicted_grad -------------------------------------------------------------------


def predicted_grad(
    prediction, program: Callable, *, raise_on_failure: bool = False
) -> Result:
    """Check a prediction of the ``x.grad`` that a short torch program leaves behind.

    ``program()`` is given by the exercise: it creates a leaf tensor ``x`` with
    ``requires_grad=True``, runs some torch code on it (one or several backward calls,
    perhaps resetting ``x.grad`` in between) and returns ``x``. The learner reads the
    program, works out ``x.grad`` by hand and writes ``prediction()``, a function with
    no arguments returning the prediction: a list of numbers, a numpy array, a torch
    tensor, or a number when ``x`` has a single element. (The prediction itself may also
    be passed instead of a function.)

    The checker runs ``program()`` once and compares ``x.grad`` with the prediction:
    shape first (``x.grad`` has the shape of ``x``), then the values, within
    ``1e-8 + 1e-6·|expected|``. A wrong verdict says which elements are wrong but does
    not print the true gradient: run the program to see it. The hints recognise a
    prediction that has the wrong sign, counts only some of the backward calls, ignores
    a reset of ``x.grad``, counts only some of the uses of ``x`` (fan-out), or is ``x``
    itself.
    """
    name = "predicted_grad"
    if _named(program):
        name = f"predicted x.grad of {program.__name__}"
    trace = []  # the program's trace, once the case is prepared

    def validate(value) -> Mismatch | None:
        if callable(program):
            return None
        return Mismatch(
            f"cannot check: the program is {type_phrase(program)}, not a function.",
            hint="pass the program itself (the function that returns x), without "
            "calling it.",
        )

    def prepare(case: Case) -> None:
        if not trace:
            trace.append(_trace(program))
            case.info["expected"] = trace[0].grad

    def answer(learner, case: Case):
        value = prediction
        if callable(prediction):
            value = learner.call(case, role="your prediction")
        return _prediction_array(value)

    exercise = Exercise(
        name,
        [Case(headline="wrong prediction.")],
        lambda got, case: _compare_prediction(got, trace[0]),
        mistakes=lambda case, got: _prediction_mistakes(got, trace[0]),
        answer=answer,
        prepare=prepare,
        validate=validate,
        passed=lambda count: "your prediction is right.",
        role="your prediction",
    )
    return check(exercise, prediction, raise_on_failure=raise_on_failure)


class _Path:
    """The gradient one use of ``x`` sent to ``x`` in one backward call."""

    def __init__(self, node, index: int, grad: np.ndarray):
        self.node, self.index, self.grad = node, index, grad


class _Call:
    """One backward call that reached ``x``: its total and the paths it came along."""

    def __init__(self, total: np.ndarray, paths: list[_Path]):
        self.total, self.paths = total, paths


class _Trace:
    """What ``program()`` did to ``x``: its value, its final ``.grad``, the calls."""

    def __init__(self, x: np.ndarray, grad: np.ndarray, calls: list[_Call]):
        self.x, self.grad, self.calls = x, grad, calls


class _Spy(TorchFunctionMode):
    """Hook every recorded node that feeds a leaf, as the program creates it.

    A node's hook receives the gradient for each of its inputs separately: one entry per
    edge into the leaf's ``AccumulateGrad`` node, i.e. one per use of the leaf. The
    pre-hook of ``AccumulateGrad`` receives their sum once per backward call.
    """

    def __init__(self):
        super().__init__()
        # ("path", leaf node, _Path) or ("call", leaf node, total), in order
        self.events: list = []
        self._seen: set = set()  # ids of the nodes already hooked
        self._alive: list = []  # keeps those nodes alive, so that no id is reused

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        outputs = result if isinstance(result, (tuple, list)) else (result,)
        for out in outputs:
            if not isinstance(out, torch.Tensor):
                continue
            node = out.grad_fn
            if node is not None and id(node) not in self._seen:
                self._seen.add(id(node))
                self._alive.append(node)
                self._watch(node)
        return result

    def _watch(self, node) -> None:
        for index, (child, _) in enumerate(node.next_functions):
            if child is None or type(child).__name__ != "AccumulateGrad":
                continue
            if id(child) not in self._seen:
                self._seen.add(id(child))
                self._alive.append(child)
                child.register_prehook(self._call_hook(child))
            node.register_hook(self._path_hook(node, index, child))

    def _call_hook(self, leaf):
        def hook(grad_outputs):
            self.events.append(("call", leaf, _numpy(grad_outputs[0])))

        return hook

    def _path_hook(self, node, index: int, leaf):
        def hook(grad_inputs, grad_outputs):
            grad = grad_inputs[index]
            if grad is not None:
                self.events.append(("path", leaf, _Path(node, index, _numpy(grad))))

        return hook


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(torch.float64).numpy().copy()


def _trace(program: Callable) -> _Trace:
    """Run the program under the spy; a broken program is the exercise's problem."""
    spy = _Spy()
    try:
        with torch.enable_grad(), spy:  # as in a fresh cell, even inside no_grad
            x = program()
    except Exception as error:
        raise exception_mismatch(error, "the program", _EXERCISE_PROBLEM) from None
    if not isinstance(x, torch.Tensor):
        raise Mismatch(
            f"cannot check: the program returned {type_phrase(x)}, not the tensor x.",
            hint=_EXERCISE_PROBLEM,
        )
    if x.grad is None:
        raise Mismatch(
            "cannot check: after the program, x.grad is None (no backward call reached "
            "x).",
            hint=_EXERCISE_PROBLEM,
        )
    calls, paths = [], []
    leaf = x.grad_fn is None and x.requires_grad
    for kind, node, payload in spy.events:
        if not leaf or getattr(node, "variable", None) is not x:
            continue
        if kind == "path":
            paths.append(payload)
        else:
            calls.append(_Call(payload, paths))
            paths = []
    return _Trace(_numpy(x), _numpy(x.grad), calls)


def _prediction_array(answer) -> np.ndarray:
    """The prediction as a float64 array; lists of numbers are welcome here."""
    if answer is None:
        raise none_mismatch("your prediction")
    if answer is Ellipsis:
        raise NotAttempted()
    if isinstance(answer, (list, tuple)):
        try:
            array = np.asarray(answer, dtype=np.float64)
        except (TypeError, ValueError):
            raise Mismatch(
                "your prediction is a list that is not a grid of numbers.",
                hint="write it like x: e.g. [1.0, 2.0] for a vector, [[1.0, 2.0], "
                "[3.0, 4.0]] for a 2×2 matrix.",
            ) from None
        return array
    return _as_array(answer, "prediction")


def _compare_prediction(got: np.ndarray, trace: _Trace) -> None:
    """Shape, finiteness, values; the true gradient is not shown in the verdict."""
    expected = trace.grad
    if got.shape != expected.shape:
        raise Mismatch(
            "your prediction has the wrong shape.",
            details=[
                ("expected", f"shape {shape_text(expected.shape)}, the shape of x"),
                ("got", f"shape {shape_text(got.shape)}"),
            ],
            hint="x.grad always has the shape of x: one number per element of x.",
            expected=expected,
            got=got,
        )
    if not np.isfinite(got).all():
        raise Mismatch("your prediction contains NaN or inf.", got=got)
    close = np.isclose(got, expected, rtol=RTOL, atol=ATOL)
    if close.all():
        return
    wrong = [tuple(int(i) for i in index) for index in np.argwhere(~close)]
    where = ", ".join(_element(index) for index in wrong[:8])
    if len(wrong) > 8:
        where += ", …"
    raise Mismatch(
        f"your prediction is wrong at {len(wrong)} of {got.size} elements.",
        details=[
            ("wrong at", where),
            ("got", array_text(got) if got.size <= TINY else shape_text(got.shape)),
            ("see", "run the program and print x.grad to see the true gradient."),
        ],
        expected=expected,
        got=got,
        diagnosable=True,
    )


def _element(index: tuple) -> str:
    return f"x.grad[{', '.join(map(str, index))}]" if index else "x.grad"


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def _prediction_mistakes(got: np.ndarray, trace: _Trace) -> list[Mistake]:
    """The mistakes a prediction can make, most specific first, each with the
    gradient it predicts (a program is one case: the gradient is all there is)."""
    expected = trace.grad
    candidates = [
        (
            "wrong-sign",
            -expected,
            "wrong sign: your prediction is the negative of x.grad everywhere.",
        ),
        *_call_mistakes(trace),
        *_path_mistakes(trace),
        (
            "value-of-x",
            trace.x,
            "your prediction is the value of x. x.grad holds the derivative of what "
            "backward was called on with respect to each element of x.",
        ),
    ]
    factor = constant_factor([(expected, got)], least=2)  # one number: no factor
    if factor is not None:
        candidates.append(
            ("factor", factor * expected, factor_hint(factor, "prediction"))
        )
    return [
        Mistake(name, hint, lambda case, value=value: value)
        for name, value, hint in candidates
    ]


def _counted(trace: _Trace) -> list[_Call] | None:
    """The backward calls whose totals add up to x.grad: those after the last reset."""
    for start in range(len(trace.calls)):
        calls = trace.calls[start:]
        if _close(sum(c.total for c in calls), trace.grad):
            return calls
    return None


def _call_mistakes(trace: _Trace):
    """(name, prediction, hint) of predictions that count the wrong backward calls."""
    counted = _counted(trace)
    if counted is None:
        return
    everything = sum(c.total for c in trace.calls)
    if len(counted) < len(trace.calls):
        yield (
            "every-call",
            everything,
            (
                "your prediction adds up every backward call, but x.grad was reset (with "
                "x.grad.zero_() or x.grad = None) in between: only the calls after the "
                "last reset count."
            ),
        )
        erased = trace.calls[: len(trace.calls) - len(counted)]
        yield (
            "before-reset",
            sum(c.total for c in erased),
            (
                "your prediction is what x.grad held before it was reset. x.grad.zero_() "
                "(or x.grad = None) erases it: only the backward calls after the last "
                "reset count."
            ),
        )
    if len(counted) >= 2:
        number = len(counted)
        yield (
            "last-call-only",
            counted[-1].total,
            (
                f"your prediction counts only the last of the {number} backward calls that "
                "add up in x.grad. Each backward call *adds* its gradient to x.grad: "
                "nothing is overwritten until you reset it (x.grad.zero_() or x.grad = "
                "None)."
            ),
        )
        yield (
            "first-call-only",
            counted[0].total,
            (
                f"your prediction counts only the first of the {number} backward calls "
                "that add up in x.grad. Each later call adds its gradient to x.grad as "
                "well."
            ),
        )


def _path_mistakes(trace: _Trace):
    """(name, prediction, hint) of predictions that leave out some uses of x."""
    counted = _counted(trace)
    if not counted:
        return
    others = [c.total for c in counted]
    for position, call in enumerate(counted):
        uses = len(call.paths)
        if not 2 <= uses <= 6:
            continue
        rest = sum(others[:position] + others[position + 1 :], 0 * call.total)
        for size in range(1, uses):
            for kept in itertools.combinations(range(uses), size):
                partial = sum(call.paths[i].grad for i in kept)
                if len(counted) > 1 and _same_structure(counted):
                    candidate = sum(sum(c.paths[i].grad for i in kept) for c in counted)
                else:
                    candidate = rest + partial
                yield f"uses-{position}-{kept}", candidate, _fan_out_hint(call, kept)


def _same_structure(calls: list[_Call]) -> bool:
    first = calls[0].paths
    return all(
        len(c.paths) == len(first)
        and all(
            p.node.name() == q.node.name() and p.index == q.index
            for p, q in zip(c.paths, first)
        )
        for c in calls
    )


def _fan_out_hint(call: _Call, kept: tuple) -> str:
    uses = len(call.paths)
    hint = (
        f"x is used {uses} times on the way to the output, so gradient reaches x along "
        f"{uses} paths, and x.grad is the sum of all of them. Your prediction counts "
        f"only {len(kept)} of the {uses}."
    )
    missing = [call.paths[i] for i in range(uses) if i not in kept]
    kept_nodes = {id(call.paths[i].node) for i in kept}
    if any(id(p.node) in kept_nodes for p in missing):
        hint += (
            " An operation whose two inputs are both x, like x * x, counts twice: "
            "d(x·x)/dx = x + x = 2x."
        )
    return hint


# --- vjp ------------------------------------------------------------------------------


def vjp(
    f: Callable,
    vjp_fn: Callable,
    *,
    shape=(4,),
    low: float = -2.0,
    high: float = 2.0,
    cases: int = 10,
    raise_on_failure: bool = False,
) -> Result:
    """Check a hand-written vector-Jacobian product ``vᵀJ`` against ``torch.autograd``.

    ``f(x)`` is given by the exercise: a function of one float64 tensor of shape
    ``shape``, written with torch operations, returning a tensor ``y`` (of any shape).
    Its Jacobian ``J`` has one row per output and one column per input,
    ``J[i, j] = ∂y_i/∂x_j`` (elements of ``y`` and ``x`` counted in row-major order).
    The learner writes ``vjp_fn(x, v)``, with ``v`` of the shape of ``y``, returning
    ``vᵀJ``: the gradient ``y.backward(v)`` would put in ``x.grad``, of the shape of
    ``x``, with ``(vᵀJ)_j = Σ_i v_i ∂y_i/∂x_j``. It receives detached float64 tensors
    and may return a torch tensor or a numpy array.

    Cases: ``cases`` pairs of ``x`` (uniform in ``[low, high]``) and ``v`` (standard
    normal), seeded. The expected answer is ``torch.autograd.grad(f(x), x, v)``.
    """
    name = f"vjp of {f.__name__}" if _named(f) else "vjp"
    shape = _shape(shape)
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")

    def generate():
        rng = np.random.default_rng(2006)
        while True:
            x = torch.from_numpy(rng.uniform(low, high, size=shape))
            expected, v = _true_vjp(f, x, rng)
            yield Case([("x", x), ("v", v)], expected=expected, f=f)

    exercise = Exercise(
        name,
        lambda: Cases(cases, generate),
        _compare_vjp,
        mistakes=_vjp_mistakes,
        describe=_vjp_facts,
        explain_error=lambda case, error: _explain_vjp_error(error),
    )
    return check(exercise, vjp_fn, raise_on_failure=raise_on_failure)


def _compare_vjp(answer, case: Case) -> None:
    expected = case.expected
    if answer is None:
        raise none_mismatch()
    got = _as_array(answer, "vector-Jacobian product")
    if got.ndim == 0 and expected.ndim > 0:
        raise Mismatch(
            f"your answer is a single number; vᵀJ has the shape of x, "
            f"{shape_text(expected.shape)}.",
            hint="vᵀJ has one entry per element of x: Σ_i v_i ∂y_i/∂x_j for each j.",
        )
    compare_values(got, expected, what="vector-Jacobian product", label="vjp")


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    if not all(isinstance(n, numbers.Integral) and n >= 0 for n in shape):
        raise ValueError(f"shape must be a tuple of sizes, got {shape!r}")
    return tuple(int(n) for n in shape)


def _evaluate(f: Callable, x: torch.Tensor):
    """f at a leaf copy of x; a broken f is the exercise's problem."""
    leaf = x.clone().requires_grad_()
    try:
        with torch.enable_grad():
            y = f(leaf)
    except NotImplementedError as error:
        raise NotAttempted(error, where="f") from None
    except Exception as error:
        raise exception_mismatch(error, "the function f", _EXERCISE_PROBLEM) from None
    if not isinstance(y, torch.Tensor):
        raise Mismatch(
            f"cannot check: f returned {type_phrase(y)}, not a torch tensor.",
            hint=f"f must be computed with torch operations; {_EXERCISE_PROBLEM}",
        )
    if not y.requires_grad:
        raise Mismatch(
            "cannot check: f's result does not depend on x through torch operations.",
            hint=_EXERCISE_PROBLEM,
        )
    return leaf, y


def _true_vjp(f: Callable, x: torch.Tensor, rng: np.random.Generator):
    """torch.autograd's vᵀJ at x, for a v drawn from ``rng`` in the shape of f(x)."""
    leaf, y = _evaluate(f, x)
    v = torch.from_numpy(rng.standard_normal(tuple(y.shape)))
    v = v.to(y.dtype)
    (grad,) = torch.autograd.grad(y, leaf, v, allow_unused=True)
    expected = np.zeros(x.shape) if grad is None else _numpy(grad)
    return expected, v


def _jacobian(f: Callable, x: torch.Tensor) -> np.ndarray:
    """J as an (outputs, inputs) matrix, built one row at a time by reverse mode."""
    leaf, y = _evaluate(f, x)
    rows = []
    for i in range(y.numel()):
        onehot = torch.zeros(y.numel(), dtype=y.dtype)
        onehot[i] = 1
        (row,) = torch.autograd.grad(
            y, leaf, onehot.reshape(y.shape), retain_graph=True, allow_unused=True
        )
        rows.append(np.zeros(x.numel()) if row is None else _numpy(row).ravel())
    return np.array(rows).reshape(y.numel(), x.numel())


def _jacobian_of(case: Case) -> np.ndarray:
    """J at the case's x, computed once per case."""
    if "jacobian" not in case.info:
        case.info["jacobian"] = _jacobian(case.info["f"], case["x"])
    return case.info["jacobian"]


def _square(case: Case) -> np.ndarray:
    """J, when it is square (as many outputs as inputs); else the mistake is moot."""
    jacobian = _jacobian_of(case)
    if jacobian.shape[0] != jacobian.shape[1]:
        raise Impossible("J is not square")
    return jacobian


def _flat_v(case: Case) -> np.ndarray:
    return case["v"].numpy().ravel()


def _in_shape_of_x(function: Callable) -> Callable:
    return lambda case: np.reshape(function(case), tuple(case["x"].shape))


def _vjp_mistakes(case: Case, answer) -> list[Mistake]:
    def whole_jacobian(case: Case) -> str:
        outputs, inputs = _jacobian_of(case).shape
        return (
            f"you returned the whole Jacobian ({outputs}×{inputs}). The VJP is one "
            "vector of the shape of x: the rows of J weighted by v and added, v @ J."
        )

    mistakes = [
        Mistake("whole-jacobian", whole_jacobian, _jacobian_of),
        Mistake(
            "whole-jacobian-transposed",
            whole_jacobian,
            lambda case: _jacobian_of(case).T,
        ),
        Mistake(
            "wrong-sign",
            "wrong sign: your answer is the negative of vᵀJ everywhere.",
            lambda case: -case.expected,
        ),
        Mistake(
            "jacobian-vector-product",
            "your answer is J v, the Jacobian-vector product: you used the Jacobian "
            "transposed. vᵀJ sums over the outputs, (vᵀJ)_j = Σ_i v_i ∂y_i/∂x_j: in "
            "matrix form v @ J (or Jᵀ v).",
            _in_shape_of_x(lambda case: _square(case) @ _flat_v(case)),
        ),
        Mistake(
            "v-left-out",
            "your answer is 1ᵀJ, the gradient of y.sum(): v is missing. Weight the row "
            "of each output y_i by v_i before adding the rows up.",
            _in_shape_of_x(
                lambda case: np.ones(_jacobian_of(case).shape[0]) @ _jacobian_of(case)
            ),
        ),
        Mistake(
            "diagonal-only",
            "you used only the diagonal of J, ∂y_i/∂x_i, as if each output depended on "
            "its own input alone. Here y_i depends on every x_j: (vᵀJ)_j = "
            "Σ_i v_i ∂y_i/∂x_j adds a term for every output.",
            _in_shape_of_x(lambda case: _flat_v(case) * np.diag(_square(case))),
        ),
        Mistake(
            "v-times-gradient-of-sum",
            "you multiplied v elementwise with the gradient of y.sum(). That is right "
            "only for an elementwise function, whose Jacobian is diagonal; here each "
            "output depends on several inputs, so vᵀJ = v @ J.",
            _in_shape_of_x(
                lambda case: (
                    _flat_v(case) * (np.ones(_square(case).shape[0]) @ _square(case))
                )
            ),
        ),
    ]
    factor = constant_factor([(case.expected, _as_array(answer, "answer"))])
    if factor is not None:
        mistakes.append(
            Mistake(
                "factor",
                factor_hint(factor, "vector-Jacobian product"),
                lambda other: factor * other.expected,
            )
        )
    return mistakes


def _vjp_facts(case: Case, answer, wrong: Mismatch) -> str | None:
    """A wrong answer with the shape of v, the output, when that differs from x's;
    or zero everywhere."""
    outputs, inputs = _jacobian_of(case).shape
    got = _as_array(answer, "answer")
    if got.size and not np.any(got):
        return "your answer is 0 everywhere, while vᵀJ is not."
    if got.size == outputs and outputs != inputs:
        return (
            f"your answer has the shape of v, the output ({outputs} elements). vᵀJ has "
            f"one entry per element of x ({inputs})."
        )
    return None


def _explain_vjp_error(error: Exception) -> str | None:
    text = str(error)
    shapes = (
        "size mismatch",
        "must match the size",
        "cannot be multiplied",
        "could not be broadcast",
        "mismatch in its core dimension",
        "inconsistent tensor size",
        "Dimension out of range",
    )
    if any(s in text for s in shapes):
        return (
            "v has the shape of the output y and J the shape (outputs, inputs), so vᵀJ "
            "is v @ J (a vector of the shape of x). Check the side you multiply from "
            "and the shapes of the intermediate results."
        )
    return None
