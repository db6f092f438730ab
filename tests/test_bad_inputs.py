"""Every bad input gets one clean line: a table of bad inputs across every command.

Each case runs the command through typer's test runner and asserts exit status 2, no traceback,
a single ``ladbench: error:`` line, and that the line names the option (or setting, or argument)
and the bad value. Nothing trains: each input is refused before any work starts. Placeholders:
``{tmp}`` is the test's directory, in which ``file`` is a plain file, ``results`` a sweep's
results directory (its record and spec only), ``evals`` an empty directory, and each case's own
``files`` are written first.
"""

from __future__ import annotations

import json

import pytest
from sweep_helpers import TINY_SPEC
from typer.testing import CliRunner

from ladbench.bandit.config import BanditConfig
from ladbench.cli import app

runner = CliRunner()

SPEC_HEAD = "seeds = 2\n[fixed]\nsteps = 10\n"


def spec(
    fixed: str = "", axes: str = 'method = ["lad", "grpo"]', rest: str = "", head: str = SPEC_HEAD
) -> dict[str, str]:
    """A sweep spec file ``bad.toml`` with extra [fixed] lines, the [axes] table and extra tables."""
    return {"bad.toml": f"{head}{fixed}\n[axes]\n{axes}\n{rest}"}


LLM_SPEC = """track = "llm"
seeds = 1
[fixed]
model = "tiny"
steps = 1
[axes]
method = ["lad", "grpo"]
"""


def llm_spec(tables: str = "", fixed: str = "", head: str = "") -> dict[str, str]:
    """An LLM sweep spec ``llm.toml`` with extra top-level lines, [fixed] lines and tables at the end."""
    top, _, rest = LLM_SPEC.partition("[fixed]\n")
    return {"llm.toml": f"{head}{top}[fixed]\n{fixed}\n{rest}{tables}"}


SWEEP = ["sweep", "{tmp}/bad.toml", "--results", "{tmp}/out", "--no-progress"]
LLM_SWEEP = ["sweep", "{tmp}/llm.toml", "--results", "{tmp}/out", "--no-progress"]
TRAIN = ["llm", "train", "--out", "{tmp}/run", "--model", "tiny"]
CLAIMS = ["claims", "--results", "{tmp}/results"]


def manifest_file(directory: str, kind: str, config: dict | None = None, seeds: tuple = (0,)) -> dict[str, str]:
    """``directory/manifest.json`` of a finished result of ``kind`` (what check_owner reads)."""
    record = {"schema": "ladbench.manifest/1", "kind": kind, "label": "LAD-JS", "config": config or {}}
    return {f"{directory}/manifest.json": json.dumps({**record, "seeds": list(seeds), "files": {}})}


TRAINED = manifest_file("trained", "llm_train")
EVALUATED = manifest_file("evaluated", "llm_eval")
FINISHED = manifest_file("finished", "bandit_run", {**BanditConfig.build(steps=5).resolved()}, seeds=tuple(range(10)))
# a committed ledger whose first claim was measured: the results under {tmp}/results would make it "not run"
LEDGER = {
    "ledger/claims.json": json.dumps(
        {"claims": [{"id": "bandit_recovery", "verdict": "reproduced", "verdict_kind": "reproduced"}]}
    )
}
EVAL = ["llm", "eval", "tiny", "--out", "{tmp}/eval"]
PRETRAIN = ["llm", "pretrain", "--steps", "1"]
EXACT = ["llm", "exact", "minilm", "--out", "{tmp}/exact"]
MINILM_CHECKPOINT = {  # a pretrained mini-LM whose manifest's config does not hash to the hash it records
    "ckpt/config.json": '{"ladbench_minilm": {"config_hash": "0123456789abcdef"}}',
    "ckpt/manifest.json": json.dumps(
        {
            "schema": "ladbench.manifest/1",
            "kind": "minilm_pretrain",
            "label": "minilm",
            "config": {},
            "seeds": [0],
            "files": {},
            "provenance": {},
            "command": [],
            "created": "",
            "config_hash": "0123456789abcdef",
        }
    ),
}

# (id, arguments, files, the option's name, the bad value as the message shows it; None: the
# option's value is missing, so only the option can be named)
CASES = [
    # run bandit: config fields (CLI flags)
    ("steps-text", ["run", "bandit", "--steps", "abc"], {}, "steps", "'abc'"),
    ("steps-zero", ["run", "bandit", "--steps", "0"], {}, "steps", "0"),
    ("steps-infinite", ["run", "bandit", "--steps", "1e400"], {}, "steps", "inf"),
    ("steps-fraction", ["run", "bandit", "--steps", "2.5"], {}, "steps", "2.5"),
    ("lr-negative", ["run", "bandit", "--lr", "-1e-3"], {}, "lr", "-0.001"),
    ("lr-infinite", ["run", "bandit", "--lr", "1e400"], {}, "lr", "inf"),
    ("lr-nan", ["run", "bandit", "--lr", "NaN"], {}, "lr", "nan"),
    ("logz-lr-zero", ["run", "bandit", "--method", "flowrl", "--logz-lr", "0"], {}, "logz_lr", "0"),
    ("init-std-negative", ["run", "bandit", "--init-std", "-1"], {}, "init_std", "-1"),
    ("log-interval-zero", ["run", "bandit", "--log-interval", "0"], {}, "log_interval", "0"),
    ("inner-epochs-zero", ["run", "bandit", "--inner-epochs", "0"], {}, "inner_epochs", "0"),
    ("group-size-zero", ["run", "bandit", "--estimator", "sampled", "--group-size", "0"], {}, "group_size", "0"),
    ("group-size-one", ["run", "bandit", "--estimator", "sampled", "--group-size", "1"], {}, "group_size", "1"),
    ("estimator-unknown", ["run", "bandit", "--estimator", "mc"], {}, "estimator", "'mc'"),
    ("protocol-unknown", ["run", "bandit", "--protocol", "often"], {}, "protocol", "'often'"),
    (
        "refresh-interval-zero",
        ["run", "bandit", "--protocol", "refresh", "--refresh-interval", "0"],
        {},
        "refresh_interval",
        "0",
    ),
    ("env-unknown", ["run", "bandit", "--env", "nowhere"], {}, "env", "'nowhere'"),
    ("policy-wrong-family", ["run", "bandit", "--policy", "mlp"], {}, "policy", "'mlp'"),
    ("advantage-unknown", ["run", "bandit", "--advantage", "ppo"], {}, "advantage", "'ppo'"),
    # run bandit: settings that do nothing for the chosen protocol, estimator, policy or loss
    ("refresh-interval-fixed", ["run", "bandit", "--refresh-interval", "7"], {}, "refresh_interval", "7"),
    ("group-size-exact", ["run", "bandit", "--group-size", "16"], {}, "group_size", "16"),
    ("width-tabular", ["run", "bandit", "--width", "8"], {}, "width", "8"),
    ("components-gaussian", ["run", "bandit", "--env", "continuous", "--components", "4"], {}, "components", "4"),
    ("bins-mdn", ["run", "bandit", "--env", "continuous", "--policy", "mdn", "--bins", "8"], {}, "bins", "8"),
    (
        "policy-table-unknown-option",
        ["run", "bandit", "--config", "{tmp}/c.toml"],
        {"c.toml": 'env = "contextual"\npolicy = {name = "mlp", depth = 2}'},
        "depth",
        "=2; valid options of the mlp policy: width",
    ),
    ("logz-lr-lad", ["run", "bandit", "--logz-lr", "0.5"], {}, "logz_lr", "0.5"),
    ("divergence-grpo", ["run", "bandit", "--method", "grpo", "--divergence", "kl"], {}, "divergence", "'kl'"),
    ("eta-grpo", ["run", "bandit", "--method", "grpo", "--eta", "0.5"], {}, "eta", "0.5"),
    # run bandit: the loss (shorthands and -o)
    ("method-unknown", ["run", "bandit", "--method", "ppo"], {}, "loss", "'ppo'"),
    ("divergence-unknown", ["run", "bandit", "--divergence", "l2"], {}, "divergence", "'l2'"),
    ("eta-zero", ["run", "bandit", "--eta", "0"], {}, "eta", "0"),
    ("eta-negative", ["run", "bandit", "--eta", "-2"], {}, "eta", "-2"),
    ("eta-text", ["run", "bandit", "--eta", "abc"], {}, "eta", "'abc'"),
    ("eta-infinite", ["run", "bandit", "--eta", "1e400"], {}, "eta", "inf"),
    ("option-infinite", ["run", "bandit", "--method", "flowrl", "-o", "beta=1e400"], {}, "beta", "inf"),
    ("option-nan", ["run", "bandit", "--method", "flowrl", "-o", "beta=NaN"], {}, "beta", "nan"),
    ("option-text", ["run", "bandit", "-o", "u_clip=abc"], {}, "u_clip", "'abc'"),
    ("option-negative", ["run", "bandit", "-o", "u_clip=-1"], {}, "u_clip", "-1"),
    ("option-unknown", ["run", "bandit", "-o", "temperature=2"], {}, "temperature", "temperature"),
    ("option-no-equals", ["run", "bandit", "-o", "noequals"], {}, "--option", "'noequals'"),
    ("option-range-grpo", ["run", "bandit", "--method", "grpo", "-o", "eps_low=-0.1"], {}, "eps_low", "-0.1"),
    (
        "option-choice-grpo",
        ["run", "bandit", "--method", "grpo", "-o", "aggregation=mean"],
        {},
        "aggregation",
        "'mean'",
    ),
    (
        "option-bool-grpo",
        ["run", "bandit", "--method", "grpo", "-o", "kl_bias_correction=maybe"],
        {},
        "kl_bias_correction",
        "'maybe'",
    ),
    (
        "option-fraction-length",
        ["run", "bandit", "--method", "grpo", "-o", "norm_length=2.5"],
        {},
        "norm_length",
        "2.5",
    ),
    (
        "option-text-entropy-pg",
        ["run", "bandit", "--method", "entropy_pg", "-o", "norm_length=abc"],
        {},
        "norm_length",
        "'abc'",
    ),
    ("option-text-clip-cov", ["run", "bandit", "--method", "clip_cov", "-o", "cov_low=abc"], {}, "cov_low", "'abc'"),
    ("option-and-shorthand", ["run", "bandit", "-o", "eta=2", "--eta", "1"], {}, "eta", "eta=2"),
    # run bandit: family options (-e)
    ("env-option-text", ["run", "bandit", "-e", "n_arms=abc"], {}, "n_arms", "'abc'"),
    ("env-option-fraction", ["run", "bandit", "-e", "n_arms=2.5"], {}, "n_arms", "2.5"),
    ("env-option-too-small", ["run", "bandit", "-e", "n_arms=1"], {}, "n_arms", "1"),
    ("env-option-unknown", ["run", "bandit", "-e", "arms=3"], {}, "arms", "'arms'"),
    (
        "env-option-nan-list",
        ["run", "bandit", "--env", "unequal_modes", "-e", "weights=0.7,nan,0.1"],
        {},
        "weights",
        "0.7,nan,0.1",
    ),
    ("env-option-negative", ["run", "bandit", "--env", "noisy", "-e", "level=-1"], {}, "level", "-1"),
    ("env-option-infinite", ["run", "bandit", "--env", "noisy", "-e", "level=1e400"], {}, "level", "inf"),
    ("env-option-choice", ["run", "bandit", "--env", "noisy", "-e", "noise=pink"], {}, "noise", "'pink'"),
    ("env-option-arm-range", ["run", "bandit", "--env", "multi_correct", "-e", "correct=1,40"], {}, "correct", "40"),
    (
        "env-option-sequences",
        ["run", "bandit", "--env", "sequence", "-e", "vocab=100", "-e", "length=100"],
        {},
        "vocab",
        "100",
    ),
    (
        "env-option-seed-overflow",
        ["run", "bandit", "--env", "sequence", "-e", "layout_seed=1e30"],
        {},
        "layout_seed",
        "1000000000000000019884624838656",
    ),
    (
        "env-option-embed-memory",
        ["run", "bandit", "--env", "contextual", "-e", "embed_dim=1000000000000"],
        {},
        "embed_dim",
        "1000000000000",
    ),
    ("env-option-dim", ["run", "bandit", "--env", "continuous", "-e", "dim=3"], {}, "dim", "3"),
    ("env-option-grid", ["run", "bandit", "--env", "continuous", "-e", "grid=4"], {}, "grid", "4"),
    # run bandit: sizes (refused from an estimate before anything is allocated)
    ("arms-memory", ["run", "bandit", "-e", "n_arms=100000000000"], {}, "n_arms", "100000000000"),
    ("seeds-memory", ["run", "bandit", "--seeds", "1000000000"], {}, "--seeds", "1000000000"),
    (
        "group-memory",
        ["run", "bandit", "--estimator", "sampled", "--group-size", "100000000"],
        {},
        "--group-size",
        "100000000",
    ),
    (
        "contexts-memory",
        ["run", "bandit", "--env", "contextual", "-e", "contexts=100000000"],
        {},
        "contexts",
        "100000000",
    ),
    (
        "curves-memory",
        ["run", "bandit", "--steps", "10000000", "--log-interval", "1"],
        {},
        "--steps",
        "10000000",
    ),
    # run bandit: the command's own options, output paths, layering (--config, -s), click
    ("seeds-zero", ["run", "bandit", "--seeds", "0"], {}, "--seeds", "0"),
    ("seeds-negative", ["run", "bandit", "--seeds", "-3"], {}, "--seeds", "-3"),
    ("seeds-text", ["run", "bandit", "--seeds", "x"], {}, "--seeds", "'x'"),
    ("first-seed-negative", ["run", "bandit", "--first-seed", "-1"], {}, "--first-seed", "-1"),
    (
        "first-seed-overflow",
        ["run", "bandit", "--first-seed", "100000000000000000000000"],
        {},
        "--first-seed",
        "100000000000000000000000",
    ),
    ("out-is-file", ["run", "bandit", "--out", "{tmp}/file"], {}, "--out", "{tmp}/file"),
    ("out-under-file", ["run", "bandit", "--out", "{tmp}/file/run"], {}, "--out", "{tmp}/file/run"),
    ("config-missing", ["run", "bandit", "--config", "{tmp}/missing.toml"], {}, "config", "missing.toml"),
    ("config-not-toml", ["run", "bandit", "--config", "{tmp}/c.toml"], {"c.toml": "steps = [1"}, "config", "c.toml"),
    ("config-bad-value", ["run", "bandit", "--config", "{tmp}/c.toml"], {"c.toml": 'steps = "abc"'}, "steps", "'abc'"),
    ("config-unknown-key", ["run", "bandit", "--config", "{tmp}/c.toml"], {"c.toml": "stepz = 3"}, "stepz", "'stepz'"),
    (
        "config-loss-table",
        ["run", "bandit", "--config", "{tmp}/c.toml"],
        {"c.toml": '[loss]\nname = "ppo"'},
        "loss",
        "'ppo'",
    ),
    ("set-bad-value", ["run", "bandit", "-s", "steps=abc"], {}, "steps", "'abc'"),
    ("set-loss-option", ["run", "bandit", "-s", "loss.divergence=l2"], {}, "divergence", "'l2'"),
    ("set-into-table", ["run", "bandit", "-s", "steps.x=1"], {}, "steps", "{'x': 1}"),
    ("set-into-scalar", ["run", "bandit", "--steps", "5", "-s", "steps.x=1"], {}, "steps", "'steps.x'"),
    ("set-no-equals", ["run", "bandit", "-s", "noequals"], {}, "-s", "'noequals'"),
    ("set-unknown-key", ["run", "bandit", "-s", "stepz=3"], {}, "stepz", "'stepz'"),
    ("option-unknown-flag", ["run", "bandit", "--stepz", "3"], {}, "--stepz", "--stepz"),
    ("option-missing-value", ["run", "bandit", "--steps"], {}, "--steps", None),
    ("progress-value", ["run", "bandit", "--progress=yes"], {}, "--progress", "'yes'"),
    # sweep: spec contents (validated before anything runs), the command's options
    ("spec-missing", ["sweep", "{tmp}/nothere.toml"], {}, "spec", "{tmp}/nothere"),
    ("spec-not-toml", SWEEP, {"bad.toml": "seeds = [1"}, "spec", "bad.toml"),
    ("spec-unknown-key", SWEEP, spec(head=SPEC_HEAD.replace("seeds", "seedz")), "seedz", "'seedz'"),
    ("spec-fixed-text", SWEEP, spec('lr = "fast"'), "lr", "'fast'"),
    ("spec-fixed-zero", SWEEP, spec("log_interval = 0"), "log_interval", "0"),
    ("spec-fixed-infinite", SWEEP, spec("init_std = inf"), "init_std", "inf"),
    ("spec-fixed-nan", SWEEP, spec("lr = nan"), "lr", "nan"),
    ("spec-axis-loss", SWEEP, spec(axes='method = ["lad", "ppo"]'), "loss", "'ppo'"),
    ("spec-axis-unknown", SWEEP, spec(axes="stepz = [1, 2]"), "stepz", "'stepz'"),
    ("spec-axis-value", SWEEP, spec(axes='estimator = ["exact", "mc"]'), "estimator", "'mc'"),
    ("spec-env-option", SWEEP, spec('env_options = { n_arms = "abc" }'), "n_arms", "'abc'"),
    ("spec-ignored-everywhere", SWEEP, spec("group_size = 16"), "group_size", "16"),
    ("spec-refresh-fixed", SWEEP, spec("refresh_interval = 5"), "refresh_interval", "5"),
    (
        "spec-shorthand-unused",
        SWEEP,
        spec('divergence = "kl"', axes='method = ["grpo", "flowrl"]'),
        "divergence",
        "'divergence'",
    ),
    ("spec-seeds-zero", SWEEP, spec(head=SPEC_HEAD.replace("seeds = 2", "seeds = 0")), "seeds", "0"),
    ("spec-seeds-repeated", SWEEP, spec(head=SPEC_HEAD.replace("seeds = 2", "seeds = [1, 1]")), "seeds", "[1, 1]"),
    (
        "spec-seed-overflow",
        SWEEP,
        spec(head=SPEC_HEAD.replace("seeds = 2", "seeds = [0, 99999999999]")),
        "seed",
        "99999999999",
    ),
    ("spec-seed-negative", SWEEP, spec(head=SPEC_HEAD.replace("seeds = 2", "seeds = [-1, 3]")), "seed", "-1"),
    (
        "spec-seeds-memory",
        SWEEP,
        spec(head=SPEC_HEAD.replace("seeds = 2", "seeds = 1000000000000")),
        "seeds",
        "1000000000000",
    ),
    ("spec-figure-kind", SWEEP, spec(rest='[[figures]]\nkind = "pie"'), "kind", "'pie'"),
    ("spec-report-axis", SWEEP, spec(rest='[report]\ncompare = "nope"'), "compare", "'nope'"),
    ("spec-memory", SWEEP, spec('estimator = "sampled"\ngroup_size = 100000000'), "group_size", "100000000"),
    ("spec-track", SWEEP, spec(head='track = "vision"\n' + SPEC_HEAD), "track", "'vision'"),
    ("spec-eval-in-bandit", SWEEP, spec(rest="[eval]\nk = 3"), "eval", "'bandit'"),
    ("spec-llm-fixed", LLM_SWEEP, llm_spec(fixed="lr = inf"), "lr", "inf"),
    ("spec-llm-unused", LLM_SWEEP, llm_spec(fixed="logz_lr = 0.5"), "logz_lr", "0.5"),
    ("spec-llm-eval-value", LLM_SWEEP, llm_spec("[eval]\nk = 0\n"), "k", "0"),
    ("spec-llm-eval-key", LLM_SWEEP, llm_spec("[eval]\nkk = 3\n"), "kk", "'kk'"),
    ("spec-llm-gpus", LLM_SWEEP, llm_spec(head="gpus_per_cell = 5\n"), "gpus_per_cell", "5"),
    ("sweep-gpus-bandit", [*SWEEP, "--gpus-per-cell", "0.5"], spec(), "--gpus-per-cell", "0.5"),
    ("sweep-gpus-range", [*LLM_SWEEP, "--executor", "ray", "--gpus-per-cell", "2"], llm_spec(), "--gpus-per-cell", "2"),
    ("sweep-executor", [*SWEEP, "--executor", "dask"], spec(), "executor", "'dask'"),
    ("sweep-workers", [*SWEEP, "--workers", "0"], spec(), "--workers", "0"),
    ("sweep-results-file", ["sweep", "{tmp}/bad.toml", "--results", "{tmp}/file"], spec(), "--results", "{tmp}/file"),
    ("sweep-repair-value", [*SWEEP, "--repair=yes"], spec(), "--repair", "'yes'"),
    # plot, report, figures
    ("plot-not-results", ["plot", "{tmp}/nothere"], {}, "results directory", "{tmp}/nothere"),
    ("plot-out-file", ["plot", "{tmp}/results", "--out", "{tmp}/file"], {}, "--out", "{tmp}/file"),
    (
        "plot-out-under-file",
        ["plot", "{tmp}/results", "--out", "{tmp}/file/figures"],
        {},
        "--out",
        "{tmp}/file/figures",
    ),
    (
        "plot-out-and-paper",
        ["plot", "{tmp}/results", "--out", "{tmp}/figures", "--paper"],
        {},
        "--paper",
        "{tmp}/figures",
    ),
    ("plot-skip-bad-value", ["plot", "{tmp}/results", "--skip-bad=3"], {}, "--skip-bad", "'3'"),
    ("report-not-results", ["report", "{tmp}/nothere"], {}, "results directory", "{tmp}/nothere"),
    ("report-reference-dir", ["report", "{tmp}/results", "--save-reference", "{tmp}"], {}, "--save-reference", "{tmp}"),
    (
        "report-reference-under-file",
        ["report", "{tmp}/results", "--save-reference", "{tmp}/file/ref.csv"],
        {},
        "--save-reference",
        "{tmp}/file",
    ),
    (
        "figures-experiments-missing",
        ["figures", "--experiments", "{tmp}/nothere"],
        {},
        "--experiments",
        "{tmp}/nothere",
    ),
    ("figures-experiments-empty", ["figures", "--experiments", "{tmp}/evals"], {}, "--experiments", "{tmp}/evals"),
    (
        "figures-out-file",
        ["figures", "--experiments", "{tmp}/specs", "--out", "{tmp}/file", "--no-run"],
        {"specs/tiny.toml": TINY_SPEC},
        "--out",
        "{tmp}/file",
    ),
    (
        "figures-bad-spec",
        ["figures", "--experiments", "{tmp}/specs", "--no-run"],
        {"specs/tiny.toml": TINY_SPEC.replace("steps = 120", "steps = -5")},
        "steps",
        "-5",
    ),
    (
        "figures-workers",
        ["figures", "--experiments", "{tmp}/specs", "--workers", "0"],
        {"specs/tiny.toml": TINY_SPEC},
        "--workers",
        "0",
    ),
    ("losses-unknown-flag", ["losses", "--all"], {}, "--all", "--all"),
    ("claims-out-file", ["claims", "--results", "{tmp}/results", "--out", "{tmp}/file"], {}, "--out", "{tmp}/file"),
    ("claims-workers", ["claims", "--results", "{tmp}/results", "--workers", "0"], {}, "--workers", "0"),
    ("claims-run-value", ["claims", "--run=yes"], {}, "--run", "'yes'"),
    # issue 24: nothing lost, nothing silent. Results that a command would replace or misstate
    (
        "claims-results-missing",
        ["claims", "--results", "{tmp}/nothere", "--out", "{tmp}/x"],
        {},
        "--results",
        "nothere",
    ),
    ("claims-replaces-measured", [*CLAIMS, "--out", "{tmp}/ledger"], LEDGER, "--out", "bandit_recovery"),
    ("claims-workers-without-run", [*CLAIMS, "--workers", "2"], {}, "--workers", "2"),
    ("eval-out-training-run", ["llm", "eval", "tiny", "--out", "{tmp}/trained"], TRAINED, "--out", "llm_train"),
    (
        "train-out-evaluation",
        ["llm", "train", "--model", "tiny", "--out", "{tmp}/evaluated"],
        EVALUATED,
        "--out",
        "llm_eval",
    ),
    ("run-out-other-run", ["run", "bandit", "--steps", "7", "--out", "{tmp}/finished"], FINISHED, "--out", "steps"),
    (
        "run-out-other-seeds",
        ["run", "bandit", "--steps", "5", "--seeds", "2", "--out", "{tmp}/finished"],
        FINISHED,
        "--out",
        "seeds",
    ),
    ("run-out-sweep", ["run", "bandit", "--out", "{tmp}/results"], {}, "--out", "sweep.json"),
    ("table-same-directory-twice", ["llm", "table", "{tmp}/evals", "{tmp}/evals"], {}, "given twice", "{tmp}/evals"),
    # ... options given twice (click would keep the last silently)
    ("steps-twice", ["run", "bandit", "--steps", "3", "--steps", "4"], {}, "--steps", "--steps 4"),
    ("option-key-twice", ["run", "bandit", "-o", "u_clip=2", "-o", "u_clip=3"], {}, "u_clip", "u_clip=3"),
    ("env-option-key-twice", ["run", "bandit", "-e", "n_arms=3", "-e", "n_arms=4"], {}, "n_arms", "n_arms=4"),
    ("set-key-twice", ["run", "bandit", "-s", "steps=2", "-s", "steps=3"], {}, "steps", "steps=3"),
    ("flag-and-negation", ["run", "bandit", "--progress", "--no-progress"], {}, "--no-progress", "--progress"),
    ("seeds-twice", ["run", "bandit", "--seeds=2", "--seeds=3"], {}, "--seeds", "--seeds 3"),
    ("sweep-results-twice", [*SWEEP, "--results", "{tmp}/other"], spec(), "--results", "{tmp}/other"),
    ("train-out-twice", [*TRAIN, "--out", "{tmp}/run2"], {}, "--out", "{tmp}/run2"),
    ("eval-k-twice", [*EVAL, "--k", "2", "--k", "3"], {}, "--k", "--k 3"),
    ("claims-out-twice", [*CLAIMS, "--out", "{tmp}/a", "--out", "{tmp}/b"], {}, "--out", "{tmp}/b"),
    # ... empty paths (they would mean the current directory)
    ("out-empty", ["run", "bandit", "--out", ""], {}, "--out", "''"),
    ("sweep-results-empty", ["sweep", "{tmp}/bad.toml", "--results="], spec(), "--results", "''"),
    ("claims-out-empty", [*CLAIMS, "--out", " "], {}, "--out", "' '"),
    ("plot-out-empty", ["plot", "{tmp}/results", "--out", ""], {}, "--out", "''"),
    ("eval-out-empty", ["llm", "eval", "tiny", "--out", ""], {}, "--out", "''"),
    ("table-out-empty", ["llm", "table", "{tmp}/evals", "--out", ""], {}, "--out", "''"),
    ("figures-results-empty", ["figures", "--results", ""], {}, "--results", "''"),
    ("report-reference-empty", ["report", "{tmp}/results", "--save-reference", ""], {}, "--save-reference", "''"),
    # ... bounds: a value that would overflow, hang or train to garbage
    ("lr-huge", ["run", "bandit", "--lr", "1e30"], {}, "lr", "1e+30"),
    ("logz-lr-huge", ["run", "bandit", "--method", "flowrl", "--logz-lr", "1e4"], {}, "logz_lr", "10000"),
    ("init-std-huge", ["run", "bandit", "--init-std", "1e5"], {}, "init_std", "100000"),
    ("inner-epochs-huge", ["run", "bandit", "--inner-epochs", "1e9"], {}, "inner_epochs", "1000000000"),
    ("steps-huge", ["run", "bandit", "--steps", "1e8", "--log-interval", "1e7"], {}, "steps", "100000000"),
    ("spec-lr-huge", SWEEP, spec("lr = 1e30"), "lr", "1e+30"),
    ("train-lr-huge", [*TRAIN, "--lr", "2"], {}, "lr", "2"),
    ("train-logz-lr-huge", [*TRAIN, "--method", "flowrl", "--logz-lr", "1e3"], {}, "logz_lr", "1000"),
    ("train-inner-epochs-huge", [*TRAIN, "--inner-epochs", "1e9"], {}, "inner_epochs", "1000000000"),
    ("train-steps-huge", [*TRAIN, "--steps", "1e7"], {}, "steps", "10000000"),
    ("train-grad-clip-huge", [*TRAIN, "--grad-clip", "1e9"], {}, "grad_clip", "1000000000"),
    ("train-threads-huge", [*TRAIN, "--threads", "100000"], {}, "--threads", "100000"),
    ("eval-threads-huge", [*EVAL, "--threads", "5000"], {}, "--threads", "5000"),
    ("train-checkpoint-every-zero", [*TRAIN, "--checkpoint-every", "0"], {}, "checkpoint_every", "0"),
    ("train-curve-every-negative", [*TRAIN, "--curve-every", "-1"], {}, "curve.every", "-1"),
    ("train-train-prompts-zero", [*TRAIN, "--train-prompts", "0"], {}, "train_prompts", "0"),
    ("train-split-seed-negative", [*TRAIN, "--split-seed", "-1"], {}, "split_seed", "-1"),
    ("train-dynamic-sampling-text", [*TRAIN, "--dynamic-sampling", "maybe"], {}, "dynamic_sampling", "'maybe'"),
    ("eval-max-new-tokens-zero", [*EVAL, "--max-new-tokens", "0"], {}, "max_new_tokens", "0"),
    ("eval-seed-negative", [*EVAL, "--seed", "-1"], {}, "seed", "-1"),
    ("eval-prompts-text", [*EVAL, "--prompts", "abc"], {}, "prompts", "'abc'"),
    (
        "sweep-gpus-text",
        [*LLM_SWEEP, "--executor", "ray", "--gpus-per-cell", "abc"],
        llm_spec(),
        "--gpus-per-cell",
        "'abc'",
    ),
    ("run-dynamic-sampling-exact", ["run", "bandit", "--dynamic-sampling", "true"], {}, "dynamic_sampling", "exact"),
    ("train-embeddings-text", [*TRAIN, "--train-embeddings", "3"], {}, "train_embeddings", "3"),
    ("train-curve-prompts-zero", [*TRAIN, "--curve-every", "2", "--curve-prompts", "0"], {}, "curve.prompts", "0"),
    (
        "train-curve-tokens-zero",
        [*TRAIN, "--curve-every", "2", "--curve-max-new-tokens", "0"],
        {},
        "curve.max_new_tokens",
        "0",
    ),
    ("eval-config-latin-1", [*EVAL, "--config", "{tmp}/c.toml"], {"c.toml": b"k = 2 # \xe9"}, "c.toml", "offset 8"),
    ("eval-set-unknown", [*EVAL, "-s", "kk=3"], {}, "kk", "'kk'"),
    ("plot-force-value", ["plot", "{tmp}/results", "--force=2"], {}, "--force", "'2'"),
    ("report-skip-bad-value", ["report", "{tmp}/results", "--skip-bad=no"], {}, "--skip-bad", "'no'"),
    ("report-force-without-reference", ["report", "{tmp}/results", "--force"], {}, "--force", "--save-reference"),
    ("claims-skip-bad-value", [*CLAIMS, "--skip-bad=1"], {}, "--skip-bad", "'1'"),
    ("claims-force-value", [*CLAIMS, "--force=yes"], {}, "--force", "'yes'"),
    ("claims-keep-unrun-and-force", [*CLAIMS, "--keep-unrun", "--force"], {}, "--keep-unrun", "--force"),
    (
        "claims-keep-unrun-no-ledger",
        [*CLAIMS, "--keep-unrun", "--out", "{tmp}/empty"],
        {},
        "--keep-unrun",
        "claims.json",
    ),
    ("figures-paper-value", ["figures", "--paper=yes"], {}, "--paper", "'yes'"),
    ("figures-force-value", ["figures", "--force=0"], {}, "--force", "'0'"),
    ("table-force-value", ["llm", "table", "{tmp}/evals", "--force=x"], {}, "--force", "'x'"),
    ("table-force-printing-only", ["llm", "table", "{tmp}/evals", "--force"], {}, "--force", "--out or --paper"),
    ("table-skip-bad-value", ["llm", "table", "{tmp}/evals", "--skip-bad=x"], {}, "--skip-bad", "'x'"),
    ("pretrain-threads-zero", [*PRETRAIN, "--threads", "0"], {}, "--threads", "0"),
    ("pretrain-config-latin-1", [*PRETRAIN, "--config", "{tmp}/c.toml"], {"c.toml": b"\xe9"}, "c.toml", "offset 0"),
    ("pretrain-hidden-size-zero", [*PRETRAIN, "--hidden-size", "0"], {}, "hidden_size", "0"),
    ("pretrain-layers-zero", [*PRETRAIN, "--layers", "0"], {}, "layers", "0"),
    ("pretrain-heads-indivisible", [*PRETRAIN, "--heads", "5"], {}, "heads", "5"),
    ("pretrain-batch-size-zero", [*PRETRAIN, "--batch-size", "0"], {}, "batch_size", "0"),
    ("pretrain-lr-huge", [*PRETRAIN, "--lr", "1e30"], {}, "lr", "1e+30"),
    ("pretrain-steps-huge", ["llm", "pretrain", "--steps", "1e12"], {}, "steps", "1000000000000"),
    ("pretrain-warmup-negative", [*PRETRAIN, "--warmup", "-1"], {}, "warmup", "-1"),
    ("pretrain-final-lr-ratio", [*PRETRAIN, "--final-lr-ratio", "2"], {}, "final_lr_ratio", "2"),
    ("pretrain-weight-decay", [*PRETRAIN, "--weight-decay", "-1"], {}, "weight_decay", "-1"),
    ("pretrain-grad-clip-zero", [*PRETRAIN, "--grad-clip", "0"], {}, "grad_clip", "0"),
    ("pretrain-seed-negative", [*PRETRAIN, "--seed", "-1"], {}, "seed", "-1"),
    ("pretrain-split-seed-negative", [*PRETRAIN, "--split-seed", "-1"], {}, "split_seed", "-1"),
    ("pretrain-eval-prompts-zero", [*PRETRAIN, "--eval-prompts", "0"], {}, "eval_prompts", "0"),
    ("pretrain-check-samples-negative", [*PRETRAIN, "--check-samples", "-1"], {}, "check_samples", "-1"),
    ("exact-threads-zero", [*EXACT, "--threads", "0"], {}, "--threads", "0"),
    ("exact-config-latin-1", [*EXACT, "--config", "{tmp}/c.toml"], {"c.toml": b"\xe9"}, "c.toml", "offset 0"),
    ("exact-set-prompts-zero", [*EXACT, "-s", "prompts=0"], {}, "prompts", "0"),
    ("exact-prompts-zero", [*EXACT, "--prompts", "0"], {}, "prompts", "0"),
    ("exact-samples-negative", [*EXACT, "--samples", "-1"], {}, "samples", "-1"),
    ("exact-check-prompts-negative", [*EXACT, "--check-prompts", "-1"], {}, "check_prompts", "-1"),
    ("exact-seed-negative", [*EXACT, "--seed", "-1"], {}, "seed", "-1"),
    ("exact-split-seed-negative", [*EXACT, "--split-seed", "-1"], {}, "split_seed", "-1"),
    ("exact-out-training-run", ["llm", "exact", "minilm", "--out", "{tmp}/trained"], TRAINED, "--out", "llm_train"),
    # ... options that do nothing in the chosen mode
    ("sweep-ray-address-local", [*SWEEP, "--ray-address", "auto"], spec(), "--ray-address", "'auto'"),
    (
        "sweep-workers-with-address",
        [*SWEEP, "--executor", "ray", "--ray-address", "auto", "--workers", "2"],
        spec(),
        "--workers",
        "2",
    ),
    ("sweep-repair-with-force", [*SWEEP, "--repair", "--force"], spec(), "--repair", "--force"),
    (
        "figures-workers-no-run",
        ["figures", "--experiments", "{tmp}/specs", "--no-run", "--workers", "2"],
        {"specs/tiny.toml": TINY_SPEC},
        "--workers",
        "2",
    ),
    # ... files that are not UTF-8 (one Latin-1 byte): the file and the byte offset
    (
        "spec-latin-1",
        SWEEP,
        {"bad.toml": b"seeds = 2\n# caf\xe9\n[fixed]\nsteps = 10\n[axes]\nmethod = ['lad']\n"},
        "bad.toml",
        "offset 15",
    ),
    (
        "config-latin-1",
        ["run", "bandit", "--config", "{tmp}/c.toml"],
        {"c.toml": b"steps = 5 # \xe9\n"},
        "c.toml",
        "offset 12",
    ),
    ("train-config-latin-1", [*TRAIN, "--config", "{tmp}/c.toml"], {"c.toml": b"\xff"}, "c.toml", "offset 0"),
    # llm train
    ("train-lr-infinite", [*TRAIN, "--lr", "1e400"], {}, "lr", "inf"),
    ("train-steps-zero", [*TRAIN, "--steps", "0"], {}, "steps", "0"),
    ("train-group-size-one", [*TRAIN, "--group-size", "1"], {}, "group_size", "1"),
    ("train-prompts-per-step", [*TRAIN, "--prompts-per-step", "300"], {}, "prompts_per_step", "300"),
    ("train-eval-only-task", [*TRAIN, "--task", "humaneval"], {}, "task", "'humaneval'"),
    ("train-task-unknown", [*TRAIN, "--task", "nope"], {}, "task", "'nope'"),
    ("train-task-list", [*TRAIN, "--task", "[1, 2]"], {}, "task", "[1, 2]"),
    ("train-divergence-unknown", [*TRAIN, "--divergence", "l2"], {}, "divergence", "'l2'"),
    ("train-divergence-grpo", [*TRAIN, "--method", "grpo", "--divergence", "kl"], {}, "divergence", "'kl'"),
    ("train-logz-lr-lad", [*TRAIN, "--logz-lr", "0.1"], {}, "logz_lr", "0.1"),
    ("train-option-infinite", [*TRAIN, "--method", "flowrl", "-o", "beta=Infinity"], {}, "beta", "inf"),
    ("train-threads-negative", [*TRAIN, "--threads", "-1"], {}, "--threads", "-1"),
    ("train-threads-text", [*TRAIN, "--threads", "abc"], {}, "--threads", "'abc'"),
    ("train-trainable-layers-zero", [*TRAIN, "--trainable-layers", "0"], {}, "trainable_layers", "0"),
    ("train-seed-negative", [*TRAIN, "--seed", "-1"], {}, "seed", "-1"),
    ("train-seed-overflow", [*TRAIN, "--seed", "100000000000000000000000"], {}, "seed", "100000000000000000000000"),
    ("eval-split-seed-overflow", [*EVAL, "--split-seed", "4294967296"], {}, "split_seed", "4294967296"),
    ("train-max-new-tokens-zero", [*TRAIN, "--max-new-tokens", "0"], {}, "max_new_tokens", "0"),
    ("train-advantage-unknown", [*TRAIN, "--advantage", "nope"], {}, "advantage", "'nope'"),
    ("train-set-loss-eta", [*TRAIN, "-s", "loss.eta=-1"], {}, "eta", "-1"),
    ("train-device-unknown", [*TRAIN, "--device", "tpu"], {}, "device", "'tpu'"),
    ("train-dtype-unknown", [*TRAIN, "--dtype", "float8"], {}, "dtype", "'float8'"),
    ("train-out-file", ["llm", "train", "--out", "{tmp}/file", "--model", "tiny"], {}, "--out", "{tmp}/file"),
    ("train-out-missing", ["llm", "train", "--model", "tiny"], {}, "--out", None),
    ("train-prompts-memory", [*TRAIN, "--train-prompts", "100000000000"], {}, "--train-prompts", "100000000000"),
    # llm eval, llm table
    ("eval-k-zero", [*EVAL, "--k", "0"], {}, "k", "0"),
    ("eval-prompts-zero", [*EVAL, "--prompts", "0"], {}, "prompts", "0"),
    ("eval-task-unknown", [*EVAL, "--task", "nope"], {}, "task", "'nope'"),
    ("eval-batch-prompts-zero", [*EVAL, "--batch-prompts", "0"], {}, "batch_prompts", "0"),
    ("eval-threads-zero", [*EVAL, "--threads", "0"], {}, "--threads", "0"),
    ("eval-device-unknown", [*EVAL, "--device", "cuda:x"], {}, "device", "'cuda:x'"),
    ("eval-dtype-unknown", [*EVAL, "--dtype", "half"], {}, "dtype", "'half'"),
    ("eval-base-eval-missing", [*EVAL, "--base-eval", "{tmp}/nothere"], {}, "--base-eval", "{tmp}/nothere"),
    ("eval-out-file", ["llm", "eval", "tiny", "--out", "{tmp}/file"], {}, "--out", "{tmp}/file"),
    ("table-not-eval", ["llm", "table", "{tmp}/nothere"], {}, "manifest.json", "{tmp}/nothere"),
    ("table-out-file", ["llm", "table", "{tmp}/evals", "--out", "{tmp}/file"], {}, "--out", "{tmp}/file"),
    ("table-missing-argument", ["llm", "table"], {}, "paths", None),
    ("table-out-and-paper", ["llm", "table", "{tmp}/evals", "--out", "{tmp}/x", "--paper"], {}, "--paper", "{tmp}/x"),
    ("train-curve-k-without-curves", [*TRAIN, "--curve-k", "4"], {}, "curve.k", "without curve.every"),
    ("train-curve-task-unknown", [*TRAIN, "--curve-every", "2", "--curve-task", "nope"], {}, "task", "'nope'"),
    # llm pretrain, llm exact (the mini-LM track)
    ("pretrain-prior-negative", [*PRETRAIN, "-C", "prior_exponent=-1"], {}, "prior_exponent", "-1"),
    ("pretrain-error-rate-one", [*PRETRAIN, "-C", "bare_error=1"], {}, "bare_error", "1"),
    ("pretrain-error-rate-negative", [*PRETRAIN, "-s", "corpus_options.worked_error=-0.1"], {}, "worked_error", "-0.1"),
    ("pretrain-corpus-unknown", [*PRETRAIN, "--corpus", "chain_sum"], {}, "corpus", "'chain_sum'"),
    ("pretrain-cache-unwritable", [*PRETRAIN, "--cache", "{tmp}/file/minilm"], {}, "--cache", "{tmp}/file/minilm"),
    ("exact-task-not-enumerable", [*EXACT, "--task", "basic_arithmetic"], {}, "task", "'basic_arithmetic'"),
    (
        "exact-checkpoint-hash",
        ["llm", "exact", "{tmp}/ckpt", "--out", "{tmp}/exact"],
        MINILM_CHECKPOINT,
        "hash",
        "{tmp}/ckpt",
    ),
]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """``{tmp}``: a plain file, a sweep's results directory (record and spec only), an empty directory."""
    (tmp_path / "file").write_text("a file, not a directory")
    results = tmp_path / "results"
    results.mkdir()
    (results / "spec.toml").write_text(TINY_SPEC)
    (results / "sweep.json").write_text(json.dumps({"name": "tiny"}))
    (tmp_path / "evals").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("arguments,files,option,value", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_naming_option_and_value(workspace, arguments, files, option, value):
    for name, text in files.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            (workspace / name).write_bytes(text)
        else:
            (workspace / name).write_text(text)
    result = runner.invoke(app, [argument.replace("{tmp}", str(workspace)) for argument in arguments])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ladbench: error: "), result.stderr
    assert option in lines[0] or option.replace("_", "-") in lines[0], lines[0]
    if value is not None:
        assert value.replace("{tmp}", str(workspace)) in lines[0], lines[0]


def test_the_table_is_large_and_covers_every_command():
    commands = {
        " ".join(arguments[:2]) if arguments[0] in ("run", "llm") else arguments[0] for _, arguments, *_ in CASES
    }
    assert len(CASES) >= 282
    assert commands == {
        "run bandit",
        "sweep",
        "plot",
        "report",
        "figures",
        "claims",
        "losses",
        "llm train",
        "llm eval",
        "llm table",
        "llm pretrain",
        "llm exact",
    }


def _commands(command, path=()):
    """(name, click command) of every leaf command of ``command``."""
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def test_every_option_of_every_command_has_a_bad_input():
    """A new option needs a row here: each option of each command is given a bad value (or is the
    one the case is about) in at least one case."""
    import typer

    named: dict[str, set[str]] = {}
    for _, arguments, _, option, _ in CASES:
        command = " ".join(arguments[:2]) if arguments[0] in ("run", "llm") else arguments[0]
        given = {argument.split("=")[0] for argument in arguments if argument.startswith("-")}
        named.setdefault(command, set()).update(given | {"--" + option.replace("_", "-")})
    missing = [
        f"{name} {parameter.opts[0]}"
        for name, command in _commands(typer.main.get_command(app))
        for parameter in command.params
        if parameter.param_type_name == "option"
        and "--help" not in parameter.opts
        and not {*parameter.opts, *parameter.secondary_opts} & named.get(name, set())
    ]
    assert not missing, missing


@pytest.mark.parametrize("document", ["README.md", "docs/reliability.md"])
def test_the_documentation_states_the_count(document):
    from pathlib import Path

    assert f"{len(CASES)} bad inputs" in (Path(__file__).parents[1] / document).read_text()
