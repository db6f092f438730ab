"""The paper-style table from eval summaries: one row per (task, method), mean ± std over seeds.

A row's label is the method of the evaluated run (with LAD's divergence, e.g. ``lad-js``) or
``base`` for an untrained model. Cells are mean ± sample standard deviation (ddof = 1) over the
summaries of that row, with the number of seeds in the ``seeds`` column.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ladbench.errors import UserError
from ladbench.losses.config import LossConfig
from ladbench.io import write_csv, write_text
from ladbench.tables import latex_table, markdown_table

COLUMNS = {
    "avg_at_k": "Avg@{k}",
    "pass_at_k": "Pass@{k}",
    "dist_3": "dist-3",
    "dist_4": "dist-4",
    "distinct_correct": "distinct correct",
    "mean_length": "length",
}


def method_label(train_config: dict | None) -> str:
    """The loss's label (LAD-JS, GRPO, ...), or ``base`` for an untrained model."""
    if train_config is None:
        return "base"
    # runs recorded before configs nested the loss kept it as method + loss_options
    loss = train_config.get("loss") or {"name": train_config["method"], **train_config.get("loss_options", {})}
    return LossConfig(**loss).label()


def load_summaries(evals: list[Path]) -> pd.DataFrame:
    rows = []
    for directory in evals:
        path = Path(directory) / "summary.json"
        if not path.is_file():
            raise UserError(f"{path} not found; pass directories written by `ladbench llm eval`")
        summary = json.loads(path.read_text())
        config = summary["train_config"]
        rows.append(
            {
                "task": summary["task"],
                "method": method_label(config),
                "k": summary["k"],
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
    for metric, title in COLUMNS.items():
        mean, std = frame[f"{metric}_mean"], frame[f"{metric}_std"]
        cells[title.format(k=k)] = [
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
