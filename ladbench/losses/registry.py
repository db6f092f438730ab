"""One registry of loss types, and the interface every loss implements.

A loss is a frozen dataclass whose fields are its options. It is pure: tensors in, a scalar
loss and a dict of float metrics out; it knows nothing of bandits, models or files.

Besides its value, every loss gives the closed-form gradient of that value with respect to each
differentiable field of the batch (``input_grads``). The LLM track backpropagates through the
value; the tabular bandit engine applies the chain rule to the closed form, which skips autograd
and makes thousands of small steps cheap. The tests hold the two to each other for every loss.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from torch import Tensor

from ladbench.errors import UserError, choices_error
from ladbench.losses.batch import LossBatch

_REGISTRY: dict[str, type[Loss]] = {}


class Loss(ABC):
    """Base class of registered losses (subclasses are frozen dataclasses)."""

    name: ClassVar[str]

    def __call__(self, batch: LossBatch) -> tuple[Tensor, dict[str, float]]:
        """The scalar loss (differentiable) and its metrics as plain floats."""
        loss, metrics = self.loss_and_metrics(batch)
        return loss, {key: float(value) for key, value in metrics.items()}

    @abstractmethod
    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        """The scalar loss and its metrics as 0-dim tensors (no host synchronisation)."""

    @abstractmethod
    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        """Closed-form d loss / d field for each differentiable batch field the loss reads
        (always ``logp``; ``log_z`` for flowrl; ``entropy`` for entropy_pg), same shapes."""

    def batch_fields(self) -> frozenset[str]:
        """The optional LossBatch fields this loss reads (``ref_logp``, ``log_z``, ``entropy``):
        callers fill exactly these, so no track has to know which loss needs what."""
        return frozenset()

    @classmethod
    def options(cls) -> dict[str, Any]:
        """Option names and their defaults."""
        return {field.name: field.default for field in dataclasses.fields(cls)}


def register_loss(cls: type[Loss]) -> type[Loss]:
    """Class decorator adding a loss to the registry under ``cls.name``."""
    if cls.name in _REGISTRY:
        raise RuntimeError(f"loss {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def available_losses() -> dict[str, dict[str, Any]]:
    """Every registered loss name with its options and their defaults."""
    return {name: cls.options() for name, cls in sorted(_REGISTRY.items())}


def loss_class(name: str) -> type[Loss]:
    """The registered class called ``name``; a ValueError lists the valid names otherwise."""
    if name not in _REGISTRY:
        raise choices_error("loss", name, sorted(_REGISTRY))
    return _REGISTRY[name]


def get_loss(name: str, **options: Any) -> Loss:
    """Build the loss ``name`` with ``options``; unknown names or options raise a ValueError."""
    cls = loss_class(name)
    valid = cls.options()
    for option in options:
        if option not in valid:
            listed = ", ".join(valid) or "(none)"
            raise UserError(f"unknown option {option!r} for loss {name!r}; valid options: {listed}")
    return cls(**options)
