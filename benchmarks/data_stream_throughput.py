"""The input pipeline against Glow training on 32x32x3, and the input wait in a real fit.

    python benchmarks/data_stream_throughput.py WORK_DIR [--train 20000] [--rounds 3]

On a synthetic TFRecord set of 32x32x3 PNG images (`data_synthetic.py`, written into
WORK_DIR/set-N if absent), in ONE process, interleaved windows of:

- pipeline: `make_stream(source, "train", batch_size=64, training=True)` alone: read, PNG
  decode, shuffle, dequantize, batch; examples per second over 100 batches;
- training: Glow (L=3, K=8, 256 hidden channels) on 32x32x3, batch 64, Keras' compiled
  `train_function` (what `fit` runs per batch) on one batch held in memory; examples per
  second over 3 steps;
- fit, streamed vs in memory: `model.fit` for 4 steps on the stream, and on one batch
  repeated from memory (no input cost); the per-step times (between `on_train_batch_end`
  calls, first step of each fit dropped) give the share of a step spent on input,
  `1 - t_memory / t_stream`.

TensorFlow runs with 2 intra-op threads and 1 inter-op thread, as the other benchmarks;
tf.data uses its own thread pool.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import time

from data_synthetic import write_set

BATCH = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work_dir", type=pathlib.Path)
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pipeline-batches", type=int, default=100)
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--fit-steps", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--steps-per-level", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    data_dir = args.work_dir / f"set-{args.train}"
    write_set(data_dir, args.train, 1_000, 32)

    import keras
    import numpy as np
    import tensorflow as tf

    import tfflow
    from tfflow.data import make_stream, open_source

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    source = open_source(str(data_dir))

    def stream() -> tf.data.Dataset:
        return make_stream(source, "train", batch_size=BATCH, training=True, seed=0).repeat()

    pipeline = iter(stream())
    next(pipeline)  # warm-up: file listing, first shuffle buffer fill

    keras.utils.set_random_seed(0)
    model = tfflow.Glow(
        (32, 32, 3), levels=3, steps_per_level=args.steps_per_level, hidden_channels=args.hidden
    )
    model.compile()
    batch = next(pipeline)
    in_memory = tf.data.Dataset.from_tensors(batch).repeat()
    model.initialize(batch.numpy())
    model.make_train_function()
    memory_iterator = iter(in_memory)
    model.train_function(memory_iterator)  # warm-up: tracing

    class StepTimes(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.ends = [time.perf_counter()]

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    def fit_step_times(dataset) -> list[float]:
        timer = StepTimes()
        model.fit(
            dataset,
            epochs=1,
            steps_per_epoch=args.fit_steps,
            verbose=0,
            callbacks=[timer],
            shuffle=False,
        )
        return list(np.diff(timer.ends)[1:])

    fit_step_times(stream())  # warm-up of fit's own function
    pipeline_rates, train_rates, fit_stream, fit_memory = [], [], [], []
    for round_index in range(args.rounds):
        start = time.perf_counter()
        for _ in range(args.pipeline_batches):
            next(pipeline)
        pipeline_rates.append(args.pipeline_batches * BATCH / (time.perf_counter() - start))
        start = time.perf_counter()
        for _ in range(args.train_steps):
            logs = model.train_function(memory_iterator)
        float(logs["loss"])  # wait for the last step
        train_rates.append(args.train_steps * BATCH / (time.perf_counter() - start))
        first, second = (stream(), in_memory) if round_index % 2 == 0 else (in_memory, stream())
        for dataset in (first, second):
            times = fit_step_times(dataset)
            (fit_memory if dataset is in_memory else fit_stream).extend(times)
        print(
            f"round {round_index + 1}: pipeline {pipeline_rates[-1]:,.0f} images/s, "
            f"training {train_rates[-1]:,.1f} images/s",
            flush=True,
        )
    pipeline_rate, train_rate = statistics.median(pipeline_rates), statistics.median(train_rates)
    step_stream, step_memory = statistics.median(fit_stream), statistics.median(fit_memory)
    result = {
        "train_images": source.num_train,
        "pipeline_images_per_s": pipeline_rates,
        "train_images_per_s": train_rates,
        "ratio": pipeline_rate / train_rate,
        "fit_step_s_stream": fit_stream,
        "fit_step_s_memory": fit_memory,
        "input_wait_fraction": 1 - step_memory / step_stream,
    }
    print(f"\npipeline alone: {pipeline_rate:,.0f} images/s (median of {args.rounds} windows)")
    print(f"Glow training:  {train_rate:,.1f} images/s")
    print(f"ratio pipeline / training: {result['ratio']:.0f}x")
    print(
        f"fit step: {step_stream:.3f} s streamed, {step_memory:.3f} s from memory; "
        f"input wait share {100 * result['input_wait_fraction']:.1f}%"
    )
    print("BENCHMARK_RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
