"""Rendering of result tables as markdown and LaTeX, shared by the bandit report and the LLM table."""

from __future__ import annotations

from typing import Any

import pandas as pd


def markdown_table(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def latex_escape(text: Any) -> str:
    return str(text).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def latex_table(frame: pd.DataFrame, caption: str | None = None, align: str | None = None) -> str:
    """A booktabs tabular of ``frame`` (cells are written as they are, so they may hold LaTeX
    such as ``$\\pm$``; only _ % & are escaped), wrapped in a table environment with its
    caption when one is given. ``align`` defaults to one ``l`` per column."""
    head = " & ".join(latex_escape(column) for column in frame.columns)
    body = "\n".join(" & ".join(latex_escape(value) for value in row) + r" \\" for row in frame.itertuples(index=False))
    tabular = [
        r"\begin{tabular}{" + (align or "l" * len(frame.columns)) + "}",
        r"\toprule",
        head + r" \\",
        r"\midrule",
        body,
        r"\bottomrule",
        r"\end{tabular}",
    ]
    if caption is None:
        return "\n".join(tabular)
    return "\n".join(
        [
            r"\begin{table}[t]",
            r"\centering",
            r"\small",
            *tabular,
            r"\caption{" + latex_escape(caption) + "}",
            r"\end{table}",
        ]
    )
