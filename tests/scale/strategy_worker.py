"""Trains toy models under a tf.distribute strategy; run as a subprocess by the scale tests.

Usage: python strategy_worker.py mirrored OUT.json
       python strategy_worker.py multiworker OUT.json   (TF_CONFIG set by the caller)

Writes, per model: the losses per epoch, and the max relative difference between log_prob
under the strategy and a single-device float32 evaluation of the same weights.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

kind, out_path = sys.argv[1], sys.argv[2]
if kind == "mirrored":
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
else:
    strategy = tf.distribute.MultiWorkerMirroredStrategy()

import keras  # noqa: E402

import tfflow  # noqa: E402

rng = np.random.RandomState(0)
images = np.minimum(rng.uniform(0, 256, size=(256, 8, 8, 1)), 255.9).astype("float32")
builders = {
    "glow": lambda: tfflow.Glow((8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16),
    "glow_recompute": lambda: tfflow.Glow(
        (8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16, recompute=True
    ),
    "realnvp": lambda: tfflow.RealNVP(
        (8, 8, 1), num_scales=2, residual_blocks=1, hidden_channels=8, batch_norm=False
    ),
    "nice": lambda: tfflow.NICE((64,), hidden_layers=2, hidden_units=32, pixels=True),
}
report = {"replicas": strategy.num_replicas_in_sync}
for name, build in builders.items():
    keras.utils.set_random_seed(0)
    data = images if name != "nice" else images.reshape(-1, 64)
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(64)
    with strategy.scope():
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(dataset, epochs=3, verbose=0)
    with strategy.scope():
        distributed = model.predict(data[:32], verbose=0, batch_size=16)
    single = build()
    single.set_weights(model.get_weights())
    reference = single.log_prob(data[:32]).numpy()
    identical = True
    for w in model.weights:
        per_replica = getattr(w.value, "values", None)
        if "actnorm" in w.path and per_replica is not None:
            first = per_replica[0].numpy()
            identical &= all(np.array_equal(first, v.numpy()) for v in per_replica[1:])
    report[name] = {
        "loss": history.history["loss"],
        "log_prob_rel_diff": float(np.max(np.abs(distributed - reference) / np.abs(reference))),
        "actnorm_initialized": not model.needs_initialization(),
        "actnorm_identical_on_replicas": bool(identical),
    }
with open(out_path, "w") as f:
    json.dump(report, f)
