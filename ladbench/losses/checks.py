"""Validation of loss options, shared by the registered losses.

Options may be plain numbers or (per-run options) tensors. A tensor can only exist once torch has
been imported, so these checks look torch up in ``sys.modules`` rather than importing it: checking
plain numbers, the usual case during option validation, must not import torch.
"""

from __future__ import annotations

import math
import sys

from ladbench.errors import UserError, choices_error


def check_choice(option: str, value: object, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise choices_error(option, value, valid)


def is_tensor(value: object) -> bool:
    """Whether ``value`` is a torch tensor, without importing torch."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_number(option: str, value: object) -> None:
    """``value`` is a finite number (not text, not a bool, not NaN or infinity): a wrong type
    gets its own message rather than a range message about a value that is no number at all."""
    if not _is_number(value) or not math.isfinite(value):
        raise UserError(f"{option} must be a finite number, got {value!r}")


def check_positive(option: str, value: object, allow_none: bool = False) -> None:
    """``value`` > 0 (every element when it is a tensor); the message names the bad value."""
    if value is None:
        if allow_none:
            return
        raise UserError(f"{option} must be a positive number, got None")
    if is_tensor(value):
        if not bool(value.isfinite().all()) or bool((value <= 0).any()):
            raise UserError(f"{option} must be > 0 everywhere, got {value.tolist()}")
        return
    check_number(option, value)
    if not value > 0:
        raise UserError(f"{option} must be > 0, got {value!r}")


def check_positive_integer(option: str, value: object, allow_none: bool = False) -> None:
    """``value`` a whole number >= 1 (a length or a count)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{option} must be a positive integer, got {value!r}")
    if value < 1:
        raise UserError(f"{option} must be >= 1, got {value!r}")


def check_non_negative(option: str, value: object) -> None:
    """``value`` >= 0 (every element when it is a tensor); the message names the bad value."""
    if is_tensor(value):
        if not bool(value.isfinite().all()) or bool((value < 0).any()):
            raise UserError(f"{option} must be >= 0 everywhere, got {value.tolist()}")
        return
    check_number(option, value)
    if not value >= 0:
        raise UserError(f"{option} must be >= 0, got {value!r}")


def check_bool(option: str, value: object) -> None:
    if not isinstance(value, bool):
        raise UserError(f"{option} must be true or false, got {value!r}")
