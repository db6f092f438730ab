"""The one bandit training loop: progress, Ctrl-C, blocked metrics, the numpy floor, and the
losses' fixed-batch gradients it relies on."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ladbench.bandit import loop
from ladbench.bandit.config import BanditConfig
from ladbench.bandit.engine import RunSettings, TabularEngine, runs_of, train
from ladbench.bandit.loop import PROGRESS_INTERVAL, TrainingInterrupted
from ladbench.bandit.run import run_bandit
from ladbench.cli import app
from ladbench.losses import LossBatch, available_losses, get_loss

ROOT = Path(__file__).resolve().parents[1]
CONTEXTUAL = {"env": "contextual", "env_options": {"contexts": 2, "arms": 8}}


def numpy_floor():
    """benchmarks/numpy_floor.py (benchmarks is not a package)."""
    spec = importlib.util.spec_from_file_location("numpy_floor", ROOT / "benchmarks" / "numpy_floor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fields", [{}, CONTEXTUAL])
def test_progress_is_reported_every_interval_and_at_the_end(fields):
    config = BanditConfig.build(steps=150, **fields)
    reported = []
    train(config, runs_of(config, [0]), reported.append)
    assert reported == [*range(0, 150, PROGRESS_INTERVAL), 150]


def interrupt_at(step: int):
    def progress(done: int) -> None:
        if done == step:
            raise KeyboardInterrupt

    return progress


@pytest.mark.parametrize("fields", [{}, CONTEXTUAL])
def test_ctrl_c_stops_training_and_says_where(fields):
    config = BanditConfig.build(steps=1000, **fields)
    with pytest.raises(TrainingInterrupted) as raised:
        train(config, runs_of(config, [0]), interrupt_at(2 * PROGRESS_INTERVAL))
    assert (raised.value.step, raised.value.steps) == (2 * PROGRESS_INTERVAL, 1000)
    assert isinstance(raised.value, KeyboardInterrupt)  # callers that catch Ctrl-C still do
    copied = pickle.loads(pickle.dumps(raised.value))  # crosses process boundaries (sweep workers)
    step = 2 * PROGRESS_INTERVAL
    assert (copied.step, copied.steps, str(copied)) == (step, 1000, f"interrupted at step {step} of 1000")


def interrupt_updates_after(monkeypatch, calls: int) -> None:
    """Make the tabular engine's update raise KeyboardInterrupt on call ``calls + 1`` (Ctrl-C mid-step)."""
    update, count = TabularEngine.update, iter(range(calls))

    def interrupted(self, batch):
        if next(count, None) is None:
            raise KeyboardInterrupt
        update(self, batch)

    monkeypatch.setattr(TabularEngine, "update", interrupted)


def test_an_interrupted_run_writes_nothing(tmp_path, monkeypatch):
    interrupt_updates_after(monkeypatch, 30)
    with pytest.raises(TrainingInterrupted) as raised:
        run_bandit(BanditConfig.build(steps=200), [0, 1], tmp_path / "run", progress=True)
    assert raised.value.step == 30
    assert not (tmp_path / "run").exists()  # created for the run, removed again: no manifest, no files
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(TrainingInterrupted):
        run_bandit(BanditConfig.build(steps=200), [0], existing)
    assert existing.is_dir() and not any(existing.iterdir())


def test_the_cli_reports_ctrl_c_in_one_line_with_exit_code_130(tmp_path, monkeypatch):
    interrupt_updates_after(monkeypatch, 41)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "bandit", "--steps", "200", "--seeds", "2", "--out", str(out)])
    assert result.exit_code == 130
    assert result.stderr.strip() == (
        f"ladbench: interrupted: at step 41 of 200, nothing written; rerun: ladbench run bandit --steps 200 "
        f"--seeds 2 --out {out}"
    )
    assert "Traceback" not in result.output and not out.exists()


def test_progress_can_be_switched_off_on_the_command_line(tmp_path):
    result = CliRunner().invoke(
        app, ["run", "bandit", "--steps", "20", "--no-progress", "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "manifest.json").exists()


def test_metrics_in_blocks_equal_metrics_per_log(monkeypatch):
    """The loop measures kept policies in blocks; the block size changes no number."""
    config = BanditConfig.build(estimator="sampled", init_std=0.5, steps=200, log_interval=10)
    runs = [RunSettings(0, 5e-3, {"eta": 1.0}), RunSettings(1, 1e-2, {"eta": 0.5})]
    blocked = train(config, runs)
    monkeypatch.setattr(loop, "METRIC_BLOCK", 1)  # one log per block
    per_log = train(config, runs)
    assert blocked.curves.keys() == per_log.curves.keys()
    for name, values in blocked.curves.items():
        assert values.shape == (21, 2)
        np.testing.assert_allclose(values, per_log.curves[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_the_numpy_floor_computes_what_the_engine_computes():
    """The floor of benchmarks/bandit_speed.py is honest: same final policies (per-run eta and
    lr, both evaluations of f'), while rounding has not yet been amplified by Adam near its optimum."""
    floor = numpy_floor()
    config = BanditConfig.build(divergence="js", steps=200, init_std=0.1)
    runs = [
        RunSettings(seed, (5e-3, 2.5e-3, 1e-2)[seed % 3], {"eta": (0.25, 1.0, 4.0, 16.0)[seed % 4]})
        for seed in range(12)
    ]
    engine = train(config, runs).final_policy
    np.testing.assert_allclose(floor.train_floor(config, runs), engine, rtol=0, atol=1e-9)
    assert np.abs(engine - engine[[1]]).max() > 1e-3  # the runs do differ
    with pytest.raises(ValueError, match="numpy floor runs only LAD-JS"):
        floor.train_floor(BanditConfig.build(divergence="kl", steps=10), runs)


def random_batch(generator: torch.Generator, weighted: bool, tokens: int = 1) -> LossBatch:
    rows = 12
    draw = lambda *shape: torch.randn(*shape, generator=generator, dtype=torch.float64)  # noqa: E731
    return LossBatch(
        logp=draw(rows, tokens) * 0.3 - 2.0,
        old_logp=draw(rows, tokens) * 0.3 - 2.0,
        advantages=draw(rows),
        weights=torch.rand(rows, generator=generator, dtype=torch.float64) if weighted else None,
        ref_logp=draw(rows, tokens) * 0.3 - 2.0,
        log_z=draw(rows),
        entropy=draw(rows).abs(),
        rewards=(draw(rows) > 0).to(torch.float64),
        uniforms=torch.rand(rows, tokens, generator=generator, dtype=torch.float64),
    )


LOSSES = (
    [(name, {}) for name in available_losses()]
    + [("lad", {"divergence": divergence, "eta": 0.5}) for divergence in ("kl", "rkl", "tv", "hd", "jf", "ps")]
    + [("lad", {"ratio_level": "sequence"})]
)


@pytest.mark.parametrize("name,options", LOSSES)
@pytest.mark.parametrize("weighted", [False, True])
def test_fixed_batch_grads_equal_input_grads(name, options, weighted):
    """The engine prepares a loss's gradient once per batch and then changes only logp, log_z and
    entropy between updates: every call must equal input_grads on that batch, bit for bit."""
    loss = get_loss(name, **options)
    generator = torch.Generator().manual_seed(3)
    batch = random_batch(generator, weighted, tokens=3 if options.get("ratio_level") == "sequence" else 1)
    grads = loss.fixed_batch_grads(batch)
    for _ in range(3):
        batch.logp = batch.logp + 0.1 * torch.randn(batch.logp.shape, generator=generator, dtype=torch.float64)
        batch.log_z = batch.log_z + 0.1
        batch.entropy = batch.entropy * 0.9
        expected = loss.input_grads(batch)
        got = grads(batch)
        assert got.keys() == expected.keys()
        for field, value in expected.items():
            assert torch.equal(got[field], value), field
