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

from ladbench.errors import UserError
from ladbench.losses.batch import AGGREGATIONS, ActionSet, LossBatch
from ladbench.registry import Registry

if TYPE_CHECKING:
    from torch import Tensor

LOSSES: Registry[Loss] = Registry("loss", ordered=False)
PER_RUN_SCALES = (0.5, 1.0, 2.0, 4.0)  # a per-run option's example: its default times these, one per run


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
    - ``examples()``: option sets that reach the loss's branches; the contract tests
      (``tests/test_contracts.py``) check every registered loss on each of them.
    - ``stationary_at_target()``: whether the exact expected loss is stationary at
      ``target_distribution`` (a contract test checks it where declared).
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    per_run_options: ClassVar[tuple[str, ...]] = ()
    temperature_option: ClassVar[str | None] = None
    # verl (ladbench.integrations.verl): which options verl's actor config sets (option -> config
    # key, e.g. "eps_high" -> "clip_ratio_high"; "policy_loss.x" for keys under policy_loss), or None
    # for a loss without per-token terms (``token_terms``); and an option with one registered verl
    # loss per choice (LAD: one per generator), as (option, choices).
    verl_config: ClassVar[dict[str, str] | None] = None
    verl_variants: ClassVar[tuple[str, tuple[str, ...]] | None] = None
    # TRL (ladbench.llm.trl_plugin): the GRPOConfig.importance_sampling_level whose ratio the loss
    # uses ("sequence": GSPO's length-normalised sequence ratio)
    trl_importance_sampling_level: ClassVar[str] = "token"

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

    def token_terms(self, batch: LossBatch) -> Tensor:
        """[B, T] the loss before aggregation, as verl's policy losses hand it to ``agg_loss``: the
        loss is sum_bt a_bt M_bt for the coefficients a of the loss's aggregation. A loss defined
        as a mean of per-sequence terms, sum_b c_b l_b (gspo, gmpo), puts at each real token of
        sequence b the value l_b with gradient n_b d l_b / d log pi_bt (n_b real tokens), so that a
        token mean within the sequence gives back l_b and its gradient (verl's GSPO convention).
        Only for losses with ``verl_config``."""
        raise NotImplementedError(f"loss {self.name!r} has no per-token terms")

    def draw_uniforms(self, batch: LossBatch) -> Tensor:
        """[B, T] ``batch.uniforms`` for a caller without seeded generators of its own (verl):
        U(0, 1) from torch's global generator. A loss may draw them as its reference does."""
        import torch

        return torch.rand(batch.logp.shape, dtype=batch.logp.dtype, device=batch.logp.device)

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

    def stationary_at_target(self) -> bool:
        """True when the gradient of the exact expected loss (every action weighted by pi_old)
        vanishes at ``target_distribution`` for any pi_old: a fixed point the contract checks."""
        return False

    @classmethod
    def options(cls) -> dict[str, Any]:
        """Option names and their defaults."""
        return {field.name: field.default for field in dataclasses.fields(cls)}

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        """Option sets that reach this loss's branches (plain data, no tensors). A per-run
        option may be a tuple: one value per run, cycled over a batch's rows.

        The default: the defaults, each other aggregation mode where the loss has one, and each
        per-run option varied per run. A loss with branches of its own (a clip, a divergence)
        overrides this and lists them."""
        options = cls.options()
        examples: list[dict[str, Any]] = [{}]
        if "aggregation" in options:
            examples += [{"aggregation": mode} for mode in AGGREGATIONS if mode != options["aggregation"]]
        for option in cls.per_run_options:
            default = options[option]
            if isinstance(default, int | float) and not isinstance(default, bool):
                examples.append({option: tuple(scale * default for scale in PER_RUN_SCALES)})
        return examples


def register_loss(cls: type[Loss]) -> type[Loss]:
    """Class decorator adding a loss to the registry under ``cls.name``."""
    return LOSSES.register(cls)


def available_losses() -> dict[str, dict[str, Any]]:
    """Every registered loss name with its options and their defaults."""
    return {name: LOSSES[name].options() for name in sorted(LOSSES)}


def loss_class(name: str) -> type[Loss]:
    """The registered class called ``name``; a ValueError lists the valid names otherwise."""
    return LOSSES[name]


def get_loss(name: str, **options: Any) -> Loss:
    """Build the loss ``name`` with ``options``; unknown names or options raise a ValueError."""
    cls = loss_class(name)
    valid = cls.options()
    for option in options:
        if option not in valid:
            listed = ", ".join(valid) or "(none)"
            raise UserError(f"unknown option {option!r} for loss {name!r}; valid options: {listed}")
    return cls(**options)
