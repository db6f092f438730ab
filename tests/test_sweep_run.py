"""Running sweeps: batched cells equal lone runs; resume, --force, SIGKILL; the loader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from sweep_helpers import write_spec

from ladbench import layout, manifest
from ladbench.bandit.run import run_bandit
from ladbench.results import load
from ladbench.sweep import store
from ladbench.sweep.runner import run_sweep
from ladbench.sweep.spec import load_spec


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny spec (2 methods x 2 etas x 3 seeds, 120 steps) run once in this process."""
    root = tmp_path_factory.mktemp("sweep")
    spec = load_spec(write_spec(root))
    outcome = run_sweep(spec, root / "results", workers=1, progress=False)
    return spec, outcome


def marker_texts(directory):
    return {path.parent.name: path.read_text() for path in directory.glob(f"{layout.CELLS_DIR}/*/{manifest.FILE}")}


def test_a_batched_cell_matches_its_lone_run(tiny):
    """Up to rounding: the engine scales each run's gradient by the batch size."""
    spec, outcome = tiny
    assert outcome.ran == 3 and outcome.skipped == 0  # LAD at two etas; GRPO ignores eta: one cell
    for cell in spec.cells:
        alone = run_bandit(cell.config, list(cell.seeds), write=False)
        directory = store.cell_dir(outcome.directory, cell.key)
        for name in layout.BANDIT_TABLES:
            stored = pd.read_csv(directory / f"{name}.csv")
            pd.testing.assert_frame_equal(stored, getattr(alone, name), check_exact=False, rtol=1e-10, atol=1e-13)


def test_each_cell_records_config_seeds_axes_and_provenance(tiny):
    spec, outcome = tiny
    cell = spec.cells[-1]
    directory = store.cell_dir(outcome.directory, cell.key)
    record = json.loads((directory / manifest.FILE).read_text())
    assert record["schema"] == manifest.SCHEMA and record["kind"] == "sweep_cell" and record["key"] == cell.key
    assert record["config"] == cell.config.resolved() and record["label"] == "GRPO"
    assert record["seeds"] == list(cell.seeds) and record["axes"] == cell.axes
    assert record["provenance"]["versions"]["torch"] and "commit" in record["provenance"]["git"]
    rows = {"curves": 3 * (120 // 20 + 1), "summary": 3, "policy": 3 * 50}
    for name in layout.BANDIT_TABLES:
        entry = record["files"][f"{name}.csv"]
        assert entry["rows"] == rows[name] and entry["bytes"] == (directory / f"{name}.csv").stat().st_size
        assert entry["sha256"] == manifest.sha256(directory / f"{name}.csv")


def test_loader_returns_tidy_frames_with_axis_columns(tiny):
    _, outcome = tiny
    results = load(outcome.directory)
    assert list(results.axes) == ["method", "eta"] and results.missing == []
    assert len(results.summary) == 3 * 3 and len(results.policy) == 3 * 3 * 50
    assert len(results.curves) == 3 * 3 * (120 // 20 + 1)
    grouped = results.summary.groupby(["method", "eta"], dropna=False)["seed"].apply(sorted)
    assert {(m, None if pd.isna(e) else e): seeds for (m, e), seeds in grouped.to_dict().items()} == {
        ("lad", 0.5): [0, 1, 2],
        ("lad", 2.0): [0, 1, 2],
        ("grpo", None): [0, 1, 2],
    }
    assert set(results.summary["label"]) == {"LAD-JS", "GRPO"}


def test_rerun_skips_finished_cells_and_force_reruns_them(tiny, tmp_path):
    spec, outcome = tiny
    before = marker_texts(outcome.directory)
    again = run_sweep(spec, outcome.directory.parent, workers=1, progress=False)
    assert (again.ran, again.skipped) == (0, 3)
    assert marker_texts(outcome.directory) == before
    forced = run_sweep(spec, outcome.directory.parent, workers=1, progress=False, force=True)
    assert (forced.ran, forced.skipped) == (3, 0)
    assert marker_texts(outcome.directory).keys() == before.keys()


def test_an_unfinished_cell_is_invisible_and_rerun(tiny):
    spec, outcome = tiny
    cell = spec.cells[0]
    directory = store.cell_dir(outcome.directory, cell.key)
    (directory / manifest.FILE).unlink()
    (directory / ".summary.csv.half.csv").write_text("seed,tv_tar")  # what a SIGKILL mid-write leaves
    results = load(outcome.directory)
    assert cell.key not in set(results.summary["cell"]) and [m["key"] for m in results.missing] == [cell.key]
    resumed = run_sweep(spec, outcome.directory.parent, workers=1, progress=False)
    assert (resumed.ran, resumed.skipped) == (1, 2)
    assert sorted(path.name for path in directory.iterdir()) == sorted(
        [manifest.FILE, *(f"{t}.csv" for t in layout.BANDIT_TABLES)]
    )


KILL_SPEC = """
name = "killme"
seeds = 2
[fixed]
steps = 600
log_interval = 100
init_std = 0.1
[axes]
method = ["lad", "grpo", "flowrl", "entropy_pg"]
"""


def test_sigkill_loses_only_cells_in_flight(tmp_path):
    path = write_spec(tmp_path, KILL_SPEC)
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-c",
        "from ladbench.cli import app; app()",
        "sweep",
        str(path),
        "--results",
        str(results),
        "--workers",
        "1",
        "--no-progress",
    ]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    directory = results / "killme"
    deadline = time.monotonic() + 120
    while not marker_texts(directory) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = marker_texts(directory)
    assert 1 <= len(finished) < 4, process.stderr.read().decode()
    assert set(load(directory).summary["cell"]) == set(finished)  # the loader reads exactly the finished cells
    resumed = run_sweep(load_spec(path), results, workers=1, progress=False)
    assert (resumed.ran, resumed.skipped) == (4 - len(finished), len(finished))
    after = marker_texts(directory)
    assert len(after) == 4 and all(after[key] == text for key, text in finished.items())
    assert len(load(directory).summary) == 4 * 2
