"""The contextual family's policy: an MLP from the context embedding to the arm logits,

    logits(c) = W2 tanh(W1 e_c + b1) + b2,     pi(a | c) = softmax(logits(c))_a,

shared across contexts. Capacity knob: the hidden ``width`` H. With H >= C and distinct
embeddings the hidden features of the C contexts are generically linearly independent, so any
table of per-context logits (every target) is representable; below that it is not.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ladbench.bandit.policies.network import DTYPE, Policy, stacked_output, stacked_uniform


class MLPPolicy(Policy):
    def __init__(self, env, config) -> None:
        self.embeddings = env.embeddings(DTYPE)  # [C, E]
        self.width, self.arms, self.init_std = config.width, env.arms, config.init_std

    def init(self, generators: list[torch.Generator]) -> dict[str, Tensor]:
        embed_dim = self.embeddings.shape[1]
        return {
            "w1": stacked_uniform(generators, (embed_dim, self.width), embed_dim),
            "b1": stacked_uniform(generators, (self.width,), embed_dim),
            "w2": stacked_output(generators, (self.width, self.arms), self.init_std),
            "b2": torch.zeros(len(generators), self.arms, dtype=DTYPE),
        }

    def token_logp(self, params: dict[str, Tensor]) -> Tensor:
        hidden = torch.tanh(torch.einsum("ce,reh->rch", self.embeddings, params["w1"]) + params["b1"][:, None])
        logits = torch.einsum("rch,rha->rca", hidden, params["w2"]) + params["b2"][:, None]
        return torch.log_softmax(logits, dim=-1)[..., None]
