"""Exact metrics of a bandit policy. Every column of curves.csv and summary.csv is defined here.

For a policy pi and a reference distribution p over the K arms (natural logarithms):

- ``tv``        total variation 1/2 sum_a |pi(a) - p(a)|                          in [0, 1]
- ``kl``        forward KL(p || pi) = sum_a p log(p / pi)   (mass-covering: large when pi misses mass of p)
- ``rkl``       reverse KL(pi || p) = sum_a pi log(pi / p)  (mode-seeking; infinite when pi puts mass where p has none)
- ``js``        Jensen-Shannon 1/2 KL(p || m) + 1/2 KL(pi || m), m = (p + pi)/2   in [0, log 2]
- ``hellinger`` sqrt(1/2 sum_a (sqrt(pi) - sqrt(p))^2)                           in [0, 1]

each against the method's exact target (suffix ``_target``) and the environment's ground-truth
mixture (suffix ``_truth``); and

- ``entropy``         -sum_a pi log pi
- ``max_prob``        max_a pi(a)
- ``expected_reward`` sum_a pi(a) r(a)
- ``mass_mode_i``     pi's mass on the arms of mode i (nearest centre)
- ``mode_coverage``   fraction of modes whose mass under pi is at least half of their
                      ground-truth mass (a mode counts as kept alive when pi holds >= 50% of it)

Per family (``ladbench.bandit.envs``), the distributions are over its evaluation set and a
mode is: the arms nearest a mixture centre (trimodal, unequal_modes, noisy); one correct arm
(multi_correct; incorrect arms belong to no mode); per context, the arms nearest each of that
context's centres (contextual); the grid cells nearest each mixture centre (continuous); the
sequences nearest (in Hamming distance) each optimal sequence, ties in no mode (sequence).

With contexts (policy [R, C, N]) every metric is computed per context and averaged over the C
contexts (a uniform context distribution: for tv, kl, rkl and js this equals the divergence of
the joint distributions); mass_mode_i is then the average over contexts of the i-th mode's
mass, and mode_coverage the fraction of (context, mode) pairs kept alive. For continuous
actions the distributions are the grid-cell probabilities (``envs.network.ContinuousBandit``),
so entropy is that of the cell distribution (differential entropy + log cell volume).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

DISTANCES = ("tv", "kl", "rkl", "js", "hellinger")
COVERAGE_THRESHOLD = 0.5


@dataclass(frozen=True)
class Logged:
    """A distribution [..., K] with its logarithm and square root, each computed once: every
    distance reads them (a logarithm pass costs more than the rest of a distance)."""

    probs: Tensor
    log: Tensor
    sqrt: Tensor

    @classmethod
    def of(cls, probs: Tensor) -> Logged:
        return cls(probs, probs.log(), probs.sqrt())


def _kl(p: Tensor, log_p: Tensor, log_q: Tensor) -> Tensor:
    """KL(p || q) = sum p (log p - log q) along the last axis, with 0 log 0 = 0 (inf where q
    misses mass of p): where p = 0 the term is 0 * (-inf - log q) = nan, which nansum skips."""
    return torch.nansum(p * (log_p - log_q), dim=-1)


def _distances(policy: Logged, reference: Logged) -> dict[str, Tensor]:
    p, q = policy.probs, reference.probs
    log_midpoint = (0.5 * (p + q)).log()
    return {
        "tv": 0.5 * (p - q).abs().sum(dim=-1),
        "kl": _kl(q, reference.log, policy.log),
        "rkl": _kl(p, policy.log, reference.log),
        "js": 0.5 * _kl(q, reference.log, log_midpoint) + 0.5 * _kl(p, policy.log, log_midpoint),
        "hellinger": (0.5 * (policy.sqrt - reference.sqrt).square().sum(dim=-1)).sqrt(),
    }


def distances(policy: Tensor, reference: Tensor) -> dict[str, Tensor]:
    """The five distances of the module docstring, [..., K] -> [...]."""
    return _distances(Logged.of(policy), Logged.of(reference))


def entropy(policy: Tensor) -> Tensor:
    return -torch.xlogy(policy, policy).sum(dim=-1)


def policy_metrics(
    policy: Tensor,
    target: Tensor | Logged,
    truth: Tensor | Logged,
    rewards: Tensor,
    mode_masses: Tensor,
    truth_mode_masses: Tensor,
    contexts: bool = False,
) -> dict[str, Tensor]:
    """All metrics, each [...]: policies [..., K] (leading axes: runs, or kept logs and runs),
    target broadcasting against them, truth and rewards [K], mode masses [..., M] and [M]. With
    ``contexts`` the policies are [..., C, K], truth and rewards [C, K], mode masses [..., C, M]
    and [C, M], and every metric is averaged over the contexts. ``target`` and ``truth`` may come
    as ``Logged`` (a caller measuring many policies against them logs them once)."""
    per_run = (lambda value: value.mean(dim=-1)) if contexts else (lambda value: value)
    logged = Logged.of(policy)
    references = {
        name: reference if isinstance(reference, Logged) else Logged.of(reference)
        for name, reference in (("target", target), ("truth", truth))
    }
    metrics = {
        f"{distance}_{name}": per_run(value)
        for name, reference in references.items()
        for distance, value in _distances(logged, reference).items()
    }
    metrics["entropy"] = per_run(-torch.nansum(policy * logged.log, dim=-1))
    metrics["max_prob"] = per_run(policy.max(dim=-1).values)
    metrics["expected_reward"] = per_run((policy * rewards).sum(dim=-1))
    for mode in range(mode_masses.shape[-1]):
        metrics[f"mass_mode_{mode}"] = per_run(mode_masses[..., mode])
    covered = (mode_masses >= COVERAGE_THRESHOLD * truth_mode_masses).to(policy.dtype)
    metrics["mode_coverage"] = covered.flatten(start_dim=-2 if contexts else -1).mean(dim=-1)
    return metrics
