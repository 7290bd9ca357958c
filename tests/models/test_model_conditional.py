"""Class-conditional models: labels reach a learned per-class prior folded into the flow."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow
from tfflow.data import load_arrays, make_dataset


def _model(**kwargs):
    return tfflow.Glow(
        (8, 8, 1), levels=2, steps_per_level=2, hidden_channels=16, num_classes=10, **kwargs
    )


def test_conditional_log_prob_depends_on_label_and_matches_autodiff():
    keras.config.set_floatx("float64")
    keras.mixed_precision.set_global_policy("float64")
    model = _model()
    rng = np.random.RandomState(0)
    for v in model.trainable_variables:
        v.assign(rng.normal(scale=0.1, size=v.shape))
    x = tf.constant(rng.uniform(0, 256, size=(3, 8, 8, 1)))
    labels = tf.constant([0, 3, 9])
    flat = tf.reshape(x, [3, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        z = model.encode(tf.reshape(flat, [3, 8, 8, 1]), labels)
    expected = (
        model.base_distribution.log_prob(z) + tf.linalg.slogdet(tape.batch_jacobian(z, flat))[1]
    )
    np.testing.assert_allclose(model.log_prob(x, labels).numpy(), expected.numpy(), rtol=1e-6)
    other = model.log_prob(x, tf.constant([1, 1, 1]))
    assert not np.allclose(other.numpy(), expected.numpy())
    np.testing.assert_allclose(model.decode(z, labels).numpy(), x.numpy(), atol=1e-8)
    via_tfp = model.distribution.log_prob(
        tf.identity(x), bijector_kwargs={"class_prior": {"labels": labels}}
    )
    np.testing.assert_allclose(via_tfp.numpy(), expected.numpy(), rtol=1e-6)


def test_conditional_sampling_per_label_and_seeded():
    model = _model()
    a = model.sample(4, temperature=0.7, seed=1, labels=3)
    b = model.sample(4, temperature=0.7, seed=1, labels=[3, 3, 3, 3])
    assert a.shape == (4, 8, 8, 1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_conditional_model_trains_on_labelled_digits():
    arrays = load_arrays("digits")
    train = make_dataset(arrays.train, arrays.train_labels, batch_size=64, training=True, seed=0)
    test = make_dataset(arrays.test, arrays.test_labels, batch_size=256, training=False, seed=0)
    model = _model()
    model.compile()
    before = model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
    model.fit(train, epochs=2, verbose=0)
    after = model.evaluate(test, verbose=0, return_dict=True)["bits_per_dim"]
    assert after < before - 0.3


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m: m.log_prob(tf.zeros([2, 8, 8, 1])), ValueError, "pass `labels`"),
        (lambda m: m.log_prob(tf.zeros([2, 8, 8, 1]), [0, 10]), ValueError, r"\[0, 10\)"),
        (lambda m: m.sample(2, labels=-1), ValueError, "must lie in"),
        (lambda m: m.log_prob(tf.zeros([2, 8, 8, 1]), [0.5, 1.0]), TypeError, "integers"),
    ],
)
def test_bad_labels_are_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(_model())


def test_labels_rejected_by_unconditional_model():
    model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8)
    with pytest.raises(ValueError, match="without classes"):
        model.log_prob(tf.zeros([1, 2]), labels=[0])
