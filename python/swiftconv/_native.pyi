"""Type stub for swiftconv._native, the CPython shim over the Swift engine (internal API:
use the functions of the swiftconv package)."""
from typing import Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike

engine_version: str
abi_version: int

def run(
    op: int,
    rank: int,
    input: ArrayLike,
    weight: ArrayLike,
    bias: Optional[ArrayLike],
    grad_output: Optional[ArrayLike],
    stride: Tuple[int, ...],
    padding: Tuple[int, ...],
    padding_form: int,
    dilation: Tuple[int, ...],
    output_padding: Tuple[int, ...],
    groups: int,
    algorithm: str,
    output_mask: int,
    padding_mode: int,
    output_size: Optional[Tuple[int, ...]],
    explain: bool,
    /,
) -> Union[Tuple[Optional[np.ndarray], ...], str]:
    """One call: create a plan (the engine validates shapes and parameters once), decide
    the activations' memory layout (channels-last when the input, or for forward ops the
    weight, suggests it, as torch's suggest_memory_format), pass the caller's memory when it
    already has that layout (else convert to C-contiguous native-endian buffers in it), run op 0..3 (conv, conv_transpose,
    conv_backward, conv_transpose_backward) of `rank` (1, 2, 3) spatial axes with the GIL
    released, destroy the plan. stride/dilation/output_padding: `rank` ints; padding:
    (before, after) per axis; padding_form: 0 explicit, 1 "same", 2 "valid"; padding_mode:
    0 zeros, 1 reflect, 2 replicate, 3 circular; output_size: None or the ints as given
    (transposed ops). Returns the results (None where output_mask leaves one out),
    or the explanation text when explain is true. Raises ValueError, TypeError or
    MemoryError."""

class Plan:
    """A validated plan for fixed shapes and dtype (swiftconv.prepare keeps these)."""

    def __new__(
        cls,
        op: int,
        rank: int,
        input: ArrayLike,
        weight: ArrayLike,
        bias: Optional[ArrayLike],
        grad_output: Optional[ArrayLike],
        stride: Tuple[int, ...],
        padding: Tuple[int, ...],
        padding_form: int,
        dilation: Tuple[int, ...],
        output_padding: Tuple[int, ...],
        groups: int,
        algorithm: str,
        output_mask: int,
        padding_mode: int,
        output_size: Optional[Tuple[int, ...]],
        pack: bool,
        weights_from: Optional["Plan"],
        /,
    ) -> "Plan": ...
    def __call__(self, input: ArrayLike, weight: ArrayLike, bias: Optional[ArrayLike],
                 grad_output: Optional[ArrayLike], /) -> Tuple[Optional[np.ndarray], ...]:
        """Run on arrays of the planned shapes and dtype (ValueError / TypeError otherwise)."""
    def explain(self) -> str: ...
    @property
    def packed_bytes(self) -> int: ...

def algorithms(op: int, /) -> Tuple[str, ...]:
    """The algorithm names the engine accepts for op 0..3 (the same for every rank)."""

def _test_allocation_failures(fail_after: int, /) -> Tuple[int, int]:
    """Tests only: make the fail_after-th engine allocation fail (0 disarms; < 0 only
    reads). Returns (allocations still pending before the previous setting fired, live
    engine allocations)."""

def set_num_threads(n: int, /) -> None: ...
def get_num_threads() -> int: ...

def layout(array: object, rank: int, /) -> int:
    """1 if `array` ((N, C, *spatial) or unbatched (C, *spatial) with `rank` spatial axes)
    suggests channels-last memory, else 0 (non-arrays: 0)."""

def _test_record_buffers(record: int, /) -> Tuple[int, int]:
    """Tests only: record (1) or stop recording (0) the input and grad_output addresses the
    engine is given; -1 leaves the setting. Returns the last recorded (0: none)."""
