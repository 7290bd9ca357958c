"""`make_dataset`: the `tf.data` input pipeline for training and evaluating flows."""

import numpy as np
import tensorflow as tf

from tfflow.data.batching import batch_images, derive_seeds
from tfflow.data.quantize import check_n_bits

__all__ = ["MAX_SHUFFLE_BUFFER", "make_dataset"]

# Shuffle buffers hold whole datasets up to this many examples (all of MNIST/CIFAR-10).
MAX_SHUFFLE_BUFFER = 60_000


def _check_inputs(
    x: np.ndarray, labels: np.ndarray | None, batch_size: int, n_bits: int, flip: bool
) -> tuple[np.ndarray, bool]:
    """Validates the arguments; returns `x` (tabular data as float32) and whether it is images."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise ValueError(f"`batch_size` must be a positive integer; received {batch_size!r}.")
    if batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer; received {batch_size}.")
    check_n_bits(n_bits)
    if not isinstance(x, np.ndarray):
        raise ValueError(f"`x` must be a NumPy array; received {type(x).__name__}.")
    if x.ndim == 4 and x.dtype == np.uint8:
        is_image = True
    elif x.ndim == 2 and np.issubdtype(x.dtype, np.floating):
        is_image = False
        x = x.astype(np.float32, copy=False)
    else:
        raise ValueError(
            "`x` must be uint8 images of shape (N, H, W, C) or floating tabular data of shape "
            f"(N, D); received {x.dtype} array of shape {x.shape}."
        )
    if x.shape[0] == 0:
        raise ValueError(f"`x` must hold at least one example; received shape {x.shape}.")
    if is_image and int(x.max()) >= 2**n_bits:
        raise ValueError(
            f"`x` must hold {n_bits}-bit values 0..{2**n_bits - 1} for n_bits={n_bits}; "
            f"received a maximum of {int(x.max())}. Reduce the data first, e.g. "
            f"`load_arrays(..., n_bits={n_bits})` or `reduce_bits(x, {n_bits})`."
        )
    if flip and not is_image:
        raise ValueError(
            f"`flip=True` needs images of rank 4; received tabular data of shape {x.shape}."
        )
    if labels is not None:
        if not isinstance(labels, np.ndarray) or labels.ndim == 0:
            raise ValueError(
                "`labels` must be a NumPy array with one row per example; received "
                f"{type(labels).__name__} {getattr(labels, 'shape', '')}."
            )
        if labels.shape[0] != x.shape[0]:
            raise ValueError(
                f"`labels` must have {x.shape[0]} rows to match `x`; received shape {labels.shape}."
            )
    return x, is_image


def make_dataset(
    x: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    batch_size: int,
    training: bool,
    n_bits: int = 8,
    dequantize: bool = True,
    flip: bool = False,
    seed: int | None = None,
    cache: bool = True,
    drop_remainder: bool | None = None,
) -> tf.data.Dataset:
    """Builds a batched, prefetched `tf.data.Dataset` from in-memory arrays.

    Images (`uint8`, rank 4, values `0 .. 2**n_bits - 1`) become `float32` pixels in
    `[0, 2**n_bits)`. With `dequantize`, uniform noise U[0, 1) is added to every value:

    - in training, fresh noise every epoch, drawn from a seeded `tf.data.Dataset.random`
      stream, so two pipelines built with the same `seed` (and the same global TF seed) give
      the same batches epoch by epoch;
    - in evaluation, noise keyed on the example's index and `seed` (0 when `seed=None`), so
      every pass, and every call with the same seed, sees identical values.

    Without `dequantize` the pixels are the integer levels as floats. With `flip`, training
    images are mirrored left-right with probability 1/2 (never in evaluation). Tabular data
    (floating, rank 2) is cast to `float32` and only shuffled and batched; `dequantize` does not
    apply to it. Training shuffles with a buffer of `min(N, 60000)` examples, reshuffling each
    epoch.

    Memory: the arrays are copied into the pipeline; with `cache` and `training=False` a
    `float32` copy of the dequantized images (4 bytes per value) is cached.

    Args:
        x: `uint8` images `(N, H, W, C)` or floating tabular data `(N, D)`.
        labels: Optional array with one row per example; elements are then `(x, labels)`.
        batch_size: Examples per batch, positive.
        training: Whether to shuffle, flip and draw fresh noise (`True`) or to iterate in order
            with deterministic noise (`False`).
        n_bits: Bits per pixel of `x`, 1 to 8; `x` must already be reduced (see
            `reduce_bits`).
        dequantize: Whether to add uniform noise to image pixels.
        flip: Whether to randomly flip training images left-right. Requires images.
        seed: Seed for shuffling and noise; `None` gives non-reproducible training order and
            noise (evaluation noise then uses seed 0).
        cache: Whether to cache the deterministic part of the pipeline in memory.
        drop_remainder: Whether to drop the last incomplete batch; `None` means `training`.

    Returns:
        A dataset of `float32` batches `x` or `(x, labels)`.

    Raises:
        ValueError: If `batch_size` is not positive, `n_bits` is not in [1, 8], `x` has the
            wrong dtype or rank or values of more than `n_bits` bits, `flip` is set for tabular
            data, or `labels` does not match `x`.

    Example:
        >>> images = np.zeros((10, 4, 4, 1), np.uint8)
        >>> dataset = make_dataset(images, batch_size=4, training=True, seed=1)
        >>> [tuple(batch.shape) for batch in dataset]
        [(4, 4, 4, 1), (4, 4, 4, 1)]
    """
    x, is_image = _check_inputs(x, labels, batch_size, n_bits, flip)
    if drop_remainder is None:
        drop_remainder = bool(training)
    has_labels = labels is not None
    dataset = tf.data.Dataset.from_tensor_slices((x, labels) if has_labels else x)
    buffer = min(x.shape[0], MAX_SHUFFLE_BUFFER)

    if not is_image:
        if cache:
            dataset = dataset.cache()
        if training:
            shuffle_seed = derive_seeds(seed)[0]
            dataset = dataset.shuffle(buffer, seed=shuffle_seed, reshuffle_each_iteration=True)
        return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
    return batch_images(
        dataset,
        has_labels=has_labels,
        batch_size=batch_size,
        training=training,
        n_bits=n_bits,
        dequantize=dequantize,
        flip=flip,
        seed=seed,
        shuffle_buffer=buffer,
        cache=cache,
        drop_remainder=drop_remainder,
    )
