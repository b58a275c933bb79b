"""swiftconv.torch: autograd functions (gradcheck, parity with torch), the torch.nn modules
(constructors, state_dict), convert() on a small CNN trained against plain torch, and clear
errors for what the adapter does not cover. Skipped when torch is not importable."""
from __future__ import annotations

import copy
import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="swiftconv.torch needs PyTorch (pip install 'swiftconv[torch]')")
nn = torch.nn
F = torch.nn.functional

import swiftconv as sc  # noqa: E402
import swiftconv.torch as sct  # noqa: E402
from _hardening import general_algorithms  # noqa: E402
from conftest import FORWARD_OPS, op_rank  # noqa: E402

pytestmark = [  # torch's own warnings about the reference computations
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning"),
    pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning"),
]

PYTHON_DIR = Path(__file__).resolve().parents[1]
OPS = list(FORWARD_OPS)
SIZES = {1: (9,), 2: (7, 6), 3: (5, 4, 5)}
TRANSPOSED_SIZES = {1: (6,), 2: (4, 5), 3: (3, 4, 3)}  # smaller: their outputs are larger


def per_axis(values, rank):
    return tuple(values[:rank])


# (name, parameters for every rank): exercising stride, padding, dilation, groups, output_padding.
CONV_CASES = {
    "plain": dict(stride=1, padding=0, dilation=1, groups=1),
    "strided": dict(stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2),
    "dilated": dict(stride=(1, 2, 1), padding=(2, 1, 0), dilation=(2, 1, 2), groups=1),
    "depthwise": dict(stride=2, padding=1, dilation=1, groups=4),
    "same": dict(stride=1, padding="same", dilation=(2, 1, 1), groups=2),
    "valid": dict(stride=1, padding="valid", dilation=1, groups=1),
}
TRANSPOSE_CASES = {
    "plain": dict(stride=1, padding=0, output_padding=0, groups=1, dilation=1),
    "strided": dict(stride=(2, 3, 2), padding=(1, 0, 1), output_padding=(1, 2, 0), groups=2, dilation=(1, 2, 1)),
    "dilated": dict(stride=(1, 2, 1), padding=(1, 1, 0), output_padding=(1, 0, 1), groups=1, dilation=(2, 1, 3)),
    "grouped": dict(stride=2, padding=1, output_padding=1, groups=4, dilation=1),
}


def case_params(op, case):
    rank = op_rank(op)
    table = TRANSPOSE_CASES if op.startswith("conv_transpose") else CONV_CASES
    return {k: per_axis(v, rank) if isinstance(v, tuple) else v for k, v in table[case].items()}


def all_cases():
    for op in OPS:
        table = TRANSPOSE_CASES if op.startswith("conv_transpose") else CONV_CASES
        for case in table:
            yield op, case


def make_tensors(op, params, dtype=torch.float64, batch=2, seed=0, requires_grad=True, kernel=(3, 2, 3),
                 bias=True):
    """Input, weight, bias for `op` with 4 input and 4 output channels (small shapes)."""
    g = torch.Generator().manual_seed(seed)
    rank = op_rank(op)
    groups = params["groups"]
    k = per_axis(kernel, rank)
    sizes = (TRANSPOSED_SIZES if op.startswith("conv_transpose") else SIZES)[rank]
    x = torch.randn((batch, 4, *sizes) if batch else (4, *sizes), generator=g, dtype=dtype)
    # conv: (C_out, C_in/groups, *k); transposed: (C_in, C_out/groups, *k); 4 channels each
    w = torch.randn(4, 4 // groups, *k, generator=g, dtype=dtype)
    b = torch.randn(4, generator=g, dtype=dtype) if bias else None
    for t in (x, w, b):
        if t is not None:
            t.requires_grad_(requires_grad)
    return x, w, b


def close(ours, ref, dtype):
    """Equal within float tolerance (relative to the result's magnitude)."""
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    tol = 2e-5 if dtype == torch.float32 else 1e-12
    scale = max(1.0, float(ref.detach().abs().max())) if ref.numel() else 1.0
    torch.testing.assert_close(ours, ref, rtol=tol, atol=tol * scale)


# ------------------------------------------------------------------ import

def test_import_swiftconv_does_not_import_torch():
    code = ("import sys, swiftconv; import swiftconv as sc; sc.conv2d([[[[1.0]]]], [[[[2.0]]]]); "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.') or m == 'swiftconv.torch']; "
            "assert not bad, bad; print('ok')")
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_module_is_not_shadowing_torch():
    assert sct.torch is torch and torch.__file__ != sct.__file__
    assert sct.__name__ == "swiftconv.torch"


# ------------------------------------------------------------------ autograd functions

@pytest.mark.parametrize("op,case", list(all_cases()))
def test_gradcheck_float64(op, case):
    params = case_params(op, case)
    x, w, b = make_tensors(op, params)
    f = getattr(sct, op)
    assert torch.autograd.gradcheck(lambda x, w, b: f(x, w, b, **params), (x, w, b))


@pytest.mark.parametrize("op", OPS)
def test_gradcheck_unbatched_and_without_bias(op):
    params = case_params(op, "strided")
    x, w, _ = make_tensors(op, params, batch=0, bias=False)
    f = getattr(sct, op)
    assert torch.autograd.gradcheck(lambda x, w: f(x, w, None, **params), (x, w))


@pytest.mark.parametrize("op,case", list(all_cases()))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_torch_forward_and_backward(op, case, dtype):
    params = case_params(op, case)
    x, w, b = make_tensors(op, params, dtype=dtype, seed=1)
    ours = getattr(sct, op)(x, w, b, **params)
    ref = getattr(F, op)(x, w, b, **params)
    close(ours, ref.detach(), dtype)
    gy = torch.randn(ref.shape, dtype=dtype, generator=torch.Generator().manual_seed(2))
    got = torch.autograd.grad(ours, (x, w, b), gy)
    want = torch.autograd.grad(ref, (x, w, b), gy)
    for g, r in zip(got, want):
        close(g, r, dtype)


@pytest.mark.parametrize("op", OPS)
def test_results_are_swiftconv_bits(op):
    """Forward and gradients are exactly those of the NumPy functions (no copy, no torch math)."""
    params = case_params(op, "strided")
    x, w, b = make_tensors(op, params, dtype=torch.float32)
    y = getattr(sct, op)(x, w, b, **params)
    ynp = getattr(sc, op)(x.detach().numpy(), w.detach().numpy(), b.detach().numpy(), **params)
    assert y.dtype == torch.float32 and y.is_contiguous()
    np.testing.assert_array_equal(y.detach().numpy(), ynp)
    gy = torch.ones_like(y)
    got = torch.autograd.grad(y, (x, w, b), gy)
    want = getattr(sc, op + "_backward")(gy.numpy(), x.detach().numpy(), w.detach().numpy(), **params)
    for g, r in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), r)


@pytest.mark.parametrize("op", OPS)
def test_only_requested_gradients(op):
    params = case_params(op, "plain")
    x, w, b = make_tensors(op, params, requires_grad=False)
    w.requires_grad_(True)
    y = getattr(sct, op)(x, w, b, **params)
    y.sum().backward()  # grad_output is an expanded (stride 0) tensor here
    assert x.grad is None and b.grad is None and w.grad is not None
    close(w.grad, torch.autograd.grad(getattr(F, op)(x, w, b, **params).sum(), w)[0], torch.float64)


def test_no_grad_inference_and_strided_inputs():
    x = torch.randn(2, 8, 10, 10).transpose(2, 3)  # non-contiguous
    w = torch.randn(6, 8, 3, 3).to(memory_format=torch.channels_last)
    b = torch.randn(6)
    ref = F.conv2d(x, w, b, padding=1)
    with torch.no_grad():
        close(sct.conv2d(x, w, b, padding=1), ref, torch.float32)
    with torch.inference_mode():
        close(sct.conv2d(x, w, b, padding=1), ref, torch.float32)
    close(sct.conv2d(x[:, ::2], w[:, ::2], b, padding=1), F.conv2d(x[:, ::2], w[:, ::2], b, padding=1),
          torch.float32)
    # asymmetric padding (beyond torch) == torch's F.pad then conv
    close(sct.conv2d(x, w, padding=((0, 1), (2, 0))), F.conv2d(F.pad(x, (2, 0, 0, 1)), w), torch.float32)


@pytest.mark.parametrize("op", OPS)
def test_signatures_are_torch_functionals(op):
    """Same positional parameters and defaults as torch.nn.functional (its doc's first line)."""
    import inspect
    import re
    first = next(line for line in getattr(F, op).__doc__.splitlines() if line.strip())
    torch_params = re.match(rf"\s*{op}\((.*)\)", first).group(1).split(", ")
    ours = [p for p in inspect.signature(getattr(sct, op)).parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [p.name if p.default is p.empty else f"{p.name}={p.default}" for p in ours] == torch_params
    # all positional, as torch's order (transposed: groups before dilation)
    params = case_params(op, "strided")
    x, w, b = make_tensors(op, params, dtype=torch.float32)
    args = [params[k] for k in ([p.name for p in ours][3:])]
    close(getattr(sct, op)(x, w, b, *args), getattr(F, op)(x, w, b, *args).detach(), torch.float32)


def test_negative_views_are_resolved():
    x = torch.randn(1, 2, 6, 6)
    w = torch.randn(3, 2, 3, 3)
    neg = torch._neg_view(x) if hasattr(torch, "_neg_view") else -x
    close(sct.conv2d(neg, w), F.conv2d(-x, w), torch.float32)


def test_subclass_calling_conv_forward_uses_swiftconv():
    class Standardised(sct.Conv2d):
        def forward(self, x):
            w = self.weight - self.weight.mean(dim=(1, 2, 3), keepdim=True)
            return self._conv_forward(x, w, self.bias)

    torch.manual_seed(0)
    layer = Standardised(2, 3, 3)
    x = torch.randn(1, 2, 5, 5)
    w = layer.weight - layer.weight.mean(dim=(1, 2, 3), keepdim=True)
    close(layer(x), F.conv2d(x, w, layer.bias), torch.float32)
    layer(x).sum().backward()
    assert layer.weight.grad is not None


def test_algorithms_selectable():
    x, w, b = make_tensors("conv2d", case_params("conv2d", "plain"), dtype=torch.float32)
    ref = F.conv2d(x, w, b).detach()
    for algorithm in general_algorithms("conv2d"):
        close(sct.conv2d(x, w, b, algorithm=algorithm).detach(), ref, torch.float32)
    with pytest.raises(ValueError, match="algorithm"):
        sct.conv2d(x, w, b, algorithm="magic")


def test_double_backward_is_a_clear_error():
    x, w, b = make_tensors("conv2d", case_params("conv2d", "plain"))
    (gx,) = torch.autograd.grad(sct.conv2d(x, w, b).square().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="twice|once_differentiable"):
        gx.sum().backward()


# ------------------------------------------------------------------ modules

MODULES = [("Conv1d", (4, 6, 3), dict(stride=2, padding=1, groups=2)),
           ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=1, dilation=(1, 2))),
           ("Conv3d", (4, 6, 2), dict(padding="same", bias=False)),
           ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
           ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=(2, 3), dilation=(1, 2), output_padding=(1, 2))),
           ("ConvTranspose3d", (4, 6, 2), dict(stride=2, bias=False))]


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_module_like_torch(name, args, kwargs):
    torch.manual_seed(0)
    ref = getattr(nn, name)(*args, **kwargs)
    torch.manual_seed(0)
    ours = getattr(sct, name)(*args, **kwargs)
    assert isinstance(ours, getattr(nn, name))
    # reset_parameters is torch's: same parameters from the same seed, same state_dict keys
    assert list(ours.state_dict()) == list(ref.state_dict())
    for k, v in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[k], v)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    rank = int(name[-2])
    x = torch.randn(2, 4, *SIZES[rank])
    close(ours(x), ref(x), torch.float32)
    close(ours(x[0]), ref(x[0]), torch.float32)  # unbatched
    ours(x).square().sum().backward()
    ref(x).square().sum().backward()
    for p, q in zip(ours.parameters(), ref.parameters()):
        close(p.grad, q.grad, torch.float32)
    assert repr(ours).startswith(f"swiftconv.{name}(")


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_state_dict_round_trip(name, args, kwargs):
    ref = getattr(nn, name)(*args, **kwargs).double()
    buf = io.BytesIO()
    torch.save(ref.state_dict(), buf)
    ours = getattr(sct, name)(*args, **kwargs, dtype=torch.float64)
    buf.seek(0)
    ours.load_state_dict(torch.load(buf))  # a torch checkpoint loads unchanged (strict)
    x = torch.randn(1, 4, *SIZES[int(name[-2])], dtype=torch.float64)
    close(ours(x), ref(x), torch.float64)
    back = getattr(nn, name)(*args, **kwargs, dtype=torch.float64)
    back.load_state_dict(ours.state_dict())
    close(back(x), ref(x), torch.float64)
    # the whole module pickles (torch.save of a model) as our class
    clone = pickle.loads(pickle.dumps(ours))
    assert type(clone) is type(ours)
    close(clone(x), ref(x), torch.float64)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_transpose_output_size(rank):
    kwargs = dict(stride=3, padding=1, dilation=2)
    torch.manual_seed(3)
    ref = getattr(nn, f"ConvTranspose{rank}d")(4, 2, 3, **kwargs)
    ours = copy.deepcopy(ref)
    sct.convert(ours)
    x = torch.randn(2, 4, *SIZES[rank])
    smallest = [(n - 1) * 3 - 2 + 2 * 2 + 1 for n in SIZES[rank]]
    for extra in (0, 1, 2):
        size = [s + extra for s in smallest]
        y = ours(x, output_size=size)
        assert list(y.shape[2:]) == size
        close(y, ref(x, output_size=size), torch.float32)
    close(ours(x, output_size=[2, 2, *smallest]), ref(x, output_size=[2, 2, *smallest]), torch.float32)
    close(ours(x[0], output_size=smallest), ref(x[0], output_size=smallest), torch.float32)
    with pytest.raises(ValueError, match="requested an output size"):
        ours(x, output_size=[s + 3 for s in smallest])
    with pytest.raises(ValueError, match="output_size must have"):
        ours(x, output_size=smallest + [1, 1, 1])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_padding_modes_like_torch(mode, rank):
    """nn.Conv*d(padding_mode=...) forward and every gradient, as torch computes them (it pads
    with F.pad, swiftconv by the mode itself); "same" padding too; torch's own error for a
    transposed module."""
    torch.manual_seed(4)
    for padding in (1, "same"):
        ref = getattr(nn, f"Conv{rank}d")(4, 3, 3, padding=padding, padding_mode=mode, dtype=torch.float64)
        ours = copy.deepcopy(ref)
        sct.convert(ours)
        assert type(ours) is getattr(sct, f"Conv{rank}d")
        x = torch.randn(2, 4, *SIZES[rank], dtype=torch.float64, requires_grad=True)
        y, y_ref = ours(x), ref(x)
        close(y, y_ref.detach(), torch.float64)
        gy = torch.randn(y_ref.shape, dtype=torch.float64)
        got = torch.autograd.grad(y, (x, ours.weight, ours.bias), gy)
        want = torch.autograd.grad(y_ref, (x, ref.weight, ref.bias), gy)
        for g, r in zip(got, want):
            close(g, r, torch.float64)
    # the functional form takes padding_mode as a keyword (torch.nn.functional has none)
    x = torch.randn(1, 4, *SIZES[rank], dtype=torch.float64)
    close(getattr(sct, f"conv{rank}d")(x, ref.weight.detach(), None, padding=1, padding_mode=mode),
          getattr(F, f"conv{rank}d")(F.pad(x, [1] * (2 * rank), mode=mode), ref.weight.detach()), torch.float64)
    with pytest.raises(ValueError, match="zeros"):
        getattr(sct, f"ConvTranspose{rank}d")(2, 3, 3, padding_mode=mode)
    # a size 1 input: reflect cannot pad it (torch's error, swiftconv's ValueError), circular
    # and replicate can (the same values)
    ref1 = getattr(nn, f"Conv{rank}d")(4, 3, 3, padding=1, padding_mode=mode, dtype=torch.float64)
    ours1 = sct.convert(copy.deepcopy(ref1))
    x1 = torch.randn(1, 4, *([1] * rank), dtype=torch.float64)
    try:
        want1 = ref1(x1)
    except (RuntimeError, ValueError, NotImplementedError):
        with pytest.raises(ValueError, match="padding"):
            ours1(x1)
    else:
        close(ours1(x1), want1.detach(), torch.float64)


HALF_DTYPES = [torch.float16, torch.bfloat16]


def _half_array(t):
    """The tensor as swiftconv's NumPy input (bfloat16: ml_dtypes' type, as the adapter does)."""
    if t.dtype == torch.bfloat16:
        ml_dtypes = pytest.importorskip("ml_dtypes")
        return t.detach().view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.detach().numpy()


@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=str)
@pytest.mark.parametrize("op", OPS)
def test_half_precision_is_swiftconv_bits_and_close_to_torch(op, dtype):
    """float16 / bfloat16 tensors: results and gradients in the input's dtype, bit for bit
    swiftconv's NumPy results on the same arrays; against torch in float32 rounded to the
    dtype: within one rounding of the result's dtype plus float32 accumulation (relative to
    the magnitude)."""
    if dtype == torch.bfloat16:
        pytest.importorskip("ml_dtypes")
    params = case_params(op, "strided")
    x, w, b = (t.detach().to(dtype).requires_grad_(True) for t in make_tensors(op, params, dtype=torch.float32))
    y = getattr(sct, op)(x, w, b, **params)
    assert y.dtype == dtype
    want = getattr(sc, op)(_half_array(x), _half_array(w), _half_array(b), **params)
    np.testing.assert_array_equal(_half_array(y).view(np.int16), want.view(np.int16))
    gy = torch.randn(y.shape, generator=torch.Generator().manual_seed(5)).to(dtype)
    got = torch.autograd.grad(y, (x, w, b), gy)
    exp = getattr(sc, op + "_backward")(_half_array(gy), _half_array(x), _half_array(w), **params)
    for g, e in zip(got, exp):
        assert g.dtype == dtype
        np.testing.assert_array_equal(_half_array(g).view(np.int16), e.view(np.int16))
    # torch in float32 on the same (exactly representable) values, rounded once to the dtype
    x32, w32, b32 = (t.detach().float().requires_grad_(True) for t in (x, w, b))
    y32 = getattr(F, op)(x32, w32, b32, **params)
    eps = torch.finfo(dtype).eps
    for ours, ref in [(y, y32)] + list(zip(got, torch.autograd.grad(y32, (x32, w32, b32), gy.float()))):
        scale = max(1.0, float(ref.detach().abs().max()))
        torch.testing.assert_close(ours.float(), ref.detach().to(dtype).float(), rtol=eps, atol=eps * scale)


def test_half_modules_and_mixed_dtypes():
    torch.manual_seed(6)
    layer = sct.Conv2d(2, 3, 3, padding=1, dtype=torch.float16)
    x = torch.randn(1, 2, 5, 5, dtype=torch.float16)
    y = layer(x)
    assert y.dtype == torch.float16
    ref = F.conv2d(x.float(), layer.weight.detach().float(), layer.bias.detach().float(), padding=1)
    torch.testing.assert_close(y.float(), ref.half().float(), rtol=1e-3, atol=1e-3 * max(1.0, float(ref.abs().max())))
    with pytest.raises(TypeError, match="float16|float32|dtype"):
        layer(torch.randn(1, 2, 5, 5))  # float32 input, float16 weights: swiftconv's TypeError
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv3d(1, 1, 1).to(torch.bfloat16))
    assert sct.convert(model) is model and type(model[1]) is sct.Conv3d


# ------------------------------------------------------------------ convert

class SmallCNN(nn.Module):
    """Conv2d, a grouped strided Conv2d, ConvTranspose2d and a Conv1d over the flattened rows."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2), nn.Tanh())
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.blocks = nn.ModuleDict({"seq": nn.Conv1d(8, 4, 5, padding=2, dilation=2)})
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = torch.relu(self.up(self.features(x)))  # (N, 8, H, W)
        h = self.blocks["seq"](h.flatten(2))        # (N, 4, H*W)
        return self.head(h.mean(2))


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 2e-4)])
def test_convert_trains_like_torch(dtype, tol):
    torch.manual_seed(0)
    ref = SmallCNN().to(dtype)
    model = copy.deepcopy(ref)
    params_before = {n: p for n, p in model.named_parameters()}
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)  # made before convert
    assert sct.convert(model) is model
    kinds = {n: type(m) for n, m in model.named_modules()}
    assert kinds["features.0"] is sct.Conv2d and kinds["features.2"] is sct.Conv2d
    assert kinds["up"] is sct.ConvTranspose2d and kinds["blocks.seq"] is sct.Conv1d
    assert kinds["head"] is nn.Linear
    assert all(p is params_before[n] for n, p in model.named_parameters())  # the same Parameter objects
    assert list(model.state_dict()) == list(ref.state_dict())
    opt_ref = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)

    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 3, 12, 12, generator=g, dtype=dtype)
    target = torch.randn(4, 2, generator=g, dtype=dtype)
    losses, ref_losses = [], []
    for _ in range(6):
        for m, o, out in ((model, opt, losses), (ref, opt_ref, ref_losses)):
            o.zero_grad()
            loss = F.mse_loss(m(x), target)
            loss.backward()
            o.step()
            out.append(loss.item())
    np.testing.assert_allclose(losses, ref_losses, rtol=tol, atol=0)
    assert losses[-1] < losses[0]  # it did train
    for (n, p), q in zip(model.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=tol * 10, atol=tol * 10, msg=n)
    assert sct.convert(model) is model  # converting again changes nothing


def test_convert_shares_modules_hooks_and_the_root():
    shared = nn.Conv2d(2, 2, 3, padding=1)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    calls = []
    shared.register_forward_hook(lambda m, i, o: calls.append(type(m)))
    sct.convert(model)
    model(torch.randn(1, 2, 5, 5))
    assert type(model[0]) is sct.Conv2d and model[0] is model[2] is shared
    assert calls == [sct.Conv2d, sct.Conv2d]
    root = nn.ConvTranspose3d(2, 2, 2)
    assert sct.convert(root) is root and type(root) is sct.ConvTranspose3d


def test_convert_fused_float_modules_are_walked_into():
    fused = pytest.importorskip("torch.ao.nn.intrinsic")
    model = nn.Sequential(fused.ConvReLU2d(nn.Conv2d(1, 2, 3), nn.ReLU()))
    sct.convert(model)
    assert type(model[0][0]) is sct.Conv2d


def _integer_conv():
    """A Conv3d whose weight is an int32 tensor (torch builds float convs only; set by hand)."""
    conv = nn.Conv3d(1, 1, 1)
    conv.weight = nn.Parameter(torch.ones(1, 1, 1, 1, 1, dtype=torch.int32), requires_grad=False)
    return conv


def uncovered_models():
    yield "lazy", nn.Sequential(nn.Conv2d(1, 2, 3), nn.LazyConv2d(4, 3)), "1", "LazyConv2d", "forward pass"

    class MyConv(nn.Conv2d):
        def forward(self, x):
            return super().forward(x) * 2
    yield "subclass", nn.Sequential(nn.Conv2d(1, 2, 3), MyConv(2, 2, 1)), "1", "MyConv", "subclass"
    yield "integer", nn.Sequential(nn.Conv2d(1, 2, 3), _integer_conv()), "1", "Conv3d", "torch.int32"
    p = nn.Conv2d(1, 2, 3)
    torch.nn.utils.parametrize.register_parametrization(p, "weight", nn.Identity())
    yield "parametrized", nn.Sequential(nn.Conv2d(1, 2, 3), p), "1", "Conv2d", "parametrize"


@pytest.mark.parametrize("label,model,path,kind,why", list(uncovered_models()), ids=lambda v: v if isinstance(v, str) else "")
def test_convert_refuses_uncovered_layers(label, model, path, kind, why):
    with pytest.raises(TypeError) as info:
        sct.convert(model)
    message = str(info.value)
    assert f"\n  {path} (" in message and kind in message and why in message, message
    assert type(model[0]) is nn.Conv2d  # nothing was converted


def test_convert_refuses_quantized_convs():
    quantized = pytest.importorskip("torch.ao.nn.quantized")
    try:
        q = quantized.Conv2d(3, 4, 3)
    except Exception as error:  # no quantized engine in this build
        pytest.skip(f"cannot make a quantized conv here: {error}")
    model = nn.Sequential(nn.Conv2d(1, 3, 1), nn.Sequential(q))
    with pytest.raises(TypeError, match=r"1\.0 \(torch\.ao\.nn\.quantized.*Conv2d\): a quantized conv"):
        sct.convert(model)
    assert type(model[0]) is nn.Conv2d


def test_convert_refuses_non_modules():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        sct.convert(lambda x: x)


# ------------------------------------------------------------------ bad input

class FakeCudaTensor(torch.Tensor):
    """A CPU tensor that says it lives on a GPU (this machine has none)."""

    @property
    def device(self):
        return torch.device("cuda", 0)


def cuda_tensors():
    yield torch.randn(1, 2, 5, 5).as_subclass(FakeCudaTensor)
    if torch.cuda.is_available():  # pragma: no cover - no GPU in CI
        yield torch.randn(1, 2, 5, 5, device="cuda")


@pytest.mark.parametrize("x", list(cuda_tensors()), ids=lambda t: type(t).__name__)
def test_gpu_tensors_are_refused(x):
    w = torch.randn(3, 2, 3, 3)
    with pytest.raises(TypeError, match=r"device 'cuda:0'.*CPU.*\.cpu\(\)"):
        sct.conv2d(x, w)
    with pytest.raises(TypeError, match=r"weight is on device 'cuda:0'"):
        sct.conv2d(torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3).as_subclass(FakeCudaTensor))
    with pytest.raises(TypeError, match="device 'meta'"):
        sct.conv_transpose2d(torch.empty(1, 2, 5, 5, device="meta"), w.transpose(0, 1))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool, torch.complex64])
@pytest.mark.parametrize("op", ["conv1d", "conv2d", "conv_transpose3d"])
def test_unsupported_dtypes_are_named(op, dtype):
    rank = op_rank(op)
    xf = torch.ones(1, 2, *([4] * rank))
    x = xf.to(dtype)
    w = torch.ones(2, 2, *([2] * rank))
    with pytest.raises(TypeError, match=f"input has dtype {dtype}"):
        getattr(sct, op)(x, w)
    with pytest.raises(TypeError, match=f"weight has dtype {dtype}"):
        getattr(sct, op)(xf, w.to(dtype))
    with pytest.raises(TypeError, match=f"bias has dtype {dtype}"):
        getattr(sct, op)(xf, w, torch.ones(2).to(dtype))


def test_other_bad_input_raises_cleanly():
    w = torch.randn(3, 2, 3, 3)
    with pytest.raises(TypeError, match="torch.Tensor.*NumPy"):
        sct.conv2d(np.ones((1, 2, 5, 5), np.float32), w)
    with pytest.raises(TypeError, match="sparse"):
        sct.conv2d(torch.randn(1, 2, 5, 5).to_sparse(), w)
    with pytest.raises(TypeError, match="float64.*float32|float32.*float64"):
        sct.conv2d(torch.randn(1, 2, 5, 5, dtype=torch.float64), w)
    with pytest.raises(ValueError, match="channels"):
        sct.conv2d(torch.randn(1, 4, 5, 5), w)
    with pytest.raises(ValueError):
        sct.conv2d(torch.randn(1, 2, 2, 2), w)  # kernel larger than the padded input
    with pytest.raises(ValueError):
        sct.conv2d(torch.randn(1, 2, 5, 5), w, stride=0)
    with pytest.raises(ValueError):
        sct.conv_transpose2d(torch.randn(1, 3, 5, 5), w, output_padding=2)
    with pytest.raises(ValueError):
        sct.conv3d(torch.randn(1, 2, 5, 5), w)  # wrong rank
    # errors inside backward surface as exceptions too, and a correct call still works after
    x = torch.randn(1, 2, 5, 5, requires_grad=True)
    y = sct.conv2d(x, w)
    with pytest.raises(RuntimeError):
        y.backward(torch.ones(1, 3, 2, 2))  # autograd checks the gradient's shape
    y.sum().backward()
    close(x.grad, torch.autograd.grad(F.conv2d(x, w).sum(), x)[0], torch.float32)
