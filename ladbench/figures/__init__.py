"""Paper figures of a sweep, declared in its spec (``[[figures]]``) and drawn from its results.

The kinds, their axis fields and default metrics are data in ``ladbench.figure_kinds`` (which
specs are validated against); this package holds the drawing code of each kind. Each figure is
saved as ``<out>/<spec name>_<figure name>.png`` and ``.pdf``; ``<out>`` is the sweep's
``<results>/<spec name>/figures/`` unless the command is told otherwise, and the committed
``paper_figures/`` are written only on request and protected (``figures.paper``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ladbench.figure_kinds import AXIS_FIELDS, FIGURE_KINDS, FORMATS

FIGURES_DIR = "figures"  # a sweep's figures: <results>/<spec name>/figures/


def drawings() -> dict[str, Callable]:
    """The drawing function of each figure kind (imported here: the plotting stack is heavy)."""
    from ladbench.figures.curves import curves
    from ladbench.figures.heatmap import heatmap
    from ladbench.figures.points import points
    from ladbench.figures.recovery import recovery

    return {"recovery": recovery, "curves": curves, "heatmap": heatmap, "points": points}


def default_figures(axes: dict[str, list]) -> list:
    """For a spec that declares none: recovery and curves over its first axis, other axes at their first value."""
    from ladbench.sweep.spec import FigureSpec

    if not axes:
        return []
    first, *others = axes
    where = {axis: axes[axis][0] for axis in others}
    return [FigureSpec(kind="recovery", panels=first, where=where), FigureSpec(kind="curves", hue=first, where=where)]


def named_figures(name: str, figures: list, axes: dict[str, list]) -> list[tuple]:
    """(figure, file stem ``<spec name>_<figure name>``) of each figure a spec draws (its
    declared figures, or ``default_figures``)."""
    return [(figure, f"{name}_{figure.file_stem}") for figure in figures or default_figures(axes)]


def figure_paths(name: str, figures: list, axes: dict[str, list], out_dir: Path) -> list[Path]:
    """The files ``plot_results`` writes for these figures into ``out_dir``."""
    return [Path(out_dir) / f"{stem}.{suffix}" for _, stem in named_figures(name, figures, axes) for suffix in FORMATS]


def _add_title(drawn, title: str) -> None:
    """Title a figure. A figure-level legend sits where a suptitle would (constrained layout
    overlaps the two), so the title heads that legend instead."""
    if drawn.legends:
        drawn.legends[0].set_title(title, prop={"size": "medium"})
    else:
        drawn.suptitle(title, fontsize="medium")


def plot_results(results, figures: list, out_dir: Path) -> list[Path]:
    """Draw every figure of ``figures`` from ``results`` into ``out_dir``; returns the files written."""
    from ladbench.figures.captions import caption, caption_text, seeds_of
    from ladbench.figures.common import save, select, style

    style()
    draw = drawings()
    seeds = seeds_of(results)
    paths: list[Path] = []
    for figure, name in named_figures(results.name, figures, results.axes):
        kind = FIGURE_KINDS[figure.kind]
        options = {field: getattr(figure, field) for field in AXIS_FIELDS if getattr(figure, field) is not None}
        if kind.default_metrics is not None:
            options["metrics"] = list(figure.metrics or kind.default_metrics)
        drawn = draw[figure.kind](results, where=figure.where, name=name, **options)
        if figure.title:
            _add_title(drawn, figure.title)
        caption(drawn, caption_text(drawn, figure.kind, select(results.cells, figure.where), seeds, figure.where))
        paths += save(drawn, out_dir, name)
    return paths
