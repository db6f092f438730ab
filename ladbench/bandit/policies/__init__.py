"""The registry of bandit policy classes (``POLICIES``), and which family may use which.

Each policy is a registered class declaring its facts, importable without torch: the config
fields it reads (its capacity knob), whether every seed starts alike with ``init_std = 0``, where
its network lives (built by ``make_policy`` for ``network_engine``) and how much memory it takes
(``bandit.memory``). Which family accepts which policy is the family's fact (``Family.policies``).
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

from ladbench.bandit.envs import FAMILIES
from ladbench.errors import UserError
from ladbench.registry import Registry

DEFAULT = "default"
KNOBS = ("width", "components", "bins")  # the BanditConfig fields that set a policy's capacity


class Policy:
    """A policy class as the registry knows it.

    - ``name``: the registry key (``policy = {name = ...}``, ``--policy``);
    - ``options``: the config fields it reads (its capacity knob; defaults and checks on
      ``BanditConfig``);
    - ``deterministic_init``: with ``init_std = 0`` every seed starts from the same policy;
    - ``network``: ``"module:Class"`` of its ``network.Policy`` (None: the tabular engine's softmax);
    - ``activations`` / ``parameters``: numbers it keeps per run (``bandit.memory``);
    - ``examples()``: option sets the contract tests build it with.
    """

    name: ClassVar[str]
    options: ClassVar[tuple[str, ...]] = ()
    deterministic_init: ClassVar[bool] = False
    network: ClassVar[str | None] = None

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{}, *({option: 2} for option in cls.options)]

    @staticmethod
    def activations(capacity: int, env) -> int:
        """Numbers one policy computes on the way to its log-probabilities of the evaluation set."""
        return 0

    @staticmethod
    def parameters(capacity: int, env) -> int:
        """Parameters of one policy."""
        return 0

    @classmethod
    def build(cls, env, config):
        """The ``network.Policy`` of ``config`` on ``env`` (imports torch)."""
        if cls.network is None:
            raise UserError(f"policy {cls.name!r} is not a network policy")
        module, name = cls.network.split(":")
        return getattr(importlib.import_module(module), name)(env, config)


POLICIES: Registry[Policy] = Registry("policy")


@POLICIES.register
class Tabular(Policy):
    """Softmax over arms, trained by the closed-form tabular engine."""

    name = "tabular"
    deterministic_init = True


@POLICIES.register
class MLP(Policy):
    """An MLP of hidden ``width`` over context embeddings (contextual)."""

    name = "mlp"
    options = ("width",)
    network = "ladbench.bandit.policies.mlp:MLPPolicy"

    @staticmethod
    def activations(capacity: int, env) -> int:
        return 4 * env.n_contexts * capacity  # 4 per hidden unit per context

    @staticmethod
    def parameters(capacity: int, env) -> int:
        arms = env.n_arms // env.n_contexts
        return capacity * (env.embed_dim + arms + 1) + arms  # W (E + arms + 1) + arms


class _Truncated(Policy):
    @staticmethod
    def activations(capacity: int, env) -> int:
        # 12 per component per dimension per cell: the truncated normals and autograd's intermediates
        return 12 * env.n_arms * capacity * env.dim


@POLICIES.register
class Gaussian(_Truncated):
    """One truncated Gaussian over continuous actions."""

    name = "gaussian"
    deterministic_init = True
    network = "ladbench.bandit.policies.continuous:GaussianPolicy"

    @staticmethod
    def parameters(capacity: int, env) -> int:
        return 0


@POLICIES.register
class MDN(_Truncated):
    """A mixture of ``components`` truncated Gaussians."""

    name = "mdn"
    options = ("components",)
    network = "ladbench.bandit.policies.continuous:MixturePolicy"

    @staticmethod
    def parameters(capacity: int, env) -> int:
        return capacity * (1 + 2 * env.dim)  # 3 numbers per component per dimension


@POLICIES.register
class Discretised(Policy):
    """``bins`` cells per dimension, uniform within a cell."""

    name = "discretised"
    options = ("bins",)
    deterministic_init = True
    network = "ladbench.bandit.policies.continuous:DiscretisedPolicy"

    @staticmethod
    def parameters(capacity: int, env) -> int:
        return capacity**env.dim


class _Autoregressive(Policy):
    options = ("width",)

    @staticmethod
    def activations(capacity: int, env) -> int:
        prefixes = (env.vocab**env.length - 1) // (env.vocab - 1)  # sum of V^t over t < L
        return 4 * prefixes * capacity  # 4 per hidden unit per distinct prefix

    @staticmethod
    def parameters(capacity: int, env) -> int:
        return 8 * capacity**2 + capacity * (env.vocab + 64)


@POLICIES.register
class GRU(_Autoregressive):
    """A GRU of hidden ``width`` over token prefixes (sequence)."""

    name = "gru"
    network = "ladbench.bandit.policies.sequence:GRUPolicy"


@POLICIES.register
class Transformer(_Autoregressive):
    """A causal transformer of hidden ``width`` over token prefixes (sequence)."""

    name = "transformer"
    network = "ladbench.bandit.policies.sequence:TransformerPolicy"


def policy_name(env: str, policy: str) -> str:
    """The policy a config trains: ``default`` is the family's first."""
    return FAMILIES[env].policies[0] if policy == DEFAULT else policy


def policy_class(env: str, policy: str) -> type[Policy]:
    """The registered policy a config trains (``default`` resolved)."""
    return POLICIES[policy_name(env, policy)]


def check_policy(env: str, policy: str) -> None:
    valid = (DEFAULT, *FAMILIES[env].policies)
    if policy not in valid:
        raise UserError(f"unknown policy {policy!r} for env {env!r}; valid choices: {', '.join(valid)}")


def make_policy(config, env):
    """The network policy of ``config`` on ``env`` (a ``network.Policy``)."""
    return policy_class(config.env, config.policy).build(env, config)
