"""The paper-style table: methods as rows, mean ± std over seeds."""

import json

import pytest

from ladbench import manifest
from ladbench.errors import UserError
from ladbench.llm.table import build_table, to_latex, to_markdown, write_tables
from ladbench.losses import get_loss

METRICS = ("avg_at_k", "pass_at_1", "pass_at_k", "dist_3", "dist_4", "distinct_correct", "mean_length")


def summary(directory, method, seed, value, k=8):
    """An eval directory as ``ladbench llm eval`` writes it: summary.json, then its manifest."""
    directory.mkdir(parents=True)
    config = None if method is None else {"loss": {"name": method}, "seed": seed}
    metrics = {m: value for m in METRICS}
    data = {"task": "between", "k": k, "train_config": config, "metrics": metrics}
    (directory / "summary.json").write_text(json.dumps(data))
    label = "base" if method is None else get_loss(method).label()
    manifest.write(directory, "llm_eval", label, {"task": "between", "k": k, "seed": 0}, [0], ["summary.json"], {},
                   task="between", k=k, metrics=metrics, train_config=config)
    return directory


def test_table_means_and_spreads(tmp_path):
    evals = [
        summary(tmp_path / "a", "lad", 0, 0.2),
        summary(tmp_path / "b", "lad", 1, 0.4),
        summary(tmp_path / "c", "grpo", 0, 0.1),
        summary(tmp_path / "d", None, None, 0.05),
    ]
    frame = build_table(evals)
    lad = frame[frame["method"] == "LAD-JS"].iloc[0]
    assert lad["seeds"] == 2
    assert lad["avg_at_k_mean"] == pytest.approx(0.3)
    assert lad["avg_at_k_std"] == pytest.approx(0.1414213, rel=1e-5)
    markdown = to_markdown(frame)
    assert "| between | LAD-JS | 2 | 0.300 ± 0.141 |" in markdown
    assert "| between | base | 1 | 0.050 |" in markdown
    assert "Avg@8" in markdown and r"0.300 $\pm$ 0.141" in to_latex(frame)
    write_tables(frame, tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"table.md", "table.tex", "table.csv"}


def test_table_refuses_mixed_k_and_missing_files(tmp_path):
    with pytest.raises(UserError, match="different k"):
        build_table([summary(tmp_path / "a", "lad", 0, 0.2, k=4), summary(tmp_path / "b", "lad", 1, 0.2, k=8)])
    with pytest.raises(UserError, match=r"has no manifest\.json"):
        build_table([tmp_path / "missing"])


def test_table_refuses_an_evaluation_changed_after_it_was_written(tmp_path):
    directory = summary(tmp_path / "a", "grpo", 0, 0.2)
    (directory / "summary.json").write_text((directory / "summary.json").read_text().replace("0.2", "0.9"))
    with pytest.raises(UserError, match=r"summary\.json differs from its manifest"):
        build_table([directory])
