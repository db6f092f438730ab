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
    if not _is_number(value) or not value > 0 or math.isnan(value):
        raise UserError(f"{option} must be > 0, got {value!r}")


def check_non_negative(option: str, value: object) -> None:
    """``value`` >= 0 (every element when it is a tensor); the message names the bad value."""
    if is_tensor(value):
        if not bool(value.isfinite().all()) or bool((value < 0).any()):
            raise UserError(f"{option} must be >= 0 everywhere, got {value.tolist()}")
        return
    if not _is_number(value) or not value >= 0:
        raise UserError(f"{option} must be >= 0, got {value!r}")


def check_bool(option: str, value: object) -> None:
    if not isinstance(value, bool):
        raise UserError(f"{option} must be true or false, got {value!r}")
