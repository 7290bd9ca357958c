"""`CountProgress`: occasional progress lines while a long loading step counts examples."""

import time
from collections.abc import Callable

__all__ = ["CountProgress"]

# Seconds between two progress lines: loads shorter than this print nothing.
PROGRESS_INTERVAL_S = 5.0


class CountProgress:
    """Reports `<what>: 10,240 / 162,770 images (5.1 s)` at most every `interval_s` seconds.

    Args:
        what: What is being counted, e.g. `"celeb_a train"`.
        total: The expected count, or `None` if unknown.
        progress: Called with each line; `None` reports nothing.
        unit: The plural noun after the counts.
        interval_s: Minimum seconds between two lines (and before the first); `None` means
            `PROGRESS_INTERVAL_S`.

    Example:
        >>> lines = []
        >>> counter = CountProgress("toy", 3, lines.append, interval_s=0)
        >>> counter.update(2)
        >>> lines[0].startswith("toy: 2 / 3 images")
        True
    """

    def __init__(
        self,
        what: str,
        total: int | None,
        progress: Callable[[str], None] | None,
        *,
        unit: str = "images",
        interval_s: float | None = None,
    ):
        self.what = what
        self.total = total
        self.progress = progress
        self.unit = unit
        self.interval_s = PROGRESS_INTERVAL_S if interval_s is None else float(interval_s)
        self._start = time.perf_counter()
        self._last = self._start

    def update(self, count: int) -> None:
        """Reports `count` examples done, if `interval_s` has passed since the last line."""
        now = time.perf_counter()
        if self.progress is None or now - self._last < self.interval_s:
            return
        self._last = now
        of_total = "" if self.total is None else f" / {self.total:,}"
        self.progress(f"{self.what}: {count:,}{of_total} {self.unit} ({now - self._start:.1f} s)")
