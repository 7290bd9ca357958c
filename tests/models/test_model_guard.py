"""The divergence guard: non-finite data stops training cleanly; blow-ups roll back."""

import csv

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow
from tfflow.callbacks import DivergenceGuard, NonFiniteInputError, TrainingDivergedError
from tfflow.cli.errors import EXIT_USAGE, run_reporting_errors


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


def test_guard_after_an_unguarded_fit_still_sees_the_data():
    """A train step traced by `fit(guard=False)` records nothing for a guard: the next
    guarded `fit` must trace a step that does, or NaN data would go unnoticed."""
    x = np.random.RandomState(0).normal(size=(256, 4)).astype("float32")
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    model.compile()
    model.fit(x, batch_size=64, epochs=1, verbose=0, guard=False)
    x[200, 1] = np.nan
    with pytest.raises(NonFiniteInputError, match=r"batch 3 contains 1 non-finite input"):
        model.fit(x, batch_size=64, epochs=1, shuffle=False, verbose=0)
    for v in model.weights:
        assert np.all(np.isfinite(v.numpy())), v.path


def _unstable_data() -> np.ndarray:
    rng = np.random.RandomState(0)
    return (rng.normal(size=(2048, 4)) * [1.0, 10.0, 0.1, 3.0]).astype("float32")


def _unstable_model() -> tfflow.RealNVP:
    return tfflow.RealNVP((4,), coupling_layers=4, hidden_units=32, scale_fn="exp")


def _assert_compounding(guard: DivergenceGuard, first_rate: float) -> None:
    rates = [r["new_learning_rate"] for r in guard.rollbacks]
    expected = first_rate * guard.lr_factor ** np.arange(1, len(rates) + 1)
    np.testing.assert_allclose(rates, expected, rtol=1e-5)


class _BatchLosses(keras.callbacks.Callback):
    """Records every batch's own loss (as `train_step` gave it to the guard), by epoch."""

    def __init__(self):
        super().__init__()
        self.losses: dict[tuple[int, int], float] = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.losses[(self.epoch, batch)] = float(self.model.guard_state.batch_loss.numpy())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blow_up_rolls_back_compounds_rate_cuts_and_recovers(seed):
    keras.utils.set_random_seed(seed)
    x = _unstable_data()
    model = _unstable_model()
    model.compile(learning_rate=3.0)  # RealNVP's recipe: a float rate
    guard = DivergenceGuard(
        spike_factor=3.0, warmup_batches=2, snapshot_every=1, verbose=False, max_rollbacks=50
    )
    batches = _BatchLosses()
    history = model.fit(x, batch_size=64, epochs=2, verbose=0, guard=guard, callbacks=[batches])
    assert len(guard.rollbacks) >= 2, "a learning rate of 3 should diverge more than once"
    _assert_compounding(guard, 3.0)
    assert float(model.optimizer.learning_rate) == pytest.approx(
        guard.rollbacks[-1]["new_learning_rate"]
    )
    # Rolled-back batches do not count: each epoch's loss is the mean of the kept batches'
    # losses (32 equal batches an epoch), finite even in an epoch with non-finite batches.
    rolled_back = {(r["epoch"], r["batch"]) for r in guard.rollbacks}
    assert any(not np.isfinite(batches.losses[key]) for key in rolled_back)
    for epoch, loss in enumerate(history.history["loss"]):
        kept = [
            v for (e, b), v in batches.losses.items() if e == epoch and (e, b) not in rolled_back
        ]
        assert np.isfinite(loss) and loss == pytest.approx(np.mean(kept), rel=1e-5), epoch
    for v in model.weights:
        assert np.all(np.isfinite(v.numpy())), v.path
    assert np.all(np.isfinite(model.log_prob(x[:64]).numpy()))


@pytest.mark.parametrize("optimizer", ["adam", "adamax"])
def test_rate_cuts_compound_on_a_warmup_schedule(optimizer):
    x = _unstable_data()
    model = _unstable_model()
    model.compile(optimizer=optimizer, learning_rate=3.0, warmup_steps=2)
    guard = DivergenceGuard(warmup_batches=2, snapshot_every=1, verbose=False, max_rollbacks=50)
    model.fit(x, batch_size=64, epochs=1, verbose=0, guard=guard)
    assert len(guard.rollbacks) >= 2
    schedule = model.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "LinearWarmup"
    scales = guard.lr_factor ** len(guard.rollbacks)
    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    assert rate == pytest.approx(3.0 * scales, rel=1e-5)  # past warmup: the full rate, scaled


def test_max_rollbacks_raises_and_records_no_unfinished_epoch(tmp_path):
    x = _unstable_data()
    model = _unstable_model()
    model.compile(learning_rate=30.0)
    log = tmp_path / "log.csv"
    guard = DivergenceGuard(warmup_batches=2, snapshot_every=1, verbose=False, max_rollbacks=2)
    with pytest.raises(TrainingDivergedError, match=r"diverged 2 times \(max_rollbacks=2\)"):
        model.fit(
            x,
            batch_size=64,
            epochs=3,
            verbose=0,
            guard=guard,
            callbacks=[keras.callbacks.CSVLogger(str(log))],
        )
    assert len(guard.rollbacks) == 2
    for v in model.weights:
        assert np.all(np.isfinite(v.numpy())), v.path
    rows = list(csv.reader(log.open())) if log.exists() else []
    assert len(rows) <= 1, rows  # a header at most: the interrupted epoch never ended


def test_cli_reports_divergence_in_one_line_with_exit_status_2(capsys):
    def body() -> int:
        raise TrainingDivergedError("training diverged 10 times (max_rollbacks=10); ...")

    assert run_reporting_errors(body, interrupted_hint="rerun to resume.") == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tfflow: error: training diverged 10 times")


def test_guard_rolls_back_under_a_loss_scale_optimizer():
    keras.mixed_precision.set_global_policy("mixed_float16")
    x = _unstable_data()
    model = _unstable_model()
    model.compile(learning_rate=3.0)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    guard = DivergenceGuard(warmup_batches=2, snapshot_every=1, verbose=False, max_rollbacks=50)
    model.fit(x, batch_size=64, epochs=1, verbose=0, guard=guard)
    assert guard.rollbacks
    _assert_compounding(guard, 3.0)
    inner = model.optimizer.inner_optimizer
    assert float(inner.learning_rate) == pytest.approx(guard.rollbacks[-1]["new_learning_rate"])
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
    assert isinstance(model.optimizer.learning_rate.numpy(), np.floating)
    nice = tfflow.NICE((4,), hidden_layers=1, hidden_units=4)
    nice.compile()
    assert nice.optimizer.beta_2 == 0.99 and nice.optimizer.epsilon == 1e-4


def test_compile_applies_clipnorm_and_ema_to_an_optimizer_object():
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    optimizer = keras.optimizers.SGD(0.1)
    model.compile(optimizer=optimizer, clipnorm=0.5, ema_momentum=0.9)
    assert model.optimizer is optimizer
    assert optimizer.global_clipnorm == 0.5
    assert optimizer.use_ema and optimizer.ema_momentum == 0.9
    x = np.random.RandomState(0).normal(size=(64, 4)).astype("float32") * 100
    before = [v.numpy().copy() for v in model.trainable_variables]
    model.fit(x, batch_size=64, epochs=1, verbose=0, guard=False)
    # EMA was active (Keras swaps the average in at the end of fit), and the one SGD step of
    # norm <= 0.1 * 0.5 was clipped: no weight moved further than that.
    assert len(optimizer.variables) > 2
    moved = np.sqrt(
        sum(
            np.sum((b - v.numpy()) ** 2)
            for b, v in zip(before, model.trainable_variables, strict=True)
        )
    )
    assert 0 < moved <= 0.1 * 0.5 + 1e-6


@pytest.mark.parametrize("option, value", [("learning_rate", 1e-4), ("warmup_steps", 100)])
def test_compile_refuses_rate_options_with_an_optimizer_object(option, value):
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    with pytest.raises(ValueError, match=f"`{option}` configures the optimizer .* received"):
        model.compile(optimizer=keras.optimizers.Adam(1e-3), **{option: value})


def test_compile_refuses_options_a_given_optimizer_cannot_take():
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    with pytest.raises(ValueError, match="conflicts with the Adam's own clipping"):
        model.compile(optimizer=keras.optimizers.Adam(clipvalue=1.0), clipnorm=1.0)
    built = keras.optimizers.Adam()
    built.build(model.trainable_variables)
    with pytest.raises(ValueError, match="has not been built; Adam has been"):
        model.compile(optimizer=built, ema_momentum=0.99)


def test_loss_of_the_weights_rolled_back_to_is_not_a_spike():
    """After a rollback the guard is back at older weights, whose loss it measured when it
    kept them; that loss may be far above the average reached since, and must not read as
    a new spike (which would roll back again and again until `max_rollbacks`)."""
    x = np.random.RandomState(0).normal(size=(64, 4)).astype("float32")
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    model.compile()
    guard = DivergenceGuard(verbose=False)
    model.fit(x, batch_size=64, epochs=1, verbose=0, guard=guard)
    state = model.guard_state
    # Scripted batch losses: 10 nats until the snapshot taken after 50 good batches is
    # checked (batch 50, at 10), 1 nat for 45 batches (average ~1.9), a spike of 100, then
    # the snapshot's weights again (10, as measured when the snapshot was kept).
    losses = [10.0] * 51 + [1.0] * 45 + [100.0] + [10.0] * 5
    guard.on_train_begin()
    guard.on_epoch_begin(0)
    for batch, loss in enumerate(losses):
        state.batch_loss.assign(loss)
        state.nonfinite_inputs.assign(0.0)
        guard.on_train_batch_end(batch, {})
    assert [r["batch"] for r in guard.rollbacks] == [96]


def test_rollback_restores_the_exact_weights_and_optimizer_state_of_the_snapshot():
    """The guard's snapshot must keep its values while training goes on updating the same
    variables in place (optimizer kernels), and a rollback must bring them back exactly."""
    rng = np.random.RandomState(0)
    x = rng.normal(size=(512, 4)).astype("float32")
    model = tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8)
    model.compile(learning_rate=1e-2)
    model.fit(x, batch_size=64, epochs=1, verbose=0)  # optimizer slots exist now
    guard = DivergenceGuard(verbose=False, warmup_batches=0)
    guard.set_model(model)
    guard.on_train_begin()
    guard.on_epoch_begin(0)
    weights = [v.numpy().copy() for v in model.weights]
    slots = [v.numpy().copy() for v in model.optimizer.variables]
    batches = iter(tf.data.Dataset.from_tensor_slices(x).batch(64).repeat())
    state = model.guard_state
    for batch in range(5):
        logs = model.train_function(batches)
        guard.on_train_batch_end(batch, logs)
    assert not guard.rollbacks
    trained = zip(model.weights, weights, strict=True)
    assert any(not np.array_equal(v.numpy(), w) for v, w in trained)
    state.batch_loss.assign(float("nan"))
    guard.on_train_batch_end(5, {})
    assert len(guard.rollbacks) == 1
    for v, w in zip(model.weights, weights, strict=True):
        np.testing.assert_array_equal(v.numpy(), w, err_msg=v.path)
    for v, w in zip(model.optimizer.variables, slots, strict=True):
        if v.path.endswith("learning_rate"):  # restored, then cut by the rollback
            np.testing.assert_allclose(v.numpy(), w * guard.lr_factor, rtol=1e-6)
        else:
            np.testing.assert_array_equal(v.numpy(), w, err_msg=v.path)
