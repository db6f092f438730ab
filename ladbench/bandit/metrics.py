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

How they are evaluated (numpy, float64): about 200 logged policies of each of 490 runs are
measured per run of the fdiv sweep, on the engine's clock (``benchmarks/bandit_speed.py``).
Each distribution's log and square root are taken once, and every sum over arms is a dot
product:

    KL(p || pi) = sum p (log p - log pi)               (the logs subtracted first: near pi = p
    JS(pi, p)   = 1/2 sum pi (log pi - log s)            the sum adds small terms, as precise as
                + 1/2 sum p (log p - log s) + log 2      the definitions, about 1e-16)
                  with s = pi + p = 2m

Zeros follow 0 log 0 = 0: a zero's log is taken as 0 (every use multiplies it by that zero),
and a KL is inf where its first argument has mass that its second lacks. numpy is used because
torch's float64 log (MKL's, on the AMD CPUs measured) is 3-4x slower per element; the
elementwise passes write into a ``Scratch`` that the measurer keeps (see there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

DISTANCES = ("tv", "kl", "rkl", "js", "hellinger")
COVERAGE_THRESHOLD = 0.5


class Scratch:
    """The four arrays that policy_metrics' elementwise passes write into, kept between calls.

    A block of logged policies (megabytes: ``loop.METRIC_BLOCK``) needs the same temporaries
    every time; allocated afresh, each costs more in page faults than in arithmetic, because glibc
    hands freed megabytes back to the system. A caller measuring many blocks keeps one Scratch."""

    COUNT = 4

    def __init__(self) -> None:
        self._flat = np.empty((self.COUNT, 0))

    def arrays(self, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        size = math.prod(shape)
        if self._flat.shape[1] < size:
            self._flat = np.empty((self.COUNT, size))
        return tuple(row[:size].reshape(shape) for row in self._flat)


def _log0(probs: np.ndarray, out: np.ndarray, positive: bool | None = None) -> np.ndarray:
    """log p where p > 0 and 0 where p = 0 (0 log 0 = 0 for every product with p), into ``out``;
    ``positive``: whether p > 0 everywhere, if the caller knows."""
    if probs.all() if positive is None else positive:  # usual: softmax policies are positive unless one underflows
        return np.log(probs, out=out)
    out.fill(0.0)
    return np.log(probs, out=out, where=probs > 0)


def _sum(values: np.ndarray) -> np.ndarray:
    """Sum over the last axis (as a matrix-vector product: numpy's reduction over a short last
    axis pays a per-row overhead)."""
    return values @ np.ones(values.shape[-1])


@dataclass(frozen=True)
class Distribution:
    """A distribution [..., K] with what every distance reads from it, each computed once:
    ``log0`` (``_log0``), ``sqrt``, ``neg_entropy`` sum p log p and ``mass`` sum p [...], and
    ``zeros`` (1.0 where p = 0; None when p has no zero) for the infinite KLs."""

    probs: np.ndarray
    log0: np.ndarray
    sqrt: np.ndarray
    neg_entropy: np.ndarray
    mass: np.ndarray
    zeros: np.ndarray | None

    @classmethod
    def of(
        cls, probs: np.ndarray, log_out: np.ndarray | None = None, sqrt_out: np.ndarray | None = None
    ) -> Distribution:
        """``log_out`` and ``sqrt_out``: where to write the log and the square root (new arrays if None)."""
        positive = bool(probs.all())
        log0 = _log0(probs, np.empty_like(probs) if log_out is None else log_out, positive)
        zeros = None if positive else (probs == 0).astype(probs.dtype)
        return cls(probs, log0, np.sqrt(probs, out=sqrt_out), np.vecdot(probs, log0), _sum(probs), zeros)


def _cross(p: Distribution, log_q: np.ndarray, work: np.ndarray) -> np.ndarray:
    """sum p (log p - log q), the logs subtracted first (into ``work``)."""
    return np.vecdot(p.probs, np.subtract(p.log0, log_q, out=work))


def _kl(p: Distribution, q: Distribution, work: np.ndarray) -> np.ndarray:
    """KL(p || q); inf where q misses mass of p."""
    value = np.maximum(_cross(p, q.log0, work), 0.0)  # rounding may leave -1e-17
    if q.zeros is None:
        return value
    return np.where(np.vecdot(p.probs, q.zeros) > 0, np.inf, value)


def _distances(
    policy: Distribution, reference: Distribution, work: np.ndarray, log_work: np.ndarray
) -> dict[str, np.ndarray]:
    """The five distances of ``policy`` to ``reference`` (broadcasting against it); ``work`` and
    ``log_work``: scratch arrays shaped like the policy."""
    p, q = policy.probs, reference.probs
    tv = 0.5 * _sum(np.abs(np.subtract(p, q, out=work), out=work))
    sqrt_difference = np.subtract(policy.sqrt, reference.sqrt, out=work)
    hellinger = np.sqrt(0.5 * np.vecdot(sqrt_difference, sqrt_difference))
    total = np.add(p, q, out=work)
    log_total = _log0(total, log_work, positive=True if policy.zeros is None else None)
    # log m = log s - log 2: each cross term sum p (log p - log s) then gains log 2 sum p
    js = 0.5 * (
        _cross(policy, log_total, work)
        + _cross(reference, log_total, work)
        + math.log(2.0) * (policy.mass + reference.mass)
    )
    return {
        "tv": tv,
        "kl": _kl(reference, policy, work),
        "rkl": _kl(policy, reference, work),
        "js": np.maximum(js, 0.0),
        "hellinger": hellinger,
    }


def distances(policy: np.ndarray, reference: np.ndarray) -> dict[str, np.ndarray]:
    """The five distances of the module docstring, [..., K] -> [...] (the reference broadcasting
    against the policy)."""
    log_p, sqrt_p, work, log_work = Scratch().arrays(policy.shape)
    return _distances(Distribution.of(policy, log_p, sqrt_p), Distribution.of(reference), work, log_work)


def entropy(policy: Tensor) -> Tensor:
    """-sum_a pi log pi along the last axis: the engines' training-step entropy (torch, on the
    step's own tensors)."""
    return -torch.xlogy(policy, policy).sum(dim=-1)


def policy_metrics(
    policy: np.ndarray,
    target: Distribution,
    truth: Distribution,
    rewards: np.ndarray,
    mode_masses: np.ndarray,
    truth_mode_masses: np.ndarray,
    contexts: bool = False,
    scratch: Scratch | None = None,
) -> dict[str, np.ndarray]:
    """All metrics, each [...]: policies [..., K] (leading axes: runs, or kept logs and runs),
    target broadcasting against them, truth and rewards [K], mode masses [..., M] and [M]. With
    ``contexts`` the policies are [..., C, K], truth and rewards [C, K], mode masses [..., C, M]
    and [C, M], and every metric is averaged over the contexts. ``target`` and ``truth`` come
    as ``Distribution`` (a caller measuring many policies against them prepares them once), and
    a caller measuring many blocks passes its ``scratch``."""
    per_run = (lambda value: value.mean(axis=-1)) if contexts else (lambda value: value)
    log_p, sqrt_p, work, log_work = (scratch or Scratch()).arrays(policy.shape)
    measured = Distribution.of(policy, log_p, sqrt_p)
    metrics = {
        f"{distance}_{name}": per_run(value)
        for name, reference in (("target", target), ("truth", truth))
        for distance, value in _distances(measured, reference, work, log_work).items()
    }
    metrics["entropy"] = per_run(-measured.neg_entropy)
    # torch's reduction: numpy's over a short last axis pays a per-row overhead (5x slower)
    metrics["max_prob"] = per_run(torch.from_numpy(policy).amax(dim=-1).numpy())
    metrics["expected_reward"] = per_run(np.vecdot(policy, rewards))
    for mode in range(mode_masses.shape[-1]):
        metrics[f"mass_mode_{mode}"] = per_run(mode_masses[..., mode])
    covered = (mode_masses >= COVERAGE_THRESHOLD * truth_mode_masses).astype(policy.dtype)
    metrics["mode_coverage"] = covered.reshape(*covered.shape[: -2 if contexts else -1], -1).mean(axis=-1)
    return metrics
