"""`batch_images`: the stage every image pipeline ends with (shuffle, batch, flip, noise)."""

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfflow.dequantization import dequantize_pixels
from tfflow.stateless import stateless_algorithm

__all__ = ["batch_images", "derive_seeds"]

# The fixed evaluation seed used when `seed=None`, so evaluation is always deterministic.
_DEFAULT_EVAL_SEED = 0


def derive_seeds(seed: int | None, count: int = 2) -> tuple[int | None, ...]:
    """`count` independent 31-bit seeds from one user seed (all `None` for `seed=None`)."""
    if seed is None:
        return (None,) * count
    return tuple(int(s) for s in np.random.SeedSequence(seed).generate_state(count) >> 1)


def _dequantize(x: tf.Tensor, noise_seed: tf.Tensor, n_bits: int) -> tf.Tensor:
    return dequantize_pixels(x, n_bits, noise_seed, tf.float32)


def _flip_batch(images: tf.Tensor, flip_seed: tf.Tensor) -> tf.Tensor:
    coins = tf.random.stateless_uniform(
        tf.shape(images)[:1], seed=flip_seed, alg=stateless_algorithm()
    )
    coins = coins < 0.5
    return tf.where(coins[:, tf.newaxis, tf.newaxis, tf.newaxis], images[:, :, ::-1], images)


def _with_labels(fn: Callable[..., tf.Tensor], has_labels: bool) -> Callable[..., object]:
    """Wraps `fn(x, *extra)` to act on the images of `x` or `(x, labels)` elements."""
    if has_labels:
        return lambda element, *extra: (fn(element[0], *extra), element[1])
    return fn


def batch_images(
    dataset: tf.data.Dataset,
    *,
    has_labels: bool,
    batch_size: int,
    training: bool,
    n_bits: int,
    dequantize: bool = True,
    flip: bool = False,
    seed: int | None = None,
    shuffle_buffer: int = 1,
    cache: bool = False,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Turns a dataset of integer images into prefetched `float32` batches.

    The elements of `dataset` are images `x` (integer levels `0 .. 2**n_bits - 1`, shape
    `(H, W, C)`) or `(x, label)` pairs. The output pixels are `float32` in `[0, 2**n_bits)`:
    with `dequantize`, `x + u` with `u ~ U[0, 1)`, so the model sees continuous data and takes
    it as already dequantized (a model dequantizes only integer input); without, `x` as floats.

    - Training: a shuffle buffer of `shuffle_buffer` examples (reshuffled every epoch), then
      batches whose randomness (noise, and left-right flips with probability 1/2 when `flip`)
      comes from one stateless key per batch (per training step), drawn from a
      `tf.random.Generator` seeded with `seed`: the same `seed` gives the same batches, epoch
      by epoch. Build the pipeline outside a `tf.distribute` strategy scope, so that the
      generator is an ordinary variable.
    - Evaluation: the order of `dataset`, noise keyed on `(seed, example index)` (seed 0 when
      `seed=None`), so every pass sees identical values; no flips, no shuffling.

    Args:
        dataset: The examples.
        has_labels: Whether the elements are `(x, label)` pairs.
        batch_size: Examples per batch.
        training: Training (shuffled, fresh noise) or evaluation (ordered, fixed noise).
        n_bits: Bits per value of the images.
        dequantize: Whether to add uniform noise.
        flip: Whether to flip training images left-right at random.
        seed: Seed of shuffling and noise; `None` is not reproducible in training.
        shuffle_buffer: Examples in the training shuffle buffer.
        cache: Cache the examples (training, before shuffling) or the dequantized examples
            (evaluation) in memory; for small in-memory datasets only.
        drop_remainder: Whether to drop the last incomplete batch.

    Returns:
        The batched, prefetched dataset.
    """
    autotune = tf.data.AUTOTUNE
    shuffle_seed, noise_seed = derive_seeds(seed)
    if not training:
        eval_seed = _DEFAULT_EVAL_SEED if seed is None else int(seed)

        def evaluate(images: tf.Tensor, index: tf.Tensor) -> tf.Tensor:
            if not dequantize:
                return tf.cast(images, tf.float32)
            key = tf.stack([tf.constant(eval_seed, tf.int64), index])
            return _dequantize(images, key, n_bits)

        dataset = dataset.enumerate().map(
            lambda index, element: _with_labels(evaluate, has_labels)(element, index),
            num_parallel_calls=autotune,
        )
        if cache:
            dataset = dataset.cache()
        return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(autotune)

    if cache:
        dataset = dataset.cache()
    dataset = dataset.shuffle(shuffle_buffer, seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    # One key per batch, the stateless seed of that batch's randomness, drawn from a seeded
    # generator whose state carries over from epoch to epoch (fresh noise every epoch). A
    # generator rather than a zipped `Dataset.random` stream, because `tf.distribute` cannot
    # shard a pipeline by files when a second source dataset is zipped in. The map drawing
    # the keys runs sequentially, so batch k always gets the k-th key.
    generator = (
        tf.random.Generator.from_non_deterministic_state()
        if noise_seed is None
        else tf.random.Generator.from_seed(noise_seed)
    )
    keyed = dataset.map(lambda *element: (element, generator.uniform_full_int([2], tf.int64)))
    # The pipeline's functions capture the generator; keep it alive as long as the pipeline.
    keyed._tfflow_noise_generator = generator

    def augment(element: tuple, key: tf.Tensor) -> object:
        noise_key, flip_key = tf.unstack(tf.random.experimental.stateless_split(key, 2))
        images = tf.cast(element[0], tf.float32)
        if flip:
            images = _flip_batch(images, flip_key)
        if dequantize:
            images = _dequantize(images, noise_key, n_bits)
        return (images, *element[1:]) if has_labels else images

    dataset = keyed.map(augment, num_parallel_calls=autotune)
    return dataset.prefetch(autotune)
