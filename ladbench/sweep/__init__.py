"""Declarative sweeps: a spec file expands into cells, which run batched and resumable.

    from ladbench.sweep import load_spec, run_sweep
    outcome = run_sweep(load_spec("experiments/paper_bandit.toml"))

Exports load lazily, so that a worker importing ``ladbench.sweep.batches`` pulls in neither
pandas nor matplotlib.
"""

from importlib import import_module

_EXPORTS = {
    "load_spec": "ladbench.sweep.spec",
    "SweepSpec": "ladbench.sweep.spec",
    "Cell": "ladbench.sweep.spec",
    "run_sweep": "ladbench.sweep.runner",
    "SweepOutcome": "ladbench.sweep.runner",
    "DEFAULT_RESULTS_ROOT": "ladbench.sweep.runner",
}
__all__ = ["DEFAULT_RESULTS_ROOT", "Cell", "SweepOutcome", "SweepSpec", "load_spec", "run_sweep"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ladbench.sweep' has no attribute {name!r}")
