"""What every figure says about itself: a caption under it stating the conditions of the runs it
draws (methods, temperature, pi_old protocol, estimator, steps, seeds; an LLM's task and model),
the selection that picked them (a figure's ``where``), what its marks are (lines, bands, dots,
bars, colours) and any clipping of a scale. A reader of the PNG alone can tell what it shows.

``conditions`` reads the cells' identifying columns (``Results.cells``); ``MARKS`` holds each
figure kind's description of its marks; a drawing adds what only it knows (a clipped colour
scale) with ``add_note``; ``caption`` puts the text under the figure, wrapped to its width.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from typing import Any

import pandas as pd

NOTES = "ladbench_notes"  # the figure attribute add_note appends to
CAPTION_POINTS = 5.5  # font size of the caption
MARKS = {
    "curves": "Lines: mean over seeds; bands: 95% bootstrap interval of the mean over seeds.",
    "heatmap": "Numbers and colour: the final metric, IQM over seeds (yellow = better, where one is).",
    "points": "Dots: IQM over seeds of the final metric; bars: 95% stratified bootstrap interval.",
    "recovery": "Solid line: learned distribution, mean over seeds; shaded: min-max over seeds; dashed black: "
    "the method's target; dotted red: the ground-truth mixture; grey lines: mode centres.",
    "pass_at_k": "Lines: pass@k against k, mean over seeds (unbiased estimator from the k samples per prompt); "
    "dashed black: the untrained model.",
    "training_curves": "Points: mean over seeds at each evaluated step; bands and bars: 95% bootstrap intervals "
    "over seeds; dotted: the matched-accuracy thresholds.",
}


def _values(values: Iterable[Any]) -> str:
    shown = []
    for value in dict.fromkeys(value for value in values if not _missing(value)):
        shown.append(f"{value:g}" if isinstance(value, float) else str(value))
    return ", ".join(shown)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _column(cells: pd.DataFrame, name: str) -> list:
    return list(cells[name]) if name in cells else []


def _temperature(method: str) -> str | None:
    """The loss option that is the method's temperature (LAD's eta, entropy-PG's coef; the loss class says)."""
    from ladbench.losses import loss_class

    try:
        return loss_class(method).temperature_option
    except ValueError:  # a loss no longer registered (an old result)
        return None


def _protocol(row: dict[str, Any]) -> str:
    if row.get("protocol") == "refresh":
        every = row.get("refresh_interval")
        return "on-policy (pi_old <- pi every step)" if every == 1 else f"pi_old <- pi every {every} steps"
    if row.get("protocol") == "fixed":
        return "pi_old fixed (the initial policy)"
    epochs = row.get("inner_epochs")  # an LLM run: pi_old is the sampling policy
    return "on-policy" if epochs in (None, 1) else f"{epochs} updates per rollout batch"


def _estimator(row: dict[str, Any]) -> str:
    if row.get("estimator") == "exact":
        return "exact expectation"
    group = row.get("group_size")
    return f"sampled, G = {group}" if row.get("estimator") == "sampled" else f"G = {group} samples per prompt"


def conditions(cells: pd.DataFrame, seeds: dict[str, list[int]] | None = None, where: dict | None = None) -> str:
    """The conditions of ``cells`` (rows of ``Results.cells``): each field once, its values listed."""
    rows = cells.to_dict("records")
    parts = [f"Methods: {_values(_column(cells, 'label'))}"]
    temperatures: dict[str, list[str]] = {}  # "eta = 0.5, 1" -> the methods that share it
    for (label, method), group in cells.groupby(["label", "method"], sort=False):
        option = _temperature(method)
        shown = option is not None and option in group and group[option].notna().any()
        temperatures.setdefault(f"{option} = {_values(group[option])}" if shown else "none", []).append(label)
    parts.append("temperature: " + "; ".join(f"{', '.join(labels)} {value}" for value, labels in temperatures.items()))
    parts.append("protocol: " + _values(_protocol(row) for row in rows))
    parts.append("estimator: " + _values(_estimator(row) for row in rows))
    parts.append(f"{_values(_column(cells, 'steps'))} steps")
    counts = _values(int(n) for n in _column(cells, "n_seeds")) if "n_seeds" in cells else ""
    if "n_seeds" in cells and "setting" in cells and cells["setting"].nunique() < len(cells):  # one cell per seed
        counts = _values(int(n) for n in cells.groupby("setting")["n_seeds"].sum())
    listed = sorted({seed for key in cells.get("cell", []) for seed in (seeds or {}).get(key, [])})
    span = f" ({listed[0]}-{listed[-1]})" if len(listed) > 1 else f" ({listed[0]})" if listed else ""
    init = _values(_column(cells, "init_std"))
    parts.append(f"{counts} seeds per setting{span}" + (f", init_std {init}" if init else ""))
    for name in ("env", "task", "model"):
        if name in cells and cells[name].notna().any():
            parts.append(f"{name}: {_values(cells[name])}")
    if where:
        parts.append("selected: " + ", ".join(f"{axis} = {value}" for axis, value in where.items()))
    return "; ".join(parts) + "."


def add_note(figure, text: str) -> None:
    """A fact only the drawing knows (e.g. a clipped colour scale), for the caption."""
    figure.__dict__.setdefault(NOTES, []).append(text)


def seeds_of(results) -> dict[str, list[int]]:
    """Each cell's seeds (cell key -> its manifest's seeds), for ``conditions``."""
    return {key: record.get("seeds", []) for key, record in results.manifests.items()}


def caption_text(figure, kind: str, cells: pd.DataFrame, seeds=None, where=None) -> str:
    return " ".join([conditions(cells, seeds, where), MARKS[kind], *getattr(figure, NOTES, [])])


def caption(figure, text: str) -> None:
    """Put ``text`` under the figure (constrained layout makes room), wrapped to the figure's width."""
    width_points = figure.get_figwidth() * 72
    characters = max(40, int(width_points / (CAPTION_POINTS * 0.52)))
    wrapped = textwrap.fill(text, characters)
    lines = wrapped.count("\n") + 1
    figure.set_figheight(figure.get_figheight() + (lines * CAPTION_POINTS * 1.25 + 4) / 72)  # the panels keep theirs
    figure.supxlabel(wrapped, fontsize=CAPTION_POINTS, ha="center", linespacing=1.2)


def fit_legend(figure, handles, labels, title: str | None = None, most: int = 7):
    """A figure legend above the panels with as many columns as fit the figure's width (the
    labels measured as drawn), so that no entry is cut at an edge."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas if hasattr(figure.canvas, "get_renderer") else FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    for columns in range(min(len(labels), most), 0, -1):
        legend = figure.legend(handles, labels, loc="outside upper center", ncols=columns, frameon=False, title=title)
        if legend.get_window_extent(renderer).width <= figure.bbox.width * 0.98 or columns == 1:
            return legend
        legend.remove()
    return None
