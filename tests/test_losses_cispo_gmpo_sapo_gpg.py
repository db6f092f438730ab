"""cispo (MiniMax-M1), gmpo (verl's geo_mean), sapo and gpg, the objectives of verl 0.9.1's
policy-loss registry. Values against closed forms written here, each loss called directly against
verl's registered function, fixed points, the bandit track (closed-form gradients against autograd
on each of their ``examples()``: tests/test_contracts.py); and what the same cross-check fixed
(gspo's and gmpo's rows of padding, alpha-DPG's Zhat clamp and clip)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import runs_of, train
from ladbench.losses import ActionSet, LossBatch, expected_advantages, get_loss

F64 = torch.float64
VERL_REGISTRY_LOSSES = ("cispo", "gmpo", "sapo", "gpg")  # the losses of this file


def make_batch(seed: int = 0, rows: int = 6, length: int = 5, spread: float = 0.5, empty_row: bool = True) -> LossBatch:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, length + 1, (rows,), generator=generator)
    if empty_row:
        lengths[2] = 0
    mask = (torch.arange(length)[None] < lengths[:, None]).to(F64)
    old = torch.rand(rows, length, generator=generator, dtype=F64).clamp_min(0.05).log()
    logp = (old + spread * torch.randn(rows, length, generator=generator, dtype=F64)).clamp(max=-1e-3)
    logp = torch.where(mask > 0, logp, torch.full_like(logp, -math.inf)).requires_grad_()  # -inf padding
    advantages = torch.randn(rows, generator=generator, dtype=F64)
    advantages[0] = 0.0
    return LossBatch(logp=logp, old_logp=old, advantages=advantages, mask=mask)


def reference_parts(batch: LossBatch):
    mask = batch.token_mask
    log_rho = torch.where(mask > 0, batch.logp - batch.old_logp, torch.zeros_like(mask))
    return mask, log_rho, batch.advantages[:, None]


def token_mean(mask, terms):
    return (mask * terms).sum() / mask.sum()


def seq_mean_token_mean(mask, terms):
    return ((mask * terms).sum(1) / mask.sum(1).clamp_min(1)).mean()


def test_values_are_the_documented_formulas():
    batch = make_batch()
    mask, log_rho, advantages = reference_parts(batch)
    rho = log_rho.exp()
    # CISPO: -A clip(rho, 1 - eps_low, 1 + eps_high) per token, a token mean
    expected = token_mean(mask, -advantages * rho.clamp(0.9, 1.15))
    assert get_loss("cispo", eps_low=0.1, eps_high=0.15)(batch)[0].item() == pytest.approx(expected.item(), rel=1e-12)
    # GPG: -A log pi per token
    logp = torch.where(mask > 0, batch.logp, torch.zeros_like(mask))
    assert get_loss("gpg")(batch)[0].item() == pytest.approx(token_mean(mask, -advantages * logp).item(), rel=1e-12)
    # SAPO: -A (4 / tau) sigmoid(tau (rho - 1)), tau by the sign of A, a mean of token means
    tau = torch.where(advantages > 0, 2.0, 3.0)
    expected = seq_mean_token_mean(mask, -advantages * torch.sigmoid(tau * (rho - 1)) * 4 / tau)
    value = get_loss("sapo", tau_pos=2.0, tau_neg=3.0)(batch)[0].item()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    # GMPO: -A exp(mean_t clipped log rho), clipped in the direction A pushes; a mean over all rows
    clipped = torch.where(advantages > 0, log_rho.clamp(max=0.2), log_rho.clamp(min=-0.1))
    clipped = torch.where(advantages == 0, 0.0, clipped)
    ratio = ((mask * clipped).sum(1) / mask.sum(1).clamp_min(1)).exp()
    expected = (-batch.advantages * ratio * (mask.sum(1) > 0)).mean()
    value = get_loss("gmpo", eps_low=0.1, eps_high=0.2)(batch)[0].item()
    assert value == pytest.approx(expected.item(), rel=1e-12)


def test_cispo_keeps_a_gradient_where_ppos_clip_drops_it():
    """A token far past the clip keeps the gradient -A (1 + eps_high), where GRPO's is 0."""
    logp = torch.tensor([[math.log(0.6)]], dtype=F64, requires_grad=True)
    batch = LossBatch(
        logp=logp, old_logp=torch.tensor([[math.log(0.3)]], dtype=F64), advantages=torch.ones(1, dtype=F64)
    )
    assert get_loss("cispo", eps_high=0.2).input_grads(batch)["logp"].item() == pytest.approx(-1.2)
    assert get_loss("grpo").input_grads(batch)["logp"].item() == 0.0


def test_gmpo_on_policy_keeps_its_gradient_on_the_clip_edge():
    """On-policy every log ratio is 0, on the edge of a zero clip: the edge passes the gradient (as
    autograd's clamp and verl's geo_mean do), so GMPO with eps = 0 is the same policy gradient as
    with the paper's eps = 0.4, in the closed form the bandit engine uses as in autograd."""
    batch = make_batch()
    logp = batch.logp.detach().clone().requires_grad_()
    on_policy = LossBatch(logp=logp, old_logp=logp.detach(), advantages=batch.advantages, mask=batch.mask)
    wide = get_loss("gmpo").input_grads(on_policy)["logp"]
    assert wide.abs().sum() > 0
    zero = get_loss("gmpo", eps_low=0.0, eps_high=0.0)
    (autograd,) = torch.autograd.grad(zero(on_policy)[0], logp)
    torch.testing.assert_close(zero.input_grads(on_policy)["logp"], autograd, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(autograd, wide, rtol=1e-12, atol=1e-15)


def test_sapo_weight_is_the_policy_gradient_at_rho_one_and_decays_smoothly():
    logp = torch.log(torch.tensor([[0.3, 0.3, 0.3]], dtype=F64))
    old = torch.log(torch.tensor([[0.3, 0.2, 0.1]], dtype=F64))  # rho = 1, 1.5, 3
    batch = LossBatch(logp=logp, old_logp=old, advantages=torch.ones(1, dtype=F64))
    weights = -get_loss("sapo", aggregation="token_mean").input_grads(batch)["logp"][0] * 3
    assert weights[0].item() == pytest.approx(1.0)
    assert 0 < weights[2] < weights[1] < 1.5  # smaller than the unclipped rho, yet never exactly 0


@pytest.mark.parametrize("name", ["gspo", "gmpo"])
def test_a_row_of_padding_adds_nothing(name):
    """As TRL's sequence-level loss: a masked row's term is 0 (whatever its advantage) and it still
    counts in the mean over rows."""
    batch = make_batch(empty_row=True)
    loss = get_loss(name)(batch)[0]
    other = LossBatch(**{**batch.__dict__, "advantages": batch.advantages + 5.0 * (torch.arange(6) == 2)})
    assert get_loss(name)(other)[0].item() == pytest.approx(loss.item(), rel=1e-14)
    rows = batch.token_mask.sum(1) > 0
    kept = LossBatch(
        **{key: value[rows] if isinstance(value, torch.Tensor) else value for key, value in batch.__dict__.items()}
    )
    assert loss.item() == pytest.approx(get_loss(name)(kept)[0].item() * rows.sum().item() / 6, rel=1e-12)


# ---- against verl's registered functions, called directly ------------------------------------

VERL_PAIRS = [
    ("cispo", "cispo", {"eps_low": 0.1, "eps_high": 0.15}, {"clip_ratio_low": 0.1, "clip_ratio_high": 0.15}, False),
    ("gpg", "gpg", {}, {}, True),
    ("sapo", "sapo", {"tau_pos": 2.0, "tau_neg": 3.0}, {"tau_pos": 2.0, "tau_neg": 3.0}, True),
    ("gmpo", "geo_mean", {"eps_low": 0.1, "eps_high": 0.2}, {"clip_ratio_low": 0.1, "clip_ratio_high": 0.2}, True),
]


@pytest.mark.parametrize("name,verl_name,options,fields,same_value", VERL_PAIRS, ids=[pair[0] for pair in VERL_PAIRS])
def test_each_loss_called_directly_equals_verls_registered_function(name, verl_name, options, fields, same_value):
    """The ladbench loss on a LossBatch, with its own default aggregation, against verl's function on
    the same tensors (token-mean for cispo and gpg; sapo and geo_mean aggregate as they do whatever
    the mode). CISPO's value in verl is the surrogate -A sg(w) log pi: gradients only."""
    pytest.importorskip("verl", reason="the verl extra is not installed")
    from verl.trainer.ppo import core_algos
    from verl.workers.config.actor import ActorConfig

    for seed in range(3):
        batch = make_batch(seed)
        mask = batch.token_mask > 0
        loss_fn = get_loss(name, **options)
        value = loss_fn(batch)[0]
        (grad,) = torch.autograd.grad(value, batch.logp)
        log_prob = torch.where(mask, batch.logp.detach(), -7.0).requires_grad_()  # finite padding for verl
        config = ActorConfig(strategy="fsdp", rollout_n=1, ppo_micro_batch_size_per_gpu=1, **fields)
        config.global_batch_info.update(dp_size=1, batch_num_tokens=int(mask.sum()), global_batch_size=len(mask))
        expected, _ = core_algos.get_policy_loss_fn(verl_name)(
            old_log_prob=batch.old_logp,
            log_prob=log_prob,
            advantages=batch.advantages[:, None] * mask,
            response_mask=mask,
            loss_agg_mode="token-mean",
            config=config,
            rollout_is_weights=None,
        )
        (expected_grad,) = torch.autograd.grad(expected, log_prob)
        # verl divides by n + 1e-8 where ladbench divides by n: a relative 1e-8 apart at most
        torch.testing.assert_close(torch.where(mask, grad, 0.0), expected_grad, rtol=1e-7, atol=1e-10)
        if same_value:
            assert value.item() == pytest.approx(expected.item(), rel=1e-7, abs=1e-12)


# ---- fixed points and the bandit track -------------------------------------------------------


def arms(seed: int = 3):
    generator = torch.Generator().manual_seed(seed)
    old_probs = torch.softmax(torch.randn(6, generator=generator, dtype=F64), 0)
    rewards = torch.tensor([1.0, 0.0, 1.0, 0.3, 0.0, 1.0], dtype=F64)
    return old_probs, rewards, expected_advantages(rewards, old_probs, "dr_grpo")


@pytest.mark.parametrize("name", VERL_REGISTRY_LOSSES)
def test_target_is_the_best_arms_and_the_on_policy_gradient_pushes_towards_them(name):
    old_probs, rewards, advantages = arms()
    loss_fn = get_loss(name)
    target = loss_fn.target_distribution(ActionSet(rewards, advantages, old_probs))
    best = rewards == rewards.max()
    torch.testing.assert_close(target, best.to(F64) / best.sum())
    logits = old_probs.log().clone().requires_grad_()
    batch = LossBatch(
        logp=logits.log_softmax(0)[:, None],
        old_logp=old_probs.log()[:, None],
        advantages=advantages,
        weights=old_probs,
    )
    (gradient,) = torch.autograd.grad(loss_fn(batch)[0], logits)
    assert (gradient[best] < 0).all() and (gradient[rewards == 0] > 0).all()


def final(config: BanditConfig) -> dict[str, np.ndarray]:
    output = train(config, runs_of(config, [0]))
    return {name: values[-1] for name, values in output.curves.items()}


@pytest.mark.parametrize("name", VERL_REGISTRY_LOSSES)
def test_the_verl_registry_losses_run_in_the_bandit_track_and_collapse_on_policy(name):
    """Paper bandit, exact estimator: with pi_old refreshed every step each is a policy gradient
    and ends on one arm of the main mode; with the sampled estimator and pi_old fixed it runs."""
    metrics = final(BanditConfig.build(loss={"name": name}, protocol="refresh", steps=2000))
    assert metrics["max_prob"][0] > 0.9 and metrics["mode_coverage"][0] == pytest.approx(1 / 3)
    assert metrics["tv_target"][0] < 0.1
    sampled = final(BanditConfig.build(loss={"name": name}, estimator="sampled", steps=200))
    assert all(np.isfinite(sampled[metric]).all() for metric in ("tv_truth", "tv_target", "entropy", "max_prob"))


# ---- alpha-DPG: Zhat clamped at 1, clip before the 1/(1 - alpha) scale ---------------------------


def alpha_dpg_batch(base: list[float], old: list[float], correct: list[bool]) -> LossBatch:
    return LossBatch(
        logp=torch.log(torch.tensor(old, dtype=F64))[:, None].requires_grad_(),
        old_logp=torch.log(torch.tensor(old, dtype=F64))[:, None],
        advantages=torch.zeros(len(old), dtype=F64),
        ref_logp=torch.log(torch.tensor(base, dtype=F64))[:, None],
        rewards=torch.tensor([1.0 if c else 0.0 for c in correct], dtype=F64),
    )


def test_alpha_dpg_clamps_zhat_at_one():
    """Two samples, both correct, each with base / old = 1.5: the importance estimate of Z is 1.5;
    the authors clamp it at 1 (Z is a probability)."""
    batch = alpha_dpg_batch([0.6, 0.3], [0.4, 0.2], [True, True])
    loss_fn = get_loss("alpha_dpg", alpha=0.5, clip=None)
    rewards, _, log_z = loss_fn.pseudo_rewards(batch)
    assert log_z.exp().tolist() == pytest.approx([1.0, 1.0])
    # R = ((p / pi)^(1/2) - 1) / (1/2), p = base / Z with Z = 1, pi = old
    assert rewards.tolist() == pytest.approx([2 * (math.sqrt(1.5) - 1)] * 2)


def test_alpha_dpg_clips_the_pseudo_reward_before_the_scale():
    """p / pi = 100 for the correct answer: (p / pi)^(1 - alpha) - 1 = 9 at alpha = 0.5 is clipped
    at 2, then scaled by 1 / (1 - alpha) = 2: R = 4 (a clip after the scale would give 2)."""
    batch = alpha_dpg_batch([0.5, 0.5], [0.005, 0.995], [True, False])
    rewards, _, log_z = get_loss("alpha_dpg", alpha=0.5, clip=2.0).pseudo_rewards(batch)
    assert log_z[0].exp().item() == pytest.approx(1.0)  # the estimate, 0.5 * 0.5 / 0.005 = 50, clamped
    rewards_unclipped, _, _ = get_loss("alpha_dpg", alpha=0.5, clip=None).pseudo_rewards(batch)
    assert rewards_unclipped[0].item() == pytest.approx(2 * (math.sqrt(100) - 1))
    assert rewards[0].item() == pytest.approx(4.0)
    assert rewards[1].item() == pytest.approx(-2.0)
