"""gradient and function (custom autograd Functions): correct answers and planted
mistakes, each written as a learner might write it."""

from __future__ import annotations

import torch

from labs import check

from ..registry import NO_HINT, Entry, Planted


def cube_sum(x):
    return (x**3).sum()


def grad_cube_sum(x):
    return 3 * x**2


def product_exp(x, y):
    return (x * torch.exp(y)).sum()


def grad_product_exp(x, y):
    return torch.exp(y), x * torch.exp(y)


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class SquareSetupContext(torch.autograd.Function):
    """The newer style: forward without ctx, plus setup_context."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class Mul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b, grad_output * a


class Split(torch.autograd.Function):
    """One input used by two outputs: the two branches' gradients add up."""

    @staticmethod
    def forward(ctx, x):
        return x.clone(), x.clone()

    @staticmethod
    def backward(ctx, grad_a, grad_b):
        return grad_a + grad_b


class Max(torch.autograd.Function):
    """max over the last axis; the gradient goes to the position of the maximum."""

    @staticmethod
    def forward(ctx, x):
        index = x.argmax(dim=-1, keepdim=True)
        ctx.save_for_backward(index)
        ctx.shape = x.shape
        return x.gather(-1, index).squeeze(-1)

    @staticmethod
    def backward(ctx, grad_output):
        (index,) = ctx.saved_tensors
        grad = torch.zeros(ctx.shape, dtype=grad_output.dtype)
        return grad.scatter(-1, index, grad_output.unsqueeze(-1))


def square(x):
    return x * x


def split(x):
    return x.clone(), x.clone()


def max_last(x):
    return x.max(dim=-1).values


def _grad_mutates(x):
    x.mul_(3)
    return x * x


def _grad_raises(x):
    raise ValueError("not differentiable here")


GRADIENT_MISTAKES = {
    "factor-of-2": (lambda x: 6 * x**2, ((),), "2× the true one"),
    "factor-of-2-vector": (lambda x: 6 * x**2, ((5,),), "2× the true one"),
    "wrong-sign": (lambda x: -3 * x**2, ((3,),), "wrong sign"),
    "one-branch-only": (lambda x: x**2, ((),), "1/3× the true one"),
    "returns-list": (lambda x: (3 * x**2).tolist(), ((3,),), "not a list"),
    "returns-none": (lambda x: None, ((),), "forget return"),
    "returns-nan": (lambda x: torch.full_like(x, float("nan")), ((2,),), "NaN"),
    "raises-value-error": (_grad_raises, ((),), None),
    "mutates-input": (_grad_mutates, ((2,),), "x.clamp"),
    "wrong-shape": (lambda x: (3 * x**2).reshape(1, -1), ((3,),), None),
    "number-for-vector": (
        lambda x: float((3 * x**2).sum()),
        ((3,),),
        "one entry per element",
    ),
    "string": (lambda x: "3x^2", ((),), None),
}


class SquareOneBranch(Square):
    """x * x seen as a product of x and x; backward forgot one of the two branches."""

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return x * grad_output


class SquareWrongSign(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -2 * x * grad_output


class SquareWrongForward(Square):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x + 1


class SquareForgotSave(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        return 2 * ctx.x * grad_output


class SquareSavedNothing(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class SquareNumpyForward(Square):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.numpy() ** 2


class SquareNumpyBackward(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (2 * x * grad_output).numpy()


class SquareInPlace(Square):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.mul_(x).clone()


class SquareWrongShape(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (2 * x * grad_output).sum(0)


class SquareRaises(Square):
    @staticmethod
    def forward(ctx, x):
        raise ValueError("negative input")


class SquareBackwardNone(Square):
    @staticmethod
    def backward(ctx, grad_output):
        return None


class SquareCtxMixup(torch.autograd.Function):
    """forward(ctx, x) together with setup_context: torch cannot call it."""

    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class SquareNoCtx(torch.autograd.Function):
    """forward(x) without ctx, but no setup_context: torch passes ctx anyway."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class SquareStateful(Square):
    """Right for the first calls only: state kept on the class."""

    calls = 0

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        SquareStateful.calls += 1
        return (2 if SquareStateful.calls <= 5 else 3) * x * grad_output


class MulSwapped(Mul):
    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * a, grad_output * b


class MulOneGradient(Mul):
    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b


class SplitAssigned(Split):
    @staticmethod
    def backward(ctx, grad_a, grad_b):
        return grad_a  # assigned, not accumulated


FUNCTION_MISTAKES = {
    "one-branch-only": (SquareOneBranch, square, "0.5× the true one"),
    "wrong-sign": (SquareWrongSign, square, "wrong sign"),
    "wrong-forward": (SquareWrongForward, square, None),
    "forgot-save-for-backward": (SquareForgotSave, square, "save_for_backward"),
    "saved-nothing": (SquareSavedNothing, square, "save_for_backward"),
    "numpy-from-forward": (SquareNumpyForward, square, "torch.from_numpy"),
    "numpy-from-backward": (SquareNumpyBackward, square, "not numpy arrays"),
    "forward-modifies-input": (SquareInPlace, square, "x.clamp"),
    "wrong-gradient-shape": (SquareWrongShape, square, "shape of its input"),
    "raises-value-error": (SquareRaises, square, None),
    "backward-returns-none": (SquareBackwardNone, square, "returned None"),
    "ctx-and-setup-context": (SquareCtxMixup, square, "setup_context"),
    "no-ctx-no-setup-context": (SquareNoCtx, square, "setup_context"),
    "mul-gradients-swapped": (MulSwapped, torch.mul, "true gradient for b"),
    "wrong-number-of-gradients": (MulOneGradient, torch.mul, "one gradient per input"),
    "split-assigned-not-accumulated": (SplitAssigned, split, "accumulate"),
}


# --- State kept outside ctx: right on every single call, wrong when used twice --------


class MulSavedOnClass(torch.autograd.Function):
    """The issue's example: the inputs kept on the class, not in ctx."""

    @staticmethod
    def forward(ctx, a, b):
        MulSavedOnClass.saved = (a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = MulSavedOnClass.saved
        return grad_output * b, grad_output * a


SAVED = []


class MulSavedInAList(torch.autograd.Function):
    """A module-level stack: last in, first out, right in one graph, not interleaved."""

    @staticmethod
    def forward(ctx, a, b):
        SAVED.append((a, b))
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = SAVED.pop()
        return grad_output * b, grad_output * a


QUEUE = []


class SquareSavedInAQueue(torch.autograd.Function):
    """A module-level queue: first in, first out."""

    @staticmethod
    def forward(ctx, x):
        QUEUE.append(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        return 2 * QUEUE.pop(0) * grad_output


LATEST = {}


class ExpSavedInAGlobal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        LATEST["y"] = torch.exp(x)
        return LATEST["y"]

    @staticmethod
    def backward(ctx, grad_output):
        return LATEST["y"] * grad_output


class ExpOutputOnCtx(torch.autograd.Function):
    """Chapter 8's Exp with its output kept as an attribute of ctx: right numbers, but
    nothing checks the tensor for in-place changes before backward uses it."""

    @staticmethod
    def forward(x):
        return torch.exp(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.y = output

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.y * grad_output


class ExpInputOnCtxOldStyle(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return torch.exp(x)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.exp(ctx.x) * grad_output


class ExpOldStyle(torch.autograd.Function):
    """Right in every number, but in the style the Exp exercise teaches against."""

    @staticmethod
    def forward(ctx, x):
        y = torch.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return y * grad_output


class ExpCurrentStyle(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return torch.exp(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return y * grad_output


class SquareFloat32(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (2 * x.float() * grad_output.float()).double()


class SquareZeroGradient(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.zeros_like(x)


FUNCTION_MISTAKES.update(
    {
        "state-on-the-class": (
            MulSavedOnClass,
            torch.mul,
            "outside ctx",
            ("used twice in one graph",),
        ),
        "state-in-a-list": (
            MulSavedInAList,
            torch.mul,
            "outside ctx",
            ("two forward calls come before",),
        ),
        "state-in-a-global": (ExpSavedInAGlobal, torch.exp, "outside ctx"),
        "output-as-ctx-attribute": (
            ExpOutputOnCtx,
            torch.exp,
            "save_for_backward",
            ("keeps a tensor on ctx as an attribute (ctx.y)",),
        ),
        "input-as-ctx-attribute-old-style": (
            ExpInputOnCtxOldStyle,
            torch.exp,
            "save_for_backward",
            ("ctx.x",),
        ),
        "float32-backward": (SquareFloat32, square, "float32"),
        "zero-gradient": (SquareZeroGradient, square, "0 everywhere"),
    }
)

GRADIENT_MISTAKES.update(
    {
        "float32": (lambda x: (3 * x.float() ** 2).double(), ((4,),), "float32"),
        "zero": (lambda x: torch.zeros_like(x), ((3,),), "0 everywhere"),
        "factor-on-some-inputs-only": (
            lambda x: 3 * x**2 * torch.where(x > 0, 2.0, 1.0),
            ((3,),),
            NO_HINT,
        ),
    }
)


def _fresh(call, reset):
    """A planted Function whose state outside ctx starts afresh for each check."""

    def run():
        reset()
        return call()

    return run


def _function(name, cls, reference, hint, words=()):
    shapes = ((3, 4), (3, 4)) if reference is torch.mul else ((3, 4),)
    return Planted(
        name, lambda: check.function(cls, reference, shapes=shapes), hint, tuple(words)
    )


def _function_learner(behaviour):
    """A Function whose forward is the learner's code, checked against x * x."""

    class Learner(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return behaviour(x)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    return check.function(Learner, square)


ENTRIES = [
    Entry(
        "gradient",
        learner=lambda behaviour: check.gradient(cube_sum, behaviour),
        solutions=(
            ("scalar", lambda: check.gradient(cube_sum, grad_cube_sum)),
            ("vector", lambda: check.gradient(cube_sum, grad_cube_sum, shapes=[(4,)])),
            (
                "numpy",
                lambda: check.gradient(
                    cube_sum, lambda x: (3 * x**2).numpy(), shapes=[(2, 3)]
                ),
            ),
            ("float", lambda: check.gradient(cube_sum, lambda x: 3 * float(x) ** 2)),
            (
                "two inputs",
                lambda: check.gradient(
                    product_exp, grad_product_exp, shapes=((3,), (3,))
                ),
            ),
            (
                "a list of two",
                lambda: check.gradient(
                    product_exp,
                    lambda x, y: [torch.exp(y), x * torch.exp(y)],
                    shapes=((3,), (3,)),
                ),
            ),
            (
                "a constant",
                lambda: check.gradient(lambda x: x.sum() * 0 + 5.0, lambda x: 0),
            ),
        ),
        mistakes=tuple(
            Planted(
                name,
                lambda fn=fn, shapes=shapes: check.gradient(
                    cube_sum, fn, shapes=shapes
                ),
                hint,
            )
            for name, (fn, shapes, hint) in GRADIENT_MISTAKES.items()
        )
        + (
            Planted(
                "gradients-in-the-wrong-order",
                lambda: check.gradient(
                    product_exp,
                    lambda x, y: grad_product_exp(x, y)[::-1],
                    shapes=((3,), (3,)),
                ),
                "is the true gradient for y",
            ),
            Planted(
                "one-gradient-for-two-inputs",
                lambda: check.gradient(
                    product_exp, lambda x, y: torch.exp(y), shapes=((3,), (3,))
                ),
                "one gradient per input",
            ),
            Planted(
                "f-not-scalar",
                lambda: check.gradient(lambda x: x**2, lambda x: 2 * x, shapes=((3,),)),
                "problem with the exercise",
                ("not a scalar",),
            ),
        ),
    ),
    Entry(
        "function",
        learner=_function_learner,
        solutions=tuple(
            (
                name,
                lambda cls=cls, reference=reference, shapes=shapes: check.function(
                    cls, reference, shapes=shapes
                ),
            )
            for name, cls, reference, shapes in [
                ("square", Square, square, ((3, 4),)),
                ("setup-context-style", SquareSetupContext, square, ((3, 4),)),
                ("mul", Mul, torch.mul, ((3, 4), (3, 4))),
                ("split", Split, split, ((5,),)),
                ("max", Max, max_last, ((3, 4),)),
            ]
        ),
        mistakes=tuple(
            _function(name, cls, reference, hint, *words)
            for name, (cls, reference, hint, *words) in FUNCTION_MISTAKES.items()
        )
        + (
            Planted(
                "state-in-a-queue",
                _fresh(
                    lambda: check.function(SquareSavedInAQueue, square), QUEUE.clear
                ),
                "outside ctx",
            ),
            Planted(
                "stateful-counter",
                _fresh(
                    lambda: check.function(SquareStateful, square),
                    lambda: setattr(SquareStateful, "calls", 0),
                ),
                "outside ctx",
            ),
            Planted(
                "stateful-counter-without-gradcheck",
                _fresh(
                    lambda: check.function(SquareStateful, square, gradcheck=False),
                    lambda: setattr(SquareStateful, "calls", 0),
                ),
                "outside ctx",
            ),
        )
        + tuple(
            Planted(
                name, lambda wrong=wrong: check.function(wrong, square), None, (words,)
            )
            for name, wrong, words in [
                ("apply-passed", Square.apply, "pass the class itself"),
                ("plain-function", square, "subclass of torch.autograd.Function"),
                ("other-class", int, "int is not a subclass"),
            ]
        )
        + (
            Planted(
                "old-style-where-current-is-asked",
                lambda: check.function(ExpOldStyle, torch.exp, style="current"),
                "setup_context(ctx, inputs, output)",
                ("written in the old style",),
            ),
            Planted(
                "current-style-where-old-is-asked",
                lambda: check.function(ExpCurrentStyle, torch.exp, style="old"),
                "forward(ctx, *inputs)",
                ("written in the current style",),
            ),
        ),
    ),
]
