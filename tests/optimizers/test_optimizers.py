"""FusedAdam equals Keras' Adam; the recipe schedule's warmup, decay and floor, and its
learning rate is settable as Keras' callbacks expect."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfflow
from tfflow.optimizers import FusedAdam, LinearWarmup

SHAPES = [(3, 4), (5,), (1,), (2, 2, 3, 6)]


def _run(optimizer_class, dtype, mode, steps=6, **options):
    """Applies the same random gradients to the same random weights; returns the weights."""
    rng = np.random.default_rng(0)
    weights = [keras.Variable(rng.normal(size=s).astype(dtype), dtype=dtype) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    optimizer = optimizer_class(learning_rate=0.01, beta_2=0.99, epsilon=1e-4, **options)
    optimizer.build(weights)

    def step(gradients):
        optimizer.apply(gradients, weights)

    if mode != "eager":
        step = tf.function(step, jit_compile=mode == "xla")
    for gradients in grads:
        step([tf.constant(g) for g in gradients])
    return [w.numpy() for w in weights], optimizer


@pytest.mark.parametrize("mode", ["eager", "function", "xla"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_adam_matches_keras_adam(dtype, mode):
    expected, _ = _run(keras.optimizers.Adam, dtype, mode)
    fused, optimizer = _run(FusedAdam, dtype, mode)
    assert int(optimizer.iterations) == 6
    # float32: a few ulps of weights ~1 over 6 steps. float64: Keras' own Adam rounds some
    # scalars at float32 precision (~1e-7 relative per step of ~1e-2), so 1e-7 is still tight.
    atol = 5e-7 if dtype == "float32" else 1e-7
    for e, f in zip(expected, fused, strict=True):
        np.testing.assert_allclose(f, e, rtol=0, atol=atol)
    initial, _ = _run(FusedAdam, dtype, mode, steps=0)
    assert all(np.abs(f - w).mean() > 1e-3 for f, w in zip(fused, initial, strict=True))


def _update_op_types(optimizer_class) -> list[str]:
    weights = [keras.Variable(np.ones(s, "float32")) for s in SHAPES]
    optimizer = optimizer_class(learning_rate=0.01)
    optimizer.build(weights)
    specs = [tf.TensorSpec(s, tf.float32) for s in SHAPES]
    graph = tf.function(lambda g: optimizer.apply(g, weights)).get_concrete_function(specs).graph
    return [op.type for op in graph.get_operations() if op.type != "Placeholder"]


def test_fused_adam_is_one_kernel_per_variable():
    fused, keras_adam = _update_op_types(FusedAdam), _update_op_types(keras.optimizers.Adam)
    assert fused.count("ResourceApplyAdam") == len(SHAPES)
    assert "Sqrt" not in fused and "AssignSubVariableOp" not in fused
    assert len(fused) * 4 < len(keras_adam)


def test_fused_adam_falls_back_for_amsgrad_and_strategies():
    expected, _ = _run(keras.optimizers.Adam, "float32", "function", amsgrad=True)
    fused, _ = _run(FusedAdam, "float32", "function", amsgrad=True)
    for e, f in zip(expected, fused, strict=True):
        np.testing.assert_allclose(f, e, rtol=0, atol=5e-7)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        variable = keras.Variable(np.ones((3,), "float32"))
        optimizer = FusedAdam(learning_rate=0.1)
        optimizer.build([variable])

    @tf.function
    def step():
        strategy.run(lambda: optimizer.apply([tf.constant([1.0, -1.0, 0.0])], [variable]))

    step()
    np.testing.assert_allclose(variable.numpy(), [0.9, 1.1, 1.0], atol=1e-6)


def test_fused_adam_round_trips_through_config_and_models_use_it():
    optimizer = keras.optimizers.deserialize(keras.optimizers.serialize(FusedAdam(3e-4)))
    assert isinstance(optimizer, FusedAdam)
    assert math.isclose(float(optimizer.learning_rate), 3e-4, rel_tol=1e-6)
    model = tfflow.RealNVP((2,), coupling_layers=2, hidden_units=4, hidden_layers=1)
    model.compile()
    assert isinstance(model.optimizer, FusedAdam)
    model.compile(optimizer="adamax")
    assert not isinstance(model.optimizer, FusedAdam)


def test_schedule_warmup_decay_and_floor():
    schedule = LinearWarmup(1e-3, warmup_steps=4, decay_per_step=0.5, floor_fraction=0.1)
    rates = [float(schedule(t)) for t in range(8)]
    expected = [1e-3 * min(1, (t + 1) / 4) * max(0.1, 0.5**t) for t in range(8)]
    np.testing.assert_allclose(rates, expected, rtol=1e-6)
    assert rates[-1] == pytest.approx(1e-4 * 1.0)
    schedule.scale.assign(0.5)  # DivergenceGuard's lever still applies
    assert float(schedule(100)) == pytest.approx(5e-5)
    again = LinearWarmup.from_config(schedule.get_config())
    assert float(again(100)) == pytest.approx(1e-4)
    assert LinearWarmup(1e-3).get_config()["decay_per_step"] == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [{"decay_per_step": 0.0}, {"decay_per_step": 1.5}, {"floor_fraction": -0.1}],
)
def test_schedule_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        LinearWarmup(1e-3, **kwargs)


def test_nice_recipe_warms_up_then_holds():
    model = tfflow.NICE((4,), coupling_layers=2, hidden_layers=1, hidden_units=8)
    model.compile()
    optimizer = model.optimizer
    for step, rate in [(0, 1e-3 / 1375), (687, 1e-3 * 688 / 1375), (1374, 1e-3), (100_000, 1e-3)]:
        optimizer.iterations.assign(step)
        assert float(optimizer.learning_rate) == pytest.approx(rate), step


def test_setting_the_rate_rescales_a_recipe_schedule():
    schedule = LinearWarmup(1e-3, warmup_steps=10)
    optimizer = FusedAdam(learning_rate=schedule)
    optimizer.iterations.assign(4)  # mid-warmup: 5e-4
    optimizer.learning_rate = 1e-4
    assert float(optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(schedule(9)) == pytest.approx(2e-4)  # the warmup's shape is kept
    optimizer.learning_rate = LinearWarmup(1e-2)  # a new schedule replaces it, as in Keras
    assert float(optimizer.learning_rate) == pytest.approx(1e-2)
    plain = FusedAdam(learning_rate=1e-3)
    plain.learning_rate = 5e-4
    assert float(plain.learning_rate) == pytest.approx(5e-4)


def test_keras_reduce_lr_on_plateau_works_with_the_compile_defaults():
    model = tfflow.Glow((4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4)
    model.compile()  # Adam on a warmup schedule
    x = np.random.default_rng(0).uniform(0, 256, size=(32, 4, 4, 1)).astype("float32")
    rates = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: rates.append(float(model.optimizer.learning_rate))
    )
    # No epoch after the first improves by 1e9: the rate halves at the end of epochs 2 and 3.
    plateau = keras.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=0, min_delta=1e9
    )
    model.fit(x, batch_size=16, epochs=3, verbose=0, callbacks=[plateau, record])
    steps = int(model.optimizer.iterations.numpy())
    assert rates[-1] == pytest.approx(0.25 * float(LinearWarmup(1e-3, 200)(steps)))
    # Still the warmup schedule, scaled by 0.25: after the warmup the rate is 0.25 x 1e-3.
    model.optimizer.iterations.assign(100_000)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.25 * 1e-3)


def _fitted_nice(warmup_steps: int | None = None) -> tfflow.NICE:
    """A toy NICE compiled with the recipe (or `warmup_steps`) and trained for 2 steps, so its
    optimizer is built; `warmup_steps=0` gives a float rate, anything else a schedule."""
    model = tfflow.NICE((4,), coupling_layers=2, hidden_layers=1, hidden_units=8)
    model.compile(warmup_steps=warmup_steps)
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    return model


def test_a_lowered_rate_is_saved_and_restored_with_the_optimizer(tmp_path):
    model = _fitted_nice()
    model.optimizer.learning_rate = 0.1 * float(model.optimizer.learning_rate)
    model.save_weights(tmp_path / "backup.weights.h5")  # what BackupAndRestore writes
    again = _fitted_nice()
    again.load_weights(tmp_path / "backup.weights.h5")
    assert int(again.optimizer.iterations.numpy()) == 2
    # NICE recipe: 1e-3 after a 1375-step warmup; at step 2 the lowered rate is 0.1 x 3/1375 of
    # it, and the 0.1 factor stays on the schedule after the warmup.
    assert float(again.optimizer.learning_rate) == pytest.approx(0.1 * 1e-3 * 3 / 1375)
    again.optimizer.iterations.assign(100_000)
    assert float(again.optimizer.learning_rate) == pytest.approx(0.1 * 1e-3)


@pytest.mark.parametrize("saved_rate, loaded_rate", [("float", "schedule"), ("schedule", "float")])
def test_state_saved_with_a_float_rate_and_loaded_with_a_schedule_is_skipped_whole(
    saved_rate, loaded_rate, tmp_path
):
    """Keras' rule (mismatched optimizer state is skipped with a warning), not a misload."""
    warmup = {"float": 0, "schedule": 10}
    _fitted_nice(warmup[saved_rate]).save_weights(tmp_path / "w.weights.h5")
    model = _fitted_nice(warmup[loaded_rate])
    before = [v.numpy().copy() for v in model.optimizer.variables]
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        model.load_weights(tmp_path / "w.weights.h5")
    for old, new in zip(before, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(old, new.numpy())
