"""Shared test settings: no hub access, float64 for exact comparisons."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
