"""Writes `tfflow/data/digits.npz`, the 8x8 digits that `tfflow.data.digits` loads.

The file holds scikit-learn's copy of the UCI "Optical Recognition of Handwritten Digits"
test set (1,797 images of 8x8 pixels, 17 gray levels 0..16, labels 0..9), exactly as
`sklearn.datasets.load_digits()` returns it, so tfflow needs no scikit-learn at run time:

- `images`: `uint8`, shape `(1797, 8, 8)`, values 0..16 (`load_digits().images`, which is
  `float64` holding integers, cast losslessly);
- `labels`: `uint8`, shape `(1797,)`, values 0..9 (`load_digits().target`).

It was produced once, with scikit-learn 1.9.1 and NumPy 2.4, by

    python tools/make_digits_npz.py

run from the repository root (scikit-learn must be installed for this script only). The
test `tests/data/test_data_digits.py` pins the file's checksum and, when scikit-learn is
importable, its equality with `load_digits()`.
"""

import argparse
import hashlib
from pathlib import Path

import numpy as np

__all__ = ["main"]

_DEFAULT = Path(__file__).resolve().parents[1] / "tfflow" / "data" / "digits.npz"


def main() -> None:
    """Builds the array file from `sklearn.datasets.load_digits` and prints its checksum."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=_DEFAULT)
    args = parser.parse_args()
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images)
    if not np.array_equal(images, np.round(images)) or images.min() < 0 or images.max() > 16:
        raise ValueError("load_digits().images are expected to be integers in 0..16.")
    images = images.astype(np.uint8)
    labels = np.asarray(bunch.target).astype(np.uint8)
    np.savez_compressed(args.output, images=images, labels=labels)
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes); arrays sha256 {digest}")


if __name__ == "__main__":
    main()
