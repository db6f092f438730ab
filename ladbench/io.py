"""Checked, atomic file output.

Every command checks its output paths before it computes anything (``check_output_dir``,
``check_output_file``): a file where a directory is expected, a read-only filesystem or a
permission error is one UserError line naming the option and the path (exit status 2), not a
traceback after the work is done.

Each writer writes to a temporary file in the destination directory, flushes it to disk and
renames it over the destination (``os.replace`` is atomic on POSIX within one filesystem), so a
reader never sees a half-written file, whatever kills the writer.
"""

from __future__ import annotations

import errno
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ladbench.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

FILE_MODE = 0o644  # what a plain open() gives under the usual umask


def check_output_dir(path: str | Path, what: str) -> Path:
    """Prove that the directory ``path`` can be created (if it does not exist) and written in,
    without creating it: the nearest existing directory on the path takes a test file. Otherwise
    a one-line UserError naming ``what`` (the option, e.g. ``--out``) and the path. The writers
    below create the directory when they write (so a run refused later leaves nothing behind)."""
    path = Path(path)
    existing = next((candidate for candidate in (path, *path.parents) if candidate.exists()), Path("."))
    try:
        if existing != path and not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        if existing == path and not path.is_dir():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST))
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise UserError(f"{what}: cannot write to {str(path)!r}: {_reason(path, error)}") from None
    return path


def check_output_file(path: str | Path, what: str) -> Path:
    """``check_output_dir`` for the file's directory; the path itself must not be a directory."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what}: {str(path)!r} is a directory; give a file name")
    check_output_dir(path.parent, what)
    return path


def read_text(path: str | Path, what: str = "file") -> str:
    """The UTF-8 text of ``path``; a file that is not UTF-8 is one UserError line naming ``what``,
    the file and the byte offset of the first bad byte (not a traceback)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{what} {str(path)!r} is not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} "
            "(save it as UTF-8)"
        ) from None


def _reason(path: Path, error: OSError) -> str:
    if error.errno == errno.EEXIST:
        return "it is a file, not a directory"
    if error.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a directory"
    return error.strerror or str(error)


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
    """``data`` as JSON; inf or NaN in it (JSON's non-standard Infinity and NaN) gets a warning line."""
    found = sorted(set(_non_finite(data)))
    if found:
        print(f"ladbench: warning: {path}: inf or NaN at {', '.join(found[:5])}", file=sys.stderr)
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def _non_finite(data: Any, where: str = "") -> Iterator[str]:
    """The keys (dotted) of the non-finite floats in ``data``."""
    if isinstance(data, float) and not math.isfinite(data):
        yield where or "the top level"
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _non_finite(value, f"{where}.{key}" if where else str(key))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from _non_finite(value, f"{where}[{index}]")


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    """``frame`` as CSV; a warning on stderr names the columns holding inf or NaN (never silent)."""
    warn_non_finite(path, frame)
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def warn_non_finite(path: str | Path, frame: pd.DataFrame) -> list[str]:
    """Print one ``ladbench: warning:`` line on stderr if the numeric columns of ``frame`` hold
    inf (e.g. a KL to a distribution without full support, or an overflow) or NaN that is not
    simply a missing value of a column that has some (an option a loss lacks); returns the columns."""
    import numpy as np

    numeric = frame.select_dtypes("number")
    values = numeric.to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(values).any(axis=0)
    all_nan = np.isnan(values).all(axis=0) if len(values) else np.zeros(len(numeric.columns), bool)
    some_nan = np.isnan(values).any(axis=0) & ~all_nan
    flagged = [str(c) for c, inf in zip(numeric.columns, infinite, strict=True) if inf]
    if not flagged:
        return []
    nan_columns = [str(c) for c, nan in zip(numeric.columns, some_nan, strict=True) if nan and str(c) not in flagged]
    nan_text = f"; NaN in {', '.join(nan_columns)}" if nan_columns else ""
    print(
        f"ladbench: warning: {path}: inf in {', '.join(flagged)}{nan_text} "
        "(a divergence to a distribution without full support, or an overflow: see docs/reliability.md)",
        file=sys.stderr,
    )
    return flagged


def save_figure(figure, path: str | Path, **kwargs: Any) -> None:
    """Save a matplotlib figure atomically (format from the suffix)."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=Path(path).suffix.lstrip("."), **kwargs)
