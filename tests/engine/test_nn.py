"""labs.nn and labs.optim against torch.nn and torch.optim with the same weights (float64)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import labs
from labs import nn, optim

from .helpers import assert_close


def lenet(lib, channels=1):
    return lib.nn.Sequential(
        lib.nn.Conv2d(channels, 4, 3, padding=1),
        lib.nn.Tanh(),
        lib.nn.MaxPool2d(2),
        lib.nn.Conv2d(4, 6, 3),
        lib.nn.ReLU(),
        lib.nn.AvgPool2d(2),
        lib.nn.Flatten(),
        lib.nn.Linear(6, 5),
        lib.nn.Sigmoid(),
        lib.nn.Linear(5, 3),
    )


def twins():
    torch.manual_seed(0)
    reference = lenet(torch).double()
    ours = lenet(labs).double()
    ours.load_state_dict(
        {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    )
    return ours, reference


def test_parameter_names_and_shapes_match_torch():
    ours, reference = twins()
    ours_named = [(name, p.shape) for name, p in ours.named_parameters()]
    torch_named = [(name, tuple(p.shape)) for name, p in reference.named_parameters()]
    assert ours_named == torch_named
    assert sum(p.numel() for p in ours.parameters()) == sum(
        p.numel() for p in reference.parameters()
    )


def test_small_cnn_parameter_count_from_the_reference():
    """Conv2d(3,16,3,p=1)-Tanh-Pool-Conv2d(16,8,3,p=1)-Tanh-Pool-Flatten-Linear-Tanh-
    Linear: 18090."""
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 8, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 8 * 8, 32),
        nn.Tanh(),
        nn.Linear(32, 2),
    )
    assert [p.numel() for p in net.parameters()] == [432, 16, 1152, 8, 16384, 32, 64, 2]
    assert net(labs.zeros(1, 3, 32, 32)).shape == (1, 2)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: (lib.optim.SGD, dict(lr=0.1)),
        lambda lib: (lib.optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=1e-3)),
        lambda lib: (lib.optim.Adam, dict(lr=0.01)),
        lambda lib: (
            lib.optim.Adam,
            dict(lr=0.02, betas=(0.8, 0.99), weight_decay=1e-2),
        ),
    ],
    ids=["sgd", "sgd-momentum-decay", "adam", "adam-decay"],
)
def test_training_steps_agree_with_torch(make):
    ours, reference = twins()
    rng = np.random.default_rng(0)
    labs_class, options = make(labs)
    torch_class, _ = make(torch)
    ours_opt = labs_class(ours.parameters(), **options)
    torch_opt = torch_class(reference.parameters(), **options)
    for step in range(5):
        x = rng.standard_normal((4, 1, 8, 8))
        target = rng.integers(0, 3, 4)
        loss = labs.functional.cross_entropy(ours(labs.tensor(x)), labs.tensor(target))
        torch_loss = torch.nn.functional.cross_entropy(
            reference(torch.from_numpy(x)), torch.from_numpy(target)
        )
        assert abs(loss.item() - torch_loss.item()) < 1e-10, f"step {step}"
        ours_opt.zero_grad()
        torch_opt.zero_grad()
        loss.backward()
        torch_loss.backward()
        ours_opt.step()
        torch_opt.step()
    for (name, p), q in zip(ours.named_parameters(), reference.parameters()):
        assert_close(p.data, q.detach().numpy(), name, rtol=1e-9, atol=1e-11)


def test_initialisation_is_seeded_and_in_pytorch_range():
    labs.manual_seed(3)
    a = nn.Conv2d(2, 3, 5)
    labs.manual_seed(3)
    b = nn.Conv2d(2, 3, 5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = 1 / np.sqrt(2 * 5 * 5)
    assert np.abs(a.weight.data).max() <= bound and a.weight.dtype == np.float32
    assert a.weight.requires_grad and a.weight.is_leaf


def test_load_state_dict_rejects_mismatches():
    net = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="missing keys"):
        net.load_state_dict({"weight": np.zeros((2, 3))})
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        net.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(2)})


def test_transposed_layer_and_conv1d_match_torch():
    torch.manual_seed(1)
    for reference, ours in [
        (
            torch.nn.ConvTranspose2d(
                4, 6, 3, stride=2, padding=1, output_padding=1, groups=2
            ),
            nn.ConvTranspose2d(
                4, 6, 3, stride=2, padding=1, output_padding=1, groups=2
            ),
        ),
        (
            torch.nn.Conv1d(2, 4, 5, padding=2, dilation=2),
            nn.Conv1d(2, 4, 5, padding=2, dilation=2),
        ),
    ]:
        reference = reference.double()
        ours.double()
        ours.load_state_dict(reference.state_dict())
        shape = (2, 4, 5, 5) if isinstance(ours, nn.ConvTranspose2d) else (2, 2, 9)
        x = np.random.default_rng(0).standard_normal(shape)
        assert_close(
            ours(labs.tensor(x)).data,
            reference(torch.from_numpy(x)).detach().numpy(),
            type(ours).__name__,
        )


def test_optimizer_rejects_bad_settings():
    with pytest.raises(ValueError):
        optim.SGD([nn.Parameter(np.zeros(2))], lr=-1)
    with pytest.raises(ValueError):
        optim.Adam([], lr=0.1)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "nd, padding", [(1, 2), (2, (1, 2)), (2, "same"), (1, "valid")]
)
def test_convolution_layers_pad_in_every_mode(mode, nd, padding):
    torch.manual_seed(1)
    layer = (torch.nn.Conv1d, torch.nn.Conv2d)[nd - 1]
    reference = layer(3, 4, 3, padding=padding, padding_mode=mode, dilation=2).double()
    ours = (nn.Conv1d, nn.Conv2d)[nd - 1](
        3, 4, 3, padding=padding, padding_mode=mode, dilation=2
    ).double()
    ours.load_state_dict(
        {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    )
    x = np.random.default_rng(2).standard_normal((2, 3) + (9,) * nd)
    x_labs, x_torch = (
        labs.tensor(x, requires_grad=True),
        torch.tensor(x, requires_grad=True),
    )
    out_labs, out_torch = ours(x_labs), reference(x_torch)
    assert_close(out_labs.data, out_torch.detach().numpy(), "output")
    out_labs.sum().backward()
    out_torch.sum().backward()
    assert_close(x_labs.grad.data, x_torch.grad.numpy(), "input gradient")
    assert_close(
        ours.weight.grad.data, reference.weight.grad.numpy(), "weight gradient"
    )
    assert ("padding_mode" in repr(ours)) == (mode != "zeros")


def test_one_dimensional_layers_and_losses_match_torch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 10))
    torch.manual_seed(0)
    pairs = [
        (
            torch.nn.ConvTranspose1d(
                4, 3, 3, stride=2, padding=1, output_padding=1
            ).double(),
            nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1, output_padding=1).double(),
        ),
        (
            torch.nn.MaxPool1d(3, stride=2, padding=1),
            nn.MaxPool1d(3, stride=2, padding=1),
        ),
        (
            torch.nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
            nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
        ),
    ]
    for reference, ours in pairs:
        state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
        if state:
            ours.load_state_dict(state)
        assert_close(
            ours(labs.tensor(x)).data,
            reference(torch.tensor(x)).detach().numpy(),
            type(ours).__name__,
        )
    logp = torch.log_softmax(torch.tensor(rng.standard_normal((5, 3))), 1)
    target = torch.tensor([0, 2, 1, 1, 0])
    assert_close(
        nn.NLLLoss(reduction="sum")(
            labs.tensor(logp.numpy()), labs.tensor(target.numpy())
        ).data,
        torch.nn.NLLLoss(reduction="sum")(logp, target).numpy(),
        "NLLLoss",
    )
    a, b = rng.standard_normal((2, 4, 3))
    assert_close(
        nn.MSELoss()(labs.tensor(a), labs.tensor(b)).data,
        torch.nn.MSELoss()(torch.tensor(a), torch.tensor(b)).numpy(),
        "MSELoss",
    )
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_nn_functional_is_where_pytorch_code_looks_for_it():
    """``torch.nn.functional`` code runs on labs unchanged: the same module, by attribute
    and by import, in a fresh interpreter (so the import does not rely on labs having
    been imported first)."""
    program = (
        "import labs.nn.functional as F\n"
        "from labs.nn import functional\n"
        "import labs\n"
        "assert F is functional is labs.functional is labs.nn.functional\n"
        "x = labs.ones((1, 1, 4, 4))\n"
        "print(tuple(labs.nn.functional.conv2d(x, labs.ones((2, 1, 3, 3))).shape))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "(1, 2, 2, 2)"
