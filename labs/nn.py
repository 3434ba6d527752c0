"""Layers with parameters, shaped like ``torch.nn`` (used by the capstone, chapter 9).

A :class:`Module` holds :class:`Parameter` tensors and sub-modules, finds them all for
an optimizer (``parameters()``), and maps names to arrays (``state_dict()``) with
PyTorch's naming, so weights can be copied between a labs network and the same
network in PyTorch::

    net.load_state_dict({k: v.detach().numpy() for k, v in torch_net.state_dict().items()})

Parameters are initialised as PyTorch initialises them (uniform in ±1/sqrt(fan_in) for
the layers here), drawn from :data:`labs.nn.default_generator`; seed it with
:func:`labs.manual_seed` or pass ``generator=`` to a layer.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict

import numpy as np

from labs import functional as F
from labs.autograd import bump_version
from labs.ops import flatten
from labs.tensor import Tensor

# ``torch.nn.functional`` is reachable from ``torch.nn``: the same module here, so code
# written for PyTorch (``labs.nn.functional.conv2d``, ``import labs.nn.functional as F``)
# runs on labs unchanged.
functional = F
sys.modules.setdefault(__name__ + ".functional", F)

__all__ = [
    "Parameter",
    "Module",
    "Sequential",
    "Linear",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Flatten",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "manual_seed",
    "default_generator",
]

default_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reseed :data:`default_generator`, from which layers draw their initial weights."""
    global default_generator
    default_generator = np.random.default_rng(seed)


class Parameter(Tensor):
    """A tensor that is a module's learnable parameter: it always requires grad."""

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(
            np.array(data.data if isinstance(data, Tensor) else data),
            requires_grad=requires_grad,
        )

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class: assign Parameters and Modules as attributes, define ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def __call__(self, *args):
        return self.forward(*args)

    def named_parameters(self, prefix: str = ""):
        """(name, parameter) pairs, recursively, named as in PyTorch ("0.weight", ...)."""
        for name, parameter in self._parameters.items():
            yield prefix + name, parameter
        for name, module in self._modules.items():
            yield from module.named_parameters(prefix + name + ".")

    def parameters(self):
        return [parameter for _, parameter in self.named_parameters()]

    def children(self):
        return list(self._modules.values())

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters():
            if set_to_none:
                parameter.grad = None
            elif parameter.grad is not None:
                parameter.grad.zero_()

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Every parameter's array (a copy), by PyTorch-style name."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state) -> None:
        """Copy arrays into the parameters; names and shapes must match exactly."""
        own = dict(self.named_parameters())
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        for name, value in state.items():
            array = np.asarray(
                value.detach().numpy() if hasattr(value, "detach") else value
            )
            if array.shape != own[name].shape:
                raise RuntimeError(
                    f"size mismatch for {name}: copying a param with shape {list(array.shape)}, "
                    f"the shape in current model is {list(own[name].shape)}"
                )
            own[name].data[...] = array
            bump_version(own[name].data)

    def to(self, dtype) -> Module:
        """Convert every parameter to ``dtype`` in place (e.g. ``labs.float64``)."""
        for parameter in self.parameters():
            parameter.data = parameter.data.astype(dtype)
            parameter.grad = None
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, module in self._modules.items():
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after the other; named "0", "1", ... as in PyTorch."""

    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            setattr(self, str(index), module)

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


def _uniform(generator, bound, shape, dtype=np.float32):
    generator = default_generator if generator is None else generator
    return generator.uniform(-bound, bound, size=shape).astype(dtype)


def _pair(value, nd):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * nd


class Linear(Module):
    """``y = x W^T + b`` with W of shape (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, generator=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features) if in_features else 0.0
        self.weight = Parameter(_uniform(generator, bound, (out_features, in_features)))
        self.bias = (
            Parameter(_uniform(generator, bound, (out_features,))) if bias else None
        )

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class _ConvNd(Module):
    nd = 2
    transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        generator=None,
        output_padding=0,
    ):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups ({groups})"
            )
        modes = (
            ("zeros",)
            if self.transposed
            else ("zeros", "reflect", "replicate", "circular")
        )
        if padding_mode not in modes:
            raise ValueError(
                f"padding_mode must be one of {list(modes)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.padding_mode = padding_mode
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, self.nd)
        self.stride, self.dilation = _pair(stride, self.nd), _pair(dilation, self.nd)
        self.padding = padding if isinstance(padding, str) else _pair(padding, self.nd)
        self.output_padding = _pair(output_padding, self.nd)
        self.groups = groups
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
            fan_in = shape[1] * math.prod(self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
            fan_in = shape[1] * math.prod(self.kernel_size)
        bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
        self.weight = Parameter(_uniform(generator, bound, shape))
        self.bias = (
            Parameter(_uniform(generator, bound, (out_channels,))) if bias else None
        )

    def _convolve(self, x, function):
        """``function`` (F.conv1d or F.conv2d) with this layer's settings and padding mode.

        Padding other than zeros is done by ``F.pad`` first, as PyTorch does.
        """
        padding = self.padding
        if self.padding_mode != "zeros":
            if padding == "same":
                totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
                pairs = [(t // 2, t - t // 2) for t in totals]
            else:
                pairs = (
                    [(0, 0)] * self.nd
                    if padding == "valid"
                    else [(p, p) for p in padding]
                )
            flat = [amount for pair in reversed(pairs) for amount in pair]
            x, padding = F.pad(x, flat, mode=self.padding_mode), 0
        return function(
            x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )

    def extra_repr(self):
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding not in ((0,) * self.nd, "valid"):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.nd:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution layer; weight (C_out, C_in/groups, k), bias (C_out,)."""

    nd = 1

    def forward(self, x):
        return self._convolve(x, F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution layer; weight (C_out, C_in/groups, kH, kW), bias (C_out,)."""

    nd = 2

    def forward(self, x):
        return self._convolve(x, F.conv2d)


class ConvTranspose1d(_ConvNd):
    """1-D transposed convolution layer; weight (C_in, C_out/groups, k)."""

    nd = 1
    transposed = True

    def forward(self, x):
        return F.conv_transpose1d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution layer; weight (C_in, C_out/groups, kH, kW)."""

    nd = 2
    transposed = True

    def forward(self, x):
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )


class _MaxPoolNd(Module):
    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.ceil_mode = dilation, ceil_mode

    def forward(self, x):
        return self.function(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
        )

    def extra_repr(self):
        stride = self.kernel_size if self.stride is None else self.stride
        return (
            f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"
        )


class MaxPool1d(_MaxPoolNd):
    function = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    function = staticmethod(F.max_pool2d)


class AvgPool1d(Module):
    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return F.avg_pool1d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self):
        stride = self.kernel_size if self.stride is None else self.stride
        return (
            f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"
        )


class AvgPool2d(AvgPool1d):
    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x):
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Flatten(Module):
    """Flatten dimensions ``start_dim..end_dim`` (by default all but the batch)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class CrossEntropyLoss(Module):
    """``F.cross_entropy`` as a module (``torch.nn.CrossEntropyLoss``)."""

    def __init__(
        self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
    ):
        super().__init__()
        self.weight, self.ignore_index = weight, ignore_index
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(Module):
    """``F.nll_loss`` as a module (``torch.nn.NLLLoss``)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__()
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction

    def forward(self, input, target):
        return F.nll_loss(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class MSELoss(Module):
    """``F.mse_loss`` as a module (``torch.nn.MSELoss``)."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
