"""Keras saving, config round trips and BackupAndRestore resume for every model."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from model_cases import MODELS, make_model, sample_data

import tfflow


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_and_load_keras_file_round_trip(name, tmp_path):
    model = make_model(name)
    if model.needs_initialization():
        model.initialize(sample_data(model, 16, seed=3))
    x = sample_data(model, 4)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.log_prob(x).numpy(), model.log_prob(x).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        loaded.sample(3, seed=2).numpy(), model.sample(3, seed=2).numpy(), rtol=1e-4, atol=1e-3
    )
    assert not loaded.needs_initialization()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_config_round_trip(name):
    model = MODELS[name]()
    config = model.get_config()
    json.dumps(config)
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    assert len(clone.trainable_variables) == len(model.trainable_variables)


def test_actnorm_not_reinitialised_after_reload(tmp_path):
    model = tfflow.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=8)
    x = tf.random.stateless_uniform([32, 4, 4, 1], [1, 2], maxval=256.0)
    model.compile()
    model.fit(x, batch_size=32, epochs=1, verbose=0)
    model.save(tmp_path / "glow.keras")
    loaded = keras.models.load_model(tmp_path / "glow.keras")
    before = [v.numpy().copy() for v in loaded.weights]
    loaded.compile()
    loaded.fit(x * 0.1, batch_size=32, epochs=1, verbose=0, init_examples=32)
    actnorm_bias = [w for w in loaded.weights if "actnorm" in w.path and w.path.endswith("bias")]
    assert actnorm_bias
    index = [w.path for w in loaded.weights].index(actnorm_bias[0].path)
    # Training moved it slightly; a re-initialisation from data 10x smaller would move it a lot.
    assert np.max(np.abs(actnorm_bias[0].numpy() - before[index])) < 0.1


class _StopAfter(keras.callbacks.Callback):
    def __init__(self, batches: int):
        super().__init__()
        self.batches = batches
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.batches:
            raise KeyboardInterrupt("simulated interruption")


def test_backup_and_restore_resumes_interrupted_fit(tmp_path):
    x = np.random.RandomState(0).normal(size=(256, 4)).astype("float32")

    def fresh():
        keras.utils.set_random_seed(0)
        model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
        model.compile()
        return model

    reference = fresh()
    reference.fit(x, batch_size=64, epochs=3, shuffle=False, verbose=0)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    interrupted = fresh()
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(
            x, batch_size=64, epochs=3, shuffle=False, verbose=0, callbacks=[backup, _StopAfter(6)]
        )
    resumed = fresh()
    resumed.fit(x, batch_size=64, epochs=3, shuffle=False, verbose=0, callbacks=[backup])
    assert int(resumed.optimizer.iterations.numpy()) == int(reference.optimizer.iterations.numpy())
    for a, b in zip(resumed.trainable_variables, reference.trainable_variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_glow_configs_without_preprocessing_load_as_the_shift():
    """Glow's default became the logit; configs saved before the option existed keep the
    paper's `x / 256 - 0.5`, so their weights mean what they meant."""
    kwargs = dict(levels=1, steps_per_level=1, hidden_channels=4)
    shift = tfflow.Glow((4, 4, 1), preprocessing="shift", **kwargs)
    assert tfflow.Glow((4, 4, 1), **kwargs).preprocessing == "logit"
    old_config = shift.get_config()
    del old_config["preprocessing"], old_config["alpha"]
    loaded = tfflow.Glow.from_config(old_config)
    assert loaded.preprocessing == "shift"
    x = np.random.default_rng(0).uniform(0, 256, (3, 4, 4, 1)).astype("float32")
    shift.log_prob(x)
    loaded.log_prob(x)
    loaded.set_weights(shift.get_weights())
    np.testing.assert_allclose(loaded.log_prob(x), shift.log_prob(x), rtol=1e-6)
    logit = tfflow.Glow.from_config(shift.get_config() | {"preprocessing": "logit"})
    logit.log_prob(x)
    logit.set_weights(shift.get_weights())
    assert not np.allclose(logit.log_prob(x), shift.log_prob(x), rtol=1e-3)
