"""Glow's channel permutations (`permutation=`) and learned top prior (`learn_top_prior=`).

The likelihood and saving suites run both through `model_cases.MODELS` (`glow_reverse`,
`glow_shuffle_top_prior`); this file checks what is particular to them.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfflow
from tfflow.bijectors import InvertibleConv1x1, walk_bijectors
from tfflow.models.permutations import PERMUTATIONS, make_permutation
from tfflow.serving import load_served

tfb = tfp.bijectors


def _randomise(model: tfflow.FlowModel, seed: int, scale: float = 0.1) -> None:
    rng = np.random.RandomState(seed)
    for v in model.trainable_variables:
        v.assign(v.numpy() + rng.normal(scale=scale, size=v.shape).astype(v.dtype))


def _pixels(batch: int, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).uniform(0, 256, (batch,) + shape).astype(np.float32)


def _permutations(model: tfflow.Glow) -> dict[str, list[int]]:
    return {
        b.name: b.permutation.numpy().tolist()
        for b in walk_bijectors(model.flow)
        if isinstance(b, tfb.Permute)
    }


def test_permutation_kinds():
    assert isinstance(make_permutation("conv1x1", (2, 2, 4), seed=0, name="p"), InvertibleConv1x1)
    channels = np.arange(6, dtype=np.float32)[None]
    reverse = make_permutation("reverse", (6,), seed=0, name="p")
    np.testing.assert_array_equal(reverse.forward(channels).numpy(), channels[:, ::-1])
    shuffles = [
        make_permutation("shuffle", (6,), seed=s, name="p").forward(channels) for s in (1, 1, 2)
    ]
    assert sorted(shuffles[0].numpy()[0].tolist()) == channels[0].tolist()
    np.testing.assert_array_equal(shuffles[0].numpy(), shuffles[1].numpy())
    assert not np.array_equal(shuffles[0].numpy(), shuffles[2].numpy())
    assert PERMUTATIONS == ("conv1x1", "shuffle", "reverse")
    with pytest.raises(ValueError, match=r"`permutation` must be one of .* received 'random'"):
        tfflow.Glow((4, 4, 1), levels=1, permutation="random")


def test_shuffles_differ_per_step_and_are_rebuilt_from_the_config():
    model = tfflow.Glow(
        (4, 4, 2), levels=1, steps_per_level=3, hidden_channels=4, permutation="shuffle", seed=3
    )
    shuffles = _permutations(model)
    assert len(shuffles) == 3
    assert len({tuple(p) for p in shuffles.values()}) == 3
    assert _permutations(tfflow.Glow.from_config(model.get_config())) == shuffles
    other_seed = tfflow.Glow.from_config({**model.get_config(), "seed": 4})
    assert _permutations(other_seed) != shuffles
    assert not any(isinstance(b, InvertibleConv1x1) for b in walk_bijectors(model.flow))


@pytest.mark.parametrize("permutation", ["shuffle", "reverse"])
def test_recomputed_steps_keep_their_own_permutation(permutation):
    """Recomputed steps of a level share traced functions: each shuffle must still apply."""
    kwargs = dict(levels=2, steps_per_level=2, hidden_channels=4, permutation=permutation)
    plain = tfflow.Glow((4, 4, 1), **kwargs)
    recomputed = tfflow.Glow((4, 4, 1), recompute=True, **kwargs)
    _randomise(plain, seed=1)
    recomputed.set_weights(plain.get_weights())
    x = _pixels(3, (4, 4, 1))

    def value_and_grads(model):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.log_prob(x))
        return loss, tape.gradient(loss, model.trainable_variables)

    want, want_grads = value_and_grads(plain)
    got, got_grads = value_and_grads(recomputed)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    for g, w in zip(got_grads, want_grads, strict=True):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-3, atol=1e-4)


def test_learned_top_prior_starts_at_the_standard_normal():
    x = _pixels(2, (4, 4, 1))
    log_probs = []
    for learn_top_prior in (False, True):
        keras.utils.set_random_seed(0)
        model = tfflow.Glow(
            (4, 4, 1),
            levels=2,
            steps_per_level=1,
            hidden_channels=4,
            learn_top_prior=learn_top_prior,
        )
        log_probs.append(model.log_prob(x).numpy())
    np.testing.assert_allclose(log_probs[1], log_probs[0], rtol=1e-6)
    prior = [w for w in model.trainable_weights if "top_prior" in w.path]
    assert sorted(w.name for w in prior) == ["log_sigma", "mean"]
    # The top latent is what the last level leaves: 1x1x8 after two squeezes and one split.
    assert all(tuple(w.shape) == (8,) for w in prior)


def test_learned_top_prior_moves_towards_the_mean_of_the_top_latent():
    """On images brighter on the left, the top latent's mean is not zero at the positions:
    a few steps of `fit` move the prior's mean towards it, entry by entry."""
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 64, (64, 4, 4, 1)).astype(np.float32)
    x[:, :, :2] += 180.0
    keras.utils.set_random_seed(0)
    model = tfflow.Glow(
        (4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4, learn_top_prior=True
    )
    model.initialize(x)
    top_mean = model.encode(x).numpy().mean(axis=0)  # levels=1: the whole latent is the top
    mean = next(w for w in model.trainable_weights if "top_prior" in w.path and w.name == "mean")
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(model.log_prob(x))
    assert np.all(np.abs(tape.gradient(loss, mean).numpy()) > 0)
    model.compile(optimizer="adam", learning_rate=1e-2, warmup_steps=0, jit_compile=False)
    model.fit(x, batch_size=16, epochs=1, verbose=0, guard=False)
    moved = mean.numpy()
    large = np.abs(top_mean) > 0.5
    assert large.sum() >= 4
    np.testing.assert_array_equal(np.sign(moved[large]), np.sign(top_mean[large]))


def test_export_of_a_learned_top_prior_serves_the_same_density(tmp_path):
    model = tfflow.Glow(
        (4, 4, 1),
        levels=2,
        steps_per_level=1,
        hidden_channels=4,
        permutation="shuffle",
        learn_top_prior=True,
    )
    _randomise(model, seed=2)
    x = _pixels(3, (4, 4, 1), seed=1)
    served = load_served(tfflow.export(model, tmp_path / "glow"))
    np.testing.assert_allclose(served.log_prob(x), model.log_prob(x).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        served.sample(2, 0.7, 5), model.sample(2, 0.7, seed=5).numpy(), rtol=1e-5, atol=1e-3
    )
