"""The result manifest: one schema and one writer for every producer, and its verification.

Every producer (a bandit run, a sweep cell, an LLM training run, an LLM evaluation, a benchmark script) writes its
result files into one directory and then, last and atomically, ``manifest.json``::

    {
      "schema": "ladbench.manifest/1",
      "kind": "bandit_run" | "sweep_cell" | "llm_train" | "llm_eval" | "benchmark",
      "label": "LAD-JS",                    # the method label (``get_loss(...).label()``; "base": untrained)
      "config": {...},                      # the resolved configuration
      "seeds": [0, 1, 2],
      "files": {"summary.csv": {"sha256": "...", "bytes": 1234, "rows": 10}, ...},
      "provenance": {...},                  # package versions, git commit, machine
      "command": ["ladbench", ...],
      "created": "2025-01-01T00:00:00+00:00",
      ...                                   # fields of the kind (a sweep cell's key, axes and seeds_identical, ...)
    }

``rows`` is the number of data rows of a CSV (header excluded) or JSONL file, and absent for
other files. Since the manifest is written after every file it lists, a directory without one
is unfinished; a directory whose files differ from their manifest was changed or damaged
afterwards, which :func:`verify` reports as one line naming the directory and the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ladbench import io
from ladbench.errors import UserError

SCHEMA = "ladbench.manifest/1"
FILE = "manifest.json"
# benchmark: a benchmarks/ script's timings; minilm_pretrain: a mini-LM of ``ladbench llm pretrain``
KINDS = ("bandit_run", "sweep_cell", "llm_train", "llm_eval", "benchmark", "minilm_pretrain")
REQUIRED = ("schema", "kind", "label", "config", "seeds", "files", "provenance", "command", "created")
CHUNK = 1 << 20


class BadResult(UserError):
    """A result directory whose manifest is unreadable or whose files do not match it."""

    def __init__(self, what: str, file: str, reason: str, hint: str = ""):
        super().__init__(f"{what}: {file} {reason}" + (f"; {hint}" if hint else ""))
        self.what, self.file, self.reason = what, file, reason


def count_rows(path: Path) -> int | None:
    """Data rows of a CSV (quoted line breaks allowed; header excluded) or JSONL file; None for
    other files and for a CSV the csv module cannot read."""
    if path.suffix == ".jsonl":
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    if path.suffix == ".csv":
        try:
            with open(path, newline="", encoding="utf-8", errors="replace") as handle:
                return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
        except csv.Error:
            return None
    return None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe(path: Path) -> dict[str, Any]:
    """The manifest entry of one file: sha256, bytes, and rows for CSV and JSONL."""
    entry: dict[str, Any] = {"sha256": sha256(path), "bytes": path.stat().st_size}
    if path.suffix in (".csv", ".jsonl"):
        entry["rows"] = count_rows(path)
    return entry


def write(
    directory: str | Path,
    kind: str,
    label: str,
    config: dict[str, Any],
    seeds: list[int],
    files: list[str],
    provenance: dict[str, Any] | None = None,
    command: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Describe ``files`` (paths relative to ``directory``, already written) and write the
    manifest atomically; returns it. ``provenance`` defaults to this process's."""
    if kind not in KINDS:
        raise ValueError(f"unknown manifest kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    if provenance is None:
        from ladbench.provenance import provenance as current

        provenance = current()
    directory = Path(directory)
    manifest = {
        "schema": SCHEMA,
        "kind": kind,
        "label": label,
        "config": config,
        "seeds": list(seeds),
        "files": {name: describe(directory / name) for name in files},
        "provenance": provenance,
        "command": list(sys.argv if command is None else command),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **fields,
    }
    io.write_json(directory / FILE, manifest)
    return manifest


def exists(directory: str | Path) -> bool:
    return (Path(directory) / FILE).is_file()


def check_owner(
    directory: str | Path, kind: str, option: str, config: dict[str, Any] | None = None, seeds: list[int] | None = None
) -> None:
    """A directory belongs to one producer. Before writing a result of ``kind`` into ``directory``,
    refuse (one UserError line naming ``option``) a directory whose manifest has another kind (an
    evaluation into a training run would replace its manifest), and, where ``config`` is given, a
    finished result of the same kind with other settings or seeds (it would be lost)."""
    path = Path(directory) / FILE
    if not path.is_file():
        return
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise UserError(
            f"{option} {str(directory)!r} holds a {FILE} that is not a {SCHEMA} manifest; give another {option}"
        )
    if record.get("kind") != kind:
        raise UserError(
            f"{option} {str(directory)!r} holds a {record.get('kind')} result (its {FILE}); writing a {kind} "
            f"there would replace it: give another {option}"
        )
    if config is None:
        return
    given = json.loads(json.dumps(config, default=str))
    saved = record.get("config") if isinstance(record.get("config"), dict) else {}
    # a setting the saved manifest lacks was added since it was written: it had no say then
    differing = sorted(key for key in saved if given.get(key) != saved[key])
    if seeds is not None and list(seeds) != record.get("seeds"):
        differing.append("seeds")
    if differing:
        raise UserError(
            f"{option} {str(directory)!r} holds a finished {kind} with different settings "
            f"({', '.join(differing)}); give another {option}, or delete it to replace it"
        )


def read(directory: str | Path, what: str | None = None) -> dict[str, Any]:
    """The manifest of ``directory``; a :class:`BadResult` if it is missing, not JSON or not of this schema.
    ``what`` names the directory in messages (default: its path)."""
    directory = Path(directory)
    what = what or str(directory)
    path = directory / FILE
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BadResult(what, FILE, "is missing (the result is unfinished)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadResult(what, FILE, f"is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        found = manifest.get("schema") if isinstance(manifest, dict) else type(manifest).__name__
        raise BadResult(what, FILE, f"is not a {SCHEMA} manifest (schema {found!r})")
    absent = [key for key in REQUIRED if key not in manifest]
    if absent:
        raise BadResult(what, FILE, f"lacks the key {absent[0]!r}")
    if manifest["kind"] not in KINDS:
        raise BadResult(what, FILE, f"has an unknown kind {manifest['kind']!r}; valid kinds: {', '.join(KINDS)}")
    if not isinstance(manifest["files"], dict):
        raise BadResult(what, FILE, "has no file table ('files' is not an object)")
    return manifest


def check_file(directory: Path, name: str, entry: dict[str, Any]) -> str | None:
    """Why the file ``name`` does not match its manifest entry, or None if it does."""
    path = directory / name
    if not path.is_file():
        return "is missing"
    if path.stat().st_size == entry.get("bytes") and sha256(path) == entry.get("sha256"):
        return None
    rows, listed = count_rows(path), entry.get("rows")
    if listed is not None and rows != listed:
        found = "cannot be parsed" if rows is None else f"has {rows} data rows"
        return f"{found}; its manifest lists {listed}"
    return "differs from its manifest (sha256 mismatch; the file was changed after it was written)"


def verify(directory: str | Path, what: str | None = None) -> dict[str, Any]:
    """Read the manifest of ``directory`` and check every file it lists (sha256, size and row
    count); returns the manifest, or raises a one-line :class:`BadResult` naming ``what`` and
    the first file that fails."""
    directory = Path(directory)
    what = what or str(directory)
    manifest = read(directory, what)
    for name, entry in manifest["files"].items():
        problem = check_file(directory, name, entry)
        if problem is not None:
            raise BadResult(what, name, problem)
    return manifest
