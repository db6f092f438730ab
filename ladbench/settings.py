"""Settings from a TOML file and ``key=value`` overrides, layered into one nested dict.

A run's settings are, lowest first: the config model's defaults, ``--config file.toml``, the
command's own flags, then ``-s key=value`` overrides. Keys may be dotted to reach into a table
(``-s loss.eta=0.25``). Values given as text are read as JSON where they parse (numbers,
true/false, null, lists) and kept as text otherwise; the config model then validates them, so a
value from a flag, a file or a spec goes through the same checks.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from ladbench.errors import UserError
from ladbench.io import read_text


def parse_value(text: str) -> Any:
    """``"0.5"`` -> 0.5, ``"true"`` -> True, ``"null"`` -> None, ``"[1, 2]"`` -> [1, 2]; other text stays text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignment(text: str, what: str = "setting") -> tuple[str, Any]:
    """``key=value`` -> (key, parsed value); a UserError names the malformed text."""
    key, separator, value = text.partition("=")
    key = key.strip()
    if not separator or not key:
        raise UserError(f"{what} {text!r} is not of the form key=value")
    return key, parse_value(value)


def set_dotted(settings: dict[str, Any], key: str, value: Any) -> None:
    """``settings[a][b] = value`` for ``key = "a.b"``, creating tables on the way."""
    *tables, last = key.split(".")
    target = settings
    for index, part in enumerate(tables):
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise UserError(f"setting {key!r}: {'.'.join(tables[: index + 1])!r} is not a table")
        target = child
    target[last] = value


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``update``, tables merged key by key (neither argument changes)."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_toml(path: Path, what: str = "config file") -> dict[str, Any]:
    """The tables of a TOML file; a missing file or bad TOML is a one-line UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} {str(path)!r} not found")
    try:
        return tomllib.loads(read_text(path, what))
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{what} {str(path)!r}: not valid TOML: {error}") from None
    except OSError as error:  # a file that is not UTF-8 is read_text's UserError
        raise UserError(f"{what} {str(path)!r} cannot be read: {error}") from None


def layered(config_file: Path | None, flags: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """File settings, then the flags that were given (None: not given), then ``-s`` overrides."""
    settings = read_toml(config_file) if config_file is not None else {}
    for key, value in flags.items():
        if value is not None:
            set_dotted(settings, key, value)
    for text in overrides:
        set_dotted(settings, *parse_assignment(text, "override (-s)"))
    return settings
