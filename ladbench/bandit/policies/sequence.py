"""Autoregressive policies of the sequence family: pi(y) = prod_t pi(y_t | y_<t), y_t in V tokens.

Both read a BOS token (index V) then the sequence, and give per-token log-probabilities
[R, 1, N, L] of every one of the N = V^L sequences (the evaluation set, base-V order). The
next-token distribution at position t depends only on the prefix y_<t, so each policy computes
it once per distinct prefix (sum_t V^t evaluations instead of N L), and ``token_logp`` gathers
the per-sequence values.

- ``gru``: a GRU cell (PyTorch's gate equations) of hidden ``width`` H over learned token
  embeddings, h_0 = 0, a linear read-out to V logits.
- ``transformer``: one causal single-head self-attention block of width H over learned token
  and position embeddings, x_t <- x_t + W_o Attn(x_<=t), x_t <- x_t + W2 relu(W1 x_t + b1) + b2
  (no layer norm), and a linear read-out. With one layer, keys, values and queries depend only
  on (position, input token), so they come from a [L, V + 1] table.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ladbench.bandit.policies.network import DTYPE, Policy, stacked_output, stacked_uniform


class SequencePolicy(Policy):
    def __init__(self, env, config) -> None:
        self.vocab, self.length, self.width, self.init_std = env.vocab, env.length, config.width, config.init_std
        self.sequences = env.sequences()  # [N, L]

    def _read_out(self, generators: list[torch.Generator]) -> dict[str, Tensor]:
        return {
            "w_out": stacked_output(generators, (self.width, self.vocab), self.init_std),
            "b_out": torch.zeros(len(generators), self.vocab, dtype=DTYPE),
        }

    def _next_logp(self, params: dict[str, Tensor], hidden: Tensor) -> Tensor:
        """[R, P * V] next-token log-probabilities from hidden [R, P, H], (prefix, token) in base-V order."""
        logits = torch.bmm(hidden, params["w_out"]) + params["b_out"][:, None]
        return torch.log_softmax(logits, dim=-1).reshape(hidden.shape[0], -1)

    def prefixes(self, position: int) -> Tensor:
        """[V^t, t] every prefix of length t = position, in base-V order."""
        return self.sequences[:: self.vocab ** (self.length - position), :position]

    def token_logp(self, params: dict[str, Tensor]) -> Tensor:
        columns = []
        for position, next_logp in enumerate(self.next_logp_by_position(params)):
            index = torch.div(
                torch.arange(len(self.sequences)), self.vocab ** (self.length - 1 - position), rounding_mode="floor"
            )
            columns.append(next_logp[:, index])
        return torch.stack(columns, dim=-1)[:, None]

    def next_logp_by_position(self, params: dict[str, Tensor]) -> list[Tensor]:
        """For each position t, [R, V^(t+1)]: log pi(token | prefix) over (prefix, token) pairs."""
        raise NotImplementedError


class GRUPolicy(SequencePolicy):
    def init(self, generators: list[torch.Generator]) -> dict[str, Tensor]:
        width = self.width
        return {
            "embed": stacked_uniform(generators, (self.vocab + 1, width), 1),
            "w_ih": stacked_uniform(generators, (width, 3 * width), width),
            "w_hh": stacked_uniform(generators, (width, 3 * width), width),
            "b_ih": stacked_uniform(generators, (3 * width,), width),
            "b_hh": stacked_uniform(generators, (3 * width,), width),
            **self._read_out(generators),
        }

    @staticmethod
    def _cell(params: dict[str, Tensor], inputs: Tensor, hidden: Tensor) -> Tensor:
        """One GRU step, inputs and hidden [R, P, H]."""
        input_gates = torch.bmm(inputs, params["w_ih"]) + params["b_ih"][:, None]
        hidden_gates = torch.bmm(hidden, params["w_hh"]) + params["b_hh"][:, None]
        input_r, input_z, input_n = input_gates.chunk(3, dim=-1)
        hidden_r, hidden_z, hidden_n = hidden_gates.chunk(3, dim=-1)
        reset = torch.sigmoid(input_r + hidden_r)
        update = torch.sigmoid(input_z + hidden_z)
        candidate = torch.tanh(input_n + reset * hidden_n)
        return (1.0 - update) * candidate + update * hidden

    def next_logp_by_position(self, params: dict[str, Tensor]) -> list[Tensor]:
        embed = params["embed"]
        hidden = torch.zeros(embed.shape[0], 1, self.width, dtype=embed.dtype)
        hidden = self._cell(params, embed[:, self.vocab :], hidden)  # after BOS: the empty prefix
        per_position = [self._next_logp(params, hidden)]
        for _ in range(1, self.length):
            tokens = torch.arange(self.vocab).repeat(hidden.shape[1])  # extend every prefix by every token
            hidden = self._cell(params, embed[:, tokens], hidden.repeat_interleave(self.vocab, dim=1))
            per_position.append(self._next_logp(params, hidden))
        return per_position


class TransformerPolicy(SequencePolicy):
    def init(self, generators: list[torch.Generator]) -> dict[str, Tensor]:
        width = self.width
        return {
            "embed": stacked_uniform(generators, (self.vocab + 1, width), 1),
            "position": stacked_uniform(generators, (self.length, width), 1),
            **{name: stacked_uniform(generators, (width, width), width) for name in ("w_q", "w_k", "w_v", "w_o")},
            "w_1": stacked_uniform(generators, (width, 2 * width), width),
            "b_1": stacked_uniform(generators, (2 * width,), width),
            "w_2": stacked_uniform(generators, (2 * width, width), 2 * width),
            "b_2": stacked_uniform(generators, (width,), 2 * width),
            **self._read_out(generators),
        }

    def next_logp_by_position(self, params: dict[str, Tensor]) -> list[Tensor]:
        runs = params["embed"].shape[0]
        inputs = params["position"][:, :, None] + params["embed"][:, None]  # [R, L, V+1, H]: (position, input token)
        flat = inputs.reshape(runs, -1, self.width)

        def table(weight: str) -> Tensor:
            return torch.bmm(flat, params[weight]).reshape(inputs.shape)

        queries, keys, values = table("w_q"), table("w_k"), table("w_v")
        per_position = []
        for position in range(self.length):
            tokens = torch.cat(
                [torch.full((self.vocab**position, 1), self.vocab), self.prefixes(position)], dim=1
            )  # [P, t+1]
            seen = torch.arange(position + 1)
            current = tokens[:, -1]
            scores = torch.einsum("rph,rpsh->rps", queries[:, position, current], keys[:, seen, tokens])
            attention = torch.softmax(scores / math.sqrt(self.width), dim=-1)
            mixed = torch.einsum("rps,rpsh->rph", attention, values[:, seen, tokens])
            x = inputs[:, position, current] + torch.bmm(mixed, params["w_o"])
            x = (
                x
                + torch.bmm(torch.relu(torch.bmm(x, params["w_1"]) + params["b_1"][:, None]), params["w_2"])
                + params["b_2"][:, None]
            )
            per_position.append(self._next_logp(params, x))
        return per_position
