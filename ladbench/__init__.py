"""ladbench: a benchmark and ablation suite for distribution-matching RL objectives."""

__version__ = "0.1.0"
