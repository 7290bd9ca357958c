"""Shared pytest configuration: quiet TensorFlow, restore Keras global state after each test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_keras_globals():
    floatx = keras.config.floatx()
    policy = keras.mixed_precision.global_policy()
    yield
    keras.config.set_floatx(floatx)
    keras.mixed_precision.set_global_policy(policy)


@pytest.fixture(params=["float32", "float64"])
def floatx(request):
    """Runs a test in float32 and in float64 (layers created after this use that dtype)."""
    keras.config.set_floatx(request.param)
    keras.mixed_precision.set_global_policy(request.param)
    return request.param
