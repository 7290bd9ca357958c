"""`coupling="affine"|"additive"|"spline"` on NICE, RealNVP and Glow.

The spline models of `model_cases.MODELS` run the whole likelihood and saving suites; this
file checks the choice itself: defaults, the bijectors built, configs and argument errors.
"""

import numpy as np
import pytest
import tensorflow as tf

import tfflow
from tfflow import bijectors as tb

FACTORIES = {
    "nice": lambda **kw: tfflow.NICE(
        (4,), coupling_layers=2, hidden_layers=1, hidden_units=8, **kw
    ),
    "realnvp_vector": lambda **kw: tfflow.RealNVP((4,), coupling_layers=2, hidden_units=8, **kw),
    "realnvp_image": lambda **kw: tfflow.RealNVP(
        (4, 4, 1), num_scales=2, residual_blocks=1, hidden_channels=4, **kw
    ),
    "glow": lambda **kw: tfflow.Glow(
        (4, 4, 1), levels=1, steps_per_level=1, hidden_channels=4, **kw
    ),
}
DEFAULTS = {
    "nice": "additive",
    "realnvp_vector": "affine",
    "realnvp_image": "affine",
    "glow": "affine",
}
KINDS = {"affine": tb.AffineCoupling, "additive": tb.AdditiveCoupling, "spline": tb.SplineCoupling}


def _couplings(model) -> list:
    return [
        b
        for b in tb.walk_bijectors(model.flow)
        if isinstance(b, (tb.AffineCoupling, tb.AdditiveCoupling, tb.SplineCoupling))
    ]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_default_coupling_is_the_papers(name):
    model = FACTORIES[name]()
    assert model.get_config()["coupling"] == DEFAULTS[name]
    assert {type(c) for c in _couplings(model)} == {KINDS[DEFAULTS[name]]}


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("coupling", sorted(KINDS))
def test_each_coupling_builds_that_bijector_and_round_trips_its_config(name, coupling):
    model = FACTORIES[name](coupling=coupling, num_bins=3, spline_bound=2.5)
    couplings = _couplings(model)
    assert couplings and all(type(c) is KINDS[coupling] for c in couplings)
    if coupling == "spline":
        assert {(c.num_bins, c.bound) for c in couplings} == {(3, 2.5)}
    config = model.get_config()
    assert (config["coupling"], config["num_bins"], config["spline_bound"]) == (coupling, 3, 2.5)
    clone = type(model).from_config(config)
    assert clone.get_config() == config


def test_spline_realnvp_image_is_a_bijection_with_finite_density():
    model = FACTORIES["realnvp_image"](coupling="spline", num_bins=3)
    rng = np.random.RandomState(0)
    for v in model.trainable_variables:
        v.assign(rng.normal(scale=0.1, size=v.shape).astype(v.dtype))
    x = tf.constant(rng.uniform(0.0, 256.0, size=(3, 4, 4, 1)), tf.float32)
    np.testing.assert_allclose(model.decode(model.encode(x)).numpy(), x.numpy(), atol=2e-3)
    assert np.all(np.isfinite(model.log_prob(x).numpy()))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"coupling": "cubic"}, r"`coupling` must be one of .*; received 'cubic'"),
        ({"coupling": "spline", "num_bins": 1}, "`num_bins` must be an integer >= 2; received 1"),
        ({"coupling": "spline", "spline_bound": -1.0}, "`spline_bound` must be positive"),
    ],
)
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_bad_coupling_arguments_are_named(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        FACTORIES[name](**kwargs)


def test_spline_flow_density_integrates_to_one():
    # Independent of the log-det code: a 2-d spline RealNVP moved well away from the identity
    # has a density whose Riemann sum over a grid covering its mass is 1.
    model = tfflow.RealNVP(
        (2,), coupling_layers=2, hidden_units=8, hidden_layers=1, coupling="spline", num_bins=4
    )
    model.log_prob(tf.zeros((1, 2)))
    rng = np.random.RandomState(0)
    for v in model.trainable_variables:
        v.assign(rng.normal(scale=0.3, size=v.shape).astype(v.dtype))
    grid = np.linspace(-7.0, 7.0, 701, dtype=np.float32)
    points = np.stack([a.ravel() for a in np.meshgrid(grid, grid)], axis=-1)
    moved = np.abs(model.encode(points[::997]).numpy() - points[::997]).max()
    assert moved > 0.5
    density = np.exp(model.log_prob(points).numpy())
    assert density.sum() * (grid[1] - grid[0]) ** 2 == pytest.approx(1.0, abs=1e-3)
