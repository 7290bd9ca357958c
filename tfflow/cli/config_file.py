"""`tfflow train --config FILE`: options by name from a TOML or JSON file."""

from __future__ import annotations

import argparse
import json
import pathlib
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["ConfigFileAction", "read_config_file"]

_BOOLEAN_ACTIONS = ("store_true", argparse.BooleanOptionalAction)


def _check(key: str, value: Any, kwargs: dict[str, Any], default: Any) -> Any:
    """`value` of option `key` checked as the command line checks it (`kwargs` are the
    option's `add_argument` keywords); raises `ValueError` with the reason."""
    if value is None:
        if default is None:
            return None
        raise ValueError(f"{key}: expected a value; received null")
    if kwargs.get("action") in _BOOLEAN_ACTIONS:
        if not isinstance(value, bool):
            raise ValueError(f"{key}: expected true or false; received {value!r}")
        return value
    kind = kwargs.get("type")
    if kind is None:
        if not isinstance(value, str):
            raise ValueError(f"{key}: expected a string; received {value!r}")
    else:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key}: expected a number; received {value!r}")
        try:
            value = kind(str(value))
        except (argparse.ArgumentTypeError, ValueError) as err:
            raise ValueError(f"{key}: {err}") from None
    choices = kwargs.get("choices")
    if choices is not None and value not in choices:
        raise ValueError(
            f"{key}: expected one of {', '.join(map(str, choices))}; received {value!r}"
        )
    return value


def _toml_loads() -> Callable[[str], Any] | None:
    """`tomllib.loads`, or `None` before Python 3.11 (no TOML reader in the standard library)."""
    try:
        import tomllib
    except ImportError:
        return None
    return tomllib.loads


def read_config_file(
    path: str | pathlib.Path, options: dict[str, dict[str, Any]], defaults: dict[str, Any]
) -> dict[str, Any]:
    """Reads and checks a flat TOML (`.toml`) or JSON (`.json`) file of options by name.

    Keys are the long option names, spelled with `_` or `-` (`warmup_steps`,
    `warmup-steps`); values are checked as the command line checks them.

    Args:
        path: The file.
        options: Option name (with `_`) -> its `add_argument` keywords (`type`, `choices`,
            `action`).
        defaults: Option name -> default value; options defaulting to `None` accept JSON
            `null`.

    Returns:
        Option name (with `_`) -> checked value.

    Raises:
        ValueError: naming the file and the key, for an unreadable file, an unknown key or
            a bad value.
    """
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ValueError(f"{path}: expected a .toml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
    loads = _toml_loads() if suffix == ".toml" else json.loads
    if loads is None:
        raise ValueError(
            f"{path}: reading TOML needs Python 3.11 or later (tomllib); write the options as a "
            f".json file instead"
        )
    try:
        values = loads(text)
    except ValueError as err:  # tomllib.TOMLDecodeError and json.JSONDecodeError included
        raise ValueError(f"{path} is not valid {suffix[1:].upper()}: {err}") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a table of options; received {type(values).__name__}")
    checked = {}
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in options:
            raise ValueError(
                f"{path}: unknown key {key!r}; the keys are the long options of `tfflow train` "
                f"(e.g. epochs, batch_size, warmup_steps)"
            )
        try:
            checked[name] = _check(name, value, options[name], defaults.get(name))
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    return checked


class ConfigFileAction(argparse.Action):
    """Stores the checked options of a `--config FILE` (`read_config_file`) as a dict.

    Args:
        options: Option name -> `add_argument` keywords (see `read_config_file`).
        defaults: Option name -> default value.
    """

    def __init__(
        self,
        option_strings: Sequence[str],
        dest: str,
        *,
        options: dict[str, dict[str, Any]],
        defaults: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.options = options
        self.defaults = defaults

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        try:
            setattr(namespace, self.dest, read_config_file(values, self.options, self.defaults))
        except ValueError as err:
            raise argparse.ArgumentError(self, str(err)) from None
