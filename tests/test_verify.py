"""Manifests, verified results and the one loader: a damaged cell is a one-line error naming the
cell and the file; ``--skip-bad`` leaves it out and the report lists it; ``--repair`` reruns it."""

from __future__ import annotations

import json
import re
from io import StringIO

import pandas as pd
import pytest
from sweep_helpers import write_spec
from typer.testing import CliRunner

from ladbench import manifest
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.run import run_bandit
from ladbench.cli import app
from ladbench.errors import UserError
from ladbench.results import config_columns, load, verify
from ladbench.sweep import store
from ladbench.sweep.spec import load_spec

SPEC = """
name = "garble"
seeds = 2
[fixed]
steps = 40
log_interval = 20
init_std = 0.1
[axes]
method = ["lad", "grpo"]
"""


def invoke(*arguments):
    return CliRunner().invoke(app, list(map(str, arguments)))


@pytest.fixture
def sweep(tmp_path):
    """A finished two-cell sweep: (spec path, results directory, the grpo cell's directory)."""
    path = write_spec(tmp_path, SPEC)
    assert invoke("sweep", path, "--results", tmp_path / "results", "--workers", 1, "--no-progress").exit_code == 0
    grpo = next(cell for cell in load_spec(path).cells if cell.config.loss.name == "grpo")
    return path, tmp_path / "results" / "garble", store.cell_dir(tmp_path / "results" / "garble", grpo.key)


def one_line_error(outcome) -> str:
    assert outcome.exit_code == 2, outcome.output
    assert outcome.stderr.startswith("ladbench: error: ") and outcome.stderr.count("\n") == 1
    assert "Traceback" not in outcome.output
    return outcome.stderr


def test_manifest_describes_rows_bytes_and_sha256(tmp_path):
    pd.DataFrame({"text": ["one", "two\nlines", "three"], "x": [1, 2, 3]}).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "log.jsonl").write_text('{"step": 1}\n{"step": 2}\n')
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01")
    record = manifest.write(
        tmp_path, "bandit_run", "GRPO", {"method": "grpo"}, [0], ["t.csv", "log.jsonl", "blob.bin"], {}, ["ladbench"]
    )
    assert record["files"]["t.csv"]["rows"] == 3 and record["files"]["log.jsonl"]["rows"] == 2  # quoted line break
    assert "rows" not in record["files"]["blob.bin"] and record["files"]["blob.bin"]["bytes"] == 2
    assert manifest.verify(tmp_path) == json.loads((tmp_path / manifest.FILE).read_text())
    (tmp_path / "log.jsonl").write_text('{"step": 1}\n')
    with pytest.raises(manifest.BadResult, match=r"log\.jsonl has 1 data rows; its manifest lists 2"):
        manifest.verify(tmp_path)
    (tmp_path / "log.jsonl").write_text('{"step": 1}\n{"step": 3}\n')
    with pytest.raises(manifest.BadResult, match=r"log.jsonl differs from its manifest \(sha256 mismatch"):
        manifest.verify(tmp_path)
    (tmp_path / "log.jsonl").write_text('{"step": 1}\n{"step": 2}\n')
    assert verify(tmp_path) == []
    (tmp_path / "blob.bin").unlink()
    assert [str(problem) for problem in verify(tmp_path)] == [f"{tmp_path}: blob.bin is missing"]


def test_a_garbled_cell_fails_load_report_and_plot_and_repair_reruns_it(sweep, tmp_path):
    spec, results, bad = sweep
    original = (bad / "summary.csv").read_text()
    good_manifests = {path: path.read_text() for path in results.glob("cells/*/manifest.json") if path.parent != bad}
    (bad / "summary.csv").write_text("\n".join(original.splitlines()[:-1]) + "\n")  # one seed's row lost
    key = bad.name

    with pytest.raises(UserError) as raised:  # load
        load(results)
    message = str(raised.value)
    assert "\n" not in message and f"cell {key} (method=grpo): summary.csv has 1 data rows" in message
    assert f"ladbench sweep {spec} --repair" in message and "--skip-bad" in message
    assert [problem.file for problem in verify(results)] == ["summary.csv"]

    assert f"cell {key} (method=grpo): summary.csv" in one_line_error(invoke("report", results))  # report
    assert "summary.csv" in one_line_error(invoke("plot", results, "--out", tmp_path / "figures"))  # plot

    skipped = load(results, skip_bad=True)
    assert set(skipped.summary["label"]) == {"LAD-JS"} and [cell["key"] for cell in skipped.excluded] == [key]
    outcome = invoke("report", results, "--skip-bad")
    assert outcome.exit_code == 0, outcome.output
    report = (results / "report.md").read_text()
    assert "1 cells, 2 seeds each" in report and "**1 finished cells failed verification and are excluded**" in report
    assert f"- cell {key} (method=grpo): summary.csv has 1 data rows; its manifest lists 2" in report
    assert invoke("plot", results, "--skip-bad", "--out", tmp_path / "figures").exit_code == 0

    resumed = invoke("sweep", spec, "--results", results.parent, "--workers", 1, "--no-progress")
    assert "ran 0 cells, skipped 2" in resumed.stdout  # a plain resume trusts finished cells
    repaired = invoke("sweep", spec, "--results", results.parent, "--workers", 1, "--no-progress", "--repair")
    assert repaired.exit_code == 0 and "ran 1 cells (1 repaired), skipped 1 finished" in repaired.stdout
    assert {path: path.read_text() for path in good_manifests} == good_manifests  # the good cell was not rerun
    pd.testing.assert_frame_equal(
        pd.read_csv(bad / "summary.csv"), pd.read_csv(StringIO(original)), check_exact=False, rtol=1e-10
    )
    assert len(load(results).summary) == 4 and verify(results) == []


def test_a_broken_manifest_names_the_cell_and_is_repaired(sweep):
    spec, results, bad = sweep
    (bad / manifest.FILE).write_text((bad / manifest.FILE).read_text()[:-40])
    with pytest.raises(UserError, match=rf"cell {bad.name} \(method=grpo\): manifest.json is not valid JSON"):
        load(results)
    assert [cell["file"] for cell in load(results, skip_bad=True).excluded] == [manifest.FILE]
    repaired = invoke("sweep", spec, "--results", results.parent, "--workers", 1, "--no-progress", "--repair")
    assert "ran 1 cells (1 repaired)" in repaired.stdout and len(load(results).cells) == 2


def test_a_cell_without_manifest_is_unfinished_not_bad(sweep):
    _, results, bad = sweep
    (bad / manifest.FILE).unlink()
    loaded = load(results)
    assert [cell["key"] for cell in loaded.missing] == [bad.name] and loaded.excluded == [] and verify(results) == []


def test_load_reads_a_bandit_run_directory(tmp_path):
    config = BanditConfig(steps=20, log_interval=10, divergence="hd", eta=0.5)
    run_bandit(config, [0, 1], tmp_path / "run")
    results = load(tmp_path / "run")
    assert results.kind == "bandit_run" and results.axes == {} and list(results.cells["cell"]) == ["run"]
    assert len(results.summary) == 2 and len(results.curves) == 2 * 3 and len(results.policy) == 2 * 50
    row = results.summary.iloc[0]
    assert (row["label"], row["method"], row["divergence"], row["eta"], row["env"]) == (
        "LAD-HD",
        "lad",
        "hd",
        0.5,
        "trimodal",
    )
    assert results.configs["run"] == config.resolved()
    (tmp_path / "run" / "policy.csv").write_text("seed,arm\n")
    with pytest.raises(
        UserError, match=re.escape(f"{tmp_path / 'run'}: policy.csv has 0 data rows; its manifest lists 100")
    ):
        load(tmp_path / "run")


def test_load_refuses_a_directory_without_results(tmp_path):
    with pytest.raises(UserError, match="is not a results directory"):
        load(tmp_path)


def test_config_columns_flatten_the_loss_table():
    nested = {
        "env": "trimodal",
        "steps": 10,
        "env_options": {},
        "loss": {"name": "lad", "divergence": "js", "eta": 0.5},
    }
    expected = {"env": "trimodal", "steps": 10, "method": "lad", "label": "LAD-JS", "divergence": "js", "eta": 0.5}
    assert config_columns(nested, "LAD-JS") == expected
