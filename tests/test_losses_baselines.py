"""The paper's other baselines and LAD's neighbours: clip_cov, kl_cov, entropy_adv, gspo, dppo,
f_tb, alpha_dpg. Values against closed forms written here, fixed points where they exist, and the
batch structure (groups, runs, uniforms) they read. What every loss must do (closed form =
autograd, batch fields, padding, stacked runs) is checked for all of them by tests/test_contracts.py."""

from __future__ import annotations

import math

import pytest
import torch

from ladbench.losses import DIVERGENCES, ActionSet, LossBatch, expected_advantages, get_loss

BASELINES = ("alpha_dpg", "clip_cov", "dppo", "entropy_adv", "f_tb", "gspo", "kl_cov")
F64 = torch.float64


def make_batch(
    seed: int = 0,
    rows: int = 8,
    length: int = 3,
    mask: bool = True,
    weights: bool = False,
    group_size: int | None = 4,
    runs: int = 1,
    spread: float = 0.3,
) -> LossBatch:
    """A batch with every optional field filled: sequences of ``length`` tokens, half of them
    rewarded 1 (correct), per-token entropies and uniforms."""
    generator = torch.Generator().manual_seed(seed)
    shape = (rows, length)
    logp = (torch.randn(shape, generator=generator, dtype=F64) * 0.5 - 1.0).requires_grad_()
    old_logp = logp.detach() + torch.randn(shape, generator=generator, dtype=F64) * spread
    rewards = (torch.arange(rows) % 2 == 0).to(F64)
    advantages = rewards - 0.5 + 0.2 * torch.randn(rows, generator=generator, dtype=F64)
    token_mask = None
    if mask:
        lengths = 1 + torch.arange(rows) % length
        token_mask = (torch.arange(length)[None] < lengths[:, None]).to(F64)
    return LossBatch(
        logp=logp,
        old_logp=old_logp,
        advantages=advantages,
        mask=token_mask,
        ref_logp=logp.detach() + torch.randn(shape, generator=generator, dtype=F64) * 0.4,
        weights=torch.rand(rows, generator=generator, dtype=F64) + 0.2 if weights else None,
        entropy=torch.rand(shape, generator=generator, dtype=F64) * 2,
        rewards=rewards,
        uniforms=torch.rand(shape, generator=generator, dtype=F64),
        group_size=group_size,
        runs=runs,
    )


def token_mean(batch: LossBatch, per_token: torch.Tensor) -> torch.Tensor:
    mask = batch.token_mask
    weights = torch.ones(mask.shape[0], dtype=F64) if batch.weights is None else batch.weights
    return (weights[:, None] * mask * per_token).sum() / (weights[:, None] * mask).sum()


def sequence_mean(batch: LossBatch, per_sequence: torch.Tensor) -> torch.Tensor:
    weights = torch.ones(per_sequence.shape[0], dtype=F64) if batch.weights is None else batch.weights
    return (weights * per_sequence).sum() / weights.sum()


def test_every_baseline_is_registered_with_a_label():
    from ladbench.losses import available_losses

    assert set(BASELINES) <= set(available_losses())
    labels = {name: get_loss(name).label() for name in BASELINES}
    assert labels == {
        "alpha_dpg": "alpha-DPG-0.5",
        "clip_cov": "Clip-Cov",
        "dppo": "DPPO-TV",
        "entropy_adv": "Entropy-Adv",
        "f_tb": "f-TB-KL",
        "gspo": "GSPO",
        "kl_cov": "KL-Cov",
    }


# ---- values ----------------------------------------------------------------------------------


def ratio_of(batch):
    return torch.where(batch.token_mask > 0, batch.logp - batch.old_logp, torch.zeros_like(batch.logp)).detach().exp()


def test_kl_cov_penalises_the_top_covariance_tokens_of_each_run():
    batch = make_batch(group_size=None)
    ratio = 0.3
    loss, metrics = get_loss("kl_cov", ratio=ratio, coef=0.7)(batch)
    mask = batch.token_mask.bool()
    advantages = batch.advantages[:, None].expand_as(batch.logp)[mask]
    logp = batch.logp.detach()[mask]
    cov = (advantages - advantages.mean()) * (logp - logp.mean())
    count = max(1, int(ratio * mask.sum()))
    top = torch.zeros_like(cov, dtype=torch.bool)
    top[cov.topk(count).indices] = True
    rho = ratio_of(batch)[mask]
    expected = (-rho * advantages + 0.7 * rho.log().abs() * top).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert metrics["cov_penalised_frac"] == pytest.approx(count / mask.sum().item())


def test_clip_cov_detaches_a_uniform_random_subset_of_the_covariance_band():
    batch = make_batch(group_size=None)
    low, high, ratio = -1.0, 1.0, 0.3
    loss, metrics = get_loss("clip_cov", ratio=ratio, cov_low=low, cov_high=high)(batch)
    mask = batch.token_mask.bool()
    advantages = batch.advantages[:, None].expand_as(batch.logp)[mask]
    logp = batch.logp.detach()[mask]
    rho = ratio_of(batch)[mask]
    cov = (advantages - advantages.mean()) * (logp - logp.mean())
    clipped = ((advantages > 0) & (rho > 1.2)) | ((advantages < 0) & (rho < 0.8))
    candidates = ((cov > low) & (cov < high) & ~clipped).nonzero().squeeze(1)
    count = min(max(1, int(ratio * mask.sum())), len(candidates))
    # the candidates with the smallest uniforms: a uniformly random subset of the band
    chosen = candidates[batch.uniforms[mask][candidates].argsort()[:count]]
    keep = torch.ones_like(rho)
    keep[chosen] = 0.0
    surrogate = -torch.minimum(rho * advantages, rho.clamp(0.8, 1.2) * advantages)
    assert loss.item() == pytest.approx((surrogate * keep).mean().item(), rel=1e-12)
    assert metrics["cov_detached_frac"] == pytest.approx(count / mask.sum().item())
    assert 0 < count < len(candidates)  # the budget binds: the uniforms choose


def test_clip_cov_selection_follows_the_uniforms():
    batch = make_batch(group_size=None)
    options = {"ratio": 0.2, "cov_low": -1.0, "cov_high": 1.0}
    gradient = get_loss("clip_cov", **options).input_grads(batch)["logp"]
    reversed_uniforms = LossBatch(**{**batch.__dict__, "uniforms": 1.0 - batch.uniforms})
    assert not torch.equal(gradient, get_loss("clip_cov", **options).input_grads(reversed_uniforms)["logp"])
    assert torch.equal(gradient, get_loss("clip_cov", **options).input_grads(batch)["logp"])  # a pure function


def test_entropy_advantage_adds_a_clipped_bonus_that_never_flips_the_sign():
    batch = make_batch()
    loss, _ = get_loss("entropy_adv", alpha=0.4, kappa=2.0)(batch)
    advantages = batch.advantages[:, None]
    shaped = advantages + torch.minimum(0.4 * batch.entropy, advantages.abs() / 2.0)
    assert (torch.sign(shaped) == torch.sign(advantages).expand_as(shaped)).all()
    rho = ratio_of(batch)
    expected = token_mean(batch, -torch.minimum(rho * shaped, rho.clamp(0.8, 1.2) * shaped))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    with pytest.raises(ValueError, match="kappa must be > 1"):
        get_loss("entropy_adv", kappa=1.0)


def test_gspo_uses_the_length_normalised_sequence_ratio():
    batch = make_batch()
    loss, _ = get_loss("gspo", eps_low=0.1, eps_high=0.2)(batch)
    mask = batch.token_mask
    s = (((batch.logp.detach() - batch.old_logp) * mask).sum(1) / mask.sum(1)).exp()
    advantages = batch.advantages
    expected = sequence_mean(batch, -torch.minimum(s * advantages, s.clamp(0.9, 1.2) * advantages))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)


@pytest.mark.parametrize(
    "advantage,behaviour,policy,masked",
    [
        (1.0, 0.60, 0.90, True),
        (1.0, 0.60, 0.30, False),
        (-1.0, 0.60, 0.30, True),
        (-1.0, 0.60, 0.90, False),
        (1.0, 0.60, 0.75, False),
        (-1.0, 0.60, 0.45, False),
    ],
)
def test_dppo_binary_tv_masks_only_moves_past_the_trust_region_in_the_advantage_direction(
    advantage, behaviour, policy, masked
):
    """The reference's own cases (sail-sg/Stable-RL): delta = 0.2 on p - q."""
    logp = torch.tensor([[math.log(policy)]], dtype=F64, requires_grad=True)
    batch = LossBatch(logp, torch.tensor([[math.log(behaviour)]], dtype=F64), torch.tensor([advantage], dtype=F64))
    loss, metrics = get_loss("dppo")(batch)
    (gradient,) = torch.autograd.grad(loss, logp)
    rho = policy / behaviour
    assert metrics["mask_frac"] == float(masked)
    assert gradient.item() == pytest.approx(0.0 if masked else -advantage * rho)
    assert loss.item() == pytest.approx(0.0 if masked else -advantage * rho)


def test_dppo_binary_kl_and_the_ratio_cap():
    q, p = 0.6, 0.8
    kl = q * math.log(q / p) + (1 - q) * math.log((1 - q) / (1 - p))
    logp = torch.tensor([[math.log(p)]], dtype=F64, requires_grad=True)
    batch = LossBatch(logp, torch.tensor([[math.log(q)]], dtype=F64), torch.tensor([1.0], dtype=F64))
    for delta, masked in ((kl * 0.99, True), (kl * 1.01, False)):
        _, metrics = get_loss("dppo", trust_region="binary_kl", delta_high=delta)(batch)
        assert metrics["mask_frac"] == float(masked)
    capped = get_loss("dppo", cap=1.1, delta_high=1.0)  # rho = 4/3 is past the cap: gradient -A cap, not 0
    (gradient,) = torch.autograd.grad(capped(batch)[0], logp)
    assert gradient.item() == pytest.approx(-1.1)


@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_f_tb_value_is_the_balance_function_of_the_group_centred_residual(divergence):
    batch = make_batch(weights=True)
    eta = 0.7
    loss, _ = get_loss("f_tb", divergence=divergence, eta=eta)(batch)
    mask = batch.token_mask
    delta = ((batch.logp.detach() - batch.ref_logp) * mask).sum(1) - batch.advantages / eta
    w = batch.weights.reshape(2, 4)
    centre = ((w * delta.reshape(2, 4)).sum(1, keepdim=True) / w.sum(1, keepdim=True)).expand(2, 4).reshape(-1)
    s = delta - centre
    # g_f(s) = 2 int_0^s (f'(e^t) - f'(1)) dt, by quadrature of the generator's derivative
    f_prime = {
        "kl": lambda x: math.log(x) + 1,
        "rkl": lambda x: -1 / x,
        "js": lambda x: 0.5 * math.log(2 * x / (x + 1)),
        "tv": lambda x: 0.5 * ((x > 1) - (x < 1)),
        "hd": lambda x: 1 - x**-0.5,
        "jf": lambda x: math.log(x) + 1 - 1 / x,
        "ps": lambda x: 1 - x**-2,
    }[divergence]
    grid = 20001

    def g(value):
        t = torch.linspace(0.0, value, grid, dtype=F64)
        integrand = torch.tensor([2 * (f_prime(math.exp(v)) - f_prime(1.0)) for v in t.tolist()], dtype=F64)
        return torch.trapezoid(integrand, t).item()

    expected = (
        sum(weight * g(value) for weight, value in zip(batch.weights.tolist(), s.tolist(), strict=True))
        / batch.weights.sum()
    )
    # tv's integrand jumps at t = 0, where the trapezoid rule is off by half a grid step
    assert loss.item() == pytest.approx(float(expected), rel=1e-4 if divergence == "tv" else 1e-6, abs=1e-9)
    if divergence == "kl":  # VarGrad: the weighted variance of delta within each group
        variance = (w * (delta.reshape(2, 4) - centre.reshape(2, 4)) ** 2).sum() / w.sum()
        assert loss.item() == pytest.approx(variance.item(), rel=1e-12)


def test_f_tb_is_translation_invariant_per_group():
    """Shifting pi_ref (or the advantages) by a constant within a group changes nothing: no log Z to learn."""
    batch = make_batch()
    loss_fn = get_loss("f_tb", divergence="js")
    shift = torch.tensor([3.0, 3.0, 3.0, 3.0, -7.0, -7.0, -7.0, -7.0], dtype=F64)
    shifted = LossBatch(**{**batch.__dict__, "advantages": batch.advantages + shift})
    torch.testing.assert_close(loss_fn.input_grads(batch)["logp"], loss_fn.input_grads(shifted)["logp"])
    assert loss_fn(batch)[0].item() == pytest.approx(loss_fn(shifted)[0].item(), rel=1e-12)


def test_alpha_dpg_pseudo_reward_against_the_filtered_target():
    batch = make_batch(spread=0.0, mask=False)  # pi_old = pi_theta: on-policy
    alpha = 0.5
    loss, metrics = get_loss("alpha_dpg", alpha=alpha, clip=None)(batch)
    log_base, log_pi = batch.ref_logp.sum(1), batch.logp.detach().sum(1)
    correct = batch.rewards >= 1
    rewards = []
    for group in range(2):
        rows = slice(4 * group, 4 * group + 4)
        z = (torch.exp(log_base[rows] - log_pi[rows]) * correct[rows]).mean()  # importance sampling from pi_old
        p_over_pi = torch.where(correct[rows], torch.exp(log_base[rows] - log_pi[rows]) / z, torch.zeros(4, dtype=F64))
        r = (p_over_pi ** (1 - alpha) - 1) / (1 - alpha)
        rewards.append(r - r.mean())
    advantages = torch.cat(rewards)
    assert loss.item() == pytest.approx(-advantages.mean().item(), rel=1e-12, abs=1e-15)
    (gradient,) = torch.autograd.grad(loss, batch.logp)
    torch.testing.assert_close(gradient, -(advantages / 8)[:, None].expand_as(gradient))
    assert metrics["correct_frac"] == 0.5


def test_alpha_dpg_group_without_a_correct_answer_does_not_move():
    batch = make_batch(mask=False)
    batch = LossBatch(**{**batch.__dict__, "rewards": torch.tensor([0.0] * 4 + [1.0, 0.0, 1.0, 1.0], dtype=F64)})
    gradient = get_loss("alpha_dpg").input_grads(batch)["logp"]
    assert torch.equal(gradient[:4], torch.zeros(4, 3, dtype=F64))
    assert gradient[4:].abs().max() > 0


def test_baseline_options_are_validated_in_one_line():
    for name, options, message in [
        ("alpha_dpg", {"alpha": 1.0}, "alpha must be in"),
        ("clip_cov", {"ratio": 2.0}, "ratio must be a fraction"),
        ("clip_cov", {"cov_low": 5.0, "cov_high": 1.0}, "cov_low must be below cov_high"),
        ("dppo", {"trust_region": "l1"}, "valid choices: binary_tv, binary_kl"),
        ("f_tb", {"divergence": "l2"}, "valid choices: kl, rkl"),
        ("f_tb", {"eta": 0.0}, "eta must be > 0"),
        ("kl_cov", {"coef": -1.0}, "coef must be >= 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            get_loss(name, **options)
    with pytest.raises(ValueError, match="group_size must be a positive divisor"):
        make_batch(group_size=3)
    with pytest.raises(ValueError, match="runs must be a positive divisor"):
        make_batch(runs=3)


# ---- fixed points ----------------------------------------------------------------------------


def exact_batch(
    logits: torch.Tensor,
    old_probs: torch.Tensor,
    advantages: torch.Tensor,
    rewards: torch.Tensor,
    ref_probs: torch.Tensor,
) -> LossBatch:
    """The bandit's exact estimator: every arm once, weighted by pi_old."""
    log_probs = torch.log_softmax(logits, 0)[:, None]
    return LossBatch(
        log_probs,
        old_probs.log()[:, None],
        advantages,
        weights=old_probs,
        ref_logp=ref_probs.log()[:, None],
        rewards=rewards,
        entropy=-(log_probs.exp() * log_probs).sum().expand(len(rewards)),
        uniforms=torch.linspace(0, 1, len(rewards), dtype=F64)[:, None],
    )


def arms(seed: int = 3, count: int = 6) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    old_probs = torch.softmax(torch.randn(count, generator=generator, dtype=F64), 0)
    ref_probs = torch.softmax(torch.randn(count, generator=generator, dtype=F64), 0)
    rewards = torch.tensor([1.0, 0.0, 1.0, 0.3, 0.0, 1.0], dtype=F64)
    return old_probs, ref_probs, rewards, expected_advantages(rewards, old_probs, "dr_grpo")


def logit_gradient(name, options, logits, old_probs, ref_probs, rewards, advantages):
    logits = logits.clone().requires_grad_()
    batch = exact_batch(logits, old_probs, advantages, rewards, ref_probs)
    (gradient,) = torch.autograd.grad(get_loss(name, **options)(batch)[0], logits)
    return gradient


@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_f_tb_is_minimal_at_its_target_under_any_behaviour_policy(divergence):
    """Off-policy validity: the exact expectation under an arbitrary pi_old is minimal (zero) at
    pi_ref exp(A/eta)/Z, the target_distribution, and stationary there (tv's g = |s| has a kink
    at its minimum: its slope there is the sign of rounding noise); a perturbed policy is not."""
    old_probs, ref_probs, rewards, advantages = arms()
    eta = 0.8
    options = {"divergence": divergence, "eta": eta}
    loss_fn = get_loss("f_tb", **options)
    target = loss_fn.target_distribution(ActionSet(rewards, advantages, old_probs, ref_probs))
    torch.testing.assert_close(target, torch.softmax(ref_probs.log() + advantages / eta, 0))
    perturbed = target.log() + torch.tensor([0.4, 0, 0, -0.3, 0, 0], dtype=F64)
    values = [
        loss_fn(exact_batch(logits, old_probs, advantages, rewards, ref_probs))[0].item()
        for logits in (target.log(), perturbed)
    ]
    assert abs(values[0]) < 1e-12 and values[1] > 1e-4
    moved = logit_gradient("f_tb", options, perturbed, old_probs, ref_probs, rewards, advantages)
    assert moved.abs().max().item() > 1e-4
    if divergence != "tv":
        at_target = logit_gradient("f_tb", options, target.log(), old_probs, ref_probs, rewards, advantages)
        assert at_target.abs().max().item() < 1e-12


def test_f_tb_kl_on_policy_gradient_is_the_kl_gradient():
    """VarGrad on-policy: its gradient is twice that of KL(pi || target) (the TB identity)."""
    _, ref_probs, rewards, advantages = arms()
    logits = torch.randn(6, dtype=F64, generator=torch.Generator().manual_seed(5))
    policy = torch.softmax(logits, 0)
    gradient = logit_gradient("f_tb", {}, logits, policy, ref_probs, rewards, advantages)
    target = torch.softmax(ref_probs.log() + advantages, 0)
    logits = logits.clone().requires_grad_()
    probs = torch.softmax(logits, 0)
    (kl_gradient,) = torch.autograd.grad((probs * (probs.log() - target.log())).sum(), logits)
    torch.testing.assert_close(gradient, 2 * kl_gradient)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
def test_alpha_dpg_approaches_the_filtered_base_model(alpha):
    """Near p = pi_base 1[correct] / Z (incorrect logits at -40) the gradient vanishes; at the
    base model itself it moves mass from the incorrect arms to the correct ones."""
    old_probs, ref_probs, rewards, advantages = arms()
    options = {"alpha": alpha}
    loss_fn = get_loss("alpha_dpg", **options)
    target = loss_fn.target_distribution(ActionSet(rewards, advantages, old_probs, ref_probs))
    correct = rewards >= 1
    torch.testing.assert_close(target, torch.where(correct, ref_probs, 0.0) / ref_probs[correct].sum())
    near = torch.where(correct, ref_probs.log(), torch.full_like(ref_probs, -40.0))
    assert logit_gradient("alpha_dpg", options, near, old_probs, ref_probs, rewards, advantages).abs().max() < 1e-12
    at_base = logit_gradient("alpha_dpg", options, ref_probs.log(), old_probs, ref_probs, rewards, advantages)
    assert (at_base[~correct] > 0).all() and (at_base[correct] < 0).all()  # descent raises the correct logits


@pytest.mark.parametrize("name", ["clip_cov", "kl_cov", "entropy_adv", "gspo", "dppo"])
def test_policy_gradient_baselines_target_the_best_arms_and_push_towards_them_on_policy(name):
    old_probs, ref_probs, rewards, advantages = arms()
    loss_fn = get_loss(name)
    target = loss_fn.target_distribution(ActionSet(rewards, advantages, old_probs, ref_probs))
    best = rewards == rewards.max()
    torch.testing.assert_close(target, best.to(F64) / best.sum())
    on_policy = logit_gradient(name, {}, old_probs.log(), old_probs, ref_probs, rewards, advantages)
    assert (on_policy[best] < 0).all() and (on_policy[rewards == 0] > 0).all()


@pytest.mark.parametrize("name", BASELINES)
def test_losses_stay_finite_in_float32_at_extreme_log_probabilities(name):
    logp = torch.full((8, 5), -60.0, requires_grad=True)
    old_logp = torch.full((8, 5), -2.0)
    rewards = torch.tensor([1.0, 0.0] * 4)
    batch = LossBatch(
        logp,
        old_logp,
        torch.tensor([50.0, -50.0] * 4),
        ref_logp=torch.full((8, 5), -1.0),
        entropy=torch.ones(8, 5),
        rewards=rewards,
        uniforms=torch.rand(8, 5),
        group_size=4,
    )
    loss_fn = get_loss(name)
    loss, metrics = loss_fn(batch)
    (gradient,) = torch.autograd.grad(loss, logp)
    assert torch.isfinite(loss) and torch.isfinite(gradient).all(), name
    assert all(math.isfinite(value) for value in metrics.values()), (name, metrics)
    assert torch.isfinite(loss_fn.input_grads(batch)["logp"]).all()
