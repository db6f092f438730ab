"""pass@k against k for the base model and each trained method of the LLM track: one panel per
task, one line per method (the mean over its seeds, as ``ladbench.llm_analysis.report.pass_at_k_means`` gives
it), the reference (the base model) dashed and black, k on a log2 axis. Saved as ``<stem>.png``
and ``.pdf``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter

from ladbench.figures.captions import MARKS, caption
from ladbench.figures.common import COLUMN_WIDTH, PAGE_WIDTH, save, style


def pass_at_k_figure(means: pd.DataFrame, reference: str | None = None, text: str | None = None):
    """``means``: task, method, k, pass_at_k (one curve per task and method); ``reference``: the
    method drawn dashed in black; ``text``: the caption (``figures.captions``), else what the lines are."""
    style()
    tasks = list(dict.fromkeys(means["task"]))
    width = COLUMN_WIDTH if len(tasks) == 1 else min(PAGE_WIDTH, COLUMN_WIDTH * 0.75 * len(tasks))
    figure, axes = plt.subplots(1, len(tasks), figsize=(width, 2.2), squeeze=False, constrained_layout=True)
    for axis, task in zip(axes[0], tasks, strict=True):
        frame = means[means["task"] == task]
        for method, curve in frame.groupby("method", sort=False):
            base = method == reference
            axis.plot(
                curve["k"],
                curve["pass_at_k"],
                label=method,
                color="black" if base else None,
                linestyle="--" if base else "-",
            )
        axis.set_xscale("log", base=2)
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 1, 4, 16 (not 2^0)
        axis.set_title(task)
        axis.set_xlabel("k")
        axis.set_ylim(0, 1.02)
    axes[0, 0].set_ylabel("pass@k")
    axes[0, -1].legend(loc="upper left")  # pass@k rises from lower left to upper right
    caption(figure, text or MARKS["pass_at_k"])
    return figure


def save_pass_at_k_figure(
    means: pd.DataFrame, out_dir: Path, reference: str | None = None, stem: str = "pass_at_k", text: str | None = None
) -> list[Path]:
    return save(pass_at_k_figure(means, reference, text), out_dir, stem)
