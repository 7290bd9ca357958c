"""A reader for IDX files, the format of MNIST and Fashion-MNIST.

An IDX file starts with a 4-byte big-endian magic number `0x0000TTNN` (`TT` the element type,
`NN` the number of dimensions), then `NN` big-endian uint32 sizes, then the elements in
row-major big-endian order. Images use magic 2051 (`0x00000803`: uint8, 3 dims), labels 2049
(`0x00000801`: uint8, 1 dim). Files may be gzip-compressed and may come split into parts
(`name.gz.part00`, `name.gz.part01`, ...) that are joined in order before decompressing.
"""

import glob
import gzip
import pathlib
import re
import zlib
from collections.abc import Sequence

import numpy as np

__all__ = ["IDX_IMAGES_MAGIC", "IDX_LABELS_MAGIC", "find_idx_file", "read_idx"]

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049

# IDX type codes and the big-endian NumPy dtypes they stand for.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_PART_PATTERN = re.compile(r"^(?P<base>.+)\.part(?P<index>\d+)$")


def _describe(paths: Sequence[pathlib.Path]) -> str:
    if len(paths) == 1:
        return str(paths[0])
    return f"{paths[0]} .. {paths[-1].name} ({len(paths)} parts)"


def _find_parts(directory: pathlib.Path, base: str) -> list[pathlib.Path]:
    """Returns the parts `base.partNN` in `directory`, in numeric order, checking for gaps."""
    indexed = []
    for path in directory.glob(f"{glob.escape(base)}.part*"):
        match = _PART_PATTERN.match(path.name)
        if match and match.group("base") == base and path.is_file():
            indexed.append((int(match.group("index")), path))
    indexed.sort()
    numbers = [number for number, _ in indexed]
    if numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        raise FileNotFoundError(
            f"Parts of {directory / base} are not contiguous: found part numbers {numbers}, "
            f"missing {missing}."
        )
    return [path for _, path in indexed]


def find_idx_file(directory: str | pathlib.Path, stem: str) -> list[pathlib.Path] | None:
    """Finds the file(s) holding the IDX file `stem` in `directory`.

    Looks, in order, for `stem`, `stem.gz`, then the parts `stem.partNN` and
    `stem.gz.partNN`. The MNIST spelling with a dot (`train-images.idx3-ubyte`) is accepted
    for a stem written with dashes (`train-images-idx3-ubyte`).

    Args:
        directory: The folder to search.
        stem: The uncompressed file name, e.g. "t10k-images-idx3-ubyte".

    Returns:
        The list of files to concatenate (one file, or the parts in order), or `None` when
        nothing matches.

    Raises:
        FileNotFoundError: If parts are found but their numbering has gaps.
    """
    directory = pathlib.Path(directory)
    stems = [stem]
    dotted = re.sub(r"-(idx\d-ubyte)$", r".\1", stem)
    if dotted != stem:
        stems.append(dotted)
    for name in stems:
        for base in (name, f"{name}.gz"):
            if (directory / base).is_file():
                return [directory / base]
    for name in stems:
        for base in (name, f"{name}.gz"):
            parts = _find_parts(directory, base)
            if parts:
                return parts
    return None


def read_idx(
    paths: str | pathlib.Path | Sequence[str | pathlib.Path], *, expected_magic: int | None = None
) -> np.ndarray:
    """Reads an IDX file, optionally gzip-compressed and optionally split into parts.

    Args:
        paths: A file, or a sequence of parts to concatenate in the given order. Gzip is
            detected from the content, not the name.
        expected_magic: If given, the magic number the file must have (e.g.
            `IDX_IMAGES_MAGIC`).

    Returns:
        The array with its native-endian dtype and the shape stored in the header.

    Raises:
        FileNotFoundError: If a file does not exist.
        ValueError: If the data is not valid gzip, the magic number is not a valid IDX magic
            (or differs from `expected_magic`), or the file is shorter or longer than its
            header says.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
        >>> _ = open(path, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]))
        >>> read_idx(path)
        array([7, 0, 9], dtype=uint8)
    """
    if isinstance(paths, str | pathlib.Path):
        paths = [paths]
    paths = [pathlib.Path(path) for path in paths]
    if not paths:
        raise ValueError("`paths` must name at least one file; received an empty sequence.")
    name = _describe(paths)
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"IDX file not found: {path}")
    data = b"".join(path.read_bytes() for path in paths)
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"{name} is not a valid gzip stream: {err}") from err
    if len(data) < 4:
        raise ValueError(f"{name} is too short to be an IDX file: {len(data)} bytes.")
    magic = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{name} has bad IDX magic {magic} (0x{magic:08x}); expected 0x0000TTNN with a "
            f"known type code TT and NN > 0 dimensions (2051 for images, 2049 for labels)."
        )
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(
            f"{name} has IDX magic {magic} (0x{magic:08x}); expected {expected_magic} "
            f"(0x{expected_magic:08x})."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name} is truncated inside its {header}-byte IDX header.")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[type_code]
    expected_bytes = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected_bytes:
        raise ValueError(
            f"{name} holds {len(data)} bytes but its IDX header (shape {shape}, {dtype.name}) "
            f"implies {expected_bytes}."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))
