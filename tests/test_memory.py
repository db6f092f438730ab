"""Memory estimates (``bandit.memory``, ``llm.memory``) against the measured peak of small runs,
and the refusal of runs that would not fit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ladbench.bandit.config import BanditConfig
from ladbench.bandit.memory import estimate
from ladbench.errors import UserError
from ladbench.resources import Need, available_bytes, check_fits, format_bytes

ROOT = Path(__file__).parents[1]

# Each runs one configuration in a fresh process and prints its peak resident memory (VmHWM: the
# peak of this process's own memory; getrusage's ru_maxrss would inherit the parent's) and the
# estimate. A run's own memory is its peak less the peak of a tiny run of the same kind (same
# imports, same code paths), each measured in its own process.
BANDIT_PEAK = """
import json, sys, tempfile
from pathlib import Path
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.memory import estimate
from ladbench.bandit.run import run_bandit

settings, seeds = json.loads(sys.argv[1]), int(sys.argv[2])
config = BanditConfig.build(**settings)
with tempfile.TemporaryDirectory() as directory:
    run_bandit(config, list(range(seeds)), Path(directory) / "run")
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps([peak, sum(need.bytes for need in estimate(config, seeds))]))
"""

LLM_PEAK = """
import json, sys, tempfile
from pathlib import Path
from ladbench.llm.config import TrainConfig
from ladbench.llm.memory import ModelDims, longest_prompt, train_needs
from ladbench.llm.models import load_policy
from ladbench.llm.tasks import get_task
from ladbench.llm.trainer import _select_trainable, train

config = TrainConfig.build(**json.loads(sys.argv[1]))
with tempfile.TemporaryDirectory() as directory:
    train(config, Path(directory) / "run", progress=False)
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
model, tokenizer = load_policy(config.model)
_select_trainable(model, config)
task = get_task(config.task, config.split_seed)
questions = [problem.question for problem in task.problems("train", config.train_prompts)]
prompt_tokens = longest_prompt(tokenizer, questions, task.system_message)
needs = train_needs(config, ModelDims.of(model), False, prompt_tokens)
print(json.dumps([peak, sum(need.bytes for need in needs)]))
"""


def peak_and_estimate(code: str, *arguments: str) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.run(
        [sys.executable, "-c", code, *arguments], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert process.returncode == 0, process.stderr
    peak, estimated = json.loads(process.stdout.strip().splitlines()[-1])
    return peak, estimated


def measured(code: str, settings: dict, tiny: dict, *arguments: str) -> tuple[float, float]:
    """(the run's own peak memory, its estimate): its peak less the tiny run's."""
    peak, estimated = peak_and_estimate(code, json.dumps(settings), *arguments)
    baseline, _ = peak_and_estimate(code, json.dumps(tiny), *(["1"] if arguments else []))
    return peak - baseline, estimated


@pytest.mark.slow
@pytest.mark.parametrize(
    "settings,seeds",
    [
        ({"env": "multi_correct", "env_options": {"n_arms": 200_000}, "steps": 3}, 4),  # the evaluation set
        ({"estimator": "sampled", "group_size": 20_000, "steps": 3}, 4),  # the sampled estimator's draws
        ({"steps": 20_000, "log_interval": 1}, 8),  # the logged curves
        (
            {"env": "continuous", "env_options": {"dim": 2, "grid": 256}, "policy": "mdn", "components": 8, "steps": 3},
            2,
        ),
    ],
    ids=["arms", "draws", "curves", "mdn"],
)
def test_bandit_estimate_is_within_a_factor_of_3_of_the_peak(settings, seeds):
    tiny = {key: settings[key] for key in ("env", "policy") if key in settings} | {"steps": 2}
    peak, estimated = measured(BANDIT_PEAK, settings, tiny, str(seeds))
    assert peak > 40e6, "the case is too small to measure"
    assert peak / 3 <= estimated <= 3 * peak, (peak, estimated)


@pytest.mark.slow
def test_llm_estimate_is_within_a_factor_of_3_of_the_peak():
    """The tiny model with a large batch, so that the batch's logits and activations dominate."""
    settings = {
        "model": "tiny",
        "steps": 1,
        "prompts_per_step": 32,
        "group_size": 16,
        "max_new_tokens": 64,
        "checkpoint_every": 100,
    }
    tiny = {"model": "tiny", "steps": 1, "prompts_per_step": 2, "group_size": 2, "max_new_tokens": 4}
    peak, estimated = measured(LLM_PEAK, settings, tiny)
    assert peak > 40e6, "the case is too small to measure"
    assert peak / 3 <= estimated <= 3 * peak, (peak, estimated)


def test_the_refusal_names_the_largest_need_and_its_options():
    needs = [Need("a", 10, "--x (1)"), Need("b", 300, "--group-size (100)")]
    check_fits(needs, available=1000)
    with pytest.raises(
        UserError,
        match=r"^this run would need about 310 B of memory, more than the 100 B available "
        r"\(mostly b\); lower --group-size \(100\) \(or set "
        r"LADBENCH_SKIP_MEMORY_CHECK=1 to run anyway\)$",
    ):
        check_fits(needs, available=100)


def test_the_check_can_be_skipped(monkeypatch):
    monkeypatch.setenv("LADBENCH_SKIP_MEMORY_CHECK", "1")
    check_fits([Need("b", 300, "--group-size (100)")], available=100)


def test_estimates_grow_with_the_options_they_name():
    base = sum(need.bytes for need in estimate(BanditConfig.build(), 10))
    assert sum(need.bytes for need in estimate(BanditConfig.build(), 1000)) > 50 * base
    arms = estimate(BanditConfig.build(env_options={"n_arms": 10**6}), 10)
    assert max(arms, key=lambda need: need.bytes).lower.endswith("-e n_arms=1000000)")
    sampled = estimate(BanditConfig.build(estimator="sampled", group_size=10**6), 10)
    assert max(sampled, key=lambda need: need.bytes).lower == "--group-size (1000000) or --seeds (10)"


def test_available_memory_and_units():
    assert 0 < available_bytes() < 1e15
    assert format_bytes(4.19e12) == "4.19 TB" and format_bytes(320e6) == "320 MB" and format_bytes(12) == "12 B"
