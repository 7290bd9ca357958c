"""Exact test-set bits per dimension of a trained flow."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfflow.models import FlowModel
from tfflow.units import nats_to_bits_per_dim

__all__ = ["evaluate_bits_per_dim"]


def evaluate_bits_per_dim(model: FlowModel, dataset: tf.data.Dataset) -> dict[str, float | int]:
    """Mean negative log-likelihood over every example of `dataset`.

    Unlike `model.evaluate`, which averages per-batch means, every example counts once, so a
    smaller last batch is weighted correctly.

    Args:
        model: A trained flow.
        dataset: Batches in the model's input shape (e.g. `evaluation_pipeline`); for a
            class-conditional model, `(x, labels)` pairs.

    Returns:
        `{"bits_per_dim", "nll_nats", "num_examples", "num_dims"}`; `nll_nats` is per example.
    """
    if model.num_classes is not None:
        # `predict` passes on only the `x` of `(x, y)` elements: make the pair one input.
        dataset = dataset.map(lambda x, labels: ((x, labels),))
    log_probs = np.asarray(model.predict(dataset, verbose=0), np.float64).reshape(-1)
    nll = float(-np.mean(log_probs))
    return {
        "bits_per_dim": nats_to_bits_per_dim(nll, model.event_size),
        "nll_nats": nll,
        "num_examples": int(log_probs.shape[0]),
        "num_dims": int(model.event_size),
    }
