"""Errors raised by the `tfflow.data` loaders."""

__all__ = ["DatasetUnavailableError"]


class DatasetUnavailableError(RuntimeError):
    """A named dataset exists but its files are not available on this machine.

    Raised by `tfflow.data.load_arrays` when a TensorFlow Datasets name is requested and the
    prepared files are not in `data_dir` (TFDS never downloads from inside `tfflow`). The
    message is a single line that says how to pre-download the data or how to point at local
    files instead.
    """
