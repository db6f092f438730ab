"""Network bandit families: exact targets against brute-force enumeration and numerical
integration, the policies against independent implementations, the batched engine, and each
family's representable target reached."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import integrate

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import RunSettings, runs_of, train
from ladbench.bandit.envs import make_env
from ladbench.bandit.policies import make_policy
from ladbench.bandit.policies.continuous import truncated_normal_log_density, truncated_normal_sample
from ladbench.bandit.targets import method_target
from ladbench.losses import get_loss

SMALL_SEQUENCE = {"vocab": 2, "length": 3, "weights": "0.6,0.4"}


def final(config: BanditConfig, seeds=(0,)) -> dict[str, np.ndarray]:
    output = train(config, runs_of(config, seeds))
    return {name: values[-1] for name, values in output.curves.items()}


def generators(count: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed) for seed in range(count)]


def test_sequence_truth_and_targets_against_enumeration():
    env = make_env("sequence", {"vocab": 3, "length": 3})
    optimal = [tuple(row) for row in env.optimal().tolist()]
    expected, sequences = [], list(itertools.product(range(3), repeat=3))
    for sequence in sequences:
        distances = [sum(a != b for a, b in zip(sequence, best, strict=True)) for best in optimal]
        expected.append(sum(w * math.exp(-env.sharpness * d) for w, d in zip(env.weights, distances, strict=True)))
    truth = np.array(expected) / sum(expected)
    np.testing.assert_allclose(env.ground_truth()[0].numpy(), truth, rtol=1e-12)
    assert all(
        env.rewards()[0, env.centres[i]].item() == pytest.approx(np.log(truth[env.centres[i]] / truth.max()))
        for i in range(3)
    )
    uniform = torch.full((1, 1, 27), 1 / 27, dtype=torch.float64)
    rewards = np.log(truth / truth.max())
    advantages = rewards - rewards.mean()
    flowrl = method_target(get_loss("flowrl"), "dr_grpo", env.rewards(), uniform, tokens=env.tokens)
    expected_flowrl = np.exp(3 * 15 * advantages - (3 * 15 * advantages).max())  # pi_ref exp(L beta A)
    np.testing.assert_allclose(flowrl[0, 0].numpy(), expected_flowrl / expected_flowrl.sum(), rtol=1e-9)


def test_contextual_truth_and_lad_target_per_context_against_brute_force():
    env = make_env("contextual", {"contexts": 3, "arms": 12})
    _, centres, widths, weights = env._layout(torch.float64)
    behaviour = torch.softmax(
        torch.randn(1, 3, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64), -1
    )
    target = method_target(get_loss("lad", eta=0.5), "dr_grpo", env.rewards(), behaviour)
    for context in range(3):
        density = [
            sum(
                w / s * math.exp(-0.5 * ((arm - c) / s) ** 2)
                for c, s, w in zip(
                    centres[context].tolist(), widths[context].tolist(), weights[context].tolist(), strict=True
                )
            )
            for arm in range(12)
        ]
        truth = np.array(density) / sum(density)
        np.testing.assert_allclose(env.ground_truth()[context].numpy(), truth, rtol=1e-10)
        pi_old = behaviour[0, context].numpy()
        rewards = np.log(truth / truth.max())
        unnormalised = pi_old * np.exp((rewards - pi_old @ rewards) / 0.5)
        np.testing.assert_allclose(target[0, context].numpy(), unnormalised / unnormalised.sum(), rtol=1e-10)


@pytest.mark.parametrize("dim", [1, 2])
def test_continuous_grid_target_against_numerical_integration(dim):
    """LAD's target at eta = 1 under the Gaussian policy's initial pi_old, pi_old(y) exp(r(y)) / Z,
    on the grid (midpoint rule) against adaptive quadrature: its normaliser and mean (separable
    per mixture component, since pi_old is a product of 1-D truncated normals and the components
    are isotropic), and for d = 1 its mode masses (cells are assigned to a mode by their centre,
    so a mode boundary inside a cell costs up to ~1e-4 of mass)."""
    env = make_env("continuous", {"dim": dim})
    config = BanditConfig.build(env="continuous", env_options={"dim": dim}, steps=1)
    policy = make_policy(config, env)
    params = policy.init(generators(1))
    behaviour = torch.log_softmax(policy.token_logp(params)[:, :, :, 0] + env.log_cell_volume, -1).exp()
    target = method_target(config.loss.build(), config.advantage, env.rewards(), behaviour)[0, 0]
    points = env.grid_points()
    unnormalised = (policy.token_logp(params)[0, 0, :, 0] + env.reward_at(points)).exp() * math.exp(env.log_cell_volume)
    offset = env.log_q(points).max().item()

    def pi_old_1d(y, axis):
        return math.exp(
            truncated_normal_log_density(
                torch.tensor(y, dtype=torch.float64), params["mean"][0, axis], params["log_scale"][0, axis]
            ).item()
        )

    normaliser, first_moment = 0.0, np.zeros(dim)
    for centre, width, weight in zip(env.CENTRES[dim], env.WIDTHS, env.WEIGHTS, strict=True):

        def factor(axis, power, centre=centre, width=width):
            return integrate.quad(
                lambda y: y**power * pi_old_1d(y, axis) * math.exp(-0.5 * ((y - centre[axis]) / width) ** 2),
                -1,
                1,
                epsabs=1e-13,
                limit=200,
            )[0]

        scale = weight * width**-dim * math.exp(-offset)
        zeroth = [factor(axis, 0) for axis in range(dim)]
        normaliser += scale * math.prod(zeroth)
        for axis in range(dim):
            first_moment[axis] += scale * math.prod(zeroth) / zeroth[axis] * factor(axis, 1)
    assert unnormalised.sum().item() == pytest.approx(normaliser, rel=1e-4)
    np.testing.assert_allclose((target[:, None] * points).sum(0).numpy(), first_moment / normaliser, atol=1e-4)
    if dim == 1:

        def density(y):
            return pi_old_1d(y, 0) * math.exp(env.reward_at(torch.tensor([[y]], dtype=torch.float64))[0].item())

        centres = [centre[0] for centre in env.CENTRES[1]]
        edges = [-1.0, (centres[0] + centres[1]) / 2, (centres[1] + centres[2]) / 2, 1.0]
        masses = np.array(
            [integrate.quad(density, edges[m], edges[m + 1], epsabs=1e-12, limit=200)[0] for m in range(3)]
        )
        np.testing.assert_allclose(env.mode_masses(target[None])[0].numpy(), masses / masses.sum(), atol=5e-4)


def test_truncated_normal_integrates_to_one_and_samples_follow_it():
    mean, log_scale = torch.tensor(0.7, dtype=torch.float64), torch.tensor(math.log(0.4), dtype=torch.float64)

    def density(y):
        return math.exp(truncated_normal_log_density(torch.tensor(y, dtype=torch.float64), mean, log_scale).item())

    assert integrate.quad(density, -1, 1)[0] == pytest.approx(1.0, abs=1e-10)
    samples = truncated_normal_sample(
        torch.rand(100_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64), mean, log_scale
    )
    assert samples.min() >= -1 and samples.max() <= 1
    assert samples.mean().item() == pytest.approx(integrate.quad(lambda y: y * density(y), -1, 1)[0], abs=0.005)


@pytest.mark.parametrize("policy", ["gaussian", "mdn", "discretised"])
def test_continuous_policies_are_densities_and_sample_from_themselves(policy):
    env = make_env("continuous", {"dim": 2, "grid": 128})
    capacity = {"bins": 8} if policy == "discretised" else {}  # bins is the discretised policy's alone
    config = BanditConfig.build(
        env="continuous", env_options={"dim": 2, "grid": 128}, policy=policy, init_std=0.5, **capacity
    )
    model = make_policy(config, env)
    params = model.init(generators(2))
    cell_mass = (model.token_logp(params)[:, 0, :, 0] + env.log_cell_volume).exp()
    np.testing.assert_allclose(cell_mass.sum(dim=-1).numpy(), 1.0, atol=2e-3)  # the midpoint rule of the integral
    samples = model.sample(
        params, torch.rand(2, 20_000, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    )
    assert samples.abs().max() <= 1
    grid_mean = (cell_mass[..., None] * env.grid_points()).sum(dim=1)
    np.testing.assert_allclose(samples.mean(dim=1).numpy(), grid_mean.numpy(), atol=0.02)


def test_gru_policy_is_pytorchs_gru():
    env = make_env("sequence", SMALL_SEQUENCE)
    config = BanditConfig.build(env="sequence", env_options=SMALL_SEQUENCE, width=5, init_std=0.7)
    model = make_policy(config, env)
    params = model.init(generators(2))
    for run in range(2):
        cell = torch.nn.GRUCell(5, 5, dtype=torch.float64)
        with torch.no_grad():
            cell.weight_ih.copy_(params["w_ih"][run].T), cell.weight_hh.copy_(params["w_hh"][run].T)
            cell.bias_ih.copy_(params["b_ih"][run]), cell.bias_hh.copy_(params["b_hh"][run])
        sequences = env.sequences()
        inputs = torch.cat([torch.full((len(sequences), 1), 2), sequences[:, :-1]], dim=1)
        hidden = torch.zeros(len(sequences), 5, dtype=torch.float64)
        expected = []
        for position in range(3):
            hidden = cell(params["embed"][run][inputs[:, position]], hidden)
            logp = torch.log_softmax(hidden @ params["w_out"][run] + params["b_out"][run], -1)
            expected.append(logp.gather(1, sequences[:, position : position + 1])[:, 0])
        torch.testing.assert_close(model.token_logp(params)[run, 0], torch.stack(expected, -1).detach())


def test_transformer_prefix_evaluation_equals_full_causal_attention():
    env = make_env("sequence", SMALL_SEQUENCE)
    config = BanditConfig.build(env="sequence", env_options=SMALL_SEQUENCE, policy="transformer", width=4, init_std=0.7)
    model = make_policy(config, env)
    p = {name: value[1] for name, value in model.init(generators(2)).items()}
    sequences = env.sequences()
    x = p["embed"][torch.cat([torch.full((len(sequences), 1), 2), sequences[:, :-1]], 1)] + p["position"]  # [N, L, H]
    scores = (x @ p["w_q"]) @ (x @ p["w_k"]).transpose(1, 2) / 2.0
    scores = scores.masked_fill(~torch.ones(3, 3, dtype=torch.bool).tril(), float("-inf"))
    x = x + torch.softmax(scores, -1) @ (x @ p["w_v"]) @ p["w_o"]
    x = x + torch.relu(x @ p["w_1"] + p["b_1"]) @ p["w_2"] + p["b_2"]
    logp = torch.log_softmax(x @ p["w_out"] + p["b_out"], -1).gather(2, sequences[..., None])[..., 0]
    torch.testing.assert_close(model.token_logp(model.init(generators(2)))[1, 0], logp)


REPRESENTABLE = [  # (fields, steps): a method whose optimum is the target, with a policy that can represent it
    ({"env": "contextual", "lr": 1e-2}, 400),
    (
        {
            "env": "sequence",
            "env_options": SMALL_SEQUENCE,
            "lr": 2e-2,
            "loss": {"name": "lad", "ratio_level": "sequence"},
        },
        200,
    ),
    (
        {
            "env": "sequence",
            "env_options": SMALL_SEQUENCE,
            "policy": "transformer",
            "loss": {"name": "flowrl", "beta": 1.0},
            "lr": 2e-2,
        },
        250,
    ),
    (
        {
            "env": "sequence",
            "env_options": SMALL_SEQUENCE,
            "method": "entropy_pg",
            "eta": 1.0,
            "protocol": "refresh",
            "lr": 2e-2,
        },
        200,
    ),
    ({"env": "continuous", "env_options": {"grid": 32}, "policy": "discretised", "bins": 32, "lr": 2e-2}, 400),
    ({"env": "continuous", "policy": "mdn", "method": "entropy_pg", "eta": 1.0, "lr": 1e-2}, 600),
]


@pytest.mark.parametrize("fields,steps", REPRESENTABLE)
def test_representable_targets_are_reached(fields, steps):
    metrics = final(BanditConfig.build(steps=steps, log_interval=steps, **fields))
    assert metrics["tv_target"][0] < 0.02 and metrics["mode_coverage"][0] == 1.0


def test_runs_do_not_depend_on_batch_mates_and_inner_epochs_repeat_a_fixed_exact_step():
    config = BanditConfig.build(
        env="sequence", env_options=SMALL_SEQUENCE, estimator="sampled", steps=30, inner_epochs=2
    )
    together = train(config, [RunSettings(3, 1e-2, {"eta": 2.0}), RunSettings(7, 5e-3, {"eta": 1.0})])
    alone = train(config, [RunSettings(7, 5e-3, {"eta": 1.0})])
    np.testing.assert_allclose(together.final_policy[1], alone.final_policy[0], rtol=1e-10)
    exact = {"env": "contextual", "env_options": {"contexts": 2, "arms": 8}}
    epochs = train(BanditConfig.build(steps=20, inner_epochs=3, **exact), [RunSettings(0, 5e-3, {"eta": 1.0})])
    steps = train(BanditConfig.build(steps=60, **exact), [RunSettings(0, 5e-3, {"eta": 1.0})])
    np.testing.assert_allclose(epochs.final_policy, steps.final_policy, rtol=1e-10)


def test_token_level_ratio_moves_lads_fixed_point_off_the_sequence_target():
    """Recorded: with per-token ratios (the default ratio_level) LAD's stationary point is not
    pi_old exp(A / eta), which the sequence-level ratio reaches (see the representable test)."""
    token = final(BanditConfig.build(env="sequence", env_options=SMALL_SEQUENCE, lr=2e-2, steps=200))
    sequence = final(
        BanditConfig.build(
            env="sequence",
            env_options=SMALL_SEQUENCE,
            lr=2e-2,
            steps=200,
            loss={"name": "lad", "ratio_level": "sequence"},
        )
    )
    assert token["tv_target"][0] > 0.01
    assert sequence["tv_target"][0] < 0.001


def test_flowrl_can_lock_onto_a_suboptimal_sequence():
    """Recorded: FlowRL's residual is weighted by w = pi / pi_old, so any point mass with log Z
    fitted to it zeroes the loss. On the L = 3 sequence bandit with beta = 15 (its target is
    pi_ref exp(3 beta A), a point mass on the best sequence) it ends on the other optimum."""
    metrics = final(BanditConfig.build(env="sequence", env_options=SMALL_SEQUENCE, method="flowrl", lr=2e-2, steps=200))
    assert metrics["max_prob"][0] > 0.99 and metrics["tv_target"][0] > 0.99
