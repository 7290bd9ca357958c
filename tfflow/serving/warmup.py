"""TF Serving warm-up requests (`assets.extra/tf_serving_warmup_requests`)."""

from __future__ import annotations

import pathlib

import numpy as np
import tensorflow as tf

__all__ = ["WARMUP_FILENAME", "serving_api_available", "warmup_inputs", "write_warmup_requests"]

WARMUP_FILENAME = "tf_serving_warmup_requests"


def serving_api_available() -> bool:
    """Whether `tensorflow_serving.apis` (pip package `tensorflow-serving-api`) imports."""
    try:
        from tensorflow_serving.apis import prediction_log_pb2  # noqa: F401
    except ImportError:
        return False
    return True


def warmup_inputs(
    data_shape: tuple[int, ...],
    pixels: bool,
    n_bits: int,
    batch_size: int = 2,
    num_classes: int | None = None,
    context_shape: tuple[int, ...] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Signature name -> inputs of the warm-up requests (`log_prob` and `sample`).

    The `log_prob` batch sits in the middle of the data range (mid-grey for pixel models) so
    it is a valid, finite request for every model. For a class-conditional model
    (`num_classes` set) both requests also carry int32 `labels`, one per example, cycling
    through the classes; for a context-conditional model (`context_shape` set) a float32
    `context` of zeros, one per example.
    """
    value = 0.5 * 2.0**n_bits if pixels else 0.0
    requests = {
        "log_prob": {"x": np.full((batch_size,) + tuple(data_shape), value, np.float32)},
        "sample": {
            "num_samples": np.array(batch_size, np.int32),
            "temperature": np.array(1.0, np.float32),
            "seed": np.array(0, np.int64),
        },
    }
    if num_classes is not None:
        labels = np.arange(batch_size, dtype=np.int32) % int(num_classes)
        for inputs in requests.values():
            inputs["labels"] = labels
    if context_shape is not None:
        context = np.zeros((batch_size,) + tuple(context_shape), np.float32)
        for inputs in requests.values():
            inputs["context"] = context
    return requests


def write_warmup_requests(
    directory: str | pathlib.Path,
    model_name: str,
    requests: dict[str, dict[str, np.ndarray]],
) -> pathlib.Path:
    """Writes `directory/tf_serving_warmup_requests`: a TFRecord of `PredictionLog`s.

    TF Serving replays these `PredictRequest`s when it loads a version, so the first real
    request does not pay for graph optimisation.

    Args:
        directory: the version's `assets.extra` folder (created if missing).
        model_name: `model_spec.name` of the requests.
        requests: signature name -> input name -> array, e.g. from `warmup_inputs`.

    Returns:
        The path of the file written.

    Raises:
        ImportError: if `tensorflow-serving-api` is not installed.
    """
    try:
        from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
    except ImportError as error:
        raise ImportError(
            "Writing TF Serving warm-up requests needs the `tensorflow-serving-api` package "
            "(`pip install tensorflow-serving-api`, or `tfflow[serving]`); pass `warmup=False` "
            "to `tfflow.export` to skip them."
        ) from error
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / WARMUP_FILENAME
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature_name, inputs in requests.items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name)
            )
            for key, array in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(array))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path
