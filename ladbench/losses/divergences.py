"""The f-divergence generators used by LAD, in the scaled form LAD's loss needs.

Each generator is a convex f with f(1) = 0. The table is the one in the LAD paper (Li & Li,
arXiv 2602.20132) and its released code ("ps" is the authors' name for Neyman chi-square, which
is not in the paper's ablation):

| name | f(x)                                   | f'(x)                | strictly convex |
|------|----------------------------------------|----------------------|-----------------|
| kl   | x log x                                | log x + 1            | yes             |
| rkl  | -log x                                 | -1/x                 | yes             |
| js   | 1/2 [x log x - (x+1) log((x+1)/2)]     | 1/2 log(2x/(x+1))    | yes             |
| tv   | 1/2 |x - 1|                            | 1/2 sign(x - 1)      | no              |
| hd   | (sqrt(x) - 1)^2                        | 1 - 1/sqrt(x)        | yes             |
| jf   | (x - 1) log x                          | log x + 1 - 1/x      | yes             |
| ps   | (x - 1)^2 / x                          | 1 - 1/x^2            | yes             |

LAD needs, for l = log rho and u = A / eta, with s = log x = l - u:

    value(l, u)        = exp(u) f(exp(s))          the per-sample loss
    score_weight(l, u) = f'(exp(s)) exp(l)         its derivative in l (= in log pi_theta)

Both are computed from l and u directly, never from x = exp(s) or exp(u) f(x) as written, which
overflow or cancel in float32 long before the true values do: x overflows once s > 88.7 (a
sequence-level log ratio gets there), exp(u) f(x) loses all digits of a small f(x) next to a large
exp(u), and autograd through expm1 multiplies by expm1(s) + 1, which rounds to 0 for s < -17.
Each closed form is a product of factors that are each accurate in floating point (exp, expm1,
softplus, sinh of a bounded argument), split by the sign or size of s where one expression would
cancel. Identities used (m = max(l, u) = u + max(s, 0)):

    kl   value exp(l) s                                 score exp(l) (s + 1)
    rkl  value -exp(u) s                                score -exp(-s) exp(l)                  (|s| < 50)
                                                              -exp(u)                          (|s| >= 50)
    tv   value 1/2 exp(m) (-expm1(-|s|))                score 1/2 sign(s) exp(l)
    hd   value exp(m) expm1(-|s|/2)^2                   score -expm1(-s/2) exp(l)              (s > -50)
                                                              expm1(s/2) exp((l + u)/2)        (s <= -50)
    jf   value exp(m) (-expm1(-|s|)) |s|                score (s - expm1(-s)) exp(l)           (s > -50)
                                                              exp(l) (s + 1) - exp(u)          (s <= -50)
    ps   value exp(u + |s|) expm1(-|s|)^2               score -expm1(-2s) exp(l)               (s > -40)
                                                              expm1(2s) exp(u - s)             (s <= -40)
    js   score exp(l) f'(x), f'(x) = -1/2 log1p(expm1(-s) / 2)                                 (s > -1)
                                   = 1/2 (log 2 - softplus(-s))                                (s <= -1)
         value score + 1/2 exp(u) (log 2 - softplus(s))                                        (|s| >= 1)
               exp(u + s/2) h(s/2), h(t) = t sinh t - cosh t log cosh t                        (|s| < 1)

Where it is accurate, a score weight is the product f'(x) rho as written (kl, tv, and rkl, hd,
jf, ps above their switch points, where neither factor leaves float32's normal range for |u| <= 30),
which also keeps the float64 bandit's committed reference results bit for bit. (JS: f(x) =
x f'(x) + 1/2 (log 2 - log(1 + x)), and f(exp(2t)) = exp(t) h(t), whose two terms cancel only by
half near t = 0, where the first form loses everything.) In float32, for |l| <= 80 and |u| <= 30
wherever the true value is a normal float32 number: value and score are within 3.7e-7 relative of a
30-digit reference where l - u is exact in float32 (benchmarks/lad_float32_accuracy.py; the test,
tests/test_lad_float32.py, holds them to 1e-4); at arbitrary float32 inputs l - u rounds, and they
are within 1e-5 relative, except the score next to a root of f', where it is near 0 and only an
absolute bound holds (docs/methods.md, "LAD in float32").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ladbench.errors import choices_error

if TYPE_CHECKING:
    from torch import Tensor

LOG_2 = math.log(2.0)
JS_SWITCH = 30.0  # e^-30 ~ 1e-13: far below float64's and float32's relative precision of f'(x)
# Below -AS_WRITTEN_LIMIT (ps: -PS_AS_WRITTEN_LIMIT) in log x, f'(x) as written overflows (ps:
# exp(-2 log x); rkl, jf, hd: exp(-log x)) or rho = exp(log x + u) leaves float32's normal range
# for u >= -30, and rkl's exp(-log x) underflows above +AS_WRITTEN_LIMIT, so the score weight
# switches from the product f'(x) rho to its rewritten form there (module docstring).
AS_WRITTEN_LIMIT = 50.0
PS_AS_WRITTEN_LIMIT = 40.0


@dataclass(frozen=True)
class Generator:
    """A convex generator f, as LAD's scaled value and its derivative in log rho (its formula: the
    module docstring's table)."""

    name: str
    value: Callable[[Tensor, Tensor], Tensor]
    score_weight: Callable[[Tensor, Tensor], Tensor]
    strictly_convex: bool
    label: str  # how claims and prose name the divergence (``rKL``; LAD's label writes it upper-case)


def _log_x(log_rho: Tensor, u: Tensor) -> Tensor:
    return log_rho - u


def _larger_exp(log_rho: Tensor, u: Tensor) -> Tensor:
    """exp(max(l, u)): exp(u) x for x >= 1, exp(u) for x < 1."""
    import torch

    return torch.maximum(log_rho, u).exp()


def _kl_value(log_rho: Tensor, u: Tensor) -> Tensor:
    return log_rho.exp() * _log_x(log_rho, u)


def _kl_score(log_rho: Tensor, u: Tensor) -> Tensor:
    return log_rho.exp() * (_log_x(log_rho, u) + 1.0)


def _rkl_value(log_rho: Tensor, u: Tensor) -> Tensor:
    return -u.exp() * _log_x(log_rho, u)


def _rkl_score(log_rho: Tensor, u: Tensor) -> Tensor:
    import torch

    s = _log_x(log_rho, u)
    return torch.where(s.abs() < AS_WRITTEN_LIMIT, -(-s).exp() * log_rho.exp(), -u.exp())


def _tv_value(log_rho: Tensor, u: Tensor) -> Tensor:
    return -0.5 * _larger_exp(log_rho, u) * (-_log_x(log_rho, u).abs()).expm1()


def _tv_score(log_rho: Tensor, u: Tensor) -> Tensor:
    return 0.5 * _log_x(log_rho, u).sign() * log_rho.exp()


def _hd_value(log_rho: Tensor, u: Tensor) -> Tensor:
    return _larger_exp(log_rho, u) * (-0.5 * _log_x(log_rho, u).abs()).expm1().square()


def _hd_score(log_rho: Tensor, u: Tensor) -> Tensor:
    import torch

    s = _log_x(log_rho, u)
    below = (0.5 * s).expm1() * (0.5 * (log_rho + u)).exp()
    return torch.where(s > -AS_WRITTEN_LIMIT, -(-0.5 * s).expm1() * log_rho.exp(), below)


def _jf_value(log_rho: Tensor, u: Tensor) -> Tensor:
    s = _log_x(log_rho, u).abs()
    return -_larger_exp(log_rho, u) * (-s).expm1() * s


def _jf_score(log_rho: Tensor, u: Tensor) -> Tensor:
    import torch

    s = _log_x(log_rho, u)
    rho = log_rho.exp()
    return torch.where(s > -AS_WRITTEN_LIMIT, (s - (-s).expm1()) * rho, rho * (s + 1.0) - u.exp())


def _ps_value(log_rho: Tensor, u: Tensor) -> Tensor:
    s = _log_x(log_rho, u).abs()
    return (u + s).exp() * (-s).expm1().square()


def _ps_score(log_rho: Tensor, u: Tensor) -> Tensor:
    import torch

    s = _log_x(log_rho, u)
    below = (2.0 * s).expm1() * (u - s).exp()
    return torch.where(s > -PS_AS_WRITTEN_LIMIT, -(-2.0 * s).expm1() * log_rho.exp(), below)


def _js_derivative(log_x: Tensor) -> Tensor:
    """f'(x) = 1/2 log(2x / (x + 1)) = -1/2 log1p(expm1(-z) / 2), z = log x: exact near x = 1,
    where the plain form cancels. Where -z > SWITCH, expm1 would overflow, and
    log1p(expm1(-z) / 2) = -z - log 2 + log1p(e^z) equals its value at SWITCH plus (-z - SWITCH)
    to within e^-SWITCH; so with m = min(-z, SWITCH), f'(x) = -1/2 [log1p(expm1(m) / 2) + (-z - m)].
    Branch-free: two transcendental functions per element."""
    m = (-log_x).clamp_max(JS_SWITCH)
    return -0.5 * ((0.5 * m.expm1()).log1p() + (-log_x - m))


def _js_score(log_rho: Tensor, u: Tensor) -> Tensor:
    return _js_derivative(_log_x(log_rho, u)) * log_rho.exp()


def _js_value(log_rho: Tensor, u: Tensor) -> Tensor:
    import torch
    from torch.nn.functional import softplus

    s = _log_x(log_rho, u)
    far = _js_score(log_rho, u) + 0.5 * u.exp() * (LOG_2 - softplus(s))
    t = 0.5 * s.clamp(-1.0, 1.0)  # h(t) is only read where |s| < 1
    log_cosh = (2.0 * (0.5 * t).sinh().square()).log1p()
    near = (u + t).exp() * (t * t.sinh() - t.cosh() * log_cosh)
    return torch.where(s.abs() < 1.0, near, far)


GENERATORS: dict[str, Generator] = {
    generator.name: generator
    for generator in (
        Generator("kl", _kl_value, _kl_score, True, "KL"),
        Generator("rkl", _rkl_value, _rkl_score, True, "rKL"),
        Generator("js", _js_value, _js_score, True, "JS"),
        Generator("tv", _tv_value, _tv_score, False, "TV"),
        Generator("hd", _hd_value, _hd_score, True, "HD"),
        Generator("jf", _jf_value, _jf_score, True, "JF"),
        Generator("ps", _ps_value, _ps_score, True, "PS"),
    )
}
DIVERGENCES = tuple(GENERATORS)


def get_generator(name: str) -> Generator:
    """The generator called ``name``; a ValueError lists the valid names otherwise."""
    if name not in GENERATORS:
        raise choices_error("divergence", name, DIVERGENCES)
    return GENERATORS[name]
