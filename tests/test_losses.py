"""Loss values, gradients and fixed points against closed forms written independently here."""

from __future__ import annotations

import math

import pytest
import torch

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


def test_every_generator_vanishes_at_one_and_its_derivative_matches_finite_differences():
    log_x = torch.linspace(-3, 3, 25, dtype=torch.float64)
    for name, generator in GENERATORS.items():
        assert generator.value(torch.zeros(1, dtype=torch.float64)).item() == pytest.approx(0.0, abs=1e-15), name
        x = log_x.exp()
        step = 1e-6
        numeric = (F_DIRECT[name][0](x + step) - F_DIRECT[name][0](x - step)) / (2 * step)
        torch.testing.assert_close(generator.derivative(log_x), numeric, atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(generator.value(log_x), F_DIRECT[name][0](x))


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
    expected = {
        "token_mean": (per_token * token_mask).sum() / lengths.sum(),
        "seq_mean_token_mean": ((per_token * token_mask).sum(dim=1) / lengths).mean(),
        "seq_mean_token_sum_norm": ((per_token * token_mask).sum(dim=1) / 5).mean(),
    }
    for mode, value in expected.items():
        # entropy_pg with coef 0 is exactly the aggregated policy-gradient surrogate
        loss, _ = get_loss("entropy_pg", coef=0.0, aggregation=mode, norm_length=5)(
            LossBatch(batch.logp, batch.old_logp, batch.advantages, batch.mask, entropy=torch.zeros(4, dtype=torch.float64))
        )
        assert loss.item() == pytest.approx(value.item(), rel=1e-12), mode


def test_weights_turn_the_mean_into_an_expectation():
    probabilities = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    batch = make_batch()
    single = LossBatch(batch.logp[:, :1], batch.old_logp[:, :1], batch.advantages, weights=probabilities)
    loss, _ = get_loss("lad", divergence="js", eta=1.0)(single)
    per_action = get_loss("lad", divergence="js", eta=1.0)
    values = torch.stack([per_action(LossBatch(single.logp[i : i + 1], single.old_logp[i : i + 1], single.advantages[i : i + 1]))[0] for i in range(4)])
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


def test_grpo_k3_penalty():
    batch = make_batch(ref_logp=torch.full((4, 3), -1.2, dtype=torch.float64))
    beta = 0.3
    loss_with, metrics = get_loss("grpo", beta=beta, eps_low=10.0, eps_high=10.0)(batch)
    loss_without, _ = get_loss("grpo", beta=0.0, eps_low=10.0, eps_high=10.0)(batch)
    delta = batch.ref_logp - batch.logp.detach()
    k3 = (delta.exp() - delta - 1).mean()
    assert (loss_with - loss_without).item() == pytest.approx(beta * k3.item(), rel=1e-10)
    assert metrics["kl"] == pytest.approx(k3.item(), rel=1e-10)
    with pytest.raises(ValueError, match="ref_logp"):
        get_loss("grpo", beta=0.1)(make_batch())


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


CLOSED_FORM_CASES = [
    *[("lad", {"divergence": name, "eta": 0.8}) for name in DIVERGENCES],
    ("lad", {"divergence": "js", "ratio_level": "sequence"}),
    ("lad", {"divergence": "hd", "aggregation": "seq_mean_token_mean"}),
    ("lad", {"divergence": "jf", "aggregation": "seq_mean_token_sum_norm", "norm_length": 6}),
    ("lad", {"divergence": "js", "eta": torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64)}),
    ("grpo", {"beta": 0.1, "eps_high": 0.28}),
    ("grpo", {"aggregation": "seq_mean_token_mean"}),
    ("flowrl", {}),
    ("flowrl", {"beta": 1.0, "weight_clip": 1.05}),
    ("entropy_pg", {"coef": 0.2}),
    ("entropy_pg", {"coef": torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64), "aggregation": "seq_mean_token_mean"}),
]


@pytest.mark.parametrize("name,options", CLOSED_FORM_CASES)
@pytest.mark.parametrize("token_entropy", [False, True])
def test_closed_form_input_grads_equal_autograd(name, options, token_entropy):
    """The bandit engine uses input_grads; the LLM track uses autograd. They must agree."""
    entropy_shape = (4, 3) if token_entropy else (4,)
    batch = make_batch(
        mask=True,
        ref_logp=torch.full((4, 3), -1.3, dtype=torch.float64),
        weights=torch.tensor([0.4, 1.0, 2.0, 0.6], dtype=torch.float64),
        log_z=torch.tensor([0.1, -0.4, 0.2, 0.0], dtype=torch.float64, requires_grad=True),
        entropy=torch.rand(entropy_shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).requires_grad_(),
    )
    loss_fn = get_loss(name, **options)
    closed_form = loss_fn.input_grads(batch)
    loss, _ = loss_fn.loss_and_metrics(batch)
    fields = list(closed_form)
    assert "logp" in fields
    autograd = torch.autograd.grad(loss, [getattr(batch, field) for field in fields])
    for field, expected in zip(fields, autograd, strict=True):
        torch.testing.assert_close(closed_form[field], expected, msg=f"{name} {options} d/d{field}")


@pytest.mark.parametrize("name,options", CLOSED_FORM_CASES)
def test_batch_fields_name_exactly_what_the_loss_reads(name, options):
    """A batch holding only the declared optional fields works; dropping any of them fails."""
    loss_fn = get_loss(name, **options)
    extras = {
        "ref_logp": torch.full((4, 3), -1.3, dtype=torch.float64),
        "log_z": torch.zeros(4, dtype=torch.float64),
        "entropy": torch.ones(4, dtype=torch.float64),
    }
    declared = loss_fn.batch_fields()
    assert declared <= set(extras)
    loss, _ = loss_fn(make_batch(**{field: extras[field] for field in declared}))
    assert torch.isfinite(loss)
    for missing in declared:
        with pytest.raises(ValueError, match=f"needs batch.{missing}"):
            loss_fn(make_batch(**{field: extras[field] for field in declared - {missing}}))


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
            logp, old_logp, advantages, ref_logp=torch.full((8, 5), -2.2),
            log_z=torch.zeros(8, requires_grad=True), entropy=torch.ones(8, 5, requires_grad=True),
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
    leave_one_out = torch.stack([rewards[0, i] - torch.cat([rewards[0, :i], rewards[0, i + 1 :]]).mean() for i in range(5)])
    torch.testing.assert_close(group_advantages(rewards, "rloo")[0], leave_one_out)
    torch.testing.assert_close(group_advantages(rewards, "raw"), rewards)
    equal = group_advantages(torch.full((2, 4), 3.0), "grpo")
    assert torch.equal(equal, torch.zeros(2, 4))
    probs = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    action_rewards = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    expected_mean = 0.5 * 1.0 + 0.25 * 2.0 + 0.25 * 4.0
    torch.testing.assert_close(expected_advantages(action_rewards, probs, "dr_grpo"), action_rewards - expected_mean)
    variance = (probs * (action_rewards - expected_mean) ** 2).sum()
    torch.testing.assert_close(expected_advantages(action_rewards, probs, "grpo"), (action_rewards - expected_mean) / (variance.sqrt() + 1e-6))
    with pytest.raises(ValueError, match="at least 2"):
        group_advantages(torch.ones(3, 1), "grpo")
    with pytest.raises(ValueError, match="valid choices: grpo, dr_grpo, rloo, raw"):
        group_advantages(rewards, "ppo")


def test_registry_lists_losses_and_rejects_bad_names_and_options():
    losses = available_losses()
    assert set(losses) >= {"lad", "grpo", "flowrl", "entropy_pg"}
    assert losses["lad"]["divergence"] == "js" and losses["flowrl"]["beta"] == 15.0
    with pytest.raises(ValueError, match=r"unknown loss 'ppo'; valid choices: alpha_dpg, clip_cov, dppo, entropy_adv, entropy_pg, f_tb, flowrl, grpo, gspo, kl_cov, lad"):
        get_loss("ppo")
    with pytest.raises(ValueError, match=r"unknown option 'temperature' for loss 'lad'; valid options: divergence, eta"):
        get_loss("lad", temperature=1.0)
    with pytest.raises(ValueError, match=r"unknown divergence 'l2'; valid choices: kl, rkl, js, tv, hd, jf, ps"):
        get_loss("lad", divergence="l2")
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="eta must be > 0"):
            get_loss("lad", eta=bad)
    with pytest.raises(ValueError, match="eps_low must be >= 0"):
        get_loss("grpo", eps_low=-0.1)
    with pytest.raises(ValueError, match="advantages must have shape"):
        LossBatch(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3))
