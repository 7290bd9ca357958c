"""The divergence guard: non-finite data stops training cleanly; blow-ups roll back."""

import numpy as np
import pytest

import tfflow
from tfflow.callbacks import DivergenceGuard, NonFiniteInputError


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_stops_fit_and_keeps_last_good_weights(bad):
    x = np.random.RandomState(0).normal(size=(256, 4)).astype("float32")
    x[200, 1] = bad
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    model.compile()
    with pytest.raises(NonFiniteInputError, match=r"batch 3 contains 1 non-finite input"):
        model.fit(x, batch_size=64, epochs=1, shuffle=False, verbose=0)
    for v in model.weights:
        assert np.all(np.isfinite(v.numpy())), v.path
    assert np.all(np.isfinite(model.log_prob(x[:10]).numpy()))


def test_blow_up_rolls_back_and_lowers_learning_rate():
    rng = np.random.RandomState(0)
    x = (rng.normal(size=(2048, 4)) * [1.0, 10.0, 0.1, 3.0]).astype("float32")
    model = tfflow.RealNVP((4,), coupling_layers=4, hidden_units=32, scale_fn="exp")
    model.compile(learning_rate=3.0)
    guard = DivergenceGuard(spike_factor=3.0, warmup_batches=2, snapshot_every=1, verbose=False)
    model.fit(x, batch_size=64, epochs=2, verbose=0, guard=guard)
    assert guard.rollbacks, "a learning rate of 3 should have diverged at least once"
    assert guard.rollbacks[-1]["new_learning_rate"] < 3.0
    for v in model.weights:
        assert np.all(np.isfinite(v.numpy())), v.path


def test_guard_arguments_are_validated():
    with pytest.raises(ValueError, match="`spike_factor` must be > 1"):
        DivergenceGuard(spike_factor=0.5)
    with pytest.raises(ValueError, match="`lr_factor` must lie in"):
        DivergenceGuard(lr_factor=2.0)


def test_compile_recipes_and_options():
    model = tfflow.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
    model.compile()
    assert type(model.optimizer).__name__ == "FusedAdam"
    assert float(model.optimizer.learning_rate) < 1e-3  # linear warmup starts low
    model.compile(optimizer="adamax", warmup_steps=0, clipnorm=1.0, ema_momentum=0.99)
    assert type(model.optimizer).__name__ == "Adamax"
    assert model.optimizer.global_clipnorm == 1.0 and model.optimizer.use_ema
    nice = tfflow.NICE((4,), hidden_layers=1, hidden_units=4)
    nice.compile()
    assert nice.optimizer.beta_2 == 0.99 and nice.optimizer.epsilon == 1e-4
