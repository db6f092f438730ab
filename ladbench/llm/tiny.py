"""A tiny randomly initialised causal LM with a character-level tokenizer, built offline.

For tests and smoke runs: a LlamaConfig with hidden size 32 and 2 layers, and a tokenizer whose
vocabulary is the printable ASCII characters plus ``<pad>``, ``<s>``, ``</s>`` and ``<unk>``.
It has no chat template, so prompts use the plain template (see ``prompts``).
"""

from __future__ import annotations

import string

from ladbench.llm.deps import require

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>")


def tiny_tokenizer():
    """A PreTrainedTokenizerFast that maps each character to one token."""
    tokenizers = require("tokenizers")
    transformers = require("transformers")
    characters = sorted(set(string.printable))
    vocab = {token: index for index, token in enumerate([*SPECIAL_TOKENS, *characters])}
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Split(tokenizers.Regex(r"[\s\S]"), behavior="isolated")
    tokenizer.decoder = tokenizers.decoders.Fuse()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )


def tiny_model(tokenizer, seed: int = 0, hidden_size: int = 32, layers: int = 2):
    """A randomly initialised LlamaForCausalLM sized for the tokenizer (seeded)."""
    torch = require("torch")
    transformers = require("transformers")
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return transformers.LlamaForCausalLM(config)
