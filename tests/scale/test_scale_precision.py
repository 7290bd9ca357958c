"""Training under XLA, mixed precision and activation recomputation (alone and combined with
each of the others), each model at toy size.

Each run must give a finite loss that goes down, and log_prob after training must equal a
plain float32 evaluation of the same weights (within the precision of the mode).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow

RNG = np.random.RandomState(0)
IMAGES = np.minimum(RNG.uniform(0, 256, size=(64, 8, 8, 1)), 255.9).astype("float32")

BUILDERS = {
    "glow": lambda **kw: tfflow.Glow(
        (8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16, **kw
    ),
    "realnvp": lambda **kw: tfflow.RealNVP(
        (8, 8, 1), num_scales=2, residual_blocks=1, hidden_channels=8, **kw
    ),
    "nice": lambda **kw: tfflow.NICE((64,), hidden_layers=2, hidden_units=32, pixels=True, **kw),
}

MODES = {
    "xla": ({}, {"jit_compile": True}, None, 1e-5),
    "mixed_float16": ({}, {}, "mixed_float16", 2e-2),
    "mixed_bfloat16": ({}, {}, "mixed_bfloat16", 5e-2),
    "recompute": ({"recompute": True}, {}, None, 1e-5),
    "recompute_xla": ({"recompute": True}, {"jit_compile": True}, None, 1e-5),
    "recompute_mixed_float16": ({"recompute": True}, {}, "mixed_float16", 2e-2),
    "recompute_mixed_bfloat16": ({"recompute": True}, {}, "mixed_bfloat16", 5e-2),
}


def _data(name):
    return IMAGES if name != "nice" else IMAGES.reshape(-1, 64)


# Recomputation is an option of the image models (Glow, RealNVP); NICE has none.
CASES = [
    (name, mode)
    for name in sorted(BUILDERS)
    for mode in sorted(MODES)
    if not (mode.startswith("recompute") and name == "nice")
]


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_trains_and_matches_float32_evaluation(name, mode):
    model_kwargs, compile_kwargs, policy, tolerance = MODES[mode]
    if policy:
        keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    model = BUILDERS[name](**model_kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), **compile_kwargs)
    history = model.fit(_data(name), batch_size=32, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses
    trained = model.log_prob(_data(name)[:16]).numpy()
    assert trained.dtype == np.float32

    keras.mixed_precision.set_global_policy("float32")
    reference_model = BUILDERS[name]()
    reference_model.set_weights(model.get_weights())
    reference = reference_model.log_prob(_data(name)[:16]).numpy()
    np.testing.assert_allclose(trained, reference, rtol=tolerance)


def test_mixed_precision_conditioners_compute_in_half_and_log_det_in_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = BUILDERS["glow"]()
    conditioner = next(layer for layer in model.flow_layers if "nn" in layer.name)
    assert conditioner.compute_dtype == "float16"
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    assert model.log_prob(IMAGES[:2]).dtype == tf.float32
