"""ladbench's losses as verl policy losses (verl 0.9.x: ``pip install 'ladbench[verl]'``).

Importing this module registers every ladbench loss that fits verl's policy-loss signature in
``verl.trainer.ppo.core_algos.POLICY_LOSS_REGISTRY`` as ``ladbench_<name>``, one per choice where
the loss declares variants (LAD: ``ladbench_lad_js``, ``ladbench_lad_kl``, ...; DPPO:
``ladbench_dppo_binary_tv``, ``ladbench_dppo_binary_kl``). The package's entry point in the
``verl.plugins`` group imports it whenever ``import verl`` runs, in the driver and in every Ray
worker, so installing the extra is enough:

    actor_rollout_ref.actor.policy_loss.loss_mode=ladbench_lad_js

A registered function is called as verl's ``ppo_loss`` calls its own (keyword arguments):

    fn(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode, config, rollout_is_weights)

and computes, with the ladbench loss's own formula:

1. Options. Those that verl's actor config also sets for its built-in losses are read from it (the
   loss class's ``verl_config``: ``clip_ratio_low`` / ``clip_ratio_high`` (each falling back to
   ``clip_ratio`` when null, as verl's losses do), ``clip_ratio_c``, ``tau_pos`` / ``tau_neg``,
   ``policy_loss.clip_cov_ratio`` / ``clip_cov_lb`` / ``clip_cov_ub`` / ``kl_cov_ratio`` /
   ``ppo_kl_coef``), so one YAML means the same with ``ladbench_gspo`` as with ``gspo``. verl's
   structured config refuses unknown keys under ``policy_loss``, so ladbench-only options (LAD's
   eta, u_clip, ratio_level) come through :func:`policy_loss_fn`; the loss's defaults otherwise.
2. The batch: ``LossBatch(logp=log_prob, old_logp=old_log_prob, advantages=A, mask=response_mask)``
   with A the advantage of each response. ladbench losses take one advantage per response (an
   outcome advantage: GRPO, RLOO, ...); advantages that vary within a response are refused.
3. The loss matrix: the loss's ``token_terms`` (per token; a per-sequence loss as verl's GSPO
   spreads it), times ``rollout_is_weights`` when verl passes them, exactly as verl's ``vanilla``
   applies them.
4. Aggregation: verl's own ``agg_loss`` with the run's ``loss_agg_mode`` and
   ``config.global_batch_info``, as verl's built-in losses aggregate (all five modes, rows that are
   all padding included). The ladbench loss's own ``aggregation`` option is not used.

Refused, with the reason: a loss that reads batch fields verl's signature does not carry
(``VERL_LACKS``: FlowRL's learned log Z, alpha-DPG's rewards and reference log-probs, the
per-token entropies of entropy-PG and the entropy advantage, GRPO's KL term with beta > 0, which
verl adds itself with ``use_kl_loss``), and a loss without per-token terms. Clip-Cov's random
token choice draws from torch's global generator as verl's ``clip_cov`` does (one ``randperm``
over the same candidates), so under one seed the two detach the same tokens.

Options of your own, registered under a name of your choice in every worker: put the call in a
module of yours and have verl import it in each worker with ``actor_rollout_ref.model.external_lib``
(``experiments/verl/ladbench_losses.py``):

    # my_losses.py
    from ladbench.integrations.verl import policy_loss_fn, register
    register("lad_js_eta025", policy_loss_fn("lad", divergence="js", eta=0.25))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ladbench.errors import UserError
from ladbench.losses import Loss, LossBatch, available_losses, get_loss, loss_class

try:
    from verl.trainer.ppo.core_algos import POLICY_LOSS_REGISTRY, agg_loss, register_policy_loss
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise UserError(
        f"ladbench.integrations.verl needs verl ({error}); install it with: pip install 'ladbench[verl]'"
    ) from None

PREFIX = "ladbench_"
# batch fields that verl's policy-loss signature does not carry, and what each is
VERL_LACKS = {
    "ref_logp": "reference-model log-probs (verl adds its own KL term with actor.use_kl_loss)",
    "entropy": "per-token entropies (verl adds its own entropy bonus with actor.entropy_coeff)",
    "rewards": "the graded rewards",
    "log_z": "a learned log Z head",
}
# options that the run's loss_agg_mode / loss_scale_factor decide
AGGREGATION_OPTIONS = {"aggregation": "loss_agg_mode", "norm_length": "loss_scale_factor"}
ADVANTAGE_TOLERANCE = 1e-6  # relative spread of the advantages within one response still taken as one value

PolicyLossFn = Callable[..., tuple[torch.Tensor, dict[str, Any]]]


def check_fits_verl(loss: Loss, registered_as: str | None = None) -> None:
    """Refuse a loss that verl's policy-loss signature cannot feed, naming why."""
    label = registered_as or f"{PREFIX}{loss.name}"
    lacking = sorted(loss.batch_fields() & set(VERL_LACKS))
    if lacking:
        raise UserError(
            f"{label} needs {VERL_LACKS[lacking[0]]} (batch.{lacking[0]}), which verl's policy-loss signature "
            "does not pass; train it with `ladbench llm train`"
        )
    if loss.verl_config is None:
        raise UserError(
            f"loss {loss.name!r} has no per-token terms for verl's agg_loss, so it cannot be {label}; "
            f"losses that can: {', '.join(verl_capable())}"
        )


def verl_capable() -> list[str]:
    """Names of the ladbench losses that fit verl's signature with their default options."""
    capable = []
    for name in available_losses():
        cls = loss_class(name)
        if cls.verl_config is not None and not (cls().batch_fields() & set(VERL_LACKS)):
            capable.append(name)
    return capable


def default_losses() -> dict[str, tuple[str, dict[str, Any]]]:
    """verl name -> (ladbench loss, options) of the losses registered on import."""
    names: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in verl_capable():
        variants = loss_class(name).verl_variants
        if variants is None:
            names[f"{PREFIX}{name}"] = (name, {})
        else:
            option, choices = variants
            names.update({f"{PREFIX}{name}_{choice}": (name, {option: choice}) for choice in choices})
    return names


def _config_value(config: Any, key: str) -> Any:
    """The actor config's ``key`` ("policy_loss.x" under policy_loss), with verl's fallbacks:
    clip_ratio_low / clip_ratio_high null -> clip_ratio; clip_ratio_c absent -> 3.0 (ActorConfig's
    default). None where the config leaves it null (the ladbench default then applies)."""
    if key.startswith("policy_loss."):
        policy_loss = config.policy_loss
        return None if policy_loss is None else policy_loss.get(key.removeprefix("policy_loss."), None)
    if key in ("clip_ratio_low", "clip_ratio_high"):
        value = config.get(key, None)
        return config.clip_ratio if value is None else value
    if key == "clip_ratio_c":
        return config.get(key, 3.0)
    return config.get(key, None)


def shared_options(loss: Loss, config: Any) -> dict[str, Any]:
    """The loss's options that verl's actor config sets, read from ``config``."""
    options = {}
    for option, key in (loss.verl_config or {}).items():
        value = _config_value(config, key)
        if value is not None:
            options[option] = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    return options


def response_advantages(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B] the advantage of each response from verl's [B, T] token advantages (0 for a row with no
    token); a UserError where they vary within a response."""
    real = mask.bool()
    counts = real.sum(dim=1)
    values = torch.where(real, advantages, torch.zeros_like(advantages))
    per_response = values.sum(dim=1) / counts.clamp_min(1)
    spread = torch.where(real, (advantages - per_response[:, None]).abs(), torch.zeros_like(advantages)).amax()
    scale = 1.0 + float(per_response.abs().amax()) if len(per_response) else 1.0
    if float(spread) > ADVANTAGE_TOLERANCE * scale:
        raise UserError(
            "ladbench losses take one advantage per response (an outcome advantage, e.g. "
            f"algorithm.adv_estimator=grpo); these vary within a response by up to {float(spread):.3g}"
        )
    return per_response.detach()


def policy_loss_fn(name: str, **options: Any) -> PolicyLossFn:
    """A verl policy loss (verl's signature) computing ladbench loss ``name`` with ``options``.

    ``options`` are the ladbench-only ones (validated by the loss); those that verl's config sets
    (``Loss.verl_config``) and the aggregation (``loss_agg_mode``) are refused here, since the
    run's config decides them."""
    cls = loss_class(name)
    for option in options:
        if cls.verl_config is not None and option in cls.verl_config:
            raise UserError(
                f"option {option!r} of {PREFIX}{name} comes from verl's config, "
                f"actor_rollout_ref.actor.{cls.verl_config[option]}; set it there"
            )
        if option in AGGREGATION_OPTIONS:
            raise UserError(
                f"option {option!r} of {PREFIX}{name} comes from verl's config, "
                f"actor_rollout_ref.actor.{AGGREGATION_OPTIONS[option]}; set it there"
            )
    base = get_loss(name, **options)
    check_fits_verl(base)

    def compute_policy_loss_ladbench(
        old_log_prob: torch.Tensor,
        log_prob: torch.Tensor,
        advantages: torch.Tensor,
        response_mask: torch.Tensor,
        loss_agg_mode: str = "token-mean",
        config: Any = None,
        rollout_is_weights: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        if config is None:
            raise UserError(f"{PREFIX}{name} needs verl's actor config (config=None)")
        loss = base.with_options(**shared_options(base, config))
        mask = response_mask.bool()
        batch = LossBatch(
            logp=log_prob,
            old_logp=old_log_prob.detach(),
            advantages=response_advantages(advantages.detach().to(log_prob.dtype), mask),
            mask=mask,
        )
        if "uniforms" in loss.batch_fields():
            batch.uniforms = loss.draw_uniforms(batch)
        terms = loss.token_terms(batch)
        if rollout_is_weights is not None:
            terms = terms * rollout_is_weights
        pg_loss = agg_loss(
            loss_mat=terms,
            loss_mask=response_mask,
            loss_agg_mode=loss_agg_mode,
            **getattr(config, "global_batch_info", {}),
        )
        with torch.no_grad():
            _, ladbench_metrics = loss.loss_and_metrics(batch)
            real = mask.sum().clamp_min(1)
            ppo_kl = torch.where(mask, old_log_prob - log_prob, torch.zeros_like(log_prob)).sum() / real
        metrics = {"actor/ppo_kl": float(ppo_kl)}
        metrics.update(
            {f"actor/ladbench/{key}": float(value) for key, value in ladbench_metrics.items() if key != "loss"}
        )
        return pg_loss, {key: value for key, value in metrics.items() if math.isfinite(value)}

    compute_policy_loss_ladbench.__name__ = f"compute_policy_loss_{PREFIX}{name}"
    compute_policy_loss_ladbench.ladbench_loss = base  # type: ignore[attr-defined]
    return compute_policy_loss_ladbench


def register(verl_name: str, fn: PolicyLossFn) -> PolicyLossFn:
    """Register ``fn`` (from :func:`policy_loss_fn`) as verl's policy loss ``verl_name``; a name
    that verl or another plug-in already holds for a different function is refused."""
    existing = POLICY_LOSS_REGISTRY.get(verl_name)
    if existing is not None and getattr(existing, "ladbench_loss", None) is None:
        raise UserError(f"verl already has a policy loss {verl_name!r}; choose another name")
    return register_policy_loss(verl_name)(fn)


def register_defaults() -> list[str]:
    """Register every loss of :func:`default_losses`; the names registered."""
    for verl_name, (name, options) in default_losses().items():
        register(verl_name, policy_loss_fn(name, **options))
    return list(default_losses())


REGISTERED = register_defaults()
