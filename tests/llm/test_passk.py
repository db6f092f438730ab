"""pass@k curves, their seed means and the crossover k in the report; the table command's CSV and figure."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from ladbench import manifest
from ladbench.cli_llm import llm_app
from ladbench.llm.metrics import pass_at_k
from ladbench.llm.passk import pass_at_k_curve
from ladbench.llm_analysis.report import crossover_k, crossover_table, pass_at_k_means
from ladbench.losses import get_loss
from ladbench.report import build_report
from ladbench.results import load_evaluations


def test_curve_is_the_mean_of_per_prompt_estimates():
    n, c = [8, 8, 8], [0, 1, 6]
    curve = pass_at_k_curve(n, c)
    assert list(curve["k"]) == list(range(1, 9))
    for k, value in zip(curve["k"], curve["pass_at_k"], strict=True):
        assert value == pytest.approx(sum(pass_at_k(8, ci, k) for ci in c) / 3)
    assert curve["pass_at_k"].iloc[0] == pytest.approx(7 / 24)  # pass@1 = mean accuracy
    assert curve["pass_at_k"].iloc[-1] == pytest.approx(2 / 3)  # pass@n = share of prompts solved
    assert curve["pass_at_k"].is_monotonic_increasing


def test_curve_stops_at_the_smallest_n():
    assert pass_at_k_curve([4, 6], [1, 1])["k"].max() == 4
    with pytest.raises(ValueError):
        pass_at_k_curve([], [])


def test_crossover_is_the_first_k_below_the_base():
    base = pd.Series([0.2, 0.4, 0.6, 0.8], index=[1, 2, 3, 4])
    assert crossover_k(pd.Series([0.5, 0.6, 0.6, 0.7], index=[1, 2, 3, 4]), base) == 4
    assert crossover_k(pd.Series([0.5, 0.3, 0.9, 0.7], index=[1, 2, 3, 4]), base) == 2
    assert crossover_k(pd.Series([0.5, 0.6, 0.7, 0.9], index=[1, 2, 3, 4]), base) is None
    assert crossover_k(base, base) is None  # equal is not below
    assert crossover_k(pd.Series([0.5, 0.6], index=[1, 2]), base) is None  # only common k count


def eval_dir(directory, method, seed, curve, task="between", with_curve=True, train_step=None, curve_task=None):
    """An eval directory as ``ladbench llm eval`` writes it (summary.json, pass_at_k.csv, then the
    manifest); ``curve``: pass@k for k = 1, 2, ...; without the curve file, as evaluations made
    before curves existed."""
    directory.mkdir(parents=True)
    config = None if method is None else {"loss": {"name": method}, "seed": seed, "curve_task": curve_task}
    metrics = {
        m: 0.5 for m in ("avg_at_k", "pass_at_1", "pass_at_k", "dist_3", "dist_4", "distinct_correct", "mean_length")
    }
    summary = {"task": task, "k": len(curve), "train_config": config, "metrics": metrics}
    (directory / "summary.json").write_text(json.dumps(summary))
    files = ["summary.json"]
    if with_curve:
        curve_frame = pd.DataFrame({"k": range(1, len(curve) + 1), "pass_at_k": curve})
        curve_frame.to_csv(directory / "pass_at_k.csv", index=False)
        files.append("pass_at_k.csv")
    label = "base" if method is None else get_loss(method).label()
    manifest.write(
        directory,
        "llm_eval",
        label,
        {"task": task, "k": len(curve)},
        [0],
        files,
        {},
        task=task,
        k=len(curve),
        metrics=metrics,
        train_config=config,
        train_step=train_step,  # as ladbench llm eval writes it: None for a model that was not trained here
    )
    return directory


@pytest.fixture
def evals(tmp_path):
    return [
        eval_dir(tmp_path / "base", None, None, [0.1, 0.3, 0.5, 0.7]),
        eval_dir(tmp_path / "grpo0", "grpo", 0, [0.4, 0.5, 0.5, 0.5]),
        eval_dir(tmp_path / "grpo1", "grpo", 1, [0.4, 0.5, 0.6, 0.7]),  # mean 0.55 at k=3, 0.6 at k=4
        eval_dir(tmp_path / "flowrl0", "flowrl", 0, [0.3, 0.6, 0.8, 0.9]),
    ]


def test_crossover_per_method_uses_the_seed_mean(evals):
    results = load_evaluations(evals)
    means = pass_at_k_means(results)
    grpo = means[means["method"] == "GRPO"].set_index("k")["pass_at_k"]
    assert list(grpo) == pytest.approx([0.4, 0.5, 0.55, 0.6])
    base = means[~means["trained"]].set_index("k")["pass_at_k"]
    assert list(base) == pytest.approx([0.1, 0.3, 0.5, 0.7])
    table = crossover_table(results, ["task", "method"])
    assert dict(zip(table["method"], table["crossover k"], strict=True)) == {"GRPO": "4", "FlowRL": "none"}


def test_an_evaluation_directory_is_of_its_own_task_whatever_the_run_evaluated_during_training(tmp_path):
    evals = [
        eval_dir(tmp_path / "base", None, None, [0.1, 0.2], task="humaneval"),
        eval_dir(tmp_path / "g", "grpo", 0, [0.05, 0.1], task="humaneval", curve_task="code_functions"),
    ]
    means = pass_at_k_means(load_evaluations(evals))
    assert set(means["task"]) == {"humaneval"}
    table = crossover_table(load_evaluations(evals), ["task", "method"])
    assert table[["task", "method", "crossover k"]].values.tolist() == [["humaneval", "GRPO", "1"]]


def test_means_use_the_k_every_evaluation_of_the_task_sampled(tmp_path):
    evals = [
        eval_dir(tmp_path / "base", None, None, [0.1, 0.2, 0.3, 0.4]),
        eval_dir(tmp_path / "g", "grpo", 0, [0.5, 0.1]),
    ]
    assert pass_at_k_means(load_evaluations(evals))["k"].max() == 2


def test_report_shows_the_crossover(evals):
    markdown = build_report(load_evaluations(evals), "method").markdown
    section = markdown[markdown.index("## pass@k crossover") :]
    assert "| between | GRPO | 4 | 4 |" in section and "| between | FlowRL | 4 | none |" in section
    assert "| coverage" not in markdown and "| avg_at_k" in markdown  # no evaluation defines coverage: no column


def test_report_without_curves_or_base_has_no_crossover(evals, tmp_path):
    old = [eval_dir(tmp_path / "old", "grpo", 2, [0.1, 0.2, 0.3, 0.4], with_curve=False)]
    assert "crossover" not in build_report(load_evaluations(old), "method").markdown
    assert "crossover" not in build_report(load_evaluations(evals[1:]), "method").markdown  # no base evaluation


def test_table_command_writes_the_curves_and_figure(evals, tmp_path):
    out = tmp_path / "tables"
    result = CliRunner().invoke(llm_app, ["table", *map(str, evals), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "## pass@k crossover" in result.output
    means = pd.read_csv(out / "table_pass_at_k.csv")
    assert {"task", "method", "trained", "k", "pass_at_k"} <= set(means.columns) and len(means) == 3 * 4
    assert (out / "table_pass_at_k.png").stat().st_size > 0 and (out / "table_pass_at_k.pdf").stat().st_size > 0
    assert {"table.md", "table.tex", "table_stats.csv"} <= {path.name for path in out.iterdir()}
