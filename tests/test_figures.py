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
