"""`timed_step`: a line before and after a long preparation step, with its duration."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

__all__ = ["echo", "timed_step"]


def echo(line: str) -> None:
    """Prints `line` to stdout and flushes, so progress shows up in pipes and logs."""
    print(line, flush=True)


@contextlib.contextmanager
def timed_step(what: str, print_fn: Callable[[str], None] = echo) -> Iterator[dict]:
    """Prints `<what> ...` on entry and `<what>: done in 1.2 s[, <detail>]` on success.

    Yields:
        A dict; set its `"detail"` key to append a note to the closing line.

    Example:
        >>> with timed_step("counting", print_fn=lambda line: None) as step:
        ...     step["detail"] = "3 things"
    """
    print_fn(f"{what} ...")
    start = time.perf_counter()
    step: dict = {}
    yield step
    detail = f", {step['detail']}" if step.get("detail") else ""
    print_fn(f"{what}: done in {time.perf_counter() - start:.1f} s{detail}")
