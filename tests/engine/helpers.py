"""Compare a labs computation with the same PyTorch computation, forward and backward.

``compare(labs_fn, torch_fn, *arrays)`` builds a float64 tensor from each array in both
libraries, runs both functions, checks the outputs (shape first, then values), then
back-propagates the same random, non-uniform upstream gradient through both and checks
every input's gradient. A uniform upstream gradient (all ones) would hide mistakes such
as a transposed gradient, so it is never used.
"""

from __future__ import annotations

import numpy as np
import torch

import labs

RTOL = 1e-7
ATOL = 1e-9


def assert_close(got, expected, what: str, rtol=RTOL, atol=ATOL) -> None:
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (
        f"{what}: shape {got.shape} != torch's {expected.shape}"
    )
    if got.size:
        with np.errstate(invalid="ignore"):  # inf - inf where both are -inf
            error = np.nan_to_num(np.abs(got - expected))
        worst = np.unravel_index(np.argmax(error), error.shape)
        np.testing.assert_allclose(
            got,
            expected,
            rtol=rtol,
            atol=atol,
            err_msg=f"{what}: worst at {worst}: {got[worst]} vs torch's {expected[worst]}",
        )


def _outputs(result):
    return result if isinstance(result, (tuple, list)) else (result,)


def compare(
    labs_fn,
    torch_fn,
    *arrays,
    grad_seed: int = 0,
    rtol=RTOL,
    atol=ATOL,
    differentiable=None,
):
    """Run both functions on float64 copies of ``arrays``; compare outputs and gradients.

    ``differentiable`` lists, per array, whether its gradient is compared (default:
    every floating array).
    """
    if differentiable is None:
        differentiable = [np.asarray(a).dtype.kind == "f" for a in arrays]
    labs_inputs = [
        labs.tensor(np.array(a), requires_grad=bool(d))
        for a, d in zip(arrays, differentiable)
    ]
    torch_inputs = [
        torch.tensor(np.array(a), requires_grad=bool(d))
        for a, d in zip(arrays, differentiable)
    ]
    labs_out = _outputs(labs_fn(*labs_inputs))
    torch_out = _outputs(torch_fn(*torch_inputs))
    assert len(labs_out) == len(torch_out), "different number of outputs"
    for index, (a, b) in enumerate(zip(labs_out, torch_out)):
        assert_close(a.data, b.detach().numpy(), f"output {index}", rtol, atol)
        if a.dtype.kind == "f":
            assert a.dtype == np.dtype(str(b.dtype).replace("torch.", "")), (
                "dtype differs"
            )

    rng = np.random.default_rng(grad_seed)
    pairs = [(a, b) for a, b in zip(labs_out, torch_out) if b.requires_grad]
    if not pairs or not any(differentiable):
        return labs_out, torch_out
    upstream = [rng.standard_normal(b.shape) for _, b in pairs]
    labs.autograd.backward([a for a, _ in pairs], upstream)
    torch.autograd.backward(
        [b for _, b in pairs], [torch.from_numpy(g) for g in upstream]
    )
    for index, (a, b) in enumerate(zip(labs_inputs, torch_inputs)):
        if not b.requires_grad:
            continue
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.data), (
                f"input {index}: torch has no grad"
            )
            continue
        assert a.grad is not None, f"input {index}: labs computed no gradient"
        assert_close(
            a.grad.data, b.grad.numpy(), f"gradient of input {index}", rtol, atol
        )
    return labs_out, torch_out


def same_error(labs_call, torch_call):
    """Both calls raise the same exception type; return the labs message."""
    try:
        torch_call()
    except Exception as error:  # noqa: BLE001 - we want whatever torch raises
        torch_type = type(error)
    else:
        raise AssertionError("torch accepted the call; this is not an error case")
    try:
        labs_call()
    except Exception as error:  # noqa: BLE001
        assert isinstance(error, torch_type), (
            f"labs raised {type(error).__name__}, torch raised {torch_type.__name__}"
        )
        return str(error)
    raise AssertionError(
        f"labs accepted a call that torch rejects with {torch_type.__name__}"
    )
