"""How a coupling layer divides its input into a conditioning and a transformed part.

Four partitions, each with a `parity` flag that swaps the roles of the two parts:

- `"half"` (vectors): first half / second half of the last axis.
- `"odd_even"` (vectors, NICE): even / odd positions of the last axis.
- `"checkerboard"` (images, RealNVP): spatial checkerboard mask, all channels.
- `"channel"` (images, RealNVP and Glow): first half / second half of the channels.

Split partitions hand the conditioner only the conditioning part and transform only the other
part. The checkerboard is a mask: the conditioner sees `x * mask` and the affine parameters are
multiplied by `1 - mask`, as in Dinh et al. 2016, eq. (9).
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["PARTITIONS", "Partition", "split_halves"]

PARTITIONS = ("half", "odd_even", "checkerboard", "channel")


def split_halves(x: tf.Tensor, event_shape: tuple[int, ...]) -> tuple[tf.Tensor, tf.Tensor]:
    """The first `n // 2` and the last `n - n // 2` entries of the last axis (`n =
    event_shape[-1]`): the parts of the `"half"` and `"channel"` partitions."""
    n = event_shape[-1]
    # tf.split's gradient is a concat, cheaper than slicing's StridedSliceGrad.
    first, second = tf.split(x, [n // 2, n - n // 2], axis=-1)
    return first, second


class Partition:
    """A coupling partition of an event of shape `event_shape`.

    Args:
        kind: one of `PARTITIONS`.
        event_shape: the event shape (rank 1 for `"half"`/`"odd_even"`, rank 3 otherwise).
        parity: 0 or 1; 1 swaps the conditioning and transformed parts.

    Raises:
        ValueError: unknown kind, wrong event rank, or an axis too small to split.
    """

    def __init__(self, kind: str, event_shape: tuple[int, ...], parity: int = 0):
        if kind not in PARTITIONS:
            raise ValueError(f"`partition` must be one of {PARTITIONS}; received {kind!r}.")
        if parity not in (0, 1):
            raise ValueError(f"`parity` must be 0 or 1; received {parity!r}.")
        event_shape = tuple(int(d) for d in event_shape)
        expected_rank = 1 if kind in ("half", "odd_even") else 3
        if len(event_shape) != expected_rank:
            raise ValueError(
                f"`partition={kind!r}` needs an event of rank {expected_rank}; "
                f"received event shape {event_shape}."
            )
        if event_shape[-1] < 2 and kind != "checkerboard":
            raise ValueError(
                f"`partition={kind!r}` needs at least 2 features on the last axis; "
                f"received event shape {event_shape}."
            )
        if kind == "odd_even" and event_shape[-1] % 2:
            raise ValueError(
                f"`partition='odd_even'` needs an even number of features; "
                f"received event shape {event_shape}."
            )
        if kind == "checkerboard" and event_shape[0] * event_shape[1] < 2:
            raise ValueError(
                f"`partition='checkerboard'` needs at least 2 pixels; received {event_shape}."
            )
        self.kind = kind
        self.event_shape = event_shape
        self.parity = parity
        self.is_mask = kind == "checkerboard"
        n = event_shape[-1]
        first = n // 2
        self._sizes = (first, n - first) if parity == 0 else (n - first, first)

    @property
    def conditioner_input_shape(self) -> tuple[int, ...]:
        if self.is_mask:
            return self.event_shape
        return self.event_shape[:-1] + (self._sizes[0],)

    @property
    def transformed_shape(self) -> tuple[int, ...]:
        """Shape of the transformed part (the conditioner outputs 1x or 2x its channels)."""
        if self.is_mask:
            return self.event_shape
        return self.event_shape[:-1] + (self._sizes[1],)

    def mask(self, dtype: tf.DType) -> tf.Tensor:
        """Checkerboard mask `(h, w, 1)`: 1 where pixels condition, 0 where transformed."""
        h, w, _ = self.event_shape
        grid = (tf.range(h)[:, None] + tf.range(w)[None, :] + self.parity) % 2
        return tf.cast(grid == 0, dtype)[..., None]

    def split(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Returns `(conditioning, transformed)`; for masks, `(x * mask, x)`."""
        if self.is_mask:
            return x * self.mask(x.dtype), x
        if self.kind == "odd_even":
            pairs = tf.reshape(x, tf.concat([tf.shape(x)[:-1], [-1, 2]], 0))
            return self.roles(pairs[..., 0], pairs[..., 1])
        return self.roles(*split_halves(x, self.event_shape))

    @property
    def splits_halves(self) -> bool:
        """Whether the parts are the contiguous last-axis halves of `split_halves`
        (`"half"` and `"channel"`), so a coupling can take and return them unjoined."""
        return self.kind in ("half", "channel")

    def roles(self, first: tf.Tensor, second: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """`(conditioning, transformed)` from the two parts in axis order, and back: the
        parity swap is its own inverse."""
        return (first, second) if self.parity == 0 else (second, first)

    def restrict(self, params: tf.Tensor) -> tf.Tensor:
        """Zeroes coupling parameters on conditioning positions (masks only)."""
        if self.is_mask:
            return params * (1.0 - self.mask(params.dtype))
        return params

    def merge(self, conditioning: tf.Tensor, transformed: tf.Tensor) -> tf.Tensor:
        """Inverse of `split` (with `transformed` possibly changed)."""
        if self.is_mask:
            return conditioning + (1.0 - self.mask(transformed.dtype)) * transformed
        a, b = self.roles(conditioning, transformed)
        if self.kind == "odd_even":
            pairs = tf.stack([a, b], axis=-1)
            return tf.reshape(pairs, tf.concat([tf.shape(a)[:-1], [-1]], 0))
        return tf.concat([a, b], axis=-1)

    def transformed_sum(self, values: tf.Tensor) -> tf.Tensor:
        """Sums per-element log-scales over the event (already restricted for masks)."""
        return tf.reduce_sum(values, axis=list(range(-len(self.event_shape), 0)))
