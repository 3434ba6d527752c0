"""Grad mode: whether operations are recorded for a backward pass.

The switches of ``torch.autograd.grad_mode``, with the same names and behaviour:
:class:`no_grad`, :class:`enable_grad`, :class:`set_grad_enabled` and
:class:`inference_mode` work as ``with`` blocks and as decorators, and
:func:`is_grad_enabled` / :func:`is_inference_mode_enabled` read the current state.
Chapter 6 explains when to use which.
"""

from __future__ import annotations

import functools

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
]


class _GradMode:
    """Whether operations record a graph, and whether inference mode is on."""

    enabled = True
    inference = False


def is_grad_enabled() -> bool:
    """Return True when new operations are recorded for backward (``torch.is_grad_enabled``)."""
    return _GradMode.enabled


def is_inference_mode_enabled() -> bool:
    """Return True inside :class:`inference_mode` (``torch.is_inference_mode_enabled``)."""
    return _GradMode.inference


class _SetGradMode:
    """Context manager and decorator that sets gradient recording on or off.

    ``enabled`` is the grad mode inside the block; ``inference`` the inference mode
    (None: leave it as it is).
    """

    enabled: bool | None = True
    inference: bool | None = None

    def __enter__(self):
        self._previous = _GradMode.enabled, _GradMode.inference
        if self.enabled is not None:
            _GradMode.enabled = self.enabled
        if self.inference is not None:
            _GradMode.inference = self.inference
        return self

    def __exit__(self, *exc_info):
        _GradMode.enabled, _GradMode.inference = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self._copy():
                return func(*args, **kwargs)

        return wrapper

    def _copy(self):
        return self.__class__()


class no_grad(_SetGradMode):
    """Disable graph recording inside a ``with`` block or a decorated function.

    Like ``torch.no_grad()``: results computed inside have ``requires_grad=False``
    and no ``grad_fn``, so nothing is kept for a backward pass.
    """

    enabled = False


class enable_grad(_SetGradMode):
    """Re-enable graph recording inside a ``no_grad`` block (``torch.enable_grad``)."""

    enabled = True


class set_grad_enabled(_SetGradMode):
    """Turn recording on or off (``torch.set_grad_enabled``).

    Called as a function it takes effect at once; used in a ``with`` block it is
    undone at the end of the block.
    """

    def __init__(self, mode: bool):
        self.enabled = bool(mode)
        self._outside = _GradMode.enabled, _GradMode.inference
        _GradMode.enabled = self.enabled

    def __enter__(self):
        self._previous = self._outside
        return self

    def _copy(self):
        return set_grad_enabled(self.enabled)


class inference_mode(_SetGradMode):
    """No recording, and results marked as *inference tensors* (``torch.inference_mode``).

    Inside the block nothing is recorded, as under :class:`no_grad`. What is created
    there is an inference tensor: it can never be saved for a later backward pass, and
    it cannot be changed in place outside inference mode. ``inference_mode(False)``
    switches inference mode off inside the block and grad mode on, as PyTorch's does.
    """

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.enabled = not self.mode
        self.inference = self.mode

    def _copy(self):
        return inference_mode(self.mode)
