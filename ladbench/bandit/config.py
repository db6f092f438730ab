"""Configuration of one bandit training run (data only; the engine runs it).

Validated with pydantic: unknown keys, unknown choices, out-of-range values and settings given
explicitly that do nothing for the chosen loss, protocol, estimator or policy are rejected before
anything runs, with a one-line :class:`~ladbench.errors.UserError`. Validation imports no torch
(the family's options are checked structurally; ``bandit.memory`` and ``envs.build_env`` check
size and computed rewards afterwards, still before training).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, create_model, model_validator

from ladbench import layout
from ladbench.bandit.envs import FAMILIES, default_family, make_env
from ladbench.bandit.policies import DEFAULT, POLICIES, check_policy, policy_class, policy_options, readers
from ladbench.errors import UserError, refuse_ignored
from ladbench.losses.advantages import estimators_help
from ladbench.losses.config import LossConfig, OptionValue, TrainsALoss, fold_shorthands

# The policy options in every config's resolved form (and so in its hash), whatever its policy: the
# keys of the committed cells were computed with all three. An option a policy declares later enters
# the resolved form only of the configs whose policy reads it, so registering it changes no key.
ALWAYS_RESOLVED = ("width", "components", "bins")


def env_description() -> str:
    """``env``'s description, listing the registered families (``--help`` reads it when it is built)."""
    return (
        f"Bandit family: {FAMILIES.listed()} (docs/families.md). "
        'In a config file also a table with its options, env = {name = "noisy", level = 0.5}.'
    )


def policy_description() -> str:
    """``policy``'s description, listing the registered policies."""
    return (
        f"Policy class: {POLICIES.listed()}; default: the family's first. "
        'In a config file also a table with its options, policy = {name = "mlp", width = 64}.'
    )


def policy_option_description(name: str) -> str:
    """A policy option's description, naming the registered policies that read it."""
    return f"{policy_options()[name].description} (policies: {', '.join(readers(name))})."


def _valid_policy_options(data: dict, policy: str) -> str:
    """``of the <policy> policy: <its options>`` (``default``: the family's first); every policy
    option when the family or policy is unknown (their own check names them)."""
    try:
        found = policy_class(data.get("env", _Components.model_fields["env"].default), policy)
    except UserError:
        return f"of the policies: {', '.join(policy_options())}"
    return f"of the {found.name} policy: {', '.join(found.option_names()) or 'none'}"


def fold_component_tables(data: Any) -> Any:
    """``env = {name = ..., ...options}`` and ``policy = {name = ..., width = ...}`` (the one shape
    of a component in configs and specs) as the fields they set: ``env`` + ``env_options``,
    ``policy`` + one field per option (declared by the policy classes). The older spellings (``env``
    + ``env_options``, top-level ``width`` / ``components`` / ``bins``) are the same config and hash
    alike. An option of another policy passes here and is refused by ``ignored_settings``."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    env = data.get("env")
    if isinstance(env, dict):
        table = dict(env)
        if "name" not in table:
            raise UserError('env: a table needs the family\'s name, e.g. env = {name = "noisy", level = 0.5}')
        if "env_options" in data:
            raise UserError(
                "env_options: give the family's options inside the env table, "
                f"env = {{name = {table['name']!r}, ...}}, not beside it"
            )
        data["env"] = table.pop("name")
        if table:
            data["env_options"] = table
    policy = data.get("policy")
    if isinstance(policy, dict):
        table = dict(policy)
        data["policy"] = table.pop("name", DEFAULT)
        for option, value in table.items():
            if option not in policy_options():
                valid = _valid_policy_options(data, data["policy"])
                raise UserError(f"unknown policy option {option}={value!r}; valid options {valid}")
            if option in data:
                raise UserError(f"{option}: give it inside the policy table or beside it, not both")
            data[option] = value
    return data


class _Components(TrainsALoss):
    """A bandit run's family and policy; ``BanditConfig`` adds the policies' options after these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str = Field(default_family(), description=env_description())
    env_options: dict[str, OptionValue] = Field(
        default_factory=dict, description="Options of the family (its dataclass fields; lists as comma-separated text)."
    )
    policy: str = Field(DEFAULT, description=policy_description())

    @classmethod
    def live_description(cls, name: str) -> str | None:
        """Field ``name``'s description as the registries hold now, where it lists them (None: the
        field's own): ``--help`` is built from it, so a family or policy registered after this
        module was imported (a test's ``FAMILIES.temporary``) is listed."""
        if name == "env":
            return env_description()
        if name == "policy":
            return policy_description()
        return policy_option_description(name) if name in policy_options() else None


# One field per option the registered policies declare (``--width``, ...), after ``policy``.
_WithPolicyOptions = create_model(
    "_WithPolicyOptions",
    __base__=_Components,
    __module__=__name__,
    **{
        name: (
            int,
            Field(option.default, ge=option.minimum, description=policy_option_description(name)),
        )
        for name, option in policy_options().items()
    },
)


class BanditConfig(_WithPolicyOptions):
    """Everything that defines a bandit run except its seeds (``ladbench run bandit --help``
    shows every field with its description and default)."""

    loss: LossConfig = Field(
        default_factory=LossConfig,
        description='The loss and its options, e.g. {name = "lad", divergence = "js", eta = 1.0}.',
    )
    advantage: str = Field(
        "dr_grpo",
        description=f"Advantage estimator: {estimators_help()}. With dr_grpo LAD's target at eta = 1 "
        "is the ground truth.",
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
        le=1000,
        description="Optimiser updates per batch (PPO-style); the ratio pi / pi_old moves away from 1 after the first.",
    )
    steps: int = Field(4000, gt=0, le=10_000_000, description="Optimisation steps.")
    lr: float = Field(5e-3, gt=0, le=10, allow_inf_nan=False, description="Adam learning rate of the policy.")
    logz_lr: float = Field(
        0.1,
        gt=0,
        le=100,
        allow_inf_nan=False,
        description="Adam learning rate of FlowRL's log Z "
        "(with beta = 15 log Z is about 34 on the trimodal bandit: out of reach at 5e-3).",
    )
    init_std: float = Field(
        0.0,
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="Std of normal noise on the initial logits or parameters (0: the family's base policy).",
    )
    log_interval: int = Field(20, ge=1, description="Steps between rows of curves.csv.")

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        return fold_shorthands(fold_component_tables(data))

    @model_validator(mode="after")
    def _check_choices(self, info: ValidationInfo) -> BanditConfig:
        FAMILIES[self.env]  # unknown name: UserError listing the families
        self.check_groups("sample", groups_sampled=self.estimator == "sampled")
        make_env(self.env, self.env_options, compute_checks=False)
        check_policy(self.env, self.policy)
        refuse_ignored(self, info.context)
        return self

    def policy_settings(self) -> dict[str, int]:
        """The options of the policy this config trains, with their values."""
        return {name: getattr(self, name) for name in policy_class(self.env, self.policy).option_names()}

    def resolved(self) -> dict[str, Any]:
        """Every field, the loss with its full option set; of the policy options, those the policy
        reads and the ``ALWAYS_RESOLVED`` ones (the committed cells' keys include them)."""
        unread = set(policy_options()) - set(policy_class(self.env, self.policy).option_names())
        return {
            name: value for name, value in super().resolved().items() if name not in unread or name in ALWAYS_RESOLVED
        }

    def ignored_settings(self) -> dict[str, str]:
        """The fields given explicitly (pydantic's ``model_fields_set``; defaults do not count)
        that this config never reads, each with why."""
        policy = policy_class(self.env, self.policy)
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
        for option in policy_options():
            if option not in policy.option_names():
                why[option] = (
                    f"for the {policy.name} policy (its options: {', '.join(policy.option_names()) or 'none'}; "
                    f"{option} is read by {', '.join(readers(option))})"
                )
        return self.explicitly_ignored(why)


def config_hash(config: BanditConfig, seeds: list[int]) -> str:
    """Short stable hash of a resolved config and its seeds (``layout.config_hash``, the one cell hash)."""
    return layout.config_hash(config.resolved(), seeds)
