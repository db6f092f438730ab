"""LLM runs as sweep cells: the smoke spec expands, runs (train then evaluate), resumes after a
SIGKILL from each cell's checkpoint, loads and reports; the spec's errors are one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ladbench import layout, manifest
from ladbench.cli import app
from ladbench.errors import UserError
from ladbench.llm.config import EvalConfig
from ladbench.llm.evaluate import evaluate
from ladbench.llm.tasks import Grade, get_task
from ladbench.llm.tasks.multi_answer import BetweenTask
from ladbench.llm.trainer import train
from ladbench.report import build_report
from ladbench.results import load, verify
from ladbench.sweep import store
from ladbench.sweep.executors import ray_task_options
from ladbench.sweep.runner import run_sweep
from ladbench.sweep.spec import load_spec

SMOKE = Path(__file__).resolve().parents[2] / "experiments" / "llm" / "smoke.toml"
STEPS, EVAL_PROMPTS = 3, 3  # as in the smoke spec
CURVE_STEPS, CURVE_PROMPTS = [0, 2, 3], 2  # its evaluations during training (curve_every = 2)


def even_length(self, problem, text):
    """Reward 1 for completions of even character length: the random model's groups differ."""
    return Grade(len(text) % 2 == 0, text[:3])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """torch on one thread: the tiny model's matrices are too small to gain from more, and on a
    busy machine spinning threads make each cell several times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The smoke spec run once in this process (rewards that vary, so methods and seeds differ)."""
    root = tmp_path_factory.mktemp("llm_sweep")
    spec = load_spec(SMOKE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BetweenTask, "grade_response", even_length)
        outcome = run_sweep(spec, root, progress=False)
    return spec, outcome


def cell_manifests(directory: Path) -> dict[str, str]:
    return {path.parent.name: path.read_text() for path in directory.glob(f"{layout.CELLS_DIR}/*/{manifest.FILE}")}


def test_the_smoke_spec_has_one_cell_per_seed_with_its_evaluation():
    spec = load_spec(SMOKE)
    assert spec.track == "llm" and spec.seeds == (0, 1) and spec.axes == {"method": ["lad", "grpo"]}
    assert len(spec.cells) == 2 * 2 and len({cell.key for cell in spec.cells}) == 4
    for cell in spec.cells:
        assert cell.seeds == (cell.config.seed,) and cell.config.model == "tiny" and cell.config.steps == STEPS
        assert cell.evaluation["task"] == cell.config.task and cell.evaluation["seed"] == cell.config.seed
        assert cell.evaluation["k"] == 4 and cell.evaluation["prompts"] == EVAL_PROMPTS
    lad = [cell for cell in spec.cells if cell.axes["method"] == "lad"]
    assert {cell.config.loss.resolved()["eta"] for cell in lad} == {0.25}  # the shorthand reached LAD only
    assert len({cell.setting for cell in lad}) == 1 and {cell.setting for cell in spec.cells} != {lad[0].setting}
    assert spec.gpus_per_cell == 1.0


def test_the_gpu_spec_is_sized_as_the_issue_asks():
    spec = load_spec(SMOKE.with_name("between.toml"))
    assert spec.track == "llm" and spec.gpus_per_cell == 0.2 and len(spec.seeds) >= 3
    assert spec.axes["loss"] == ["LAD-JS", "LAD-KL", "GRPO", "FlowRL", "entropy-PG"]
    assert len(spec.cells) == 5 * len(spec.seeds)
    lad_js = next(cell for cell in spec.cells if cell.axes["loss"] == "LAD-JS").config.loss.resolved()
    assert (lad_js["divergence"], lad_js["eta"]) == ("js", 0.25)
    for cell in spec.cells:
        config = cell.config
        assert (config.model, config.steps, config.prompts_per_step, config.group_size) == ("smollm2-135m", 100, 16, 8)
        assert cell.evaluation["k"] == 64 and cell.evaluation["task"] == config.task
        assert config.curve.every == 5 and cell.evaluation == config.curve_settings()  # final = last curve point


def test_the_code_spec_trains_on_code_functions_and_ends_on_humaneval_at_256_tokens():
    spec = load_spec(SMOKE.with_name("code.toml"))
    assert spec.axes["loss"] == ["LAD-JS", "LAD-KL", "GRPO", "FlowRL", "entropy-PG"] and len(spec.seeds) >= 3
    for cell in spec.cells:
        assert (cell.config.task, cell.evaluation["task"], cell.evaluation["max_new_tokens"]) == (
            "code_functions",
            "humaneval",
            None,
        )  # None: the task's default
        assert get_task("humaneval").max_new_tokens == 256 and cell.config.curve_settings()["task"] == "code_functions"


def test_the_cpu_spec_is_three_losses_by_five_seeds_with_curves():
    spec = load_spec(SMOKE.with_name("cpu.toml"))
    assert spec.axes["loss"] == ["LAD-JS", "GRPO", "entropy-PG"] and len(spec.cells) == 15
    assert spec.report.thresholds == [0.3, 0.5, 0.9]
    for cell in spec.cells:
        assert cell.config.trainable_layers == 6 and cell.config.curve.every == 5
        assert cell.evaluation == cell.config.curve_settings()


def test_the_arithmetic_spec_is_the_cpu_budget_on_the_single_answer_task():
    spec = load_spec(SMOKE.with_name("arithmetic_cpu.toml"))
    cpu = load_spec(SMOKE.with_name("cpu.toml")).cells[0].config
    assert len(spec.cells) == 4
    for cell in spec.cells:
        config = cell.config
        assert config.task == "arithmetic_mixed" and config.curve.every == 5
        assert (config.steps, config.prompts_per_step, config.group_size, config.lr, config.trainable_layers) == (
            cpu.steps,
            cpu.prompts_per_step,
            cpu.group_size,
            cpu.lr,
            cpu.trainable_layers,
        )


def test_the_cpu_code_spec_follows_the_code_protocol_at_cpu_size():
    """code.toml's protocol (code_functions training and curves, HumanEval at its default 256 new
    tokens) with cpu.toml's losses and 5 seeds."""
    spec = load_spec(SMOKE.with_name("code_cpu.toml"))
    assert spec.axes["loss"] == ["LAD-JS", "GRPO", "entropy-PG"] and len(spec.cells) == 15
    for cell in spec.cells:
        assert (cell.config.task, cell.config.curve_settings()["task"]) == ("code_functions", "code_functions")
        assert (cell.evaluation["task"], cell.evaluation["max_new_tokens"]) == ("humaneval", None)


LLM_SPEC = """
track = "llm"
seeds = 3
[fixed]
model = "tiny"
task = "between"
steps = 2
[axes]
method = ["lad", "grpo", "entropy_pg"]
eta = [0.25, 1.0]
[eval]
k = 2
"""


def test_settings_a_loss_ignores_merge_before_seeds_split(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(LLM_SPEC)
    spec = load_spec(path)
    assert len({cell.setting for cell in spec.cells}) == 2 + 1 + 2  # GRPO ignores eta: one setting
    assert len(spec.cells) == 5 * 3
    grpo = [cell for cell in spec.cells if cell.axes["method"] == "grpo"]
    assert [cell.axes["eta"] for cell in grpo] == [None] * 3 and sorted(c.config.seed for c in grpo) == [0, 1, 2]
    coefs = {cell.config.loss.resolved()["coef"] for cell in spec.cells if cell.axes["method"] == "entropy_pg"}
    assert coefs == {0.25, 1.0}  # eta sets entropy_pg's temperature option


def test_adding_seeds_adds_cells_to_the_same_settings(tmp_path):
    """An LLM cell's key and setting do not depend on the spec's seed list: growing seeds = 3 to 5
    keeps the 15 cells (a rerun skips them) and pools the new seeds with them."""
    path = tmp_path / "spec.toml"
    path.write_text(LLM_SPEC)
    three = {cell.key: cell.setting for cell in load_spec(path).cells}
    path.write_text(LLM_SPEC.replace("seeds = 3", "seeds = 5"))
    five = load_spec(path).cells
    assert {cell.key: cell.setting for cell in five if cell.key in three} == three and len(five) == 5 * 5
    assert {cell.setting for cell in five} == set(three.values())


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("seeds = 3", "seeds = 3\ngpus_per_cell = 1.5"), ["gpus_per_cell", "less than or equal to 1"]),
        (("k = 2", "k = 2\nmodel = 'x'"), ["eval.model", "evaluates the model it trained"]),
        (("k = 2", "kk = 2"), ["eval:", "unknown setting 'kk'", "valid settings", "batch_prompts"]),
        (("k = 2", "k = 0"), ["eval:", "k: Input should be greater than or equal to 1"]),
        (("k = 2", "task = 'nope'"), ["eval:", "unknown task 'nope'"]),
        (("steps = 2", "steps = 2\nseed = 4"), ["fixed", "'seed' is set by the spec's seeds"]),
        (("eta = [0.25, 1.0]", "seed = [1, 2]"), ["axes.seed", "'seed' is set by the spec's seeds"]),
        (('task = "between"', 'task = "between"\nenv = "trimodal"'), ["fixed", "unknown setting 'env'", "lr"]),
        (('track = "llm"', 'track = "dpo"'), ["track", "'bandit' or 'llm'"]),
        (
            ("k = 2", "k = 2\n[report]\nmetrics = ['tv_truth']"),
            ["report.metrics", "unknown metric 'tv_truth'", "avg_at_k"],
        ),
        (("k = 2", "k = 2\n[[figures]]\nkind = 'curves'\nhue = 'method'"), ["figures", "no figures"]),
    ],
)
def test_bad_llm_specs_fail_in_one_line(tmp_path, edit, expected):
    path = tmp_path / "spec.toml"
    path.write_text(LLM_SPEC.replace(*edit))
    with pytest.raises(UserError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    for part in expected:
        assert part in message


def test_a_bandit_spec_takes_no_eval_table(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text("seeds = 1\n[axes]\nmethod = ['lad']\n[eval]\nk = 2\n")
    with pytest.raises(UserError, match="eval: only an llm spec takes it"):
        load_spec(path)


def test_each_cell_is_a_training_run_and_its_evaluation(swept):
    spec, outcome = swept
    assert (outcome.ran, outcome.skipped) == (4, 0)
    for cell in spec.cells:
        directory = store.cell_dir(outcome.directory, cell.key)
        record = manifest.verify(directory)
        assert record["kind"] == "sweep_cell" and record["key"] == cell.key and record["setting"] == cell.setting
        assert record["config"] == cell.config.resolved() and record["seeds"] == [cell.config.seed]
        assert record["label"] == cell.config.label and record["axes"] == cell.axes
        assert record["evaluation"] == cell.evaluation
        assert record["files"][layout.CELL_TRAIN_LOG]["rows"] == STEPS
        assert record["files"][layout.CELL_EVALUATION["per_prompt"]]["rows"] == EVAL_PROMPTS
        assert record["files"][layout.CELL_EVALUATION["pass_at_k"]]["rows"] == 4
        assert list(store.curve_files(record["files"])) == CURVE_STEPS
        for step in CURVE_STEPS:
            assert record["files"][f"{layout.CELL_CURVES_DIR}/step_{step}/per_prompt.csv"]["rows"] == CURVE_PROMPTS
        assert not any("checkpoint" in name for name in record["files"])  # kept for resuming, not listed
        assert json.loads((directory / "train" / "checkpoint" / "state.json").read_text()) == {"step": STEPS}
        assert manifest.read(directory / "train")["kind"] == "llm_train"
        assert manifest.read(directory / "eval")["kind"] == "llm_eval"


def test_a_cell_equals_training_then_evaluating_alone(swept, tmp_path, monkeypatch):
    spec, outcome = swept
    monkeypatch.setattr(BetweenTask, "grade_response", even_length)
    cell = next(cell for cell in spec.cells if cell.axes["method"] == "lad" and cell.config.seed == 1)
    train(cell.config, tmp_path / "run", progress=False)
    settings = dict(cell.evaluation)
    evaluate(EvalConfig(model=str(tmp_path / "run"), **settings), tmp_path / "eval")
    directory = store.cell_dir(outcome.directory, cell.key)
    stored = pd.read_csv(directory / layout.CELL_EVALUATION["per_prompt"])
    pd.testing.assert_frame_equal(stored, pd.read_csv(tmp_path / "eval" / "per_prompt.csv"))
    rewards = [json.loads(line)["reward_mean"] for line in (directory / layout.CELL_TRAIN_LOG).read_text().splitlines()]
    alone = [json.loads(line)["reward_mean"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rewards == alone and len(set(rewards)) > 1


def test_results_load_as_tidy_frames(swept):
    spec, outcome = swept
    results = load(outcome.directory)
    assert results.kind == "sweep" and results.track == "llm" and list(results.axes) == ["method"]
    assert len(results.summary) == 4 and len(results.per_prompt) == 4 * EVAL_PROMPTS
    assert len(results.curves) == 4 * STEPS and sorted(results.curves["step"].unique()) == [1, 2, 3]
    summary = results.summary.set_index("cell")
    for cell in spec.cells:
        row = summary.loc[cell.key]
        cell_dir = store.cell_dir(outcome.directory, cell.key)
        stored = json.loads((cell_dir / layout.CELL_EVALUATION["summary"]).read_text())
        assert row["pass_at_k"] == stored["metrics"]["pass_at_k"] and row["avg_at_k"] == stored["metrics"]["avg_at_k"]
        assert (row["method"], row["seed"], row["setting"]) == (cell.axes["method"], cell.config.seed, cell.setting)
        assert (row["eval_task"], row["eval_seed"], row["k"]) == ("between", cell.config.seed, 4)
        assert row["label"] == cell.config.label and row["steps"] == STEPS
    assert set(results.per_prompt.groupby("cell")["uid"].apply(tuple)) == {tuple(f"eval-{i}" for i in range(3))}
    curves = results.eval_curves
    assert len(curves) == 4 * len(CURVE_STEPS) and set(curves.groupby("cell")["step"].apply(tuple)) == {(0, 2, 3)}
    for row in curves.itertuples():
        cell_dir = store.cell_dir(outcome.directory, row.cell)
        path = cell_dir / layout.CELL_CURVES_DIR / f"step_{row.step}" / "summary.json"
        assert row.avg_at_k == json.loads(path.read_text())["metrics"]["avg_at_k"]


def test_report_pools_seeds_per_setting_and_compares_methods(swept):
    _, outcome = swept
    report = build_report(load(outcome.directory), compare="method")
    assert "2 settings of one cell per seed (4 cells), 2 seeds each" in report.markdown
    assert set(report.stats["metric"]) == {"avg_at_k", "pass_at_k", "dist_4", "distinct_correct", "mean_length"}
    assert set(report.stats["n"]) == {2} and len(report.stats) == 2 * 5
    summary = load(outcome.directory).summary
    lad = report.stats[(report.stats["method"] == "lad") & (report.stats["metric"] == "mean_length")].iloc[0]
    assert lad["mean"] == pytest.approx(summary.loc[summary["method"] == "lad", "mean_length"].mean())
    assert "| LAD-JS | GRPO | pass_at_k | 1 |" in report.markdown
    assert set(report.improvement["metric"]) == {"avg_at_k", "pass_at_k", "distinct_correct"}
    outcome_cli = CliRunner().invoke(app, ["report", str(outcome.directory)])
    assert outcome_cli.exit_code == 0, outcome_cli.output
    assert (outcome.directory / "report.md").read_text().startswith("# llm_smoke: final metrics")


def test_rerun_skips_force_and_repair_rerun(swept):
    spec, outcome = swept
    before = cell_manifests(outcome.directory)
    again = run_sweep(spec, outcome.directory.parent, progress=False)
    assert (again.ran, again.skipped) == (0, 4) and cell_manifests(outcome.directory) == before
    key = spec.cells[0].key
    per_prompt = store.cell_dir(outcome.directory, key) / layout.CELL_EVALUATION["per_prompt"]
    per_prompt.write_text(per_prompt.read_text() + "garbage\n")
    assert [problem.file for problem in verify(outcome.directory)] == [layout.CELL_EVALUATION["per_prompt"]]
    repaired = run_sweep(spec, outcome.directory.parent, progress=False, repair=True)
    assert (repaired.ran, repaired.repaired) == (1, 1) and verify(outcome.directory) == []
    after = cell_manifests(outcome.directory)
    assert after.keys() == before.keys() and after[key] != before[key]
    assert all(after[other] == before[other] for other in before if other != key)
    forced = run_sweep(spec, outcome.directory.parent, progress=False, force=True)
    assert (forced.ran, forced.skipped) == (4, 0) and len(load(outcome.directory).summary) == 4


def checkpoint_step(cell_dir: Path) -> int | None:
    state = cell_dir / layout.TRAIN_DIR / "checkpoint" / "state.json"
    try:
        return json.loads(state.read_text())["step"]
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def mid_training(directory: Path) -> list[Path]:
    """Cells with a checkpoint and no manifest: killed now, they resume from the checkpoint."""
    return [
        path
        for path in directory.glob(f"{layout.CELLS_DIR}/*")
        if not store.is_complete(path) and (checkpoint_step(path) or 0) >= 1
    ]


@pytest.mark.slow
def test_sigkill_resumes_each_unfinished_cell_from_its_checkpoint(tmp_path):
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-c",
        "from ladbench.cli import app; app()",
        "sweep",
        str(SMOKE),
        "--results",
        str(results),
        "--no-progress",
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}  # as the module's own runs (one_thread)
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment
    )
    directory = results / "llm_smoke"
    deadline = time.monotonic() + 300
    while (
        not (cell_manifests(directory) and mid_training(directory))
        and time.monotonic() < deadline
        and process.poll() is None
    ):  # a finished cell and one in training (cells run one after another)
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    interrupted = {path.name: checkpoint_step(path) for path in mid_training(directory)}
    assert interrupted, "the sweep was not caught mid-training: " + process.stderr.read().decode()[-2000:]
    logged = {
        key: (directory / layout.CELLS_DIR / key / layout.CELL_TRAIN_LOG).read_text().splitlines()[:step]
        for key, step in interrupted.items()
    }
    finished = cell_manifests(directory)
    assert 1 <= len(finished) < 4
    assert set(load(directory).summary["cell"]) == set(finished)  # the loader reads exactly the finished cells
    resumed = run_sweep(load_spec(SMOKE), results, progress=False)
    assert (resumed.ran, resumed.skipped) == (4 - len(finished), len(finished))
    after = cell_manifests(directory)
    assert len(after) == 4 and all(after[key] == text for key, text in finished.items())
    for key, lines in logged.items():  # the steps before the checkpoint were not redone (their timings would differ)
        log = (directory / layout.CELLS_DIR / key / layout.CELL_TRAIN_LOG).read_text().splitlines()
        assert log[: len(lines)] == lines and [json.loads(line)["step"] for line in log] == [1, 2, 3]
    assert len(load(directory).summary) == 4 and verify(directory) == []


def test_ray_resources_ask_for_a_gpu_share_only_where_there_are_gpus():
    assert ray_task_options(0.2, cluster_gpus=8) == {"num_cpus": 1, "num_gpus": 0.2}
    assert ray_task_options(1.0, cluster_gpus=0) == {"num_cpus": 1, "num_gpus": 0}


def test_the_gpu_share_reaches_the_executor(tmp_path, monkeypatch):
    """The spec's gpus_per_cell, or --gpus-per-cell, is what each Ray task of an LLM cell asks for."""
    from contextlib import nullcontext

    from ladbench.sweep import runner

    requested = []

    class Idle:
        def map_unordered(self, function, items):
            return iter(())

    def recording_executor(kind, workers, address, n_items, gpus_per_item, preload):
        requested.append((kind, n_items, gpus_per_item))
        return nullcontext(Idle())

    monkeypatch.setattr(runner, "make_executor", recording_executor)
    spec = load_spec(SMOKE)
    run_sweep(spec, tmp_path, executor="ray", progress=False)
    run_sweep(spec, tmp_path / "again", executor="ray", progress=False, gpus_per_cell=0.2)
    assert requested == [("ray", 4, 1.0), ("ray", 4, 0.2)]  # one task per cell
    with pytest.raises(UserError, match=r"--gpus-per-cell 0\.2 applies with --executor ray"):
        run_sweep(spec, tmp_path, gpus_per_cell=0.2)
    with pytest.raises(UserError, match="between 0 and 1"):
        run_sweep(spec, tmp_path, executor="ray", gpus_per_cell=2.0)


@pytest.mark.slow
def test_the_smoke_spec_runs_on_a_cpu_only_ray(tmp_path):
    """A local Ray with 2 CPUs and no GPU: the cells ask for none and run on CPUs."""
    pytest.importorskip("ray")
    outcome = CliRunner().invoke(
        app, ["sweep", str(SMOKE), "--results", str(tmp_path), "--executor", "ray", "--workers", "2", "--no-progress"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "the Ray cluster has no GPU" in outcome.stderr
    results = load(tmp_path / "llm_smoke")
    assert len(results.summary) == 4 and results.missing == [] and verify(tmp_path / "llm_smoke") == []
    assert set(results.summary["cell"]) == {cell.key for cell in load_spec(SMOKE).cells}
    assert (results.per_prompt.groupby("cell").size() == EVAL_PROMPTS).all()


def test_report_of_runs_evaluated_during_training_has_diversity_at_matched_accuracy(swept):
    _, outcome = swept
    results = load(outcome.directory)
    report = build_report(results, compare="method", thresholds=[0.25, 0.5])
    assert "## Diversity at matched accuracy" in report.markdown
    points = report.matched
    assert len(points) == 4 * 2 and set(points["threshold"]) == {0.25, 0.5}
    curves = results.eval_curves
    for point in points.itertuples():
        curve = curves[curves["cell"] == point.cell].sort_values("step")
        hits = curve[curve["avg_at_k"] >= point.threshold]
        assert point.reached == (not hits.empty)
        assert (point.step == hits["step"].iloc[0]) if point.reached else pd.isna(point.step)
    assert "## pass@k crossover" in report.markdown  # step 0 is the untrained model's curve


def test_a_diversity_metric_no_evaluation_defines_is_left_out_of_matched_accuracy(swept):
    """Code tasks have no enumerable answer set: coverage is NaN in every evaluation, so it gets no
    column and no P(X > Y) row at matched accuracy (a comparison of NaNs is not a finding)."""
    _, outcome = swept
    results = load(outcome.directory)
    results = replace(results, eval_curves=results.eval_curves.assign(coverage=float("nan")))
    report = build_report(results, compare="method", thresholds=[0.25, 0.5])
    assert "coverage" not in report.matched and "distinct_correct" in report.matched
    section = report.markdown[report.markdown.index("## Diversity at matched accuracy") :]
    assert "coverage" not in section.split("## pass@k crossover")[0].replace("its coverage and", "")


def test_llm_table_of_a_sweep_writes_the_report_and_the_figures(swept, tmp_path):
    _, outcome = swept
    out = tmp_path / "figures"
    result = CliRunner().invoke(app, ["llm", "table", str(outcome.directory), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = {path.name for path in out.iterdir()}
    expected = {
        "llm_smoke.md",
        "llm_smoke.tex",
        "llm_smoke_stats.csv",
        "llm_smoke_matched_accuracy.csv",
        "llm_smoke_pass_at_k.csv",
        "llm_smoke_pass_at_k.png",
        "llm_smoke_pass_at_k.pdf",
        "llm_smoke_training_curves.png",
        "llm_smoke_training_curves.pdf",
    }
    assert expected <= written
    report = build_report(load(outcome.directory), compare="method")
    assert (out / "llm_smoke.md").read_text() == report.markdown  # the table is the report
    means = pd.read_csv(out / "llm_smoke_pass_at_k.csv")
    assert set(means["method"]) == {"base", "LAD-JS", "GRPO"} and means["k"].max() == 2


def test_the_llm_figures_state_their_conditions(swept):
    """The training curves and pass@k figures name the methods, temperature, protocol, G, steps,
    seeds, task and what their marks are."""
    from ladbench.llm_analysis.tables import pass_at_k_caption
    from ladbench.llm_analysis.training_curves import training_curves_figure

    _, outcome = swept
    results = load(outcome.directory)
    text = " ".join(training_curves_figure(results)._supxlabel.get_text().split())
    passk = pass_at_k_caption(results)
    for caption in (text, passk):
        for field in ("Methods: LAD-JS, GRPO", "eta = ", "protocol: on-policy", "samples per prompt", "steps", "seeds"):
            assert field in caption, (field, caption)
        assert "task: " in caption and "model: tiny" in caption, caption
    assert "Points: mean over seeds" in text and "dashed black: the untrained model" in passk


def test_figures_writes_the_report_that_report_writes_thresholds_included(swept, tmp_path, monkeypatch):
    """`ladbench figures` and `ladbench report` build a sweep's report with one function
    (``ladbench.report.report_sweep``): the same report.md, the spec's [report] thresholds included."""
    import shutil

    spec, outcome = swept
    text = spec.text.replace('[report]\ncompare = "method"', '[report]\ncompare = "method"\nthresholds = [0.25, 0.75]')
    assert text != spec.text
    results = tmp_path / "results"
    shutil.copytree(outcome.directory, results / spec.name)
    (results / spec.name / layout.SPEC_FILE).write_text(text)  # the stored spec, which `report` reads
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "smoke.toml").write_text(text)  # the shipped spec, which `figures` reads
    # an llm spec declares no figures (`ladbench llm table` draws them): only the reports are compared
    monkeypatch.setattr("ladbench.figures.paper.plot_sweep", lambda results, spec, out: [])
    arguments = ["figures", "--experiments", str(experiments), "--results", str(results), "--no-run"]
    drawn = CliRunner().invoke(app, arguments)
    assert drawn.exit_code == 0, drawn.output
    report_md = results / spec.name / "report.md"
    from_figures = report_md.read_text()
    matched = pd.read_csv(results / spec.name / "report_matched_accuracy.csv")
    assert set(matched["threshold"]) == {0.25, 0.75}  # the spec's, not the default (0.5, 0.9)
    report_md.unlink()
    reported = CliRunner().invoke(app, ["report", str(results / spec.name)])
    assert reported.exit_code == 0, reported.output
    assert report_md.read_text() == from_figures
