"""The paper-style table from eval summaries: one row per (task, method), mean ± std over seeds.

A row's method is the label in the evaluation's manifest (the evaluated run's loss label, e.g.
``LAD-JS``, or ``base`` for an untrained model). Cells are mean ± sample standard deviation
(ddof = 1) over the summaries of that row, with the number of seeds in the ``seeds`` column.
Columns and their titles come from the metric catalogue (view ``table``). Every evaluation is
verified against its manifest before it is read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ladbench import manifest, metric_catalogue
from ladbench.errors import UserError
from ladbench.io import write_csv, write_text
from ladbench.tables import latex_table, markdown_table

COLUMNS = metric_catalogue.names(metric_catalogue.LLM_EVAL, "table")


def load_summaries(evals: list[Path]) -> pd.DataFrame:
    rows = []
    for directory in map(Path, evals):
        if not manifest.exists(directory):
            raise UserError(f"{directory} has no {manifest.FILE}; pass directories written by `ladbench llm eval`")
        record = manifest.verify(directory)
        if record["kind"] != "llm_eval":
            raise UserError(f"{directory} holds a {record['kind']} result; pass directories written by `ladbench llm eval`")
        summary = json.loads((directory / "summary.json").read_text())
        config = record["train_config"]
        rows.append(
            {
                "task": record["task"],
                "method": record["label"],
                "k": record["k"],
                "seed": None if config is None else config["seed"],
                **summary["metrics"],
            }
        )
    return pd.DataFrame(rows)


def build_table(evals: list[Path]) -> pd.DataFrame:
    """Long frame: task, method, k, seeds, and <metric>_mean / <metric>_std for each column."""
    frame = load_summaries(evals)
    if frame["k"].nunique() > 1:
        raise UserError(f"the evaluations use different k ({sorted(frame['k'].unique())}); tabulate one k at a time")
    grouped = frame.groupby(["task", "method", "k"], sort=False)
    table = grouped.size().rename("seeds").to_frame()
    for metric in COLUMNS:
        table[f"{metric}_mean"] = grouped[metric].mean()
        table[f"{metric}_std"] = grouped[metric].std(ddof=1)
    return table.reset_index()


def _cells(frame: pd.DataFrame, plus_minus: str) -> pd.DataFrame:
    k = int(frame["k"].iloc[0])
    cells = frame[["task", "method", "seeds"]].copy()
    for metric in COLUMNS:
        mean, std = frame[f"{metric}_mean"], frame[f"{metric}_std"]
        cells[metric_catalogue.label(metric, k)] = [
            f"{m:.3f}" if pd.isna(s) else f"{m:.3f}{plus_minus}{s:.3f}" for m, s in zip(mean, std, strict=True)
        ]
    return cells


def to_markdown(frame: pd.DataFrame) -> str:
    return markdown_table(_cells(frame, " ± ")) + "\n"


def to_latex(frame: pd.DataFrame) -> str:
    cells = _cells(frame, r" $\pm$ ")
    return latex_table(cells, align="ll" + "r" * (len(cells.columns) - 2)) + "\n"


def write_tables(frame: pd.DataFrame, out: Path | None) -> str:
    """Write table.md, table.tex and table.csv into ``out`` (if given); return the markdown."""
    markdown = to_markdown(frame)
    if out is not None:
        write_text(Path(out) / "table.md", markdown)
        write_text(Path(out) / "table.tex", to_latex(frame))
        write_csv(Path(out) / "table.csv", frame)
    return markdown
