"""`ladbench plot`, `ladbench report` and `ladbench figures` from a clean results directory."""

from __future__ import annotations

import pytest
from sweep_helpers import TINY_SPEC, write_spec
from typer.testing import CliRunner

from ladbench.cli import app

DETERMINISM_SPEC = """
name = "det"
seeds = 4
[fixed]
steps = 60
log_interval = 20
[axes]
estimator = ["exact", "sampled"]
"""


def invoke(*arguments: str):
    outcome = CliRunner().invoke(app, list(map(str, arguments)))
    assert outcome.exit_code == 0, outcome.output
    return outcome


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("figures")
    invoke("sweep", write_spec(root), "--results", root / "results", "--workers", 1, "--no-progress")
    return root, root / "results" / "tiny"


@pytest.fixture(scope="module")
def plotted(swept):
    root, results = swept
    return root / "figs", invoke("plot", results, "--out", root / "figs")


def test_plot_writes_each_declared_figure_as_png_and_pdf(plotted):
    figures, outcome = plotted
    expected = {f"tiny_{name}.{suffix}" for name in ("recovery", "curves") for suffix in ("png", "pdf")}
    assert {path.name for path in figures.iterdir()} == expected
    assert sorted(outcome.stdout.split()) == sorted(str(figures / name) for name in expected)
    assert (figures / "tiny_recovery.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (figures / "tiny_recovery.pdf").read_bytes()[:5] == b"%PDF-"


def test_figures_command_replots_byte_for_byte_and_reports(swept, plotted):
    """`ladbench figures` over a spec whose sweep has finished: skips every cell, redraws the
    same bytes (no timestamps in the files), writes the report."""
    root, results = swept
    first, _ = plotted
    experiments = root / "experiments"
    experiments.mkdir()
    write_spec(experiments, TINY_SPEC, "tiny.toml")
    outcome = invoke(
        "figures", "--experiments", experiments, "--results", results.parent, "--out", root / "again", "--workers", 1
    )
    assert "tiny: 4 figure files" in outcome.stdout and (results / "report.md").is_file()
    for path in first.iterdir():
        assert path.read_bytes() == (root / "again" / path.name).read_bytes(), path.name


def test_report_tables_every_cell_with_intervals(swept):
    _, results = swept
    outcome = invoke("report", results)
    markdown = (results / "report.md").read_text()
    assert outcome.stdout.strip() == markdown.strip()
    rows = [line for line in markdown.splitlines() if line.split(" | ")[2:3] == ["3"]]  # the seeds column
    assert len(rows) == 2 * 3  # three cells (GRPO ignores eta), in the IQM and in the mean table
    assert "[" in rows[0] and "det." not in markdown
    assert (
        "## Probability of improvement across `method`" in markdown and "| LAD-JS | GRPO | tv_truth | 2 |" in markdown
    )
    latex = (results / "report.tex").read_text()
    assert latex.count(r"\begin{tabular}") == 2 and r"tv\_truth" in latex
    assert (results / "report_stats.csv").read_text().startswith("setting,method,eta,metric,n,mean,")


def test_report_says_when_seeds_are_deterministic(tmp_path):
    invoke("sweep", write_spec(tmp_path, DETERMINISM_SPEC), "--results", tmp_path, "--workers", 1, "--no-progress")
    markdown = invoke("report", tmp_path / "det").stdout
    exact = next(line for line in markdown.splitlines() if line.startswith("| exact"))
    sampled = next(line for line in markdown.splitlines() if line.startswith("| sampled"))
    assert "1 cells are deterministic" in markdown
    assert "(det.)" in exact and "[" not in exact  # no zero-width interval presented as evidence
    assert "[" in sampled and "det." not in sampled


def test_plot_of_a_directory_without_results_is_a_one_line_error(tmp_path):
    outcome = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert outcome.exit_code == 2
    assert "is not a sweep results directory" in outcome.stderr and outcome.stderr.count("\n") == 1


def test_a_figure_title_heads_its_legend_or_the_figure(swept, monkeypatch):
    """A spec figure's title is drawn: over the legend of a figure that has one (constrained layout
    would overlap a suptitle with it), else as the figure's suptitle."""
    from matplotlib.figure import Figure

    from ladbench.figures import _add_title, common, plot_results
    from ladbench.results import load_sweep
    from ladbench.sweep.spec import FigureSpec

    _, results = swept
    titled = FigureSpec(kind="recovery", panels="method", where={"eta": 0.5}, title="pi_old fixed, exact")
    drawn = []
    monkeypatch.setattr(common, "save", lambda figure, out_dir, stem: drawn.append(figure) or [])
    plot_results(load_sweep(results), [titled], results / "unused")
    (figure,) = drawn
    assert figure.legends[0].get_title().get_text() == "pi_old fixed, exact"
    bare = Figure()
    bare.subplots()
    _add_title(bare, "a title")
    assert bare.get_suptitle() == "a title"


CAPTION_SPEC = """
name = "captions"
seeds = 2
[fixed]
steps = 40
log_interval = 20
init_std = 0.1
[axes]
method = ["lad", "grpo"]
eta = [0.5, 2.0]
protocol = ["fixed", "refresh"]
[[figures]]
kind = "recovery"
panels = "method"
where = { eta = 0.5, protocol = "fixed" }
[[figures]]
kind = "curves"
hue = "method"
where = { eta = 0.5, protocol = "fixed" }
[[figures]]
kind = "heatmap"
rows = "eta"
columns = "protocol"
metrics = ["tv_target"]
where = { method = "lad" }
[[figures]]
kind = "points"
x = "protocol"
hue = "method"
where = { eta = 0.5 }
"""
MARK_WORDS = {"recovery": ("Solid line", "shaded"), "curves": ("Lines", "bands"), "heatmap": ("colour",)}
MARK_WORDS["points"] = ("Dots", "bars")


def test_every_figure_kind_states_its_conditions_and_its_legend_fits(tmp_path, monkeypatch):
    """Each kind's caption names the methods, the temperature (eta), the protocol, the estimator,
    the steps, the seeds, the selection and what its marks are; the heatmap's log scale says so;
    every legend lies inside the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    import ladbench.figures.common
    from ladbench.figures import plot_results
    from ladbench.results import load
    from ladbench.sweep.runner import run_sweep
    from ladbench.sweep.spec import load_spec

    spec = load_spec(write_spec(tmp_path, CAPTION_SPEC, "captions.toml"))
    run_sweep(spec, tmp_path, workers=1, progress=False)
    drawn = {}
    monkeypatch.setattr(
        ladbench.figures.common, "save", lambda figure, out, stem: drawn.setdefault(stem, figure) and []
    )
    plot_results(load(tmp_path / "captions"), spec.figures, tmp_path / "figs")
    assert set(drawn) == {f"captions_{kind}" for kind in MARK_WORDS}
    for stem, figure in drawn.items():
        text = " ".join(figure._supxlabel.get_text().split())
        for field in ("Methods: LAD-JS", "eta = 0.5", "protocol: pi_old fixed", "estimator: exact", "40 steps"):
            assert field in text, (stem, field, text)
        assert "2 seeds per setting (0-1)" in text and "selected: " in text, text
        assert all(word in text for word in MARK_WORDS[stem.removeprefix("captions_")]), text
        renderer = FigureCanvasAgg(figure).get_renderer()
        figure.draw(renderer)
        for legend in figure.legends:
            box = legend.get_window_extent(renderer)
            assert box.x0 >= 0 and box.x1 <= figure.bbox.width, (stem, box)
    assert "GRPO none" in " ".join(drawn["captions_points"]._supxlabel.get_text().split())
    assert "log colour scale" in " ".join(drawn["captions_heatmap"]._supxlabel.get_text().split())


def test_a_legend_of_long_labels_takes_the_columns_that_fit():
    """headline_curves once cut its five-entry legend at both edges: the columns now fit the width."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ladbench.figures.captions import fit_legend

    figure = Figure(figsize=(7.0, 2.0), layout="constrained")
    axis = figure.subplots()
    labels = ["LAD-JS, pi_old fixed", "GRPO, on-policy", "LAD-JS, on-policy", "FlowRL (beta 15), pi_old fixed"]
    labels.append("entropy-PG (coef 1), pi_old fixed")
    handles = [axis.plot([0, 1], [index, index])[0] for index in range(len(labels))]
    legend = fit_legend(figure, handles, [f"{label} {label}" for label in labels], title="setting")
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    box = legend.get_window_extent(renderer)
    assert 1 <= legend._ncols < len(labels) and box.x0 >= 0 and box.x1 <= figure.bbox.width
