"""labs never returns a silently wrong gradient: version counters, hooks, second
derivatives, inference mode and grad-mode switches, each checked against PyTorch.

Every scenario is written once as a function of the library (``lib`` is ``labs`` or
``torch``) and run on both: where PyTorch raises, labs must raise the same error type
with the same key words; where PyTorch computes, labs must compute the same numbers.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import labs

LIBS = [labs, torch]


def tensor(lib, values, requires_grad=False):
    return lib.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def as_array(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value.detach().numpy() if hasattr(value, "detach") else value)


def both(scenario):
    """Run ``scenario(lib)`` on labs and torch: the same result, or the same error."""
    outcomes = {}
    for lib in LIBS:
        try:
            outcomes[lib] = ("value", scenario(lib))
        except Exception as error:  # noqa: BLE001 - compared below
            outcomes[lib] = ("error", error)
    (kind_l, labs_out), (kind_t, torch_out) = outcomes[labs], outcomes[torch]
    assert kind_l == kind_t, (
        f"labs: {kind_l} {labs_out!r}; torch: {kind_t} {torch_out!r}"
    )
    if kind_l == "error":
        assert type(labs_out) is type(torch_out), (labs_out, torch_out)
        return labs_out, torch_out
    for a, b in zip(labs_out, torch_out):
        np.testing.assert_allclose(as_array(a), as_array(b), rtol=1e-12, atol=1e-12)
    return labs_out, torch_out


INPLACE = "modified by an inplace operation"


# ---- the version counter -------------------------------------------------------------


def test_changing_a_saved_input_after_the_forward_pass_raises():
    def scenario(lib):
        x = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        w = tensor(lib, [1.0, 1.0, 1.0])
        y = (x * w).sum()
        w += 1  # w was saved by the product, for x's gradient
        y.backward()
        return (x.grad,)

    error, _ = both(scenario)
    message = str(error)
    assert INPLACE in message
    assert "[labs float64 Tensor [3]]" in message
    assert "is at version 1; expected version 0 instead" in message


def test_changing_a_detached_alias_raises():
    def scenario(lib):
        x = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        y = (x * x).sum()
        x.detach()[0] = 10  # the same memory as x
        y.backward()
        return (x.grad,)

    error, _ = both(scenario)
    assert INPLACE in str(error)


def test_changing_a_saved_intermediate_under_no_grad_raises():
    def scenario(lib):
        x = tensor(lib, [0.5, -1.0], requires_grad=True)
        h = x.exp()  # exp saves its own output
        with lib.no_grad():
            h += 1
        h.sum().backward()
        return (x.grad,)

    error, _ = both(scenario)
    assert INPLACE in str(error)
    assert "which is output 0 of ExpBackward" in str(error)


def test_changing_the_saved_output_of_tanh_through_a_view_raises():
    def scenario(lib):
        x = tensor(lib, [[0.5, -1.0], [2.0, 0.1]], requires_grad=True)
        y = x.tanh()
        y.detach().reshape(4)[1] = 0.0  # a view of a detached alias: same memory
        y.sum().backward()
        return (x.grad,)

    error, _ = both(scenario)
    assert INPLACE in str(error)


def test_an_optimizer_step_between_forward_and_backward_raises():
    def scenario(lib):
        w = (
            lib.nn.Parameter(lib.tensor(np.array([1.0, -2.0])))
            if lib is torch
            else (labs.nn.Parameter(np.array([1.0, -2.0])))
        )
        loss = (w * w).sum()
        w.grad = lib.ones(2, dtype=w.dtype)
        lib.optim.SGD([w], lr=0.1).step()
        loss.backward()
        return (w.grad,)

    error, _ = both(scenario)
    assert INPLACE in str(error)


def test_in_place_changes_that_backward_does_not_need_are_fine():
    def scenario(lib):
        x = tensor(lib, [1.0, 2.0], requires_grad=True)
        c = tensor(lib, [3.0, 4.0])
        y = (x + c).sum()  # addition saves nothing
        c += 100
        y.backward()
        return (x.grad,)

    both(scenario)


def test_every_in_place_change_counts():
    def scenario(lib):
        t = tensor(lib, [1.0, 2.0, 3.0])
        versions = [t._version]
        t += 1
        versions.append(t._version)
        t[0] = 5
        versions.append(t._version)
        t.mul_(2).zero_()
        versions.append(t._version)
        t.detach().add_(1)
        versions.append(t._version)
        return (np.array(versions),)

    labs_out, torch_out = both(scenario)
    assert list(labs_out[0]) == [0, 1, 2, 4, 5]


def test_the_error_for_a_changed_output_names_it_like_pytorch():
    x = labs.tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = x.sigmoid()
    with labs.no_grad():
        y.mul_(2)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "[labs float64 Tensor [2]], which is output 0 of SigmoidBackward, is at "
            "version 1; expected version 0 instead."
        ),
    ):
        y.sum().backward()


# ---- hooks and retain_grad -------------------------------------------------------------


def test_hooks_on_leaves_and_intermediates_see_and_replace_gradients():
    def scenario(lib):
        seen = []
        x = tensor(lib, [1.0, -2.0, 0.5], requires_grad=True)
        h = x * 3
        h.register_hook(lambda g: seen.append(g.detach().clone()))
        h.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
        handle = x.register_hook(lambda g: g + 1)
        (h * h).sum().backward(retain_graph=True)
        first = x.grad.clone()
        handle.remove()
        x.grad = None
        (h * h).sum().backward()
        return seen[0], first, x.grad

    both(scenario)


def test_retain_grad_and_the_warning_for_non_leaf_grad():
    for lib in LIBS:
        x = tensor(lib, [1.0, 2.0], requires_grad=True)
        y = x * 2
        with pytest.warns(UserWarning, match="not a leaf Tensor"):
            assert y.grad is None
        y.retain_grad()
        assert y.retains_grad
        (y * y).sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_allclose(as_array(y.grad), [4.0, 8.0])
            np.testing.assert_allclose(as_array(x.grad), [8.0, 16.0])
            assert x.detach().grad is None  # a leaf: no warning


def test_a_hook_needs_a_tensor_that_requires_grad():
    both(lambda lib: tensor(lib, [1.0]).register_hook(lambda g: g))


# ---- second derivatives ------------------------------------------------------------------


def test_double_backward_through_a_power():
    def scenario(lib):
        x = tensor(lib, [0.5, -1.5, 2.0], requires_grad=True)
        (dy,) = lib.autograd.grad((x**3).sum(), x, create_graph=True)
        (d2y,) = lib.autograd.grad(dy.sum(), x)
        return dy, d2y  # 3x^2 and 6x

    labs_out, _ = both(scenario)
    np.testing.assert_allclose(labs_out[1].numpy(), [3.0, -9.0, 12.0])


@given(data=st.data())
def test_hessian_vector_products_match_pytorch(data):
    n, m = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    elements = st.floats(-2, 2, allow_nan=False)
    w = data.draw(hnp.arrays(np.float64, (m, n), elements=elements))
    x0 = data.draw(hnp.arrays(np.float64, (n,), elements=elements))
    v = data.draw(hnp.arrays(np.float64, (n,), elements=elements))

    def scenario(lib):
        x = tensor(lib, x0, requires_grad=True)
        hidden = (lib.tensor(w) @ x).tanh()
        loss = (hidden * hidden).sum() + (x.exp() / (1 + x * x)).mean() + x.sin().sum()
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (hv,) = lib.autograd.grad((g * lib.tensor(v)).sum(), x)
        return g, hv

    both(scenario)


def test_backward_with_create_graph_gives_differentiable_grads():
    def scenario(lib):
        x = tensor(lib, [1.0, 2.0], requires_grad=True)
        with pytest.warns(UserWarning, match="reference cycle"):  # both libraries warn
            (x.pow(2) * x.sigmoid()).sum().backward(create_graph=True)
        first = x.grad.clone()
        g = x.grad
        x.grad = None
        g.sum().backward()
        return first, x.grad

    both(scenario)


def test_double_backward_of_an_op_without_it_says_so():
    x = labs.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    w = labs.tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    # a first derivative is fine; asking for one that can be differentiated again is
    # refused by name, rather than returning a gradient whose own gradient is wrong
    (g,) = labs.autograd.grad(labs.functional.conv2d(x, w).sum(), x)
    assert g.shape == x.shape
    with pytest.raises(
        RuntimeError, match="cannot differentiate the backward pass of ConvNdBackward"
    ):
        labs.autograd.grad(labs.functional.conv2d(x, w).sum(), x, create_graph=True)


# ---- grad modes ------------------------------------------------------------------------


def test_inference_mode_marks_what_it_creates():
    for lib in LIBS:
        x = tensor(lib, [1.0, 2.0], requires_grad=True)
        with lib.inference_mode():
            assert lib.is_inference_mode_enabled() and not lib.is_grad_enabled()
            y = x * 2
        assert y.is_inference() and not y.requires_grad and not x.is_inference()
        assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()


def test_inference_mode_false_switches_both_modes_back():
    for lib in LIBS:
        states = []
        with lib.no_grad(), lib.inference_mode():
            with lib.inference_mode(False):
                states.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
                assert not lib.ones(2).is_inference()
            states.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
        states.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
        assert states == [(False, True), (True, False), (False, True)], lib.__name__


def test_an_inference_tensor_cannot_be_saved_or_changed_later():
    def saved(lib):
        x = tensor(lib, [1.0, 2.0], requires_grad=True)
        with lib.inference_mode():
            y = tensor(lib, [3.0, 4.0]) * 1
        return ((x * y).sum(),)  # mul saves y for x's gradient

    def changed(lib):
        with lib.inference_mode():
            y = tensor(lib, [3.0, 4.0]) * 1
        y += 1
        return (y,)

    assert "Inference tensors cannot be saved for backward" in str(both(saved)[0])
    assert "Inplace update to inference tensor outside InferenceMode" in str(
        both(changed)[0]
    )


def test_set_grad_enabled_as_a_call_and_as_a_block():
    for lib in LIBS:
        x = tensor(lib, [1.0], requires_grad=True)
        with lib.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert (x * 2).requires_grad
        lib.set_grad_enabled(False)
        try:
            assert not (x * 2).requires_grad
        finally:
            lib.set_grad_enabled(True)
        assert lib.is_grad_enabled()

        @lib.no_grad()
        def doubled(t):
            return t * 2

        assert not doubled(x).requires_grad


def test_concatenating_zero_dimensional_tensors_is_refused_like_pytorch():
    error, _ = both(lambda lib: (lib.cat([tensor(lib, 1.0), tensor(lib, 2.0)]),))
    assert "zero-dimensional tensor (at position 0) cannot be concatenated" in str(
        error
    )


def test_grad_keys_the_leaf_node_it_keeps(monkeypatch):
    """grad() of a leaf that has no gradient node yet: the node grad() keys its result
    by must be the one that receives the gradient. A leaf holds its node only weakly; a
    node made, keyed by its address, dropped and made again could land elsewhere. Here
    a placeholder takes the slot a dropped node frees before each new node is made, so
    a second node always lands at another address."""
    held = []
    make_node = labs.Tensor._grad_accumulator

    def grad_accumulator(self):
        if self._accumulator is None or self._accumulator() is None:
            held.append(object.__new__(labs.autograd.AccumulateGrad))
        return make_node(self)

    monkeypatch.setattr(labs.Tensor, "_grad_accumulator", grad_accumulator)
    x = labs.tensor(np.ones(3), requires_grad=True)
    (g,) = labs.autograd.grad([x * 2], [x], [np.ones(3)])
    np.testing.assert_array_equal(g.data, np.full(3, 2.0))
    y = labs.tensor(np.ones(3), requires_grad=True)  # the output is the leaf itself
    (h,) = labs.autograd.grad([y], [y], [np.full(3, 5.0)])
    np.testing.assert_array_equal(h.data, np.full(3, 5.0))
