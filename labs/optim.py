"""Optimizers with ``torch.optim``'s update rules (used by the capstone, chapter 9).

An optimizer holds a list of parameters and, at each ``step()``, moves every parameter
that has a gradient. The arithmetic is PyTorch's, so a labs network and the same
network in PyTorch stay together step after step (in float64, to rounding).
"""

from __future__ import annotations

import numpy as np

from labs.autograd import bump_version

__all__ = ["SGD", "Adam"]


class Optimizer:
    def __init__(self, params, defaults):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        self.defaults = defaults
        self.state = {id(p): {} for p in self.params}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data[...] = 0
                bump_version(p.grad.data)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place.

        As in PyTorch, each update counts as an in-place change (it bumps the
        parameter's version), so a graph recorded before the step cannot be used for a
        backward pass after it.
        """
        for p in self.params:
            if p.grad is not None:
                self._update(p, p.grad.data, self.state[id(p)])
                bump_version(p.data)

    def _update(self, parameter, grad, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay.

    ``g = grad + weight_decay * p``; with momentum ``b = momentum * b + g`` (``b = g`` on
    the first step); ``p -= lr * b``.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"invalid SGD settings: lr={lr}, momentum={momentum}, "
                f"weight_decay={weight_decay}"
            )
        super().__init__(
            params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
        )

    def _update(self, parameter, grad, state):
        lr, momentum, decay = (
            self.defaults[k] for k in ("lr", "momentum", "weight_decay")
        )
        if decay:
            grad = grad + decay * parameter.data
        if momentum:
            if "buffer" not in state:
                state["buffer"] = np.array(grad, copy=True)
            else:
                state["buffer"] = momentum * state["buffer"] + grad
            grad = state["buffer"]
        parameter.data -= lr * grad


class Adam(Optimizer):
    """Adam: running averages of the gradient and its square, with bias correction.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``, then
    ``p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)``, as PyTorch computes it.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr < 0 or eps < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(
                f"invalid Adam settings: lr={lr}, betas={betas}, eps={eps}"
            )
        super().__init__(
            params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        )

    def _update(self, parameter, grad, state):
        lr, (beta1, beta2), eps, decay = (
            self.defaults[k] for k in ("lr", "betas", "eps", "weight_decay")
        )
        if decay:
            grad = grad + decay * parameter.data
        if not state:
            state["step"] = 0
            state["m"] = np.zeros_like(parameter.data)
            state["v"] = np.zeros_like(parameter.data)
        state["step"] += 1
        t = state["step"]
        state["m"] = beta1 * state["m"] + (1 - beta1) * grad
        state["v"] = beta2 * state["v"] + (1 - beta2) * grad * grad
        correction1 = 1 - beta1**t
        correction2 = 1 - beta2**t
        denominator = np.sqrt(state["v"]) / np.sqrt(correction2) + eps
        parameter.data -= (lr / correction1) * state["m"] / denominator
