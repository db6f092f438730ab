"""Configuration of one bandit training run (data only; the engine runs it).

Validated with pydantic: unknown keys, unknown choices, out-of-range values and settings given
explicitly that do nothing for the chosen loss, protocol, estimator or policy are rejected before
anything runs, with a one-line :class:`~ladbench.errors.UserError`. Validation imports no torch
(the family's options are checked structurally; ``bandit.memory`` and ``envs.build_env`` check
size and computed rewards afterwards, still before training).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, model_validator

from ladbench.bandit.envs import ENVIRONMENTS, make_env
from ladbench.bandit.policies import POLICY_OPTIONS, check_policy, policy_name
from ladbench.errors import choices_error, refuse_ignored
from ladbench.losses.config import LossConfig, OptionValue, TrainsALoss, fold_shorthands


class BanditConfig(TrainsALoss):
    """Everything that defines a bandit run except its seeds (``ladbench run bandit --help``
    shows every field with its description and default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str = Field(
        "trimodal",
        description="Bandit family: trimodal, unequal_modes, multi_correct, noisy, "
        "contextual, continuous, sequence (docs/families.md).",
    )
    env_options: dict[str, OptionValue] = Field(
        default_factory=dict, description="Options of the family (its dataclass fields; lists as comma-separated text)."
    )
    policy: str = Field(
        "default",
        description="Policy class: tabular, mlp, gaussian, mdn, discretised, gru, "
        "transformer; default: the family's first.",
    )
    width: int = Field(32, ge=1, description="Hidden width of network policies (mlp, gru, transformer).")
    components: int = Field(3, ge=1, description="Components of the mixture-density (mdn) policy.")
    bins: int = Field(16, ge=2, description="Cells per dimension of the discretised continuous policy.")
    loss: LossConfig = Field(
        default_factory=LossConfig,
        description='The loss and its options, e.g. {name = "lad", divergence = "js", eta = 1.0}.',
    )
    advantage: str = Field(
        "dr_grpo",
        description="Advantage estimator: grpo, dr_grpo, rloo, raw. dr_grpo (mean "
        "baseline, no std division) makes LAD's target at eta = 1 the ground truth.",
    )
    estimator: Literal["exact", "sampled"] = Field(
        "exact",
        description="exact: every arm weighted by pi_old (deterministic); sampled: group_size arms drawn from pi_old.",
    )
    group_size: int = Field(8, ge=1, description="Arms drawn per step (per context) by the sampled estimator.")
    protocol: Literal["fixed", "refresh"] = Field(
        "fixed", description="pi_old protocol: fixed (the initial policy for the whole run) or refresh (pi_old <- pi)."
    )
    refresh_interval: int = Field(1, ge=1, description="Steps between pi_old <- pi under the refresh protocol.")
    dynamic_sampling: bool = Field(
        False,
        description="DAPO's dynamic sampling (sampled estimator): drop each "
        "(run, context) group whose observed rewards are all equal; a run left with no "
        "group skips that step's update.",
    )
    inner_epochs: int = Field(
        1,
        ge=1,
        description="Optimiser updates per batch (PPO-style); the ratio pi / pi_old moves away from 1 after the first.",
    )
    steps: int = Field(4000, gt=0, description="Optimisation steps.")
    lr: float = Field(5e-3, gt=0, allow_inf_nan=False, description="Adam learning rate of the policy.")
    logz_lr: float = Field(
        0.1,
        gt=0,
        allow_inf_nan=False,
        description="Adam learning rate of FlowRL's log Z "
        "(with beta = 15 log Z is about 34 on the trimodal bandit: out of reach at 5e-3).",
    )
    init_std: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="Std of normal noise on the initial logits or parameters (0: the family's base policy).",
    )
    log_interval: int = Field(20, ge=1, description="Steps between rows of curves.csv.")

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        return fold_shorthands(data)

    @model_validator(mode="after")
    def _check_choices(self, info: ValidationInfo) -> BanditConfig:
        if self.env not in ENVIRONMENTS:
            raise choices_error("env", self.env, ENVIRONMENTS)
        self.check_groups("sample", groups_sampled=self.estimator == "sampled")
        make_env(self.env, self.env_options, compute_checks=False)
        check_policy(self.env, self.policy)
        refuse_ignored(self, info.context)
        return self

    def ignored_settings(self) -> dict[str, str]:
        """The fields given explicitly (pydantic's ``model_fields_set``; defaults do not count)
        that this config never reads, each with why."""
        policy = policy_name(self.env, self.policy)
        why = {
            "refresh_interval": "under the fixed protocol (pi_old is never refreshed); set protocol = refresh to use it"
            if self.protocol == "fixed"
            else None,
            "group_size": "for the exact estimator (it weights every arm by pi_old and draws none); set estimator = "
            "sampled to use it"
            if self.estimator == "exact"
            else None,
            "dynamic_sampling": "here: the exact estimator has no sampled groups to drop (it weights every arm by "
            "pi_old); set estimator = sampled to use it"
            if self.dynamic_sampling and self.estimator == "exact"
            else None,
        }
        for knob in ("width", "components", "bins"):
            if knob not in POLICY_OPTIONS[policy]:
                why[knob] = (
                    f"for the {policy} policy "
                    f"(it reads {', '.join(POLICY_OPTIONS[policy]) or 'none of width, components, bins'})"
                )
        return self.explicitly_ignored(why)


def config_hash(config: BanditConfig, seeds: list[int]) -> str:
    """Short stable hash of a resolved config and its seeds (names directories and sweep cells)."""
    payload = json.dumps({"config": config.resolved(), "seeds": seeds}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:10]
