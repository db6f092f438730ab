"""The baseline losses (clip_cov, kl_cov, entropy_adv, gspo, dppo, f_tb, alpha_dpg) in the bandit
track: the batched engine against the per-seed autograd reference, runs independent of their
batch-mates, where each ends on the paper bandit, and DAPO's dynamic sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from bandit_helpers import assert_engine_equals_autograd

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import RunSettings, runs_of, train
from ladbench.bandit.loop import drop_equal_reward_groups
from ladbench.bandit.optim import Adam
from ladbench.errors import UserError

ALPHA_DPG = {"name": "alpha_dpg", "threshold": -1.0}  # the trimodal bandit's 15 arms within a factor e of the best

EQUIVALENCE = [
    {"loss": {"name": "clip_cov", "ratio": 0.1, "cov_low": 0.0, "cov_high": 10.0}, "init_std": 1.0},
    {
        "loss": {"name": "clip_cov", "ratio": 0.3, "cov_low": -5.0, "cov_high": 5.0},
        "estimator": "sampled",
        "protocol": "refresh",
        "refresh_interval": 3,
        "init_std": 1.0,
    },
    {"loss": {"name": "kl_cov", "ratio": 0.1}, "inner_epochs": 2, "init_std": 1.0},
    {"loss": {"name": "entropy_adv", "alpha": 2.0}, "estimator": "sampled", "inner_epochs": 2},
    {"loss": {"name": "gspo", "eps_low": 0.1, "eps_high": 0.1}, "protocol": "refresh", "refresh_interval": 4},
    {"loss": {"name": "dppo", "delta_high": 0.03}, "inner_epochs": 3, "init_std": 0.5},
    {"loss": {"name": "f_tb", "divergence": "js"}, "protocol": "refresh"},
    {"loss": {"name": "f_tb"}, "estimator": "sampled", "advantage": "grpo"},
    {"loss": ALPHA_DPG, "estimator": "sampled", "protocol": "refresh"},
    {"loss": {"name": "alpha_dpg", "alpha": 0.0}, "env": "multi_correct"},
    {
        "loss": {"name": "grpo"},
        "env": "multi_correct",
        "estimator": "sampled",
        "group_size": 3,
        "dynamic_sampling": True,
    },
    {
        "loss": {"name": "f_tb"},
        "env": "multi_correct",
        "estimator": "sampled",
        "group_size": 2,
        "dynamic_sampling": True,
        "protocol": "refresh",
    },
]


@pytest.mark.parametrize("fields", EQUIVALENCE)
def test_batched_engine_equals_per_seed_autograd(fields):
    """Closed-form gradients (with the runs stacked, their batch statistics per run, their
    uniforms from their own generators, dynamic sampling's skipped Adam steps) reproduce
    autograd and torch.optim.Adam run by run."""
    assert_engine_equals_autograd(fields, "tv_truth")


@pytest.mark.parametrize(
    "fields",
    [
        {"loss": {"name": "clip_cov", "ratio": 0.2, "cov_low": -5.0, "cov_high": 5.0}, "init_std": 1.0},
        {"loss": {"name": "kl_cov", "ratio": 0.2}, "estimator": "sampled", "inner_epochs": 2},
        {"loss": {"name": "f_tb", "eta": 1.0}, "estimator": "sampled"},
        {
            "loss": {"name": "grpo"},
            "env": "multi_correct",
            "estimator": "sampled",
            "group_size": 3,
            "dynamic_sampling": True,
        },
    ],
)
def test_a_run_does_not_depend_on_its_batch_mates(fields):
    config = BanditConfig.build(steps=300, **fields)
    options = runs_of(config, [0])[0].loss_options
    alone = train(config, [RunSettings(7, 5e-3, options)])
    together = train(
        config, [RunSettings(3, 1e-2, options), RunSettings(5, 1e-3, options), RunSettings(7, 5e-3, options)]
    )
    np.testing.assert_allclose(alone.final_policy[0], together.final_policy[2], rtol=0, atol=1e-12)
    assert not np.allclose(together.final_policy[0], together.final_policy[2])


def final(config: BanditConfig, seeds=(0,)) -> dict[str, np.ndarray]:
    output = train(config, runs_of(config, seeds))
    return {name: values[-1] for name, values in output.curves.items()}


@pytest.mark.parametrize("protocol", ["fixed", "refresh"])
def test_f_tb_and_alpha_dpg_reach_their_targets_whether_or_not_pi_old_follows(protocol):
    """Paper bandit, exact estimator, 4000 steps: their targets are anchored to pi_ref / pi_base,
    not to pi_old, so refreshing pi_old every step does not move them. f-TB at eta = 1 with a
    uniform pi_ref targets the ground-truth mixture itself."""
    f_tb = final(BanditConfig.build(loss={"name": "f_tb", "eta": 1.0}, protocol=protocol))
    assert f_tb["tv_target"][0] < 0.01 and f_tb["tv_truth"][0] < 0.01 and f_tb["mode_coverage"][0] == 1.0
    alpha_dpg = final(BanditConfig.build(loss=ALPHA_DPG, protocol=protocol))
    assert alpha_dpg["tv_target"][0] < 0.01 and alpha_dpg["mode_coverage"][0] == 1.0


@pytest.mark.parametrize("name", ["clip_cov", "kl_cov", "entropy_adv", "gspo", "dppo"])
def test_policy_gradient_baselines_collapse_on_policy(name):
    """With pi_old refreshed every step they are policy gradients on A: one arm, one mode."""
    metrics = final(BanditConfig.build(loss={"name": name}, protocol="refresh"))
    assert metrics["max_prob"][0] > 0.9 and metrics["mode_coverage"][0] == pytest.approx(1 / 3)
    assert metrics["tv_target"][0] < 0.05  # their target: the best arm


def test_dynamic_sampling_drops_equal_groups_and_keeps_each_runs_weight():
    observed = torch.tensor(
        [
            [[1.0, 1.0], [0.0, 1.0], [0.5, 0.5]],  # run 0: one informative context of three
            [[2.0, 2.0], [1.0, 1.0], [0.0, 0.0]],
        ],
        dtype=torch.float64,
    )  # run 1: none
    weights, active = drop_equal_reward_groups(observed)
    assert active.tolist() == [True, False]
    assert weights[0].tolist() == [[0.0, 0.0], [3.0, 3.0], [0.0, 0.0]]  # run 0 keeps its total weight 6
    assert weights[1].tolist() == [[1.0, 1.0]] * 3  # a skipped run keeps its rows' weight


def test_masked_adam_leaves_a_skipped_run_untouched():
    parameter = torch.zeros(2, 3, dtype=torch.float64)
    optimizer = Adam(parameter, torch.full((2, 1), 0.1, dtype=torch.float64))
    reference = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    torch_adam = torch.optim.Adam([reference], lr=0.1)
    for step, active in enumerate(([True, True], [True, False], [False, True], [True, True])):
        grad = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.1, -0.4]], dtype=torch.float64) * (step + 1)
        before = parameter[1].clone()
        optimizer.masked_step(grad, torch.tensor(active))
        if not active[1]:
            assert torch.equal(parameter[1], before)
        if active[0]:
            reference.grad = grad[:1].clone()
            torch_adam.step()
    torch.testing.assert_close(parameter[:1], reference.detach(), rtol=1e-12, atol=1e-15)


def test_dynamic_sampling_needs_sampled_groups():
    with pytest.raises(UserError, match="the exact estimator has no sampled groups"):
        BanditConfig.build(dynamic_sampling=True)


@pytest.mark.parametrize(
    "fields",
    [
        {"env": "contextual", "loss": {"name": "clip_cov", "ratio": 0.3, "cov_low": -5.0, "cov_high": 5.0}},
        {
            "env": "contextual",
            "loss": ALPHA_DPG | {"threshold": -0.5},
            "estimator": "sampled",
            "dynamic_sampling": True,
        },
        {"env": "sequence", "env_options": {"vocab": 2, "length": 3}, "loss": {"name": "f_tb", "divergence": "hd"}},
        {"env": "sequence", "env_options": {"vocab": 2, "length": 3}, "loss": {"name": "gspo"}, "estimator": "sampled"},
        {"env": "continuous", "loss": {"name": "entropy_adv"}, "estimator": "sampled"},
        {"env": "continuous", "loss": {"name": "dppo"}},
    ],
)
def test_baseline_losses_train_the_network_families(fields):
    """Autograd over stacked networks: the losses read the batch's groups, runs and uniforms."""
    config = BanditConfig.build(steps=60, log_interval=30, **fields)
    output = train(config, runs_of(config, [0, 1]))
    assert np.isfinite(output.final_policy).all()
    assert (np.abs(output.curves["entropy"][-1] - output.curves["entropy"][0]) > 1e-6).all()  # the policies moved
