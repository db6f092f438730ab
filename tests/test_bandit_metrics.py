"""The bandit metrics (``bandit.metrics``): their values against the textbook definitions, evaluated
elementwise, including zeros, one-hot targets, contexts and near-equal distributions."""

from __future__ import annotations

import numpy as np
import pytest

from ladbench.bandit.metrics import DISTANCES, Distribution, Scratch, distances, policy_metrics


def definitions(policy: np.ndarray, reference: np.ndarray) -> dict[str, np.ndarray]:
    """The module docstring's distances, term by term (0 log 0 = 0; inf where mass is missed)."""
    with np.errstate(divide="ignore", invalid="ignore"):

        def kl(p, q):
            return np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0).sum(axis=-1)

        midpoint = 0.5 * (policy + reference)
        return {
            "tv": 0.5 * np.abs(policy - reference).sum(axis=-1),
            "kl": kl(reference, policy),
            "rkl": kl(policy, reference),
            "js": 0.5 * kl(reference, midpoint) + 0.5 * kl(policy, midpoint),
            "hellinger": np.sqrt(0.5 * ((np.sqrt(policy) - np.sqrt(reference)) ** 2).sum(axis=-1)),
        }


def softmax(logits: np.ndarray) -> np.ndarray:
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return probs / probs.sum(axis=-1, keepdims=True)


def with_zeros(probs: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """``probs`` with about ``fraction`` of the entries set to 0, renormalised."""
    zeroed = np.where(rng.random(probs.shape) < fraction, 0.0, probs)
    zeroed[..., 0] = np.where(zeroed.sum(axis=-1) == 0, 1.0, zeroed[..., 0])  # keep every row a distribution
    return zeroed / zeroed.sum(axis=-1, keepdims=True)


def assert_matches(measured: dict[str, np.ndarray], expected: dict[str, np.ndarray], atol: float = 1e-14) -> None:
    for name in DISTANCES:
        np.testing.assert_array_equal(np.isinf(measured[name]), np.isinf(expected[name]), err_msg=name)
        finite = np.isfinite(expected[name])
        np.testing.assert_allclose(measured[name][finite], expected[name][finite], rtol=1e-12, atol=atol, err_msg=name)


def test_distances_on_known_distributions():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.25, 0.25, 0.5])
    d = distances(q, p)  # policy q, reference p
    assert d["tv"] == pytest.approx(0.5)
    assert d["kl"] == pytest.approx(np.log(2))  # KL(p || q)
    assert d["rkl"] == float("inf")  # q puts mass where p has none
    assert d["hellinger"] == pytest.approx(np.sqrt(0.5 * (2 * (np.sqrt(0.5) - 0.5) ** 2 + 0.5)))
    js = 0.5 * (0.5 * np.log(0.5 / 0.375) * 2) + 0.5 * (0.25 * np.log(0.25 / 0.375) * 2 + 0.5 * np.log(2))
    assert d["js"] == pytest.approx(js)


@pytest.mark.parametrize("zero_fraction", [0.0, 0.3], ids=["positive", "with-zeros"])
def test_distances_equal_their_definitions(zero_fraction):
    """Policies [n, R, K] against per-run targets [R, K] (some one-hot, as GRPO's) and a shared
    truth [K] with zeros: every distance, its infinities included."""
    rng = np.random.default_rng(0)
    policies = with_zeros(softmax(3 * rng.normal(size=(4, 6, 20))), rng, zero_fraction)
    targets = softmax(rng.normal(size=(6, 20)))
    targets[::3] = np.eye(20)[[4, 9]]
    truth = with_zeros(softmax(rng.normal(size=20)), rng, 0.2)
    for reference in (targets, truth, policies[0]):
        assert_matches(distances(policies, reference), definitions(policies, reference))


def test_near_equal_distributions_keep_the_definitions_precision():
    """Within 1e-6 of the reference (a converged run), the distances are as exact as the
    definitions: their errors against 64-bit-mantissa arithmetic stay at float64 rounding."""
    rng = np.random.default_rng(1)
    reference = softmax(2 * rng.normal(size=50))
    policies = softmax(np.log(reference) + 1e-6 * rng.normal(size=(100, 50)))
    exact = definitions(policies.astype(np.longdouble), reference.astype(np.longdouble))
    measured = distances(policies, reference)
    for name in DISTANCES:
        assert np.abs(measured[name] - exact[name].astype(float)).max() < 1e-15, name
    assert all((distances(reference, reference)[name] == 0).all() for name in ("tv", "kl", "rkl", "hellinger"))
    assert distances(reference, reference)["js"] < 1e-16


def test_policy_metrics_with_contexts_average_the_per_context_metrics():
    """[n, R, C, K] policies: each metric is the mean over contexts of the per-context metric;
    the other columns follow their definitions."""
    rng = np.random.default_rng(2)
    policies = softmax(rng.normal(size=(3, 4, 2, 8)))
    target, truth = softmax(rng.normal(size=(4, 2, 8))), softmax(rng.normal(size=(2, 8)))
    rewards = rng.normal(size=(2, 8))
    membership = np.eye(2)[np.arange(8) % 2]  # [K, M]: arms alternate between two modes
    masses, truth_masses = policies @ membership, truth @ membership
    metrics = policy_metrics(
        policies, Distribution.of(target), Distribution.of(truth), rewards, masses, truth_masses, contexts=True
    )
    for name, reference in (("target", target), ("truth", truth)):
        for distance, value in definitions(policies, reference).items():
            np.testing.assert_allclose(metrics[f"{distance}_{name}"], value.mean(axis=-1), rtol=1e-12, atol=1e-15)
    entropy = -(policies * np.log(policies)).sum(axis=-1).mean(axis=-1)
    np.testing.assert_allclose(metrics["entropy"], entropy, rtol=1e-12)
    np.testing.assert_allclose(metrics["max_prob"], policies.max(axis=-1).mean(axis=-1))
    np.testing.assert_allclose(metrics["expected_reward"], (policies * rewards).sum(axis=-1).mean(axis=-1))
    np.testing.assert_allclose(metrics["mass_mode_1"], masses[..., 1].mean(axis=-1))
    covered = (masses >= 0.5 * truth_masses).reshape(3, 4, -1).mean(axis=-1)
    np.testing.assert_array_equal(metrics["mode_coverage"], covered)


def test_a_kept_scratch_gives_what_a_fresh_one_gives():
    """The Scratch reused across blocks of different sizes (a smaller last block, then a larger
    one) changes no number."""
    rng = np.random.default_rng(3)
    target, truth = Distribution.of(softmax(rng.normal(size=(5, 12)))), Distribution.of(softmax(rng.normal(size=12)))
    rewards, scratch = rng.normal(size=12), Scratch()
    for logs in (4, 1, 7):
        policies = softmax(rng.normal(size=(logs, 5, 12)))
        masses = policies[..., :2]
        kept = policy_metrics(policies, target, truth, rewards, masses, masses[0, 0], scratch=scratch)
        fresh = policy_metrics(policies, target, truth, rewards, masses, masses[0, 0])
        for name, value in fresh.items():
            np.testing.assert_array_equal(kept[name], value, err_msg=name)
