"""hvp and function_jvp: correct answers and planted mistakes, each written as a learner
might write it."""

from __future__ import annotations

import torch

from labs import check

from ..registry import NO_HINT, Entry, Planted

# --- hvp ------------------------------------------------------------------------------


def hvp_double_backward(f, x, v):
    x = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (hv,) = torch.autograd.grad((g * v).sum(), x)
    return hv


def hvp_grad_outputs(f, x, v):
    """v as the upstream gradient of the second pass: H^T v = H v."""
    x = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v)
    return hv


def hvp_backward(f, x, v):
    """The second pass with .backward(), the answer in x.grad."""
    x = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (g * v).sum().backward()
    return x.grad


def hvp_forward_over_reverse(f, x, v):
    return torch.func.jvp(torch.func.grad(f), (x,), (v,))[1]


def hvp_numpy(f, x, v):
    return hvp_double_backward(f, x, v).numpy()


def _first_pass(f, x):
    x = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    return x, g


def forgot_create_graph(f, x, v):
    x = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x)
    (hv,) = torch.autograd.grad((g * v).sum(), x)
    return hv


def forgot_requires_grad(f, x, v):
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (hv,) = torch.autograd.grad((g * v).sum(), x)
    return hv


def gradient_only(f, x, v):
    return _first_pass(f, x)[1]


def v_times_gradient(f, x, v):
    return v * _first_pass(f, x)[1]


def v_as_first_upstream(f, x, v):
    x = x.detach().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, grad_outputs=v, create_graph=True)
    (hv,) = torch.autograd.grad(g.sum(), x)
    return hv


def v_left_out(f, x, v):
    x, g = _first_pass(f, x)
    return torch.autograd.grad(g.sum(), x)[0]


def v_times_row_sums(f, x, v):
    return v * v_left_out(f, x, v)


def whole_hessian(f, x, v):
    return torch.autograd.functional.hessian(f, x)


def formed_hessian(f, x, v):
    n = x.numel()
    hessian = torch.autograd.functional.hessian(f, x).reshape(n, n)
    return (hessian @ v.reshape(n)).reshape(x.shape)


def formed_hessian_func(f, x, v):
    n = x.numel()
    return (torch.func.hessian(f)(x).reshape(n, n) @ v.reshape(n)).reshape(x.shape)


def formed_hessian_in_numpy(f, x, v):
    hessian = torch.autograd.functional.hessian(f, x).numpy()
    n = x.numel()
    return (hessian.reshape(n, n) @ v.numpy().reshape(n)).reshape(x.shape)


def dot_with_matmul(f, x, v):
    x, g = _first_pass(f, x)
    return torch.autograd.grad(g @ v, x)[0]


def second_pass_on_g(f, x, v):
    x, g = _first_pass(f, x)
    return torch.autograd.grad(g, x)[0]


def detached_gradient(f, x, v):
    x, g = _first_pass(f, x)
    return torch.autograd.grad((g.detach() * v).sum(), x, allow_unused=True)[0]


def doubled(f, x, v):
    return 2 * hvp_double_backward(f, x, v)


def negated(f, x, v):
    return -hvp_double_backward(f, x, v)


def float32(f, x, v):
    return (hvp_double_backward(f, x, v).float() * (1 + 1e-7)).double()


def zero(f, x, v):
    return torch.zeros_like(x)


def one_element_off(f, x, v):
    hv = hvp_double_backward(f, x, v).clone()
    hv.view(-1)[0] += 0.5
    return hv


def a_number(f, x, v):
    return float(hvp_double_backward(f, x, v).sum())


HVP_MISTAKES = {
    "forgot-create-graph": (forgot_create_graph, "create_graph=True"),
    "forgot-requires-grad": (forgot_requires_grad, "requires_grad_()"),
    "returned-the-gradient": (gradient_only, "the gradient of f, not H v"),
    "v-times-the-gradient": (v_times_gradient, "v times the gradient"),
    "v-as-upstream-of-the-first-pass": (
        v_as_first_upstream,
        "v is not its grad_outputs",
    ),
    "v-left-out": (v_left_out, "v is missing"),
    "v-times-row-sums": (v_times_row_sums, "only when H is diagonal"),
    "whole-hessian-returned": (whole_hessian, "the whole Hessian (3×3)"),
    "formed-the-hessian": (formed_hessian, "needs no n × n matrix"),
    "formed-the-hessian-with-torch-func": (
        formed_hessian_func,
        "needs no n × n matrix",
    ),
    "matmul-on-a-matrix": (dot_with_matmul, "(g * v).sum() works for every shape"),
    "second-pass-without-v": (second_pass_on_g, "pass grad_outputs=v"),
    "detached-gradient": (detached_gradient, "detached"),
    "doubled": (doubled, "2× the true one"),
    "sign": (negated, "wrong sign"),
    "float32": (float32, "float32"),
    "zero": (zero, "0 everywhere"),
    "one-element-off": (one_element_off, NO_HINT),
    "a-single-number": (a_number, "one entry per element of x"),
    "returns-none": (lambda f, x, v: None, "forget return"),
    "returns-a-list": (lambda f, x, v: [0.0] * x.numel(), "not a list"),
}


# --- function_jvp ---------------------------------------------------------------------


class Sigmoid(torch.autograd.Function):
    """Chapter 8's exercise, solved: the output saved for both backward and jvp."""

    @staticmethod
    def forward(x):
        return torch.sigmoid(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return y * (1 - y) * grad_output

    @staticmethod
    def jvp(ctx, grad_input):
        (y,) = ctx.saved_tensors
        return y * (1 - y) * grad_input


class SigmoidFromInput(Sigmoid):
    """jvp recomputes the output from the input, saved for forward."""

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def jvp(ctx, grad_input):
        (x,) = ctx.saved_tensors
        y = torch.sigmoid(x)
        return y * (1 - y) * grad_input


class SigmoidVmap(Sigmoid):
    generate_vmap_rule = True


class Mul(torch.autograd.Function):
    @staticmethod
    def forward(a, b):
        return a * b

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)
        ctx.save_for_forward(*inputs)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b, grad_output * a

    @staticmethod
    def jvp(ctx, grad_a, grad_b):
        a, b = ctx.saved_tensors
        return grad_a * b + a * grad_b


class SinCos(torch.autograd.Function):
    """Two outputs, so jvp returns two tangents."""

    @staticmethod
    def forward(x):
        return torch.sin(x), torch.cos(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        (x,) = ctx.saved_tensors
        return grad_sin * torch.cos(x) - grad_cos * torch.sin(x)

    @staticmethod
    def jvp(ctx, grad_input):
        (x,) = ctx.saved_tensors
        return torch.cos(x) * grad_input, -torch.sin(x) * grad_input


def sin_cos(x):
    return torch.sin(x), torch.cos(x)


def _sigmoid_with(jvp=None, setup_context=None, backward=None, name="Sigmoid"):
    """Sigmoid with one method replaced, as a learner might have written it."""
    methods = {}
    for key, method in (
        ("jvp", jvp),
        ("setup_context", setup_context),
        ("backward", backward),
    ):
        if method is not None:
            methods[key] = staticmethod(method)
    return type(name, (Sigmoid,), methods)


def _derivative(ctx):
    (y,) = ctx.saved_tensors
    return y * (1 - y)


def _saves_for_backward_only(ctx, inputs, output):
    ctx.save_for_backward(output)


def _saves_for_forward_only(ctx, inputs, output):
    ctx.save_for_forward(output)


def _output_on_ctx(ctx, inputs, output):
    ctx.save_for_backward(output)
    ctx.y = output


def _jvp_from_attribute(ctx, grad_input):
    return ctx.y * (1 - ctx.y) * grad_input


def _jvp_in_place(ctx, grad_input):
    return grad_input.mul_(_derivative(ctx))


def _jvp_numpy(ctx, grad_input):
    return (_derivative(ctx) * grad_input).numpy()


class SigmoidNoJvp(torch.autograd.Function):
    """Sigmoid as chapter 8's Tanh was: no jvp at all."""

    @staticmethod
    def forward(x):
        return torch.sigmoid(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return y * (1 - y) * grad_output


class SigmoidOldStyle(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.sigmoid(x)
        ctx.save_for_backward(y)
        ctx.save_for_forward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return y * (1 - y) * grad_output

    @staticmethod
    def jvp(ctx, grad_input):
        (y,) = ctx.saved_tensors
        return y * (1 - y) * grad_input


class MulFirstTangentOnly(Mul):
    @staticmethod
    def jvp(ctx, grad_a, grad_b):
        a, b = ctx.saved_tensors
        return grad_a * b


class MulTangentsSwapped(Mul):
    @staticmethod
    def jvp(ctx, grad_a, grad_b):
        a, b = ctx.saved_tensors
        return grad_a * a + b * grad_b


JVP_MISTAKES = {
    "primal-output": (
        _sigmoid_with(jvp=lambda ctx, u: ctx.saved_tensors[0]),
        "the output's value, not its tangent",
    ),
    "tangent-left-out": (
        _sigmoid_with(jvp=lambda ctx, u: _derivative(ctx)),
        "without multiplying it by the tangent",
    ),
    "tangent-unchanged": (
        _sigmoid_with(jvp=lambda ctx, u: u),
        "the tangent it receives unchanged",
    ),
    "primal-input": (
        _sigmoid_with(
            setup_context=lambda ctx, inputs, output: (
                ctx.save_for_backward(output),
                ctx.save_for_forward(inputs[0]),
            ),
            jvp=lambda ctx, u: ctx.saved_tensors[0].detach(),
        ),
        "returns the input x, not a tangent",
    ),
    "input-returned-as-it-is": (
        _sigmoid_with(
            setup_context=lambda ctx, inputs, output: (
                ctx.save_for_backward(output),
                ctx.save_for_forward(inputs[0]),
            ),
            jvp=lambda ctx, u: ctx.saved_tensors[0],
        ),
        "has a tangent of its own",
    ),
    "times-the-input": (
        _sigmoid_with(
            setup_context=lambda ctx, inputs, output: (
                ctx.save_for_backward(output),
                ctx.save_for_forward(output, inputs[0]),
            ),
            jvp=lambda ctx, u: (
                ctx.saved_tensors[0] * (1 - ctx.saved_tensors[0]) * ctx.saved_tensors[1]
            ),
        ),
        "by the input x, not by the tangent",
    ),
    "sign": (
        _sigmoid_with(jvp=lambda ctx, u: -_derivative(ctx) * u),
        "wrong sign",
    ),
    "forgot-save-for-forward": (
        _sigmoid_with(setup_context=_saves_for_backward_only),
        "save_for_forward",
    ),
    "save-for-backward-dropped": (
        _sigmoid_with(setup_context=_saves_for_forward_only),
        "keep that call",
        "failed in backward",
    ),
    "output-as-ctx-attribute": (
        _sigmoid_with(setup_context=_output_on_ctx, jvp=_jvp_from_attribute),
        "ctx.save_for_forward(...)",
        "(ctx.y)",
    ),
    "jvp-in-place": (_sigmoid_with(jvp=_jvp_in_place), "not u.mul_(d)"),
    "jvp-returns-numpy": (_sigmoid_with(jvp=_jvp_numpy), "torch operations"),
    "jvp-returns-none": (_sigmoid_with(jvp=lambda ctx, u: None), "returned None"),
    "jvp-returns-a-list": (
        _sigmoid_with(jvp=lambda ctx, u: [0.0]),
        "not numpy arrays, lists",
    ),
    "jvp-returns-a-number": (
        _sigmoid_with(jvp=lambda ctx, u: (_derivative(ctx) * u).sum()),
        "the shape of that output",
    ),
    "jvp-returns-two-tangents": (
        _sigmoid_with(jvp=lambda ctx, u: (_derivative(ctx) * u, u)),
        "one tangent per output",
    ),
    "jvp-without-the-tangent-argument": (
        _sigmoid_with(jvp=lambda ctx: None),
        "one tangent per input",
    ),
    "float32": (
        _sigmoid_with(jvp=lambda ctx, u: (_derivative(ctx) * u).float()),
        "float32",
    ),
    "zero": (
        _sigmoid_with(jvp=lambda ctx, u: torch.zeros_like(u)),
        "0 everywhere",
    ),
    "wrong-on-a-half": (
        _sigmoid_with(
            jvp=lambda ctx, u: _derivative(ctx) * u * torch.where(u > 0, 1.0, 2.0)
        ),
        NO_HINT,
    ),
    "missing-jvp": (SigmoidNoJvp, "define jvp(ctx, *grad_inputs)", "no jvp static"),
    "old-style": (SigmoidOldStyle, "setup_context(ctx, inputs, output)", "old style"),
    "jvp-delegates-to-the-base-class": (
        _sigmoid_with(jvp=lambda ctx, u: torch.autograd.Function.jvp(ctx, u)),
        "Functions that define jvp",
        "without a jvp method",
    ),
}


def _jvp_learner(behaviour):
    """Sigmoid whose jvp is the learner's code."""

    class Learner(Sigmoid):
        @staticmethod
        def jvp(ctx, grad_input):
            return behaviour(grad_input)

    return check.function_jvp(Learner, torch.sigmoid)


def _jvp_planted(name, cls, hint, *words):
    return Planted(
        name, lambda: check.function_jvp(cls, torch.sigmoid), hint, tuple(words)
    )


ENTRIES = [
    Entry(
        "hvp",
        learner=lambda behaviour: check.hvp(behaviour),
        solutions=tuple(
            (fn.__name__, lambda fn=fn: check.hvp(fn))
            for fn in (
                hvp_double_backward,
                hvp_grad_outputs,
                hvp_backward,
                hvp_forward_over_reverse,
                hvp_numpy,
                lambda f, x, v: torch.autograd.functional.hvp(f, x, v)[1],
            )
        ),
        mistakes=tuple(
            Planted(name, lambda fn=fn: check.hvp(fn), hint)
            for name, (fn, hint) in HVP_MISTAKES.items()
        )
        + (
            Planted(
                "formed-the-hessian-in-numpy",
                lambda: check.hvp(formed_hessian_in_numpy),
                None,
                ("the whole Hessian",),
            ),
        ),
    ),
    Entry(
        "function_jvp",
        learner=_jvp_learner,
        solutions=tuple(
            (
                name,
                lambda cls=cls, reference=reference, shapes=shapes: check.function_jvp(
                    cls, reference, shapes=shapes
                ),
            )
            for name, cls, reference, shapes in [
                ("sigmoid", Sigmoid, torch.sigmoid, ((3, 4),)),
                ("from-the-input", SigmoidFromInput, torch.sigmoid, ((5,),)),
                ("with-a-vmap-rule", SigmoidVmap, torch.sigmoid, ((2, 3),)),
                ("two-inputs", Mul, torch.mul, ((3, 4), (3, 4))),
                ("two-outputs", SinCos, sin_cos, ((5,),)),
            ]
        ),
        mistakes=tuple(
            _jvp_planted(name, cls, hint, *words)
            for name, (cls, hint, *words) in JVP_MISTAKES.items()
        )
        + (
            Planted(
                "mul-first-tangent-only",
                lambda: check.function_jvp(
                    MulFirstTangentOnly, torch.mul, shapes=((3, 4), (3, 4))
                ),
                "counts only the tangent of a",
            ),
            Planted(
                "mul-tangents-times-the-wrong-input",
                lambda: check.function_jvp(
                    MulTangentsSwapped, torch.mul, shapes=((3, 4), (3, 4))
                ),
                NO_HINT,
            ),
            Planted(
                "sincos-second-tangent-wrong",
                lambda: check.function_jvp(
                    type(
                        "SinCosSign",
                        (SinCos,),
                        {
                            "jvp": staticmethod(
                                lambda ctx, u: (
                                    torch.cos(ctx.saved_tensors[0]) * u,
                                    torch.sin(ctx.saved_tensors[0]) * u,
                                )
                            )
                        },
                    ),
                    sin_cos,
                    shapes=((5,),),
                ),
                "wrong sign",
                "tangent of output 1",
            ),
            Planted(
                "apply-passed",
                lambda: check.function_jvp(Sigmoid.apply, torch.sigmoid),
                None,
                ("pass the class itself",),
            ),
            Planted(
                "plain-function",
                lambda: check.function_jvp(torch.sigmoid, torch.sigmoid),
                None,
                ("subclass of torch.autograd.Function",),
            ),
        ),
    ),
]
