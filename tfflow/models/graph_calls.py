"""Eager calls of a model's density and transform methods, run as cached graphs.

`model.log_prob(x)` called eagerly would dispatch every flow step's operations one by one
from Python; for a Glow that is several hundred kernel launches, each with Python overhead,
and runs at a fraction of the speed of the same computation inside `tf.function`.
`run_as_graph(model, fn, *args)` runs `fn(model, *args)` inside a `tf.function` that is
traced once per model, function, input signature (with `reduce_retracing`, so new batch
sizes do not retrace forever) and Keras training flag, and cached beside the model (not
on it: Keras and SavedModel never see it).

It calls `fn` directly, as before, when the call is already being traced (inside `fit`,
`evaluate`, a user's `tf.function`, an export), when `model.run_eagerly` is set (for
debugging with Python breakpoints), while ActNorm's data-dependent initialization runs
(it assigns variables from the batch's statistics eagerly) and before the model is built
(`FlowModel.__init__` creates every weight with one eager pass on a dummy batch).

The graphs run without XLA: XLA compiles once per batch size, which costs more than it saves
for calls made at whatever batch size a user has (`benchmarks/RESULTS.md`, issue 21);
`model.compile(jit_compile=True)` before `evaluate`/`predict` is the way to XLA for long runs
at one batch size.

Only deterministic work belongs in `fn`: random draws without an integer seed would be
frozen into the graph, so `sample` draws its latent noise eagerly and graphs the decode.

>>> import numpy as np, tfflow
>>> model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8)
>>> x = np.array([[0.1, -0.3]], "float32")
>>> eager = model.log_prob(x).numpy()  # runs as a cached graph
>>> model.run_eagerly = True
>>> bool(np.allclose(model.log_prob(x).numpy(), eager, atol=1e-5))
True
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from tfflow._compat.keras import current_call_training
from tfflow.bijectors.data_dependent import is_initializing

__all__ = ["run_as_graph"]

_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _runs_eagerly(model: keras.Model) -> bool:
    return not tf.executing_eagerly() or not model.built or model.run_eagerly or is_initializing()


def run_as_graph(model: keras.Model, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(model, *args)`, inside a `tf.function` cached per model when called eagerly.

    Args:
        model: the model `fn` reads its weights from (held weakly by the cache).
        fn: a module-level function `fn(model, *args)` with no random draws of its own.
        *args: tensors or nests of tensors (other values become part of the trace key).
    """
    if _runs_eagerly(model):
        return fn(model, *args)
    graphs = _GRAPHS.setdefault(model, {})
    key = (fn, current_call_training())
    graph = graphs.get(key)
    if graph is None:
        owner = weakref.ref(model)
        graph = tf.function(lambda *a: fn(owner(), *a), reduce_retracing=True, autograph=False)
        graphs[key] = graph
    return graph(*args)
