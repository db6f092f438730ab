"""The registry of bandit families (``FAMILIES``) and ``build_env``, which turns a config into an
environment.

Tabular families (``TabularEnv``) train on the fast closed-form engine, network families
(``NetworkEnv``) on the batched autograd engine; ``FAMILIES.names()`` lists them all (docs/families.md).
"""

from __future__ import annotations

from typing import Any

from ladbench.bandit.envs.base import FAMILIES, Family, checked_options, default_family, options_of
from ladbench.bandit.envs.tabular import TabularEnv, TrimodalBandit

# isort: split
from ladbench.bandit.envs.network import NetworkEnv
from ladbench.errors import UserError


def make_env(name: str, options: dict[str, Any] | None = None, compute_checks: bool = True) -> TabularEnv | NetworkEnv:
    """The family ``name`` with ``options`` (its dataclass fields); bad options are a UserError.

    Constructing checks names, types, ranges and sizes without torch; ``compute_checks`` also runs
    the family's ``validate()`` (non-finite rewards, optima that cannot be placed), which computes
    on the whole evaluation set: config validation leaves it out so that it stays torch-free and
    a too-large family is refused (``bandit.memory``) before anything that size is allocated."""
    cls = FAMILIES[name]  # unknown name: UserError listing the families
    options = dict(options or {})
    unknown = sorted(set(options) - set(options_of(cls)))
    if unknown:
        raise UserError(
            f"unknown env option {unknown[0]!r} for env {name!r}; valid options: {', '.join(options_of(cls))}"
        )
    env = cls(**checked_options(cls, options))
    if compute_checks:
        env.validate()
    return env


def build_env(config) -> TabularEnv | NetworkEnv:
    """The environment of a ``BanditConfig``, checked (``make_env``)."""
    return make_env(config.env, config.env_options)


__all__ = [
    "FAMILIES",
    "Family",
    "NetworkEnv",
    "TabularEnv",
    "TrimodalBandit",
    "build_env",
    "default_family",
    "make_env",
]
