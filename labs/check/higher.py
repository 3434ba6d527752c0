"""Checkers for chapter 8's second part: a Hessian-vector product, and a Function's jvp.

``hvp`` compares the learner's ``hvp(f, x, v)`` with the Hessian of ``f`` built
explicitly (``torch.autograd.functional.hessian``) times ``v``, in float64, on seeded
functions and shapes given by the checker. Wrong answers are compared with what the
usual mistakes give on the same case: the gradient itself, ``v`` times the gradient,
``H 1`` (``v`` left out), the diagonal of ``H`` times ``v``, the whole Hessian. The
errors torch raises for a forgotten ``create_graph=True``, or for ``v`` used as the
upstream gradient of the first backward pass, get hints of their own. The last case is
larger (``x`` of 40 elements), and there the checker watches the tensors the learner's
function makes (a ``TorchFunctionMode``): one of ``n²`` elements is the whole Hessian,
which the exercise asks not to form.

``function_jvp`` checks the ``jvp`` static method of a learner's custom
``torch.autograd.Function`` against a torch reference: ``torch.func.jvp`` through the
Function on seeded inputs and tangents, then the same with dual numbers
(``torch.autograd.forward_ad``), then one backward pass, since the exercise edits the
``setup_context`` that ``backward`` relies on. A Function without ``jvp`` gets a
verdict saying so, not torch's ``NotImplementedError``.

Both run with gradients on, whatever the notebook left switched off (the runner's known
state), and neither touches the global random states.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable

import numpy as np
import torch
import torch.autograd.forward_ad as forward_ad
from torch.overrides import TorchFunctionMode

from labs.check._compare import (
    compare_values,
    constant_factor,
    factor_hint,
    none_mismatch,
)
from labs.check._core import (
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
from labs.check._text import shape_text, type_phrase
from labs.check.autograd import (
    _EXERCISE_PROBLEM,
    _as_array,
    _current_style,
    _forward_names,
    _not_a_function_class,
    _outputs,
    _shapes,
)

__all__ = ["hvp", "function_jvp"]


def _transforms_loaded() -> None:
    """Load what torch loads on a process's first forward-mode step and first
    ``torch.func.grad``, now and quietly.

    torch loads its forward-mode rules on the first ``make_dual`` (``torch.func.jvp``
    makes one), warning about a deprecation inside torch as it does, and imports more
    modules on the first ``torch.func.grad`` (about a second). Here, and not in the
    learner's first call, that time is not counted as the learner's (it would thin out
    the cases) and the warnings are not shown as printed by the learner's code.
    """
    with warnings.catch_warnings(), torch.inference_mode(False), torch.enable_grad():
        warnings.simplefilter("ignore")
        zero = torch.zeros(1, dtype=torch.float64)
        with forward_ad.dual_level():
            forward_ad.make_dual(zero, zero)
        torch.func.grad(lambda x: (x * x).sum())(zero)


# --- hvp ------------------------------------------------------------------------------


class _Shown:
    """A function of the checker's, shown in a verdict as the code that defines it."""

    def __init__(self, function: Callable, text: str):
        self.function, self.text = function, text

    def __call__(self, x):
        return self.function(x)

    def __repr__(self) -> str:
        return self.text


def _quartic(x):
    return (x**4).sum() / 4 + x[0] * x[1]


def _logsumexp(x):
    return torch.logsumexp(x, dim=0)


def _sin_roll(x):
    return (x.sin() * x.roll(1)).sum()


def _tanh_roll(x):
    return (x.tanh() * x.roll(1)).sum() + (x**4).sum() / 4


QUARTIC = _Shown(_quartic, "lambda x: (x**4).sum() / 4 + x[0] * x[1]")
LOGSUMEXP = _Shown(_logsumexp, "lambda x: torch.logsumexp(x, dim=0)")
SIN_ROLL = _Shown(_sin_roll, "lambda x: (x.sin() * x.roll(1)).sum()")
TANH_ROLL = _Shown(
    _tanh_roll, "lambda x: (x.tanh() * x.roll(1)).sum() + (x**4).sum() / 4"
)

# (f, shape of x, draws): the small cases, then one large enough to tell a Hessian
_HVP_CASES = [(QUARTIC, (3,), 2), (LOGSUMEXP, (5,), 2), (SIN_ROLL, (2, 3), 2)]
_LARGE = (TANH_ROLL, (40,))


def hvp(hvp_fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a Hessian-vector product computed by double backward.

    The learner writes ``hvp_fn(f, x, v)``: ``f`` is a scalar function of one float64
    tensor, written with torch operations (given by the checker); ``x`` and ``v`` are
    float64 tensors of the same shape, detached, ``x`` not requiring grad. It returns
    ``H v``, where ``H`` is the Hessian of ``f`` at ``x`` (``x`` flattened: ``H`` is
    ``n × n`` for ``n`` elements), in the shape of ``x``: a torch tensor or a numpy
    array. Chapter 8 ("Higher-order gradients") computes it as the gradient of
    ``(g * v).sum()``, where ``g`` is the gradient of ``f`` at ``x`` computed with
    ``create_graph=True``, without ever forming ``H``.

    Cases: three functions (of a vector, of a matrix), two seeded pairs ``x``, ``v``
    each, then a vector of 40 elements, where a tensor of ``40² = 1600`` elements made
    by the learner's function counts as forming the Hessian and fails. The expected
    answer is ``torch.autograd.functional.hessian(f, x)`` times ``v``.
    """

    _transforms_loaded()  # for a learner who uses torch.func

    def generate():
        rng = np.random.default_rng(2008)
        for f, shape, draws in _HVP_CASES:
            for _ in range(draws):
                yield _hvp_case(f, shape, rng)
        f, shape = _LARGE
        yield _hvp_case(f, shape, rng, watch=True)

    total = sum(draws for _, _, draws in _HVP_CASES) + 1
    exercise = Exercise(
        "hvp",
        lambda: Cases(total, generate),
        _compare_hvp,
        mistakes=_hvp_mistakes,
        describe=_hvp_facts,
        answer=_hvp_answer,
        explain_error=lambda case, error: _explain_hvp_error(error),
    )
    return check(exercise, hvp_fn, raise_on_failure=raise_on_failure)


def _hvp_case(f: _Shown, shape: tuple, rng, watch: bool = False) -> Case:
    x = torch.from_numpy(np.asarray(rng.uniform(-1.0, 1.0, size=shape)))
    v = torch.from_numpy(np.asarray(rng.standard_normal(shape)))
    n = x.numel()
    leaf = x.clone().requires_grad_()
    (gradient,) = torch.autograd.grad(f(leaf), leaf)
    hessian = torch.autograd.functional.hessian(f, x).reshape(n, n).numpy()
    expected = (hessian @ v.numpy().reshape(n)).reshape(shape)
    return Case(
        [("f", f), ("x", x), ("v", v)],
        expected=expected,
        hessian=hessian,
        gradient=gradient.numpy(),
        watch=watch,
    )


class _Largest(TorchFunctionMode):
    """The number of elements of the largest tensor that torch functions received or
    returned while the mode was on."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        results = result if isinstance(result, (tuple, list)) else (result,)
        for value in (*args, *(kwargs or {}).values(), *results):
            if isinstance(value, torch.Tensor):
                # a tensor without a size (a functorch wrapper) is skipped
                with contextlib.suppress(Exception):
                    self.largest = max(self.largest, value.numel())
        return result


def _hvp_answer(learner, case: Case):
    if not case.info["watch"]:
        return learner.call(case)
    mode = _Largest()
    with mode:
        answer = learner.call(case)
    case.info["largest"] = mode.largest
    return answer


def _compare_hvp(answer, case: Case) -> None:
    expected = case.expected
    if answer is None:
        raise none_mismatch()
    got = _as_array(answer, "Hessian-vector product")
    if got.ndim == 0 and expected.ndim > 0:
        raise Mismatch(
            "your answer is a single number; H v has the shape of x, "
            f"{shape_text(expected.shape)}.",
            hint="H v is a vector with one entry per element of x: the gradient of "
            "the number (g * v).sum() with respect to x, where g is the gradient of f.",
        )
    compare_values(got, expected, what="Hessian-vector product", label="hvp")
    n = expected.size
    if case.info["watch"] and case.info.get("largest", 0) >= n * n:
        raise Mismatch(
            f"your answer is right, but your function made a tensor of "
            f"{case.info['largest']:,} elements, at least n² = {n * n:,} for the "
            f"{n} elements of x: the whole Hessian.",
            hint="H v needs no n × n matrix. With g the gradient of f computed with "
            "`create_graph=True`, H v is the gradient of the single number "
            "`(g * v).sum()`: two backward passes, whatever the size of x.",
        )


def _flat(case: Case, name: str) -> np.ndarray:
    return case[name].numpy().reshape(-1)


def _in_shape_of_x(function: Callable) -> Callable:
    return lambda case: np.reshape(function(case), tuple(case["x"].shape))


def _hvp_mistakes(case: Case, answer) -> list[Mistake]:
    hessian = lambda case: case.info["hessian"]  # noqa: E731
    mistakes = [
        Mistake(
            "gradient",
            "your answer is the gradient of f, not H v: one backward pass. "
            "Differentiate the gradient once more, along v: compute g with "
            "`create_graph=True`, then the gradient of `(g * v).sum()`.",
            lambda case: case.info["gradient"],
        ),
        Mistake(
            "v-times-gradient",
            "your answer is v times the gradient, element by element: that is still "
            "one backward pass. H v takes a second one, through the first: the "
            "gradient of `(g * v).sum()`, with g computed with `create_graph=True`.",
            lambda case: case["v"].numpy() * case.info["gradient"],
        ),
        Mistake(
            "v-left-out",
            "your answer is H 1, the gradient of `g.sum()`: v is missing. Weight g by v "
            "before the second backward pass: the gradient of `(g * v).sum()`.",
            _in_shape_of_x(lambda case: hessian(case).sum(axis=1)),
        ),
        Mistake(
            "v-times-row-sums",
            "you multiplied v, element by element, with H 1 (the gradient of "
            "`g.sum()`). That is H v only when H is diagonal; here it is not. Let v "
            "in before the second backward pass: the gradient of `(g * v).sum()`.",
            _in_shape_of_x(lambda case: hessian(case).sum(axis=1) * _flat(case, "v")),
        ),
        Mistake(
            "diagonal-only",
            "you used only the diagonal of H, the second derivatives ∂²f/∂x_i², as if "
            "each x_i acted alone. Here f mixes the elements of x: (H v)_i = "
            "Σ_j ∂²f/∂x_i∂x_j v_j has a term for every j.",
            _in_shape_of_x(lambda case: np.diagonal(hessian(case)) * _flat(case, "v")),
        ),
        Mistake(
            "whole-hessian",
            lambda case: (
                f"you returned the whole Hessian ({hessian(case).shape[0]}×"
                f"{hessian(case).shape[1]}). H v is one vector of the shape of x, and "
                "the exercise asks not to form H at all: differentiate `(g * v).sum()`."
            ),
            lambda case: _hessian_shaped(case, answer),
        ),
    ]
    factor = constant_factor([(case.expected, _as_array(answer, "answer"))])
    if factor is not None:
        mistakes.append(
            Mistake(
                "factor",
                factor_hint(factor, "Hessian-vector product"),
                lambda other: factor * other.expected,
            )
        )
    return mistakes


def _hessian_shaped(case: Case, answer) -> np.ndarray:
    """The Hessian in the layout the answer has: (n, n), or x's shape twice."""
    hessian = case.info["hessian"]
    shape = np.shape(_as_array(answer, "answer"))
    if len(shape) == 2 and shape == hessian.shape:
        return hessian
    doubled = tuple(case["x"].shape) * 2
    if shape == doubled:
        return hessian.reshape(doubled)
    raise Impossible("not the shape of a Hessian")


def _hvp_facts(case: Case, answer, wrong: Mismatch) -> str | None:
    got = _as_array(answer, "answer")
    if got.size and not np.any(got):
        return (
            "your answer is 0 everywhere, while H v is not. (A second derivative that "
            "comes out 0 often means the gradient was detached, or converted to numpy, "
            "between the two backward passes.)"
        )
    return None


def _explain_hvp_error(error: Exception) -> str | None:
    text = str(error)
    if "does not require grad and does not have a grad_fn" in text:
        return (
            "torch.autograd.grad found nothing recorded to differentiate. Either x "
            "does not require grad (start with `x = x.detach().requires_grad_()`: the "
            "checker passes x without), or the gradient you differentiate a second "
            "time has no record of its own computation: it was computed without "
            "`create_graph=True`, or detached (or converted to numpy) on the way."
        )
    if "Mismatch in shape" in text and "torch.Size([])" in text:
        return (
            "f(x) is a single number, so the first backward pass takes no upstream "
            "gradient (or 1): v is not its grad_outputs. v enters the second pass, as "
            "the weights of the gradient: differentiate `(g * v).sum()`."
        )
    if "implicitly created only for scalar outputs" in text:
        return (
            "the gradient g is a tensor of the shape of x, not a number: differentiate "
            "the number `(g * v).sum()` (or pass `grad_outputs=v`)."
        )
    if "appears to not have been used in the graph" in text:
        return (
            "the gradient you differentiate a second time does not depend on x through "
            "anything recorded: was it detached, converted to numpy, or computed "
            "without `create_graph=True`?"
        )
    shapes = (
        "cannot be multiplied",
        "size mismatch",
        "must match the size",
        "inconsistent tensor size",
        "both arguments to",
        "1D tensors expected",
    )
    if any(s in text for s in shapes):
        return (
            "g and v have the shape of x, which may be a matrix: `g @ v` is a dot "
            "product only for vectors. `(g * v).sum()` works for every shape."
        )
    return None


# --- function_jvp ---------------------------------------------------------------------


def function_jvp(
    cls,
    reference: Callable,
    *,
    shapes=((3, 4),),
    low: float = -2.0,
    high: float = 2.0,
    cases: int = 5,
    raise_on_failure: bool = False,
) -> Result:
    """Check the ``jvp`` static method of a learner's custom ``torch.autograd.Function``.

    The learner's class is written in the current style, ``forward(*inputs)`` plus
    ``setup_context(ctx, inputs, output)`` (the only one ``torch.func`` accepts), with
    ``backward`` and a ``jvp(ctx, *grad_inputs)`` that receives one tangent per input
    of ``forward`` and returns one tangent per output: ``J u`` for the input tangents
    ``u``. What ``jvp`` reads from ``ctx.saved_tensors`` must be given to
    ``ctx.save_for_forward(...)`` in ``setup_context`` (``save_for_backward`` is for
    ``backward`` only). Pass the class itself. ``reference(*inputs)`` computes the same
    function with torch operations; there is one float64 input per entry of
    ``shapes``.

    For each of ``cases`` seeded inputs (uniform in ``[low, high]``) and tangents
    (standard normal), the checker compares ``torch.func.jvp(MyFunction.apply, inputs,
    tangents)`` with ``torch.func.jvp(reference, inputs, tangents)``: the outputs, then
    their tangents. Then the same with dual numbers (``torch.autograd.forward_ad``), and
    finally one backward pass for a random upstream gradient, since ``setup_context``
    serves ``backward`` too. A tensor kept on ``ctx`` as an attribute fails, as in
    ``check.function``.
    """
    name = cls.__name__ if isinstance(cls, type) else "function"
    shapes = _shapes(shapes)
    _transforms_loaded()
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    names = _forward_names(cls, len(shapes)) or _input_names(len(shapes))
    rng = np.random.default_rng(2010)

    def draw(kind: str, headline: str | None = None) -> Case:
        inputs = [
            torch.from_numpy(np.asarray(rng.uniform(low, high, size=s))) for s in shapes
        ]
        tangents = [
            torch.from_numpy(np.asarray(rng.standard_normal(s))) for s in shapes
        ]
        arguments = list(zip(names, inputs))
        if kind != "backward":
            arguments += [(f"tangent_{n}", t) for n, t in zip(names, tangents)]
        return Case(
            arguments,
            kind=kind,
            seed=int(rng.integers(2**31)),
            count=len(names),
            headline=headline,
        )

    after = f"after passing all {cases} cases with torch.func.jvp"
    all_cases = [draw("func") for _ in range(cases)]
    all_cases.append(
        draw("dual", f"failed with dual numbers (torch.autograd.forward_ad), {after}.")
    )
    all_cases.append(
        draw("backward", f"failed in backward, {after} and with dual numbers.")
    )

    exercise = Exercise(
        name,
        all_cases,
        _compare_jvp,
        mistakes=lambda case, answer: _jvp_mistakes(case, answer, reference),
        describe=_tangent_facts,
        answer=lambda learner, case: _jvp_answer(learner, case, cls, names),
        prepare=lambda case: _prepare_jvp_case(case, reference),
        parts=lambda answer: answer.parts,
        validate=_not_a_jvp_class,
        explain_error=_explain_jvp_error,
        passed=lambda count: (
            f"passed all {cases} cases with torch.func.jvp, the check with dual "
            "numbers and the backward check."
        ),
        role="your Function",
    )
    return check(exercise, cls, raise_on_failure=raise_on_failure)


def _input_names(count: int) -> list[str]:
    return ["x"] if count == 1 else [f"x{i}" for i in range(count)]


def _not_a_jvp_class(cls) -> Mismatch | None:
    """A Function subclass in the current style, with a jvp of its own."""
    problem = _not_a_function_class(cls)
    if problem is not None:
        return problem
    if not _current_style(cls):
        return Mismatch(
            f"{cls.__name__} is written in the old style, forward(ctx, ...), which "
            "torch.func refuses.",
            hint="write `forward(x)` without ctx, computing the output only, and "
            "`setup_context(ctx, inputs, output)`, which saves what backward and jvp "
            "need.",
        )
    if cls.jvp is torch.autograd.Function.jvp:
        return Mismatch(
            f"{cls.__name__} has no jvp static method, so forward mode cannot go "
            "through it (torch raises NotImplementedError).",
            hint="define `jvp(ctx, *grad_inputs)` as a static method: it receives the "
            "tangent of each input and returns the tangent of each output. Give the "
            "tensors it needs to `ctx.save_for_forward(...)` in setup_context.",
        )
    return None


def _jvp_reference(reference: Callable, inputs: tuple, tangents: tuple):
    """The reference's outputs and output tangents, as tuples of arrays."""
    try:
        outputs, tangents_out = torch.func.jvp(reference, inputs, tangents)
        outputs, tangents_out = _outputs(outputs), _outputs(tangents_out)
        if not all(isinstance(t, torch.Tensor) for t in outputs + tangents_out):
            raise TypeError("the reference must return torch tensors")
    except Exception as error:
        raise exception_mismatch(
            error, "the reference function", _EXERCISE_PROBLEM
        ) from None
    return (
        tuple(out.detach().numpy() for out in outputs),
        tuple(t.detach().numpy() for t in tangents_out),
    )


def _split(case: Case) -> tuple[tuple, tuple]:
    """The case's inputs and tangents (none for the backward check)."""
    values = list(case.positional.values())
    count = case.info["count"]
    return tuple(values[:count]), tuple(values[count:])


def _prepare_jvp_case(case: Case, reference: Callable) -> None:
    if "outputs" in case.info:
        return
    inputs, tangents = _split(case)
    if case.info["kind"] == "backward":
        leaves = [x.clone().requires_grad_() for x in inputs]
        try:
            outputs = _outputs(reference(*leaves))
            rng = np.random.default_rng(case.info["seed"])
            upstream = tuple(
                torch.from_numpy(np.asarray(rng.standard_normal(tuple(out.shape))))
                for out in outputs
            )
            grads = torch.autograd.grad(outputs, leaves, upstream, allow_unused=True)
        except Exception as error:
            raise exception_mismatch(
                error, "the reference function", _EXERCISE_PROBLEM
            ) from None
        case.info["outputs"] = tuple(out.detach().numpy() for out in outputs)
        case.info["upstream"] = upstream
        case.info["expected"] = tuple(
            np.zeros(x.shape) if g is None else g.numpy() for g, x in zip(grads, leaves)
        )
        return
    outputs, tangents_out = _jvp_reference(reference, inputs, tangents)
    case.info["outputs"], case.info["expected"] = outputs, tangents_out


class _JvpAnswer:
    """What the learner's Function gave on one case: its outputs, and the tangent of
    each output (forward mode) or the gradient of each input (the backward check)."""

    def __init__(self, outputs: tuple, parts: tuple):
        self.outputs, self.parts = outputs, parts

    def __repr__(self) -> str:
        return "the outputs and tangents of your Function"


def _jvp_answer(learner, case: Case, cls, names) -> _JvpAnswer:
    kind = case.info["kind"]
    count = case.info["count"]
    if kind == "backward":
        return _backward_answer(learner, case, cls, names)

    def through_func(*arguments):
        return torch.func.jvp(cls.apply, arguments[:count], arguments[count:])

    def through_duals(*arguments):
        with forward_ad.dual_level():
            duals = [
                forward_ad.make_dual(x, t)
                for x, t in zip(arguments[:count], arguments[count:])
            ]
            unpacked = [forward_ad.unpack_dual(o) for o in _outputs(cls.apply(*duals))]
            return (
                tuple(u.primal for u in unpacked),
                tuple(u.tangent for u in unpacked),
            )

    run = through_func if kind == "func" else through_duals
    try:
        outputs, tangents = learner.call(case, run)
    except NotAttempted as stop:
        _missing_jvp(stop)
        raise
    outputs, tangents = _outputs(outputs), _outputs(tangents)
    expected = len(case.info["outputs"])
    if len(outputs) != expected:
        raise Mismatch(
            f"forward returned {len(outputs)} outputs; the reference returns {expected}."
        )
    for tangent in tangents:
        if tangent is None:
            raise Mismatch(
                "an output of your Function has no tangent.",
                hint="jvp must return one tensor per output of forward: the tangent of "
                "that output.",
            )
    return _JvpAnswer(
        tuple(_array(o, "output") for o in outputs),
        tuple(_array(t, "tangent") for t in tangents),
    )


def _missing_jvp(stop: NotAttempted) -> None:
    """torch's own NotImplementedError (a Function without jvp inside forward) is a
    failure, not a stub."""
    if stop.error is not None and "implement the jvp function" in str(stop.error):
        raise Mismatch(
            "forward mode reached a custom Function without a jvp method (torch "
            "raised NotImplementedError).",
            hint="compute forward with torch operations, or with Functions that "
            "define jvp: forward mode needs a tangent rule for every step.",
        ) from None


def _array(value, what: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    raise Mismatch(f"a {what} of your Function is {type_phrase(value)}, not a tensor.")


def _backward_answer(learner, case: Case, cls, names) -> _JvpAnswer:
    inputs, _ = _split(case)
    use = Case(zip(names, inputs), kind="backward")
    answer = learner.call(use, cls.apply, role="forward", requires_grad=True)
    outputs = _outputs(answer)
    if not all(isinstance(out, torch.Tensor) for out in outputs):
        raise Mismatch("forward returned something else than torch tensors.")
    _tensors_on_ctx(outputs)
    leaves = tuple(learner.copies.values())
    grads = learner.run(
        lambda: torch.autograd.grad(
            outputs, leaves, case.info["upstream"], allow_unused=True
        ),
        case=case,
        role="backward",
        where="backward",
    )
    return _JvpAnswer(
        tuple(_array(o, "output") for o in outputs),
        tuple(
            np.zeros(x.shape) if g is None else _array(g, "gradient")
            for g, x in zip(grads, leaves)
        ),
    )


def _tensors_on_ctx(outputs) -> None:
    """Refuse tensors kept as attributes of ctx (the node torch made for this call)."""
    for out in outputs:
        node = getattr(out, "grad_fn", None)
        kept = sorted(
            key
            for key, value in getattr(node, "__dict__", {}).items()
            if isinstance(value, torch.Tensor)
        )
        if kept:
            listed = ", ".join(f"ctx.{key}" for key in kept)
            raise Mismatch(
                f"your Function keeps a tensor on ctx as an attribute ({listed}).",
                hint="give the tensors jvp needs to `ctx.save_for_forward(...)`, and "
                "those backward needs to `ctx.save_for_backward(...)`, and read them "
                "back from `ctx.saved_tensors`: only saved tensors are checked for "
                "in-place changes. Plain attributes are for anything else.",
            )


def _compare_jvp(answer: _JvpAnswer, case: Case) -> None:
    kind = case.info["kind"]
    for k, (got, want) in enumerate(zip(answer.outputs, case.info["outputs"])):
        what, label = (
            ("output", "out")
            if len(answer.outputs) == 1
            else (
                f"output {k}",
                f"out{k}",
            )
        )
        compare_values(got, want, what=what, label=label)
    names = list(case.positional)
    for k, (got, want) in enumerate(zip(answer.parts, case.expected)):
        if kind == "backward":
            what, label = f"gradient with respect to {names[k]}", f"{names[k]}.grad"
        elif len(answer.parts) == 1:
            what, label = "tangent of the output", "tangent_out"
        else:
            what, label = f"tangent of output {k}", f"tangent_out{k}"
        compare_values(got, want, what=what, label=label, part=k)


def _jvp_mistakes(case: Case, answer: _JvpAnswer, reference) -> list[Mistake]:
    """Mistakes in the tangents, on the torch.func cases."""
    if case.info["kind"] != "func":
        return []
    outputs = len(case.info["outputs"])
    inputs, _ = _split(case)
    names = list(case.positional)[: case.info["count"]]

    def jvp_with(tangents_of: Callable) -> Callable:
        def gives(other: Case):
            xs, ts = _split(other)
            return _jvp_reference(reference, xs, tangents_of(xs, ts))[1]

        return gives

    mistakes = []
    for k in range(outputs):
        mistakes += [
            Mistake(
                "primal-output",
                "your jvp returns the output's value, not its tangent: jvp receives "
                "the tangent of each input, u, and returns the tangent of each output, "
                "f′(x) u.",
                lambda other, k=k: other.info["outputs"][k],
                part=k,
            ),
            Mistake(
                "tangent-left-out",
                "your jvp returns the derivative f′(x) without multiplying it by the "
                "tangent u that jvp receives: the tangent of the output is f′(x) u.",
                lambda other, k=k: jvp_with(
                    lambda xs, ts: tuple(torch.ones_like(t) for t in ts)
                )(other)[k],
                part=k,
            ),
            Mistake(
                "times-input",
                "your jvp multiplies the derivative by the input x, not by the tangent "
                "u that jvp receives: the tangent of the output is f′(x) u.",
                lambda other, k=k: jvp_with(lambda xs, ts: xs)(other)[k],
                part=k,
            ),
        ]
        if len(inputs) == 1:
            mistakes += [
                Mistake(
                    "primal-input",
                    "your jvp returns the input x, not a tangent: it receives the "
                    "tangent u of the input and returns f′(x) u.",
                    lambda other: _split(other)[0][0].numpy(),
                    part=k,
                ),
                Mistake(
                    "tangent-unchanged",
                    "your jvp returns the tangent it receives unchanged, as if the "
                    "function were the identity: multiply it by the derivative f′(x).",
                    lambda other: _split(other)[1][0].numpy(),
                    part=k,
                ),
            ]
        for index, name in enumerate(names if len(names) > 1 else ()):
            mistakes.append(
                Mistake(
                    f"only-{name}",
                    f"your jvp counts only the tangent of {name}. All the inputs move "
                    "at once, so the tangent of the output adds one term per input: "
                    "∂y/∂a · u_a + ∂y/∂b · u_b + ….",
                    lambda other, k=k, index=index: jvp_with(
                        lambda xs, ts, index=index: tuple(
                            t if i == index else torch.zeros_like(t)
                            for i, t in enumerate(ts)
                        )
                    )(other)[k],
                    part=k,
                )
            )
    for k, (got, want) in enumerate(zip(answer.parts, case.expected)):
        factor = constant_factor([(want, got)])
        if factor is not None:
            mistakes.append(
                Mistake(
                    f"factor-{factor:g}",
                    factor_hint(factor, "tangent"),
                    lambda other, k=k, factor=factor: factor * other.expected[k],
                    part=k,
                )
            )
    return [
        Mistake(m.name, m.hint, _in_forward_mode(m.gives), part=m.part)
        for m in mistakes
    ]


def _in_forward_mode(gives: Callable) -> Callable:
    """A mistake of jvp's, which the backward check can neither show nor refute."""

    def in_forward_mode(case: Case):
        if case.info["kind"] == "backward":
            raise Impossible("backward does not call jvp")
        return gives(case)

    return in_forward_mode


def _tangent_facts(case: Case, answer: _JvpAnswer, wrong: Mismatch) -> str | None:
    if wrong.part is None:
        return None
    got = np.asarray(answer.parts[wrong.part])
    if got.size and not np.any(got):
        what = "gradient" if case.info["kind"] == "backward" else "tangent"
        return f"your {what} is 0 everywhere, while the true one is not."
    return None


def _explain_jvp_error(case: Case, error: Exception) -> str | None:
    """Hints for the errors torch raises when a Function's jvp is wrong."""
    text = str(error)
    backward = case.info.get("kind") == "backward"
    if isinstance(error, ValueError) and "not enough values to unpack" in text:
        if backward:
            return (
                "backward reads `ctx.saved_tensors`, which holds only what "
                "setup_context gave to `ctx.save_for_backward(...)`: keep that call "
                "when you add `ctx.save_for_forward(...)` for jvp."
            )
        return (
            "in jvp, `ctx.saved_tensors` holds only what setup_context gave to "
            "`ctx.save_for_forward(...)`; `ctx.save_for_backward(...)` is for "
            "backward. Save what jvp needs with both calls if both need it."
        )
    if "different size than that of the original Tensor" in text:
        return "the tangent of each output must have the shape of that output."
    if "itself has a forward gradient" in text:
        return (
            "jvp returned a tensor that has a tangent of its own: an input, or a tensor "
            "saved from the inputs, as it is. jvp returns a new tensor, the tangent "
            "f′(x) u of the output."
        )
    if "invalid number of forward gradients" in text:
        return "jvp must return one tangent per output of forward, in order."
    if "expected Variable or None" in text:
        return "jvp must return torch tensors, not numpy arrays, lists or numbers."
    if "doesn't have storage" in text:
        return (
            "under torch.func the tensors jvp receives are wrapped and have no memory "
            "of their own for numpy to read: compute jvp with torch operations, and "
            "return torch tensors."
        )
    if "INTERNAL ASSERT" in text and "is_floating_point" in text:
        return (
            "jvp returned None (or a tensor that is not floating point) as a tangent: "
            "return a float tensor for each output, `torch.zeros_like(output)` for one "
            "that does not depend on the inputs."
        )
    if "in-place" in text or "inplace" in text or "mutate" in text:
        return (
            "don't modify the tangents or the saved tensors in place in jvp: compute "
            "new tensors (`u * d`, not `u.mul_(d)`)."
        )
    if isinstance(error, TypeError) and "positional argument" in text:
        return (
            "jvp takes ctx, then one tangent per input of forward: "
            "`jvp(ctx, grad_x)` for a Function of one input."
        )
    return None
