"""Sampling completions and scoring their tokens under a policy.

``sample(model, tokenizer, prompts, group_size, max_new_tokens, system_message)`` draws ``group_size`` completions
per prompt by plain ancestral sampling (temperature 1, no top-k or top-p, so the samples come from
pi_old itself) and returns a :class:`Rollout`. Rows are grouped: row ``p * G + g`` is sample g of
prompt p. ``completion_mask`` marks the completion tokens up to and including the first EOS.
When ``behaviour_logp`` is asked for, it holds log pi_old of each sampled token, read from the
logits the sampler drew it from.

``token_logp_and_entropy(model, rollout)`` runs the policy on prompt + completion (left-padded
prompts, position ids counted over real tokens, as generation does) and returns per-token
log-probabilities of the completion tokens, per-token entropies H_t = -sum_v p_v log p_v, and the
last hidden state, all [B, T] (hidden: [B, P + T, H]).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ladbench.llm.prompts import render_prompt


@dataclass
class Rollout:
    prompt_ids: Tensor  # [B, P] left-padded
    prompt_mask: Tensor  # [B, P]
    completion_ids: Tensor  # [B, T] padded after EOS
    completion_mask: Tensor  # [B, T]
    texts: list[str]  # decoded completions, special tokens removed
    behaviour_logp: Tensor | None = None  # [B, T] log pi_old of the sampled tokens
    max_new_tokens: int | None = None  # the longest completion the sampler could produce (T <= it)

    @property
    def lengths(self) -> Tensor:
        return self.completion_mask.sum(dim=1)


def repeat_each(items: list, times: int) -> list:
    """Each item ``times`` times in a row: the row order of a rollout (row p * G + g is prompt p)."""
    return [item for item in items for _ in range(times)]


def encode_prompts(tokenizer, questions: list[str], repeats: int, system_message: str) -> tuple[Tensor, Tensor]:
    """Left-padded token ids and mask of the rendered prompts, each repeated ``repeats`` times."""
    tokenizer.padding_side = "left"
    texts = [render_prompt(tokenizer, question, system_message) for question in repeat_each(questions, repeats)]
    encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    return encoded["input_ids"], encoded["attention_mask"]


@torch.no_grad()
def sample(
    model,
    tokenizer,
    questions: list[str],
    group_size: int,
    max_new_tokens: int,
    system_message: str,
    behaviour_logp: bool = False,
) -> Rollout:
    """``group_size`` sampled completions for each question (see module docstring)."""
    prompt_ids, prompt_mask = encode_prompts(tokenizer, questions, group_size, system_message)
    was_training = model.training
    model.eval()
    output = model.generate(
        input_ids=prompt_ids,
        attention_mask=prompt_mask,
        do_sample=True,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        max_new_tokens=max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        return_dict_in_generate=True,
        output_logits=behaviour_logp,
    )
    model.train(was_training)
    completion_ids = output.sequences[:, prompt_ids.shape[1] :]
    completion_mask = _mask_through_eos(completion_ids, tokenizer.eos_token_id)
    completion_ids = completion_ids.masked_fill(completion_mask == 0, tokenizer.pad_token_id)
    texts = [
        tokenizer.decode(ids[mask.bool()], skip_special_tokens=True)
        for ids, mask in zip(completion_ids, completion_mask, strict=True)
    ]
    logp = None
    if behaviour_logp:
        logits = torch.stack(output.logits, dim=1).float()
        logp = logits.log_softmax(-1).gather(-1, completion_ids[..., None]).squeeze(-1) * completion_mask
    return Rollout(prompt_ids, prompt_mask, completion_ids, completion_mask, texts, logp, max_new_tokens)


def _mask_through_eos(ids: Tensor, eos_token_id: int) -> Tensor:
    """1 up to and including the first EOS of each row, 0 after it."""
    is_eos = ids == eos_token_id
    after_eos = (is_eos.cumsum(dim=1) - is_eos.long()) > 0
    return (~after_eos).long()


def token_logp_and_entropy(model, rollout: Rollout, hidden: bool = False) -> tuple[Tensor, Tensor, Tensor | None]:
    """Per-token log pi and entropy of the completion tokens, [B, T]; the last hidden state if asked."""
    input_ids = torch.cat([rollout.prompt_ids, rollout.completion_ids], dim=1)
    attention_mask = torch.cat([rollout.prompt_mask, rollout.completion_mask], dim=1)
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp_min(0)
    length = rollout.completion_ids.shape[1]
    output = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        output_hidden_states=hidden,
        logits_to_keep=length + 1,
        use_cache=False,
    )
    logits = output.logits[:, :-1].float()  # position i predicts token i + 1
    log_probs = logits.log_softmax(-1)
    logp = log_probs.gather(-1, rollout.completion_ids[..., None]).squeeze(-1)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    return logp, entropy, output.hidden_states[-1] if hidden else None
