"""Checkers for the exercises: run your answer on many cases against PyTorch.

Call a checker right below your exercise cell::

    from labs import check

    check.conv1d(my_conv1d)

It returns a :class:`Result`, shown as a short verdict ("✔ conv1d: passed all 40
cases.") or the first case that failed, with what was expected, what your code gave,
and a hint when a common mistake explains your answers on every case. A stub that still
raises ``NotImplementedError`` is "not attempted yet". ``result.raise_for_failure()``
(or ``raise_on_failure=True``) turns a failure into a :class:`CheckFailed` exception.

PyTorch is the oracle, in float64; the checkers never use the ``labs`` engine. Values
must agree within ``|got − expected| ≤ 1e-8 + 1e-6·|expected|`` (as ``np.allclose``),
sizes exactly, and a float64 answer must not have been computed in float32. Cases are
seeded: a checker gives the same verdict on every run and every machine. It runs with
gradients on and numpy's default settings whatever the notebook left switched on, stops
a call that does not return within a few seconds, shows only the first lines your code
prints, and leaves your random state and settings as they were. Every checker is an
exercise declared once in ``labs.check._core`` terms (its cases, its comparison, its
usual mistakes); CONTRIBUTING.md explains how to add one. Introduction chapter: "How
the checks work".
"""

from labs.check._result import CheckFailed, Result
from labs.check.arithmetic import (
    layer_design,
    same_padding,
    size_predictions,
    stack_output_size,
)
from labs.check.autograd import function, gradient
from labs.check.blocks import (
    conv2d_via_unfold,
    grouped_conv2d,
    separable_costs,
    stack_design,
)
from labs.check.capstone import (
    adam_step,
    cross_entropy_backward,
    log_softmax,
    max_pool2d_backward,
    network_prediction,
    same_network,
    sgd_step,
)
from labs.check.conv import conv1d, conv2d, conv_transpose2d
from labs.check.derivatives import predicted_grad, vjp
from labs.check.dilated import (
    dilated_conv1d,
    dilated_stack_prediction,
    dilation_design,
    field_offsets,
)
from labs.check.engine import (
    conv1d_backward,
    matmul_backward,
    mul_backward,
    relu_backward,
    sum_backward,
    topological_sort,
)
from labs.check.higher import function_jvp, hvp
from labs.check.inplace import inplace_errors
from labs.check.layers import (
    conv_pool_prediction,
    grouped_conv1d_prediction,
    max_pool2d,
    shape_design,
)
from labs.check.matrices import conv1d_matrix
from labs.check.networks import conv2d_parameters, network_output_shape
from labs.check.sizes import output_size, transposed_output_size
from labs.check.training import checkpointed_forward, gradient_norms
from labs.check.transposed import (
    conv2d_matrix,
    gradient_prediction,
    restoring_output_padding,
    upsampling_design,
)
from labs.check.vanishing import tanh_init_std

__all__ = [
    "Result",
    "CheckFailed",
    "output_size",
    "transposed_output_size",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "conv1d_matrix",
    "grouped_conv1d_prediction",
    "gradient",
    "function",
    "stack_output_size",
    "same_padding",
    "size_predictions",
    "layer_design",
    "conv2d_parameters",
    "network_output_shape",
    "conv_pool_prediction",
    "max_pool2d",
    "shape_design",
    "dilated_stack_prediction",
    "dilated_conv1d",
    "dilation_design",
    "field_offsets",
    "conv2d_matrix",
    "restoring_output_padding",
    "upsampling_design",
    "gradient_prediction",
    "predicted_grad",
    "vjp",
    "mul_backward",
    "matmul_backward",
    "sum_backward",
    "relu_backward",
    "conv1d_backward",
    "topological_sort",
    "network_prediction",
    "same_network",
    "log_softmax",
    "cross_entropy_backward",
    "max_pool2d_backward",
    "sgd_step",
    "adam_step",
    "tanh_init_std",
    "separable_costs",
    "grouped_conv2d",
    "stack_design",
    "conv2d_via_unfold",
    "gradient_norms",
    "checkpointed_forward",
    "inplace_errors",
    "hvp",
    "function_jvp",
]
