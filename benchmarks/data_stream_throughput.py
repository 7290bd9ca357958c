"""The input pipeline against Glow training on 32x32x3, and the input wait in a real fit.

    python benchmarks/data_stream_throughput.py WORK_DIR [--train 20000] [--rounds 3]

On a synthetic TFRecord set of 32x32x3 PNG images (`data_synthetic.py`, written into
WORK_DIR/set-N if absent), in ONE process, interleaved windows of:

- pipeline: `make_stream(source, "train", batch_size=64, training=True)` alone: read, PNG
  decode, shuffle, dequantize, batch; examples per second over 100 batches;
- training: Glow (L=3, K=8, 256 hidden channels) on 32x32x3, batch 64, Keras' compiled
  `train_function` (what `fit` runs per batch) on one batch held in memory; examples per
  second over 3 steps;
- then, once, a real `model.fit` on the stream (`--fit-steps` steps) under the TensorFlow
  profiler (`tf.profiler.experimental`): from the trace, the share of each training step
  (`multi_step_on_iterator`) spent waiting inside `IteratorGetNextOp` for the next batch.
  The first step is reported apart: it creates fit's iterator and fills the shuffle buffer
  (once per run when the stream is endless, as `tfflow train` makes it).

TensorFlow runs with 2 intra-op threads and 1 inter-op thread, as the other benchmarks;
tf.data uses its own thread pool.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time

from data_synthetic import write_set

BATCH = 64


def _durations(xspace_path: str, name: str) -> list[float]:
    """Durations in seconds of the host events called `name`, in start order."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(pathlib.Path(xspace_path).read_bytes())
    events = []
    for plane in space.planes:
        ids = {key for key, meta in plane.event_metadata.items() if meta.name == name}
        for line in plane.lines:
            events += [
                (line.timestamp_ns * 1000 + event.offset_ps, event.duration_ps / 1e12)
                for event in line.events
                if event.metadata_id in ids
            ]
    return [duration for _, duration in sorted(events)]


def profiled_fit(model, dataset, steps: int) -> tuple[list[float], list[float]]:
    """Per-step times of `fit` and the time each step waited for its batch (profiler trace)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
        tf.profiler.experimental.stop()
        (path,) = pathlib.Path(logdir).rglob("*.xplane.pb")
        step_times = _durations(str(path), "multi_step_on_iterator")
        waits = _durations(str(path), "IteratorGetNextOp::DoCompute")
    if len(step_times) != steps or len(waits) != steps:
        raise RuntimeError(f"expected {steps} steps in the trace; found {len(step_times)}.")
    return step_times, waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work_dir", type=pathlib.Path)
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pipeline-batches", type=int, default=100)
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--fit-steps", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--steps-per-level", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    data_dir = args.work_dir / f"set-{args.train}"
    write_set(data_dir, args.train, 1_000, 32)

    import keras
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

    pipeline_rates, train_rates = [], []
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
        print(
            f"round {round_index + 1}: pipeline {pipeline_rates[-1]:,.0f} images/s, "
            f"training {train_rates[-1]:,.1f} images/s",
            flush=True,
        )
    pipeline_rate, train_rate = statistics.median(pipeline_rates), statistics.median(train_rates)
    steps, waits = profiled_fit(model, stream(), args.fit_steps)
    result = {
        "train_images": source.num_train,
        "pipeline_images_per_s": pipeline_rates,
        "train_images_per_s": train_rates,
        "ratio": pipeline_rate / train_rate,
        "fit_step_s": steps,
        "fit_input_wait_s": waits,
        "input_wait_fraction": sum(waits[1:]) / sum(steps[1:]),
    }
    print(f"\npipeline alone: {pipeline_rate:,.0f} images/s (median of {args.rounds} windows)")
    print(f"Glow training:  {train_rate:,.1f} images/s")
    print(f"ratio pipeline / training: {result['ratio']:.0f}x")
    print(
        f"fit on the stream, steps 2-{len(steps)}: {sum(steps[1:]):.1f} s, of which "
        f"{sum(waits[1:]):.3f} s waiting for input ({100 * result['input_wait_fraction']:.2f}%); "
        f"step 1 (new iterator, shuffle buffer fill): {steps[0]:.1f} s, {waits[0]:.1f} s waiting"
    )
    print("BENCHMARK_RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
