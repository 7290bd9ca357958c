"""Argument types and the parser class shared by the `tfflow` subcommands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn, TypeVar

from tfflow.cli.errors import CommandLineError

_T = TypeVar("_T")

__all__ = [
    "Parser",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "spline_bins",
    "unit_interval_float",
]


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose usage errors are one line (`tfflow: error: ...`, exit 2).

    argparse prints the usage text before the error; the one-line form points at `--help`
    instead, so every user error of `tfflow` looks the same.
    """

    def error(self, message: str) -> NoReturn:
        raise CommandLineError(f"{message} (see `{self.prog} --help`)")


def _number(text: str, kind: Callable[[str], _T], check: Callable[[_T], bool], expected: str) -> _T:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}; received {text!r}") from None
    if not check(value):
        raise argparse.ArgumentTypeError(f"expected {expected}; received {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _number(text, int, lambda v: v >= 1, "a positive integer")


def spline_bins(text: str) -> int:
    """argparse type: an integer >= 2 (bins of a rational-quadratic spline)."""
    return _number(text, int, lambda v: v >= 2, "an integer >= 2")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _number(text, int, lambda v: v >= 0, "a non-negative integer")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _number(text, float, lambda v: math.isfinite(v) and v > 0, "a positive number")


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(text, float, lambda v: math.isfinite(v) and v >= 0, "a number >= 0")


def unit_interval_float(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    return _number(text, float, lambda v: 0 <= v <= 1, "a number in [0, 1]")
