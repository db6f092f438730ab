"""Small specs and helpers shared by the sweep, figure and reference tests."""

from __future__ import annotations

from pathlib import Path

TINY_SPEC = """
name = "tiny"
seeds = 3
[fixed]
steps = 120
log_interval = 20
init_std = 0.1
[axes]
method = ["lad", "grpo"]
eta = [0.5, 2.0]
[[figures]]
kind = "recovery"
panels = "method"
where = { eta = 0.5 }
[[figures]]
kind = "curves"
hue = "eta"
where = { method = "lad" }
[report]
compare = "method"
"""


def write_spec(directory: Path, text: str = TINY_SPEC, name: str = "spec.toml") -> Path:
    path = Path(directory) / name
    path.write_text(text)
    return path
