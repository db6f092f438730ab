"""One interrupt policy for every long command: SIGINT (Ctrl-C) mid-work prints one line saying
what was kept and how to resume, exits with status 130 with no traceback, and leaves on disk a
complete result or one that ``ladbench.results.load`` reports as interrupted, never as damage.

Each test sends a real SIGINT to this process from inside the command's work (``signal.raise_signal``
in a patched step), with tiny configurations.
"""

from __future__ import annotations

import json
import shlex
import signal

import pytest
from llm_helpers import TINY_RUN
from sweep_helpers import TINY_SPEC, write_spec
from typer.testing import CliRunner

from ladbench import results
from ladbench.cli import app
from ladbench.errors import UserError

SMALL_SPEC = TINY_SPEC.replace("seeds = 3", "seeds = 1").replace("steps = 120", "steps = 20")
SMALL_SPEC = SMALL_SPEC.replace("eta = [0.5, 2.0]", "eta = [0.5]").replace('hue = "eta"', 'hue = "method"')
SMALL_SPEC = SMALL_SPEC.replace('where = { method = "lad" }', "where = {}")


def sigint_after(monkeypatch, owner, name: str, calls: int = 0) -> None:
    """Send SIGINT to this process when ``owner.name`` is called the ``calls + 1``-th time, after the call."""
    original, count = getattr(owner, name), iter(range(calls))

    def patched(*arguments, **keywords):
        value = original(*arguments, **keywords)
        if next(count, None) is None:
            signal.raise_signal(signal.SIGINT)
        return value

    monkeypatch.setattr(owner, name, patched)


def interrupted(arguments: list[str]) -> str:
    """Run the command, assert the policy (exit 130, one line, no traceback); return the line."""
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 130, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ladbench: interrupted: "), result.stderr
    assert shlex.join(["ladbench", *arguments]) in lines[0], lines[0]  # how to resume: the same command
    return lines[0]


def test_run_bandit(tmp_path, monkeypatch):
    from ladbench.bandit.engine import TabularEngine

    sigint_after(monkeypatch, TabularEngine, "update", 5)
    out = tmp_path / "run"
    line = interrupted(["run", "bandit", "--steps", "50", "--seeds", "1", "--no-progress", "--out", str(out)])
    assert "at step 5 of 50, nothing written; rerun:" in line  # the 6th update, interrupted
    assert not out.exists()


def test_sweep_keeps_its_finished_cells_and_resumes(tmp_path, monkeypatch):
    from ladbench.sweep import store

    spec = write_spec(tmp_path, SMALL_SPEC)
    sigint_after(monkeypatch, store, "write_cell")  # after the first cell is written
    arguments = ["sweep", str(spec), "--results", str(tmp_path / "out"), "--workers", "1", "--no-progress"]
    line = interrupted(arguments)
    assert "1 of 2 cells finished in" in line and "resume with:" in line
    loaded = results.load(tmp_path / "out" / "tiny")
    assert len(loaded.cells) == 1 and len(loaded.missing) == 1  # the finished cell reads; the other is unfinished
    monkeypatch.undo()
    again = CliRunner().invoke(app, arguments)
    assert again.exit_code == 0 and "ran 1 cells, skipped 1 finished" in again.stdout, again.output
    assert not results.load(tmp_path / "out" / "tiny").missing


def test_figures_and_claims(tmp_path, monkeypatch):
    import ladbench.claims.ledger
    import ladbench.figures.paper

    experiments = tmp_path / "specs"
    experiments.mkdir()
    write_spec(experiments, SMALL_SPEC, "tiny.toml")
    sigint_after(monkeypatch, ladbench.figures.paper, "plot_sweep")
    arguments = ["figures", "--experiments", str(experiments), "--results", str(tmp_path / "out"), "--workers", "1"]
    line = interrupted(arguments)
    assert "keeps its finished cells under" in line and "figures and reports of tiny written" not in line
    assert results.load(tmp_path / "out" / "tiny").missing == []  # the sweep had finished: complete

    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "claims.json").write_text('{"claims": []}')
    sigint_after(monkeypatch, ladbench.claims.ledger, "build_ledger")
    line = interrupted(["claims", "--results", str(tmp_path / "out"), "--out", str(tmp_path / "ledger")])
    assert "the ledger in" in line and "is unchanged" in line
    assert (tmp_path / "ledger" / "claims.json").read_text() == '{"claims": []}'
    assert not (tmp_path / "ledger" / "CLAIMS.md").exists()


TRAIN = [
    "llm",
    "train",
    *(f"--{key.replace('_', '-')}={value}" for key, value in TINY_RUN.items()),
    "--steps=3",
    "--device=cpu",
]


def test_llm_train_keeps_its_checkpoint_and_load_says_interrupted(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from ladbench.llm import trainer

    out = tmp_path / "run"
    sigint_after(monkeypatch, trainer, "_write_manifest", 1)  # after the manifest of step 1's checkpoint
    arguments = [*TRAIN, "--out", str(out)]
    line = interrupted(arguments)
    assert f"the checkpoint of step 1 of 3 in {out}; resume with:" in line
    # (run from the command line, the manifest's command is the one to repeat: `ladbench llm train ...`)
    with pytest.raises(UserError, match=r"interrupted at step 1 of 3; resume with: ladbench llm train --out"):
        results.load(out)
    monkeypatch.undo()
    resumed = CliRunner().invoke(app, arguments)
    assert resumed.exit_code == 0, resumed.output
    assert len(results.load(out).curves) == 3


def test_llm_eval_writes_nothing(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from ladbench.llm import evaluate

    sigint_after(monkeypatch, evaluate, "sample")
    out = tmp_path / "eval"
    arguments = ["llm", "eval", "tiny", "--task", "between", "--k", "2", "--prompts", "2", "--device", "cpu"]
    line = interrupted([*arguments, "--max-new-tokens", "4", "--out", str(out)])
    assert f"nothing written to {out}" in line and "; rerun:" in line
    assert not (out / "manifest.json").exists()


def test_a_command_without_words_of_its_own_still_exits_130(tmp_path, monkeypatch):
    """The fallback of the command group: any long work interrupted is one line and exit 130."""
    import ladbench.report

    spec = write_spec(tmp_path, SMALL_SPEC)
    assert CliRunner().invoke(app, ["sweep", str(spec), "--results", str(tmp_path), "--workers", "1"]).exit_code == 0
    sigint_after(monkeypatch, ladbench.report, "build_report")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "tiny")])
    assert result.exit_code == 130 and result.stderr.strip().startswith("ladbench: interrupted:"), result.output
    assert json.loads((tmp_path / "tiny" / "sweep.json").read_text())["name"] == "tiny"


def test_llm_pretrain_caches_nothing(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from ladbench.llm.minilm import pretrain

    sigint_after(monkeypatch, pretrain, "build_model")
    arguments = ["llm", "pretrain", "--hidden-size", "32", "--layers", "2", "--heads", "4", "--steps", "5"]
    line = interrupted([*arguments, "--cache", str(tmp_path / "cache")])
    assert "nothing cached" in line and "; rerun:" in line
    assert not list((tmp_path / "cache").rglob("manifest.json"))
