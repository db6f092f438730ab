"""Validation of loss options, shared by the registered losses."""

from __future__ import annotations

import math

import torch

from ladbench.errors import UserError, choices_error


def check_choice(option: str, value: object, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise choices_error(option, value, valid)


def check_positive(option: str, value: float | torch.Tensor | None, allow_none: bool = False) -> None:
    """``value`` > 0 (every element when it is a tensor); the message names the bad value."""
    if value is None:
        if allow_none:
            return
        raise UserError(f"{option} must be a positive number, got None")
    if isinstance(value, torch.Tensor):
        if not bool(torch.isfinite(value).all()) or bool((value <= 0).any()):
            raise UserError(f"{option} must be > 0 everywhere, got {value.tolist()}")
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or math.isnan(value):
        raise UserError(f"{option} must be > 0, got {value!r}")


def check_non_negative(option: str, value: float | torch.Tensor) -> None:
    """``value`` >= 0 (every element when it is a tensor); the message names the bad value."""
    if isinstance(value, torch.Tensor):
        if not bool(torch.isfinite(value).all()) or bool((value < 0).any()):
            raise UserError(f"{option} must be >= 0 everywhere, got {value.tolist()}")
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
        raise UserError(f"{option} must be >= 0, got {value!r}")
