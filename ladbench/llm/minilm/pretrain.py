"""``ladbench llm pretrain``: a small Llama pretrained from scratch on a corpus with a known answer prior.

The model is a ``transformers`` LlamaForCausalLM (3 layers, hidden 96, 4 heads, MLP width 2h, tied
embeddings) over a 19-symbol character vocabulary (``<pad> <s> </s> <unk>``, the digits and
``" :+=*"``), built here, offline. Its tokenizer's chat template renders a question as
``<s>`` + the compact prompt (``ladbench.llm.prompts.render_prompt`` uses it), and its config
carries ``ladbench_minilm`` (corpus, corpus options, cache key, base directory), which is how
the trainer and the evaluation recognise a mini-LM (``ladbench.llm.minilm.view``).

Pretraining (the corpus: ``ladbench.llm.minilm.corpus``). Each step draws ``batch_size``
documents: a pretraining prompt uniformly, then a whole response from the corpus's exact response
distribution. The loss is scored on the response tokens and EOS only, against soft targets: at
each response position the target is the corpus's exact next-token distribution given the prompt
and the response prefix, not the one sampled token. The expected loss equals that of sampled
documents, with far less gradient noise (the minimum is the corpus's conditional entropy, logged
as ``excess`` = loss - target entropy, in nats per document). AdamW (0.9, 0.98), linear warmup,
cosine decay to ``final_lr_ratio`` of ``lr``, gradient clipping. One torch thread by default.

Deterministic and cached: the same config gives the same weights (torch seeded from ``seed``,
documents from ``seed``), and the result is written (``save_pretrained``: config, safetensors,
tokenizer, then ``manifest.json``, kind ``minilm_pretrain``: the config, its cache key, the corpus
hash, the loss curve, the seconds it took and the base model's exact metrics on the task's
held-out prompts) into ``<cache>/minilm/<corpus>-<key>``, staged and renamed atomically. A
second call with the same config reuses it. Loading a checkpoint whose directory or model config
names another key than its manifest's config is refused. The cache key (``cache_key``) names a
pretrained mini-LM; it is not the hash of a sweep cell (``ladbench.layout.config_hash``).

The corpus and its options are one table, ``corpus = {name = "pair_sum", smaller_first = 0.9}``;
the older spelling, ``corpus = "pair_sum"`` with ``corpus_options = {smaller_first = 0.9}``, is the
same config with the same key.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, model_validator

from ladbench import manifest
from ladbench.errors import UserError, validated
from ladbench.llm.minilm.corpus import (
    CORPORA,
    FORMERLY_SHARED,
    Corpus,
    CorpusOptions,
    get_corpus,
    options_help,
    shuffled,
)
from ladbench.resources import MAX_SEED

KIND = "minilm_pretrain"
SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>")
CHARACTERS = "0123456789 :+=*"
CHAT_TEMPLATE = "{{ bos_token }}{{ messages[-1]['content'] }}"
VERSION = 1  # bump when the corpus or the training changes what a config produces
CURVE_EVERY = 10  # loss-curve points in the manifest: every 10th step


class PretrainConfig(BaseModel):
    """Everything that determines a pretrained mini-LM (``ladbench llm pretrain --help``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    corpus: str = Field(
        "between",
        description=f"The task the corpus draws from: {CORPORA.listed()}. In a config file also a table with its "
        'options, corpus = {name = "between", prior_exponent = 1.2}.',
    )
    corpus_options: SerializeAsAny[CorpusOptions] = Field(
        default_factory=CorpusOptions,
        description=f"The corpus's options (answer prior, error rates, formats): {options_help()}.",
    )
    hidden_size: int = Field(96, ge=8, description="Model width h (MLP width 2h).")
    layers: int = Field(3, ge=1, description="Transformer blocks.")
    heads: int = Field(4, ge=1, description="Attention heads (h must divide by it).")
    steps: int = Field(1200, ge=1, le=1_000_000, description="Optimizer steps.")
    batch_size: int = Field(256, ge=1, description="Documents per step.")
    lr: float = Field(3e-3, gt=0, le=1, allow_inf_nan=False, description="AdamW peak learning rate.")
    warmup: int = Field(50, ge=0, description="Linear warmup steps.")
    final_lr_ratio: float = Field(0.1, ge=0, le=1, description="Cosine decay ends at this fraction of lr.")
    weight_decay: float = Field(0.01, ge=0, allow_inf_nan=False, description="AdamW weight decay.")
    grad_clip: float = Field(1.0, gt=0, allow_inf_nan=False, description="Gradient-norm clip.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the initial weights and of the documents.")
    split_seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the task's train/eval split (as in training).")
    eval_prompts: int = Field(64, ge=1, description="Held-out prompts of the base model's exact evaluation.")
    check_samples: int = Field(
        64, ge=0, description="Samples per held-out prompt that measure the mass the enumeration misses (0: none)."
    )

    @model_validator(mode="before")
    @classmethod
    def _corpus_first(cls, data: Any) -> Any:
        """``corpus = {name = ..., ...options}`` as ``corpus`` + ``corpus_options``; the options
        checked by the corpus (an unknown corpus or an option it does not read: one line)."""
        if not isinstance(data, dict):
            return data
        data = dict(fold_corpus_table(data))
        name = data.get("corpus", cls.model_fields["corpus"].default)
        if not isinstance(name, str):
            raise UserError(f'corpus: expected a corpus name or a table {{name = "between", ...}}, got {name!r}')
        data["corpus_options"] = CORPORA[name].checked_options(data.get("corpus_options"))
        return data

    @model_validator(mode="after")
    def _check(self) -> PretrainConfig:
        if self.hidden_size % self.heads:
            raise UserError(f"hidden_size={self.hidden_size} does not divide into heads={self.heads}")
        return self

    @classmethod
    def build(cls, **fields: Any) -> PretrainConfig:
        return validated(cls, fields)

    def resolved(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def cache_key(self) -> str:
        return cache_key(self.resolved())

    def make_corpus(self) -> Corpus:
        return get_corpus(self.corpus, self.corpus_options)


def fold_corpus_table(data: dict[str, Any]) -> dict[str, Any]:
    """``corpus = {name = ..., ...options}`` as the fields it sets (``corpus``, ``corpus_options``)."""
    table = data.get("corpus")
    if not isinstance(table, dict):
        return data
    data, table = dict(data), dict(table)
    if "name" not in table:
        raise UserError(
            'corpus: a table needs the corpus\'s name, e.g. corpus = {name = "between", prior_exponent = 1.2}'
        )
    if "corpus_options" in data:
        raise UserError(
            "corpus_options: give the corpus's options inside the corpus table, "
            f"corpus = {{name = {table['name']!r}, ...}} (on the command line -s corpus.<option>=...), not beside it"
        )
    data["corpus"] = table.pop("name")
    data["corpus_options"] = table
    return data


def cache_key(resolved: dict[str, Any]) -> str:
    """The key of a pretraining config (its resolved form): what names its cached mini-LM. The
    formerly shared corpus options enter it for every corpus (``FORMERLY_SHARED``), so that every
    config keeps the key it had before each corpus declared its options."""
    options = resolved.get("corpus_options")
    if isinstance(options, dict):
        resolved = {**resolved, "corpus_options": {**FORMERLY_SHARED, **options}}
    payload = json.dumps({"version": VERSION, "config": resolved}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def checkpoint_dir(config: PretrainConfig, cache: Path | None = None) -> Path:
    from ladbench.llm.deps import minilm_dir

    return minilm_dir(config.corpus, config.cache_key(), cache)


def minilm_tokenizer():
    """A character tokenizer over ``CHARACTERS`` with the mini-LM's chat template."""
    from ladbench.llm.deps import require

    tokenizers = require("tokenizers")
    transformers = require("transformers")
    vocab = {token: index for index, token in enumerate([*SPECIAL_TOKENS, *CHARACTERS])}
    backend = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = tokenizers.pre_tokenizers.Split(tokenizers.Regex(r"[\s\S]"), behavior="isolated")
    backend.decoder = tokenizers.decoders.Fuse()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(tokenizer, config: PretrainConfig, info: dict[str, Any]):
    """A randomly initialised LlamaForCausalLM (seeded), its config carrying ``ladbench_minilm``."""
    import torch

    from ladbench.llm.deps import require

    transformers = require("transformers")
    model_config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=2 * config.hidden_size,
        num_hidden_layers=config.layers,
        num_attention_heads=config.heads,
        num_key_value_heads=config.heads,
        max_position_embeddings=64,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    model_config.ladbench_minilm = info
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        model = transformers.LlamaForCausalLM(model_config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


class Documents:
    """The corpus as training tensors: per prompt, its responses' token ids, probabilities and
    soft targets (the exact next-token distribution at each response position), built on first use."""

    def __init__(self, corpus: Corpus, tokenizer, problems):
        from ladbench.llm.prompts import render_prompt

        self.corpus, self.problems = corpus, problems
        self.vocab = tokenizer.get_vocab()
        self.eos, self.pad = tokenizer.eos_token_id, tokenizer.pad_token_id
        self.prompts = [
            tokenizer(render_prompt(tokenizer, corpus.prompt(p), ""), add_special_tokens=False)["input_ids"]
            for p in problems
        ]
        lengths = {len(ids) for ids in self.prompts}
        if len(lengths) != 1:
            raise RuntimeError(f"corpus {corpus.name!r} prompts differ in length: {sorted(lengths)}")
        self.prompt_length = lengths.pop()
        self.cache: dict[int, tuple] = {}

    def of(self, index: int):
        """(response ids [R, L], probabilities [R], soft targets [R, L, V], target entropy per response [R])."""
        if index not in self.cache:
            self.cache[index] = self._build(self.problems[index])
        return self.cache[index]

    def _build(self, problem):
        import numpy as np

        responses = self.corpus.responses(problem)
        ids = [[self.vocab[c] for c in r.text] + [self.eos] for r in responses]
        probs = np.array([r.prob for r in responses])
        probs = probs / probs.sum()
        table: dict[tuple, Any] = defaultdict(lambda: np.zeros(len(self.vocab)))
        for tokens, p in zip(ids, probs, strict=True):
            for t in range(len(tokens)):
                table[tuple(tokens[:t])][tokens[t]] += p
        width = max(map(len, ids))
        padded = np.full((len(ids), width), self.pad, dtype=np.int64)
        targets = np.zeros((len(ids), width, len(self.vocab)), dtype=np.float32)
        for row, tokens in enumerate(ids):
            padded[row, : len(tokens)] = tokens
            for t in range(len(tokens)):
                counts = table[tuple(tokens[:t])]
                targets[row, t] = counts / counts.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.nansum(np.where(targets > 0, targets * np.log(targets), 0.0), axis=(1, 2))
        return padded, probs, targets, entropy

    def batch(self, rng, size: int):
        """Input ids [B, P + L], soft targets of the response positions [B, L, V], target entropy [B]."""
        import numpy as np
        import torch

        chosen = rng.integers(len(self.problems), size=size)
        rows, targets, entropies = [], [], []
        for index in chosen:
            padded, probs, target, entropy = self.of(int(index))
            pick = rng.choice(len(probs), p=probs)
            rows.append((self.prompts[index], padded[pick]))
            targets.append(target[pick])
            entropies.append(entropy[pick])
        width = max(len(response) for _, response in rows)
        input_ids = np.full((size, self.prompt_length + width), self.pad, dtype=np.int64)
        soft = np.zeros((size, width, len(self.vocab)), dtype=np.float32)
        for row, ((prompt, response), target) in enumerate(zip(rows, targets, strict=True)):
            input_ids[row, : self.prompt_length] = prompt
            input_ids[row, self.prompt_length : self.prompt_length + len(response)] = response
            soft[row, : len(target)] = target
        return torch.from_numpy(input_ids), torch.from_numpy(soft), float(np.mean(entropies))


def corpus_hash(corpus: Corpus, problems) -> str:
    """sha256 of the corpus's exact response distributions over the pretraining prompts."""
    digest = hashlib.sha256()
    for problem in problems:
        digest.update(corpus.prompt(problem).encode())
        for response in corpus.responses(problem):
            digest.update(f"|{response.text}:{response.prob:.12g}".encode())
    return digest.hexdigest()


def _lr_factor(step: int, config: PretrainConfig) -> float:
    if step < config.warmup:
        return (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.final_lr_ratio + (1 - config.final_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def pretrain(
    config: PretrainConfig, cache: Path | None = None, progress: bool | None = None, threads: int | None = 1
) -> Path:
    """The directory of the pretrained mini-LM for ``config``: reused when cached, else trained and written."""
    target = checkpoint_dir(config, cache)
    if manifest.exists(target):
        check_checkpoint(target)
        return target
    _check_writable(target.parent)
    import numpy as np
    import torch

    from ladbench.llm.minilm.exact import base_report

    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        started = time.perf_counter()
        corpus = config.make_corpus()
        problems = corpus.pretrain_problems()
        tokenizer = minilm_tokenizer()
        info = {
            "corpus": config.corpus,
            "corpus_options": config.corpus_options.model_dump(),
            "config_hash": config.cache_key(),
            "base_dir": str(target.resolve()),
        }
        model = build_model(tokenizer, config, info)
        documents = Documents(corpus, tokenizer, shuffled(problems, config.seed))
        curve = _train(model, documents, config, np.random.default_rng(config.seed), progress)
        seconds = time.perf_counter() - started
        base = base_report(model, tokenizer, config)
        _write(target, model, tokenizer, config, corpus_hash(corpus, problems), curve, seconds, base, len(problems))
    finally:
        torch.set_num_threads(previous_threads)
    return target


def _train(model, documents: Documents, config: PretrainConfig, rng, progress: bool | None) -> list[dict]:
    import torch
    from tqdm.auto import tqdm

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.98), weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(step, config))
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(range(config.steps), desc=f"pretrain minilm {config.corpus}", disable=not show)
    curve = []
    start = documents.prompt_length - 1  # the logit at position i predicts token i + 1
    model.train()
    for step in bar:
        input_ids, soft, entropy = documents.batch(rng, config.batch_size)
        logits = model(input_ids=input_ids, use_cache=False).logits[:, start : start + soft.shape[1]].float()
        loss = -(soft * logits.log_softmax(-1)).sum() / len(input_ids)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        schedule.step()
        value = float(loss.detach())
        if step % CURVE_EVERY == 0 or step + 1 == config.steps:
            curve.append({"step": step + 1, "loss": value, "excess": value - entropy})
            bar.set_postfix(loss=f"{value:.3f}", excess=f"{value - entropy:.3f}")
    model.eval()
    return curve


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=directory, prefix=".probe.", delete=True)
        probe.close()
    except OSError as error:
        raise UserError(
            f"cache directory {str(directory)!r} is not writable ({error.strerror or error}); set "
            "LADBENCH_CACHE or --cache to a writable directory"
        ) from None


def _write(target: Path, model, tokenizer, config, corpus_digest, curve, seconds, base, prompts) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        manifest.write(
            staging,
            KIND,
            "minilm",
            config.resolved(),
            [config.seed],
            files,
            config_hash=config.cache_key(),
            corpus_hash=corpus_digest,
            pretrain_prompts=prompts,
            parameters=sum(p.numel() for p in model.parameters()),
            pretrain_seconds=seconds,
            loss_curve=curve,
            base=base,
        )
        try:
            os.replace(staging, target)
        except OSError:  # another process wrote the same config first: keep its copy
            if not manifest.exists(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_checkpoint(directory: Path) -> dict[str, Any]:
    """The manifest of a pretrained mini-LM directory, refused (one line) when the hash of its
    config differs from the one it records, from its directory name or from its model config."""
    record = manifest.read(directory)
    recorded = record.get("config_hash")
    actual = cache_key(record.get("config", {}))
    model_hash = None
    config_file = Path(directory) / "config.json"
    if config_file.is_file():
        model_hash = (json.loads(config_file.read_text()).get("ladbench_minilm") or {}).get("config_hash")
    named = Path(directory).name.rpartition("-")[2]
    for what, value in (("its manifest's config", actual), ("its model config", model_hash), ("its name", named)):
        if value is not None and value != recorded and not (what == "its name" and len(value) != len(recorded or "")):
            raise UserError(
                f"mini-LM checkpoint {str(directory)!r}: config hash {recorded!r} in manifest.json does not match "
                f"{what} ({value!r}); delete the directory and pretrain again"
            )
    return record


def resolve_spec(spec: str, cache: Path | None = None, progress: bool | None = None) -> Path:
    """``minilm`` or ``minilm:<corpus>``: the default-config mini-LM's directory, pretrained on first use."""
    _, _, corpus = spec.partition(":")
    config = PretrainConfig.build(**({"corpus": corpus} if corpus else {}))
    return pretrain(config, cache, progress)


def is_checkpoint(directory: Path) -> bool:
    if not manifest.exists(directory):
        return False
    try:
        return json.loads((Path(directory) / manifest.FILE).read_text()).get("kind") == KIND
    except (OSError, ValueError):
        return False
