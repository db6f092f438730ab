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

The GRPOConfig fields that define TRL's own loss are applied to the ladbench loss
(:func:`loss_for_config`): ``loss_type`` picks the aggregation (docs/methods.md, "TRL loss_type and
ladbench"), and ``beta``, ``epsilon``/``epsilon_high``, ``delta`` and ``use_bias_correction_kl``
set the ladbench loss's options of the same meaning (``beta``, ``eps_low``/``eps_high``,
``delta``, ``kl_bias_correction``). A field the ladbench loss has no option for is refused unless
it has TRL's neutral value, as is a loss option set away from its default to something else than
the config says. With ``importance_sampling_level="sequence"`` TRL uses GSPO's length-normalised
sequence ratio, which no ladbench loss reads through this field (LAD has its own ``ratio_level``):
it is refused.

The loss is divided by the gradient-accumulation steps in training for grpo, bnpo and dr_grpo,
as TRL does for its own; dapo's denominator already spans the accumulated batch. FlowRL needs a
learned log Z head, which TRL does not have: use ``ladbench llm train`` for it.
"""

from __future__ import annotations

import torch

from ladbench.errors import UserError
from ladbench.llm.deps import require
from ladbench.losses import Loss, LossBatch

trl = require("trl")

# TRL loss_type -> ladbench aggregation (the table in docs/methods.md)
LOSS_TYPE_AGGREGATIONS = {
    "grpo": "seq_mean_token_mean",
    "bnpo": "token_mean",
    "dr_grpo": "seq_mean_token_sum_norm",
    "dapo": "token_mean",
}


def _settings(args) -> list[tuple[str, str, object, object, object]]:
    """(ladbench option, GRPOConfig field, the field's value, the option value it asks for, the
    field's value at which TRL's loss does not use it; loss_type, never None, is always used)."""
    epsilon_high = args.epsilon if args.epsilon_high is None else args.epsilon_high
    aggregation = LOSS_TYPE_AGGREGATIONS[args.loss_type]
    bias_correction = args.use_bias_correction_kl  # acts only with a KL term, which a loss without the option lacks
    return [
        ("aggregation", "loss_type", args.loss_type, aggregation, None),
        ("beta", "beta", args.beta, args.beta, 0.0),
        ("eps_low", "epsilon", args.epsilon, args.epsilon, 0.2),
        ("eps_high", "epsilon_high", epsilon_high, epsilon_high, 0.2),
        ("delta", "delta", args.delta, args.delta, None),
        ("kl_bias_correction", "use_bias_correction_kl", bias_correction, bias_correction, bias_correction),
    ]


# batch fields TRL's trainer has no counterpart of: a learned log Z head (FlowRL), the graded
# rewards (alpha_dpg), uniforms drawn for the loss (clip_cov)
TRL_LACKS = {"log_z": "a learned log Z head", "rewards": "the graded rewards", "uniforms": "the loss's own uniforms"}


def check_trl_can_run(loss: Loss) -> None:
    """Refuse a loss that needs what TRL's trainer does not have."""
    lacking = sorted(loss.batch_fields() & set(TRL_LACKS))
    if lacking:
        raise UserError(
            f"{loss.name} needs {TRL_LACKS[lacking[0]]} (batch.{lacking[0]}), which the TRL plug-in "
            "lacks; use `ladbench llm train`"
        )


def loss_for_config(loss: Loss, args) -> Loss:
    """``loss`` with the options that ``args`` (a GRPOConfig) decides; a UserError where it cannot
    honour them (module docstring)."""
    check_trl_can_run(loss)
    if args.loss_type not in LOSS_TYPE_AGGREGATIONS:
        raise UserError(
            f"GRPOConfig.loss_type={args.loss_type!r} has no ladbench equivalent; "
            f"valid choices with the plug-in: {', '.join(LOSS_TYPE_AGGREGATIONS)}"
        )
    if args.importance_sampling_level != "token":
        raise UserError(
            f"GRPOConfig.importance_sampling_level={args.importance_sampling_level!r} (GSPO's sequence ratio) is not "
            "available through the plug-in; use 'token' (LAD has its own ratio_level option)"
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
        super().__init__(*args, **kwargs)
        self.ladbench_loss = loss_for_config(ladbench_loss, self.args)

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
        loss, metrics = self.ladbench_loss(batch)
        mode = "train" if training else "eval"
        for name, value in metrics.items():
            self._metrics[mode][f"ladbench/{name}"].append(value)
        return loss / self.current_gradient_accumulation_steps if training and not dapo else loss
