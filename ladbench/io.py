"""Atomic file output: a reader never sees a half-written file, whatever kills the writer.

Each writer writes to a temporary file in the destination directory, flushes it to disk and
renames it over the destination (``os.replace`` is atomic on POSIX within one filesystem).
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pandas as pd

FILE_MODE = 0o644  # what a plain open() gives under the usual umask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(descriptor)
    os.chmod(temporary, FILE_MODE)  # mkstemp's 0600 would make results unreadable to others
    try:
        yield Path(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_json(path: str | Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def save_figure(figure, path: str | Path, **kwargs: Any) -> None:
    """Save a matplotlib figure atomically (format from the suffix)."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=Path(path).suffix.lstrip("."), **kwargs)
