"""Validation before heavy imports, the checked output writer, protected paper figures, and
settings that do nothing (see also ``test_bad_inputs.py``, the table of bad inputs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_helpers import TINY_SPEC, write_spec
from typer.testing import CliRunner

from ladbench.cli import app
from ladbench.errors import UserError
from ladbench.io import check_output_dir, check_output_file

ROOT = Path(__file__).parents[1]
HEAVY = ("torch", "pandas", "numpy", "matplotlib", "transformers", "reasoning_gym")

# Runs each command line (JSON lists in argv) in this one process, and prints for each its exit
# status and which heavy modules were imported by then.
IN_PROCESS = f"""
import json, sys
from typer.testing import CliRunner
from ladbench.cli import app
for arguments in map(json.loads, sys.argv[1:]):
    result = CliRunner().invoke(app, arguments)
    print(json.dumps([result.exit_code, [m for m in {HEAVY!r} if m in sys.modules], result.stderr.strip()]))
"""


def run_python(code: str, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_validation_errors_come_before_heavy_imports(tmp_path):
    """A typo in a flag, a family option, a spec or an LLM setting, and an impossible size or
    output path, are refused without importing torch, pandas, numpy or matplotlib."""
    (tmp_path / "file").write_text("not a directory")
    write_spec(tmp_path, TINY_SPEC.replace('method = ["lad", "grpo"]', 'method = ["lad", "ppo"]'), "typo.toml")
    write_spec(tmp_path, TINY_SPEC.replace("steps = 120", 'steps = "many"'), "value.toml")
    results = tmp_path / "results"
    results.mkdir()
    write_spec(results, TINY_SPEC)
    (results / "sweep.json").write_text(json.dumps({"name": "tiny"}))
    commands = [
        ["run", "bandit", "--divergence", "l2"],
        ["run", "bandit", "-e", "n_arms=abc"],
        ["run", "bandit", "--refresh-interval", "7"],
        ["run", "bandit", "--seeds", "1000000000"],
        ["run", "bandit", "--out", "file"],
        ["sweep", "typo.toml"],
        ["sweep", "value.toml"],
        ["sweep", "value.toml", "--executor", "dask"],
        ["plot", "results", "--out", "file"],
        ["report", "results", "--save-reference", "."],
        ["llm", "train", "--out", "run", "--lr", "1e400"],
        ["llm", "train", "--out", "run", "--task", "nope"],
        ["llm", "train", "--out", "file"],
        ["llm", "eval", "tiny", "--out", "eval", "--k", "0"],
        ["llm", "table", "file", "--out", "file"],
    ]
    process = run_python(IN_PROCESS, *map(json.dumps, commands), cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    for command, line in zip(commands, process.stdout.splitlines(), strict=True):
        status, heavy, message = json.loads(line)
        assert status == 2 and message.startswith("ladbench: error:"), (command, message)
        assert heavy == [], (command, heavy)


def test_the_bandit_config_and_spec_modules_import_without_torch(tmp_path):
    spec = str(ROOT / "experiments" / "paper_bandit.toml")
    code = (
        "import sys\nfrom ladbench.bandit.config import BanditConfig\nfrom ladbench.sweep.spec import load_spec\n"
        "from ladbench.llm.config import TrainConfig\nfrom ladbench.bandit.memory import estimate\n"
        f"estimate(BanditConfig.build(env='sequence'), 10)\nload_spec({spec!r})\nTrainConfig.build()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    process = run_python(code, cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "[]"


# -- the checked writer ---------------------------------------------------------------------------


def test_check_output_dir_checks_without_creating(tmp_path):
    """The check leaves nothing behind (a run refused later, or interrupted, leaves no empty
    directory); a file in the way, or a file as a parent, is one line naming the option."""
    assert check_output_dir(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"
    assert list(tmp_path.iterdir()) == []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match=r"^--out: cannot write to '.*file': it is a file, not a directory$"):
        check_output_dir(blocker, "--out")
    with pytest.raises(UserError, match=r"^--out: cannot write to '.*file/sub/deeper': a part of the path is a file"):
        check_output_dir(blocker / "sub" / "deeper", "--out")
    with pytest.raises(UserError, match=r"^--save-reference: '.*' is a directory; give a file name$"):
        check_output_file(tmp_path, "--save-reference")
    assert check_output_file(tmp_path / "c" / "ref.csv", "--save-reference") == tmp_path / "c" / "ref.csv"


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root writes into a chmod 0o555 directory anyway; "
    "the read-only filesystem test below covers refused writes as root",
)
def test_check_output_dir_permission_denied(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(UserError, match="Permission denied"):
        check_output_dir(locked / "out", "--out")


def read_only_mount_works(directory: Path) -> bool:
    """Whether ``unshare`` can mount a read-only tmpfs here (a user namespace: works as root and,
    where the kernel allows unprivileged user namespaces, as any user)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", f"mount -t tmpfs -o ro tmpfs {directory} && ! touch {directory}/probe"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def test_a_read_only_filesystem_is_one_line_and_exit_2(tmp_path):
    """`plot --out` and `run bandit --out` into a read-only filesystem (a tmpfs mounted read-only
    in a private mount namespace): one line naming the option and the path, exit status 2."""
    mount = tmp_path / "ro"
    mount.mkdir()
    if not read_only_mount_works(mount):
        pytest.skip("cannot mount a read-only tmpfs here (unshare -Urm not permitted)")
    results = tmp_path / "results"
    results.mkdir()
    write_spec(results, TINY_SPEC)
    (results / "sweep.json").write_text(json.dumps({"name": "tiny"}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    script = (
        f"mount -t tmpfs -o ro tmpfs {mount} && "
        f"{sys.executable} -m ladbench.cli plot {results} --out {mount}/figures; echo status=$?; "
        f"{sys.executable} -m ladbench.cli run bandit --steps 5 --out {mount}/run; echo status=$?"
    )
    process = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert process.stdout.split() == ["status=2", "status=2"], process.stderr
    lines = process.stderr.strip().splitlines()
    assert lines == [
        f"ladbench: error: --out: cannot write to '{mount}/figures': Read-only file system",
        f"ladbench: error: --out: cannot write to '{mount}/run': Read-only file system",
    ]


# -- figures: results directory by default, paper_figures protected ------------------------------


def invoke(*arguments) -> object:
    return CliRunner().invoke(app, list(map(str, arguments)))


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("paper")
    outcome = invoke("sweep", write_spec(root), "--results", root / "results", "--workers", 1, "--no-progress")
    assert outcome.exit_code == 0, outcome.output
    return root / "results" / "tiny"


FIGURE_FILES = {f"tiny_{name}.{suffix}" for name in ("recovery", "curves") for suffix in ("png", "pdf")}


def test_plot_draws_into_the_results_directory_by_default(swept):
    outcome = invoke("plot", swept)
    assert outcome.exit_code == 0, outcome.output
    assert {path.name for path in (swept / "figures").iterdir()} == FIGURE_FILES


def paper_directory(cwd: Path, recorded_spec: str | None) -> Path:
    """``cwd/paper_figures`` holding shipped-looking figures of 'tiny' and, unless None, its record."""
    paper = cwd / "paper_figures"
    (paper / "specs").mkdir(parents=True)
    for name in FIGURE_FILES:
        (paper / name).write_bytes(b"shipped")
    if recorded_spec is not None:
        (paper / "specs" / "tiny.toml").write_text(recorded_spec)
    return paper


def test_paper_figures_from_a_different_spec_are_refused_unless_forced(swept, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paper = paper_directory(tmp_path, TINY_SPEC.replace("init_std = 0.1", "init_std = 0.2"))
    refused = invoke("plot", swept, "--paper")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert refused.stderr.startswith("ladbench: error: --paper 'paper_figures': tiny_")
    assert "drawn from a different spec" in refused.stderr and "--force" in refused.stderr
    assert {(paper / name).read_bytes() for name in FIGURE_FILES} == {b"shipped"}  # nothing drawn
    forced = invoke("plot", swept, "--paper", "--force")
    assert forced.exit_code == 0, forced.output
    assert all((paper / name).read_bytes() != b"shipped" for name in FIGURE_FILES)
    assert (paper / "specs" / "tiny.toml").read_text() == TINY_SPEC  # the record follows the figures


def test_paper_figures_from_the_same_spec_are_redrawn(swept, tmp_path, monkeypatch):
    """The same settings with other comments and layout count as the same spec."""
    monkeypatch.chdir(tmp_path)
    paper = paper_directory(tmp_path, "# shipped\n" + TINY_SPEC.replace(" = ", "="))
    outcome = invoke("plot", swept, "--out", "paper_figures")
    assert outcome.exit_code == 0, outcome.output
    assert all((paper / name).read_bytes() != b"shipped" for name in FIGURE_FILES)


def test_figures_without_a_record_are_refused_and_figures_checks_before_running(swept, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paper_directory(tmp_path, None)
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    write_spec(experiments, TINY_SPEC, "tiny.toml")
    outcome = invoke("figures", "--experiments", experiments, "--results", swept.parent, "--paper", "--no-run")
    assert outcome.exit_code == 2 and "a spec it has no record of" in outcome.stderr


def test_figures_draws_into_each_results_directory_by_default(swept, tmp_path):
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    write_spec(experiments, TINY_SPEC, "tiny.toml")
    shutil.rmtree(swept / "figures", ignore_errors=True)
    outcome = invoke("figures", "--experiments", experiments, "--results", swept.parent, "--no-run")
    assert outcome.exit_code == 0, outcome.output
    assert {path.name for path in (swept / "figures").iterdir()} == FIGURE_FILES
    assert not (tmp_path / "paper_figures").exists()


def test_the_shipped_paper_figures_have_their_specs_recorded():
    """Each shipped spec's figures in paper_figures/ come with the spec they were drawn from."""
    for spec in sorted((ROOT / "experiments").glob("*.toml")):
        if any((ROOT / "paper_figures").glob(f"{spec.stem}_*.png")):
            assert (ROOT / "paper_figures" / "specs" / spec.name).read_text() == spec.read_text(), spec.name


# -- settings that do nothing ---------------------------------------------------------------------


def test_a_sweep_setting_applies_to_the_cells_that_use_it(tmp_path):
    """group_size applies to sampled cells only: crossing it with the estimator gives one exact
    cell (shown with group_size None), not one per group size."""
    from ladbench.sweep.spec import load_spec

    spec = load_spec(
        write_spec(
            tmp_path, 'seeds = 2\n[fixed]\nsteps = 10\n[axes]\nestimator = ["exact", "sampled"]\ngroup_size = [4, 16]\n'
        )
    )
    assert sorted(
        (cell.axes["estimator"], cell.axes["group_size"]) for cell in spec.cells if cell.axes["group_size"]
    ) == [("sampled", 4), ("sampled", 16)]
    exact = [cell for cell in spec.cells if cell.axes["estimator"] == "exact"]
    assert len(exact) == 1 and exact[0].axes["group_size"] is None and exact[0].config.group_size == 8


def test_defaults_are_not_settings_given():
    """BanditConfig's default refresh_interval (1) under the fixed protocol is not an error; a
    value given explicitly, even the default one, is."""
    from ladbench.bandit.config import BanditConfig

    assert BanditConfig.build().refresh_interval == 1
    assert BanditConfig.build(protocol="refresh", refresh_interval=7).refresh_interval == 7
    with pytest.raises(UserError, match="refresh_interval=1 does nothing under the fixed protocol"):
        BanditConfig.build(refresh_interval=1)


@pytest.mark.slow
def test_more_trainable_layers_than_the_model_has_is_refused_after_loading(tmp_path):
    """The tiny model has 2 blocks: 3 is refused in one line once the model is loaded, and the
    refused run leaves no manifest behind (a corrected rerun into the same --out starts afresh)."""
    outcome = invoke(
        "llm",
        "train",
        "--model",
        "tiny",
        "--out",
        tmp_path / "run",
        "--steps",
        "1",
        "--prompts-per-step",
        "2",
        "--group-size",
        "2",
        "--trainable-layers",
        "3",
    )
    assert outcome.exit_code == 2 and "Traceback" not in outcome.output
    assert outcome.stderr.strip() == (
        "ladbench: error: trainable_layers=3 is more than the 2 transformer blocks of "
        "model 'tiny'; give at most 2 (or none: all)"
    )
    assert not (tmp_path / "run" / "manifest.json").exists()


def _ledger(directory: Path, verdicts: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    claims = [{"id": key, "verdict": value, "verdict_kind": value.split(":")[0]} for key, value in verdicts.items()]
    (directory / "claims.json").write_text(json.dumps({"claims": claims}))


def test_claims_keeps_a_measured_ledger_unless_forced(tmp_path):
    """A fresh clone's `ladbench claims` would turn measured rows into "not run": refused, named;
    --force replaces the ledger and lists each changed row; a missing --results is an error."""
    from ladbench.claims.registry import CLAIMS

    (tmp_path / "results").mkdir()
    ledger = tmp_path / "ledger"
    _ledger(ledger, {CLAIMS[0].id: "reproduced", CLAIMS[1].id: "not run: no results"})
    arguments = ["claims", "--results", str(tmp_path / "results"), "--out", str(ledger)]
    refused = CliRunner().invoke(app, arguments)
    assert refused.exit_code == 2 and f"(1: {CLAIMS[0].id})" in refused.stderr, refused.output
    assert not (ledger / "CLAIMS.md").exists()
    forced = CliRunner().invoke(app, [*arguments, "--force"])
    assert forced.exit_code == 0, forced.output
    assert f"changed: {CLAIMS[0].id}: reproduced -> not run" in forced.stdout
    assert f"changed: {CLAIMS[1].id}:" not in forced.stdout  # "not run" before and after
    assert json.loads((ledger / "claims.json").read_text())["claims"][0]["verdict_kind"] == "not run"
    again = CliRunner().invoke(app, arguments)  # nothing measured is lost now: no --force needed
    assert again.exit_code == 0 and "changed:" not in again.stdout, again.output
    missing = CliRunner().invoke(app, ["claims", "--results", str(tmp_path / "typo"), "--out", str(ledger)])
    assert missing.exit_code == 2 and "--results" in missing.stderr and "typo" in missing.stderr


def test_a_finished_run_is_rewritten_only_by_its_own_settings(tmp_path):
    out = tmp_path / "run"
    arguments = ["run", "bandit", "--steps", "20", "--seeds", "2", "--no-progress", "--out", str(out)]
    assert CliRunner().invoke(app, arguments).exit_code == 0
    before = json.loads((out / "manifest.json").read_text())
    assert CliRunner().invoke(app, arguments).exit_code == 0  # the same run again: the same files
    other = CliRunner().invoke(app, [*arguments, "--lr", "0.01"])
    assert other.exit_code == 2 and "different settings (lr)" in other.stderr, other.output
    assert json.loads((out / "manifest.json").read_text())["config"] == before["config"]


def test_an_infinity_in_a_result_is_never_silent(tmp_path):
    """--eta 1e-300 is legal; the reverse KL to its target is inf: written, with a warning naming it."""
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", "bandit", "--eta", "1e-300", "--steps", "20", "--seeds", "1", "--no-progress", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"ladbench: warning: {out / 'summary.csv'}: inf in rkl_target" in result.stderr


def test_a_reference_is_not_shrunk_by_a_partial_sweep(tmp_path):
    """results/reference/ is committed: a report of a sweep with fewer rows does not replace it unless forced."""
    spec = write_spec(tmp_path, TINY_SPEC.replace("steps = 120", "steps = 20"))
    assert CliRunner().invoke(app, ["sweep", str(spec), "--results", str(tmp_path), "--workers", "1"]).exit_code == 0
    reference = tmp_path / "reference.csv"
    reference.write_text("seed,x\n" + "".join(f"{n},0\n" for n in range(100)))
    arguments = ["report", str(tmp_path / "tiny"), "--save-reference", str(reference)]
    refused = CliRunner().invoke(app, arguments)
    assert refused.exit_code == 2 and "has 100 rows, these results 9" in refused.stderr, refused.output
    assert CliRunner().invoke(app, [*arguments, "--force"]).exit_code == 0
    assert len(reference.read_text().splitlines()) == 10  # 3 cells (GRPO has no eta) x 3 seeds, and the header
    assert CliRunner().invoke(app, arguments).exit_code == 0  # as many rows: replaced


def test_progress_bars_stay_off_a_log_file(tmp_path):
    """stderr that is not a terminal (a log file, a pipe) gets no bar and no carriage returns, even
    with --progress; the command ends by naming what it wrote and the next command."""
    spec = write_spec(tmp_path, TINY_SPEC.replace("steps = 120", "steps = 20"))
    result = CliRunner().invoke(app, ["sweep", str(spec), "--results", str(tmp_path), "--workers", "1", "--progress"])
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr and "%|" not in result.stderr
    assert f"wrote {tmp_path / 'tiny'}; next: ladbench report {tmp_path / 'tiny'}" in result.stdout
