"""`examples/serve_client.py`: request building, and both transports against stand-in servers.

No TF Serving here, so small in-process servers speak its REST and gRPC Predict protocols,
answering from the SavedModel loaded with `tf.saved_model.load`.
"""

from __future__ import annotations

import argparse
import http.server
import importlib.util
import json
import pathlib
import threading
from concurrent import futures

import numpy as np
import pytest
import tensorflow as tf

import tfflow

grpc = pytest.importorskip("grpc")
pytest.importorskip("tensorflow_serving", reason="needs tensorflow-serving-api")
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load_client():
    spec = importlib.util.spec_from_file_location("serve_client", ROOT / "examples/serve_client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


client = _load_client()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    model = tfflow.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
    version_dir = tfflow.export(model, tmp_path_factory.mktemp("models") / "toy_glow")
    return model, tf.saved_model.load(str(version_dir))


def _call(loaded, signature_name: str, inputs: dict) -> dict[str, np.ndarray]:
    signature = loaded.signatures[signature_name]
    specs = signature.structured_input_signature[1]
    tensors = {k: tf.constant(np.asarray(v), specs[k].dtype) for k, v in inputs.items()}
    return {k: v.numpy() for k, v in signature(**tensors).items()}


# ----- pure request builders ---------------------------------------------------------------------
def test_rest_url():
    assert client.rest_url("localhost", 8501, "glow_digits") == (
        "http://localhost:8501/v1/models/glow_digits:predict"
    )
    assert client.rest_url("h", 1, "m", version=3) == "http://h:1/v1/models/m/versions/3:predict"


def test_rest_body_for_sample_and_log_prob():
    body = client.rest_request_body("sample", client.sample_inputs(4, 0.7, 11))
    assert body == {
        "signature_name": "sample",
        "inputs": {"num_samples": 4, "temperature": pytest.approx(0.7), "seed": 11},
    }
    json.dumps(body)  # JSON-ready
    x = np.arange(4, dtype=np.float64).reshape(2, 2)
    body = client.rest_request_body("log_prob", client.log_prob_inputs(x))
    assert body == {"signature_name": "log_prob", "inputs": {"x": [[0.0, 1.0], [2.0, 3.0]]}}


def test_sample_inputs_dtypes_and_validation():
    inputs = client.sample_inputs(2, 1.0, 5)
    assert {k: v.dtype for k, v in inputs.items()} == {
        "num_samples": np.int32,
        "temperature": np.float32,
        "seed": np.int64,
    }
    with pytest.raises(ValueError, match="num_samples"):
        client.sample_inputs(0)


def test_parse_rest_response():
    parsed = client.parse_rest_response({"outputs": {"log_prob": [-1.0, "-Infinity"]}})
    assert parsed["log_prob"].shape == (2,)
    assert client.parse_rest_response({"outputs": [[1, 2]]})["output"].shape == (1, 2)
    with pytest.raises(RuntimeError, match="must be a positive"):
        client.parse_rest_response({"error": "`num_samples` must be a positive integer."})
    with pytest.raises(ValueError, match="outputs"):
        client.parse_rest_response({"predictions": []})


def test_grpc_request_and_response():
    request = client.grpc_request("glow_digits", "sample", client.sample_inputs(3, 0.5, 2), 4)
    assert isinstance(request, predict_pb2.PredictRequest)
    assert request.model_spec.name == "glow_digits"
    assert request.model_spec.signature_name == "sample"
    assert request.model_spec.version.value == 4
    assert tf.make_ndarray(request.inputs["num_samples"]) == 3
    assert request.inputs["seed"].dtype == tf.int64.as_datatype_enum
    response = predict_pb2.PredictResponse()
    response.outputs["samples"].CopyFrom(tf.make_tensor_proto(np.ones((3, 2), np.float32)))
    np.testing.assert_array_equal(client.parse_grpc_response(response)["samples"], np.ones((3, 2)))


def test_parser_and_client_choice():
    args = client.build_parser().parse_args(["--protocol", "grpc", "sample", "--seed", "3"])
    assert (args.protocol, args.port, args.command, args.seed) == ("grpc", None, "sample", 3)
    rest = client.make_client("rest", "example.org", None, "m")
    assert rest.url == "http://example.org:8501/v1/models/m:predict"
    with pytest.raises(ValueError, match="protocol"):
        client.make_client("http", "h", None, "m")


# ----- stand-in servers --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rest_server(served):
    _, loaded = served

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert self.path == "/v1/models/toy_glow:predict"
            try:
                outputs = _call(loaded, body["signature_name"], body["inputs"])
                status, reply = 200, {"outputs": {k: v.tolist() for k, v in outputs.items()}}
            except tf.errors.InvalidArgumentError as error:
                status, reply = 400, {"error": error.message}
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def grpc_port(served):
    _, loaded = served

    class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 - gRPC's naming
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            try:
                outputs = _call(loaded, request.model_spec.signature_name, inputs)
            except tf.errors.InvalidArgumentError as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, error.message)
            response = predict_pb2.PredictResponse()
            response.model_spec.CopyFrom(request.model_spec)
            for key, value in outputs.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port
    server.stop(None)


@pytest.fixture(params=["rest", "grpc"])
def transport(request, rest_server, grpc_port):
    port = rest_server if request.param == "rest" else grpc_port
    made = client.make_client(request.param, "127.0.0.1", port, "toy_glow")
    yield made
    if hasattr(made, "close"):
        made.close()


def test_sample_through_server(transport, served):
    model, loaded = served
    outputs = transport.predict("sample", client.sample_inputs(3, 0.7, 5))
    expected = _call(loaded, "sample", client.sample_inputs(3, 0.7, 5))
    np.testing.assert_allclose(outputs["samples"], expected["samples"], rtol=1e-6)
    np.testing.assert_array_equal(outputs["samples_uint8"], expected["samples_uint8"])
    np.testing.assert_array_equal(outputs["samples"], model.sample(3, 0.7, 5).numpy())


def test_log_prob_command_scores_fresh_samples(transport, served):
    args = argparse.Namespace(
        command="log_prob", num_samples=2, temperature=0.5, seed=1, input=None, timeout=30.0
    )
    outputs = client.run(args, transport)
    model = served[0]
    np.testing.assert_allclose(
        outputs["log_prob"], model.log_prob(model.sample(2, 0.5, 1)).numpy(), rtol=1e-5
    )
    assert outputs["bits_per_dim"].shape == (2,)


def test_sample_command_saves_npy(transport, tmp_path):
    target = tmp_path / "samples.npy"
    args = argparse.Namespace(
        command="sample", num_samples=2, temperature=1.0, seed=0, output=str(target), timeout=30.0
    )
    outputs = client.run(args, transport)
    np.testing.assert_array_equal(np.load(target), outputs["samples"])


def test_server_errors_surface(transport):
    bad = client.sample_inputs(1) | {"temperature": np.float32("nan")}
    if isinstance(transport, client.RestClient):
        with pytest.raises(RuntimeError, match="temperature"):
            transport.predict("sample", bad)
    else:
        with pytest.raises(grpc.RpcError) as info:
            transport.predict("sample", bad)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "temperature" in info.value.details()
