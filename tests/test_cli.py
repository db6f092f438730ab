"""`ladbench run bandit` through typer's test runner: files, schemas, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from bandit_helpers import RUN_FILES
from typer.testing import CliRunner

from ladbench.bandit.metrics import DISTANCES
from ladbench.cli import app

runner = CliRunner()
METRICS = [f"{name}_{reference}" for reference in ("target", "truth") for name in DISTANCES] + [
    "entropy",
    "max_prob",
    "expected_reward",
    "mass_mode_0",
    "mass_mode_1",
    "mass_mode_2",
    "mode_coverage",
]


def test_run_bandit_writes_the_five_files(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        [
            "run",
            "bandit",
            "--divergence",
            "js",
            "--steps",
            "200",
            "--seeds",
            "3",
            "--log-interval",
            "50",
            "--init-std",
            "0.5",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "tv_target" in result.output and "mode_coverage" in result.output
    assert sorted(path.name for path in out.iterdir()) == RUN_FILES

    record = json.loads((out / "manifest.json").read_text())
    assert record["schema"] == "ladbench.manifest/1" and record["kind"] == "bandit_run" and record["label"] == "LAD-JS"
    assert record["config"]["loss"]["name"] == "lad" and record["config"]["steps"] == 200
    assert record["config"]["loss"]["divergence"] == "js" and record["config"]["loss"]["eta"] == 1.0
    assert record["seeds"] == [0, 1, 2] and record["seeds_identical"] is False
    assert record["provenance"]["versions"]["torch"]
    assert "commit" in record["provenance"]["git"]
    assert {name: entry.get("rows") for name, entry in record["files"].items()} == {
        "curves.csv": 15,
        "summary.csv": 3,
        "policy.csv": 150,
        "recovery.png": None,
    }

    curves = pd.read_csv(out / "curves.csv")
    assert list(curves.columns) == ["seed", "step", *METRICS]
    assert len(curves) == 3 * 5 and sorted(curves.step.unique()) == [0, 50, 100, 150, 200]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["seed", *METRICS] and len(summary) == 3
    final_rows = curves[curves.step == 200].set_index("seed")
    pd.testing.assert_series_equal(final_rows["tv_target"], summary.set_index("seed")["tv_target"], check_exact=False)
    policy = pd.read_csv(out / "policy.csv")
    assert list(policy.columns) == ["seed", "arm", "prob", "target", "truth", "reward"]
    assert len(policy) == 3 * 50
    assert policy.groupby("seed")["prob"].sum().round(10).eq(1.0).all()
    assert (out / "recovery.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_gives_the_same_numbers(tmp_path):
    arguments = ["run", "bandit", "--estimator", "sampled", "--steps", "100", "--seeds", "2"]
    for name in ("a", "b"):
        assert runner.invoke(app, [*arguments, "--out", str(tmp_path / name)]).exit_code == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "a" / "curves.csv"), pd.read_csv(tmp_path / "b" / "curves.csv")
    )


@pytest.mark.parametrize(
    "arguments,message",
    [
        (
            ["--method", "ppo"],
            "unknown loss 'ppo'; valid choices: alpha_dpg, cispo, clip_cov, dppo, entropy_adv, entropy_pg, f_tb, "
            "flowrl, gmpo, gpg, grpo, gspo, kl_cov, lad, sapo",
        ),
        (["--divergence", "l2"], "unknown divergence 'l2'; valid choices: kl, rkl, js, tv, hd, jf, ps"),
        (["--eta", "0"], "eta must be > 0, got 0"),
        (["--eta", "-2"], "eta must be > 0, got -2"),
        (["--method", "grpo", "--divergence", "kl"], "divergence='kl' does nothing for loss 'grpo'"),
        (["--method", "grpo", "--eta", "0.5"], "eta=0.5 does nothing for loss 'grpo': it has no temperature option"),
        (["--method", "flowrl", "-o", "beta=1e400"], "loss option beta=inf for loss 'flowrl' must be finite"),
        (["--steps", "abc"], "steps: Input should be a valid integer"),
        (["-s", "loss.divergence=l2"], "unknown divergence 'l2'"),
        (["--config", "missing.toml"], "config file 'missing.toml' not found"),
        (["--steps", "0"], "steps: Input should be greater than 0 (got 0)"),
        (["--lr", "-1e-3"], "lr: Input should be greater than 0 (got -0.001)"),
        (["--estimator", "sampled", "--group-size", "1"], "group_size 1 is too small for the 'dr_grpo' advantage"),
        (["--estimator", "mc"], "estimator: Input should be 'exact' or 'sampled' (got 'mc')"),
        (["--protocol", "often"], "protocol: Input should be 'fixed' or 'refresh' (got 'often')"),
        (["--advantage", "ppo"], "unknown advantage estimator 'ppo'; valid choices: grpo, dr_grpo, rloo, raw"),
        (["-o", "temperature=2"], "unknown option 'temperature' for loss 'lad'; valid options: divergence, eta"),
        (["-o", "eta=2", "--eta", "1"], "eta=1 and loss option eta=2 both set 'lad''s eta; set it once"),
        (["-o", "noequals"], "--option 'noequals' is not of the form key=value"),
        (["--seeds", "0"], "--seeds must be at least 1, got 0"),
    ],
)
def test_user_errors_are_one_line_without_traceback(arguments, message):
    result = runner.invoke(
        app,
        ["run", "bandit", "--steps", "10", *arguments] if "--steps" not in arguments else ["run", "bandit", *arguments],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("ladbench: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = runner.invoke(app, ["run", "bandit", "--steps", "10", "--out", str(blocker / "run")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"ladbench: error: --out: cannot write to '{blocker / 'run'}'")
    assert "Traceback" not in result.output


def test_losses_command_lists_the_registry():
    result = runner.invoke(app, ["losses"])
    assert result.exit_code == 0
    assert "lad: divergence='js', eta=1.0" in result.output and "flowrl: beta=15.0" in result.output
