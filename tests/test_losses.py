"""Loss values, gradients and fixed points against closed forms written independently here."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
from trl_reference import trl_grpo_loss

from ladbench.losses import (
    DIVERGENCES,
    GENERATORS,
    LossBatch,
    available_losses,
    expected_advantages,
    get_loss,
    group_advantages,
)

# Generators and derivatives written directly in x (not log space), as in the reference table.
F_DIRECT = {
    "kl": (lambda x: x * torch.log(x), lambda x: torch.log(x) + 1),
    "rkl": (lambda x: -torch.log(x), lambda x: -1 / x),
    "js": (
        lambda x: 0.5 * (x * torch.log(x) - (x + 1) * torch.log((x + 1) / 2)),
        lambda x: 0.5 * torch.log(2 * x / (x + 1)),
    ),
    "tv": (lambda x: 0.5 * (x - 1).abs(), lambda x: 0.5 * torch.sign(x - 1)),
    "hd": (lambda x: (x.sqrt() - 1) ** 2, lambda x: 1 - 1 / x.sqrt()),
    "jf": (lambda x: (x - 1) * torch.log(x), lambda x: torch.log(x) + 1 - 1 / x),
    "ps": (lambda x: (x - 1) ** 2 / x, lambda x: 1 - 1 / x**2),
}


def make_batch(mask: bool = False, seed: int = 0, **extra) -> LossBatch:
    generator = torch.Generator().manual_seed(seed)
    shape = (4, 3)
    logp = (torch.randn(shape, generator=generator, dtype=torch.float64) * 0.5 - 1.0).requires_grad_()
    old_logp = logp.detach() + torch.randn(shape, generator=generator, dtype=torch.float64) * 0.3
    advantages = torch.tensor([1.2, -0.7, 0.3, -1.5], dtype=torch.float64)
    token_mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1]], dtype=torch.float64) if mask else None
    return LossBatch(logp=logp, old_logp=old_logp, advantages=advantages, mask=token_mask, **extra)


def test_every_generator_vanishes_at_one_and_matches_the_table():
    """value(l, u) = exp(u) f(x) and score_weight(l, u) = f'(x) rho = d value / d l, x = exp(l - u)."""
    log_rho = torch.linspace(-3, 3, 25, dtype=torch.float64)
    for u in (torch.tensor(0.0, dtype=torch.float64), torch.tensor(0.7, dtype=torch.float64)):
        x = (log_rho - u).exp()
        for name, generator in GENERATORS.items():
            f, f_prime = F_DIRECT[name]
            assert generator.value(u, u).item() == pytest.approx(0.0, abs=1e-15), name
            torch.testing.assert_close(generator.value(log_rho, u), u.exp() * f(x))
            torch.testing.assert_close(generator.score_weight(log_rho, u), f_prime(x) * log_rho.exp())
            step = 1e-6
            numeric = (generator.value(log_rho + step, u) - generator.value(log_rho - step, u)) / (2 * step)
            if name == "tv":  # not differentiable at x = 1
                numeric = numeric.where((log_rho - u).abs() > step, generator.score_weight(log_rho, u))
            torch.testing.assert_close(generator.score_weight(log_rho, u), numeric, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("divergence", DIVERGENCES)
@pytest.mark.parametrize("mask", [False, True])
def test_lad_value_and_gradient_equal_the_closed_form(divergence, mask):
    batch = make_batch(mask=mask)
    eta = 0.7
    loss, metrics = get_loss("lad", divergence=divergence, eta=eta)(batch)
    f, f_prime = F_DIRECT[divergence]
    token_mask = batch.token_mask
    tokens = token_mask.sum()
    u = batch.advantages[:, None] / eta
    rho = (batch.logp - batch.old_logp).exp().detach()
    x = rho * torch.exp(-u)
    expected = (torch.exp(u) * f(x) * token_mask).sum() / tokens
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert metrics["loss"] == pytest.approx(expected.item(), rel=1e-12)
    (gradient,) = torch.autograd.grad(loss, batch.logp)
    torch.testing.assert_close(gradient, f_prime(x) * rho * token_mask / tokens)


def test_lad_sequence_level_ratio_uses_the_summed_log_ratio():
    batch = make_batch(mask=True)
    loss, _ = get_loss("lad", divergence="kl", eta=2.0, ratio_level="sequence")(batch)
    token_mask = batch.token_mask
    log_rho = ((batch.logp - batch.old_logp) * token_mask).sum(dim=1).detach()
    u = batch.advantages / 2.0
    x = (log_rho - u).exp()
    per_sequence = torch.exp(u) * x * torch.log(x)
    lengths = token_mask.sum(dim=1)
    expected = (per_sequence * lengths).sum() / lengths.sum()  # broadcast over tokens, token mean
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    (gradient,) = torch.autograd.grad(loss, batch.logp)
    expected_gradient = ((torch.log(x) + 1) * log_rho.exp() * lengths / lengths.sum())[:, None] * token_mask
    torch.testing.assert_close(gradient, expected_gradient)


def test_aggregation_modes():
    batch = make_batch(mask=True)
    token_mask = batch.token_mask
    per_token = -batch.advantages[:, None] * (batch.logp - batch.old_logp).exp()
    lengths = token_mask.sum(dim=1)
    entropy = torch.zeros(4, dtype=torch.float64)
    cases = [  # (aggregation, norm_length, max_length, token_denominator, expected)
        ("token_mean", None, None, None, (per_token * token_mask).sum() / lengths.sum()),
        ("token_mean", None, None, 20.0, (per_token * token_mask).sum() / 20.0),
        ("seq_mean_token_mean", None, None, None, ((per_token * token_mask).sum(dim=1) / lengths).mean()),
        ("seq_mean_token_sum_norm", 5, None, None, ((per_token * token_mask).sum(dim=1) / 5).mean()),
        ("seq_mean_token_sum_norm", None, None, None, ((per_token * token_mask).sum(dim=1) / 3).mean()),  # T
        ("seq_mean_token_sum_norm", None, 7, None, ((per_token * token_mask).sum(dim=1) / 7).mean()),
        ("seq_mean_token_sum_norm", 5, 7, None, ((per_token * token_mask).sum(dim=1) / 5).mean()),  # norm_length wins
    ]
    for mode, norm_length, max_length, token_denominator, value in cases:
        # entropy_pg with coef 0 is exactly the aggregated policy-gradient surrogate
        loss, _ = get_loss("entropy_pg", coef=0.0, aggregation=mode, norm_length=norm_length)(
            LossBatch(
                batch.logp,
                batch.old_logp,
                batch.advantages,
                batch.mask,
                entropy=entropy,
                max_length=max_length,
                token_denominator=token_denominator,
            )
        )
        assert loss.item() == pytest.approx(value.item(), rel=1e-12), (mode, norm_length, max_length, token_denominator)
    with pytest.raises(ValueError, match="max_length must be > 0"):
        LossBatch(batch.logp, batch.old_logp, batch.advantages, max_length=0)


def test_token_denominator_makes_micro_batches_add_up_to_the_whole_batch_token_mean():
    """DAPO's token mean over an optimisation batch split in micro-batches of different lengths:
    each part divides by the whole batch's token count, and the parts' losses (and gradients) add
    up to the whole batch's; dividing each by its own count and averaging does not."""
    whole = make_batch(mask=True)
    parts = [slice(0, 1), slice(1, 4)]  # 3 tokens and 6 tokens
    total = float(whole.token_mask.sum())
    loss_fn = get_loss("lad", divergence="js", eta=0.5)
    whole_loss, _ = loss_fn(whole)
    summed = sum(
        loss_fn(
            LossBatch(
                whole.logp[part],
                whole.old_logp[part],
                whole.advantages[part],
                whole.mask[part],
                token_denominator=total,
            )
        )[0]
        for part in parts
    )
    averaged = sum(
        loss_fn(LossBatch(whole.logp[part], whole.old_logp[part], whole.advantages[part], whole.mask[part]))[0]
        for part in parts
    ) / len(parts)
    assert summed.item() == pytest.approx(whole_loss.item(), rel=1e-12)
    assert averaged.item() != pytest.approx(whole_loss.item(), rel=1e-3)
    torch.testing.assert_close(
        torch.autograd.grad(summed, whole.logp)[0], torch.autograd.grad(whole_loss, whole.logp)[0]
    )


def test_weights_turn_the_mean_into_an_expectation():
    probabilities = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    batch = make_batch()
    single = LossBatch(batch.logp[:, :1], batch.old_logp[:, :1], batch.advantages, weights=probabilities)
    loss, _ = get_loss("lad", divergence="js", eta=1.0)(single)
    per_action = get_loss("lad", divergence="js", eta=1.0)
    values = torch.stack(
        [
            per_action(LossBatch(single.logp[i : i + 1], single.old_logp[i : i + 1], single.advantages[i : i + 1]))[0]
            for i in range(4)
        ]
    )
    assert loss.item() == pytest.approx((probabilities * values).sum().item(), rel=1e-12)


def test_grpo_clipped_and_unclipped_regions():
    # rho = exp(logp - old): 1.5 (A > 0: clipped), 1.1 (A > 0: inside), 0.5 (A < 0: clipped), 0.9 (A < 0: inside)
    rho = torch.tensor([[1.5], [1.1], [0.5], [0.9]], dtype=torch.float64)
    advantages = torch.tensor([2.0, 2.0, -1.0, -1.0], dtype=torch.float64)
    old_logp = torch.full((4, 1), -1.0, dtype=torch.float64)
    logp = (old_logp + rho.log()).requires_grad_()
    loss, metrics = get_loss("grpo", eps_low=0.2, eps_high=0.2)(LossBatch(logp, old_logp, advantages))
    surrogate = torch.tensor([1.2 * 2.0, 1.1 * 2.0, 0.8 * -1.0, 0.9 * -1.0], dtype=torch.float64)
    assert loss.item() == pytest.approx(-surrogate.mean().item(), rel=1e-12)
    assert metrics["clip_frac"] == pytest.approx(0.5)
    (gradient,) = torch.autograd.grad(loss, logp)
    expected = torch.tensor([[0.0], [-2.0 * 1.1 / 4], [0.0], [1.0 * 0.9 / 4]], dtype=torch.float64)
    torch.testing.assert_close(gradient, expected)


# TRL loss_type -> (ladbench aggregation, batch fields), written from TRL's aggregation formulas
LOSS_TYPES = {
    "grpo": ("seq_mean_token_mean", {}),
    "bnpo": ("token_mean", {}),
    "dr_grpo": ("seq_mean_token_sum_norm", {"max_length": 8}),
    "dapo": ("token_mean", {"token_denominator": 13.0}),
}
GRPO_VARIANTS = [
    {},
    {"beta": 0.3},
    {"beta": 0.3, "use_bias_correction_kl": False},
    {"delta": 1.3, "epsilon_high": 0.28},
    {"beta": 0.05, "delta": 1.5, "epsilon": 0.1},
]


def trl_style_batch() -> LossBatch:
    """Ratios from 0.3 to 3 (both clips and delta bind somewhere), padding, a reference policy."""
    generator = torch.Generator().manual_seed(5)
    logp = (torch.randn(4, 5, generator=generator, dtype=torch.float64) * 0.5 - 1.5).requires_grad_()
    old_logp = logp.detach() + torch.randn(4, 5, generator=generator, dtype=torch.float64) * 0.6
    ref_logp = logp.detach() + torch.randn(4, 5, generator=generator, dtype=torch.float64) * 0.4
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 0, 0, 0, 0]])
    advantages = torch.tensor([1.1, -0.8, -1.3, 0.6], dtype=torch.float64)
    return LossBatch(logp, old_logp, advantages, mask, ref_logp=ref_logp)


@pytest.mark.parametrize("loss_type", list(LOSS_TYPES))
@pytest.mark.parametrize("variant", GRPO_VARIANTS, ids=str)
def test_grpo_matches_trl_formulas(loss_type, variant):
    """Value and gradient of ``grpo`` against TRL's loss written from its formulas (trl_reference)."""
    batch = trl_style_batch()
    aggregation, fields = LOSS_TYPES[loss_type]
    batch.max_length, batch.token_denominator = fields.get("max_length"), fields.get("token_denominator")
    options = {
        "beta": variant.get("beta", 0.0),
        "kl_bias_correction": variant.get("use_bias_correction_kl", True),
        "eps_low": variant.get("epsilon", 0.2),
        "eps_high": variant.get("epsilon_high", variant.get("epsilon", 0.2)),
        "delta": variant.get("delta"),
    }
    loss, metrics = get_loss("grpo", aggregation=aggregation, **options)(batch)
    expected = trl_grpo_loss(
        batch.logp,
        batch.old_logp,
        batch.advantages,
        batch.mask,
        loss_type=loss_type,
        ref_logp=batch.ref_logp,
        max_completion_length=fields.get("max_length"),
        dapo_normaliser=fields.get("token_denominator"),
        **variant,
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    (gradient,) = torch.autograd.grad(loss, batch.logp)
    (expected_gradient,) = torch.autograd.grad(expected, batch.logp)
    torch.testing.assert_close(gradient, expected_gradient, rtol=1e-12, atol=1e-15)
    rho = (batch.logp - batch.old_logp).exp().detach()
    if "delta" in variant:  # the cap binds on some token with A < 0 and is what the gradient sees there
        assert bool(((rho > variant["delta"]) & (batch.advantages[:, None] < 0) & (batch.mask > 0)).any())
    if options["beta"] > 0:
        delta = batch.ref_logp - batch.logp.detach()
        k3 = (delta.exp() - delta - 1) * (rho if options["kl_bias_correction"] else 1.0)
        assert metrics["kl"] == pytest.approx(k3[batch.mask > 0].mean().item(), rel=1e-10)


def test_grpo_kl_bias_correction_changes_the_gradient_even_on_policy():
    """On-policy (rho = 1) the penalty's value is the same with and without the ratio, but
    d (rho k3) / d logp = rho (logp - ref), while d k3 / d logp = 1 - exp(ref - logp)."""
    batch = trl_style_batch()
    batch.old_logp = batch.logp.detach().clone()
    beta, tokens = 0.5, batch.token_mask.sum()
    corrected, _ = get_loss("grpo", beta=beta)(batch)
    plain, _ = get_loss("grpo", beta=beta, kl_bias_correction=False)(batch)
    assert corrected.item() == pytest.approx(plain.item(), rel=1e-12)
    difference = batch.logp.detach() - batch.ref_logp
    torch.testing.assert_close(
        torch.autograd.grad(corrected, batch.logp)[0] - torch.autograd.grad(plain, batch.logp)[0],
        beta * (difference - (1 - (-difference).exp())) * batch.token_mask / tokens,
    )
    with pytest.raises(ValueError, match="ref_logp"):
        get_loss("grpo", beta=0.1)(make_batch())
    with pytest.raises(ValueError, match="kl_bias_correction must be true or false, got 'yes'"):
        get_loss("grpo", kl_bias_correction="yes")
    with pytest.raises(ValueError, match="delta must be > 0"):
        get_loss("grpo", delta=0.0)


def test_flowrl_trajectory_balance_value_gradient_and_weight_clip():
    batch = make_batch(mask=True, ref_logp=torch.full((4, 3), -1.5, dtype=torch.float64))
    log_z = torch.tensor([0.3, -0.2, 0.1, 0.5], dtype=torch.float64, requires_grad=True)
    batch.log_z = log_z
    batch.old_logp = batch.old_logp.clone()
    batch.old_logp[0] -= 10.0  # sequence 0's importance weight exp(sum log rho) is far above the clip
    loss, metrics = get_loss("flowrl", beta=2.0)(batch)
    token_mask = batch.token_mask
    lengths = token_mask.sum(dim=1)
    logp = batch.logp.detach()
    delta = log_z.detach() + (logp * token_mask).sum(1) / lengths - 2.0 * batch.advantages - (-1.5)
    weight = (((logp - batch.old_logp) * token_mask).sum(1)).exp().clamp(max=10.0)
    assert weight[0].item() == 10.0
    assert loss.item() == pytest.approx((weight * delta**2).mean().item(), rel=1e-12)
    gradient_logp, gradient_log_z = torch.autograd.grad(loss, [batch.logp, log_z])
    torch.testing.assert_close(gradient_log_z, 2 * weight * delta / 4)
    torch.testing.assert_close(gradient_logp, (2 * weight * delta / 4 / lengths)[:, None] * token_mask)
    assert metrics["weight_mean"] == pytest.approx(weight.mean().item())


def test_entropy_pg_value_and_gradient():
    entropy = torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=torch.float64, requires_grad=True)
    batch = make_batch(entropy=entropy)
    loss, _ = get_loss("entropy_pg", coef=0.3)(batch)
    rho = (batch.logp - batch.old_logp).exp().detach()
    expected = -(rho * batch.advantages[:, None]).mean() - 0.3 * entropy.detach().mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    gradient_logp, gradient_entropy = torch.autograd.grad(loss, [batch.logp, entropy])
    torch.testing.assert_close(gradient_logp, -rho * batch.advantages[:, None] / 12)
    torch.testing.assert_close(gradient_entropy, torch.full((4,), -0.3 / 4, dtype=torch.float64))


def test_losses_import_without_torch():
    """Option validation runs before heavy imports: importing the losses and building one with
    plain numbers must not import torch."""
    code = (
        "import sys, ladbench.losses as losses, ladbench.losses.config as config\n"
        "losses.get_loss('lad', eta=0.5); losses.get_loss('grpo', beta=0.1, delta=2.0)\n"
        "config.LossConfig(name='grpo', beta=0.04, kl_bias_correction=False)\n"
        "losses.get_loss('entropy_pg', coef=0.1); losses.get_loss('flowrl', beta=2.0)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_lad_fixed_point_every_action_reaches_the_same_x(divergence):
    """At pi = pi_old exp(A/eta) / Z the expected LAD gradient w.r.t. the logits vanishes:
    d/dz_a = pi_a (f'(x_a) - E_pi f'(x)), zero when every x_a is equal.

    Strictly convex f: a perturbed policy is not stationary. tv: f' = sign(x - 1)/2 is constant
    wherever every x_a lies on the same side of 1, so the perturbed policy (all x_a < 1 here) is
    stationary too: tv's optimum is not unique."""
    old_probs = torch.softmax(torch.randn(6, dtype=torch.float64, generator=torch.Generator().manual_seed(2)), 0)
    advantages = torch.tensor([1.0, -0.5, 0.3, 2.0, -1.0, 0.0], dtype=torch.float64)
    eta = 0.8
    logits = (old_probs.log() + advantages / eta).requires_grad_()
    log_probs = torch.log_softmax(logits, 0)
    batch = LossBatch(log_probs[:, None], old_probs.log()[:, None], advantages, weights=old_probs)
    loss, _ = get_loss("lad", divergence=divergence, eta=eta)(batch)
    (gradient,) = torch.autograd.grad(loss, logits)
    assert gradient.abs().max().item() < 1e-12
    # and a perturbed policy is not stationary
    perturbed = (old_probs.log() + advantages / eta + torch.tensor([0.3, 0, 0, 0, 0, 0])).requires_grad_()
    batch = LossBatch(torch.log_softmax(perturbed, 0)[:, None], old_probs.log()[:, None], advantages, weights=old_probs)
    (gradient,) = torch.autograd.grad(get_loss("lad", divergence=divergence, eta=eta)(batch)[0], perturbed)
    log_x = batch.logp.detach()[:, 0] - old_probs.log() - advantages / eta
    if divergence == "tv":
        assert (log_x < 0).all()
        assert gradient.abs().max().item() < 1e-12
    else:
        assert gradient.abs().max().item() > 1e-4


@pytest.mark.parametrize("name", ["lad", "grpo", "flowrl", "entropy_pg"])
@pytest.mark.parametrize("eta", [1e-3, 1e3])
@pytest.mark.parametrize("advantage_scale", [50.0, 0.0])
def test_losses_stay_finite_at_extreme_temperatures_and_advantages(name, eta, advantage_scale):
    divergences = DIVERGENCES if name == "lad" else ("js",)
    for divergence in divergences:
        rewards = torch.tensor([[1.0, -1.0, 1.0, -1.0], [3.0, 3.0, 3.0, 3.0]]) * advantage_scale
        advantages = group_advantages(rewards, "grpo").reshape(-1) if advantage_scale == 0 else rewards.reshape(-1)
        logp = torch.full((8, 5), -2.0, requires_grad=True)
        old_logp = torch.full((8, 5), -2.5)
        batch = LossBatch(
            logp,
            old_logp,
            advantages,
            ref_logp=torch.full((8, 5), -2.2),
            log_z=torch.zeros(8, requires_grad=True),
            entropy=torch.ones(8, 5, requires_grad=True),
        )
        options = {"lad": {"divergence": divergence, "eta": eta}, "entropy_pg": {"coef": eta}}.get(name, {})
        loss_fn = get_loss(name, **options)
        loss, metrics = loss_fn(batch)
        gradient = torch.autograd.grad(loss, logp)[0]
        assert torch.isfinite(loss), (name, divergence, eta)
        assert torch.isfinite(gradient).all(), (name, divergence, eta)
        assert all(math.isfinite(value) for value in metrics.values()), (name, metrics)
        assert all(torch.isfinite(value).all() for value in loss_fn.input_grads(batch).values())


def test_advantage_estimators():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0]])
    mean = 0.6
    std = rewards.std().item()
    torch.testing.assert_close(group_advantages(rewards, "grpo"), (rewards - mean) / (std + 1e-6))
    torch.testing.assert_close(group_advantages(rewards, "dr_grpo"), rewards - mean)
    leave_one_out = torch.stack(
        [rewards[0, i] - torch.cat([rewards[0, :i], rewards[0, i + 1 :]]).mean() for i in range(5)]
    )
    torch.testing.assert_close(group_advantages(rewards, "rloo")[0], leave_one_out)
    torch.testing.assert_close(group_advantages(rewards, "raw"), rewards)
    equal = group_advantages(torch.full((2, 4), 3.0), "grpo")
    assert torch.equal(equal, torch.zeros(2, 4))
    probs = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    action_rewards = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    expected_mean = 0.5 * 1.0 + 0.25 * 2.0 + 0.25 * 4.0
    torch.testing.assert_close(expected_advantages(action_rewards, probs, "dr_grpo"), action_rewards - expected_mean)
    variance = (probs * (action_rewards - expected_mean) ** 2).sum()
    torch.testing.assert_close(
        expected_advantages(action_rewards, probs, "grpo"), (action_rewards - expected_mean) / (variance.sqrt() + 1e-6)
    )
    with pytest.raises(ValueError, match="at least 2"):
        group_advantages(torch.ones(3, 1), "grpo")
    with pytest.raises(ValueError, match="valid choices: grpo, dr_grpo, rloo, raw"):
        group_advantages(rewards, "ppo")


def test_the_estimator_table_is_what_help_and_errors_list():
    """``ESTIMATORS`` owns the estimators: both tracks' ``advantage`` help names each with its
    formula, and the choices an unknown one is refused with are its names; rloo's exact form is
    dr_grpo's (its leave-one-out baseline's expectation is the mean)."""
    from ladbench.bandit.config import BanditConfig
    from ladbench.llm.config import TrainConfig
    from ladbench.losses.advantages import ESTIMATORS

    for config in (BanditConfig, TrainConfig):
        description = config.model_fields["advantage"].description
        assert all(f"{name} ({estimator.formula})" in description for name, estimator in ESTIMATORS.items())
        with pytest.raises(ValueError, match="valid choices: " + ", ".join(ESTIMATORS)):
            config.build(advantage="ppo")
    probs = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    rewards = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    assert torch.equal(expected_advantages(rewards, probs, "rloo"), expected_advantages(rewards, probs, "dr_grpo"))
    assert torch.equal(expected_advantages(rewards, probs, "raw"), rewards)


def test_registry_lists_losses_and_rejects_bad_names_and_options():
    losses = available_losses()
    assert set(losses) >= {"lad", "grpo", "flowrl", "entropy_pg"}
    assert losses["lad"]["divergence"] == "js" and losses["flowrl"]["beta"] == 15.0
    with pytest.raises(
        ValueError,
        match=r"unknown loss 'ppo'; valid choices: alpha_dpg, cispo, clip_cov, dppo, entropy_adv, entropy_pg, f_tb, "
        r"flowrl, gmpo, gpg, grpo, gspo, kl_cov, lad, sapo",
    ):
        get_loss("ppo")
    with pytest.raises(
        ValueError, match=r"unknown option 'temperature' for loss 'lad'; valid options: divergence, eta"
    ):
        get_loss("lad", temperature=1.0)
    with pytest.raises(ValueError, match=r"unknown divergence 'l2'; valid choices: kl, rkl, js, tv, hd, jf, ps"):
        get_loss("lad", divergence="l2")
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="eta must be > 0"):
            get_loss("lad", eta=bad)
    for bad in (float("nan"), float("inf"), "abc", True):  # not a finite number: a type message, not a range one
        with pytest.raises(ValueError, match=f"eta must be a finite number, got {bad!r}"):
            get_loss("lad", eta=bad)
    with pytest.raises(ValueError, match="eps_low must be >= 0"):
        get_loss("grpo", eps_low=-0.1)
    with pytest.raises(ValueError, match="advantages must have shape"):
        LossBatch(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3))
