"""A loss as configs and specs write it: a table ``{name = "lad", divergence = "js", eta = 0.25}``.

Both tracks hold their loss as a :class:`LossConfig`. Options left out take the loss's own
defaults (the loss dataclass's fields), so two configs that resolve to the same options are the
same config, whatever they spelled out.

Three shorthands reach into the table from a command line or a spec (``apply_shorthands``):
``method`` sets the name, ``divergence`` the option of that name, and ``eta`` the loss's
``temperature_option`` (LAD's eta, entropy_pg's coef). A shorthand given explicitly to one run
must apply to its loss (``--divergence kl`` for GRPO is an error); in a sweep grid it applies to
the cells whose loss takes it (see ``ladbench.sweep.spec``).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ladbench.errors import UserError, choices_error, validated
from ladbench.losses.advantages import ADVANTAGE_ESTIMATORS, GROUP_ESTIMATORS
from ladbench.losses.registry import Loss, get_loss, loss_class

OptionValue = bool | int | float | str | None
SHORTHANDS = ("method", "divergence", "eta")


class LossConfig(BaseModel):
    """A registered loss and the options given for it (the rest take the loss's defaults)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field("lad", description="Registered loss (`ladbench losses` lists them with their options).")

    @model_validator(mode="after")
    def _check(self) -> LossConfig:
        for option, value in self.options.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise UserError(f"loss option {option}={value!r} for loss {self.name!r} must be finite")
        self.build()  # unknown loss, unknown option or bad value: UserError
        return self

    @property
    def options(self) -> dict[str, OptionValue]:
        """The options given explicitly."""
        return dict(self.model_extra or {})

    def build(self, **overrides: Any) -> Loss:
        """The loss object, with ``overrides`` (e.g. a per-run option as a tensor) replacing options."""
        return get_loss(self.name, **{**self.options, **overrides})

    def resolved(self) -> dict[str, Any]:
        """``{"name": ..., every option: its value}``, defaults filled in."""
        return {"name": self.name, **loss_class(self.name).options(), **self.options}

    def label(self) -> str:
        """Display label ("LAD-JS", "GRPO", ...), owned by the loss."""
        return self.build().label()


class TrainsALoss(BaseModel):
    """What both tracks' training configs (``BanditConfig``, ``TrainConfig``) share about the loss
    they train: its label, their resolved form, the checks of the advantage and group settings, and
    the refusal of ``logz_lr`` for a loss without log Z. Subclasses declare ``loss``,
    ``advantage``, ``group_size``, ``dynamic_sampling`` and ``logz_lr``."""

    @property
    def label(self) -> str:
        """The loss's display label (LAD-JS, GRPO, ...)."""
        return self.loss.label()

    def resolved(self) -> dict[str, Any]:
        """Every field, the loss with its full option set (defaults filled in)."""
        return {**self.model_dump(), "loss": self.loss.resolved()}

    @classmethod
    def build(cls, **fields: Any):
        """Construct, turning pydantic's report into a one-line UserError."""
        return validated(cls, fields)

    def check_groups(self, sample: str, groups_sampled: bool = True) -> None:
        """The advantage estimator is known, and a group-relative one (or dynamic sampling) has
        groups of at least two ``sample``s wherever groups are sampled."""
        if self.advantage not in ADVANTAGE_ESTIMATORS:
            raise choices_error("advantage estimator", self.advantage, ADVANTAGE_ESTIMATORS)
        if groups_sampled and self.advantage in GROUP_ESTIMATORS and self.group_size < 2:
            raise UserError(
                f"group_size {self.group_size} is too small for the {self.advantage!r} advantage; it needs at least 2"
            )
        if self.dynamic_sampling and self.group_size < 2:
            raise UserError(
                f"dynamic_sampling needs group_size >= 2 (got {self.group_size}): a group of one {sample} "
                "always has equal rewards, so every group would be dropped"
            )

    def explicitly_ignored(self, why: dict[str, str | None]) -> dict[str, str]:
        """Of ``why`` (field -> why this config never reads it, None where it does), the fields given
        explicitly (pydantic's ``model_fields_set``; defaults do not count), with ``logz_lr`` added
        for a loss that learns no log Z."""
        if "log_z" not in self.loss.build().batch_fields():
            why = {**why, "logz_lr": f"for loss {self.loss.name!r}: it learns no log Z"}
        return {field: reason for field, reason in why.items() if reason is not None and field in self.model_fields_set}


def takes_option(name: str, option: str) -> bool:
    """Whether the loss ``name`` has the option ``option``."""
    return option in loss_class(name).options()


def shorthand_option(name: str, shorthand: str) -> str | None:
    """The option of loss ``name`` that ``divergence`` or ``eta`` sets (None if the loss has none)."""
    option = loss_class(name).temperature_option if shorthand == "eta" else shorthand
    return option if option is not None and takes_option(name, option) else None


def fold_shorthands(data: Any) -> Any:
    """A config's raw input with ``method`` / ``divergence`` / ``eta`` moved into its ``loss``
    table (strictly: one run, so a shorthand its loss cannot take is an error)."""
    if not isinstance(data, dict) or not any(key in data for key in SHORTHANDS):
        return data
    data = dict(data)
    shorthands = {key: data.pop(key) for key in SHORTHANDS if key in data}
    loss = data.get("loss", {})
    loss = loss.model_dump() if isinstance(loss, LossConfig) else dict(loss)
    data["loss"], _ = apply_shorthands(loss, shorthands, strict=True)
    return data


def apply_shorthands(
    loss: dict[str, Any], shorthands: dict[str, Any], strict: bool = True
) -> tuple[dict[str, Any], set[str]]:
    """The loss table with ``method`` / ``divergence`` / ``eta`` applied, and which of them applied.

    ``strict``: a shorthand the loss cannot take is a UserError saying why (a single run);
    otherwise it is left out (a sweep grid, where it applies to the cells whose loss takes it)."""
    table = dict(loss)
    if shorthands.get("method") is not None:
        table["name"] = shorthands["method"]
    name = table.get("name", LossConfig.model_fields["name"].default)
    loss_class(name)  # unknown loss: UserError listing the valid ones
    applied = {"method"} if shorthands.get("method") is not None else set()
    for shorthand in ("divergence", "eta"):
        value = shorthands.get(shorthand)
        if value is None:
            continue
        option = shorthand_option(name, shorthand)
        if option is None:
            if strict:
                raise UserError(
                    f"{shorthand}={value!r} does nothing for loss {name!r}: it has no "
                    f"{'temperature' if shorthand == 'eta' else shorthand} option; its options: "
                    f"{', '.join(loss_class(name).options()) or '(none)'}"
                )
            continue
        if option in table and table[option] != value:
            raise UserError(
                f"{shorthand}={value!r} and loss option {option}={table[option]!r} both set "
                f"{name!r}'s {option}; set it once"
            )
        table[option] = value
        applied.add(shorthand)
    return table, applied
