"""The autograd engine's semantics, checked against what PyTorch does in the same situation."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

import labs
from labs.autograd import Function


def test_worked_example_from_the_lecture():
    """x = [[1, 2], [3, 4]], y = x - 2, z = 3y^2, a = mean(z): da/dx = 1.5x - 3."""
    x = labs.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x - 2
    z = 3 * y**2
    a = z.mean()
    a.backward()
    np.testing.assert_allclose(x.grad.data, [[-1.5, 0.0], [1.5, 3.0]])
    np.testing.assert_allclose(x.grad.data, 1.5 * x.data - 3)
    assert y.grad_fn.name() == "SubBackward"
    assert x.is_leaf and not y.is_leaf and x.grad_fn is None


def test_doubling_loop_reveals_the_iteration_count():
    x_values = np.array([0.5, 1.2, -0.3])
    for lib in (labs, torch):
        x = lib.tensor(x_values, requires_grad=True)
        y = x * 2
        doublings = 0
        while float((y * y).sum().sqrt().item()) < 1000:
            y = y * 2
            doublings += 1
        v = lib.tensor([0.1, 1.0, 0.0001], dtype=lib.float64)
        y.backward(v)
        expected = 2.0 ** (doublings + 1) * np.asarray(v.tolist())
        np.testing.assert_allclose(np.asarray(x.grad.tolist()), expected)


def test_non_scalar_backward_needs_a_gradient():
    x = labs.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (x * 2).backward()
    with pytest.raises(
        RuntimeError, match="implicitly created only for scalar outputs"
    ):
        torch.tensor([1.0, 2.0], requires_grad=True).mul(2).backward()


def test_a_one_element_tensor_of_any_shape_needs_no_gradient():
    x = labs.tensor([[3.0]], requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0


def test_gradient_shape_must_match():
    x = labs.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of \[3\]"
    ):
        (x * 2).backward(labs.tensor([1.0, 1.0, 1.0]))


def test_backward_on_a_tensor_without_graph():
    with pytest.raises(
        RuntimeError, match="does not require grad and does not have a grad_fn"
    ):
        labs.tensor([1.0]).sum().backward()
    x = labs.tensor([1.0], requires_grad=True)
    with labs.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_fan_out_adds_gradients():
    """b = a * a uses a twice: its gradient is 2a, not a (the classic assignment bug)."""
    a = labs.tensor([3.0, -1.0], requires_grad=True)
    b = a * a + a
    b.sum().backward()
    np.testing.assert_allclose(a.grad.data, 2 * a.data + 1)


def test_gradients_accumulate_across_backward_calls_and_can_be_zeroed():
    x = labs.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0])
    x.grad.zero_()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 5.0])


def test_second_backward_through_saved_values_needs_retain_graph():
    x = labs.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(
        RuntimeError, match="Trying to backward through the graph a second time"
    ):
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.data, 2 * 3 * x.data)  # 3 backward calls in all

    # PyTorch agrees: the first raises, the second works.
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = (tx * tx).sum()
    ty.backward()
    with pytest.raises(RuntimeError, match="a second time"):
        ty.backward()


def test_a_graph_without_saved_values_can_be_walked_twice():
    """Like PyTorch: addition saves nothing, so nothing is freed."""
    x = labs.tensor([1.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    assert x.grad.item() == 2.0


def test_chain_of_20000_ops_has_no_recursion_limit():
    # 20 times Python's default recursion limit: backward and freeing the graph loop
    x = labs.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y
    gc.collect()


def test_diamond_graph_visits_each_node_once():
    x = labs.tensor([2.0], requires_grad=True)
    a = x * 3
    b = a.exp()
    c = a.tanh()
    (b + c).sum().backward()
    expected = 3 * np.exp(6.0) + 3 * (1 - np.tanh(6.0) ** 2)
    np.testing.assert_allclose(x.grad.data, [expected])


def test_retain_grad_on_a_non_leaf():
    x = labs.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.data, 2 * y.data)
    np.testing.assert_allclose(x.grad.data, 6 * y.data)


def test_autograd_grad_does_not_touch_dot_grad():
    x = labs.tensor([1.0, 2.0], requires_grad=True)
    (g,) = labs.autograd.grad((x**3).sum(), x)
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    assert x.grad is None
    y = labs.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        labs.autograd.grad((x * 2).sum(), [x, y])
    _, unused = labs.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert unused is None


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        labs.tensor([1, 2], requires_grad=True)
    x = labs.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(
        RuntimeError, match="only change requires_grad flags of leaf variables"
    ):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="Use tensor.detach"):
        x.numpy()
    d = y.detach()
    assert (
        not d.requires_grad and d.grad_fn is None and np.shares_memory(d.data, y.data)
    )
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.zero_()


def test_default_dtypes_follow_pytorch():
    assert labs.tensor([1.0, 2.0]).dtype == np.float32
    assert labs.tensor([1, 2]).dtype == np.int64
    assert labs.tensor(np.array([1.0])).dtype == np.float64
    assert labs.Tensor([1.5]).dtype == np.float32
    assert (labs.tensor([1, 2]) * 2.5).dtype == np.float32
    assert (labs.tensor([1, 2]) / 2).dtype == np.float32
    assert (
        labs.tensor([1.0], dtype=labs.float64) * labs.tensor([1.0])
    ).dtype == np.float64
    assert (labs.tensor([1.0]) * np.float64(2.0)).dtype == np.float32
    # the same in torch
    assert (torch.tensor([1, 2]) * 2.5).dtype == torch.float32
    assert (torch.tensor([1.0]) * np.float64(2.0)).dtype == torch.float32


def test_numpy_interop():
    x = labs.tensor([[1.0, 2.0]])
    assert isinstance(np.asarray(x), np.ndarray)
    result = np.ones((1, 2)) + x  # ndarray on the left defers to Tensor.__radd__
    assert isinstance(result, labs.Tensor)
    assert x.shape == (1, 2) and x.size() == (1, 2) and x.size(1) == 2 and x.dim() == 2
    assert x.numel() == 2 and x.tolist() == [[1.0, 2.0]]
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()


def test_repr_names_the_node():
    x = labs.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(labs.tensor([1.0], dtype=labs.float64)) == "tensor([1.], dtype=float64)"


def test_next_functions_walk_back_to_the_leaves():
    x = labs.tensor([1.0], requires_grad=True)
    w = labs.tensor([2.0])
    y = (x * w).exp()
    mul_node, _ = y.grad_fn.next_functions[0]
    assert mul_node.name() == "MulBackward"
    (accumulate, _), (nothing, _) = mul_node.next_functions
    assert (
        isinstance(accumulate, labs.autograd.AccumulateGrad)
        and accumulate.variable is x
    )
    assert nothing is None  # w does not require grad


# ---- the Function API ----------------------------------------------------------------------


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad_output


def test_custom_function():
    x = labs.tensor([1.0, -2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 12.0])


class ScaleBy(Function):
    """Two inputs, one of which is not a tensor; records needs_input_grad."""

    seen = None

    @staticmethod
    def forward(ctx, x, factor, y):
        ScaleBy.seen = ctx.needs_input_grad
        return x * factor + y

    @staticmethod
    def backward(ctx, grad_output):
        return (
            grad_output * 2.0,
            None,
            (grad_output if ctx.needs_input_grad[2] else None),
        )


def test_needs_input_grad_and_non_tensor_arguments():
    x = labs.tensor([1.0], requires_grad=True)
    y = labs.tensor([5.0])
    ScaleBy.apply(x, 2.0, y).sum().backward()
    assert ScaleBy.seen == (True, False, False)
    assert x.grad.item() == 2.0 and y.grad is None


class SplitTwo(Function):
    """Two outputs: the gradients from both branches reach the input and add up."""

    @staticmethod
    def forward(ctx, x):
        return x.copy(), x.copy()

    @staticmethod
    def backward(ctx, grad_a, grad_b):
        return grad_a + grad_b


def test_multiple_outputs_get_zero_gradients_when_unused():
    x = labs.tensor([1.0, 2.0], requires_grad=True)
    a, b = SplitTwo.apply(x)
    (a * 3 + b * 4).sum().backward()
    np.testing.assert_allclose(x.grad.data, [7.0, 7.0])
    x.grad = None
    a, _ = SplitTwo.apply(x)  # the second output gets no gradient: zeros are passed
    a.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 1.0])


class ArgMaxPair(Function):
    @staticmethod
    def forward(ctx, x):
        index = np.argmax(x, keepdims=True)
        ctx.mark_non_differentiable(index)
        return x.max(keepdims=True), index

    @staticmethod
    def backward(ctx, grad_value, grad_index):
        raise AssertionError("not needed")


def test_mark_non_differentiable():
    value, index = ArgMaxPair.apply(labs.tensor([1.0, 3.0], requires_grad=True))
    assert value.requires_grad and not index.requires_grad


class WrongCount(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class WrongShape(Function):
    @staticmethod
    def forward(ctx, a):
        return a.sum()

    @staticmethod
    def backward(ctx, grad_output):
        return np.ones(7)


def test_backward_mistakes_get_pytorch_errors():
    a = labs.tensor([1.0], requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"function WrongCountBackward returned an incorrect "
        r"number of gradients \(expected 2, got 1\)",
    ):
        WrongCount.apply(a, a).sum().backward()
    with pytest.raises(
        RuntimeError,
        match=r"returned an invalid gradient at index 0 - got \[7\] "
        r"but expected shape compatible with \[3\]",
    ):
        WrongShape.apply(labs.tensor([1.0, 2.0, 3.0], requires_grad=True)).backward()


def test_no_grad_works_as_decorator_and_nests():
    x = labs.tensor([1.0], requires_grad=True)

    @labs.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    with labs.no_grad():
        assert not labs.is_grad_enabled()
        with labs.enable_grad():
            assert (x * 2).requires_grad
        assert not labs.is_grad_enabled()
    assert labs.is_grad_enabled()


def test_no_floating_point_warnings_leak():
    """PyTorch never warns about log(0) or 0/0; neither do labs ops (notebooks stay clean)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = labs.tensor([0.0, -1.0], requires_grad=True)
        y = x.log() + x / x + x.sqrt()
        assert np.isnan(y.data[1]) and np.isnan(y.data[0])
        y.sum().backward()


def test_in_place_updates_follow_pytorch():
    w = labs.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w -= 0.1 * w.grad
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tw -= 0.1
    with labs.no_grad():
        w -= 0.1 * w.grad  # the optimizer's update: allowed, and w stays a leaf
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    assert w.is_leaf and w.requires_grad
    counts = labs.tensor([1, 2])
    counts += 1
    assert counts.tolist() == [2, 3]
    with pytest.raises(RuntimeError, match="can't be cast"):
        counts *= 1.5
