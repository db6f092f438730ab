"""The memory an LLM training step or evaluation batch needs, estimated before it is allocated.

B sequences of S = P_prompt + max_new_tokens tokens, P_prompt the longest templated prompt
(``longest_prompt``, measured on the first MEASURED_PROMPTS prompts), B = prompts_per_step x
group_size in training and batch_prompts x k in evaluation, through a model of P parameters (P_t trainable),
L layers, hidden size d, key/value width d_kv and vocabulary V. The largest allocations, in
bytes of float32 (an upper bound under bfloat16):

- the frozen reference copy of the model when the loss reads ref_logp       P x 4 (the model itself
  is loaded when the check runs: the available memory already excludes it)
- gradients and AdamW's two moments                                         P_t x 4 x 3
- the sampler's key-value cache                                             B S L x 2 d_kv x 4
- logits of the completion tokens (T = max_new_tokens): the sampler's,
  kept for pi_old, and the update's, with log-softmax, softmax (entropy)
  and their gradients (evaluation keeps one step's, B V x 4 x 2)           B T V x 4 x LOGIT_COPIES
- the update's activations (kept for backward)                              B S L d x 4 x ACTIVATION_FIELDS
- the update's attention probabilities (kept for backward)                  B S^2 L heads x 4
- the prompt pool (Python objects)                                          prompts x PROBLEM_BYTES

``tests/test_memory.py`` checks the estimate against the measured peak of a small run (within a
factor of 3). Whether the machine can run it is decided by ``resources.check_fits``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ladbench.resources import Need, check_fits

FLOAT = 4
LOGIT_COPIES = 6
ACTIVATION_FIELDS = 8  # per layer per token, in units of d (measured: SmolLM2-135M and the tiny model, tests)
PROBLEM_BYTES = 4_000
MEASURED_PROMPTS = 256  # prompts whose templated length the checks measure (the default training pool's size)


@dataclass(frozen=True)
class ModelDims:
    """What the estimate reads from a loaded model."""

    parameters: int
    trainable: int
    layers: int
    hidden: int
    heads: int
    kv_width: int
    vocab: int

    @classmethod
    def of(cls, model) -> ModelDims:
        config = model.config
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        return cls(
            parameters=sum(p.numel() for p in model.parameters()),
            trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
            layers=config.num_hidden_layers,
            hidden=config.hidden_size,
            heads=heads,
            kv_width=(getattr(config, "num_key_value_heads", None) or heads) * head_dim,
            vocab=config.vocab_size,
        )


def _sequence_needs(
    dims: ModelDims, sequences: int, prompt_tokens: int, new_tokens: int, lower: str, backward: bool
) -> list[Need]:
    tokens = sequences * (prompt_tokens + new_tokens)
    logits = sequences * new_tokens * LOGIT_COPIES if backward else sequences * 2
    needs = [
        Need("the sampler's key-value cache", tokens * dims.layers * 2 * dims.kv_width * FLOAT, lower),
        Need("the logits", logits * dims.vocab * FLOAT, lower),
    ]
    if backward:
        length = prompt_tokens + new_tokens
        needs.append(
            Need("the update's activations", tokens * dims.layers * dims.hidden * FLOAT * ACTIVATION_FIELDS, lower)
        )
        needs.append(
            Need(
                "the update's attention probabilities", sequences * length**2 * dims.layers * dims.heads * FLOAT, lower
            )
        )
    return needs


def longest_prompt(tokenizer, questions: list[str], system_message: str) -> int:
    """Tokens of the longest of these questions as the sampler renders them."""
    from ladbench.llm.prompts import render_prompt

    return max(len(tokenizer(render_prompt(tokenizer, question, system_message)).input_ids) for question in questions)


def train_needs(
    config, dims: ModelDims, reference: bool, prompt_tokens: int, evaluation: list[Need] | None = None
) -> list[Need]:
    """A training run's needs (``config``: a ``TrainConfig``). ``evaluation``: the needs of its
    evaluations during training, which run between steps: the run needs the larger of them and a
    step's sequences, beside what it keeps throughout (the pool, the reference, the optimizer state)."""
    needs = [
        Need(
            "the training prompt pool",
            config.train_prompts * PROBLEM_BYTES,
            f"--train-prompts ({config.train_prompts})",
        )
    ]
    lower = (
        f"--prompts-per-step ({config.prompts_per_step}) x --group-size ({config.group_size}) or "
        f"--max-new-tokens ({config.max_new_tokens})"
    )
    step = _sequence_needs(
        dims, config.prompts_per_step * config.group_size, prompt_tokens, config.max_new_tokens, lower, backward=True
    )
    if evaluation is not None and _total(evaluation) > _total(step):
        step = evaluation
    needs += [
        *([Need("the frozen reference model", dims.parameters * FLOAT, "--model")] if reference else []),
        Need("gradients and optimiser state", dims.trainable * FLOAT * 3, "--trainable-layers"),
        *step,
    ]
    return needs


def eval_needs(
    k: int,
    batch_prompts: int,
    prompts: int,
    max_new_tokens: int,
    dims: ModelDims,
    prompt_tokens: int,
    flag: str = "--",
) -> list[Need]:
    """An evaluation's needs (the task's defaults resolved); ``flag``: the prefix of the options that
    set it (``--curve-`` for the evaluations during training, whose batch of prompts is fixed)."""
    needs = [
        Need(
            "the evaluation prompts and their samples",
            prompts * (PROBLEM_BYTES + k * max_new_tokens * 16),
            f"{flag}prompts ({prompts}) or {flag}k ({k})",
        )
    ]
    batch = f"--batch-prompts ({batch_prompts}) x " if flag == "--" else ""
    lower = f"{batch}{flag}k ({k}) or {flag}max-new-tokens ({max_new_tokens})"
    needs += [
        *_sequence_needs(dims, min(batch_prompts, prompts) * k, prompt_tokens, max_new_tokens, lower, backward=False)
    ]
    return needs


def _total(needs: list[Need]) -> int:
    return sum(need.bytes for need in needs)


def _free_memory(device: str | None) -> int | None:
    """The free memory of a CUDA device, where the run's tensors live; None: the host's (``check_fits``)."""
    if device is None or not device.startswith("cuda"):
        return None
    import torch

    return torch.cuda.mem_get_info(torch.device(device))[0]


def check_train_memory(config, policy, task, reference: bool, curve_task=None) -> None:
    """The one memory check of a training run (``config``: a ``TrainConfig``), made once its model
    is loaded (``policy``: its ``PolicyState``) and before anything else is allocated: the prompt
    pool, the reference copy (``reference``: the loss reads ref_logp), the optimizer state, and,
    with ``config.curve``, the evaluations during training (of ``curve_task``, as the model reads
    it), which therefore check nothing themselves. Refuses, in one line, a run whose needs exceed
    the free memory of the policy's device (the host's on the CPU). Prompt lengths are measured on
    the first ``MEASURED_PROMPTS`` prompts: the pool itself, whose size is one of the needs, is
    built after the check."""
    dims = ModelDims.of(policy.model)
    prompt_tokens = _longest(policy, task, "train", config.train_prompts)
    evaluation = None
    if config.curve is not None:
        evaluation = _evaluation_needs(config.curve_evaluation(), policy, curve_task, dims, flag="--curve-")
    device = policy.placement.device
    check_fits(
        train_needs(config, dims, reference, prompt_tokens, evaluation),
        f"this training run on {device}",
        _free_memory(device),
    )


def check_eval_memory(config, policy, task) -> None:
    """The one memory check of an evaluation (``config``: an ``EvalConfig``; ``task`` as the model
    reads it), made once its model is loaded and before its prompts are built, as
    ``check_train_memory``'s."""
    needs = _evaluation_needs(config, policy, task, ModelDims.of(policy.model))
    device = policy.placement.device
    check_fits(needs, f"this evaluation on {device}", _free_memory(device))


def _evaluation_needs(config, policy, task, dims: ModelDims, flag: str = "--") -> list[Need]:
    """``eval_needs`` of an ``EvalConfig`` on ``task`` (its defaults resolved), prompts measured."""
    prompts, max_new_tokens = config.prompts_and_length(task)
    prompt_tokens = _longest(policy, task, "eval", prompts)
    return eval_needs(config.k, config.batch_prompts, prompts, max_new_tokens, dims, prompt_tokens, flag)


def _longest(policy, task, split: str, prompts: int) -> int:
    """The longest templated prompt among the split's first ``MEASURED_PROMPTS`` (of ``prompts``)."""
    questions = [problem.question for problem in task.problems(split, min(prompts, MEASURED_PROMPTS))]
    return longest_prompt(policy.tokenizer, questions, task.system_message)
