"""Datasets and input pipelines for `tfflow`.

`load_arrays` returns a `DatasetArrays` train/test split held in NumPy (built-in toy
densities and scikit-learn digits, TFDS datasets read offline, or local IDX/npz/npy/image
files); `make_dataset` turns an array into a dequantized, shuffled, batched `tf.data.Dataset`;
`image_grid` and `save_image_grid` tile samples for viewing.

Datasets too large for memory stream: `open_source` describes a TFDS split, TFRecord files or
an image folder as a `StreamingSource`, and `make_stream` reads it as batches, file by file;
`write_tfrecords` converts arrays or an image folder into sharded TFRecord files.
"""

from tfflow.data.arrays import DatasetArrays
from tfflow.data.errors import DatasetUnavailableError
from tfflow.data.grid import image_grid, save_image_grid
from tfflow.data.idx import read_idx
from tfflow.data.load import KNOWN_DATASETS, load_arrays
from tfflow.data.pipeline import make_dataset
from tfflow.data.quantize import reduce_bits
from tfflow.data.source import StreamingSource
from tfflow.data.stream import STREAM_SHUFFLE_BUFFER, is_streamable, make_stream, open_source
from tfflow.data.tfds_source import CELEBA_ATTRIBUTES
from tfflow.data.tfrecords import write_tfrecords

__all__ = [
    "CELEBA_ATTRIBUTES",
    "KNOWN_DATASETS",
    "STREAM_SHUFFLE_BUFFER",
    "DatasetArrays",
    "DatasetUnavailableError",
    "StreamingSource",
    "image_grid",
    "is_streamable",
    "load_arrays",
    "make_dataset",
    "make_stream",
    "open_source",
    "read_idx",
    "reduce_bits",
    "save_image_grid",
    "write_tfrecords",
]
