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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.errors import UserError, choices_error
from ladbench.losses.batch import ActionSet, LossBatch

if TYPE_CHECKING:
    from torch import Tensor

_REGISTRY: dict[str, type[Loss]] = {}


class Loss(ABC):
    """Base class of registered losses (subclasses are frozen dataclasses whose fields are the options).

    Besides its maths, a loss declares what the rest of ladbench needs to know about it, so that
    no module outside ``losses/`` tests a loss's name:

    - ``name``: the registry key; ``display_name``: how tables and figures name it (``label()``
      may add options, e.g. LAD's generator).
    - ``per_run_options``: options that may be a tensor with one value per batch row, so runs
      that differ only in them (and the learning rate) train together as one batch.
    - ``temperature_option``: the option that plays the role of LAD's eta (what ``--eta`` sets),
      or None.
    - ``target_distribution``: the distribution over a full action set at which the loss is
      stationary, or None when it has no closed form: the bandit's yardstick.
    - ``options()``: option names and defaults (the dataclass fields).
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    per_run_options: ClassVar[tuple[str, ...]] = ()
    temperature_option: ClassVar[str | None] = None

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

    def fixed_batch_grads(self, batch: LossBatch) -> Callable[[LossBatch], dict[str, Tensor]]:
        """``input_grads`` for batches that differ from ``batch`` only in their differentiable
        fields (logp, log_z, entropy). The bandit engine takes thousands of updates on one batch
        while pi_old is fixed, so a loss may compute once what depends only on the other fields
        (LAD: u and the aggregation coefficients). The default computes everything on each call."""
        return self.input_grads

    def batch_fields(self) -> frozenset[str]:
        """The optional LossBatch fields this loss reads (``ref_logp``, ``log_z``, ``entropy``):
        callers fill exactly these, so no track has to know which loss needs what."""
        return frozenset()

    def label(self) -> str:
        """Display name of this loss with these options (``display_name`` unless overridden)."""
        return self.display_name

    def target_distribution(self, actions: ActionSet) -> Tensor | None:
        """The policy over ``actions`` at which the expected loss (under pi_old) is stationary,
        shaped like ``actions.behaviour_probs``; None when the loss has no closed-form target.
        Per-run options are tensors broadcastable against ``actions.advantages``."""
        return None

    def with_options(self, **options: Any) -> Loss:
        """A copy with ``options`` replaced (e.g. a per-run option as a tensor)."""
        return dataclasses.replace(self, **options)

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
