"""The shared losses inside TRL's GRPOTrainer (trl pinned in the ``llm`` extra), for multi-GPU runs.

``SharedLossGRPOTrainer(..., ladbench_loss=get_loss("lad", divergence="js", eta=0.25))`` keeps
TRL's generation, reward scoring, group advantages, accelerate/DeepSpeed plumbing and logging,
and replaces only ``_compute_loss``: it builds a :class:`LossBatch` from TRL's tensors with the
bandit's meanings and returns ``loss(batch)``.

    logp       TRL's per-token log-probs of the completion tokens under the current model
    old_logp   TRL's ``old_per_token_logps`` (the sampling policy), or logp.detach() when TRL
               skips it because sampling and update use the same weights (num_iterations = 1)
    advantages TRL's group advantages [B]
    mask       TRL's completion_mask [B, T] (times its tool_mask in multi-turn tool use)
    ref_logp   TRL's ``ref_per_token_logps`` (present when GRPOConfig.beta > 0)
    entropy    TRL's per-token entropies
    max_length GRPOConfig.max_completion_length (Dr. GRPO's constant)
    token_denominator  for loss_type="dapo": TRL's own normaliser, the generation batch's token
               count over all processes divided by the processes (and, in training, by the
               micro-batches per generation batch over the accumulation steps)

The plug-in is faithful or refuses: every GRPOConfig field that TRL 1.16's ``_compute_loss``
reads is in exactly one of the tables below (``tests/llm/test_trl_plugin_fields.py`` walks
GRPOConfig's fields and the attributes that ``_compute_loss`` reads, and fails on one that is not):

- ``APPLIED``: set on the ladbench loss or its batch (:func:`loss_for_config`): ``loss_type``
  picks the aggregation (docs/methods.md, "TRL loss_type and ladbench"); ``beta``,
  ``epsilon``/``epsilon_high``, ``delta``, ``use_bias_correction_kl`` and
  ``sapo_temperature_pos``/``_neg`` set the ladbench options of the same meaning (``beta``,
  ``eps_low``/``eps_high``, ``delta``, ``kl_bias_correction``, ``tau_pos``/``tau_neg``); a field
  the ladbench loss has no option for is refused unless it has TRL's neutral value, as is a loss
  option set away from its default to something else than the config says.
  ``importance_sampling_level`` must be the loss's own ratio, as the loss class declares it
  (``Loss.trl_importance_sampling_level``, ``SEQUENCE_LEVEL`` lists the 'sequence' ones: gspo's
  loss is then TRL's GSPO with ``loss_type='grpo'``; gmpo's per-token log-space clip is its own,
  which TRL does not have). A loss without an ``aggregation`` option is a mean over sequences,
  TRL's ``loss_type='grpo'``, and is refused with the other loss types (the table that
  :func:`support_table` writes lists what each loss is accepted with).
- ``REFUSED``: settings that change TRL's loss in ways the plug-in does not implement (the
  high-entropy token mask, the off-policy sequence mask, the entropy bonus, vLLM's
  importance-sampling correction): each is refused with a one-line error naming the field unless
  it has its neutral value. TRL's MoE router auxiliary loss (``router_aux_loss_coef`` on a model
  with router logits) is refused when the trainer is built.
- ``INERT``: fields that TRL reads only under a refused setting.

The loss is divided by the gradient-accumulation steps in training for grpo, bnpo and dr_grpo,
as TRL does for its own; dapo's denominator already spans the accumulated batch. A loss needing
what TRL does not have (FlowRL's learned log Z head, alpha-DPG's graded rewards, reference
log-probs for a loss without beta) is refused: use ``ladbench llm train`` for it. Clip-Cov draws
its random tokens from torch's global generator (``Loss.draw_uniforms``).
"""

from __future__ import annotations

import torch

from ladbench.errors import UserError
from ladbench.llm.deps import require
from ladbench.losses import Loss, LossBatch
from ladbench.losses.registry import LOSSES

trl = require("trl")

# the losses whose ratio is GSPO's sequence ratio (GRPOConfig.importance_sampling_level="sequence")
SEQUENCE_LEVEL = tuple(name for name, loss in LOSSES.items() if loss.trl_importance_sampling_level == "sequence")

# TRL loss_type -> ladbench aggregation (the table in docs/methods.md)
LOSS_TYPE_AGGREGATIONS = {
    "grpo": "seq_mean_token_mean",
    "bnpo": "token_mean",
    "dr_grpo": "seq_mean_token_sum_norm",
    "dapo": "token_mean",
}


# GRPOConfig fields that TRL's _compute_loss reads and the plug-in applies -> what they set
APPLIED = {
    "loss_type": "the aggregation (LOSS_TYPE_AGGREGATIONS); a loss without an aggregation option: 'grpo' only",
    "beta": "the loss's beta (TRL's KL term; refused for a loss without it unless 0)",
    "epsilon": "the loss's eps_low (refused for a loss without it unless 0.2)",
    "epsilon_high": "the loss's eps_high (refused for a loss without it unless equal to epsilon's 0.2)",
    "delta": "the loss's delta (refused for a loss without it unless None)",
    "use_bias_correction_kl": "the loss's kl_bias_correction",
    "sapo_temperature_pos": "the loss's tau_pos (refused for a loss without it unless 1.0)",
    "sapo_temperature_neg": "the loss's tau_neg (refused for a loss without it unless 1.05)",
    "importance_sampling_level": "must be the loss's own ratio: "
    f"'sequence' for {' and '.join(SEQUENCE_LEVEL)}, 'token' otherwise",
    "max_completion_length": "LossBatch.max_length, Dr. GRPO's constant",
    "steps_per_generation": "dapo's denominator, as TRL's",
    "use_vllm": "read only with vllm_importance_sampling_correction (refused)",
}
# GRPOConfig fields whose non-neutral value changes TRL's loss in a way the plug-in does not
# implement -> (the neutral test, the neutral value as the message names it, what TRL does)
REFUSED = {
    "top_entropy_quantile": (
        lambda args: args.top_entropy_quantile == 1.0,
        "1.0",
        "masks all but the high-entropy tokens",
    ),
    "off_policy_mask_threshold": (
        lambda args: args.off_policy_mask_threshold is None,
        "None",
        "drops negative-advantage sequences that drifted off-policy",
    ),
    "entropy_coef": (lambda args: args.entropy_coef == 0.0, "0.0", "adds an entropy bonus"),
    "use_adaptive_entropy": (lambda args: not args.use_adaptive_entropy, "False", "adds an adaptive entropy bonus"),
    "vllm_importance_sampling_correction": (
        lambda args: not (args.use_vllm and args.vllm_importance_sampling_correction),
        "False",
        "multiplies the loss by vLLM's truncated importance-sampling ratios (the default with use_vllm=True)",
    ),
    "router_aux_loss_coef": (
        lambda args: True,  # checked on the model when the trainer is built (SharedLossGRPOTrainer)
        "0.0 (on a model with router logits)",
        "adds the MoE router's auxiliary loss on a model with router logits",
    ),
}
# GRPOConfig fields that TRL's loss reads only under a refused setting -> that setting
INERT = {
    "entropy_target": "use_adaptive_entropy",
    "entropy_coef_min": "use_adaptive_entropy",
    "entropy_coef_max": "use_adaptive_entropy",
    "entropy_coef_delta": "use_adaptive_entropy",
    "vllm_importance_sampling_mode": "vllm_importance_sampling_correction",
    "vllm_importance_sampling_clip_min": "vllm_importance_sampling_correction",
    "vllm_importance_sampling_clip_max": "vllm_importance_sampling_correction",
    "vllm_importance_sampling_cap": "vllm_importance_sampling_correction",
    "vespo_k_pos": "loss_type='vespo'",
    "vespo_lambda_pos": "loss_type='vespo'",
    "vespo_k_neg": "loss_type='vespo'",
    "vespo_lambda_neg": "loss_type='vespo'",
}


def _settings(args) -> list[tuple[str, str, object, object, object]]:
    """(ladbench option, GRPOConfig field, the field's value, the option value it asks for, the
    field's value at which TRL's loss does not use it; loss_type, never None, is always used)."""
    epsilon_high = args.epsilon if args.epsilon_high is None else args.epsilon_high
    aggregation = LOSS_TYPE_AGGREGATIONS[args.loss_type]
    bias_correction = args.use_bias_correction_kl  # acts only with a KL term, which a loss without the option lacks
    return [
        ("aggregation", "loss_type", args.loss_type, aggregation, "grpo"),
        ("beta", "beta", args.beta, args.beta, 0.0),
        ("eps_low", "epsilon", args.epsilon, args.epsilon, 0.2),
        ("eps_high", "epsilon_high", epsilon_high, epsilon_high, 0.2),
        ("delta", "delta", args.delta, args.delta, None),
        ("kl_bias_correction", "use_bias_correction_kl", bias_correction, bias_correction, bias_correction),
        ("tau_pos", "sapo_temperature_pos", args.sapo_temperature_pos, args.sapo_temperature_pos, 1.0),
        ("tau_neg", "sapo_temperature_neg", args.sapo_temperature_neg, args.sapo_temperature_neg, 1.05),
    ]


# batch fields TRL's trainer has no counterpart of: a learned log Z head (FlowRL), the graded
# rewards (alpha_dpg)
TRL_LACKS = {"log_z": "a learned log Z head", "rewards": "the graded rewards"}


def check_trl_can_run(loss: Loss) -> None:
    """Refuse a loss that needs what TRL's trainer does not have."""
    lacking = sorted(loss.batch_fields() & set(TRL_LACKS))
    if lacking:
        raise UserError(
            f"{loss.name} needs {TRL_LACKS[lacking[0]]} (batch.{lacking[0]}), which the TRL plug-in "
            "lacks; use `ladbench llm train`"
        )
    if "ref_logp" in loss.batch_fields() and "beta" not in loss.options():
        raise UserError(
            f"{loss.name} needs reference log-probs (batch.ref_logp), which TRL computes only with beta > 0, "
            f"and beta has no counterpart in {loss.name}; use `ladbench llm train`"
        )


def check_refused_fields(args) -> None:
    """A one-line UserError naming the first REFUSED field that is not at its neutral value."""
    for field, (neutral, shown, what) in REFUSED.items():
        if not neutral(args):
            raise UserError(
                f"GRPOConfig.{field}={getattr(args, field)!r} {what} in TRL's loss, which the ladbench plug-in "
                f"does not implement; set it to {shown}"
            )


def loss_for_config(loss: Loss, args) -> Loss:
    """``loss`` with the options that ``args`` (a GRPOConfig) decides; a UserError where it cannot
    honour them (module docstring)."""
    check_trl_can_run(loss)
    check_refused_fields(args)
    if args.loss_type not in LOSS_TYPE_AGGREGATIONS:
        raise UserError(
            f"GRPOConfig.loss_type={args.loss_type!r} has no ladbench equivalent; "
            f"valid choices with the plug-in: {', '.join(LOSS_TYPE_AGGREGATIONS)}"
        )
    level = loss.trl_importance_sampling_level
    if args.importance_sampling_level != level:
        raise UserError(
            f"GRPOConfig.importance_sampling_level={args.importance_sampling_level!r} is not ladbench loss "
            f"{loss.name!r}'s ratio; set it to {level!r}"
            + (" (GSPO's sequence ratio is ladbench loss 'gspo')" if level == "token" else "")
        )
    defaults = loss.options()
    options = {}
    for option, field, value, wanted, neutral in _settings(args):
        if option in defaults:
            current = getattr(loss, option)
            if current != wanted and current != defaults[option]:
                raise UserError(
                    f"GRPOConfig.{field}={value!r} asks for {option}={wanted!r}, but ladbench loss {loss.name!r} "
                    f"was given {option}={current!r}; set one of them to match"
                )
            options[option] = wanted
        elif value != neutral:
            raise UserError(
                f"GRPOConfig.{field}={value!r} has no counterpart in ladbench loss {loss.name!r}; "
                f"leave it at {neutral!r}"
            )
    return loss.with_options(**options)


def accepted_loss_types(loss: Loss, make_args) -> tuple[list[str], str | None]:
    """The TRL loss types with which ``loss_for_config`` accepts ``loss`` (its own
    importance_sampling_level, every other field at GRPOConfig's default), and the refusal
    message when there is none. ``make_args(**fields)`` builds a GRPOConfig."""
    accepted, refusal = [], None
    for loss_type in LOSS_TYPE_AGGREGATIONS:
        try:
            loss_for_config(
                loss, make_args(loss_type=loss_type, importance_sampling_level=loss.trl_importance_sampling_level)
            )
        except UserError as error:
            refusal = refusal or str(error)
        else:
            accepted.append(loss_type)
    return accepted, None if accepted else refusal


def support_table(make_args) -> str:
    """The markdown that docs/methods.md shows between its ``trl-plugin`` markers: which ladbench
    losses the plug-in accepts, with which loss types, and how it treats each GRPOConfig field
    that TRL's loss reads (tests/llm/test_trl_plugin_fields.py checks the docs against it)."""
    from ladbench.losses import available_losses, get_loss

    lines = ["| ladbench loss | accepted with `loss_type` | `importance_sampling_level` |", "|---|---|---|"]
    for name in available_losses():
        loss = get_loss(name)
        accepted, refusal = accepted_loss_types(loss, make_args)
        if accepted:
            lines.append(f"| `{name}` | {', '.join(accepted)} | {loss.trl_importance_sampling_level} |")
        else:
            lines.append(f"| `{name}` | refused: {refusal} | |")
    lines += ["", "| GRPOConfig field | the plug-in |", "|---|---|"]
    lines += [f"| `{field}` | applied: {what} |" for field, what in APPLIED.items()]
    lines += [
        f"| `{field}` | refused unless {shown}: TRL's loss {what} |" for field, (_, shown, what) in REFUSED.items()
    ]
    lines += [f"| `{field}` | read by TRL only with {setting} (refused) |" for field, setting in INERT.items()]
    return "\n".join(lines)


def check_no_aux_loss(trainer) -> None:
    """Refuse TRL's MoE router auxiliary loss (a model with router logits and router_aux_loss_coef != 0)."""
    if getattr(trainer, "aux_loss_enabled", False):
        coef, what = trainer.args.router_aux_loss_coef, REFUSED["router_aux_loss_coef"][2]
        effective = "" if coef is not None else f" (the model's own {trainer.router_aux_loss_coef!r})"
        raise UserError(
            f"GRPOConfig.router_aux_loss_coef={coef!r}{effective} {what} in TRL's loss, which the ladbench "
            "plug-in does not implement; set it to 0.0"
        )


def trl_loss_batch(logp, entropy, inputs: dict, max_length: int | None = None, token_denominator=None) -> LossBatch:
    """The LossBatch of a TRL GRPO micro-batch, given the current per-token log-probs and entropies."""
    old_logp = inputs.get("old_per_token_logps")
    mask = inputs["completion_mask"]
    if "tool_mask" in inputs:
        mask = mask * inputs["tool_mask"]
    return LossBatch(
        logp=logp,
        old_logp=logp.detach() if old_logp is None else old_logp,
        advantages=inputs["advantages"].reshape(-1),
        mask=mask,
        ref_logp=inputs.get("ref_per_token_logps"),
        entropy=entropy,
        max_length=max_length,
        token_denominator=token_denominator,
    )


class SharedLossGRPOTrainer(trl.GRPOTrainer):
    """GRPOTrainer whose policy loss is a ladbench loss (see module docstring)."""

    def __init__(self, *args, ladbench_loss: Loss, **kwargs):
        check_trl_can_run(ladbench_loss)  # before TRL loads anything
        if kwargs.get("args") is not None:
            loss_for_config(ladbench_loss, kwargs["args"])
        super().__init__(*args, **kwargs)
        self.ladbench_loss = loss_for_config(ladbench_loss, self.args)
        check_no_aux_loss(self)

    def _dapo_denominator(self, inputs: dict, training: bool):
        """TRL's dapo normaliser: the generation batch's tokens (all processes) per process, per
        accumulation window in training."""
        denominator = inputs["num_items_in_batch"].clamp(min=1.0) / self.accelerator.num_processes
        if training:
            denominator = denominator * self.current_gradient_accumulation_steps / self.args.steps_per_generation
        return denominator

    def _compute_loss(self, model, inputs):
        prompt_ids, completion_ids = inputs["prompt_ids"], inputs["completion_ids"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
        logp, entropy, _ = self._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, completion_ids.size(1), compute_entropy=True
        )
        training = self.model.training
        dapo = self.args.loss_type == "dapo"
        batch = trl_loss_batch(
            logp,
            entropy,
            inputs,
            max_length=self.args.max_completion_length,
            token_denominator=self._dapo_denominator(inputs, training) if dapo else None,
        )
        if "uniforms" in self.ladbench_loss.batch_fields():
            batch.uniforms = self.ladbench_loss.draw_uniforms(batch)
        loss, metrics = self.ladbench_loss(batch)
        mode = "train" if training else "eval"
        for name, value in metrics.items():
            self._metrics[mode][f"ladbench/{name}"].append(value)
        return loss / self.current_gradient_accumulation_steps if training and not dapo else loss


if __name__ == "__main__":  # python -m ladbench.llm.trl_plugin: the block of docs/methods.md
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        print(
            support_table(lambda **fields: trl.GRPOConfig(output_dir=directory, report_to=[], use_cpu=True, **fields))
        )
