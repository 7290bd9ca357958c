"""The algorithm of tfflow's stateless random draws (dequantization noise, seeded latents)."""

from __future__ import annotations

import tensorflow as tf

__all__ = ["stateless_algorithm"]


def stateless_algorithm() -> str:
    """`"philox"` inside a graph, TensorFlow's default `"auto_select"` when executing eagerly.

    Eagerly and in graphs without XLA, both names draw the same numbers for a seed `s` on CPU
    and GPU (the default selects Philox there). Under XLA (`jit_compile=True`) the named
    algorithm derives Philox's key and counter from `s` once per draw, where the default's
    derivation is fused into the computation of every element: up to 7.7x slower
    dequantization noise and 1.6x slower `fit` steps on uint8 vectors on CPU
    (`benchmarks/xla_random_draws.py`; `benchmarks/RESULTS.md`, issue 21). For a seed
    computed at run time (`fit`'s dequantization seed) the numbers are the same either way;
    for a seed known when the function is traced (`sample(seed=3)`) the named algorithm
    draws under XLA what it draws eagerly, where the default drew other numbers. Eagerly the
    named algorithm costs extra host-side ops, so there the default stays.

    >>> stateless_algorithm()
    'auto_select'
    """
    return "auto_select" if tf.executing_eagerly() else "philox"
