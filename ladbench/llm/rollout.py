"""Sampling completions and scoring their tokens under a policy.

``sample(model, tokenizer, prompts, group_size, max_new_tokens, system_message)`` draws ``group_size`` completions
per prompt by plain ancestral sampling (temperature 1, no top-k or top-p, so the samples come from
pi_old itself) and returns a :class:`Rollout` on the model's device. Rows are grouped: row
``p * G + g`` is sample g of prompt p. ``completion_mask`` marks the completion tokens up to and
including the first EOS. When ``behaviour_logp`` is asked for, it holds log pi_old of each sampled
token, read from the (float32) logits the sampler drew it from.

``token_logp_and_entropy(model, rollout)`` runs the policy on prompt + completion (left-padded
prompts, position ids counted over real tokens, as generation does) and returns per-token
log-probabilities of the completion tokens, per-token entropies H_t = -sum_v p_v log p_v, and the
last hidden state, all [B, T] (hidden: [B, P + T, H]). Log-probabilities and entropies are float32
whatever ``dtype`` the forward pass runs in (see ``ladbench.llm.device``).

Speed: one ``generate`` call per rollout, SDPA attention (transformers' default for Llama-type
models). With a :class:`StaticKVCache` (what the trainer and evaluator use on CUDA in float32), generation
writes into one preallocated KV cache that keeps its addresses from call to call, and transformers
compiles the decoding step (``torch.compile``, CUDA graphs); prompts are then left-padded to a
multiple of ``PROMPT_BUCKET`` tokens so that the compiled step sees few distinct shapes.
``benchmarks/llm_rollout_speed.py`` measures both paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ladbench.llm.device import autocast
from ladbench.llm.prompts import render_prompt

PROMPT_BUCKET = 16  # static-cache path: prompt lengths rounded up to a multiple of this
CACHE_BUCKET = 64  # static-cache path: cache lengths rounded up to a multiple of this


@dataclass
class Rollout:
    prompt_ids: Tensor  # [B, P] left-padded
    prompt_mask: Tensor  # [B, P]
    completion_ids: Tensor  # [B, T] padded after EOS
    completion_mask: Tensor  # [B, T]
    texts: list[str]  # decoded completions, special tokens removed
    behaviour_logp: Tensor | None = None  # [B, T] log pi_old of the sampled tokens, float32
    max_new_tokens: int | None = None  # the longest completion the sampler could produce (T <= it)
    rewards: Tensor | None = None  # [B] the task's grades, once the trainer has scored the rollout
    advantages: Tensor | None = None  # [B] the group advantages of those rewards

    @property
    def lengths(self) -> Tensor:
        return self.completion_mask.sum(dim=1)


class StaticKVCache:
    """One transformers ``StaticCache`` reused by every ``generate`` call of a run.

    transformers makes a new static cache per call; a compiled decoding step replayed as a CUDA
    graph then re-records whenever the cache's addresses change (and gives up after 128 times).
    This one is reset and reused while the batch size stays and the rollout fits, and replaced by a
    longer one (rounded up to ``CACHE_BUCKET``) when it does not.
    """

    def __init__(self, model):
        self.model = model
        self.cache = None
        self.batch_size = 0
        self.length = 0

    def for_rollout(self, batch_size: int, length: int):
        """A reset cache holding ``batch_size`` rows of at least ``length`` tokens."""
        from ladbench.llm.deps import require

        if self.cache is None or batch_size != self.batch_size or length > self.length:
            self.length = max(self.length, -(-length // CACHE_BUCKET) * CACHE_BUCKET)
            self.batch_size = batch_size
            self.cache = require("transformers").StaticCache(config=self.model.config, max_cache_len=self.length)
        else:
            self.cache.reset()
        return self.cache


def rollout_cache(model, dtype: str = "float32") -> StaticKVCache | None:
    """The KV cache ``sample`` should use: a static one on CUDA in float32, where the compiled decoding
    step pays off; None (transformers' dynamic cache, eager decoding) elsewhere. On the CPU the static
    cache is slower (``benchmarks/llm_rollout_speed.py``). Under bfloat16 autocast a Llama layer's keys
    leave RoPE in float32 and its values in bfloat16, which one static cache cannot hold."""
    return StaticKVCache(model) if model.device.type == "cuda" and dtype == "float32" else None


def repeat_each(items: list, times: int) -> list:
    """Each item ``times`` times in a row: the row order of a rollout (row p * G + g is prompt p)."""
    return [item for item in items for _ in range(times)]


def encode_prompts(
    tokenizer, questions: list[str], repeats: int, system_message: str, pad_to_multiple_of: int | None = None
) -> tuple[Tensor, Tensor]:
    """Left-padded token ids and mask of the rendered prompts, each repeated ``repeats`` times (on the CPU)."""
    tokenizer.padding_side = "left"
    texts = [render_prompt(tokenizer, question, system_message) for question in repeat_each(questions, repeats)]
    encoded = tokenizer(
        texts, return_tensors="pt", padding=True, add_special_tokens=False, pad_to_multiple_of=pad_to_multiple_of
    )
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
    dtype: str = "float32",
    cache: StaticKVCache | None = None,
) -> Rollout:
    """``group_size`` sampled completions for each question (see module docstring)."""
    if cache is not None and dtype != "float32":
        raise ValueError(f"a static KV cache needs dtype float32, got {dtype!r} (see rollout_cache)")
    device = model.device
    bucket = PROMPT_BUCKET if cache is not None else None
    prompt_ids, prompt_mask = encode_prompts(tokenizer, questions, group_size, system_message, bucket)
    prompt_ids, prompt_mask = prompt_ids.to(device), prompt_mask.to(device)
    static = {}
    if cache is not None:
        static[_cache_keyword()] = cache.for_rollout(len(prompt_ids), prompt_ids.shape[1] + max_new_tokens)
    was_training = model.training
    model.eval()
    with autocast(device, dtype):
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
            **static,
        )
    model.train(was_training)
    completion_ids = output.sequences[:, prompt_ids.shape[1] :]
    completion_mask = _mask_through_eos(completion_ids, tokenizer.eos_token_id)
    completion_ids = completion_ids.masked_fill(completion_mask == 0, tokenizer.pad_token_id)
    texts = [
        tokenizer.decode(ids[mask.bool()], skip_special_tokens=True)
        for ids, mask in zip(completion_ids.cpu(), completion_mask.cpu(), strict=True)  # one copy, not one per row
    ]
    logp = None
    if behaviour_logp:
        logits = torch.stack(output.logits, dim=1).float()
        logp = logits.log_softmax(-1).gather(-1, completion_ids[..., None]).squeeze(-1) * completion_mask
    return Rollout(prompt_ids, prompt_mask, completion_ids, completion_mask, texts, logp, max_new_tokens)


def _cache_keyword() -> str:
    """``generate``'s keyword for a cache: ``cache`` where transformers has renamed it (``past_key_values``
    warns with a FutureWarning from 5.2x and goes in 6), else ``past_key_values``."""
    from transformers.generation import utils

    return "cache" if "cache" in getattr(utils, "ALL_CACHE_NAMES", ()) else "past_key_values"


def _mask_through_eos(ids: Tensor, eos_token_id: int) -> Tensor:
    """1 up to and including the first EOS of each row, 0 after it."""
    is_eos = ids == eos_token_id
    after_eos = (is_eos.cumsum(dim=1) - is_eos.long()) > 0
    return (~after_eos).long()


def token_logp_and_entropy(
    model, rollout: Rollout, hidden: bool = False, dtype: str = "float32"
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Per-token log pi and entropy of the completion tokens, [B, T], float32; the last hidden state if asked."""
    input_ids = torch.cat([rollout.prompt_ids, rollout.completion_ids], dim=1)
    attention_mask = torch.cat([rollout.prompt_mask, rollout.completion_mask], dim=1)
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp_min(0)
    length = rollout.completion_ids.shape[1]
    with autocast(input_ids.device, dtype):
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
