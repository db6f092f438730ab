"""Every bandit family from the command line and from its shipped sweep spec."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from bandit_helpers import RUN_FILES
from typer.testing import CliRunner

from ladbench.bandit.envs import FAMILIES, make_env
from ladbench.bandit.run import run_bandit
from ladbench.cli import app
from ladbench.sweep.spec import load_spec

runner = CliRunner()
SPECS = sorted((Path(__file__).resolve().parents[1] / "experiments" / "families").glob("*.toml"))
FAMILY_ARGUMENTS = {
    "contextual": ["--width", "8"],
    "continuous": ["--policy", "mdn", "-e", "dim=2", "-e", "grid=16"],
    "sequence": ["--policy", "transformer", "-e", "vocab=3", "-e", "length=3", "--width", "8"],
}


@pytest.mark.parametrize("env", [name for name in FAMILIES if name != "trimodal"])
def test_run_bandit_env_writes_the_files(env, tmp_path):
    out = tmp_path / env
    arguments = [
        "run",
        "bandit",
        "--env",
        env,
        "--estimator",
        "sampled",
        "--steps",
        "6",
        "--seeds",
        "2",
        "--log-interval",
        "3",
        "--inner-epochs",
        "2",
        "--out",
        str(out),
        *FAMILY_ARGUMENTS.get(env, []),
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == RUN_FILES
    policy = pd.read_csv(out / "policy.csv")
    n_outcomes = len(policy) // 2
    per = ["seed", "context"] if env == "contextual" else ["seed"]  # a distribution per context
    assert ("context" in policy) == (env == "contextual")
    assert policy.groupby(per)["prob"].sum().round(8).eq(1.0).all()
    assert (
        n_outcomes
        == make_env(
            env,
            {"dim": 2, "grid": 16} if env == "continuous" else {"vocab": 3, "length": 3} if env == "sequence" else {},
        ).n_arms
    )
    assert pd.read_csv(out / "summary.csv")["mode_coverage"].between(0, 1).all()


@pytest.mark.parametrize(
    "arguments,message",
    [
        (["--env", "sequence", "-e", "vocab=10", "-e", "length=4"], "vocab^length sequences must be at most 4096"),
        (
            ["--env", "continuous", "--policy", "gru"],
            "unknown policy 'gru' for env 'continuous'; valid choices: default, gaussian, mdn, discretised",
        ),
        (["--env", "noisy", "-e", "noise=pink"], "unknown noise 'pink'; valid choices: gaussian, bernoulli"),
        (["--env", "atari"], "unknown env 'atari'; valid choices: trimodal, unequal_modes"),
        (["--env", "trimodal", "-e", "weights"], "--env-option 'weights' is not of the form key=value"),
        (["--inner-epochs", "0"], "inner_epochs: Input should be greater than or equal to 1"),
    ],
)
def test_family_user_errors_are_one_line(arguments, message):
    result = runner.invoke(app, ["run", "bandit", "--steps", "2", *arguments])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("path", SPECS, ids=[path.stem for path in SPECS])
def test_family_specs_load_and_their_cells_run(path):
    spec = load_spec(path)
    assert len(spec.seeds) == 10
    cell = spec.cells[-1]
    short = cell.config.model_copy(update={"steps": 4, "log_interval": 2})
    run = run_bandit(short, [0, 1], write=False)
    assert len(run.summary) == 2 and run.summary["tv_target"].notna().all()
