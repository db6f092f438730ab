"""An LLM policy's state: the one object a training step and an evaluation read and write.

    model        pi_theta, a transformers causal LM, float32 on ``placement.device``
    tokenizer    its tokenizer (EOS and pad completed: ``models.complete_special_tokens``)
    placement    where it computes and the precision of its forward passes (``device.Placement``)
    reference    a frozen copy of the initial model, when the loss reads ref_logp (else None)
    log_z_head   FlowRL's learned log Z(x) (``log_z.LogZHead``), when the loss reads log_z (else None)
    optimizer    AdamW over the trainable parameters and the log Z head's, when it trains (else None)

The trainer builds it once per run (``ladbench.llm.trainer``), ``update`` steps it
(``ladbench.llm.train_step``), the evaluations during training read it in process
(``ladbench.llm.evaluate``), and a checkpoint saves and restores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ladbench.llm.device import Placement


@dataclass
class PolicyState:
    model: Any
    tokenizer: Any
    placement: Placement
    reference: Any = None
    log_z_head: Any = None
    optimizer: Any = None

    @property
    def dtype(self) -> str:
        """The precision of the forward passes (weights, optimizer state and loss stay float32)."""
        return self.placement.dtype

    def trainable_parameters(self) -> list:
        """What the optimizer steps: its parameter groups' parameters (the policy's and the log Z head's)."""
        return [p for group in self.optimizer.param_groups for p in group["params"]]
