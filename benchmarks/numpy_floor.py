"""The speed floor of the paper bandit: its arithmetic as a batched numpy loop, and nothing else.

The paper configuration (LAD-JS, exact estimator, pi_old fixed at the initial policy, dr_grpo
advantage, Adam) written out for R runs at once, each with its own eta and lr. No loss object,
no batch, no logging: the per-step cost of the arithmetic itself, which ``bandit_speed.py``
times the engine against. It must reproduce the engine's final policies (to 1e-9 over 200
steps, asserted by the benchmark and by tests/test_loop.py), so the floor computes what
the engine computes.

With z [R, K] the logits, pi_old the initial policy, A = r - E_{pi_old}[r] and u = A / eta
(clamped to +-30 like ``LADLoss``), each step:

    log pi = z - logsumexp(z)                  l = log rho = log pi - log pi_old,   s = log x = l - u
    g      = pi_old f'(x) rho                  (JS: f'(x) = 1/2 log(2x / (1 + x)))
    dL/dz  = g - pi sum_a g                    (each run's loss is the pi_old-weighted mean)
    Adam(z, dL/dz, lr)                         (betas 0.9 / 0.999, eps 1e-8, torch's update)

f'(x) is evaluated as the loss evaluates it (``losses.divergences``' float32-safe closed form,
-1/2 [log1p(expm1(m) / 2) + (-s - m)] with m = min(-s, 30)). Only the initial logits come from
torch (each run's seeded generator, as the engine draws them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import initial_logits
from ladbench.bandit.envs import TrimodalBandit, build_env
from ladbench.bandit.runs import DTYPE, RunSettings
from ladbench.losses.divergences import JS_SWITCH

U_CLIP = 30.0  # LADLoss's default u_clip
LOG_2 = math.log(2.0)
PAPER_ARITHMETIC = {"estimator": "exact", "protocol": "fixed", "advantage": "dr_grpo", "inner_epochs": 1}


def check_paper_arithmetic(config: BanditConfig) -> None:
    """The floor implements one configuration; anything else is a ValueError."""
    loss = config.loss.resolved()
    settings = {name: getattr(config, name) for name in PAPER_ARITHMETIC}
    lad_js = loss["name"] == "lad" and loss["divergence"] == "js" and loss["ratio_level"] == "token"
    if settings != PAPER_ARITHMETIC or not lad_js or loss["u_clip"] != U_CLIP or config.env != "trimodal":
        raise ValueError(f"the numpy floor runs only LAD-JS on the trimodal bandit with {PAPER_ARITHMETIC}")


def train_floor(config: BanditConfig, runs: Sequence[RunSettings]) -> np.ndarray:
    """Final policies [R, K] of ``runs`` under ``config`` (the paper arithmetic, see the docstring)."""
    check_paper_arithmetic(config)
    env = build_env(config)
    assert isinstance(env, TrimodalBandit)
    z = initial_logits(env, config.init_std, [torch.Generator().manual_seed(run.seed) for run in runs]).numpy()
    rewards = env.rewards(DTYPE).numpy()
    eta = np.array([run.loss_options.get("eta", config.loss.resolved()["eta"]) for run in runs])[:, None]
    lr = np.array([run.lr for run in runs])[:, None]

    old_log_probs = log_softmax(z)
    old_probs = np.exp(old_log_probs)
    advantages = rewards - (old_probs * rewards).sum(axis=-1, keepdims=True)
    u = np.clip(advantages / eta, -U_CLIP, U_CLIP)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    first, second = np.zeros_like(z), np.zeros_like(z)
    for step in range(1, config.steps + 1):
        log_probs = log_softmax(z)
        log_rho = log_probs - old_log_probs
        log_x = log_rho - u
        grad = old_probs * (js_derivative(log_x) * np.exp(log_rho))
        grad -= np.exp(log_probs) * grad.sum(axis=-1, keepdims=True)
        first += (1 - beta1) * (grad - first)
        second *= beta2
        second += (1 - beta2) * grad * grad
        denominator = np.sqrt(second) / math.sqrt(1 - beta2**step) + eps
        z -= first / denominator * (lr / (1 - beta1**step))
    return np.exp(log_softmax(z))


def js_derivative(log_x: np.ndarray) -> np.ndarray:
    """f'(x) as ``losses.divergences`` evaluates it: -1/2 [log1p(expm1(m) / 2) + (-s - m)],
    m = min(-s, JS_SWITCH) (exact near x = 1, no overflow below)."""
    m = np.minimum(-log_x, JS_SWITCH)
    return -0.5 * (np.log1p(0.5 * np.expm1(m)) + (-log_x - m))


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
