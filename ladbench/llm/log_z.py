"""FlowRL's learned log partition function: an MLP on the mean prompt hidden state.

log Z(x) = MLP( mean_{prompt tokens} h_last(x) ), a 3-layer MLP (H -> H -> H -> 1, GELU), as in
FlowRL's released LLM code. The hidden state is not detached, so the trajectory-balance residual
also trains the backbone through it.

The head is float32 on the policy's device whatever ``--dtype`` the policy computes in: the hidden
state is cast to float32 and the head runs with autocast off.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class LogZHead(nn.Module):
    def __init__(self, hidden_size: int):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(hidden_size, hidden_size),
            nn.GELU(),
            nn.Linear(hidden_size, hidden_size),
            nn.GELU(),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, hidden: Tensor, prompt_mask: Tensor) -> Tensor:
        """log Z [B] from the last hidden state [B, L, H] and the prompt mask [B, P] (prompt first)."""
        prompt_hidden = hidden[:, : prompt_mask.shape[1]].float()
        mask = prompt_mask.float()[..., None]
        mean = (prompt_hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
        with torch.autocast(mean.device.type, enabled=False):  # float32 even inside a caller's autocast
            return self.mlp(mean).squeeze(-1)
