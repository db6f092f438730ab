"""The Ray executor: a small spec on a local Ray with 2 CPUs gives the local executor's cells."""

from __future__ import annotations

import pandas as pd
from sweep_helpers import TINY_SPEC, write_spec

from ladbench.results import load
from ladbench.sweep.runner import run_sweep
from ladbench.sweep.spec import load_spec


def test_ray_executor_matches_local(tmp_path):
    spec = load_spec(write_spec(tmp_path, TINY_SPEC.replace("steps = 120", "steps = 60")))
    local = run_sweep(spec, tmp_path / "local", workers=1, progress=False)
    remote = run_sweep(spec, tmp_path / "ray", executor="ray", workers=2, progress=False)
    assert (remote.ran, remote.skipped) == (3, 0)
    key = ["cell", "seed"]
    expected = load(local.directory).summary.sort_values(key, ignore_index=True)
    actual = load(remote.directory).summary.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(actual, expected)
