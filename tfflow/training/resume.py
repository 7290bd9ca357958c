"""`skip_trained_epochs`: the training stream of a resumed run, where the killed run left it."""

from __future__ import annotations

import tensorflow as tf

from tfflow.training.errors import RunConfigurationError

__all__ = ["skip_trained_epochs"]


def skip_trained_epochs(
    dataset: tf.data.Dataset, epochs_done: int, steps_per_epoch: int | None
) -> tuple[tf.data.Dataset, int | None]:
    """The batches a run that already trained `epochs_done` epochs sees next.

    The training pipeline reshuffles and redraws its dequantization noise on every pass,
    from its seed and the pass number. A new process starts again at pass 0, so a resumed
    run would see the first epoch's batches again and drift away from an uninterrupted run.
    Here the stream is advanced past the batches already trained on (computing them, which
    costs a pass of the input pipeline per skipped epoch, not of the model); the k-th pass of
    `dataset.repeat()` is the k-th fresh iteration of `dataset`.

    Args:
        dataset: the training batches: repeated when `steps_per_epoch` is set, else one
            finite pass per epoch.
        epochs_done: epochs in the checkpoint being resumed.
        steps_per_epoch: batches per epoch, or `None` for one pass of `dataset`.

    Returns:
        `(dataset, steps_per_epoch)` to pass to `fit`: unchanged for `epochs_done == 0`;
        otherwise an infinite stream and the number of batches per epoch.

    Raises:
        RunConfigurationError: if `steps_per_epoch` is `None` and the length of one pass is
            unknown.
    """
    if epochs_done <= 0:
        return dataset, steps_per_epoch
    if steps_per_epoch is None:
        batches = int(dataset.cardinality())
        if batches < 0:
            raise RunConfigurationError(
                "cannot resume at the right batch: the length of the training data is "
                "unknown; pass --steps-per-epoch."
            )
        dataset, steps_per_epoch = dataset.repeat(), batches
    return dataset.skip(epochs_done * steps_per_epoch), steps_per_epoch
