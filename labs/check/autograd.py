"""Checkers for autograd exercises: hand-derived gradients and custom Functions.

Both compare with ``torch.autograd`` in float64 on seeded random inputs drawn uniformly
from ``[low, high]``. Backward passes are checked with a random, non-uniform upstream
gradient: an upstream gradient of ones would hide a transposed or misrouted gradient.

A custom Function is also used twice in one graph, and with its forward calls
interleaved with their backward calls: a Function that keeps what backward needs on the
class or in a global, instead of in ``ctx``, passes single calls and fails there.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable

import numpy as np
import torch

from labs.check._compare import (
    compare_values,
    constant_factor,
    factor_hint,
    none_mismatch,
)
from labs.check._core import (
    Case,
    Exercise,
    Mismatch,
    Mistake,
    NotAttempted,
    check,
    exception_mismatch,
)
from labs.check._result import Result
from labs.check._text import type_phrase

__all__ = ["gradient", "function"]

_EXERCISE_PROBLEM = (
    "this is a problem with the exercise, not with your answer; please report it."
)


def gradient(
    f: Callable,
    grad_f: Callable,
    *,
    shapes=((),),
    low: float = -2.0,
    high: float = 2.0,
    cases: int = 10,
    raise_on_failure: bool = False,
) -> Result:
    """Check a hand-derived gradient against ``torch.autograd.grad``.

    ``f(*inputs)`` is a scalar function of float64 tensors, written with torch
    operations (given by the exercise), one input per entry of ``shapes`` (``()`` is a
    0-dim tensor). The learner writes ``grad_f(*inputs)`` returning the gradient of
    ``f`` with respect to each input, each of the shape of its input: a single value for
    one input, a tuple ``(grad_x, grad_y, ...)`` in argument order for several. A
    gradient may be a torch tensor, a numpy array, or a Python/numpy number (for a 0-dim
    input). ``grad_f`` receives detached float64 tensors that do not require grad.

    Cases: ``cases`` sets of inputs drawn uniformly from ``[low, high]`` with a fixed
    seed. Example: ``check.gradient(lambda x: (x ** 3).sum(), lambda x: 3 * x ** 2,
    shapes=[(4,)])``.
    """
    name = f"gradient of {f.__name__}" if _named(f) else "gradient"
    shapes = _shapes(shapes)
    names = _argument_names(f, len(shapes))
    rng = np.random.default_rng(2001)
    all_cases = [
        Case(zip(names, _inputs(rng, shapes, low, high))) for _ in range(cases)
    ]

    def prepare(case: Case) -> None:
        if "expected" not in case.info:
            case.info["expected"] = _true_gradients(f, tuple(case.positional.values()))

    def compare(answer, case: Case) -> None:
        got = _per_input(answer, names)
        for index, (value, want) in enumerate(zip(got, case.expected)):
            _compare_gradient(value, want, names[index], index)

    def parts(answer) -> list[np.ndarray]:
        return [_as_array(g, "gradient") for g in _per_input(answer, names)]

    exercise = Exercise(
        name,
        all_cases,
        compare,
        mistakes=lambda case, answer: _gradient_mistakes(case, answer, names),
        describe=_zero_answer(parts),
        prepare=prepare,
        parts=parts,
    )
    return check(exercise, grad_f, raise_on_failure=raise_on_failure)


def function(
    cls,
    reference: Callable,
    *,
    shapes=((3, 4),),
    low: float = -2.0,
    high: float = 2.0,
    gradcheck: bool = True,
    cases: int = 5,
    style: str | None = None,
    raise_on_failure: bool = False,
) -> Result:
    """Check a learner's ``torch.autograd.Function`` subclass against a torch reference.

    The learner writes ``class MyFunction(torch.autograd.Function)`` with static methods
    ``forward(ctx, *inputs)`` and ``backward(ctx, *grad_outputs)`` (or the newer
    ``forward(*inputs)`` plus ``setup_context(ctx, inputs, output)``); pass the class
    itself. ``reference(*inputs)`` computes the same thing with torch operations. There
    is one float64 input tensor per entry of ``shapes``; forward may return one tensor
    or a tuple, like the reference.

    For each of ``cases`` seeded random inputs (uniform in ``[low, high]``) the checker
    compares, in order: the outputs of ``MyFunction.apply(*inputs)`` with the reference;
    then the gradients with respect to every input for a random, non-uniform upstream
    gradient. Then two checks of reuse, which a Function that keeps its state outside
    ``ctx`` (on the class, in a global) fails: ``MyFunction`` applied to two sets of
    inputs in one graph with a single backward call, and two forward calls followed by
    one backward call each, in turn. Finally, with ``gradcheck=True``,
    ``torch.autograd.gradcheck`` compares backward with finite differences of forward on
    one more set of inputs.

    Whatever the style, a tensor kept on ``ctx`` as an attribute (``ctx.y = y``) fails:
    tensors that backward needs go through ``ctx.save_for_backward`` (chapter 8, "What
    ctx carries"). ``style="current"`` also fails a Function written in the old style,
    ``forward(ctx, ...)``, for an exercise that asks for ``forward(*inputs)`` plus
    ``setup_context``; ``style="old"`` asks for the opposite.
    """
    if style not in (None, "current", "old"):
        raise ValueError(f"style must be None, 'current' or 'old', not {style!r}")
    name = cls.__name__ if isinstance(cls, type) else "function"
    shapes = _shapes(shapes)
    names = _forward_names(cls, len(shapes)) or _argument_names(reference, len(shapes))
    rng = np.random.default_rng(2002)
    singles = [
        Case(
            zip(names, _inputs(rng, shapes, low, high)),
            kind="single",
            seed=int(rng.integers(2**31)),
        )
        for _ in range(cases)
    ]
    check_inputs = _inputs(rng, shapes, low, high)
    passed = f"after passing all {cases} cases"
    reuse = [
        _reuse_case(
            kind, names, shapes, rng, low, high, headline=f"failed {words}, {passed}."
        )
        for kind, words in (
            ("together", "when used twice in one graph"),
            ("interleaved", "when two forward calls come before their backward calls"),
        )
    ]
    all_cases = singles + reuse
    if gradcheck:
        all_cases.append(
            Case(
                zip(names, check_inputs),
                kind="gradcheck",
                headline=f"failed gradcheck, {passed} and both reuse checks.",
            )
        )

    def passed_summary(count: int) -> str:
        if gradcheck:
            return f"passed all {cases} cases, both reuse checks and gradcheck."
        return f"passed all {cases} cases and both reuse checks."

    exercise = Exercise(
        name,
        all_cases,
        _compare_function,
        mistakes=lambda case, answer: _backward_mistakes(
            case, answer, names, reference
        ),
        describe=_zero_answer(lambda answer: answer.grads),
        answer=lambda learner, case: _function_answer(learner, case, cls, names),
        prepare=lambda case: _prepare_function_case(case, reference),
        parts=lambda answer: answer.grads,
        validate=lambda cls: _not_a_function_class(cls) or _wrong_style(cls, style),
        explain_error=lambda case, error: _explain_autograd_error(error),
        passed=passed_summary,
        role="forward",
    )
    return check(exercise, cls, raise_on_failure=raise_on_failure)


# --- Inputs ---------------------------------------------------------------------------


def _shapes(shapes) -> list[tuple[int, ...]]:
    """One shape per input; an int n stands for the shape (n,)."""
    result = []
    for shape in shapes:
        if isinstance(shape, numbers.Integral):
            shape = (shape,)
        if not all(isinstance(n, numbers.Integral) and n >= 0 for n in shape):
            raise ValueError(f"shapes must be tuples of sizes, got {shapes!r}")
        result.append(tuple(int(n) for n in shape))
    if not result:
        raise ValueError("shapes must have one entry per input of the function")
    return result


def _inputs(rng, shapes, low: float, high: float) -> list[torch.Tensor]:
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    return [
        torch.from_numpy(np.asarray(rng.uniform(low, high, size=s))) for s in shapes
    ]


def _parameters(fn: Callable) -> list[str]:
    """The names of the positional parameters of ``fn`` (none if they can't be read)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )
    return [p.name for p in parameters if p.kind in positional]


def _argument_names(fn: Callable, count: int) -> list[str]:
    """The names of the first ``count`` parameters of ``fn``, or x0, x1, ... ."""
    names = _parameters(fn)
    if len(names) >= count:
        return names[:count]
    return ["x"] if count == 1 else [f"x{i}" for i in range(count)]


def _forward_names(cls, count: int) -> list[str] | None:
    """The names of forward's inputs (after ctx, unless setup_context is defined)."""
    if not (isinstance(cls, type) and issubclass(cls, torch.autograd.Function)):
        return None
    names = _parameters(cls.forward)
    if not _current_style(cls):
        names = names[1:]  # forward(ctx, *inputs)
    return names[:count] if len(names) >= count else None


def _current_style(cls) -> bool:
    """Whether a Function is written ``forward(*inputs)`` plus ``setup_context``,
    rather than ``forward(ctx, *inputs)``."""
    return (
        cls.setup_context is not torch.autograd.Function.setup_context
        and _parameters(cls.forward)[:1] != ["ctx"]
    )


def _named(fn: Callable) -> bool:
    """Whether ``fn`` has a real name (a lambda's is ``<lambda>``)."""
    return getattr(fn, "__name__", "").isidentifier()


# --- Gradients as arrays --------------------------------------------------------------


def _as_array(value, what: str) -> np.ndarray:
    """A gradient as a float64 array: tensors, arrays and numbers are accepted."""
    if value is None:
        raise none_mismatch(f"the {what}")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.dtype == np.bool_ or not (
            np.issubdtype(value.dtype, np.floating)
            or np.issubdtype(value.dtype, np.integer)
        ):
            raise Mismatch(
                f"the {what} has dtype {value.dtype}, not a real number type."
            )
        return value.astype(np.float64)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return np.asarray(float(value))
    if isinstance(value, (list, tuple)):
        raise Mismatch(
            f"the {what} is {type_phrase(value)}, not a tensor or an array.",
            hint="return a tensor (an expression of the inputs, or torch.tensor(...)) "
            "or a numpy array, not a list.",
        )
    raise Mismatch(f"the {what} is {type_phrase(value)}, not a tensor or an array.")


def _zero_answer(parts: Callable) -> Callable:
    """A fact worth saying about a wrong gradient (``parts(answer)[wrong.part]``):
    it is zero everywhere."""

    def describe(case: Case, answer, wrong: Mismatch) -> str | None:
        if wrong.part is None:
            return None
        got = np.asarray(parts(answer)[wrong.part])
        if got.size and not np.any(got):
            return "your gradient is 0 everywhere, while the true one is not."
        return None

    return describe


# --- gradient -------------------------------------------------------------------------


def _true_gradients(f: Callable, inputs: tuple) -> tuple[np.ndarray, ...]:
    """torch.autograd's gradient of ``f`` at ``inputs``; a broken f gives a verdict."""
    leaves = [x.clone().requires_grad_() for x in inputs]
    try:
        value = f(*leaves)
    except NotImplementedError as error:
        raise NotAttempted(error, where="f") from None
    except Exception as error:
        raise exception_mismatch(error, "the function f", _EXERCISE_PROBLEM) from None
    if not isinstance(value, torch.Tensor):
        raise Mismatch(
            f"cannot check: f returned {type_phrase(value)}, not a torch tensor.",
            hint=f"f must be computed with torch operations; {_EXERCISE_PROBLEM}",
        )
    if value.numel() != 1:
        raise Mismatch(
            f"cannot check: f returned a tensor of shape {tuple(value.shape)}, not a "
            "scalar; a gradient is defined for a scalar function (e.g. end f with "
            ".sum()).",
            hint=_EXERCISE_PROBLEM,
        )
    if not value.requires_grad:
        raise Mismatch(
            "cannot check: f's result does not depend on its inputs through torch "
            "operations, so torch cannot differentiate it.",
            hint=_EXERCISE_PROBLEM,
        )
    grads = torch.autograd.grad(value.reshape(()), leaves, allow_unused=True)
    return tuple(
        np.zeros(x.shape) if g is None else g.detach().numpy()
        for g, x in zip(grads, leaves)
    )


def _per_input(answer, names: list[str]) -> tuple:
    """The learner's answer as one gradient per input."""
    if len(names) == 1:
        if isinstance(answer, tuple) and len(answer) == 1:
            return answer
        if answer is None:
            raise none_mismatch()
        return (answer,)
    if isinstance(answer, (tuple, list)) and len(answer) == len(names):
        return tuple(answer)
    wanted = f"a tuple ({', '.join('grad_' + n for n in names)})"
    if answer is None:
        raise none_mismatch()
    if isinstance(answer, (tuple, list)):
        raise Mismatch(
            f"your function returned {len(answer)} gradients; f has {len(names)} "
            "inputs.",
            hint=f"return one gradient per input of f, in order: {wanted}.",
        )
    raise Mismatch(
        f"your function returned {type_phrase(answer)}; f has {len(names)} inputs.",
        hint=f"return one gradient per input of f, in order: {wanted}.",
    )


def _compare_gradient(value, expected: np.ndarray, name: str, index: int) -> None:
    what = f"gradient with respect to {name}"
    got = _as_array(value, what)
    if got.ndim == 0 and expected.ndim > 0:
        raise Mismatch(
            f"the {what} is a single number; {name} has shape {expected.shape}.",
            hint=f"the gradient has one entry per element of {name}: the shape of "
            f"{name}.",
        )
    compare_values(got, expected, what=what, label=f"df/d{name}", part=index)


def _order_mistakes(names: list[str], count: int, expected_of: Callable):
    """For each gradient, the mistake of returning another input's true gradient."""
    for index in range(count):
        for other in range(count):
            if other != index:
                yield Mistake(
                    f"gradient-of-{names[other]}",
                    f"the gradient for {names[index]} is the true gradient for "
                    f"{names[other]}: return one gradient per input, in the order of "
                    "the inputs.",
                    lambda case, other=other: expected_of(case)[other],
                    part=index,
                )


def _factor_mistakes(answer_parts, expected: tuple, expected_of: Callable, what: str):
    """For each gradient that is a constant multiple k ≠ 0, 1 of the true one on the
    failing case, the mistake "k times the true one" (checked on every case)."""
    for index, (got, want) in enumerate(zip(answer_parts, expected)):
        factor = constant_factor([(want, got)])
        if factor is not None:
            yield Mistake(
                f"factor-{factor:g}",
                factor_hint(factor, what),
                lambda case, index=index, factor=factor: (
                    factor * expected_of(case)[index]
                ),
                part=index,
            )


def _gradient_mistakes(case: Case, answer, names: list[str]) -> list[Mistake]:
    parts = [_as_array(g, "gradient") for g in _per_input(answer, names)]
    expected = case.expected
    return [
        *_order_mistakes(names, len(names), lambda other: other.expected),
        *_factor_mistakes(parts, expected, lambda other: other.expected, "gradient"),
    ]


# --- function -------------------------------------------------------------------------


def _not_a_function_class(cls) -> Mismatch | None:
    """A :class:`Mismatch` unless ``cls`` is a subclass of torch.autograd.Function."""
    if isinstance(cls, type) and issubclass(cls, torch.autograd.Function):
        return None
    owner = getattr(cls, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, torch.autograd.Function):
        return Mismatch(
            f"you passed {owner.__name__}.apply; pass the class itself.",
            hint=f"`check.function({owner.__name__}, reference)`.",
        )
    if isinstance(cls, torch.autograd.Function):
        return Mismatch("you passed an instance; pass the class itself.")
    if isinstance(cls, type):
        return Mismatch(
            f"{cls.__name__} is not a subclass of torch.autograd.Function.",
            hint=f"define it as `class {cls.__name__}(torch.autograd.Function):` with "
            "static methods forward and backward.",
        )
    return Mismatch(
        f"expected a subclass of torch.autograd.Function, got {type_phrase(cls)}.",
        hint="define `class MyFunction(torch.autograd.Function):` and pass MyFunction.",
    )


def _wrong_style(cls, style: str | None) -> Mismatch | None:
    """A :class:`Mismatch` when ``cls`` is not written in the ``style`` asked for."""
    current = _current_style(cls)
    if style == "current" and not current:
        return Mismatch(
            f"{cls.__name__} is written in the old style, forward(ctx, ...); this "
            "exercise asks for the current style.",
            hint="write `forward(x)` without ctx, computing the output only, and "
            "`setup_context(ctx, inputs, output)`, which saves what backward needs.",
        )
    if style == "old" and current:
        return Mismatch(
            f"{cls.__name__} is written in the current style (forward plus "
            "setup_context); this exercise asks for the old style.",
            hint="write `forward(ctx, *inputs)`, which both computes and saves, and "
            "no setup_context.",
        )
    return None


def _tensors_on_ctx(cls, outputs) -> None:
    """Refuse tensors kept as attributes of ctx (the node torch made for this call)."""
    for out in outputs:
        node = getattr(out, "grad_fn", None)
        kept = [
            key
            for key, value in getattr(node, "__dict__", {}).items()
            if isinstance(value, torch.Tensor)
        ]
        if kept:
            listed = ", ".join(f"ctx.{key}" for key in sorted(kept))
            raise Mismatch(
                f"{cls.__name__} keeps a tensor on ctx as an attribute ({listed}).",
                hint="give the tensors backward needs to `ctx.save_for_backward(...)` "
                "and read them back from `ctx.saved_tensors`: only saved tensors are "
                "checked for in-place changes between forward and backward. Plain "
                "attributes are for anything else (an int, a shape, a flag).",
            )


def _outputs(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _reuse_case(kind: str, names, shapes, rng, low, high, headline: str) -> Case:
    """Two sets of inputs for one reuse check; the second set's names end in 2."""
    first = _inputs(rng, shapes, low, high)
    second = _inputs(rng, shapes, low, high)
    arguments = list(zip(names, first)) + list(zip([n + "2" for n in names], second))
    shown = ", ".join(str(tuple(s)) for s in shapes)
    how = (
        "both calls in one graph, one backward call"
        if kind == "together"
        else "forward on both, then backward on each in turn"
    )
    return Case(
        arguments,
        kind=kind,
        seeds=(int(rng.integers(2**31)), int(rng.integers(2**31))),
        label=f"two calls on inputs of shapes {shown}: {how}",
        headline=headline,
    )


def _reference(reference: Callable, inputs: tuple, seed: int):
    """Reference outputs, an upstream gradient per output, and the input gradients."""
    leaves = [x.clone().requires_grad_() for x in inputs]
    try:
        outputs = _outputs(reference(*leaves))
        if not all(isinstance(out, torch.Tensor) for out in outputs):
            raise TypeError("the reference must return torch tensors")
        rng = np.random.default_rng(seed)
        upstream = tuple(
            torch.from_numpy(rng.standard_normal(out.shape)) for out in outputs
        )
        grads = torch.autograd.grad(outputs, leaves, upstream, allow_unused=True)
    except Exception as error:
        raise exception_mismatch(
            error, "the reference function", _EXERCISE_PROBLEM
        ) from None
    grads = tuple(
        np.zeros(x.shape) if g is None else g.numpy() for g, x in zip(grads, leaves)
    )
    return tuple(out.detach().numpy() for out in outputs), upstream, grads


def _uses(case: Case) -> list[tuple]:
    """The sets of inputs of a case: one, or two for a reuse check."""
    values = list(case.positional.values())
    if case.info["kind"] in ("together", "interleaved"):
        half = len(values) // 2
        return [tuple(values[:half]), tuple(values[half:])]
    return [tuple(values)]


def _prepare_function_case(case: Case, reference: Callable) -> None:
    """The reference's outputs, upstream gradients and input gradients, per use."""
    if case.info["kind"] == "gradcheck" or "references" in case.info:
        return
    seeds = case.info.get("seeds") or (case.info["seed"],)
    case.info["references"] = [
        _reference(reference, inputs, seed) for inputs, seed in zip(_uses(case), seeds)
    ]
    case.info["expected"] = tuple(
        g for _, _, grads in case.info["references"] for g in grads
    )


class _FunctionAnswer:
    """What a learner's Function gave on one case: the outputs of each use, and the
    gradient of every input (``None`` where backward returned None)."""

    def __init__(self, outputs, grads, missing):
        self.outputs, self.grads, self.missing = outputs, grads, missing

    def __repr__(self) -> str:
        return "the outputs and gradients of your Function"


def _function_answer(learner, case: Case, cls, names) -> _FunctionAnswer | bool:
    if case.info["kind"] == "gradcheck":
        return _gradcheck(learner, case, cls)
    uses = _uses(case)
    outputs, leaves = [], []
    for number, inputs in enumerate(uses):
        use = Case(zip(names, inputs))
        answer = learner.call(use, cls.apply, role="forward", requires_grad=True)
        references = case.info["references"][number]
        outputs.append(_forward_outputs(answer, len(references[0])))
        _tensors_on_ctx(cls, outputs[-1])
        leaves.append(tuple(learner.copies.values()))
    for number, (got, (expected, _, _)) in enumerate(
        zip(outputs, case.info["references"])
    ):
        for k, (out, want) in enumerate(zip(got, expected)):
            what, label = (
                ("output", "out") if len(expected) == 1 else (f"output {k}", f"out{k}")
            )
            if len(uses) > 1:
                what += " of the first call" if number == 0 else " of the second call"
            compare_values(out.detach().numpy(), want, what=what, label=label)
    if case.info["kind"] == "together":
        roots = [out for got in outputs for out in got]
        upstream = [u for _, u, _ in case.info["references"] for u in u]
        grads = _backward(learner, roots, [x for use in leaves for x in use], upstream)
    else:
        grads = ()
        for got, use, (_, upstream, _) in zip(outputs, leaves, case.info["references"]):
            grads += _backward(learner, got, use, upstream)
    arrays = [
        np.zeros(x.shape) if g is None else g.detach().numpy()
        for g, x in zip(grads, (x for use in leaves for x in use))
    ]
    return _FunctionAnswer(outputs, arrays, [g is None for g in grads])


def _forward_outputs(answer, count: int) -> tuple[torch.Tensor, ...]:
    """Type checks on what forward returned: torch tensors, as many as the reference."""
    if answer is None:
        raise none_mismatch("forward")
    outputs = _outputs(answer)
    if len(outputs) != count:
        raise Mismatch(
            f"forward returned {len(outputs)} outputs; the reference returns {count}."
        )
    for out in outputs:
        if isinstance(out, np.ndarray):
            raise Mismatch(
                "forward returned a numpy array, not a torch tensor.",
                hint="forward must return torch tensors: compute with torch "
                "operations, or wrap a numpy result with `torch.from_numpy(...)`.",
            )
        if not isinstance(out, torch.Tensor):
            raise Mismatch(f"forward returned {type_phrase(out)}, not a torch tensor.")
    return outputs


def _backward(learner, outputs, inputs, upstream) -> tuple:
    """torch.autograd.grad through the learner's backward; errors become verdicts."""
    return learner.run(
        lambda: torch.autograd.grad(outputs, inputs, upstream, allow_unused=True),
        role="backward",
        where="backward",
    )


def _gradcheck(learner, case: Case, cls) -> bool:
    leaves = [x.clone().requires_grad_() for x in case.positional.values()]
    return learner.run(
        lambda: torch.autograd.gradcheck(cls.apply, leaves, raise_exception=False),
        role="gradcheck",
        where="gradcheck: your code",
    )


_STATE_HINT = (
    "every call passed on its own, so your Function keeps something between calls "
    "outside ctx: on the class (`MyFunction.saved = ...`) or in a global, where the "
    "next call overwrites it. Keep what backward needs in ctx, with "
    "`ctx.save_for_backward(...)` (tensors) or `ctx.name = ...` (anything else)."
)


def _compare_function(answer, case: Case) -> None:
    kind = case.info["kind"]
    if kind == "gradcheck":
        if not answer:
            raise Mismatch(
                "torch.autograd.gradcheck failed: your backward disagrees with finite "
                "differences of your forward on these inputs.",
                hint="usual causes: a backward that keeps state between calls (on the "
                "class or in a global), a forward that is not deterministic, or a "
                "derivative that is wrong only in part of the input range.",
            )
        return
    names = list(case.positional)
    for index, (got, want) in enumerate(zip(answer.grads, case.expected)):
        name = names[index]
        try:
            compare_values(
                got,
                want,
                what=f"gradient with respect to {name}",
                label=f"{name}.grad",
                part=index,
            )
        except Mismatch as wrong:
            wrong.expected, wrong.got = want, got
            if answer.missing[index]:
                wrong.hint = (
                    f"backward returned None for {name}, which torch takes as a zero "
                    "gradient."
                )
            elif kind != "single":
                wrong.hint, wrong.diagnosable = _STATE_HINT, False
            raise


def _backward_mistakes(case: Case, answer, names, reference) -> list[Mistake]:
    """Gradients swapped between inputs, one output's branch only, a constant factor."""
    if case.info["kind"] != "single":
        return []
    mistakes = list(_order_mistakes(names, len(names), lambda other: other.expected))
    outputs = len(case.info["references"][0][0])
    for branch in range(outputs) if outputs > 1 else ():
        for index in range(len(names)):
            mistakes.append(
                Mistake(
                    f"branch-{branch}-only",
                    f"your gradient only counts output {branch}. When an input reaches "
                    "several outputs, the gradients from all of them add up: accumulate "
                    "(+=), don't assign.",
                    lambda other, index=index, branch=branch: _one_branch(
                        reference, other, branch
                    )[index],
                    part=index,
                )
            )
    mistakes += _factor_mistakes(
        answer.grads, case.expected, lambda other: other.expected, "gradient"
    )
    return mistakes


def _one_branch(reference: Callable, case: Case, branch: int) -> tuple:
    """The input gradients when only output ``branch`` gets its upstream gradient."""
    _, upstream, _ = case.info["references"][0]
    only = [torch.zeros_like(u) for u in upstream]
    only[branch] = upstream[branch]
    leaves = [x.clone().requires_grad_() for x in case.positional.values()]
    grads = torch.autograd.grad(
        _outputs(reference(*leaves)), leaves, only, allow_unused=True
    )
    return tuple(
        np.zeros(x.shape) if g is None else g.numpy() for g, x in zip(grads, leaves)
    )


def _explain_autograd_error(error: Exception) -> str | None:
    """Hints for the errors torch raises when a custom Function is wrong."""
    text = str(error)
    if "incorrect number of gradients" in text:
        return (
            "backward must return one gradient per input of forward, in the same order "
            "(None for an input that needs no gradient)."
        )
    if "invalid gradient at index" in text:
        return "each gradient returned by backward must have the shape of its input."
    if "expected Variable or None" in text:
        return (
            "backward must return torch tensors (or None), not numpy arrays or lists."
        )
    if isinstance(error, AttributeError) and "Backward" in text:
        return (
            "ctx only holds what forward (or setup_context) stored on it: save tensors "
            "with `ctx.save_for_backward(x)` and read them back in backward with "
            "`x, = ctx.saved_tensors`."
        )
    if isinstance(error, ValueError) and "not enough values to unpack" in text:
        return (
            "did forward call `ctx.save_for_backward(...)` with every tensor backward "
            "reads?"
        )
    if "modified by an inplace operation" in text or "leaf Variable" in text:
        return "don't modify inputs or saved tensors in place: compute new tensors."
    if isinstance(error, TypeError) and (
        "missing a required argument" in text or "forward() takes" in text
    ):
        return (
            "with `forward(ctx, *inputs)` define no setup_context; with "
            "`forward(*inputs)` (no ctx) define `setup_context(ctx, inputs, output)`."
        )
    return None
