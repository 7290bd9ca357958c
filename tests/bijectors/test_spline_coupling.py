"""SplineCoupling specifics: identity at initialisation, linear tails, argument checks.

The shared contract (round trip, autodiff log-det, gradients, XLA) runs in
`test_bijector_contract.py` through the `spline_*` cases.
"""

import numpy as np
import pytest
import tensorflow as tf
from flow_asserts import randomize_weights

from tfflow import bijectors as tb
from tfflow import layers as tl


def _coupling(bound: float = 2.0, num_bins: int = 5) -> tb.SplineCoupling:
    partition = tb.Partition("half", (4,), 0)
    net = tl.MLP(tb.spline_parameter_count(num_bins) * 2, 16, 1)
    return tb.SplineCoupling(net, partition, num_bins=num_bins, bound=bound)


def test_zero_initialised_conditioner_gives_the_identity():
    coupling = _coupling()
    x = tf.constant([[0.3, -1.7, 1.2, -5.0], [4.0, 0.1, -0.4, 1.99]])
    y, ldj = tb.forward_and_log_det(coupling, x)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-6)
    np.testing.assert_allclose(ldj.numpy(), 0.0, atol=1e-6)


def test_spline_inside_bound_and_identity_tails_outside():
    coupling = _coupling(bound=2.0)
    x = tf.constant([[0.5, -0.5, 1.0, -3.0], [0.2, 0.9, 2.5, 0.7]])
    coupling.forward(x)
    randomize_weights([coupling.conditioner], seed=3, scale=0.5)
    y = coupling.forward(tf.identity(x)).numpy()
    # Conditioning half unchanged; transformed entries outside [-2, 2] unchanged (linear
    # tails); inside, the random spline moves them, staying inside [-2, 2].
    np.testing.assert_array_equal(y[:, :2], x.numpy()[:, :2])
    assert y[0, 3] == pytest.approx(-3.0) and y[1, 2] == pytest.approx(2.5)
    moved = np.abs(y[[0, 1], [2, 3]] - x.numpy()[[0, 1], [2, 3]])
    assert np.all(moved > 1e-3), moved
    assert np.all(np.abs(y[[0, 1], [2, 3]]) < 2.0)


def test_spline_is_monotonic_in_each_transformed_element():
    coupling = _coupling(bound=2.0)
    grid = np.linspace(-3.0, 3.0, 601, dtype=np.float32)
    x = np.stack([np.full_like(grid, 0.3), np.full_like(grid, -0.8), grid, -grid], axis=-1)
    coupling.forward(tf.constant(x))
    randomize_weights([coupling.conditioner], seed=4, scale=0.8)
    y = coupling.forward(tf.constant(x)).numpy()
    assert np.all(np.diff(y[:, 2]) > 0) and np.all(np.diff(y[:, 3]) < 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_bins": 1}, "`num_bins` must be >= 2; received 1"),
        ({"bound": 0.0}, "`bound` must be positive; received 0.0"),
        ({"num_bins": 4, "min_bin_width": 0.25}, "`min_bin_width` must lie in"),
        ({"min_bin_height": -0.1}, "`min_bin_height` must lie in"),
        ({"min_slope": 1.0}, "`min_slope` must lie in"),
    ],
)
def test_rejects_bad_arguments_naming_them(kwargs, message):
    partition = tb.Partition("half", (4,), 0)
    with pytest.raises(ValueError, match=message):
        tb.SplineCoupling(tl.MLP(10, 8, 1), partition, **kwargs)


def test_num_bins_must_be_an_integer():
    with pytest.raises(TypeError, match="`num_bins` must be an int; received 4.0"):
        tb.SplineCoupling(tl.MLP(10, 8, 1), tb.Partition("half", (4,), 0), num_bins=4.0)


def test_context_reaches_the_conditioner_and_keeps_the_coupling_bijective():
    coupling = _coupling(bound=2.0)
    x = tf.constant([[0.5, -0.5, 1.0, -1.2], [0.2, 0.9, -0.3, 0.7]])
    context = tf.constant([[1.0, -2.0], [0.5, 0.0]])
    coupling.forward(x, context=context)  # builds the conditioner on concat(x1, context)
    randomize_weights([coupling.conditioner], seed=5, scale=0.5)
    y, ldj = tb.forward_and_log_det(coupling, x, **{coupling.name: {"context": context}})
    other = coupling.forward(tf.identity(x), context=tf.zeros_like(context))
    assert float(tf.reduce_max(tf.abs(other - y))) > 1e-3  # the context changes the spline
    x_back = coupling.inverse(tf.identity(y), context=context)
    np.testing.assert_allclose(x_back.numpy(), x.numpy(), atol=1e-5)
    ildj = coupling.inverse_log_det_jacobian(tf.identity(y), event_ndims=1, context=context)
    np.testing.assert_allclose(ildj.numpy(), -ldj.numpy(), rtol=1e-5, atol=1e-6)
