"""Datasets and input pipelines for `tfflow`.

`load_arrays` returns a `DatasetArrays` train/test split held in NumPy (built-in toy
densities and scikit-learn digits, TFDS datasets read offline, or local IDX/npz/npy/image
files); `make_dataset` turns an array into a dequantized, shuffled, batched `tf.data.Dataset`;
`image_grid` and `save_image_grid` tile samples for viewing.
"""

from tfflow.data.arrays import DatasetArrays
from tfflow.data.errors import DatasetUnavailableError
from tfflow.data.grid import image_grid, save_image_grid
from tfflow.data.idx import read_idx
from tfflow.data.load import KNOWN_DATASETS, load_arrays
from tfflow.data.pipeline import make_dataset
from tfflow.data.quantize import reduce_bits
from tfflow.data.tfds_source import CELEBA_ATTRIBUTES

__all__ = [
    "CELEBA_ATTRIBUTES",
    "KNOWN_DATASETS",
    "DatasetArrays",
    "DatasetUnavailableError",
    "image_grid",
    "load_arrays",
    "make_dataset",
    "read_idx",
    "reduce_bits",
    "save_image_grid",
]
