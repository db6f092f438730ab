"""The LLM table: the report's builder (IQM with stratified bootstrap intervals over seeds, P(X > Y)),
on evaluation directories and on sweeps, and the files `ladbench llm table` writes."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from ladbench import manifest
from ladbench.cli_llm import llm_app
from ladbench.errors import UserError
from ladbench.llm_analysis.tables import build_tables
from ladbench.losses import get_loss
from ladbench.report import build_report
from ladbench.results import load_evaluations
from ladbench.stats import estimate, probability_of_improvement

METRICS = ("avg_at_k", "pass_at_1", "pass_at_k", "dist_3", "dist_4", "distinct_correct", "mean_length")


def summary(directory, method, seed, value, k=8, task="between"):
    """An eval directory as ``ladbench llm eval`` writes it: summary.json, then its manifest."""
    directory.mkdir(parents=True)
    config = None if method is None else {"loss": {"name": method}, "seed": seed}
    metrics = {m: value for m in METRICS}
    data = {"task": task, "k": k, "train_config": config, "metrics": metrics}
    (directory / "summary.json").write_text(json.dumps(data))
    label = "base" if method is None else get_loss(method).label()
    manifest.write(
        directory,
        "llm_eval",
        label,
        {"task": task, "k": k, "seed": 0},
        [0],
        ["summary.json"],
        {},
        task=task,
        k=k,
        metrics=metrics,
        train_config=config,
    )
    return directory


LAD, GRPO = [0.2, 0.4, 0.5, 0.7, 0.9], [0.1, 0.15, 0.3, 0.35, 0.6]


@pytest.fixture
def evals(tmp_path):
    return [
        *(summary(tmp_path / f"lad{seed}", "lad", seed, value) for seed, value in enumerate(LAD)),
        *(summary(tmp_path / f"grpo{seed}", "grpo", seed, value) for seed, value in enumerate(GRPO)),
        summary(tmp_path / "base", None, None, 0.05),
    ]


def test_each_method_is_a_setting_of_its_seeds_with_iqm_and_interval(evals):
    report = build_report(load_evaluations(evals), "method")
    stats = report.stats.set_index(["method", "metric"])
    lad = stats.loc[("LAD-JS", "avg_at_k")]
    expected = estimate(np.array(LAD), "iqm")
    assert lad["n"] == 5 and lad["iqm"] == pytest.approx(expected.value)
    assert (lad["iqm_low"], lad["iqm_high"]) == pytest.approx((expected.low, expected.high))
    assert stats.loc[("base", "avg_at_k"), "n"] == 1
    row = f"| between | LAD-JS | 5 | {expected.value:.3g} [{expected.low:.3g}, {expected.high:.3g}] |"
    assert row in report.markdown
    assert "| between | base | 1 | 0.05 (n=1) |" in report.markdown


def test_probability_that_lad_improves_on_each_baseline(evals):
    report = build_report(load_evaluations(evals), "method")
    improvement = report.improvement.set_index(["x", "y", "metric"])
    expected = probability_of_improvement([np.array(LAD)], [np.array(GRPO)], higher_is_better=True)
    found = improvement.loc[("LAD-JS", "GRPO", "avg_at_k")]
    assert found["poi"] == pytest.approx(expected.value) and found["low"] == pytest.approx(expected.low)
    assert found["poi"] == pytest.approx(20 / 25)  # by hand: LAD's runs beat 2, 4, 4, 5 and 5 of GRPO's
    assert set(report.improvement["metric"]) == {"avg_at_k", "pass_at_k", "distinct_correct"}  # the compare view
    single = improvement.loc[("LAD-JS", "base", "avg_at_k")]  # one base evaluation: no interval
    assert (
        single["poi"] == 1.0
        and single["note"] == "single run"
        and "| LAD-JS | base | avg_at_k | 1 | 1 (n=1) |" in report.markdown
    )


def test_tasks_are_strata_of_the_comparison(tmp_path):
    evals = [
        summary(tmp_path / f"{task}-{method}{seed}", method, seed, value, task=task)
        for task, values in (("between", (0.1, 0.2)), ("pair_sum", (0.3, 0.4)))
        for method, shift in (("lad", 0.05), ("grpo", 0.0))
        for seed, value in enumerate(values)
        for value in [value + shift]
    ]
    results = load_evaluations(evals)
    assert results.axes == {"task": ["between", "pair_sum"], "method": ["LAD-JS", "GRPO"]}
    row = (
        build_report(results, "method").improvement.set_index(["x", "y", "metric"]).loc[("LAD-JS", "GRPO", "avg_at_k")]
    )
    assert row["tasks"] == 2 and row["poi"] == pytest.approx(0.75)  # per task: 3 of 4 pairs won


def test_table_refuses_what_is_not_an_evaluation(tmp_path, evals):
    with pytest.raises(UserError, match=r"has no manifest\.json"):
        build_tables([tmp_path / "missing"])
    directory = evals[0]
    (directory / "summary.json").write_text((directory / "summary.json").read_text().replace("0.2", "0.9"))
    with pytest.raises(UserError, match=r"summary\.json differs from its manifest"):
        build_tables([directory])


def test_table_command_prints_and_writes_the_report(evals, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(llm_app, ["table", *map(str, evals), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "## Interquartile mean (IQM)" in result.output and "## Probability of improvement" in result.output
    assert {"table.md", "table.tex", "table_stats.csv"} <= {path.name for path in out.iterdir()}
    assert (out / "table.md").read_text() in result.output


def test_duplicates_do_not_count_as_seeds(tmp_path, evals):
    """The same directory twice, or two evaluations of one model with one sampling seed, are one
    sample: refused (a table of them would report a wrong n)."""
    with pytest.raises(UserError, match="is given twice"):
        load_evaluations([evals[0], evals[0]])
    with pytest.raises(UserError, match="is given twice"):
        load_evaluations([evals[0], tmp_path / "." / "lad0"])
    copy = summary(tmp_path / "lad0_again", "lad", 0, 0.9)
    with pytest.raises(UserError, match=r"evaluate the same model \(LAD-JS, training seed 0\) with the same sampling"):
        load_evaluations([evals[0], copy])
    result = CliRunner().invoke(llm_app, ["table", str(evals[0]), str(evals[0])])
    assert result.exit_code == 2 and "given twice" in result.output
    report = build_report(load_evaluations(evals[:5]), "method")  # five independent seeds: n = 5
    assert "5 seeds each" in report.markdown
