"""Tabular bandit families: exact targets against brute force, the engine against autograd, and
where each method ends on unequal_modes, multi_correct and noisy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ladbench.bandit.autograd_loop import train_one_seed
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import RunSettings, runs_of, train
from ladbench.bandit.envs import make_env
from ladbench.bandit.targets import method_target
from ladbench.errors import UserError
from ladbench.losses import get_loss


def final(config: BanditConfig, seeds=(0,)) -> dict[str, np.ndarray]:
    output = train(config, runs_of(config, seeds))
    return {name: values[-1] for name, values in output.curves.items()}


@pytest.mark.parametrize("weights", [(0.7, 0.2, 0.1), (0.9, 0.08, 0.02)])
def test_unequal_modes_truth_has_the_requested_mode_masses_and_is_lads_target(weights):
    env = make_env("unequal_modes", {"weights": ",".join(map(str, weights))})
    truth = env.ground_truth()
    np.testing.assert_allclose(env.mode_masses(truth).numpy(), weights, atol=0.005)
    uniform = torch.full((env.n_arms,), 1.0 / env.n_arms, dtype=torch.float64)
    torch.testing.assert_close(method_target(get_loss("lad"), "dr_grpo", env.rewards(), uniform), truth)


def test_multi_correct_targets_against_brute_force():
    env = make_env("multi_correct")
    base = [math.exp(-arm / env.base_temperature) for arm in range(env.n_arms)]
    base = [value / sum(base) for value in base]
    rewards = [1.0 if arm in env.correct else 0.0 for arm in range(env.n_arms)]
    filtered = [b * r for b, r in zip(base, rewards, strict=True)]
    np.testing.assert_allclose(env.ground_truth().numpy(), [value / sum(filtered) for value in filtered], rtol=1e-12)
    mean_reward = sum(b * r for b, r in zip(base, rewards, strict=True))
    for method, eta, expected in [
        ("lad", 0.25, [b * math.exp((r - mean_reward) / 0.25) for b, r in zip(base, rewards, strict=True)]),
        ("entropy_pg", 0.25, [math.exp((r - mean_reward) / 0.25) for r in rewards]),  # ignores pi_base
        (
            "flowrl",
            0.25,
            [b * math.exp(15 * (r - mean_reward)) for b, r in zip(base, rewards, strict=True)],
        ),  # pi_ref = pi_base
        ("grpo", 0.25, rewards),
    ]:
        loss = get_loss(method, **{option: eta for option in [get_loss(method).temperature_option] if option})
        behaviour = torch.softmax(env.base_logits(), 0)[None]
        target = method_target(loss, "dr_grpo", env.rewards(), behaviour, ref_probs=behaviour[0])
        np.testing.assert_allclose(
            target[0].numpy(), [value / sum(expected) for value in expected], rtol=1e-10, err_msg=method
        )


@pytest.mark.parametrize("noise", ["gaussian", "bernoulli"])
def test_noise_is_zero_mean_with_std_level(noise):
    env = make_env("noisy", {"noise": noise, "level": 0.5})
    expected = torch.full((200_000,), -2.0, dtype=torch.float64)
    observed = env.observe(
        expected, torch.rand(200_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    )
    assert abs(observed.mean().item() + 2.0) < 0.005
    assert observed.std().item() == pytest.approx(0.5, rel=0.01)
    torch.testing.assert_close(env.rewards(), make_env("trimodal").rewards())  # targets are on expected rewards


EQUIVALENCE = [
    {"env": "multi_correct", "method": "flowrl"},
    {"env": "multi_correct", "estimator": "sampled", "protocol": "refresh", "refresh_interval": 2, "inner_epochs": 3},
    {
        "env": "noisy",
        "estimator": "sampled",
        "env_options": {"noise": "bernoulli", "level": 0.3},
        "method": "grpo",
        "inner_epochs": 2,
    },
    {"env": "unequal_modes", "method": "entropy_pg", "init_std": 0.5, "inner_epochs": 2, "protocol": "refresh"},
]


@pytest.mark.parametrize("fields", EQUIVALENCE)
def test_batched_engine_equals_per_seed_autograd_on_the_new_families(fields):
    config = BanditConfig.build(steps=60, log_interval=30, **fields)
    options = runs_of(config, [0])[0].loss_options  # the loss's per-run options (LAD's eta, entropy_pg's coef)
    runs = [RunSettings(0, 5e-3, options), RunSettings(1, 1e-2, {name: 2 * value for name, value in options.items()})]
    batched = train(config, runs)
    for index, run in enumerate(runs):
        policy, _ = train_one_seed(config, run)
        np.testing.assert_allclose(batched.final_policy[index], policy, rtol=1e-9, atol=1e-12)


def test_inner_epochs_on_a_fixed_exact_batch_equal_more_steps():
    """Exact estimator, fixed pi_old: every step's batch is the same, so E epochs of S steps
    are the updates of E * S single-epoch steps."""
    epochs = train(
        BanditConfig.build(env="unequal_modes", steps=100, inner_epochs=3), [RunSettings(0, 5e-3, {"eta": 1.0})]
    )
    steps = train(BanditConfig.build(env="unequal_modes", steps=300), [RunSettings(0, 5e-3, {"eta": 1.0})])
    np.testing.assert_allclose(epochs.final_policy, steps.final_policy, rtol=1e-12)


def test_lad_keeps_the_minor_mode_that_on_policy_grpo_drops():
    harder = {"env": "unequal_modes", "env_options": {"weights": "0.9,0.08,0.02"}}
    lad = final(BanditConfig.build(**harder))
    assert lad["tv_target"][0] < 0.01 and lad["mode_coverage"][0] == 1.0
    assert lad["mass_mode_2"][0] == pytest.approx(0.02, abs=0.005)
    grpo = final(BanditConfig.build(method="grpo", protocol="refresh", steps=1000, **harder))
    assert grpo["mass_mode_0"][0] > 0.9 and grpo["mode_coverage"][0] == pytest.approx(1 / 3)


def correct_proportions(metrics: dict[str, np.ndarray]) -> np.ndarray:
    masses = np.stack([metrics[f"mass_mode_{mode}"] for mode in range(4)], axis=-1)
    return masses / masses.sum(axis=-1, keepdims=True)


def test_multi_correct_who_keeps_the_base_proportions():
    """Exact expectations: LAD (fixed pi_old) reaches its target, whose correct arms are in pi_base's
    proportions; so does on-policy GRPO, because correct arms share one advantage and the exact
    gradient is neutral between them. Sampling breaks the tie: with pi_old refreshed every step,
    sampled GRPO and sampled LAD alike drift onto one correct arm (neutral drift)."""
    env = make_env("multi_correct")
    base = torch.softmax(env.base_logits(), 0)[list(env.correct)]
    proportions = (base / base.sum()).numpy()
    lad = final(BanditConfig.build(env="multi_correct", eta=0.25, lr=2e-2, steps=1500))
    assert lad["tv_target"][0] < 0.01 and lad["mode_coverage"][0] == 1.0
    np.testing.assert_allclose(correct_proportions(lad)[0], proportions, atol=0.01)
    grpo_exact = final(BanditConfig.build(env="multi_correct", method="grpo", protocol="refresh", lr=2e-2, steps=1500))
    np.testing.assert_allclose(correct_proportions(grpo_exact)[0], proportions, atol=0.01)
    for method in ("grpo", "lad"):
        sampled = final(
            BanditConfig.build(
                env="multi_correct",
                loss={"name": method, **({"eta": 0.25} if method == "lad" else {})},
                estimator="sampled",
                protocol="refresh",
                lr=2e-2,
                steps=2000,
            ),
            seeds=(0, 1),
        )
        assert (sampled["max_prob"] > 0.9).all() and (sampled["mode_coverage"] == 0.25).all(), method


def test_noisy_rewards_sampled_lad_still_approaches_the_noise_free_target():
    metrics = final(
        BanditConfig.build(env="noisy", estimator="sampled", env_options={"level": 0.5}, steps=2000), seeds=(0, 1)
    )
    assert (metrics["tv_target"] < 0.15).all() and (metrics["mode_coverage"] == 1.0).all()


@pytest.mark.parametrize(
    "env,options,message",
    [
        ("unequal_modes", {"weights": "0.7,0.2"}, "same length"),
        ("unequal_modes", {"weights": "0.7,nan,0.1"}, "finite"),
        ("multi_correct", {"correct": "1,40"}, "distinct arms in 0..19"),
        ("noisy", {"level": -1.0}, "level must be finite and >= 0"),
        ("noisy", {"level": float("inf")}, "level must be a finite number, got inf"),
        ("trimodal", {"arms": 3}, "unknown env option 'arms'"),
    ],
)
def test_bad_family_parameters_are_one_line_user_errors(env, options, message):
    with pytest.raises(UserError, match=message) as error:
        BanditConfig.build(env=env, env_options=options)
    assert "\n" not in str(error.value)
