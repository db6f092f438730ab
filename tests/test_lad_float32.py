"""LAD in float32 (the LLM track's dtype) against a high-precision reference, over the range an LLM
run reaches: |log rho| <= 80 (a sequence-level ratio over a long response) and |u| = |A/eta| <= 30
(the clamp).

The reference is written here from the generators' textbook formulas in x, evaluated with mpmath
at 30 digits (float64 itself loses digits next to x = 1: JS's value comes out 1e-5 off there).
Grid points are exactly representable in float32 and log rho - u is exact, so both sides see the
same inputs. A bound relative to the true value cannot hold where that value is not a normal
float32 number (above ~3.4e38 or below ~1.2e-38); those points are skipped and counted: on this
grid only PS has them (its value and gradient grow like exp(2u - log rho), past float32 for
log rho < 2u - 88.7).
"""

from __future__ import annotations

import functools

import mpmath
import pytest
import torch

from ladbench.losses import DIVERGENCES, GENERATORS, LossBatch, get_loss

TOLERANCE = 1e-4
mpmath.mp.dps = 30

# f and f' in x, as in the LAD paper's table
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


@functools.cache
def grid() -> tuple[torch.Tensor, torch.Tensor]:
    """(log rho, u) in float64, each exactly a float32: a coarse grid over the whole range, and
    points at log x = log rho - u within 2^-18 of 0 (every root) and of +-1 (branch switches of
    the closed forms, KL's derivative root at -1)."""
    log_rho = torch.arange(-80.0, 80.01, 2.5, dtype=torch.float64)
    u = torch.arange(-30.0, 30.01, 1.25, dtype=torch.float64)
    log_rho, u = (t.reshape(-1) for t in torch.meshgrid(log_rho, u, indexing="ij"))
    near_u = torch.tensor([-30.0, -17.5, -3.0, 0.0, 2.5, 16.0, 29.75], dtype=torch.float64)
    offsets = torch.tensor([0.0] + [sign * 2.0**-k for k in range(1, 19) for sign in (1, -1)], dtype=torch.float64)
    for centre in (0.0, 1.0, -1.0):
        near, offset = (t.reshape(-1) for t in torch.meshgrid(near_u, offsets, indexing="ij"))
        log_rho = torch.cat([log_rho, near + centre + offset])
        u = torch.cat([u, near])
    assert torch.equal(log_rho.float().double(), log_rho) and torch.equal(u.float().double(), u)
    return log_rho, u


@functools.cache
def reference(divergence: str) -> tuple[torch.Tensor, torch.Tensor]:
    """exp(u) f(x) and f'(x) rho at every grid point, from mpmath."""
    f, f_prime = F_DIRECT[divergence]
    values, gradients = [], []
    for log_rho, u in zip(*(t.tolist() for t in grid()), strict=True):
        x = mpmath.exp(mpmath.mpf(log_rho) - mpmath.mpf(u))
        values.append(float(mpmath.exp(u) * f(x)))
        gradients.append(float(f_prime(x) * mpmath.exp(log_rho)))
    return torch.tensor(values, dtype=torch.float64), torch.tensor(gradients, dtype=torch.float64)


def assert_relative(name: str, value: torch.Tensor, expected: torch.Tensor, skip: int) -> None:
    """|value - expected| <= TOLERANCE |expected| wherever expected is a normal float32 number
    (or exactly 0); ``skip`` is how many points are not."""
    finfo = torch.finfo(torch.float32)
    inside = (expected.abs() <= finfo.max) & ((expected.abs() >= finfo.tiny) | (expected == 0))
    assert int((~inside).sum()) == skip, f"{name}: {int((~inside).sum())} points outside float32's range"
    value, expected = value.double()[inside], expected[inside]
    error = ((value - expected).abs() / expected.abs().where(expected != 0, torch.ones_like(expected))).nan_to_num(
        nan=float("inf"), posinf=float("inf")
    )
    worst = int(error.argmax())
    log_rho, u = (t[inside][worst].item() for t in grid())
    assert error[worst] <= TOLERANCE, f"{name}: relative error {error[worst]:.3g} at log rho = {log_rho}, u = {u}"


# points whose true value (or gradient) lies outside float32's normal range, per generator
SKIPPED = {name: (0, 0) for name in DIVERGENCES} | {"ps": (231, 231)}


@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_generator_value_and_score_weight_in_float32(divergence):
    log_rho, u = grid()
    expected_value, expected_gradient = reference(divergence)
    generator = GENERATORS[divergence]
    skip_value, skip_gradient = SKIPPED[divergence]
    assert_relative(f"{divergence} value", generator.value(log_rho.float(), u.float()), expected_value, skip_value)
    score_weight = generator.score_weight(log_rho.float(), u.float())
    assert_relative(f"{divergence} score weight", score_weight, expected_gradient, skip_gradient)


@pytest.mark.parametrize("divergence", DIVERGENCES)
@pytest.mark.parametrize("ratio_level", ["token", "sequence"])
def test_lad_loss_gradient_in_float32(divergence, ratio_level):
    """The loss's autograd gradient and its closed form, through a float32 batch: 16 sequences per
    batch, whose log rho sits on the first of 4 tokens (the sequence sum is then exact)."""
    log_rho, u = grid()
    _, expected_gradient = reference(divergence)
    loss_fn = get_loss("lad", divergence=divergence, eta=1.0, ratio_level=ratio_level)
    tokens, rows = 4, 16
    autograd, closed_form = [], []
    for start in range(0, len(u), rows):
        part = slice(start, start + rows)
        logp = torch.zeros(len(u[part]), tokens)
        logp[:, 0] = log_rho[part].float()
        batch = LossBatch(logp=logp.requires_grad_(), old_logp=torch.zeros_like(logp), advantages=u[part].float())
        loss, _ = loss_fn(batch)
        autograd.append(torch.autograd.grad(loss, batch.logp)[0][:, 0])
        closed_form.append(loss_fn.input_grads(batch)["logp"][:, 0])
    # token_mean: each token's coefficient is 1/(rows tokens); at sequence level a sequence's
    # tokens share its score weight, so each gets the sum of its coefficients, 1/rows
    scale = torch.tensor([min(rows, len(u) - start) for start in range(0, len(u), rows) for _ in range(rows)])
    scale = scale[: len(u)].double() * (tokens if ratio_level == "token" else 1)
    skip = SKIPPED[divergence][1]
    assert_relative(f"{divergence} {ratio_level} autograd", torch.cat(autograd) * scale, expected_gradient, skip)
    assert_relative(f"{divergence} {ratio_level} input_grads", torch.cat(closed_form) * scale, expected_gradient, skip)
