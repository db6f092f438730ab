"""The shared losses inside TRL's GRPOTrainer (trl pinned in the ``llm`` extra), for multi-GPU runs.

``SharedLossGRPOTrainer(..., ladbench_loss=get_loss("lad", divergence="js", eta=0.25))`` keeps
TRL's generation, reward scoring, group advantages, accelerate/DeepSpeed plumbing and logging,
and replaces only ``_compute_loss``: it builds a :class:`LossBatch` from TRL's tensors with the
bandit's meanings and returns ``loss(batch)``.

    logp       TRL's per-token log-probs of the completion tokens under the current model
    old_logp   TRL's ``old_per_token_logps`` (the sampling policy), or logp.detach() when TRL
               skips it because sampling and update use the same weights (num_iterations = 1)
    advantages TRL's group advantages [B]     mask  TRL's completion_mask [B, T]
    ref_logp   TRL's ``ref_per_token_logps`` (present when GRPOConfig.beta > 0)
    entropy    TRL's per-token entropies

FlowRL needs a learned log Z head, which TRL does not have: use ``ladbench llm train`` for it.
The loss is divided by the gradient-accumulation steps in training, as TRL does for its own.
"""

from __future__ import annotations

import torch

from ladbench.errors import UserError
from ladbench.losses import Loss, LossBatch
from ladbench.llm.deps import require

trl = require("trl")


def trl_loss_batch(logp, entropy, inputs: dict) -> LossBatch:
    """The LossBatch of a TRL GRPO micro-batch, given the current per-token log-probs and entropies."""
    old_logp = inputs.get("old_per_token_logps")
    return LossBatch(
        logp=logp,
        old_logp=logp.detach() if old_logp is None else old_logp,
        advantages=inputs["advantages"].reshape(-1),
        mask=inputs["completion_mask"],
        ref_logp=inputs.get("ref_per_token_logps"),
        entropy=entropy,
    )


class SharedLossGRPOTrainer(trl.GRPOTrainer):
    """GRPOTrainer whose policy loss is a ladbench loss (see module docstring)."""

    def __init__(self, *args, ladbench_loss: Loss, **kwargs):
        if "log_z" in ladbench_loss.batch_fields():
            raise UserError("flowrl needs a learned log Z head, which the TRL plug-in lacks; use `ladbench llm train`")
        super().__init__(*args, **kwargs)
        self.ladbench_loss = ladbench_loss

    def _compute_loss(self, model, inputs):
        prompt_ids, completion_ids = inputs["prompt_ids"], inputs["completion_ids"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
        logp, entropy, _ = self._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, completion_ids.size(1), compute_entropy=True
        )
        loss, metrics = self.ladbench_loss(trl_loss_batch(logp, entropy, inputs))
        mode = "train" if self.model.training else "eval"
        for name, value in metrics.items():
            self._metrics[mode][f"ladbench/{name}"].append(value)
        return loss / self.current_gradient_accumulation_steps if mode == "train" else loss
