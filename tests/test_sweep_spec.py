"""Sweep specs: expansion into cells, and one-line errors naming file, key and choices."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_helpers import TINY_SPEC, write_spec
from typer.testing import CliRunner

from ladbench.bandit.run import config_hash
from ladbench.cli import app
from ladbench.errors import UserError
from ladbench.losses import available_losses
from ladbench.sweep.spec import load_spec

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def test_grid_is_the_product_of_axes_with_compound_labels(tmp_path):
    spec = load_spec(
        write_spec(
            tmp_path,
            """
seeds = [3, 5]
[fixed]
steps = 10
[axes]
method = ["lad", "entropy_pg"]
eta = [1, 2.5]
pi_old = [{ label = "fixed", protocol = "fixed" }, { protocol = "refresh", refresh_interval = 10 }]
""",
        )
    )
    assert spec.name == "spec"
    assert len(spec.cells) == 2 * 2 * 2
    assert spec.axes["eta"] == [1.0, 2.5] and isinstance(spec.axes["eta"][0], float)
    assert spec.axes["pi_old"] == ["fixed", "protocol=refresh, refresh_interval=10"]
    refreshed = [cell for cell in spec.cells if cell.config.protocol == "refresh"]
    assert {cell.config.refresh_interval for cell in refreshed} == {10}
    assert all(cell.seeds == (3, 5) for cell in spec.cells)
    assert {cell.key for cell in spec.cells} == {config_hash(cell.config, [3, 5]) for cell in spec.cells}
    assert len({cell.key for cell in spec.cells}) == len(spec.cells)


def test_shipped_specs_are_valid_and_sized_as_the_issue_asks():
    specs = {path.stem: load_spec(path) for path in EXPERIMENTS.glob("*.toml")}
    assert set(specs) >= {"paper_bandit", "fdiv_sweep", "protocol_study", "eta_ablation", "baselines"}
    paper = specs["paper_bandit"]
    assert set(paper.axes["method"]) == {"lad", "grpo", "flowrl", "entropy_pg"}
    assert all(c.config.estimator == "exact" and c.config.protocol == "fixed" for c in paper.cells)
    assert len(specs["fdiv_sweep"].cells) == 7 * 7
    assert len(specs["protocol_study"].cells) == 4 * 2 * 4
    baselines = specs["baselines"]  # every registered loss x pi_old fixed / refreshed x exact / sampled (G = 8)
    assert {cell.config.loss.name for cell in baselines.cells} == set(available_losses())
    assert len(baselines.cells) == len(available_losses()) * 2 * 2
    assert {
        (c.config.protocol, c.config.refresh_interval, c.config.estimator, c.config.group_size) for c in baselines.cells
    } == {(protocol, 1, estimator, 8) for protocol in ("fixed", "refresh") for estimator in ("exact", "sampled")}
    for spec in specs.values():
        assert len(spec.seeds) == 10
        # exact-estimator seeds must differ in something real: the initial logits. The exception is
        # findings' init axis, whose "uniform" cells are deterministic on purpose (the fixed points
        # from a uniform pi_old), set against its "random" ones
        assert all(
            c.config.estimator == "sampled" or c.config.init_std > 0 or c.axes.get("init") == "uniform"
            for c in spec.cells
        )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("eta = [0.5, 2.0]", "eta = []"), ["axes.eta", "empty axis"]),
        (
            ('method = ["lad", "grpo"]', 'method = ["lad", "ppo"]'),
            ["axes.method[1]", "unknown loss 'ppo'", "grpo, gspo, kl_cov, lad"],
        ),
        (("steps = 120", 'divergence = "chi"'), ["fixed", "unknown divergence 'chi'", "js", "ps"]),
        (("eta = [0.5, 2.0]", "eta = [0.5, -1.0]"), ["axes.eta[1]", "eta must be > 0, got -1.0"]),
        (("steps = 120", "stepz = 120"), ["fixed", "unknown setting 'stepz'", "valid settings", "steps"]),
        (("eta = [0.5, 2.0]", "etta = [0.5]"), ["axes.etta", "unknown setting 'etta'"]),
        (('name = "tiny"', 'nam = "tiny"'), ["unknown key 'nam'", "valid keys", "axes"]),
        (("steps = 120", "steps = 120\neta = 1.0"), ["axes.eta", "also set in [fixed]"]),
        (
            ('panels = "method"', 'panels = "divergence"'),
            ["figures[0].panels", "unknown axis 'divergence'", "method, eta"],
        ),
        (('kind = "recovery"', 'kind = "violin"'), ["figures[0].kind", "unknown figure kind", "heatmap"]),
        (("where = { eta = 0.5 }", "where = { eta = 3.0 }"), ["figures[0].where.eta", "0.5, 2"]),
        (('compare = "method"', 'compare = "lr"'), ["report.compare", "unknown axis 'lr'"]),
        (("seeds = 3", "seeds = 0"), ["seeds", "at least one"]),
        (("[axes]", "[axes"), ["not valid TOML"]),
    ],
)
def test_bad_specs_fail_with_file_key_and_choices(tmp_path, edit, expected):
    path = write_spec(tmp_path, TINY_SPEC.replace(*edit))
    with pytest.raises(UserError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert "\n" not in message
    for part in [str(path), *expected]:
        assert part in message


def test_cli_reports_a_bad_spec_in_one_line_and_runs_nothing(tmp_path):
    path = write_spec(tmp_path, TINY_SPEC.replace('method = ["lad", "grpo"]', 'method = ["lad", "ppo"]'))
    results = tmp_path / "results"
    outcome = CliRunner().invoke(app, ["sweep", str(path), "--results", str(results)])
    assert outcome.exit_code == 2
    assert outcome.stderr.count("\n") == 1 and "Traceback" not in outcome.output
    assert outcome.stderr.startswith("ladbench: error: ") and "axes.method[1]" in outcome.stderr
    assert not results.exists()


def test_cli_rejects_an_unknown_executor_before_running(tmp_path):
    results = tmp_path / "results"
    outcome = CliRunner().invoke(
        app, ["sweep", str(write_spec(tmp_path)), "--results", str(results), "--executor", "dask"]
    )
    assert outcome.exit_code == 2 and "valid choices: local, ray" in outcome.stderr
    assert not results.exists()


def test_missing_spec_file_names_the_paths_tried(tmp_path):
    with pytest.raises(UserError, match="no sweep spec"):
        load_spec(tmp_path / "nope")


def test_a_figure_must_fix_every_axis_it_does_not_show(tmp_path):
    path = write_spec(tmp_path, TINY_SPEC.replace("where = { eta = 0.5 }\n", "", 1))
    with pytest.raises(UserError, match=r"figures\[0\]: axis 'eta' has several values.*where = \{ eta = \.\.\. \}"):
        load_spec(path)
