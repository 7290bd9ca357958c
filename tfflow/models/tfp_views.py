"""A `FlowModel` seen as TensorFlow Probability objects: `TFPViewsMixin`.

`model.distribution` is `tfd.TransformedDistribution(model.base_distribution,
model.bijector)`, with `model.bijector = tfb.Invert(model.flow)` in TFP's convention
(`forward` generates: latent -> data), so the model can be used anywhere TFP takes a
distribution or a bijector. Conditional models take their labels or context through
`bijector_kwargs`, in TFP's layout. The mixin relies on the `FlowModel` attributes `flow`,
`prior`, `event_size`, `flow_dtype` and `num_classes`.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp
from numpy.typing import ArrayLike

from tfflow.models.context import context_conditions
from tfflow.models.inputs import label_conditions
from tfflow.models.priors import base_distribution

__all__ = ["TFPViewsMixin"]


class TFPViewsMixin:
    """The base distribution, bijector and transformed distribution of a flow model."""

    @property
    def base_distribution(self) -> tfp.distributions.Distribution:
        """The latent distribution over `(D,)`: standard normal or standard logistic."""
        return base_distribution(self.prior, self.event_size, self.flow_dtype)

    @property
    def bijector(self) -> tfp.bijectors.Bijector:
        """Latent -> data bijector (TFP convention: `forward` generates)."""
        return tfp.bijectors.Invert(self.flow)

    @property
    def distribution(self) -> tfp.distributions.TransformedDistribution:
        """`tfd.TransformedDistribution(base, bijector)`, usable anywhere TFP takes one."""
        return tfp.distributions.TransformedDistribution(self.base_distribution, self.bijector)

    def bijector_kwargs(
        self,
        labels: tf.Tensor | ArrayLike | None = None,
        context: tf.Tensor | ArrayLike | None = None,
    ) -> dict:
        """Conditional keyword arguments for `self.flow`, `self.bijector` and
        `self.distribution` in TFP's layout (nested by `Chain` part names), so that
        `model.distribution.log_prob(x, bijector_kwargs=model.bijector_kwargs(context=c))`
        equals `model.log_prob(x, context=c)` (likewise `labels=`).

        Args:
            labels: class labels of a class-conditional model.
            context: the context of a context-conditional model (one per example, or a
                single one for all).

        Raises:
            ValueError, TypeError: as `log_prob` does for bad `labels` or `context`.
        """
        return label_conditions(labels, self.num_classes) | context_conditions(
            self, context, nested=True
        )
