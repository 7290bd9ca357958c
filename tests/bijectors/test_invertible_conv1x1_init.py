"""`InvertibleConv1x1` starts at its seed's random rotation in both parameterisations."""

import numpy as np
import pytest
import tensorflow as tf

from tfflow.bijectors.invertible_conv1x1 import InvertibleConv1x1, random_rotation


@pytest.mark.parametrize("channels", [1, 3, 8, 48])
@pytest.mark.parametrize("lu_decomposed", [True, False])
def test_initial_weight_is_the_seeds_rotation(channels, lu_decomposed):
    conv = InvertibleConv1x1((2, 2, channels), lu_decomposed=lu_decomposed, seed=7)
    w, log_det = conv.weight_and_log_det(tf.float64)
    rotation = random_rotation(channels, 7)
    # The parameters are float32: the product of the LU factors matches to float32 precision.
    np.testing.assert_allclose(w.numpy(), rotation, atol=1e-6)
    assert abs(float(log_det)) < 1e-5


def test_lu_factors_are_triangular_and_the_permutation_is_one():
    conv = InvertibleConv1x1((12,), seed=3)
    params = conv.params
    permutation = params.permutation.numpy()
    assert sorted(permutation.sum(0)) == [1.0] * 12 and sorted(permutation.sum(1)) == [1.0] * 12
    np.testing.assert_array_equal(np.triu(params.lower.numpy()), 0.0)
    np.testing.assert_array_equal(np.tril(params.upper.numpy()), 0.0)
