"""What every bandit family shares: option parsing, validation, and mode bookkeeping.

Every family enumerates a finite *evaluation set* of N outcomes per context (arms, token
sequences, or the cells of a fine grid for continuous actions), and exposes on it

- ``rewards()``        expected reward of each outcome, [N] (tabular) or [C, N] (network families)
- ``ground_truth()``   the distribution the family is built around, same shape
- ``membership()``     [..., N, M] 0/1: outcome n belongs to mode m (rows of zeros: no mode)
- ``n_arms``           number of outcomes in policy.csv (all contexts flattened)
- ``centres``          outcome indices (flattened) marked as mode centres in recovery plots

so that every metric is exact (or, for continuous actions, exact up to the documented grid).

Validation runs before heavy imports, so these modules import torch only inside the methods
that compute: constructing a family (``__post_init__``) checks its options' types, ranges and
sizes without torch; ``validate()`` then checks what needs computing (finite rewards, placeable
optima) and is called by ``make_env`` unless told not to.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.errors import UserError
from ladbench.registry import Registry

if TYPE_CHECKING:
    import torch
    from torch import Tensor


FAMILIES: Registry[Family] = Registry("env")  # every bandit family, by name: ``@FAMILIES.register``


class Family:
    """What a registered bandit family declares besides its maths (subclasses are frozen
    dataclasses whose fields are the options, checked in ``__post_init__`` without torch):

    - ``name``: the registry key (``env = {name = ...}`` in configs, ``--env`` on the command line);
    - ``policies``: the policy classes it accepts (``bandit.policies.POLICIES``), the default first;
    - ``size_options``: the options that set the size of its evaluation set (``bandit.memory``);
    - ``default``: True for the one family a config without ``env`` trains (``default_family()``),
      the paper's; a run's title names the policy of every other family. Declared by the class
      itself: a subclass of the default family is not the default (``__init_subclass__``);
    - ``noise_draws``: the uniforms a sampled reward consumes (0: noise-free rewards), and
      ``sample_draws()``: the random numbers a sampled outcome consumes besides the one that picks
      it (``noise_draws``, or a continuous action's coordinates), by which ``bandit.memory`` sizes
      the sampled estimator's draws;
    - ``examples()``: option sets that reach its branches, which the contract tests build.
    """

    name: ClassVar[str]
    policies: ClassVar[tuple[str, ...]]
    size_options: ClassVar[tuple[str, ...]] = ()
    default: ClassVar[bool] = False
    noise_draws: ClassVar[int] = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.default = bool(vars(cls).get("default", False))  # not inherited: one family is the default

    def sample_draws(self) -> int:
        """Random numbers a sampled outcome consumes besides the one that picks it."""
        return self.noise_draws

    @classmethod
    def options(cls) -> dict[str, Any]:
        """Option names and their defaults (the dataclass fields)."""
        return {field.name: field.default for field in dataclasses.fields(cls)}

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        """Option sets that reach this family's branches (default: its defaults only)."""
        return [{}]


def default_family() -> str:
    """The family a config without ``env`` trains: the registered one that declares ``default``."""
    defaults = [name for name, cls in FAMILIES.items() if cls.default]
    if len(defaults) != 1:
        raise RuntimeError(f"exactly one registered family must declare default = True, not {defaults}")
    return defaults[0]


def parse_floats(name: str, value: str | float | tuple[float, ...] | list[float]) -> tuple[float, ...]:
    """A tuple of floats from ``"0.7,0.2,0.1"`` (how specs and the CLI pass lists), one number, or a sequence."""
    given = value
    if isinstance(value, int | float):
        value = [value]
    elif isinstance(value, str):
        try:
            value = [float(part) for part in value.split(",")]
        except ValueError:
            raise UserError(f"env option {name}: expected comma-separated numbers, got {given!r}") from None
    try:
        numbers = tuple(float(part) for part in value)
    except (TypeError, ValueError):
        raise UserError(f"env option {name}: expected comma-separated numbers, got {given!r}") from None
    if not numbers or not all(math.isfinite(number) for number in numbers):
        raise UserError(f"env option {name}: expected finite numbers, got {given!r}")
    return numbers


def parse_ints(name: str, value: str | int | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    numbers = parse_floats(name, value)
    if any(number != int(number) for number in numbers):
        raise UserError(f"env option {name}: expected integers, got {value!r}")
    return tuple(int(number) for number in numbers)


def require(condition: bool, message: str) -> None:
    """Raise a one-line UserError with ``message`` unless ``condition``."""
    if not condition:
        raise UserError(message)


def float64(dtype: torch.dtype | None) -> torch.dtype:
    """``dtype``, or float64 when None (the default of every family method taking a dtype)."""
    import torch

    return torch.float64 if dtype is None else dtype


def check_finite(name: str, values: Tensor) -> None:
    """Rewards and truths must be finite (a too-narrow mode underflows to -inf, for example)."""
    import torch

    require(
        bool(torch.isfinite(values).all()),
        f"env {name!r}: its parameters give non-finite rewards; widen the modes or reduce their separation",
    )


def mixture_log_density(points: Tensor, centres: Tensor, widths: Tensor, weights: Tensor) -> Tensor:
    """log sum_i w_i N(x; c_i, s_i^2 I) up to the common constant, points [N, d], centres [M, d].

    The 1/sqrt(2 pi)^d factor is dropped (it cancels in every normalisation); the 1/s_i^d
    factor is kept so components of different widths carry mass w_i."""
    import torch

    dim = points.shape[-1]
    squared = (points[:, None, :] - centres[None]).square().sum(dim=-1) / widths.square()
    return torch.logsumexp(weights.log() - dim * widths.log() - 0.5 * squared, dim=1)


def nearest_membership(points: Tensor, centres: Tensor) -> Tensor:
    """[N, M] one-hot membership of each point in the mode of its nearest centre."""
    import torch

    nearest = torch.cdist(points, centres).argmin(dim=1)
    return torch.nn.functional.one_hot(nearest, len(centres)).to(points.dtype)


def options_of(cls) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def checked_options(cls, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` checked against the types of ``cls``'s fields: an ``int`` field takes a whole
    number (2.0 becomes 2), a ``float`` field a finite number, a ``str`` field text; list fields
    (``tuple[...] | str``) are parsed by the family. The message names the option and the value."""
    hints = typing.get_type_hints(cls)
    checked = {}
    for name, value in options.items():
        kinds = _kinds(hints[name])
        if value is None and type(None) in kinds:
            checked[name] = value
        elif tuple in kinds:
            checked[name] = value
        elif int in kinds:
            checked[name] = _whole(name, value)
        elif float in kinds:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise UserError(f"env option {name} must be a finite number, got {value!r}")
            checked[name] = float(value)
        elif str in kinds and not isinstance(value, str):
            raise UserError(f"env option {name} must be text, got {value!r}")
        else:
            checked[name] = value
    return checked


def _kinds(hint: Any) -> set[type]:
    """The plain types a field's annotation admits (``tuple[float, ...] | str`` -> {tuple, str})."""
    arguments = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    return {typing.get_origin(argument) or argument for argument in arguments}


def _whole(name: str, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"env option {name} must be an integer, got {value!r}")
    return value
