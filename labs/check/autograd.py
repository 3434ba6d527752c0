"""Checkers for autograd exercises: hand-derived gradients and custom Functions.

Both compare with ``torch.autograd`` in float64 on seeded random inputs drawn uniformly
from ``[low, high]``. Backward passes are checked with a random, non-uniform upstream
gradient: an upstream gradient of ones would hide a transposed or misrouted gradient.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable

import numpy as np
import torch

from labs.check._core import (
    RTOL,
    Case,
    Mismatch,
    NotAttempted,
    Result,
    call_learner,
    compare_values,
    exception_mismatch,
    failed,
    finish,
    none_mismatch,
    not_attempted,
    not_callable,
    number_text,
    run,
    safe_hint,
    type_phrase,
)

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
    if not callable(grad_f):
        return finish(not_callable("gradient", grad_f), raise_on_failure)
    shapes = _shapes(shapes)
    names = _argument_names(f, len(shapes))
    rng = np.random.default_rng(2001)
    all_cases = [
        Case(zip(names, _inputs(rng, shapes, low, high))) for _ in range(cases)
    ]

    def check_case(case: Case) -> None:
        expected = _true_gradients(f, tuple(case.positional.values()))
        answer = None
        try:
            answer, _ = call_learner(grad_f, case)
            got = _per_input(answer, names)
            for index, (value, want) in enumerate(zip(got, expected)):
                try:
                    _compare_gradient(value, want, names[index])
                except Mismatch as wrong:
                    if wrong.diagnosable:
                        wrong.hint = safe_hint(
                            _gradient_hint, f, grad_f, all_cases, names, index, case
                        )
                    raise
        except Mismatch as wrong:
            wrong.expected = expected[0] if len(expected) == 1 else expected
            wrong.got = answer
            raise

    return finish(run(name, all_cases, check_case), raise_on_failure)


def function(
    cls,
    reference: Callable,
    *,
    shapes=((3, 4),),
    low: float = -2.0,
    high: float = 2.0,
    gradcheck: bool = True,
    cases: int = 5,
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
    gradient. Finally, with ``gradcheck=True``, ``torch.autograd.gradcheck`` compares
    backward with finite differences of forward on one more set of inputs.
    """
    name = cls.__name__ if isinstance(cls, type) else "function"
    wrong_class = _not_a_function_class(cls)
    if wrong_class is not None:
        return finish(failed(name, wrong_class), raise_on_failure)
    shapes = _shapes(shapes)
    names = _forward_names(cls, len(shapes)) or _argument_names(reference, len(shapes))
    rng = np.random.default_rng(2002)
    all_cases = [
        Case(zip(names, _inputs(rng, shapes, low, high)), seed=int(rng.integers(2**31)))
        for _ in range(cases)
    ]

    def check_case(case: Case) -> None:
        _check_function_case(cls, reference, names, case)

    result = run(name, all_cases, check_case)
    if result.passed and gradcheck:
        inputs = _inputs(rng, shapes, low, high)
        failure = _gradcheck(cls, name, names, inputs, len(all_cases))
        if failure is not None:
            return finish(failure, raise_on_failure)
        result.summary = f"passed all {len(all_cases)} cases and gradcheck."
    return finish(result, raise_on_failure)


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
    names = _parameters(cls.forward)
    if cls.setup_context is torch.autograd.Function.setup_context or names[:1] == [
        "ctx"
    ]:
        names = names[1:]  # forward(ctx, *inputs)
    return names[:count] if len(names) >= count else None


def _named(fn: Callable) -> bool:
    """Whether ``fn`` has a real name (a lambda's is ``<lambda>``)."""
    return getattr(fn, "__name__", "").isidentifier()


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


def _compare_gradient(value, expected: np.ndarray, name: str) -> None:
    what = f"gradient with respect to {name}"
    got = _as_array(value, what)
    if got.ndim == 0 and expected.ndim > 0:
        raise Mismatch(
            f"the {what} is a single number; {name} has shape {expected.shape}.",
            hint=f"the gradient has one entry per element of {name}: the shape of "
            f"{name}.",
        )
    compare_values(got, expected, what=what, label=f"df/d{name}")


def _gradient_hint(
    f, grad_f, cases: list[Case], names: list[str], index: int, case: Case
):
    """Gradients in the wrong order, or off by a constant factor on every case."""
    expected = _true_gradients(f, tuple(case.positional.values()))
    got = _learner_gradients(grad_f, case, names)
    hint = _order_hint(got[index], expected, index, names)
    if hint:
        return hint
    pairs = []
    for other in cases:  # a factor needs several values: use every case
        answers = _learner_gradients(grad_f, other, names)
        if answers is not None:
            pairs.append(
                (
                    _true_gradients(f, tuple(other.positional.values()))[index],
                    answers[index],
                )
            )
    return _constant_factor_hint(pairs, "gradient")


def _learner_gradients(grad_f, case: Case, names: list[str]) -> list[np.ndarray] | None:
    try:
        answer, _ = call_learner(grad_f, case)
        return [_as_array(g, "gradient") for g in _per_input(answer, names)]
    except Exception:  # including Mismatch and NotAttempted: no evidence from this case
        return None


def _order_hint(got: np.ndarray, expected, index: int, names: list[str]) -> str | None:
    """A hint if the gradient for input ``index`` is the true one of another input."""
    for other, want in enumerate(expected):
        if other != index and _close(got, want):
            return (
                f"the gradient for {names[index]} is the true gradient for "
                f"{names[other]}: return one gradient per input, in the order of the "
                "inputs."
            )
    return None


def _constant_factor_hint(
    pairs: list[tuple[np.ndarray, np.ndarray]], what: str
) -> str | None:
    """'your gradient is 2× the true one' when got / expected is the same everywhere."""
    ratios = []
    for expected, got in pairs:
        expected, got = np.ravel(expected), np.ravel(got)
        if expected.shape != got.shape:
            continue
        scale = np.max(np.abs(expected), initial=0.0)
        usable = np.abs(expected) > 1e-6 * scale + 1e-12
        ratios.extend((got[usable] / expected[usable]).tolist())
    if len(ratios) < 2:
        return None
    factor = float(np.median(ratios))
    if not np.allclose(ratios, factor, rtol=RTOL * 10, atol=0) or np.isclose(
        factor, 1.0
    ):
        return None
    if np.isclose(factor, -1.0):
        return f"wrong sign: your {what} is the negative of the true one everywhere."
    factor = _factor_text(factor)
    return (
        f"your {what} is {factor}× the true one everywhere: a constant factor is off."
    )


def _factor_text(factor: float) -> str:
    """2, 0.5, -3, 1/3: the simplest exact spelling of a factor, else 8 digits."""
    if abs(factor * 1000 - round(factor * 1000)) < 1e-6:
        return f"{factor:g}"
    for denominator in range(3, 13):
        numerator = factor * denominator
        if abs(numerator - round(numerator)) < 1e-6:
            return f"{round(numerator)}/{denominator}"
    return number_text(factor)


# --- function -------------------------------------------------------------------------


def _not_a_function_class(cls) -> Mismatch | None:
    """A :class:`Mismatch` unless ``cls`` is a subclass of torch.autograd.Function."""
    if isinstance(cls, type) and issubclass(cls, torch.autograd.Function):
        return None
    owner = getattr(cls, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, torch.autograd.Function):
        return Mismatch(
            f"you passed {owner.__name__}.apply; pass the class itself.",
            hint=f"check.function({owner.__name__}, reference).",
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


def _outputs(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


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


def _check_function_case(
    cls, reference: Callable, names: list[str], case: Case
) -> None:
    inputs = tuple(case.positional.values())
    expected, upstream, expected_grads = _reference(
        reference, inputs, case.info["seed"]
    )
    answer = None
    try:
        answer, copies = call_learner(
            cls.apply,
            case,
            role="forward",
            requires_grad=True,
            explain_error=lambda case, error: _explain_autograd_error(error),
        )
        outputs = _forward_outputs(answer, len(expected))
        for k, (out, want) in enumerate(zip(outputs, expected)):
            what, label = (
                ("output", "out") if len(expected) == 1 else (f"output {k}", f"out{k}")
            )
            compare_values(out.detach().numpy(), want, what=what, label=label)
    except Mismatch as wrong:
        wrong.expected = expected[0] if len(expected) == 1 else expected
        wrong.got = answer
        raise
    grads = _backward(outputs, tuple(copies.values()), upstream)
    for index, (grad, want) in enumerate(zip(grads, expected_grads)):
        got = np.zeros(want.shape) if grad is None else grad.detach().numpy()
        try:
            compare_values(
                got,
                want,
                what=f"gradient with respect to {names[index]}",
                label=f"{names[index]}.grad",
            )
        except Mismatch as wrong:
            wrong.expected, wrong.got = want, got
            if grad is None:
                wrong.hint = (
                    f"backward returned None for {names[index]}, which torch takes as "
                    "a zero gradient."
                )
            elif wrong.diagnosable:
                wrong.hint = safe_hint(
                    _backward_hint,
                    reference,
                    inputs,
                    upstream,
                    grads,
                    expected_grads,
                    index,
                    names,
                )
            raise


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
                "operations, or wrap a numpy result with torch.from_numpy(...).",
            )
        if not isinstance(out, torch.Tensor):
            raise Mismatch(f"forward returned {type_phrase(out)}, not a torch tensor.")
    return outputs


def _backward(outputs: tuple, inputs: tuple, upstream: tuple) -> tuple:
    """torch.autograd.grad through the learner's backward; errors become verdicts."""
    try:
        return torch.autograd.grad(outputs, inputs, upstream, allow_unused=True)
    except NotImplementedError as error:
        raise NotAttempted(error, where="backward") from None
    except Exception as error:
        raise exception_mismatch(
            error, "backward", _explain_autograd_error(error)
        ) from None


def _backward_hint(reference, inputs, upstream, grads, expected_grads, index, names):
    """Gradients swapped between inputs, one branch only, or a constant factor."""
    got = [None if g is None else g.detach().numpy() for g in grads]
    hint = _order_hint(got[index], expected_grads, index, names)
    if hint:
        return hint
    if len(upstream) > 1:
        for branch in range(len(upstream)):
            only = [torch.zeros_like(u) for u in upstream]
            only[branch] = upstream[branch]
            leaves = [x.clone().requires_grad_() for x in inputs]
            partial = torch.autograd.grad(
                _outputs(reference(*leaves)), leaves, only, allow_unused=True
            )[index]
            if partial is not None and _close(got[index], partial.numpy()):
                return (
                    f"your gradient only counts output {branch}. When an input "
                    "reaches several outputs, the gradients from all of them add up: "
                    "accumulate (+=), don't assign."
                )
    return _constant_factor_hint([(expected_grads[index], got[index])], "gradient")


def _close(a, b) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=1e-8)


def _gradcheck(cls, name, names, inputs, count) -> Result | None:
    """A verdict if ``torch.autograd.gradcheck`` rejects the Function, else None."""
    case = Case(zip(names, inputs))
    leaves = [x.clone().requires_grad_() for x in inputs]
    try:
        ok = torch.autograd.gradcheck(cls.apply, leaves, raise_exception=False)
    except NotImplementedError as error:
        stop = NotAttempted(error, where="gradcheck: your code")
        return not_attempted(name, stop, number=count, total=count, case=case)
    except Exception as error:
        wrong = exception_mismatch(error, "gradcheck", _explain_autograd_error(error))
    else:
        if ok:
            return None
        wrong = Mismatch(
            "torch.autograd.gradcheck failed: your backward disagrees with finite "
            "differences of your forward on these inputs.",
            hint="usual causes: a backward that keeps state between calls (on the "
            "class or in a global), a forward that is not deterministic, or a "
            "derivative that is wrong only in part of the input range.",
        )
    summary = f"failed gradcheck, after passing all {count} cases."
    result = failed(name, wrong, case=case, summary=summary)
    result.cases = result.total = count
    return result


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
            "with ctx.save_for_backward(x) and read them back in backward with "
            "`x, = ctx.saved_tensors`."
        )
    if isinstance(error, ValueError) and "not enough values to unpack" in text:
        return (
            "did forward call ctx.save_for_backward(...) with every tensor backward "
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
