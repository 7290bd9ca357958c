"""Query a tfflow model served by TF Serving, over REST (port 8501) or gRPC (port 8500).

Start the server first, e.g.:

    docker run -p 8501:8501 -p 8500:8500 \\
        -v $PWD/savedmodels/glow_digits:/models/glow_digits \\
        -e MODEL_NAME=glow_digits tensorflow/serving

Then:

    python examples/serve_client.py --model glow_digits sample --num-samples 4 --seed 1
    python examples/serve_client.py --model glow_digits log_prob            # scores samples
    python examples/serve_client.py --model glow_digits log_prob --input x.npy
    python examples/serve_client.py --protocol grpc --port 8500 --model glow_digits sample

REST uses only the standard library; gRPC needs `pip install tensorflow-serving-api`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import numpy as np

DEFAULT_PORTS = {"rest": 8501, "grpc": 8500}


# ----- request building (pure functions, unit-tested) --------------------------------------------
def sample_inputs(num_samples: int, temperature: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """Inputs of the `sample` signature (scalars: int32, float32, int64)."""
    if int(num_samples) <= 0:
        raise ValueError(f"`num_samples` must be a positive integer; received {num_samples}.")
    return {
        "num_samples": np.int32(num_samples),
        "temperature": np.float32(temperature),
        "seed": np.int64(seed),
    }


def log_prob_inputs(x: np.ndarray) -> dict[str, np.ndarray]:
    """Inputs of the `log_prob` signature: a float32 batch `x`."""
    return {"x": np.asarray(x, np.float32)}


def rest_url(host: str, port: int, model_name: str, version: int | None = None) -> str:
    """TF Serving's REST predict URL, e.g. `http://localhost:8501/v1/models/m:predict`."""
    path = f"/v1/models/{model_name}"
    if version is not None:
        path += f"/versions/{int(version)}"
    return f"http://{host}:{int(port)}{path}:predict"


def rest_request_body(signature_name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A REST predict body in the columnar ("inputs") format, which allows scalar inputs."""
    return {
        "signature_name": signature_name,
        "inputs": {key: np.asarray(value).tolist() for key, value in inputs.items()},
    }


def parse_rest_response(body: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Output name -> array from a columnar REST response (`{"outputs": ...}`).

    A signature with a single output gets its value unnamed; it is returned as `"output"`.

    Raises:
        RuntimeError: with the server's message if the response holds an `"error"`.
    """
    if "error" in body:
        raise RuntimeError(f"TF Serving returned an error: {body['error']}")
    if "outputs" not in body:
        raise ValueError(f"Expected an 'outputs' field in the response; received {list(body)}.")
    outputs = body["outputs"]
    if isinstance(outputs, Mapping):
        return {key: np.asarray(value) for key, value in outputs.items()}
    return {"output": np.asarray(outputs)}


def grpc_request(
    model_name: str, signature_name: str, inputs: Mapping[str, Any], version: int | None = None
):
    """A `tensorflow_serving.apis.predict_pb2.PredictRequest` for `PredictionService.Predict`."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    return request


def parse_grpc_response(response) -> dict[str, np.ndarray]:
    """Output name -> array from a `PredictResponse`."""
    import tensorflow as tf

    return {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}


# ----- transport ---------------------------------------------------------------------------------
class RestClient:
    """Calls TF Serving's REST API with `urllib` (no extra dependency)."""

    def __init__(self, host: str, port: int, model_name: str, version: int | None = None):
        self.url = rest_url(host, port, model_name, version)

    def predict(
        self, signature_name: str, inputs: Mapping[str, Any], timeout: float = 30.0
    ) -> dict[str, np.ndarray]:
        data = json.dumps(rest_request_body(signature_name, inputs)).encode("utf-8")
        request = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                body = json.loads(reply.read().decode("utf-8"))
        except urllib.error.HTTPError as error:  # TF Serving puts the reason in the JSON body
            body = json.loads(error.read().decode("utf-8") or "{}")
            if "error" not in body:
                raise
        return parse_rest_response(body)


class GrpcClient:
    """Calls `tensorflow.serving.PredictionService/Predict` over an insecure channel."""

    def __init__(self, host: str, port: int, model_name: str, version: int | None = None):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.model_name, self.version = model_name, version
        self.channel = grpc.insecure_channel(f"{host}:{int(port)}")
        self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)

    def predict(
        self, signature_name: str, inputs: Mapping[str, Any], timeout: float = 30.0
    ) -> dict[str, np.ndarray]:
        request = grpc_request(self.model_name, signature_name, inputs, self.version)
        return parse_grpc_response(self.stub.Predict(request, timeout=timeout))

    def close(self) -> None:
        self.channel.close()


def make_client(protocol: str, host: str, port: int | None, model_name: str, version=None):
    """A `RestClient` or `GrpcClient`, on the protocol's default port unless `port` is given."""
    if protocol not in DEFAULT_PORTS:
        raise ValueError(f"`protocol` must be 'rest' or 'grpc'; received {protocol!r}.")
    port = DEFAULT_PORTS[protocol] if port is None else port
    cls = RestClient if protocol == "rest" else GrpcClient
    return cls(host, port, model_name, version)


# ----- command line ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Query a tfflow model served by TF Serving.")
    parser.add_argument("--protocol", choices=("rest", "grpc"), default="rest")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=None, help="default: 8501 REST, 8500 gRPC")
    parser.add_argument("--model", default="glow_digits", help="MODEL_NAME of the server")
    parser.add_argument("--version", type=int, default=None, help="default: latest")
    parser.add_argument("--timeout", type=float, default=30.0)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="draw samples")
    log_prob = commands.add_parser("log_prob", help="score data (default: fresh samples)")
    for sub in (sample, log_prob):
        sub.add_argument("--num-samples", type=int, default=4)
        sub.add_argument("--temperature", type=float, default=1.0)
        sub.add_argument("--seed", type=int, default=0)
    sample.add_argument("--output", default=None, help="save the samples to this .npy file")
    log_prob.add_argument("--input", default=None, help=".npy file with a float batch x")
    return parser


def run(args: argparse.Namespace, client=None) -> dict[str, np.ndarray]:
    """Runs the parsed command; returns the server's outputs."""
    if client is None:
        client = make_client(args.protocol, args.host, args.port, args.model, args.version)
    draw = sample_inputs(args.num_samples, args.temperature, args.seed)
    if args.command == "sample":
        outputs = client.predict("sample", draw, args.timeout)
        if args.output:
            np.save(args.output, outputs["samples"])
        return outputs
    if args.input:
        x = np.load(args.input)
    else:
        x = client.predict("sample", draw, args.timeout)["samples"]
    return client.predict("log_prob", log_prob_inputs(x), args.timeout)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    outputs = run(args)
    for key, value in sorted(outputs.items()):
        shown = np.array2string(value.ravel()[:8], precision=4)
        print(f"{key}: shape {value.shape}, dtype {value.dtype}, first values {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
