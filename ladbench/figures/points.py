"""Final metrics as points with 95% bootstrap intervals (IQM across seeds): x an axis (e.g. the
pi_old protocol), colour another (e.g. method), optional panel columns (e.g. estimator), one
panel row per metric."""

from __future__ import annotations

import numpy as np

from ladbench.figures.captions import fit_legend
from ladbench.figures.common import (
    COLUMN_WIDTH,
    PAGE_WIDTH,
    legend_title,
    metric_name,
    new_figure,
    require_one_cell,
    select,
    value_names,
)
from ladbench.results import Results
from ladbench.stats import estimate

SPREAD = 0.6  # fraction of a category's width taken by its hue offsets


def _grid(metrics: list[str], facets: dict) -> tuple[int, int, list[tuple[int, int, str, object]]]:
    """Rows x columns of panels and each panel's (row, column, metric, facet): one row per metric
    and one column per facet value, or, without facets, the metrics side by side."""
    if len(facets) > 1:
        return len(metrics), len(facets), [(r, c, m, f) for r, m in enumerate(metrics) for c, f in enumerate(facets)]
    facet = next(iter(facets))
    return 1, len(metrics), [(0, c, m, facet) for c, m in enumerate(metrics)]


def points(
    results: Results,
    x: str,
    hue: str,
    metrics: list[str],
    where: dict,
    name: str,
    columns: str | None = None,
    **_: object,
):
    frame = select(results.summary, where)
    require_one_cell(frame, [x, hue] + ([columns] if columns else []), list(results.axes), name)
    facets = value_names(frame, columns) if columns else {None: ""}
    x_names, hue_names = value_names(frame, x), value_names(frame, hue)
    rows, cols, panels = _grid(metrics, facets)
    width = PAGE_WIDTH if cols > 2 else COLUMN_WIDTH * cols / 2 + 0.2 * (cols == 1)
    figure, axes = new_figure(
        rows, cols, (max(width, COLUMN_WIDTH), 0.45 + 1.45 * rows), sharex=True, sharey="row" if columns else False
    )
    offsets = (np.arange(len(hue_names)) - (len(hue_names) - 1) / 2) * SPREAD / len(hue_names)
    for row, column, metric, facet in panels:
        axis = axes[row, column]
        panel = frame if columns is None else frame[frame[columns] == facet]
        for index, (value, label) in enumerate(hue_names.items()):
            for position, x_value in enumerate(x_names):
                values = panel.loc[(panel[hue] == value) & (panel[x] == x_value), metric].to_numpy()
                if len(values):
                    result = estimate(values, "iqm")
                    error = [[result.value - result.low], [result.high - result.value]] if result.has_interval else None
                    axis.errorbar(
                        position + offsets[index],
                        result.value,
                        yerr=error,
                        fmt="o",
                        ms=3,
                        capsize=1.5,
                        color=f"C{index}",
                        label=label if position == 0 else None,
                        lw=0.9,
                    )
        axis.set_xticks(range(len(x_names)), list(x_names.values()), fontsize=6 if len(x_names) > 5 else None)
        axis.set_title(f"{columns} = {facets[facet]}" if columns and row == 0 else "")
        axis.set_ylabel(metric_name(metric) if column == 0 or not columns else "")
    for axis in axes[-1]:
        axis.set_xlabel(x)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fit_legend(figure, handles, labels, title=legend_title(hue))
    return figure
