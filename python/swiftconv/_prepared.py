"""Prepared convolutions: weights checked and packed once, plans made once per input shape.

    >>> p = swiftconv.prepare("conv2d", w, b, padding=1)   # also padding_mode="reflect", ...
    >>> y = p(x)                        # any batch / spatial size the weight fits
    >>> y = q(x, output_size=(64, 64))  # transposed ops: as ConvTranspose2d.forward
    >>> gi, gw, gb = p.backward(gy, x)  # gradients of that call
    >>> p.update(w2, b2)                # after an optimiser step

The object keeps read-only copies of the weight and bias (later changes to the caller's
arrays never leak in), a bounded cache of engine plans keyed by the input's shape, dtype and memory layout,
and the weights packed for the GEMM once, shared by every plan. Calls may come from several
threads at once: plans are immutable, and the cache is guarded by a lock.
"""
from __future__ import annotations

import threading
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from . import _native

#: Plans kept per prepared object (the least recently used one goes first).
PLAN_CACHE_SIZE = 16

_FORWARD_OPS = tuple(f"{kind}{r}d" for kind in ("conv", "conv_transpose") for r in (1, 2, 3))


def _own_copy(a: Any, op: str, name: str) -> np.ndarray:
    """A read-only, C-contiguous, native-endian copy of `a` (float32, float64, float16 or
    bfloat16; the engine names any other dtype in its TypeError)."""
    from . import _DTYPE_RULE, _is_engine_dtype
    arr = np.asarray(a)
    if not _is_engine_dtype(arr.dtype):
        raise TypeError(f"{op}: {name} has dtype {arr.dtype}; {_DTYPE_RULE} (convert explicitly, e.g. "
                        f"numpy.asarray({name}, dtype=numpy.float32))")
    copy = np.array(arr, dtype=arr.dtype if arr.dtype.isnative else arr.dtype.newbyteorder("="), order="C", copy=True)
    copy.flags.writeable = False
    return copy


class PreparedConv:
    """A convolution layer's weights prepared for many calls; see ``swiftconv.prepare``."""

    def __init__(self, op: str, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, output_padding: Any = 0, *,
                 algorithm: str = "auto", padding_mode: str = "zeros") -> None:
        from . import OPS, _call_args  # the package's argument rules (one place)
        if not isinstance(op, str):
            # Named by its type: the usual mistake is prepare(w, b), and an array's repr is
            # the whole array.
            raise ValueError(f"prepare: op must be an op name (one of {', '.join(_FORWARD_OPS)}), got a "
                             f"{type(op).__module__}.{type(op).__qualname__}; e.g. prepare(\"conv2d\", weight, bias)")
        if op not in _FORWARD_OPS:
            raise ValueError(f"prepare: unknown op {op!r}, expected one of {', '.join(_FORWARD_OPS)}")
        self._op = op
        self._rank = OPS[op][1]
        self._transposed = op.startswith("conv_transpose")
        if not self._transposed and not _is_zero(output_padding):
            raise ValueError(f"prepare: output_padding is only meaningful for transposed convolution ({op})")
        self._params: Dict[str, Any] = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                                            output_padding=output_padding, algorithm=algorithm,
                                            padding_mode=padding_mode)
        # Normalised once (raises TypeError / ValueError for malformed parameters).
        self._call_args = _call_args
        self._lock = threading.Lock()
        self._set_weights(weight, bias)

    # ------------------------------------------------------------------ weights

    def _set_weights(self, weight: Any, bias: Any) -> None:
        w = _own_copy(weight, self._op, "weight")
        b = None if bias is None else _own_copy(bias, self._op, "bias")
        if b is not None and b.dtype != w.dtype:
            raise TypeError(f"{self._op}: weight type ({w.dtype}) and bias type ({b.dtype}) should be the same")
        # Validate against a small input the weight fits, and pack the weights once: every
        # later plan shares the packed copy of this one.
        probe = np.zeros(self._probe_shape(w), dtype=w.dtype)
        root = self._plan_for(probe, w, b, pack=True, share=None)
        with self._lock:
            self._weight, self._bias, self._root = w, b, root
            # The first forward plan for channels-last input: the channels-last GEMM packs
            # the weights its own way, once, and the later channels-last plans share it.
            self._root_channels_last: Any = None
            # (weights, plan) of the first backward plan that packed them (see backward).
            self._backward_root: Optional[Tuple[np.ndarray, Any]] = None
            self._plans: Dict[Tuple, Tuple[Any, np.ndarray, Optional[np.ndarray]]] = {}

    def _probe_shape(self, w: np.ndarray) -> Tuple[int, ...]:
        """(1, C_in, *sizes): an input the weight fits, for validating at creation."""
        r = self._rank
        if w.ndim != r + 2:
            raise ValueError(f"{self._op}: expected a {r + 2}-dimensional weight, but got weight of size {list(w.shape)}")
        p = self._params
        args = self._call_args(self._op, None, None, None, None, p["stride"], p["padding"], p["dilation"],
                               p["output_padding"], p["groups"], p["algorithm"], 0, padding_mode=p["padding_mode"])
        stride, pads, form, dilation, outpad, groups = args[6], args[7], args[8], args[9], args[10], args[11]
        padding_mode = args[14]
        sizes = []
        for a in range(r):
            extent = dilation[a] * (w.shape[2 + a] - 1) + 1
            if self._transposed:
                need = 2 * pads[2 * a] + 1 - extent - outpad[a]
                sizes.append(1 + max(0, -(-need // max(stride[a], 1))))
                continue
            before, after = pads[2 * a], pads[2 * a + 1]
            if form == 1:  # "same": the engine's split of dilation*(kernel-1)
                before, after = (extent - 1) // 2, extent - 1 - (extent - 1) // 2
            size = max(1, extent - before - after)
            if padding_mode == 1:  # reflect: each pad < the size
                size = max(size, before + 1, after + 1)
            elif padding_mode == 3:  # circular: each pad <= the size
                size = max(size, before, after)
            sizes.append(size)
        channels = w.shape[0] if self._transposed else w.shape[1] * max(groups, 1)
        return (1, channels, *sizes)

    def _plan_for(self, x: Any, w: np.ndarray, b: Optional[np.ndarray], *, pack: bool = False,
                  share: Any = None, grad_output: Any = None, mask: int = 0, output_size: Any = None) -> Any:
        # pack: the engine packs `w` only when the shared packing does not fit the plan
        # (channels-last plans pack the GEMM's other operand, once per plan).
        op = self._op + ("_backward" if grad_output is not None else "")
        p = self._params
        args = self._call_args(op, x, w, b if grad_output is None else None, grad_output, p["stride"],
                               p["padding"], p["dilation"], p["output_padding"], p["groups"],
                               p["algorithm"], mask, padding_mode=p["padding_mode"], output_size=output_size)
        return _native.Plan(*args, pack, share)

    def _cached(self, key: Tuple, make: Any, channels_last_forward: bool = False) -> Tuple[Any, np.ndarray, Optional[np.ndarray]]:
        """(plan, weight, bias) for `key`, made by make(weight, bias, root) on a miss. Hits
        take no lock (a dict lookup is atomic); the cache is replaced whole by update(), so
        a plan always comes with the weights it was made for. At most PLAN_CACHE_SIZE
        entries (the oldest goes first). ``channels_last_forward``: a forward plan for
        channels-last input, whose root is the first such plan."""
        entry = self._plans.get(key)
        if entry is not None:
            return entry
        with self._lock:
            plans, root, w, b = self._plans, self._root, self._weight, self._bias
            if channels_last_forward and self._root_channels_last is not None:
                root = self._root_channels_last
        entry = (make(w, b, root), w, b)  # outside the lock: planning may take a while
        with self._lock:
            if plans is self._plans:  # no update() in between
                if channels_last_forward and self._root_channels_last is None:
                    self._root_channels_last = entry[0]
                plans[key] = entry
                while len(plans) > PLAN_CACHE_SIZE:
                    del plans[next(iter(plans))]
        return entry

    # ------------------------------------------------------------------ calls

    def _output_size_key(self, output_size: Any) -> Any:
        """output_size as a hashable cache key (normalised by the package's rule)."""
        if output_size is None:
            return None
        from . import _output_size
        return _output_size(output_size, self._op)

    def __call__(self, input: Any, output_size: Any = None) -> np.ndarray:
        """The convolution of `input` (batched or unbatched, any size the weight fits).
        Transposed ops: output_size as ``ConvTranspose*d.forward(input, output_size)`` (it
        fixes output_padding)."""
        x = input if type(input) is np.ndarray else np.asarray(input)
        layout = _native.layout(x, self._rank)
        if output_size is None:
            key: Tuple = (x.shape, x.dtype, layout)
            entry = self._plans.get(key)
        else:
            key, entry = (x.shape, x.dtype, layout, self._output_size_key(output_size)), None
        if entry is None:
            entry = self._cached(key, lambda w, b, root: self._plan_for(x, w, b, pack=True, share=root, output_size=output_size),
                                 channels_last_forward=bool(layout))
        plan, w, b = entry
        return plan(x, w, b, None)[0]

    def backward(self, grad_output: Any, input: Any, output_mask: Sequence[bool] = (True, True, True),
                 output_size: Any = None) -> Tuple[Optional[np.ndarray], ...]:
        """(grad_input, grad_weight, grad_bias) of ``self(input, output_size)``; None where
        output_mask is False."""
        from . import _mask
        op = self._op + "_backward"
        m = _mask(output_mask, op)
        x = np.asarray(input)
        go = np.asarray(grad_output)
        key = ("backward", x.shape, x.dtype, _native.layout(x, self._rank), go.shape, go.dtype, m,
               self._output_size_key(output_size))

        def make(w: np.ndarray, b: Optional[np.ndarray], root: Any) -> Any:
            # The backward's GEMM reads the weights in another layout than the forward's
            # (conv: the flipped kernel of grad_input; transposed: its conv): the first
            # backward plan that packs them is shared by the later ones of the same weights.
            shared = self._backward_root
            share = shared[1] if shared is not None and shared[0] is w else root
            plan = self._plan_for(x, w, b, pack=True, share=share, grad_output=go, mask=m, output_size=output_size)
            if plan.packed_bytes > 0 and share is root:
                self._backward_root = (w, plan)
            return plan

        plan, w, _ = self._cached(key, make)
        return tuple(plan(x, w, None, go))

    def update(self, weight: Any, bias: Any = None) -> None:
        """Replace the weights (e.g. after an optimiser step): copied, checked and packed
        again; cached plans are dropped. The weight shape may not change."""
        w = np.asarray(weight)
        if w.shape != self._weight.shape:
            raise ValueError(f"{self._op}: update expects a weight of shape {self._weight.shape}, got {w.shape}")
        self._set_weights(w, bias)

    def explain(self, input: Any, output_size: Any = None) -> str:
        """Every decision of the plan for `input` (and output_size, transposed ops)."""
        x = np.asarray(input)
        layout = _native.layout(x, self._rank)
        key = (x.shape, x.dtype, layout) if output_size is None else (x.shape, x.dtype, layout, self._output_size_key(output_size))
        plan, _, _ = self._cached(key, lambda w, b, root: self._plan_for(x, w, b, pack=True, share=root, output_size=output_size),
                                  channels_last_forward=bool(layout))
        return plan.explain()

    # ------------------------------------------------------------------ attributes

    @property
    def op(self) -> str:
        return self._op

    @property
    def weight(self) -> np.ndarray:
        """The weights in use (read-only)."""
        return self._weight

    @property
    def bias(self) -> Optional[np.ndarray]:
        """The bias in use (read-only), or None."""
        return self._bias

    @property
    def params(self) -> Dict[str, Any]:
        return dict(self._params)

    @property
    def packed_bytes(self) -> int:
        """Bytes of weights packed ahead for the GEMM (0 when the kernels need none)."""
        return self._root.packed_bytes

    def __repr__(self) -> str:
        w = self._weight
        params = ", ".join(f"{k}={v!r}" for k, v in self._params.items()
                           if not (k == "output_padding" and not self._transposed)
                           and not (k == "padding_mode" and v == "zeros"))
        return (f"PreparedConv({self._op!r}, weight={tuple(w.shape)} {w.dtype}, "
                f"bias={'none' if self._bias is None else tuple(self._bias.shape)}, {params}, "
                f"packed_bytes={self.packed_bytes}, cached_plans={len(self._plans)})")

    # ------------------------------------------------------------------ pickle

    def __getstate__(self) -> Dict[str, Any]:
        return {"op": self._op, "weight": np.array(self._weight), "bias": None if self._bias is None else np.array(self._bias),
                "params": dict(self._params)}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        params = dict(state["params"])
        algorithm = params.pop("algorithm", "auto")
        self.__init__(state["op"], state["weight"], state["bias"], algorithm=algorithm, **params)


def _is_zero(value: Any) -> bool:
    try:
        return all(int(v) == 0 for v in (value if isinstance(value, (list, tuple)) else [value]))
    except (TypeError, ValueError):
        return False


def prepare(op: str, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
            groups: int = 1, output_padding: Any = 0, *, algorithm: str = "auto",
            padding_mode: str = "zeros") -> PreparedConv:
    """Prepare a convolution for many calls with the same weights.

    op: "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d" or
    "conv_transpose3d"; the other arguments as for that function (keywords recommended:
    the transposed ops take output_padding). padding_mode: "zeros", "reflect", "replicate"
    or "circular" for the conv ops, as ``torch.nn.Conv*d(padding_mode=...)`` ("zeros" only
    for the transposed ops). The parameters and the weight are validated now (ValueError /
    TypeError as the function would raise), and the weights are packed once. Returns a
    PreparedConv: ``p(x)`` (transposed ops: ``p(x, output_size=...)`` too),
    ``p.backward(grad_output, x)``, ``p.update(w, b)``, ``p.weight``, ``p.bias``,
    ``p.explain(x)``; picklable and thread-safe.
    """
    return PreparedConv(op, weight, bias, stride, padding, dilation, groups, output_padding, algorithm=algorithm,
                        padding_mode=padding_mode)
