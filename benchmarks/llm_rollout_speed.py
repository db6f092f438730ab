"""Rollout speed of ``ladbench llm train``: generation tokens/s and the full step (sample + grade + update).

One process, one model, variants of the sampler taking turns step by step (round robin, in reversed
order every other round, so drift in the machine's load hits them alike); each variant gets untimed
warm-up steps first (CUDA: the compilation of the decoding step). Per variant it prints the medians
of generation time, tokens/s (rows x generated length / generation time), grading, update and the
whole step, the step time as a ratio to ``baseline``, the step's CPU time (this process's, all
threads) and its ratio, and (CUDA) the peak GPU memory. On a shared CPU, the CPU-time ratio is the
steadier one: other processes stretch wall time but not the work done here (use ``--threads 1``, so
that idle threads spinning on a busy machine do not count as work). Variants:

    baseline         the sampler before devices existed: transformers' dynamic KV cache, eager
                     decoding, float32 (what ``sample`` does with ``cache=None``)
    default          what ``llm train``/``llm eval`` do on this device (``rollout_cache``): the
                     baseline on the CPU, the static KV cache on CUDA
    static           one reused static KV cache; on CUDA transformers compiles the decoding step
                     (torch.compile, CUDA graphs)
    bf16             what ``--dtype bfloat16`` does (bfloat16 autocast; transformers' dynamic KV
                     cache on every device, see ``rollout_cache``)
    eager_attention  the baseline with eager instead of SDPA attention (what SDPA saves)

    python benchmarks/llm_rollout_speed.py                  # 16 prompts x 8 completions, 24 tokens
    python benchmarks/llm_rollout_speed.py --quick          # baseline vs default, 2 timed steps
    nice python benchmarks/llm_rollout_speed.py --prompts 4 --group-size 4 --threads 2   # a small CPU check

The goal on one H100/H200 (issue 15): a 16 x 8 rollout of 24 new tokens plus its update in <= 0.5 s
for one run alone on the card; on the CPU nothing slower than the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from contextlib import contextmanager

import torch

from ladbench.llm.config import TrainConfig
from ladbench.llm.device import resolve_placement
from ladbench.llm.models import load_policy
from ladbench.llm.policy import PolicyState
from ladbench.llm.rollout import StaticKVCache, rollout_cache
from ladbench.llm.tasks import get_task
from ladbench.llm.train_step import update
from ladbench.llm.trainer import _optimizer, _select_trainable, sample_and_grade
from ladbench.losses import get_loss

VARIANTS = ("baseline", "default", "static", "bf16", "eager_attention")
PHASES = ("generate_s", "grade_s", "update_s", "step_s", "cpu_s")


def main() -> None:
    arguments = parse_arguments()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()

    placement = resolve_placement(arguments.device, "float32")
    load_average = os.getloadavg()[0]
    started = time.perf_counter()
    model, tokenizer = load_policy(arguments.model, placement.device)
    loaded = time.perf_counter() - started
    times, peaks = measure(model, tokenizer, arguments)

    import transformers

    print(
        f"model {arguments.model} on {placement.device} ({placement.name}), loaded in {loaded:.1f} s; "
        f"{arguments.prompts} prompts x {arguments.group_size} completions = {arguments.prompts * arguments.group_size}"
        f" rows, {arguments.max_new_tokens} new tokens, update with {arguments.method}"
    )
    print(
        f"torch {torch.__version__}, transformers {transformers.__version__}, torch threads {torch.get_num_threads()}, "
        f"load average {load_average:.2f} at start, {os.getloadavg()[0]:.2f} at end; "
        f"medians of {arguments.repeats} timed steps per variant after {arguments.warmup} untimed"
    )
    print_table(times, peaks)
    if placement.device.startswith("cuda") and "default" in times:
        default_step = statistics.median(times["default"]["step_s"])
        verdict = "met" if default_step <= 0.5 else "not met"
        goal = "16 x 8 x 24 tokens + update <= 0.5 s alone on one H100/H200"
        print(f"goal ({goal}): default {default_step:.3f} s, {verdict}")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--task", default="between")
    parser.add_argument("--method", default="lad", help="loss of the update (registered name)")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per variant")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per variant")
    parser.add_argument("--quick", action="store_true", help="baseline and default only, 2 timed steps")
    parser.add_argument("--threads", type=int, default=None)
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.variants, arguments.repeats = ["baseline", "default"], 2
    return arguments


def measure(model, tokenizer, arguments) -> tuple[dict, dict]:
    """Per variant: the phase times of each timed step, and (CUDA) the peak GPU memory in GiB."""
    config = TrainConfig.build(
        model=arguments.model,
        task=arguments.task,
        method=arguments.method,
        group_size=arguments.group_size,
        max_new_tokens=arguments.max_new_tokens,
    )
    _select_trainable(model, config)
    optimizer = _optimizer(model, None, config)
    loss = get_loss(arguments.method)
    task = get_task(arguments.task)
    problems = task.problems("train", arguments.prompts)
    samplers = {name: Sampler(name, model) for name in arguments.variants}
    cuda = model.device.type == "cuda"

    def run(sampler, seed):
        placement = resolve_placement(str(model.device), sampler.dtype)
        policy = PolicyState(model, tokenizer, placement, optimizer=optimizer)
        return step(sampler, policy, task, problems, config.model_copy(update={"dtype": sampler.dtype}), loss, seed)

    for sampler in samplers.values():  # warm-up (and compilation) before any timing
        for index in range(arguments.warmup):
            run(sampler, 10_000 + index)
    times = {name: {phase: [] for phase in PHASES} | {"tokens": []} for name in samplers}
    peaks = {}
    for repeat in range(arguments.repeats):
        order = list(samplers.items())
        for name, sampler in order[::-1] if repeat % 2 else order:  # no variant always goes first
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            for key, value in run(sampler, repeat).items():
                times[name][key].append(value)
            if cuda:
                peaks[name] = max(peaks.get(name, 0.0), torch.cuda.max_memory_allocated() / 2**30)
    return times, peaks


def print_table(times: dict, peaks: dict) -> None:
    header = f"{'variant':<16}{'generate s':>11}{'tokens/s':>10}{'grade s':>9}{'update s':>10}{'step s':>8}"
    header += f"{'step/base':>11}{'step CPU s':>12}{'CPU/base':>10}" + (f"{'peak GiB':>10}" if peaks else "")
    print(header)
    base = None
    if "baseline" in times:
        base = {key: statistics.median(times["baseline"][key]) for key in ("step_s", "cpu_s")}
    for name, columns in times.items():
        median = {key: statistics.median(values) for key, values in columns.items()}
        ratio, cpu_ratio = ("-", "-")
        if base:
            ratio, cpu_ratio = f"{median['step_s'] / base['step_s']:.3f}", f"{median['cpu_s'] / base['cpu_s']:.3f}"
        line = (
            f"{name:<16}{median['generate_s']:>11.3f}{median['tokens'] / median['generate_s']:>10.0f}"
            f"{median['grade_s']:>9.3f}{median['update_s']:>10.3f}{median['step_s']:>8.3f}{ratio:>11}"
            f"{median['cpu_s']:>12.3f}{cpu_ratio:>10}"
        )
        print(line + (f"{peaks[name]:>10.2f}" if peaks else ""))
    for name, columns in times.items():
        walls, cpus = ", ".join(f"{t:.3f}" for t in columns["step_s"]), ", ".join(f"{t:.3f}" for t in columns["cpu_s"])
        print(f"  {name}: step s {walls}; CPU s {cpus}")


class Sampler:
    """One variant of the sampler: which KV cache, which precision, which attention."""

    def __init__(self, name: str, model):
        self.name = name
        self.model = model
        self.dtype = "bfloat16" if name == "bf16" else "float32"
        if name == "static":
            self.cache = StaticKVCache(model)
        elif name in ("default", "bf16"):
            self.cache = rollout_cache(model, self.dtype)
        else:
            self.cache = None

    @contextmanager
    def attention(self):
        if self.name != "eager_attention":
            yield
            return
        original = self.model.config._attn_implementation
        self.model.set_attn_implementation("eager")
        try:
            yield
        finally:
            self.model.set_attn_implementation(original)


def step(sampler: Sampler, policy: PolicyState, task, problems, config: TrainConfig, loss, seed: int) -> dict:
    """One training step as the trainer takes it: sample, grade, advantages, update; its phase times."""
    model = policy.model
    torch.manual_seed(seed)
    with sampler.attention():
        cpu_started = time.process_time()
        started = _clock(model)
        rollout, generated, graded = sample_and_grade(
            policy, task, problems, config, sampler.cache, clock=lambda: _clock(model)
        )
        update(policy, rollout, loss, config)
        updated = _clock(model)
        cpu_used = time.process_time() - cpu_started
    return {
        "generate_s": generated - started,
        "grade_s": graded - generated,
        "update_s": updated - graded,
        "step_s": updated - started,
        "cpu_s": cpu_used,
        "tokens": rollout.completion_ids.numel(),
    }


def _clock(model) -> float:
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


if __name__ == "__main__":
    main()
