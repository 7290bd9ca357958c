"""`tfflow.optimizers.scale_learning_rate`: one way to lower a rate, whatever its schedule."""

import keras
import numpy as np
import pytest

from tfflow.optimizers import FusedAdam, LinearWarmup, scale_learning_rate


def _rate(optimizer) -> float:
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def test_a_float_rate_is_multiplied():
    optimizer = keras.optimizers.SGD(learning_rate=0.2)
    assert scale_learning_rate(optimizer, 0.25) == pytest.approx(0.05)
    assert _rate(optimizer) == pytest.approx(0.05)


def test_a_given_current_rate_is_the_one_multiplied():
    optimizer = keras.optimizers.SGD(learning_rate=0.2)
    assert scale_learning_rate(optimizer, 0.5, current=0.1) == pytest.approx(0.05)
    assert _rate(optimizer) == pytest.approx(0.05)


def test_a_linear_warmup_keeps_its_shape_and_scales():
    schedule = LinearWarmup(1e-3, warmup_steps=10)
    optimizer = FusedAdam(learning_rate=schedule)
    before = [float(schedule(step)) for step in (0, 4, 20)]
    scale_learning_rate(optimizer, 0.5)
    after = [float(schedule(step)) for step in (0, 4, 20)]
    np.testing.assert_allclose(after, np.array(before) * 0.5, rtol=1e-6)


def test_the_inner_optimizer_of_a_loss_scale_optimizer_is_lowered():
    inner = keras.optimizers.SGD(learning_rate=0.4)
    optimizer = keras.optimizers.LossScaleOptimizer(inner)
    scale_learning_rate(optimizer, 0.5)
    assert _rate(inner) == pytest.approx(0.2)


def test_another_schedule_is_left_unchanged():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    assert scale_learning_rate(optimizer, 0.5) == pytest.approx(0.1)
    assert float(schedule(0)) == pytest.approx(0.1)


@pytest.mark.parametrize("factor", [0.0, -0.5])
def test_a_factor_that_is_not_positive_is_refused(factor):
    with pytest.raises(ValueError, match="`factor` must be positive"):
        scale_learning_rate(keras.optimizers.SGD(learning_rate=0.1), factor)
