"""The README's "Differences from PyTorch" that no other test file pins down."""
from __future__ import annotations

import numpy as np
import pytest

import swiftconv as sc


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_zero_input_channels_give_the_bias(rank):
    # PyTorch returns 0 output channels here; the sum over no input channels is 0, plus the bias.
    sp, k = (4,) * rank, (3,) * rank
    b = np.array([1.5, -2.0], np.float32)
    y = getattr(sc, f"conv{rank}d")(np.ones((1, 0, *sp), np.float32), np.ones((2, 0, *k), np.float32), b)
    assert y.shape == (1, 2, *(2,) * rank)
    np.testing.assert_array_equal(y[0, 0], 1.5)
    np.testing.assert_array_equal(y[0, 1], -2.0)


def test_one_dimensional_messages_use_the_length():
    with pytest.raises(ValueError, match=r"conv_transpose1d: output padding must be smaller than either stride or "
                                         r"dilation, but got output_padding_length: 2 stride_length: 2 dilation_length: 1"):
        sc.conv_transpose1d(np.ones((1, 1, 4), np.float32), np.ones((1, 1, 3), np.float32), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv1d: Only zero batch or zero channel inputs are supported, but got "
                                         r"input shape: \[1, 2, 0\]"):
        sc.conv1d(np.ones((1, 2, 0), np.float32), np.ones((1, 2, 1), np.float32), padding=1)


def test_string_padding_on_transposed_ops_is_a_value_error():
    with pytest.raises(ValueError, match="conv_transpose3d: padding must be an int or a tuple of ints"):
        sc.conv_transpose3d(np.ones((1, 1, 2, 2, 2), np.float32), np.ones((1, 1, 1, 1, 1), np.float32), padding="same")
