"""Type stub for swiftconv._native, the CPython shim over the Swift engine (internal API:
use the functions of the swiftconv package)."""
from typing import Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike

engine_version: str
abi_version: int

def run(
    op: int,
    input: ArrayLike,
    weight: ArrayLike,
    bias: Optional[ArrayLike],
    grad_output: Optional[ArrayLike],
    stride: Tuple[int, int],
    padding: Tuple[int, int, int, int],
    padding_mode: int,
    dilation: Tuple[int, int],
    output_padding: Tuple[int, int],
    groups: int,
    algorithm: str,
    output_mask: int,
    explain: bool,
    /,
) -> Union[Tuple[Optional[np.ndarray], ...], str]:
    """Validate (engine geometry), convert the arrays to C-contiguous native-endian buffers,
    run op 0..3 (conv2d, conv_transpose2d, conv2d_backward, conv_transpose2d_backward) with
    the GIL released. Returns the results (None where output_mask leaves one out), or the
    explanation text when explain is true. Raises ValueError, TypeError or MemoryError."""

def set_num_threads(n: int, /) -> None: ...
def get_num_threads() -> int: ...
