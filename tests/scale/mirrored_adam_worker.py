"""Under MirroredStrategy on 2 logical CPUs: FusedAdam (Keras' update path there) trains
like Keras' Adam, and `fit`'s dequantization draws different noise on each replica.
Run as a subprocess by test_scale_fused_adam.py: python mirrored_adam_worker.py OUT.json"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

import keras  # noqa: E402

import tfflow  # noqa: E402
from tfflow.optimizers import FusedAdam  # noqa: E402


def build():
    return tfflow.NICE((16,), coupling_layers=2, hidden_layers=1, hidden_units=16, pixels=True)


data = np.random.RandomState(0).uniform(0, 256, size=(128, 16)).astype("float32")
start = build().get_weights()
weights = {}
for name, optimizer_class in (("fused", FusedAdam), ("keras", keras.optimizers.Adam)):
    with strategy.scope():
        model = build()
        model.set_weights(start)
        model.compile(optimizer=optimizer_class(1e-2))
    model.fit(data, batch_size=64, epochs=3, shuffle=False, verbose=0, guard=False)
    weights[name] = [w.numpy() for w in model.weights]
difference = max(
    float(np.max(np.abs(a - b))) for a, b in zip(weights["fused"], weights["keras"], strict=True)
)
moved = max(float(np.max(np.abs(a - b))) for a, b in zip(weights["fused"], start, strict=True))

pixels = np.full((4, 16), 7, np.uint8)
per_replica = strategy.run(model.dequantize, args=(tf.constant(pixels),))
noise = [v.numpy() for v in strategy.experimental_local_results(per_replica)]
report = {
    "replicas": strategy.num_replicas_in_sync,
    "max_weight_difference": difference,
    "max_weight_change": moved,
    "noise_in_range": all(bool(np.all((n >= 7) & (n < 8))) for n in noise),
    "noise_differs_across_replicas": not np.allclose(noise[0], noise[1]),
}
with open(sys.argv[1], "w") as f:
    json.dump(report, f)
