"""Policy classes of the bandit families, and which family may use which.

``tabular`` is the softmax over arms of the closed-form engine; the others are network
policies trained by ``network_engine`` (``make_policy``), each with a capacity knob:
``mlp`` (contextual; hidden ``width``), ``gaussian`` / ``mdn`` (mixture of ``components``
truncated Gaussians) / ``discretised`` (``bins`` per dimension) for continuous actions,
``gru`` / ``transformer`` (hidden ``width``) for token sequences.
"""

from __future__ import annotations

from ladbench.errors import UserError

FAMILY_POLICIES = {
    "trimodal": ("tabular",),
    "unequal_modes": ("tabular",),
    "multi_correct": ("tabular",),
    "noisy": ("tabular",),
    "contextual": ("mlp",),
    "continuous": ("gaussian", "mdn", "discretised"),
    "sequence": ("gru", "transformer"),
}
POLICY_OPTIONS = {  # the config fields each policy reads (its capacity knob)
    "tabular": (),
    "mlp": ("width",),
    "gaussian": (),
    "mdn": ("components",),
    "discretised": ("bins",),
    "gru": ("width",),
    "transformer": ("width",),
}
DEFAULT = "default"
DETERMINISTIC_INIT = ("tabular", "gaussian", "discretised")  # with init_std = 0 every seed starts alike


def policy_name(env: str, policy: str) -> str:
    """The policy a config trains: ``default`` is the family's first."""
    return FAMILY_POLICIES[env][0] if policy == DEFAULT else policy


def check_policy(env: str, policy: str) -> None:
    valid = (DEFAULT, *FAMILY_POLICIES[env])
    if policy not in valid:
        raise UserError(f"unknown policy {policy!r} for env {env!r}; valid choices: {', '.join(valid)}")


def make_policy(config, env):
    """The network policy of ``config`` on ``env`` (a ``network.Policy``)."""
    from ladbench.bandit.policies.continuous import DiscretisedPolicy, GaussianPolicy, MixturePolicy
    from ladbench.bandit.policies.mlp import MLPPolicy
    from ladbench.bandit.policies.sequence import GRUPolicy, TransformerPolicy

    classes = {
        "mlp": MLPPolicy,
        "gaussian": GaussianPolicy,
        "mdn": MixturePolicy,
        "discretised": DiscretisedPolicy,
        "gru": GRUPolicy,
        "transformer": TransformerPolicy,
    }
    name = policy_name(config.env, config.policy)
    if name not in classes:
        raise UserError(f"policy {name!r} is not a network policy")
    return classes[name](env, config)
