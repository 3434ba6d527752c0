"""Every basic op against PyTorch in float64, forward and backward, on random shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import labs

from .helpers import compare

floats = st.floats(-3, 3, allow_nan=False, width=64)


def arrays(shape, elements=floats):
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def broadcastable_pair(draw, max_dims=4):
    """Two arrays whose shapes broadcast together (either may have fewer dims)."""
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=max_dims, max_side=4)
    )
    a, b = shapes.input_shapes
    return draw(arrays(a)), draw(arrays(b))


@st.composite
def array_and_dim(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return draw(arrays(shape)), dim


BINARY = {
    "add": (lambda a, b: a + b),
    "sub": (lambda a, b: a - b),
    "mul": (lambda a, b: a * b),
    "maximum": None,
}


@pytest.mark.parametrize("name", ["add", "sub", "mul"])
@given(pair=broadcastable_pair())
def test_arithmetic_with_broadcasting(name, pair):
    fn = BINARY[name]
    compare(fn, fn, *pair)


@given(pair=broadcastable_pair())
def test_division(pair):
    a, b = pair
    b = np.where(np.abs(b) < 0.2, 0.5, b)  # keep away from division by ~0
    compare(lambda x, y: x / y, lambda x, y: x / y, a, b)


@given(pair=broadcastable_pair())
def test_maximum(pair):
    a, b = pair
    assume(not np.any(a[..., None] == b[..., None]) if a.shape == b.shape else True)
    compare(labs.maximum, torch.maximum, a, b)


@given(
    x=arrays(hnp.array_shapes(max_dims=3, max_side=4), st.floats(0.1, 3)),
    exponent=st.sampled_from([2, 3, 0.5, -1.5, 0]),
)
def test_power_with_scalar_exponent(x, exponent):
    compare(lambda t: t**exponent, lambda t: t**exponent, x)


@given(pair=broadcastable_pair(max_dims=3))
def test_power_with_tensor_exponent(pair):
    base, exponent = pair
    base = np.abs(base) + 0.1
    compare(lambda a, b: a**b, lambda a, b: a**b, base, exponent)


@given(x=arrays(hnp.array_shapes(max_dims=3, max_side=4)))
def test_scalar_on_the_left(x):
    compare(
        lambda t: 2.0 - t * 3.0 + 1.5 / (t * t + 1.0),
        lambda t: 2.0 - t * 3.0 + 1.5 / (t * t + 1.0),
        x,
    )
    compare(lambda t: 2.0**t, lambda t: 2.0**t, x)


UNARY = {
    "neg": (lambda t: -t, lambda t: -t, floats),
    "exp": (labs.exp, torch.exp, floats),
    "sin": (labs.sin, torch.sin, floats),
    "cos": (labs.cos, torch.cos, floats),
    "log": (labs.log, torch.log, st.floats(0.05, 5)),
    "sqrt": (labs.sqrt, torch.sqrt, st.floats(0.05, 5)),
    "abs": (labs.abs, torch.abs, floats),
    "tanh": (labs.tanh, torch.tanh, floats),
    "sigmoid": (labs.sigmoid, torch.sigmoid, st.floats(-40, 40)),
    "relu": (labs.relu, torch.relu, floats),
    "clamp": (lambda t: t.clamp(-0.5, 1.0), lambda t: t.clamp(-0.5, 1.0), floats),
    "clamp_min": (lambda t: t.clamp(min=0.3), lambda t: t.clamp(min=0.3), floats),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_elementwise(name, data):
    labs_fn, torch_fn, elements = UNARY[name]
    x = data.draw(
        arrays(hnp.array_shapes(min_dims=0, max_dims=4, max_side=4), elements)
    )
    compare(labs_fn, torch_fn, x)


def test_kinks_use_pytorch_subgradients():
    """At exactly 0: relu' = 0, |x|' = 0; at the clamp bounds the gradient passes."""
    x = np.array([-1.0, 0.0, 1.0, -0.5, 1.0])
    compare(labs.relu, torch.relu, x)
    compare(labs.abs, torch.abs, x)
    compare(lambda t: t.clamp(-0.5, 1.0), lambda t: t.clamp(-0.5, 1.0), x)
    compare(lambda t: t**0, lambda t: t**0, x)
    compare(lambda t: labs.maximum(t, t * 0), lambda t: torch.maximum(t, t * 0), x)


@st.composite
def matmul_operands(draw):
    kind = draw(
        st.sampled_from(["1d@1d", "2d@1d", "1d@2d", "2d@2d", "batched", "broadcast"])
    )
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shapes = {
        "1d@1d": ((k,), (k,)),
        "2d@1d": ((n, k), (k,)),
        "1d@2d": ((k,), (k, m)),
        "2d@2d": ((n, k), (k, m)),
        "batched": ((3, n, k), (3, k, m)),
        "broadcast": ((2, 1, n, k), (3, k, m)),
    }[kind]
    return draw(arrays(shapes[0])), draw(arrays(shapes[1]))


@given(operands=matmul_operands())
def test_matmul(operands):
    compare(lambda a, b: a @ b, lambda a, b: a @ b, *operands)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@given(data=st.data())
def test_sum_and_mean(reduction, data):
    x = data.draw(arrays(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4)))
    dims = data.draw(
        st.one_of(
            st.none(),
            st.integers(-x.ndim, x.ndim - 1),
            st.lists(
                st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True
            ).map(tuple),
        )
    )
    keepdim = data.draw(st.booleans())
    if dims is None:
        compare(lambda t: getattr(t, reduction)(), lambda t: getattr(t, reduction)(), x)
    else:
        compare(
            lambda t: getattr(t, reduction)(dims, keepdim),
            lambda t: getattr(t, reduction)(dims, keepdim=keepdim),
            x,
        )


@given(
    data=array_and_dim(), keepdim=st.booleans(), which=st.sampled_from(["max", "min"])
)
def test_max_and_min_along_a_dimension(data, keepdim, which):
    x, dim = data
    x = (
        x + np.arange(x.size).reshape(x.shape) * 1e-3
    )  # no ties: the index is then unique
    compare(
        lambda t: getattr(t, which)(dim, keepdim),
        lambda t: getattr(t, which)(dim, keepdim),
        x,
    )


def test_full_max_shares_the_gradient_among_ties():
    x = np.array([[1.0, 3.0], [3.0, 0.5]])
    compare(lambda t: t.max(), lambda t: t.max(), x)
    compare(lambda t: t.min(), lambda t: t.min(), x)


@given(data=array_and_dim())
def test_softmax_family(data):
    x, dim = data
    compare(lambda t: t.log_softmax(dim), lambda t: t.log_softmax(dim), x)
    compare(lambda t: t.softmax(dim), lambda t: t.softmax(dim), x)


def test_log_softmax_is_stable_for_large_inputs():
    x = np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]])
    compare(lambda t: t.log_softmax(1), lambda t: t.log_softmax(1), x)


@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4)), data=st.data())
def test_reshape_permute_transpose(x, data):
    perm = data.draw(st.permutations(range(x.ndim)))
    compare(lambda t: t.permute(*perm), lambda t: t.permute(*perm), x)
    compare(lambda t: t.reshape(-1), lambda t: t.reshape(-1), x)
    compare(lambda t: t.reshape(x.shape[0], -1), lambda t: t.reshape(x.shape[0], -1), x)
    d0 = data.draw(st.integers(-x.ndim, x.ndim - 1))
    d1 = data.draw(st.integers(-x.ndim, x.ndim - 1))
    compare(lambda t: t.transpose(d0, d1), lambda t: t.transpose(d0, d1), x)
    compare(lambda t: t.flatten(), lambda t: t.flatten(), x)
    start = data.draw(st.integers(0, x.ndim - 1))
    compare(lambda t: t.flatten(start), lambda t: t.flatten(start), x)
    compare(lambda t: t.unsqueeze(d0).squeeze(), lambda t: t.unsqueeze(d0).squeeze(), x)


@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)), data=st.data())
def test_expand(x, data):
    x = x[(slice(None),) * (x.ndim - 1) + (slice(0, 1),)]  # last dimension has size 1
    size = data.draw(st.integers(1, 4))
    target = (2,) + x.shape[:-1] + (size,)
    compare(lambda t: t.expand(*target), lambda t: t.expand(*target), x)


@st.composite
def index_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=5))
    x = draw(arrays(shape))
    kind = draw(
        st.sampled_from(["int", "slice", "step", "list", "mask", "tuple", "ellipsis"])
    )
    if kind == "int":
        index = draw(st.integers(-shape[0], shape[0] - 1))
    elif kind == "slice":
        index = slice(draw(st.integers(0, shape[0] - 1)), None)
    elif kind == "step":
        index = (slice(None, None, 2),) + (slice(None),) * (len(shape) - 1)
    elif kind == "list":
        index = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
    elif kind == "mask":
        index = x > 0
    elif kind == "tuple":
        index = tuple(draw(st.integers(0, n - 1)) for n in shape)
    else:
        index = (Ellipsis, 0)
    return x, index


@given(case=index_case())
def test_indexing_including_repeated_indices(case):
    x, index = case

    def torch_index(value):
        if isinstance(value, np.ndarray):
            return torch.from_numpy(value)
        if isinstance(value, list):
            return torch.tensor(value)
        return value

    labs_index = labs.tensor(index) if isinstance(index, np.ndarray) else index
    compare(lambda t: t[labs_index], lambda t: t[torch_index(index)], x)


@given(data=st.data())
def test_cat_and_stack(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    a, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    compare(
        lambda x, y: labs.cat([x, y], dim), lambda x, y: torch.cat([x, y], dim), a, b
    )
    compare(
        lambda x, y: labs.stack([x, y], dim),
        lambda x, y: torch.stack([x, y], dim),
        a,
        b,
    )


@given(pair=broadcastable_pair(max_dims=3))
def test_where(pair):
    a, b = pair
    condition = np.asarray(
        np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)) > 0
    )
    compare(
        lambda x, y: labs.where(labs.tensor(condition), x, y),
        lambda x, y: torch.where(torch.from_numpy(condition.copy()), x, y),
        a,
        b,
    )


@given(
    logits=arrays(st.tuples(st.integers(1, 5), st.integers(2, 5))),
    data=st.data(),
)
def test_cross_entropy(logits, data):
    n, c = logits.shape
    target = np.array(
        data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    )
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    weight = data.draw(st.one_of(st.none(), arrays((c,), st.floats(0.1, 2))))
    labs_weight = None if weight is None else labs.tensor(weight)
    torch_weight = None if weight is None else torch.from_numpy(weight)
    compare(
        lambda x: labs.functional.cross_entropy(
            x, labs.tensor(target), weight=labs_weight, reduction=reduction
        ),
        lambda x: torch.nn.functional.cross_entropy(
            x, torch.from_numpy(target), weight=torch_weight, reduction=reduction
        ),
        logits,
    )


def test_cross_entropy_ignore_index_and_extra_dimensions():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((2, 4, 3))
    target = np.array([[0, -100, 3], [2, 1, -100]])
    compare(
        lambda x: labs.functional.cross_entropy(x, labs.tensor(target)),
        lambda x: torch.nn.functional.cross_entropy(x, torch.from_numpy(target)),
        logits,
    )


@given(pair=broadcastable_pair(max_dims=3), data=st.data())
def test_linear_and_mse(pair, data):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((2, 4))
    b = rng.standard_normal(2)
    compare(labs.functional.linear, torch.nn.functional.linear, x, w, b)
    a = pair[0]
    target = rng.standard_normal(a.shape)
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    compare(
        lambda t: labs.functional.mse_loss(t, labs.tensor(target), reduction=reduction),
        lambda t: torch.nn.functional.mse_loss(
            t, torch.from_numpy(target), reduction=reduction
        ),
        a,
    )


@given(
    leading=st.lists(st.integers(1, 4), max_size=2),
    sizes=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    with_bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_linear_matches_pytorch_for_any_leading_dimensions(
    leading, sizes, with_bias, seed
):
    """labs.functional.linear records one node (PyTorch's arithmetic, fused for speed):
    its output and all three gradients match torch for inputs of 1 to 3 dimensions."""
    n_in, n_out = sizes
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((*leading, n_in)), rng.standard_normal((n_out, n_in))]
    arrays += [rng.standard_normal(n_out)] if with_bias else []
    compare(labs.functional.linear, torch.nn.functional.linear, *arrays)
    out = labs.functional.linear(*(labs.tensor(a, requires_grad=True) for a in arrays))
    assert out.grad_fn.name() == "LinearBackward"  # the fused node, not three


@pytest.mark.parametrize("with_bias", [False, True])
def test_linear_second_derivatives_match_pytorch(with_bias):
    """create_graph=True through the fused node: the gradient of a gradient agrees."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal((2, 4))]
    arrays += [rng.standard_normal(2)] if with_bias else []
    results = []
    for lib in (labs, torch):
        x, w, *b = (lib.tensor(a, requires_grad=True) for a in arrays)
        functional = labs.functional if lib is labs else torch.nn.functional
        y = functional.linear(x, w, *b)
        (gx,) = lib.autograd.grad((y.tanh() ** 2).sum(), x, create_graph=True)
        second = lib.autograd.grad((gx**2).sum(), [x, w, *b])
        results.append(
            [np.asarray(g.detach().numpy() if lib is torch else g.data) for g in second]
        )
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_linear_outside_the_fused_case_keeps_pytorchs_errors():
    x, w = labs.zeros((32, 128)), labs.zeros((10, 64))
    with pytest.raises(
        RuntimeError,
        match=r"mat1 and mat2 shapes cannot be multiplied \(32x128 and 64x10\)",
    ):
        labs.functional.linear(x, w)


def test_a_small_network_end_to_end():
    """Many ops chained, with fan-out: the gradient must still match torch."""
    rng = np.random.default_rng(1)
    x, w1, w2 = (
        rng.standard_normal((4, 3)),
        rng.standard_normal((3, 5)),
        rng.standard_normal((5, 2)),
    )

    def net(lib):
        def run(x, w1, w2):
            h = (x @ w1).tanh()
            h = h * h.sigmoid() + h  # fan-out: h is used three times
            return (h @ w2).log_softmax(1).sum()

        return run

    compare(net(labs), net(torch), x, w1, w2)


# ---- ops added for PyTorch parity (issue: "labs never returns a silently wrong gradient")


@st.composite
def pair_with_ties_and_nans(draw, max_dims=3):
    """Broadcastable arrays drawn from few values, so that ties and NaNs are common."""
    values = st.sampled_from([-1.0, 0.0, 0.5, 2.0, float("nan")])
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=max_dims, max_side=3)
    )
    a, b = shapes.input_shapes
    return draw(arrays(a, values)), draw(arrays(b, values))


@pytest.mark.parametrize("which", ["maximum", "minimum", "max", "min"])
@given(pair=pair_with_ties_and_nans())
def test_binary_extremum_with_ties_and_nans(which, pair):
    compare(getattr(labs, which), getattr(torch, which), *pair)


@given(
    x=arrays(
        hnp.array_shapes(max_dims=3, max_side=4),
        st.sampled_from([-1.0, 0.0, 2.0, float("nan")]),
    )
)
def test_gradients_at_nan_follow_pytorch(x):
    for name in ("abs", "relu", "clamp"):
        labs_fn = getattr(labs, name) if name != "clamp" else (lambda t: t.clamp(0, 1))
        torch_fn = (
            getattr(torch, name) if name != "clamp" else (lambda t: t.clamp(0, 1))
        )
        compare(labs_fn, torch_fn, x)


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@given(pair=broadcastable_pair(max_dims=3))
def test_division_rounding_modes(mode, pair):
    a, b = pair
    b = np.where(np.abs(b) < 0.2, 0.5, b)
    compare(
        lambda x, y: labs.ops.div(x, y, rounding_mode=mode),
        lambda x, y: torch.div(x, y, rounding_mode=mode),
        a * 4,
        b,
    )


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@given(
    pair=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
    data=st.data(),
)
def test_integer_division_rounding_modes(mode, pair, data):
    a = data.draw(
        hnp.arrays(np.int64, pair.input_shapes[0], elements=st.integers(-9, 9))
    )
    b = data.draw(
        hnp.arrays(
            np.int64, pair.input_shapes[1], elements=st.integers(-4, 4).filter(bool)
        )
    )
    got = labs.ops.div(labs.tensor(a), labs.tensor(b), rounding_mode=mode)
    expected = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@given(data=st.data())
def test_clamp_with_tensor_bounds_differentiates_the_bounds(data):
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3)
    )
    values = st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5])  # ties with the bounds
    # x has the result's shape: PyTorch's own backward fails when x is the one broadcast
    x = data.draw(arrays(shapes.result_shape, values))
    low, high = (data.draw(arrays(s, values)) for s in shapes.input_shapes[1:])
    which = data.draw(st.sampled_from(["both", "min", "max"]))
    if which == "both":
        compare(
            lambda t, lo, hi: labs.clamp(t, lo, hi),
            lambda t, lo, hi: torch.clamp(t, lo, hi),
            x,
            low,
            high,
        )
    else:
        compare(
            lambda t, bound: labs.clamp(t, **{which: bound}),
            lambda t, bound: torch.clamp(t, **{which: bound}),
            x,
            low,
        )


@given(pair=broadcastable_pair(max_dims=3), alpha=st.sampled_from([1, 2, -0.5]))
def test_add_sub_rsub_with_alpha(pair, alpha):
    for name in ("add", "sub", "rsub"):
        compare(
            lambda a, b: getattr(labs.ops, name)(a, b, alpha=alpha),  # noqa: B023
            lambda a, b: getattr(torch, name)(a, b, alpha=alpha),  # noqa: B023
            *pair,
        )


def test_two_numbers_give_the_default_dtype():
    for name in ("add", "sub", "mul", "div"):
        got = getattr(labs.ops, name)(-4.8, -7.5)
        expected = (
            getattr(torch, name)(-4.8, -7.5) if name != "sub" else torch.tensor(2.7)
        )
        assert got.dtype == np.float32 and expected.dtype == torch.float32
        assert got.shape == ()
        np.testing.assert_allclose(got.numpy(), expected.numpy())
    assert labs.ops.add(2, 3).dtype == np.int64 == torch.add(2, 3).numpy().dtype


@given(
    x=arrays(hnp.array_shapes(min_dims=2, max_dims=3, max_side=4)),
    data=st.data(),
    smoothing=st.sampled_from([0.0, 0.2]),
)
def test_cross_entropy_with_probabilities_and_label_smoothing(x, data, smoothing):
    target = data.draw(arrays(x.shape, st.floats(0, 1)))
    compare(
        lambda logits, p: labs.functional.cross_entropy(
            logits, p, label_smoothing=smoothing
        ),
        lambda logits, p: torch.nn.functional.cross_entropy(
            logits, p, label_smoothing=smoothing
        ),
        x,
        target,
    )


def test_cross_entropy_loss_module_takes_ignore_index():
    logits = np.random.default_rng(3).standard_normal((5, 4))
    target = np.array([0, 2, -1, 3, -1])
    got = labs.nn.CrossEntropyLoss(ignore_index=-1)(
        labs.tensor(logits), labs.tensor(target)
    )
    expected = torch.nn.CrossEntropyLoss(ignore_index=-1)(
        torch.tensor(logits), torch.tensor(target)
    )
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)


def test_conversions_and_aliases():
    x = labs.tensor([[1.7, -2.5], [0.0, 3.2]], dtype=np.float64)
    t = torch.tensor(x.numpy())
    for method in ("int", "long", "float", "double", "bool"):
        got, expected = getattr(x, method)(), getattr(t, method)()
        assert got.numpy().dtype == expected.numpy().dtype
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    np.testing.assert_array_equal(x.clip(-1, 1).numpy(), t.clip(-1, 1).numpy())
    np.testing.assert_array_equal(labs.mm(x, x).numpy(), torch.mm(t, t).numpy())
    np.testing.assert_array_equal(
        x.sum(axis=0, keepdims=True).numpy(), t.sum(axis=0, keepdims=True).numpy()
    )


def test_softmax_over_an_empty_dimension():
    for shape, dim in [((2, 0), 1), ((0, 3), 0), ((0,), 0)]:
        for name in ("softmax", "log_softmax"):
            got = getattr(labs, name)(labs.zeros(shape, dtype=np.float64), dim)
            expected = getattr(torch, name)(
                torch.zeros(shape, dtype=torch.float64), dim
            )
            assert got.shape == tuple(expected.shape)
