"""Worst relative error of LAD's value and gradient in float32, against float64 reference formulas.

For every generator and both ratio levels, LAD (eta = 1, so u = A) is evaluated in float32 on a
grid of (log rho, u) in [-80, 80] x [-30, 30], plus points close to each generator's roots
(log x = log rho - u within 2^-18 of 0, and of -1 for KL's derivative). Grid values are
exactly representable in float32, and log rho - u is exact, so the reference sees the same inputs.
The reference is written here from the generators' textbook formulas in x, evaluated with mpmath
at 30 digits and rounded to float64: value exp(u) f(x), gradient f'(x) rho (d loss / d logp,
divided by the aggregation coefficient). (The same formulas in plain float64 are themselves up to
1e-5 off next to x = 1, for JS.)
Points whose reference lies outside float32's normal range (above its largest or below its
smallest normal number) cannot be held to a relative bound; they are skipped and counted.

Columns: the worst relative error (inf when a finite reference came out inf or NaN), the worst
among the points that came out finite, how many came out inf or NaN, how many were skipped.

Only the public API is used (``get_loss``, ``LossBatch``, autograd), so the script measures any
version of the loss module:

    python benchmarks/lad_float32_accuracy.py [--step 1.0]
"""

from __future__ import annotations

import argparse
import math
import os

import mpmath
import torch

from ladbench.losses import DIVERGENCES, LossBatch, get_loss

mpmath.mp.dps = 30
# f and f' written in x (not log space), as in the LAD paper's table.
F_DIRECT = {
    "kl": (lambda x: x * mpmath.log(x), lambda x: mpmath.log(x) + 1),
    "rkl": (lambda x: -mpmath.log(x), lambda x: -1 / x),
    "js": (
        lambda x: (x * mpmath.log(x) - (x + 1) * mpmath.log((x + 1) / 2)) / 2,
        lambda x: mpmath.log(2 * x / (x + 1)) / 2,
    ),
    "tv": (lambda x: abs(x - 1) / 2, lambda x: mpmath.sign(x - 1) / 2),
    "hd": (lambda x: (mpmath.sqrt(x) - 1) ** 2, lambda x: 1 - 1 / mpmath.sqrt(x)),
    "jf": (lambda x: (x - 1) * mpmath.log(x), lambda x: mpmath.log(x) + 1 - 1 / x),
    "ps": (lambda x: (x - 1) ** 2 / x, lambda x: 1 - 1 / x**2),
}
TOKENS = {"token": 1, "sequence": 4}  # a sequence's log rho sits on its first token, the others have 0


def grid(step: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(log rho, u) pairs in float64, every value exactly representable in float32."""
    log_rho = torch.arange(-80.0, 80.0 + step / 2, step, dtype=torch.float64)
    u = torch.arange(-30.0, 30.0 + step / 2, step, dtype=torch.float64)
    log_rho, u = (t.reshape(-1) for t in torch.meshgrid(log_rho, u, indexing="ij"))
    near_u = torch.tensor([-30.0, -17.5, -3.0, 0.0, 2.5, 16.0, 29.75], dtype=torch.float64)
    offsets = torch.tensor([sign * 2.0**-k for k in range(1, 19) for sign in (1, -1)], dtype=torch.float64)
    near_u, offsets = (t.reshape(-1) for t in torch.meshgrid(near_u, offsets, indexing="ij"))
    log_rho = torch.cat([log_rho, near_u + offsets, near_u - 1.0 + offsets])
    u = torch.cat([u, near_u, near_u])
    assert torch.equal(log_rho.float().double(), log_rho) and torch.equal(u.float().double(), u)
    return log_rho, u


def reference(divergence: str, log_rho: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """exp(u) f(x) and f'(x) rho, x = exp(log rho - u), from mpmath, as float64."""
    f, f_prime = F_DIRECT[divergence]
    values, gradients = [], []
    for point_log_rho, point_u in zip(log_rho.tolist(), u.tolist(), strict=True):
        x = mpmath.exp(mpmath.mpf(point_log_rho) - mpmath.mpf(point_u))
        values.append(float(mpmath.exp(point_u) * f(x)))
        gradients.append(float(f_prime(x) * mpmath.exp(point_log_rho)))
    return torch.tensor(values, dtype=torch.float64), torch.tensor(gradients, dtype=torch.float64)


def lad_batch(log_rho: torch.Tensor, u: torch.Tensor, tokens: int) -> LossBatch:
    """float32 batch whose sequence b has log rho_b on its first token and 0 on the others, so
    that log pi_theta - log pi_old and its sum over tokens are exact (old_logp = 0 for that)."""
    old_logp = torch.zeros(len(u), tokens)
    logp = torch.zeros(len(u), tokens)
    logp[:, 0] = log_rho.float()
    return LossBatch(logp=logp.requires_grad_(), old_logp=old_logp, advantages=u.float())


def relative_errors(value: torch.Tensor, expected: torch.Tensor) -> tuple[float, float, int, int]:
    """Over the points whose reference lies inside float32's normal range: the worst
    |value - expected| / |expected| (an exact zero reference counts the absolute error), the worst
    among the points that came out finite, and how many came out inf or NaN; then how many points
    lie outside that range."""
    float32 = torch.finfo(torch.float32)
    inside = (expected.abs() <= float32.max) & ((expected.abs() >= float32.tiny) | (expected == 0))
    value = value.detach().double()[inside]
    expected = expected[inside]
    error = (value - expected).abs() / expected.abs().where(expected != 0, torch.ones_like(expected))
    finite = value.isfinite()
    worst = float(error.nan_to_num(nan=math.inf, posinf=math.inf).max())
    return worst, float(error[finite].max()), int((~finite).sum()), int((~inside).sum())


def measure(divergence: str, ratio_level: str, log_rho: torch.Tensor, u: torch.Tensor) -> dict[str, float]:
    """One batch per point (B = 1): a batch of several would scale each gradient by 1/B, pushing
    the smallest below float32's normal range."""
    loss_fn = get_loss("lad", divergence=divergence, eta=1.0, ratio_level=ratio_level)
    expected_value, expected_gradient = reference(divergence, log_rho, u)
    values, gradients, closed_forms = [], [], []
    for i in range(len(u)):
        batch = lad_batch(log_rho[i : i + 1], u[i : i + 1], TOKENS[ratio_level])
        loss, _ = loss_fn(batch)
        values.append(loss.detach())
        gradients.append(torch.autograd.grad(loss, batch.logp)[0][0, 0])
        closed_forms.append(loss_fn.input_grads(batch)["logp"][0, 0])
    # token_mean over the T tokens of the one sequence: d loss / d logp_1 = f'(x) rho / T at
    # token level (only token 1 has log rho); at sequence level every token gets
    # (sum_t 1/T) f'(x) rho = f'(x) rho
    scale = 1.0 if ratio_level == "sequence" else 1.0 / TOKENS[ratio_level]
    return {
        "value": relative_errors(torch.stack(values), expected_value),
        "autograd": relative_errors(torch.stack(gradients), expected_gradient * scale),
        "input_grads": relative_errors(torch.stack(closed_forms), expected_gradient * scale),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=1.0, help="grid spacing (a power of two keeps points exact)")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    log_rho, u = grid(arguments.step)
    print(f"{len(u)} points; load average {os.getloadavg()[0]:.2f}")
    print(
        f"{'generator':<10}{'ratio':<10}{'quantity':<13}{'worst':>10}{'finite worst':>14}{'inf/NaN':>9}{'skipped':>9}"
    )
    for divergence in DIVERGENCES:
        for ratio_level in TOKENS:
            for quantity, (worst, finite_worst, non_finite, skipped) in measure(
                divergence, ratio_level, log_rho, u
            ).items():
                print(
                    f"{divergence:<10}{ratio_level:<10}{quantity:<13}{worst:>10.2g}{finite_worst:>14.2g}"
                    f"{non_finite:>9}{skipped:>9}"
                )


if __name__ == "__main__":
    main()
