"""The registry of bandit policy classes (``POLICIES``), and which family may use which.

Each policy is a registered class declaring its facts, importable without torch: its options (each
a :class:`PolicyOption` with its default, lower bound and description; ``BanditConfig`` makes one
field and one ``--flag`` of each), whether every seed starts alike with ``init_std = 0``, where
its network lives (built by ``make_policy`` for ``network_engine``) and how much memory it takes
(``bandit.memory``). Which family accepts which policy is the family's fact (``Family.policies``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

from ladbench.bandit.envs import FAMILIES
from ladbench.errors import UserError
from ladbench.registry import Registry

DEFAULT = "default"


@dataclass(frozen=True)
class PolicyOption:
    """One option of a policy class (its capacity): ``policy = {name = "mlp", width = 64}``, or
    ``width = 64`` / ``--width 64`` beside ``policy``. Policies that share an option share the
    declaration (one default, bound and description per name)."""

    name: str
    default: int
    minimum: int
    description: str


WIDTH = PolicyOption("width", 32, 1, "Hidden width of a network policy")
COMPONENTS = PolicyOption("components", 3, 1, "Components of the mixture-density policy")
BINS = PolicyOption("bins", 16, 2, "Cells per dimension of the discretised policy")


class Policy:
    """A policy class as the registry knows it.

    - ``name``: the registry key (``policy = {name = ...}``, ``--policy``);
    - ``options``: the options it reads (:class:`PolicyOption`; its capacity);
    - ``deterministic_init``: with ``init_std = 0`` every seed starts from the same policy;
    - ``network``: ``"module:Class"`` of its ``network.Policy`` (None: the tabular engine's softmax);
    - ``activations`` / ``parameters``: numbers it keeps per run (``bandit.memory``), given its
      options' values (``settings``: option name -> value);
    - ``examples()``: option sets the contract tests build it with.
    """

    name: ClassVar[str]
    options: ClassVar[tuple[PolicyOption, ...]] = ()
    deterministic_init: ClassVar[bool] = False
    network: ClassVar[str | None] = None

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(option.name for option in cls.options)

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [{}, *({option.name: max(2, option.minimum)} for option in cls.options)]

    @staticmethod
    def activations(settings: dict[str, int], env) -> int:
        """Numbers one policy computes on the way to its log-probabilities of the evaluation set."""
        return 0

    @staticmethod
    def parameters(settings: dict[str, int], env) -> int:
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
    options = (WIDTH,)
    network = "ladbench.bandit.policies.mlp:MLPPolicy"

    @staticmethod
    def activations(settings: dict[str, int], env) -> int:
        return 4 * env.n_contexts * settings["width"]  # 4 per hidden unit per context

    @staticmethod
    def parameters(settings: dict[str, int], env) -> int:
        arms = env.n_arms // env.n_contexts
        return settings["width"] * (env.embed_dim + arms + 1) + arms  # W (E + arms + 1) + arms


class _Truncated(Policy):
    @staticmethod
    def activations(settings: dict[str, int], env) -> int:
        # 12 per component per dimension per cell: the truncated normals and autograd's intermediates
        return 12 * env.n_arms * settings.get("components", 1) * env.dim  # the Gaussian: one component


@POLICIES.register
class Gaussian(_Truncated):
    """One truncated Gaussian over continuous actions."""

    name = "gaussian"
    deterministic_init = True
    network = "ladbench.bandit.policies.continuous:GaussianPolicy"  # no parameters of its own to count


@POLICIES.register
class MDN(_Truncated):
    """A mixture of ``components`` truncated Gaussians."""

    name = "mdn"
    options = (COMPONENTS,)
    network = "ladbench.bandit.policies.continuous:MixturePolicy"

    @staticmethod
    def parameters(settings: dict[str, int], env) -> int:
        return settings["components"] * (1 + 2 * env.dim)  # 3 numbers per component per dimension


@POLICIES.register
class Discretised(Policy):
    """``bins`` cells per dimension, uniform within a cell."""

    name = "discretised"
    options = (BINS,)
    deterministic_init = True
    network = "ladbench.bandit.policies.continuous:DiscretisedPolicy"

    @staticmethod
    def parameters(settings: dict[str, int], env) -> int:
        return settings["bins"] ** env.dim


class _Autoregressive(Policy):
    options = (WIDTH,)

    @staticmethod
    def activations(settings: dict[str, int], env) -> int:
        prefixes = (env.vocab**env.length - 1) // (env.vocab - 1)  # sum of V^t over t < L
        return 4 * prefixes * settings["width"]  # 4 per hidden unit per distinct prefix

    @staticmethod
    def parameters(settings: dict[str, int], env) -> int:
        width = settings["width"]
        return 8 * width**2 + width * (env.vocab + 64)


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


def policy_options() -> dict[str, PolicyOption]:
    """Every registered policy's options, by name (a ``BanditConfig`` field each); two policies
    that read one name must share its declaration."""
    options: dict[str, PolicyOption] = {}
    for policy in POLICIES.values():
        for option in policy.options:
            if options.setdefault(option.name, option) != option:
                raise RuntimeError(f"policy option {option.name!r} declared twice, differently ({policy.name})")
    return options


def readers(option: str) -> tuple[str, ...]:
    """The registered policies that read ``option``."""
    return tuple(name for name, policy in POLICIES.items() if option in policy.option_names())


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
