"""Context-conditional models, `p(x | context)`: exact densities, routing, training, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow
from tfflow.bijectors import AdditiveCoupling, AffineCoupling, Partition
from tfflow.layers import MLP, GlowBlock
from tfflow.models.priors import latent_noise

CONTEXT_MODELS = {
    "realnvp_vector": lambda: tfflow.RealNVP(
        (4,), coupling_layers=3, hidden_units=8, context_shape=(3,)
    ),
    "nice_identity_encoder": lambda: tfflow.NICE(
        (4,),
        coupling_layers=2,
        hidden_layers=1,
        hidden_units=8,
        context_shape=(3,),
        context_features=None,
    ),
    "glow_image_context": lambda: tfflow.Glow(
        (8, 8, 1), levels=2, steps_per_level=1, hidden_channels=8, context_shape=(4, 4, 1)
    ),
    "glow_vector_context": lambda: tfflow.Glow(
        (4, 4, 1),
        levels=1,
        steps_per_level=2,
        hidden_channels=8,
        coupling="additive",
        context_shape=(2,),
    ),
    "realnvp_image_context": lambda: tfflow.RealNVP(
        (4, 4, 1),
        num_scales=2,
        residual_blocks=1,
        hidden_channels=4,
        batch_norm=False,
        context_shape=(4, 4, 2),
    ),
}


def _randomised(name: str, seed: int = 0):
    model = CONTEXT_MODELS[name]()
    rng = np.random.RandomState(seed)
    for v in model.trainable_variables:
        v.assign(v.numpy() + rng.normal(scale=0.1, size=v.shape).astype(v.dtype))
    return model


def _batch(model, batch: int, seed: int = 1):
    rng = np.random.RandomState(seed)
    shape = (batch,) + model.data_shape
    dtype = model.flow_dtype
    x = rng.uniform(0, 256, shape) if model.pixels else rng.normal(size=shape)
    context = rng.normal(size=(batch,) + model.context_shape)
    return tf.constant(x, dtype), tf.constant(context, dtype)


@pytest.mark.parametrize("name", sorted(CONTEXT_MODELS))
def test_log_prob_is_change_of_variables_and_depends_on_context(name):
    keras.config.set_floatx("float64")
    keras.mixed_precision.set_global_policy("float64")
    model = _randomised(name)
    x, context = _batch(model, 3)
    flat = tf.reshape(x, [3, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        z = model.encode(tf.reshape(flat, x.shape), context=context)
    expected = (
        model.base_distribution.log_prob(z) + tf.linalg.slogdet(tape.batch_jacobian(z, flat))[1]
    )
    log_prob = model.log_prob(x, context=context).numpy()
    np.testing.assert_allclose(log_prob, expected.numpy(), rtol=1e-9)
    # Another context changes every density; the data-space round trip is exact.
    other = model.log_prob(x, context=context[::-1] + 1.0).numpy()
    assert np.all(np.abs(other - log_prob) > 1e-6)
    np.testing.assert_allclose(model.decode(z, context=context).numpy(), x.numpy(), atol=1e-8)
    # TFP composition: the same density through `bijector_kwargs`.
    via_tfp = model.distribution.log_prob(
        tf.identity(x), bijector_kwargs=model.bijector_kwargs(context=context)
    )
    np.testing.assert_allclose(via_tfp.numpy(), log_prob, rtol=1e-9)
    # One context for the whole batch is the same as that context repeated.
    single = model.log_prob(x, context=context[0]).numpy()
    tiled = model.log_prob(x, context=tf.repeat(context[:1], 3, axis=0)).numpy()
    np.testing.assert_allclose(single, tiled, rtol=1e-12)
    # Every weight of the shared encoder (and the context itself) shapes the density.
    with tf.GradientTape() as tape:
        tape.watch(context)
        total = tf.reduce_sum(model.log_prob(x, context=context))
    weights = model.context_encoder.trainable_variables
    assert len(weights) == (0 if model.context_features is None else 4)
    grads = tape.gradient(total, [context, *weights])
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


@pytest.mark.parametrize("kind", ["affine_vector", "additive_image_maps", "affine_image_vector"])
def test_conditional_coupling_log_det_matches_autodiff(kind):
    keras.config.set_floatx("float64")
    keras.mixed_precision.set_global_policy("float64")
    rng = np.random.RandomState(0)
    if kind == "affine_vector":
        partition, shape, context = Partition("half", (4,)), (2, 4), rng.normal(size=(2, 3))
        coupling = AffineCoupling(MLP(4, 8, 1), partition, scale_fn="softclamp")
    elif kind == "additive_image_maps":
        partition, shape = Partition("checkerboard", (2, 2, 2)), (2, 2, 2, 2)
        context = rng.normal(size=(2, 2, 2, 3))
        coupling = AdditiveCoupling(GlowBlock(2, 4), partition)
    else:
        partition, shape, context = Partition("channel", (2, 2, 2)), (2, 2, 2, 2), None
        context = rng.normal(size=(2, 3))
        coupling = AffineCoupling(GlowBlock(2, 4), partition, scale_fn="sigmoid")
    x = tf.constant(rng.normal(size=shape))
    context = tf.constant(context)
    event_ndims = len(shape) - 1
    coupling.forward(x, context=context)  # builds the conditioner
    for layer in coupling.keras_layers:
        for v in layer.trainable_variables:
            v.assign(rng.normal(scale=0.3, size=v.shape))
    flat = tf.reshape(x, [2, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        y = tf.reshape(coupling.forward(tf.reshape(flat, shape), context=context), [2, -1])
    expected = tf.linalg.slogdet(tape.batch_jacobian(y, flat))[1]
    got = coupling.forward_log_det_jacobian(
        tf.identity(x), event_ndims=event_ndims, context=context
    )
    np.testing.assert_allclose(np.broadcast_to(got.numpy(), [2]), expected.numpy(), atol=1e-10)
    back = coupling.inverse(tf.identity(coupling.forward(x, context=context)), context=context)
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-10)
    other = coupling.forward(tf.identity(x), context=context + 1.0)
    assert not np.allclose(other.numpy(), coupling.forward(tf.identity(x), context=context))


def test_sample_with_context_round_trips_through_encode():
    model = _randomised("glow_image_context")
    _, context = _batch(model, 4)
    samples = model.sample(4, temperature=0.7, seed=3, context=context)
    # Encoding the samples with their contexts gives back the seed's latent noise.
    noise = latent_noise("normal", 4, model.event_size, 0.7, 3, model.flow_dtype)
    z = model.encode(samples, context=context)
    np.testing.assert_allclose(z.numpy(), noise.numpy(), atol=1e-3)
    wrong = model.encode(samples, context=context[::-1])
    assert float(tf.reduce_max(tf.abs(wrong - noise))) > 1e-2
    again = model.sample(4, temperature=0.7, seed=3, context=context)
    np.testing.assert_array_equal(samples.numpy(), again.numpy())
    one = model.sample(4, temperature=0.7, seed=3, context=context[1])
    tiled = model.sample(4, temperature=0.7, seed=3, context=tf.repeat(context[1:2], 4, 0))
    np.testing.assert_allclose(one.numpy(), tiled.numpy(), rtol=1e-6)
    assert not np.allclose(one.numpy(), samples.numpy())


@pytest.mark.parametrize("form", ["dataset", "x_y_arrays"])
def test_fit_initialises_actnorm_with_contexts(form):
    model = tfflow.Glow(
        (4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4, context_shape=(2, 2, 1)
    )
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (32, 4, 4, 1)).astype("int32")
    context = rng.uniform(size=(32, 2, 2, 1)).astype("float32")
    model.compile()
    assert model.needs_initialization()
    if form == "dataset":
        data = tf.data.Dataset.from_tensor_slices((x, context)).batch(16)
        history = model.fit(data, epochs=1, verbose=0).history
    else:
        history = model.fit(x, context, batch_size=16, epochs=1, verbose=0).history
    assert not model.needs_initialization()
    assert np.isfinite(history["loss"][0])


def _pairs(n: int, seed: int):
    rng = np.random.RandomState(seed)
    context = rng.normal(size=(n, 2)).astype("float32")
    x = (2.0 * context + 0.1 * rng.normal(size=(n, 2))).astype("float32")
    return x, context


def test_context_model_learns_what_the_unconditional_one_cannot(tmp_path):
    """x = 2 c + 0.1 noise: with the context the true density is ~N(2c, 0.01 I) (entropy
    -2.3 nats); without it x ~ N(0, 4.01 I) (entropy 4.2 nats)."""
    x, context = _pairs(4096, seed=0)
    x_test, context_test = _pairs(512, seed=1)
    keras.utils.set_random_seed(0)
    conditional = tfflow.RealNVP((2,), coupling_layers=4, hidden_units=32, context_shape=(2,))
    unconditional = tfflow.RealNVP((2,), coupling_layers=4, hidden_units=32)
    conditional.compile(learning_rate=3e-3)
    unconditional.compile(learning_rate=3e-3)
    conditional.fit((x, context), batch_size=128, epochs=4, verbose=0)
    unconditional.fit(x, batch_size=128, epochs=4, verbose=0)
    test = tf.data.Dataset.from_tensor_slices((x_test, context_test)).batch(256)
    nll_conditional = conditional.evaluate(test, verbose=0, return_dict=True)["loss"]
    nll_unconditional = -float(tf.reduce_mean(unconditional.log_prob(x_test)))
    assert nll_conditional < nll_unconditional - 3.0, (nll_conditional, nll_unconditional)
    # `.keras` round trip: same config, same densities.
    path = tmp_path / "conditional.keras"
    conditional.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config() == conditional.get_config()
    assert loaded.get_config()["context_shape"] == [2]
    np.testing.assert_allclose(
        loaded.log_prob(x_test[:8], context=context_test[:8]).numpy(),
        conditional.log_prob(x_test[:8], context=context_test[:8]).numpy(),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda m: m.log_prob(tf.zeros([2, 4])),
            ValueError,
            r"pass `context` of shape \(batch, 3\)",
        ),
        (
            lambda m: m.log_prob(tf.zeros([2, 4]), context=tf.zeros([2, 2])),
            ValueError,
            r"context_shape=\(3,\)\); received shape \(2, 2\)",
        ),
        (
            lambda m: m.log_prob(tf.zeros([2, 4]), context=tf.zeros([3, 3])),
            ValueError,
            r"one context per example \(2\) or a single one; received 3",
        ),
        (lambda m: m.sample(2, context=tf.zeros([3, 3])), ValueError, "received 3 contexts"),
        (
            lambda m: m.encode(tf.zeros([1, 4]), context=[["a", "b", "c"]]),
            TypeError,
            "received dtype string",
        ),
        (
            lambda m: m.fit(np.zeros([4, 4], "float32"), verbose=0),
            ValueError,
            r"trains on `\(x, context\)` pairs",
        ),
    ],
)
def test_bad_context_is_a_clear_error(call, error, message):
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8, context_shape=(3,))
    model.compile()
    with pytest.raises(error, match=message):
        call(model)


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: tfflow.RealNVP((2,), coupling_layers=2, hidden_units=8).log_prob(
                tf.zeros([1, 2]), context=tf.zeros([1, 3])
            ),
            "without a context",
        ),
        (lambda: tfflow.RealNVP((2,), context_shape=(4, 4, 1)), "needs an image model"),
        (
            lambda: tfflow.Glow(
                (4, 4, 1),
                levels=1,
                steps_per_level=1,
                hidden_channels=4,
                num_classes=3,
                context_shape=(2,),
            ),
            "cannot both be set",
        ),
        (
            lambda: tfflow.Glow(
                (4, 4, 1),
                levels=1,
                steps_per_level=1,
                hidden_channels=4,
                recompute=True,
                context_shape=(2,),
            ),
            "recompute=True",
        ),
        (lambda: tfflow.RealNVP((2,), context_shape=(0,)), "context_shape"),
    ],
)
def test_context_misconfiguration_is_a_clear_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: tfflow.RealNVP(
            (4,), coupling_layers=2, hidden_units=8, context_shape=(3,), context_prior=True
        ),
        lambda: tfflow.Glow(
            (4, 4, 1),
            levels=1,
            steps_per_level=1,
            hidden_channels=4,
            context_shape=(4, 4, 2),
            context_prior=True,
        ),
    ],
)
def test_context_prior_is_part_of_the_exact_density(build):
    keras.config.set_floatx("float64")
    keras.mixed_precision.set_global_policy("float64")
    model = build()
    rng = np.random.RandomState(0)
    for v in model.trainable_variables:
        v.assign(v.numpy() + rng.normal(scale=0.1, size=v.shape).astype(v.dtype))
    x, context = _batch(model, 2)
    flat = tf.reshape(x, [2, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        z = model.encode(tf.reshape(flat, x.shape), context=context)
    expected = (
        model.base_distribution.log_prob(z) + tf.linalg.slogdet(tape.batch_jacobian(z, flat))[1]
    )
    np.testing.assert_allclose(
        model.log_prob(x, context=context).numpy(), expected.numpy(), rtol=1e-9
    )
    via_tfp = model.distribution.log_prob(
        tf.identity(x), bijector_kwargs=model.bijector_kwargs(context=context)
    )
    np.testing.assert_allclose(via_tfp.numpy(), expected.numpy(), rtol=1e-9)
    prior = [b for b in tfflow.bijectors.walk_bijectors(model.flow) if b.name == "context_prior"]
    assert len(prior) == 1 and model.get_config()["context_prior"] is True
    # The prior's weights get gradients (it is reached by the routing).
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(model.log_prob(x, context=context))
    grads = tape.gradient(total, prior[0].dense.trainable_variables)
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
