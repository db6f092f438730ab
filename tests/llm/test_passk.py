"""pass@k curves, their seed means and the crossover k; the combined table, CSV and figure."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from ladbench import manifest
from ladbench.llm.cli import llm_app
from ladbench.llm.metrics import pass_at_k
from ladbench.llm.passk import crossover_k, crossovers, mean_curves, pass_at_k_curve
from ladbench.llm.table import build_table, load_pass_at_k, to_markdown
from ladbench.losses import get_loss


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


def eval_dir(directory, method, seed, curve, task="between", with_curve=True):
    """An eval directory as ``ladbench llm eval`` writes it (summary.json, pass_at_k.csv, then the
    manifest); ``curve``: pass@k for k = 1, 2, ...; without the curve file, as evaluations made
    before curves existed."""
    directory.mkdir(parents=True)
    config = None if method is None else {"loss": {"name": method}, "seed": seed}
    metrics = {m: 0.5 for m in ("avg_at_k", "pass_at_1", "pass_at_k", "dist_3", "dist_4", "distinct_correct",
                                "mean_length")}
    summary = {"task": task, "k": len(curve), "train_config": config, "metrics": metrics}
    (directory / "summary.json").write_text(json.dumps(summary))
    files = ["summary.json"]
    if with_curve:
        curve_frame = pd.DataFrame({"k": range(1, len(curve) + 1), "pass_at_k": curve})
        curve_frame.to_csv(directory / "pass_at_k.csv", index=False)
        files.append("pass_at_k.csv")
    label = "base" if method is None else get_loss(method).label()
    manifest.write(directory, "llm_eval", label, {"task": task, "k": len(curve)}, [0], files, {}, task=task,
                   k=len(curve), metrics=metrics, train_config=config)
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
    curves = load_pass_at_k(evals)
    assert set(curves["model"]) == {"base", "GRPO-s0", "GRPO-s1", "FlowRL-s0"}
    means = mean_curves(curves)
    grpo = means[means["method"] == "GRPO"].set_index("k")["pass_at_k"]
    assert list(grpo) == pytest.approx([0.4, 0.5, 0.55, 0.6])
    assert crossovers(curves) == {("between", "GRPO"): 4, ("between", "FlowRL"): None}


def test_means_use_the_k_every_evaluation_of_the_task_sampled(tmp_path):
    evals = [eval_dir(tmp_path / "base", None, None, [0.1, 0.2, 0.3, 0.4]), eval_dir(tmp_path / "g", "grpo", 0, [0.5, 0.1])]
    means = mean_curves(load_pass_at_k(evals))
    assert means["k"].max() == 2


def test_table_reports_the_crossover(evals):
    frame = build_table(evals)
    crossover = dict(zip(frame["method"], frame["crossover_k"], strict=True))
    assert crossover["GRPO"] == 4 and pd.isna(crossover["base"]) and pd.isna(crossover["FlowRL"])
    markdown = to_markdown(frame)
    assert "crossover k" in markdown
    assert "| between | GRPO | 2 |" in markdown and markdown.splitlines()[3].endswith("| 4 |")
    assert markdown.splitlines()[2].endswith("| - |")  # the base row has no crossover
    assert "| none |" in markdown
    assert "coverage" not in markdown  # no evaluation defines it: no column


def test_table_without_curves_has_no_crossover(evals, tmp_path):
    evals.append(eval_dir(tmp_path / "old", "grpo", 2, [0.1, 0.2, 0.3, 0.4], with_curve=False))
    assert load_pass_at_k(evals) is None
    assert "crossover_k" not in build_table(evals)


def test_table_command_writes_combined_curves_and_figure(evals, tmp_path):
    out = tmp_path / "tables"
    result = CliRunner().invoke(llm_app, ["table", *map(str, evals), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "crossover k" in result.output
    combined = pd.read_csv(out / "pass_at_k.csv")
    assert {"task", "method", "seed", "trained", "model", "k", "pass_at_k"} <= set(combined.columns)
    assert len(combined) == 16
    assert (out / "pass_at_k.png").stat().st_size > 0 and (out / "pass_at_k.pdf").stat().st_size > 0
