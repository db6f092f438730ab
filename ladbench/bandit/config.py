"""Configuration of one bandit training run (data only; the engine runs it).

Validated with pydantic: unknown keys, unknown choices and out-of-range values are rejected
before anything runs, with a one-line :class:`~ladbench.errors.UserError`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ladbench.bandit.envs import make_env
from ladbench.bandit.policies import check_policy
from ladbench.errors import UserError, choices_error
from ladbench.losses import ADVANTAGE_ESTIMATORS, DIVERGENCES, get_loss, loss_class
from ladbench.losses.advantages import GROUP_ESTIMATORS

ESTIMATORS = ("exact", "sampled")
PROTOCOLS = ("fixed", "refresh")
OptionValue = bool | int | float | str | None


class BanditConfig(BaseModel):
    """Everything that defines a bandit run except its seeds.

    method:           a registered loss (``ladbench.losses.available_losses()``).
    divergence, eta:  LAD's generator and temperature. For ``entropy_pg`` the entropy
                      coefficient defaults to eta (the regime where its optimum equals LAD's
                      target); other methods ignore both.
    loss_options:     further options passed to ``get_loss`` (e.g. ``{"beta": 1.0}`` for
                      flowrl, ``{"eps_high": 0.28}`` for grpo).
    advantage:        estimator (grpo, dr_grpo, rloo, raw). Default ``dr_grpo`` (mean baseline,
                      no std division), under which LAD's target at eta = 1 is the ground truth.
    estimator:        ``exact`` (expectation over all arms, weighted by pi_old; deterministic)
                      or ``sampled`` (group_size arms drawn from pi_old per step).
    protocol:         ``fixed`` (pi_old is the initial policy for the whole run) or
                      ``refresh`` (pi_old <- current policy every refresh_interval steps).
    init_std:         std of the normal initial logits (0: zero init, the uniform policy).
    logz_lr:          learning rate of FlowRL's log Z (default 0.1). With beta = 15 the log
                      normaliser on the trimodal bandit is about 34; at the policy's lr = 5e-3
                      Adam moves log Z by at most ~5e-3 a step and cannot reach it in 4000 steps.
    env, env_options: the bandit family (``ladbench.bandit.envs.ENVIRONMENTS``) and its options
                      (the family dataclass's fields; lists as comma-separated strings).
    policy:           the policy class (``default``: the family's first, see
                      ``ladbench.bandit.policies.FAMILY_POLICIES``).
    width:            capacity of network policies: hidden width (mlp, gru, transformer).
    components:       capacity of the mixture-density policy: number of components.
    bins:             capacity of the discretised continuous policy: cells per dimension.
    inner_epochs:     optimiser updates per batch (PPO-style): each step draws (or, exact,
                      forms) one batch from pi_old and takes this many updates on it, the
                      ratio pi_theta / pi_old moving away from 1 after the first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Literal["trimodal", "unequal_modes", "multi_correct", "noisy", "contextual", "continuous", "sequence"] = "trimodal"
    env_options: dict[str, OptionValue] = Field(default_factory=dict)
    policy: str = "default"
    width: int = Field(32, ge=1)
    components: int = Field(3, ge=1)
    bins: int = Field(16, ge=2)
    inner_epochs: int = Field(1, ge=1)
    method: str = "lad"
    divergence: str = "js"
    eta: float = Field(1.0, gt=0, allow_inf_nan=False)
    loss_options: dict[str, OptionValue] = Field(default_factory=dict)
    advantage: str = "dr_grpo"
    estimator: Literal["exact", "sampled"] = "exact"
    group_size: int = Field(8, ge=1)
    protocol: Literal["fixed", "refresh"] = "fixed"
    refresh_interval: int = Field(1, ge=1)
    steps: int = Field(4000, gt=0)
    lr: float = Field(5e-3, gt=0, allow_inf_nan=False)
    logz_lr: float = Field(0.1, gt=0, allow_inf_nan=False)
    init_std: float = Field(0.0, ge=0, allow_inf_nan=False)
    log_interval: int = Field(20, ge=1)

    @model_validator(mode="after")
    def _check_choices(self) -> BanditConfig:
        loss_class(self.method)
        if self.divergence not in DIVERGENCES:
            raise choices_error("divergence", self.divergence, DIVERGENCES)
        if self.advantage not in ADVANTAGE_ESTIMATORS:
            raise choices_error("advantage estimator", self.advantage, ADVANTAGE_ESTIMATORS)
        if self.estimator == "sampled" and self.advantage in GROUP_ESTIMATORS and self.group_size < 2:
            raise UserError(
                f"group_size {self.group_size} is too small for the {self.advantage!r} advantage; it needs at least 2"
            )
        derived = set(self._derived_loss_options())
        clash = sorted(derived & set(self.loss_options))
        if clash:
            raise UserError(f"loss option {clash[0]!r} is set by the config field of that name; set it there")
        get_loss(self.method, **self.loss_options_resolved())
        make_env(self.env, self.env_options)
        check_policy(self.env, self.policy)
        return self

    def _derived_loss_options(self) -> dict[str, Any]:
        if self.method == "lad":
            return {"divergence": self.divergence, "eta": self.eta}
        return {}

    def loss_options_resolved(self) -> dict[str, Any]:
        """The options the loss is built with (entropy_pg's coef defaults to eta)."""
        options = {**self._derived_loss_options(), **self.loss_options}
        if self.method == "entropy_pg":
            options.setdefault("coef", self.eta)
        return options

    def resolved(self) -> dict[str, Any]:
        """Every field, plus the loss's full option set with defaults filled in."""
        loss_options = loss_class(self.method).options()
        loss_options.update(self.loss_options_resolved())
        return {**self.model_dump(), "loss_options_resolved": loss_options}

    @classmethod
    def build(cls, **fields: Any) -> BanditConfig:
        """Construct, turning pydantic's report into a one-line UserError."""
        try:
            return cls(**fields)
        except ValidationError as error:
            raise UserError(format_validation_error(error)) from None


def format_validation_error(error: ValidationError) -> str:
    """First problem of a pydantic error as ``field: message (got value)``."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "config"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        valid = ", ".join(BanditConfig.model_fields)
        return f"unknown setting {location!r}; valid settings: {valid}"
    if first["type"] == "value_error":
        return message
    return f"{location}: {message} (got {first.get('input')!r})"
