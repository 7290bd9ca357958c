"""Rational-quadratic spline coupling (neural spline flows): `y2 = RQS(x2; theta(x1))`."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfflow.bijectors.coupling import PartitionedCoupling
from tfflow.bijectors.flow_bijector import log_det_dtype
from tfflow.bijectors.partitions import Partition

tfb = tfp.bijectors

__all__ = ["SplineCoupling", "spline_parameter_count"]


def spline_parameter_count(num_bins: int) -> int:
    """Conditioner outputs per transformed element: `K` widths, `K` heights and the `K - 1`
    interior knot slopes (the slopes at `-B` and `B` are 1, matching the linear tails)."""
    return 3 * int(num_bins) - 1


class SplineCoupling(PartitionedCoupling):
    """Coupling layer whose transform is a monotonic rational-quadratic spline (NSF).

    Forward (the normalizing direction, data -> latent):
        (x1, x2) = split(x);  theta = conditioner(x1)
        y2_i = RQS(x2_i; theta_i);  y = merge(x1, y2);  log|det J| = sum_i log RQS'(x2_i)

    For each transformed element `i`, the conditioner gives `3 K - 1` unconstrained values
    `(u_w, u_h, u_d)` (`K` = `num_bins`), constrained as in Durkan et al. (2019), Sec. 3.1:
        widths  = 2 B (m_w + (1 - K m_w) softmax(u_w))      (K bins covering [-B, B])
        heights = 2 B (m_h + (1 - K m_h) softmax(u_h))
        slopes  = m_d + softplus(u_d + c),  c = log(exp(1 - m_d) - 1)   (K - 1 inner knots)
    with `m_w, m_h, m_d` = `min_bin_width`, `min_bin_height`, `min_slope`. The knots at
    `-B` and `B` have slope 1, and outside `[-B, B]` the transform is the identity (linear
    tails), so the spline is a bijection of the real line. The offset `c` makes zero
    conditioner outputs give equal bins and unit slopes: exactly the identity, so a
    zero-initialised last conditioner layer starts the flow at the identity.

    The spline itself is TFP's `tfb.RationalQuadraticSpline`, built on every call from the
    conditioner's output (never from variables at construction, which Keras 3 would freeze
    into constants).

    Args:
        conditioner: Keras layer mapping the conditioning part (shape
            `partition.conditioner_input_shape`) to `(3 K - 1) * c` channels, where `c` is
            the last dim of `partition.transformed_shape`; read as `(c, 3 K - 1)`. With a
            context (the conditional keyword argument `context`, an encoded context tensor),
            the conditioner reads `concat(x1, context)` (`tfflow.bijectors.conditioning`).
        partition: a `Partition` (half, odd_even, checkerboard or channel).
        num_bins: number of spline bins `K` (>= 2).
        bound: half-width `B` of the spline interval `[-B, B]`.
        min_bin_width: smallest bin width, as a fraction of `2 B`.
        min_bin_height: smallest bin height, as a fraction of `2 B`.
        min_slope: smallest knot slope.
        validate_args: TFP's `validate_args`.
        name: bijector name.

    Example:
        >>> from tfflow.bijectors import Partition
        >>> from tfflow.layers import MLP
        >>> partition = Partition("half", (4,))
        >>> net = MLP(spline_parameter_count(8) * 2, hidden_units=16)
        >>> coupling = SplineCoupling(net, partition, num_bins=8, bound=3.0)
        >>> x = tf.constant([[0.5, -1.0, 2.0, 4.0]])
        >>> coupling.forward(x).numpy().round(4)  # zero last layer: the identity
        array([[ 0.5, -1. ,  2. ,  4. ]], dtype=float32)

    References:
        Durkan, Bekasov, Murray, Papamakarios. Neural Spline Flows. arXiv:1906.04032.
        Gregory, Delbourgo. Piecewise rational quadratic interpolation to monotonic data.
        IMA Journal of Numerical Analysis, 1982.
    """

    def __init__(
        self,
        conditioner: keras.layers.Layer,
        partition: Partition,
        num_bins: int = 8,
        bound: float = 3.0,
        min_bin_width: float = 1e-3,
        min_bin_height: float = 1e-3,
        min_slope: float = 1e-3,
        validate_args: bool = False,
        name: str = "spline_coupling",
    ):
        parameters = dict(locals())
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)):
            raise TypeError(f"`num_bins` must be an int; received {num_bins!r}.")
        if num_bins < 2:
            raise ValueError(f"`num_bins` must be >= 2; received {num_bins!r}.")
        if not bound > 0:
            raise ValueError(f"`bound` must be positive; received {bound!r}.")
        for arg, value in (("min_bin_width", min_bin_width), ("min_bin_height", min_bin_height)):
            if not 0 <= value < 1.0 / num_bins:
                raise ValueError(
                    f"`{arg}` must lie in [0, 1 / num_bins) = [0, {1.0 / num_bins:.4g}); "
                    f"received {value!r}."
                )
        if not 0 <= min_slope < 1:
            raise ValueError(f"`min_slope` must lie in [0, 1); received {min_slope!r}.")
        self.conditioner = conditioner
        self.partition = partition
        self.num_bins = int(num_bins)
        self.bound = float(bound)
        self.min_bin_width = float(min_bin_width)
        self.min_bin_height = float(min_bin_height)
        self.min_slope = float(min_slope)
        self.keras_layers = (conditioner,)
        self.halves_event_shape = partition.event_shape if partition.splits_halves else None
        super().__init__(
            forward_min_event_ndims=len(partition.event_shape),
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    def _spline(
        self, x_cond: tf.Tensor, dtype: tf.DType, context: tf.Tensor | None = None
    ) -> tfb.RationalQuadraticSpline:
        """The elementwise spline for the transformed part, parameterised by `x_cond`."""
        params = tf.cast(self._conditioner_output(x_cond, context), dtype)
        k = self.num_bins
        channels = self.partition.transformed_shape[-1]
        shape = tf.concat([tf.shape(params)[:-1], [channels, -1]], 0)
        # Constrained on a rank-2 view: TF's CPU softmax takes at most rank 5.
        u_w, u_h, u_d = tf.split(
            tf.reshape(params, [-1, spline_parameter_count(k)]), [k, k, k - 1], axis=-1
        )
        width = 2.0 * self.bound

        def bins(u: tf.Tensor, minimum: float) -> tf.Tensor:
            bins = width * (minimum + (1.0 - k * minimum) * tf.nn.softmax(u, axis=-1))
            return tf.reshape(bins, shape)

        offset = float(np.log(np.expm1(1.0 - self.min_slope)))
        slopes = self.min_slope + tf.nn.softplus(u_d + offset)
        return tfb.RationalQuadraticSpline(
            bin_widths=bins(u_w, self.min_bin_width),
            bin_heights=bins(u_h, self.min_bin_height),
            knot_slopes=tf.reshape(slopes, shape),
            range_min=-self.bound,
            validate_args=self.validate_args,
        )

    def _forward_parts(
        self, x_cond: tf.Tensor, x_trans: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`(y_trans, terms)`: the transformed part and the per-element log-derivatives."""
        # Half-precision inputs run the spline in float32 (its knot search and log-derivative
        # lose too much in float16); the output keeps the input dtype.
        dtype = log_det_dtype(x_trans.dtype)
        spline = self._spline(x_cond, dtype, context)
        x = tf.cast(x_trans, dtype)
        y = spline.forward(x)
        terms = self.partition.restrict(spline.forward_log_det_jacobian(x, event_ndims=0))
        return tf.cast(y, x_trans.dtype), terms

    def _inverse_parts(
        self, y_cond: tf.Tensor, y_trans: tf.Tensor, context: tf.Tensor | None = None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`(x_trans, terms)`: terms are the forward log-derivatives at `x_trans`, so the
        inverse log-det is minus their sum."""
        dtype = log_det_dtype(y_trans.dtype)
        spline = self._spline(y_cond, dtype, context)
        x = spline.inverse(tf.cast(y_trans, dtype))
        terms = self.partition.restrict(spline.forward_log_det_jacobian(x, event_ndims=0))
        return tf.cast(x, y_trans.dtype), terms
