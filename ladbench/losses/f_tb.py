"""f-Trajectory Balance: batch-centred trajectory balance and its f-divergence family (Fawkes and
Hartford, "f-Trajectory Balance", arXiv 2605.15417; VarGrad: Richter et al. 2020, arXiv
2010.10436; "log-partition variance" for GFlowNets: Zhang et al. 2023, arXiv 2302.05446).

The target is pi_ref exp(A / eta) / Z, the KL-regularised optimum anchored to a fixed reference
(LAD's is anchored to pi_old). Per sequence b, with sums over its real tokens,

    delta_b = sum_t log pi_theta - sum_t log pi_ref - A_b / eta     (log pi_theta / target, up to log Z)
    c_g     = sg( weighted mean of delta over b's group )           (the group's estimate of log Z)
    L       = sum_b c_b g_f(delta_b - c_g),        c_b = w_b / sum_b w_b

Trajectory balance squares delta - log Z with a learned log Z (FlowRL); VarGrad estimates log Z
by the batch, which makes the loss translation invariant: it depends on log pi_theta - log target
only up to a constant per group, so no partition function is learned. ``divergence = "kl"``
(default) is VarGrad itself, g(s) = s^2: the variance of delta within each group.

The family. Take g_f with g_f(0) = 0 and g_f'(s) = 2 (f'(e^s) - f'(1)) for a generator f of
LAD's table (``divergences``): convex, minimal at s = 0, so under any sampling distribution
(off-policy, the exact estimator) the loss is minimal exactly when delta is constant on each
group's support, i.e. at pi_theta = pi_ref exp(A / eta) / Z. On-policy its gradient is
2 E_pi[f'(x e^{-KL(pi || p)}) grad log pi], x = pi / p, against the gradient E_pi[f'(x) grad log pi]
of D_f(pi || p) = E_p[f(pi / p)] in LAD's convention: the same for kl (the centring only shifts
f' by a constant, which a score-function gradient ignores), the same direction for the power
generators rkl, hd, ps (f'(cx) - f'(1) is a positive multiple), shifted for js, jf and tv.
We derived this family from the paper's statement (translation-invariant losses <-> f-
divergences through the on-policy gradient), whose text we could not consult; the centring by the
group mean (rather than the exact log Z) is VarGrad's, and the reason the correspondence is exact
for kl and the power generators only. With the factor 2, kl gives VarGrad's (delta - mean)^2:

| f   | g_f(s)                                   | g_f'(s)                 |
|-----|------------------------------------------|-------------------------|
| kl  | s^2                                      | 2 s                     |
| rkl | 2 (e^-s - 1 + s)                         | 2 (1 - e^-s)            |
| js  | s log 2 - Li2(-e^-s) - pi^2/12           | log 2 - softplus(-s)    |
| tv  | abs(s)                                   | sign(s)                 |
| hd  | 2 (s + 2 (e^{-s/2} - 1))                 | 2 (1 - e^{-s/2})        |
| jf  | s^2 + 2 (e^-s - 1 + s)                   | 2 s + 2 (1 - e^-s)      |
| ps  | 2 s + e^{-2s} - 1                        | 2 (1 - e^{-2s})         |

(Li2 the dilogarithm, ``_js_value``.) Beyond |s| > s_clip (default 30) g continues along
its tangent, so value and gradient stay finite in float32 (e^{2 s_clip} < 3e38); the clip never
binds in the bandit, where |s| is a few units.

Gradients: d L / d log pi_bt = c_b g_f'(s_b) m_bt (c_g is a constant; for kl its gradient would
vanish anyway, since the weighted deviations of a group sum to zero).

Fixed point: pi_ref exp(A / eta) / Z over a full action set. Over a sequence of length T the sum
of token log-probs is log pi(y), so the target has no T (FlowRL's mean over tokens has one).
With the mean-baseline advantage (``dr_grpo``) A = r - E_{pi_old}[r], the group centring absorbs
the baseline: the target pi_ref exp(r / eta) / Z does not move when pi_old does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ladbench.losses.batch import ActionSet, LossBatch
from ladbench.losses.checks import check_choice, check_positive
from ladbench.losses.divergences import DIVERGENCES
from ladbench.losses.groups import group_mean, sequence_coefficients, sequence_sum
from ladbench.losses.registry import Loss, register_loss

if TYPE_CHECKING:
    from collections.abc import Callable

    from torch import Tensor

LOG_2 = math.log(2.0)
PI_SQUARED = math.pi**2
# B_n / (n + 1)! for n = 0..20 (Bernoulli numbers, B_1 = -1/2): Li2(z) = sum_n B_n u^(n+1) / (n+1)!,
# u = -log(1 - z); |u| <= log 2 here, where the terms after n = 20 are below 1e-20.
_BERNOULLI = (
    1.0,
    -0.5,
    1 / 6,
    0.0,
    -1 / 30,
    0.0,
    1 / 42,
    0.0,
    -1 / 30,
    0.0,
    5 / 66,
    0.0,
    -691 / 2730,
    0.0,
    7 / 6,
    0.0,
    -3617 / 510,
    0.0,
    43867 / 798,
    0.0,
    -174611 / 330,
)
_DILOG_COEFFICIENTS = tuple(b / math.factorial(n + 1) for n, b in enumerate(_BERNOULLI))


def _neg_exp_dilog(x: Tensor) -> Tensor:
    """Li2(-e^{-x}) for x >= 0, by the Bernoulli series in u = -log(1 + e^{-x}) in [-log 2, 0)."""
    from torch.nn.functional import softplus

    u = -softplus(-x)
    total = u.new_zeros(())
    for coefficient in reversed(_DILOG_COEFFICIENTS):  # Horner in u: sum_n a_n u^(n+1)
        total = (total + coefficient) * u
    return total


def _js_value(s: Tensor) -> Tensor:
    """s log 2 - Li2(-e^-s) - pi^2/12, with Li2(-e^-s) = -pi^2/6 - s^2/2 - Li2(-e^s) for s < 0
    (Li2's inversion formula), so the series only ever sees arguments in [-1, 0). Each branch
    reads s through ``where`` (not abs), so autograd's slope at s = 0 is the true one, 0."""
    import torch

    zero = torch.zeros_like(s)
    positive = s * LOG_2 - _neg_exp_dilog(torch.where(s >= 0, s, zero)) - PI_SQUARED / 12
    negative = s * LOG_2 + 0.5 * s * s + _neg_exp_dilog(torch.where(s < 0, -s, zero)) + PI_SQUARED / 12
    return torch.where(s >= 0, positive, negative)


def _js_slope(s: Tensor) -> Tensor:
    from torch.nn.functional import softplus

    return LOG_2 - softplus(-s)


# name -> (g_f, g_f'), functions of s = delta - c (module docstring's table)
BALANCE_FUNCTIONS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "kl": (lambda s: s * s, lambda s: 2.0 * s),
    "rkl": (lambda s: 2.0 * ((-s).expm1() + s), lambda s: -2.0 * (-s).expm1()),
    "js": (_js_value, _js_slope),
    "tv": (lambda s: s.abs(), lambda s: s.sign()),
    "hd": (lambda s: 2.0 * (s + 2.0 * (-0.5 * s).expm1()), lambda s: -2.0 * (-0.5 * s).expm1()),
    "jf": (lambda s: s * s + 2.0 * ((-s).expm1() + s), lambda s: 2.0 * s - 2.0 * (-s).expm1()),
    "ps": (lambda s: 2.0 * s + (-2.0 * s).expm1(), lambda s: -2.0 * (-2.0 * s).expm1()),
}


@register_loss
@dataclass(frozen=True)
class FTrajectoryBalanceLoss(Loss):
    """sum_b c_b g_f(delta_b - mean of delta over b's group), delta = log pi - log pi_ref - A / eta;
    eta may be a [B] tensor (one per sequence)."""

    name: ClassVar[str] = "f_tb"
    display_name: ClassVar[str] = "f-TB"
    per_run_options: ClassVar[tuple[str, ...]] = ("eta",)
    temperature_option: ClassVar[str | None] = "eta"
    divergence: str = "kl"
    eta: float | Tensor = 1.0
    s_clip: float | None = 30.0

    def __post_init__(self) -> None:
        check_choice("divergence", self.divergence, DIVERGENCES)
        check_positive("eta", self.eta)
        check_positive("s_clip", self.s_clip, allow_none=True)

    def label(self) -> str:
        return f"f-TB-{self.divergence.upper()}"

    def batch_fields(self) -> frozenset[str]:
        return frozenset({"ref_logp"})

    @classmethod
    def examples(cls) -> list[dict[str, Any]]:
        return [
            *({"divergence": divergence, "eta": 0.7} for divergence in DIVERGENCES),
            {"divergence": "rkl", "s_clip": 0.3},
            {"eta": (0.5, 1.0, 2.0, 4.0)},
        ]

    def stationary_at_target(self) -> bool:
        """Tv's g = |s| has a kink at its minimum."""
        return self.divergence != "tv"

    def target_distribution(self, actions: ActionSet) -> Tensor:
        """pi_ref exp(A / eta) / Z (uniform pi_ref when the action set has none)."""
        log_ref = 0.0 if actions.ref_probs is None else actions.ref_probs.log()
        return (log_ref + actions.advantages / self.eta).softmax(dim=-1)

    def residuals(self, batch: LossBatch) -> Tensor:
        """[B] s_b = delta_b - c_g (differentiable in logp through delta only)."""
        ref_logp = batch.require("ref_logp", self.name)
        delta = sequence_sum(batch, batch.logp) - sequence_sum(batch, ref_logp) - batch.advantages / self.eta
        return delta - group_mean(batch, delta.detach())

    def _value_and_slope(self, s: Tensor) -> tuple[Tensor, Tensor]:
        """g_f(s) and g_f'(s), continued along the tangent beyond |s| > s_clip."""
        value, slope = BALANCE_FUNCTIONS[self.divergence]
        if self.s_clip is None:
            return value(s), slope(s)
        inside = s.clamp(-self.s_clip, self.s_clip)
        edge_slope = slope(inside)
        return value(inside) + edge_slope * (s - inside), edge_slope

    def loss_and_metrics(self, batch: LossBatch) -> tuple[Tensor, dict[str, Tensor]]:
        s = self.residuals(batch)
        value, _ = self._value_and_slope(s)
        coefficients = sequence_coefficients(batch)
        loss = (coefficients * value).sum()
        metrics = {
            "loss": loss.detach(),
            "residual_abs_mean": (coefficients * s.detach().abs()).sum(),
            "residual_abs_max": s.detach().abs().max(),
        }
        return loss, metrics

    def input_grads(self, batch: LossBatch) -> dict[str, Tensor]:
        s = self.residuals(batch).detach()
        _, slope = self._value_and_slope(s)
        return {"logp": (sequence_coefficients(batch) * slope)[:, None] * batch.token_mask}
