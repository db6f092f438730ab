"""What every registered loss must do, as functions of (loss class, example options).

``tests/test_contracts.py`` runs each check on every registered loss and each of its
``examples()``, so registering a loss is enough for it to be tested; a loss that breaks one (a
closed-form gradient that is not the gradient of its value, a batch field it reads without
declaring it) fails there. The checks:

- ``input_grads`` equals autograd on the value, in float64, for every differentiable field it
  names, and autograd finds no gradient in a differentiable field it does not name;
- ``fixed_batch_grads`` (what the bandit engine calls while pi_old is fixed) equals autograd on
  batches that differ only in their differentiable fields;
- ``batch_fields`` names exactly the optional fields it reads;
- -inf and NaN in the padding reach neither the value nor the gradient;
- runs stacked in one batch train as if alone (the bandit engine stacks runs);
- where ``stationary_at_target()`` says so, the exact expected loss is stationary at
  ``target_distribution``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ladbench.losses import ActionSet, Loss, LossBatch, expected_advantages

F64 = torch.float64
ROWS, LENGTH, GROUP = 8, 3, 4
DIFFERENTIABLE = ("logp", "log_z", "entropy")
OPTIONAL = ("ref_logp", "log_z", "entropy", "rewards", "uniforms")


def cases(registry) -> list[tuple[str, int]]:
    """(loss name, example index) for every registered loss and each of its examples."""
    return [(name, index) for name in registry for index in range(len(registry[name].examples()))]


def build(cls: type[Loss], options: dict[str, Any], rows: int = ROWS) -> Loss:
    """``cls`` with ``options``; a tuple (a per-run option's example) becomes one value per row,
    cycled, so that a batch of runs of ``len(tuple)`` rows each gives every run the same values."""
    resolved = {
        key: torch.tensor([value[row % len(value)] for row in range(rows)], dtype=F64)
        if isinstance(value, tuple)
        else value
        for key, value in options.items()
    }
    return cls(**resolved)


def make_batch(
    seed: int = 0,
    rows: int = ROWS,
    weights: bool = False,
    runs: int = 1,
    fill: float = 0.0,
    drop: tuple[str, ...] = (),
) -> LossBatch:
    """A batch with every optional field: sequences of 0 to LENGTH tokens (padding filled with
    ``fill``; a row that is all padding, and a real row whose advantage is exactly 0), half of them
    rewarded 1, groups of GROUP rows, per-token entropies and uniforms;
    logp, log_z and entropy require gradients. ``drop``: optional fields left out."""
    generator = torch.Generator().manual_seed(seed)
    shape = (rows, LENGTH)
    lengths = torch.arange(rows) % (LENGTH + 1)  # row 0 (and every (LENGTH + 1)-th) all padding
    mask = (torch.arange(LENGTH)[None] < lengths[:, None]).to(F64)
    logp = torch.randn(shape, generator=generator, dtype=F64) * 0.5 - 1.0
    old_logp = logp + torch.randn(shape, generator=generator, dtype=F64) * 0.3
    ref_logp = logp + torch.randn(shape, generator=generator, dtype=F64) * 0.4
    rewards = (torch.arange(rows) % 2 == 0).to(F64)
    fields = {
        "ref_logp": ref_logp.masked_fill(mask == 0, fill),
        "log_z": (0.3 * torch.randn(rows, generator=generator, dtype=F64)).requires_grad_(),
        "entropy": (torch.rand(shape, generator=generator, dtype=F64) * 2).requires_grad_(),
        "rewards": rewards,
        "uniforms": torch.rand(shape, generator=generator, dtype=F64),
    }
    advantages = rewards - 0.5 + 0.4 * torch.randn(rows, generator=generator, dtype=F64)
    advantages[2] = 0.0  # a real row whose advantage is exactly 0 (losses that branch on sign(A))
    return LossBatch(
        logp=logp.masked_fill(mask == 0, fill).requires_grad_(),
        old_logp=old_logp,
        advantages=advantages,
        mask=mask,
        weights=torch.rand(rows, generator=generator, dtype=F64) + 0.2 if weights else None,
        group_size=GROUP,
        runs=runs,
        **{field: None if field in drop else value for field, value in fields.items()},
    )


def autograd(loss_fn: Loss, batch: LossBatch) -> dict[str, torch.Tensor]:
    """d loss / d field by autograd for every differentiable field of ``batch`` (zeros where unused)."""
    fields = [field for field in DIFFERENTIABLE if getattr(batch, field) is not None]
    value, _ = loss_fn.loss_and_metrics(batch)
    grads = torch.autograd.grad(value, [getattr(batch, field) for field in fields], allow_unused=True)
    return {
        field: torch.zeros_like(getattr(batch, field)) if grad is None else grad
        for field, grad in zip(fields, grads, strict=True)
    }


def assert_grads_match(closed_form: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], what: str) -> None:
    assert "logp" in closed_form, f"{what}: input_grads must give d/dlogp"
    assert set(closed_form) <= set(DIFFERENTIABLE), f"{what}: input_grads names {sorted(closed_form)}"
    for field, gradient in expected.items():
        if field in closed_form:
            torch.testing.assert_close(
                closed_form[field], gradient, rtol=1e-9, atol=1e-12, msg=lambda m, f=field: f"{what} d/d{f}: {m}"
            )
        else:
            assert not gradient.abs().max() > 0, f"{what}: the value depends on {field}, but input_grads omits it"


def check_input_grads(cls: type[Loss], options: dict[str, Any], weights: bool) -> None:
    """The closed form equals autograd, and the value and metrics are finite."""
    loss_fn, batch = build(cls, options), make_batch(weights=weights)
    value, metrics = loss_fn(batch)
    assert torch.isfinite(value) and all(math.isfinite(metric) for metric in metrics.values()), (value, metrics)
    assert_grads_match(loss_fn.input_grads(batch), autograd(loss_fn, batch), f"{cls.name} {options}")


def check_fixed_batch_grads(cls: type[Loss], options: dict[str, Any]) -> None:
    """The gradients prepared on one batch equal autograd on batches that differ from it only in
    their differentiable fields (logp, log_z, entropy)."""
    loss_fn, first = build(cls, options), make_batch(weights=True)
    prepared = loss_fn.fixed_batch_grads(first)
    other = make_batch(seed=1)
    for step in range(2):
        moved = LossBatch(
            **{
                **first.__dict__,
                **{
                    field: (
                        getattr(first, field).detach() + 0.3 * (step + 1) * getattr(other, field).detach()
                    ).requires_grad_()
                    for field in DIFFERENTIABLE
                },
            }
        )
        assert_grads_match(prepared(moved), autograd(loss_fn, moved), f"{cls.name} {options} fixed batch {step}")


def check_batch_fields(cls: type[Loss], options: dict[str, Any]) -> None:
    """A batch holding only the declared optional fields works; leaving out any of them fails."""
    loss_fn = build(cls, options)
    declared = loss_fn.batch_fields()
    assert declared <= set(OPTIONAL), f"{cls.name}: batch_fields {sorted(declared)} are not optional fields"
    value, _ = loss_fn(make_batch(drop=tuple(set(OPTIONAL) - declared)))
    assert torch.isfinite(value)
    for missing in declared:
        try:
            loss_fn(make_batch(drop=tuple(set(OPTIONAL) - declared | {missing})))
        except ValueError as error:
            assert f"needs batch.{missing}" in str(error), error
        else:
            raise AssertionError(f"{cls.name} declares batch.{missing} but runs without it")


def check_padding(cls: type[Loss], options: dict[str, Any]) -> None:
    """-inf or NaN in the padding: the value, its gradient, the metrics and the closed form equal
    those of the same batch padded with zeros."""
    loss_fn = build(cls, options)
    results = []
    for fill in (0.0, -math.inf, math.nan):
        batch = make_batch(fill=fill)
        value, metrics = loss_fn(batch)
        (gradient,) = torch.autograd.grad(value, batch.logp)
        assert torch.isfinite(value) and torch.isfinite(gradient).all(), (fill, value)
        assert all(math.isfinite(metric) for metric in metrics.values()), (fill, metrics)
        torch.testing.assert_close(loss_fn.input_grads(batch)["logp"], gradient)
        results.append((value, gradient))
    for value, gradient in results[1:]:
        torch.testing.assert_close(value, results[0][0])
        torch.testing.assert_close(gradient, results[0][1])


def check_runs_stacked(cls: type[Loss], options: dict[str, Any]) -> None:
    """Two runs stacked in one batch (``runs=2``) get each the gradient it gets alone, times 1/2
    (the batch-wide mean): losses with per-batch statistics compute them per run."""
    half = ROWS // 2
    first, second = make_batch(seed=1, rows=half), make_batch(seed=2, rows=half)
    stacked = LossBatch(
        **{
            field: torch.cat([getattr(first, field).detach(), getattr(second, field).detach()])
            if isinstance(getattr(first, field), torch.Tensor)
            else getattr(first, field)
            for field in first.__dict__
        }
        | {"runs": 2}
    )
    together = build(cls, options).input_grads(stacked)
    for index, alone in enumerate((first, second)):
        own = build(cls, options, rows=half).input_grads(alone)
        for field, gradient in own.items():
            torch.testing.assert_close(2 * together[field][half * index : half * (index + 1)], gradient)


def exact_batch(logits: torch.Tensor, actions: ActionSet) -> LossBatch:
    """The bandit's exact estimator over ``actions``: every action once, weighted by pi_old."""
    log_probs = torch.log_softmax(logits, 0)[:, None]
    count = len(actions.rewards)
    return LossBatch(
        log_probs,
        actions.behaviour_probs.log()[:, None],
        actions.advantages,
        weights=actions.behaviour_probs,
        ref_logp=actions.ref_probs.log()[:, None],
        rewards=actions.rewards,
        log_z=torch.zeros(count, dtype=F64),
        entropy=-(log_probs.exp() * log_probs).sum().expand(count),
        uniforms=torch.linspace(0, 1, count, dtype=F64)[:, None],
    )


def check_fixed_point(cls: type[Loss], options: dict[str, Any]) -> bool:
    """Where the loss declares it, the exact expected loss under an arbitrary pi_old is stationary
    at its target; returns whether the loss declared one (False: nothing to check)."""
    loss_fn = build(cls, {key: value for key, value in options.items() if not isinstance(value, tuple)})
    if not loss_fn.stationary_at_target():
        return False
    generator = torch.Generator().manual_seed(3)
    behaviour = torch.softmax(torch.randn(6, generator=generator, dtype=F64), 0)
    reference = torch.softmax(torch.randn(6, generator=generator, dtype=F64), 0)
    rewards = torch.tensor([1.0, 0.0, 1.0, 0.3, 0.0, 1.0], dtype=F64)
    actions = ActionSet(rewards, expected_advantages(rewards, behaviour, "dr_grpo"), behaviour, reference)
    target = loss_fn.target_distribution(actions)
    assert target is not None, f"{cls.name} declares a fixed point but has no target_distribution"
    torch.testing.assert_close(target.sum(), torch.tensor(1.0, dtype=F64))
    logits = target.log().clone().requires_grad_()
    (gradient,) = torch.autograd.grad(loss_fn(exact_batch(logits, actions))[0], logits)
    assert gradient.abs().max().item() < 1e-10, f"{cls.name} {options}: gradient {gradient} at its target"
    return True


CHECKS = {
    "input_grads": lambda cls, options: (check_input_grads(cls, options, False), check_input_grads(cls, options, True)),
    "fixed_batch_grads": check_fixed_batch_grads,
    "batch_fields": check_batch_fields,
    "padding": check_padding,
    "runs_stacked": check_runs_stacked,
    "fixed_point": check_fixed_point,
}


def failures(cls: type[Loss]) -> dict[str, str]:
    """Every check on every example of ``cls``: the ones that fail, each with its first message."""
    failed = {}
    for check, function in CHECKS.items():
        for options in cls.examples():
            try:
                function(cls, options)
            except AssertionError as error:
                failed[check] = str(error).splitlines()[0] if str(error) else "failed"
                break
    return failed
