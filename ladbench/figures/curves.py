"""Learning curves: one panel per metric, one line per value of the hue axis, mean across
seeds with a 95% bootstrap band."""

from __future__ import annotations

from ladbench import metric_catalogue
from ladbench.figures.captions import add_note, fit_legend
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
from ladbench.stats import curve_band


def curves(results: Results, hue: str, metrics: list[str], where: dict, name: str, **_: object):
    frame = select(results.curves, where)
    require_one_cell(frame, [hue], list(results.axes), name)
    width = COLUMN_WIDTH if len(metrics) == 1 else PAGE_WIDTH
    figure, axes = new_figure(1, len(metrics), (width, 1.9))
    for axis, metric in zip(axes[0], metrics, strict=True):
        for index, (value, label) in enumerate(value_names(frame, hue).items()):
            wide = frame[frame[hue] == value].pivot(index="step", columns="seed", values=metric)
            centre, low, high = curve_band(wide.to_numpy())
            axis.plot(wide.index, centre, color=f"C{index}", label=label)
            axis.fill_between(wide.index, low, high, color=f"C{index}", alpha=0.25, lw=0)
        if metric_catalogue.higher_is_better(metric) is False and (frame[metric] > 0).all():  # distances: log scale
            axis.set_yscale("log")
        axis.set_xlabel("step")
        axis.set_ylabel(metric_name(metric))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fit_legend(figure, handles, labels, title=legend_title(hue))
    if any(axis.get_yscale() == "log" for axis in axes[0]):
        add_note(figure, "Log y axis for distances.")
    return figure
