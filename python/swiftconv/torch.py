"""swiftconv for PyTorch: autograd functions, ``torch.nn`` conv modules and ``convert(model)``.

    >>> import torch, swiftconv.torch as sct
    >>> y = sct.conv2d(x, w, b, stride=2, padding=1)     # == torch.nn.functional.conv2d, differentiable
    >>> layer = sct.Conv2d(3, 8, 3, padding=1)           # a torch.nn.Conv2d computed by swiftconv
    >>> model = sct.convert(model)                       # every conv layer of a model, in place

Every op and rank (``conv{1,2,3}d``, ``conv_transpose{1,2,3}d``) runs forward through swiftconv
and backward through swiftconv's backward functions (only the gradients autograd asks for are
computed). Tensors must be CPU tensors of dtype float32, float64, float16 or bfloat16 (the
half types computed in float32 and rounded once into their own dtype, as swiftconv does;
bfloat16 needs the ``ml_dtypes`` package, which JAX installs): anything else (a CUDA tensor,
an integer tensor, a sparse tensor, mixed dtypes) raises ``TypeError`` naming the problem.
Tensors are handed to the engine without copies (``tensor.detach().numpy()``, any strides;
bfloat16 as its bits) and results come back as ``torch.from_numpy`` tensors (C-contiguous, or channels-last for
channels-last tensors, as torch).

The modules subclass ``torch.nn.Conv1d`` ... ``torch.nn.ConvTranspose3d`` and only replace
``forward``: constructors, parameters, ``reset_parameters`` and ``state_dict`` keys are
torch's, every ``padding_mode`` of the conv modules ("zeros", "reflect", "replicate",
"circular": swiftconv computes the padded convolution and its gradients itself), so a torch checkpoint loads unchanged. ``convert(model)`` turns every covered conv
layer of a model into ours in place (the same module objects, so the same ``Parameter``
objects, hooks and optimizer state) and refuses, naming each layer, a model holding a conv
it does not cover. Gradients are first order only (double backward raises).

Not imported by ``import swiftconv``; needs ``pip install swiftconv[torch]`` (or torch).
"""
from __future__ import annotations

if __name__ != "swiftconv.torch":  # e.g. python/swiftconv itself put on sys.path
    raise ImportError(f"swiftconv/torch.py was imported as the top-level module {__name__!r}: the folder "
                      "python/swiftconv is on sys.path; put its parent folder there instead and "
                      "import swiftconv.torch")

import functools
import inspect
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

try:
    import torch  # the real PyTorch (absolute import)
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError("swiftconv.torch needs PyTorch: pip install 'swiftconv[torch]' (or pip install torch)") from _error

import numpy as np
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn.modules.conv import _ConvNd

import swiftconv as _sc

__all__ = [
    "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "convert",
]

_FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
_IntOrTuple = Union[int, Sequence[int]]
_Padding = Union[int, str, Sequence[int], Sequence[Sequence[int]]]


# ------------------------------------------------------------------ tensors in and out

def _check(t: Any, op: str, name: str, optional: bool = False) -> None:
    """TypeError unless `t` is a CPU, strided, float32/float64 tensor (None allowed when optional)."""
    if t is None and optional:
        return
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"swiftconv.torch.{op}: {name} must be a torch.Tensor, got {type(t).__name__}"
                        + (" (use the functions of swiftconv itself for NumPy arrays)"
                           if type(t).__module__ == "numpy" else ""))
    device = t.device
    if device.type != "cpu":
        raise TypeError(f"swiftconv.torch.{op}: {name} is on device '{device}'; swiftconv computes on the CPU "
                        f"only: move the tensors (and the model) there with .cpu() first")
    if t.layout is not torch.strided:
        raise TypeError(f"swiftconv.torch.{op}: {name} has layout {t.layout}; swiftconv takes dense "
                        f"(torch.strided) tensors: use .to_dense() first")
    if t.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"swiftconv.torch.{op}: {name} has dtype {t.dtype}; swiftconv takes float32, float64, "
                        f"float16 and bfloat16 tensors only (convert explicitly, e.g. {name}.float())")


def _array(t: torch.Tensor) -> Any:
    """A NumPy view of a checked tensor (no copy: any strides are fine for the engine). NumPy
    has no bfloat16: a bfloat16 tensor is viewed as its 16-bit patterns, then as
    ``ml_dtypes.bfloat16`` (``swiftconv.dtype`` says what to install when it is missing)."""
    t = t.detach()
    if t.is_neg():  # a lazily negated view (torch._neg_view) cannot be viewed by NumPy
        t = t.resolve_neg()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(_sc.dtype("bfloat16"))
    return t.numpy()


def _tensor(a: Any) -> Optional[torch.Tensor]:
    if a is None:
        return None
    if a.dtype.itemsize == 2 and a.dtype.type.__name__ == "bfloat16":
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


# ------------------------------------------------------------------ the autograd function

class _Spec:
    """One call's op and parameters, in swiftconv's (= torch.nn.functional's) argument order."""
    __slots__ = ("op", "params", "algorithm", "padding_mode")

    def __init__(self, op: str, params: Tuple, algorithm: str, padding_mode: str = "zeros") -> None:
        self.op, self.params, self.algorithm, self.padding_mode = op, params, algorithm, padding_mode

    def _mode(self) -> Dict[str, str]:
        # only passed when set: the transposed ops take "zeros" alone (swiftconv's ValueError otherwise)
        return {} if self.padding_mode == "zeros" else {"padding_mode": self.padding_mode}

    def forward(self, x: Any, w: Any, b: Any) -> Any:
        return getattr(_sc, self.op)(x, w, b, *self.params, algorithm=self.algorithm, **self._mode())

    def backward(self, gy: Any, x: Any, w: Any, mask: Tuple[bool, bool, bool]) -> Tuple:
        return getattr(_sc, self.op + "_backward")(gy, x, w, *self.params, output_mask=mask, **self._mode())


class _SwiftConvFunction(torch.autograd.Function):
    """forward: swiftconv's op; backward: swiftconv's backward op, asking only for the
    gradients autograd needs (ctx.needs_input_grad)."""

    @staticmethod
    def forward(ctx: Any, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                spec: _Spec) -> torch.Tensor:
        y = spec.forward(_array(input), _array(weight), None if bias is None else _array(bias))
        ctx.spec = spec
        ctx.has_bias = bias is not None
        ctx.save_for_backward(input, weight)
        return _tensor(y)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor) -> Tuple:
        input, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        mask = (bool(needs[0]), bool(needs[1]), bool(ctx.has_bias and needs[2]))
        if not any(mask):
            return None, None, None, None
        _check(grad_output, ctx.spec.op + " (backward)", "grad_output")
        gi, gw, gb = ctx.spec.backward(_array(grad_output), _array(input), _array(weight), mask)
        return _tensor(gi), _tensor(gw), _tensor(gb), None


def _apply(op: str, input: Any, weight: Any, bias: Any, params: Tuple, algorithm: str,
           padding_mode: str = "zeros") -> torch.Tensor:
    _check(input, op, "input")
    _check(weight, op, "weight")
    _check(bias, op, "bias", optional=True)
    spec = _Spec(op, params, algorithm, padding_mode)
    if torch.is_grad_enabled() and (input.requires_grad or weight.requires_grad
                                    or (bias is not None and bias.requires_grad)):
        return _SwiftConvFunction.apply(input, weight, bias, spec)
    # Nothing to differentiate: skip autograd's bookkeeping.
    return _tensor(spec.forward(_array(input), _array(weight), None if bias is None else _array(bias)))


# ------------------------------------------------------------------ functional entry points

def conv1d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
           stride: _IntOrTuple = 1, padding: _Padding = 0, dilation: _IntOrTuple = 1, groups: int = 1,
           *, algorithm: str = "auto", padding_mode: str = "zeros") -> torch.Tensor:
    return _apply("conv1d", input, weight, bias, (stride, padding, dilation, groups), algorithm, padding_mode)


def conv2d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
           stride: _IntOrTuple = 1, padding: _Padding = 0, dilation: _IntOrTuple = 1, groups: int = 1,
           *, algorithm: str = "auto", padding_mode: str = "zeros") -> torch.Tensor:
    return _apply("conv2d", input, weight, bias, (stride, padding, dilation, groups), algorithm, padding_mode)


def conv3d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
           stride: _IntOrTuple = 1, padding: _Padding = 0, dilation: _IntOrTuple = 1, groups: int = 1,
           *, algorithm: str = "auto", padding_mode: str = "zeros") -> torch.Tensor:
    return _apply("conv3d", input, weight, bias, (stride, padding, dilation, groups), algorithm, padding_mode)


def conv_transpose1d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
                     stride: _IntOrTuple = 1, padding: _IntOrTuple = 0, output_padding: _IntOrTuple = 0,
                     groups: int = 1, dilation: _IntOrTuple = 1, *, algorithm: str = "auto") -> torch.Tensor:
    return _apply("conv_transpose1d", input, weight, bias, (stride, padding, output_padding, groups, dilation),
                  algorithm)


def conv_transpose2d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
                     stride: _IntOrTuple = 1, padding: _IntOrTuple = 0, output_padding: _IntOrTuple = 0,
                     groups: int = 1, dilation: _IntOrTuple = 1, *, algorithm: str = "auto") -> torch.Tensor:
    return _apply("conv_transpose2d", input, weight, bias, (stride, padding, output_padding, groups, dilation),
                  algorithm)


def conv_transpose3d(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
                     stride: _IntOrTuple = 1, padding: _IntOrTuple = 0, output_padding: _IntOrTuple = 0,
                     groups: int = 1, dilation: _IntOrTuple = 1, *, algorithm: str = "auto") -> torch.Tensor:
    return _apply("conv_transpose3d", input, weight, bias, (stride, padding, output_padding, groups, dilation),
                  algorithm)


_CONV_DOC = """{r}-D convolution of CPU tensors computed by swiftconv, as ``torch.nn.functional.conv{r}d``
    (same arguments; padding also takes one (before, after) pair per axis). Differentiable
    (first order) with respect to input, weight and bias. float32, float64, float16 or bfloat16
    CPU tensors (TypeError otherwise). algorithm, padding_mode ("zeros", "reflect",
    "replicate", "circular", as ``torch.nn.Conv{r}d``'s): as ``swiftconv.conv{r}d``."""

_CONV_TRANSPOSE_DOC = """Transposed {r}-D convolution of CPU tensors computed by swiftconv, as
    ``torch.nn.functional.conv_transpose{r}d`` (same arguments and order: groups before
    dilation). Differentiable (first order). float32, float64, float16 or bfloat16 CPU tensors."""

for _r in (1, 2, 3):
    globals()[f"conv{_r}d"].__doc__ = _CONV_DOC.format(r=_r)
    globals()[f"conv_transpose{_r}d"].__doc__ = _CONV_TRANSPOSE_DOC.format(r=_r)
del _r


# ------------------------------------------------------------------ modules

def _checked_init(base: type) -> Callable:
    """torch's constructor (same signature, same parameter initialisation and errors)."""
    @functools.wraps(base.__init__)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
    return __init__


class _SwiftConvModule:
    """Shared by the module classes (first in their MRO: its methods override torch's)."""

    def _get_name(self) -> str:  # the name repr() prints
        return "swiftconv." + type(self).__name__


class _ConvForward(_SwiftConvModule):
    _function: Callable

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor,
                      bias: Optional[torch.Tensor]) -> torch.Tensor:
        # torch's structure: subclasses that call _conv_forward with their own weight
        # (e.g. weight standardisation) compute with swiftconv too. A padding_mode other
        # than zeros: swiftconv pads by the mode itself (torch pads with F.pad first; the
        # same values, and the backward folds the border's gradients back the same way).
        return type(self)._function(input, weight, bias, self.stride, self.padding, self.dilation, self.groups,
                                    padding_mode=self.padding_mode)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(input, self.weight, self.bias)


def _torch_output_padding(module: Any, input: torch.Tensor, output_size: Optional[Sequence[int]],
                          rank: int) -> List[int]:
    """output_padding for an output_size, exactly as torch computes it (and its errors)."""
    if "num_spatial_dims" in _OUTPUT_PADDING_PARAMETERS:
        return module._output_padding(input, output_size, module.stride, module.padding, module.kernel_size,
                                      rank, module.dilation)
    return module._output_padding(input, output_size, module.stride, module.padding,  # torch < 1.12
                                  module.kernel_size, module.dilation)


_OUTPUT_PADDING_PARAMETERS = inspect.signature(nn.modules.conv._ConvTransposeNd._output_padding).parameters


class _ConvTransposeForward(_SwiftConvModule):
    _function: Callable
    _rank: int

    def forward(self, input: torch.Tensor, output_size: Optional[Sequence[int]] = None) -> torch.Tensor:
        if self.padding_mode != "zeros":
            raise ValueError(f"Only `zeros` padding mode is supported for {type(self).__name__}")
        _check(input, f"{type(self).__name__}", "input")
        output_padding = _torch_output_padding(self, input, output_size, self._rank)
        return type(self)._function(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                    self.groups, self.dilation)


class Conv1d(_ConvForward, nn.Conv1d):
    """``torch.nn.Conv1d`` computed by swiftconv (same constructor, parameters and state_dict)."""
    __init__ = _checked_init(nn.Conv1d)
    _function = staticmethod(conv1d)


class Conv2d(_ConvForward, nn.Conv2d):
    """``torch.nn.Conv2d`` computed by swiftconv (same constructor, parameters and state_dict)."""
    __init__ = _checked_init(nn.Conv2d)
    _function = staticmethod(conv2d)


class Conv3d(_ConvForward, nn.Conv3d):
    """``torch.nn.Conv3d`` computed by swiftconv (same constructor, parameters and state_dict)."""
    __init__ = _checked_init(nn.Conv3d)
    _function = staticmethod(conv3d)


class ConvTranspose1d(_ConvTransposeForward, nn.ConvTranspose1d):
    """``torch.nn.ConvTranspose1d`` computed by swiftconv; forward(input, output_size=None)."""
    __init__ = _checked_init(nn.ConvTranspose1d)
    _function = staticmethod(conv_transpose1d)
    _rank = 1


class ConvTranspose2d(_ConvTransposeForward, nn.ConvTranspose2d):
    """``torch.nn.ConvTranspose2d`` computed by swiftconv; forward(input, output_size=None)."""
    __init__ = _checked_init(nn.ConvTranspose2d)
    _function = staticmethod(conv_transpose2d)
    _rank = 2


class ConvTranspose3d(_ConvTransposeForward, nn.ConvTranspose3d):
    """``torch.nn.ConvTranspose3d`` computed by swiftconv; forward(input, output_size=None)."""
    __init__ = _checked_init(nn.ConvTranspose3d)
    _function = staticmethod(conv_transpose3d)
    _rank = 3


#: torch.nn's conv classes convert() swaps (exactly these types), and ours.
_SWAP: Dict[type, type] = {
    nn.Conv1d: Conv1d, nn.Conv2d: Conv2d, nn.Conv3d: Conv3d,
    nn.ConvTranspose1d: ConvTranspose1d, nn.ConvTranspose2d: ConvTranspose2d, nn.ConvTranspose3d: ConvTranspose3d,
}
_CONV_NAME = re.compile(r"Conv(Transpose)?[123]d")


# ------------------------------------------------------------------ convert

def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _uncovered(module: nn.Module) -> Optional[str]:
    """Why `module` is a conv layer convert() cannot swap, or None when it is no conv layer
    (containers such as the fused ConvReLU2d sequences are walked into instead)."""
    cls = type(module)
    if cls in _SWAP:
        for name, p in list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False)):
            if p.device.type != "cpu":
                return (f"its {name} is on device '{p.device}'; swiftconv computes on the CPU only: "
                        f"call model.cpu() before convert()")
            # every parameter (weight, bias) is computed with; a buffer only when floating
            if (name in module._parameters or p.is_floating_point()) and p.dtype not in _FLOAT_DTYPES:
                return (f"its {name} has dtype {p.dtype}; swiftconv takes float32, float64, float16 and "
                        f"bfloat16 only: call model.float() before convert()")
        return None
    if isinstance(module, _ConvNd):
        if isinstance(module, nn.modules.lazy.LazyModuleMixin):
            return ("a lazy conv whose shapes are not known yet: run one forward pass first (it then "
                    "becomes a torch.nn conv), then convert()")
        if torch.nn.utils.parametrize.is_parametrized(module):
            return ("its weight is parametrized (torch.nn.utils.parametrize): call convert() before "
                    "registering parametrizations")
        if cls.__module__.startswith("torch.ao") or cls.__module__.startswith("torch.nn.q"):
            return "quantization-aware / reference quantized convs are not covered"
        return ("a subclass of a torch.nn conv class: its forward may differ from torch's, so convert() "
                "does not replace it (convert covers exactly torch.nn.Conv1d/2d/3d and ConvTranspose1d/2d/3d)")
    if (cls.__module__.startswith("torch.") and _CONV_NAME.search(cls.__name__)
            and not isinstance(module, (nn.Sequential, nn.ModuleList, nn.ModuleDict))):
        kind = "a quantized conv" if ".quantized" in cls.__module__ else "a conv layer"
        return f"{kind} swiftconv does not cover (floating-point torch.nn convs only)"
    return None


def convert(model: nn.Module) -> nn.Module:
    """Make every conv layer of `model` compute with swiftconv, in place; returns `model`.

    Each ``torch.nn.Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d`` (exactly those types; the
    model itself may be one) becomes the matching ``swiftconv.torch`` class: the same module
    object, so the same Parameter objects, buffers, hooks and optimizer state, and the
    same state_dict. Layers already converted are left as they are.

    A model holding a conv layer this adapter does not cover (a lazy conv not yet
    materialised, a quantized or quantization-aware conv, a subclass of a torch conv class, a
    parametrized conv, weights on a GPU or of a dtype other than float32, float64, float16 and
    bfloat16) raises ``TypeError`` listing every such layer by path and type; nothing is
    converted then. Code that calls ``torch.nn.functional.conv2d`` itself is not changed.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"swiftconv.torch.convert: expected a torch.nn.Module, got {type(model).__name__}")
    problems: List[str] = []
    swaps: List[Tuple[nn.Module, type]] = []
    for path, module in model.named_modules():
        cls = type(module)
        if isinstance(module, _SwiftConvModule):  # ours already (or a subclass of ours)
            continue
        reason = _uncovered(module)
        if reason is not None:
            problems.append(f"{path or '<the model itself>'} ({_qualname(cls)}): {reason}")
        elif cls in _SWAP:
            swaps.append((module, _SWAP[cls]))
    if problems:
        raise TypeError("swiftconv.torch.convert: the model holds conv layers swiftconv does not cover "
                        "(nothing was converted):\n  " + "\n  ".join(problems))
    for module, ours in swaps:
        module.__class__ = ours  # subclasses without state of their own: only forward changes
    return model
