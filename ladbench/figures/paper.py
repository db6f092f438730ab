"""The committed paper figures are protected: only the spec they were drawn from may redraw them.

``ladbench plot`` and ``ladbench figures`` draw into the sweep's results directory
(``<results>/<spec name>/figures/``) by default; ``paper_figures/`` is written only when asked
(``--paper``, or ``--out paper_figures``). A figure directory is *protected* when it holds a
``specs/`` directory of spec records: ``specs/<spec name>.toml`` is the spec that directory's
figures of that spec were drawn from (the shipped ``paper_figures/specs/`` are copies of
``experiments/*.toml`` as the shipped figures were drawn). Drawing a spec into a protected
directory may overwrite existing files only when the spec's content equals its record (the
parsed TOML: comments and layout do not count); otherwise it is refused in one line before
anything is drawn, unless forced. Drawing records the spec it drew (``plot_sweep``: what
``ladbench plot`` and ``ladbench figures`` draw).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ladbench import io
from ladbench.errors import UserError
from ladbench.figures import figure_paths, plot_results

PAPER_FIGURES = Path("paper_figures")
RECORDS = "specs"


def figure_directory(
    out: Path | None, paper: bool, default: Path | None, what: str = "figure directory"
) -> Path | None:
    """Where figures go: ``--out``, ``--paper`` (``PAPER_FIGURES``), else ``default``; both
    options at once is refused in one line (``what``: the directory they both name)."""
    if out is not None and paper:
        raise UserError(f"--out {str(out)!r} and --paper both name the {what}; give one")
    return PAPER_FIGURES if paper else out if out is not None else default


def is_protected(out_dir: Path) -> bool:
    return (Path(out_dir) / RECORDS).is_dir()


def record_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / RECORDS / f"{name}.toml"


def same_content(first: str, second: str) -> bool:
    """Whether two spec texts hold the same settings (comments and layout aside)."""
    try:
        return tomllib.loads(first) == tomllib.loads(second)
    except tomllib.TOMLDecodeError:
        return first == second


def check_overwrite(out_dir: Path, spec, force: bool, option: str = "--out", paths: list[Path] | None = None) -> None:
    """Refuse (one line) to draw ``spec`` over files of a protected directory that were drawn
    from a different spec, or from a spec it has no record of, unless ``force``. ``paths``: the
    files drawing would write (default: those of the spec's figures; an LLM table's are its own)."""
    if force or not is_protected(out_dir):
        return
    paths = figure_paths(spec.name, spec.figures, spec.axes, out_dir) if paths is None else paths
    existing = [path for path in paths if path.exists()]
    if not existing:
        return
    record = record_path(out_dir, spec.name)
    if record.is_file() and same_content(record.read_text(), spec.text):
        return
    why = "a different spec" if record.is_file() else "a spec it has no record of"
    raise UserError(
        f"{option} {str(out_dir)!r}: {existing[0].name} is a shipped figure drawn from {why} "
        f"(record: {record}); draw into another directory, or pass --force to overwrite the shipped "
        f"figures of {spec.name!r}"
    )


def record_spec(out_dir: Path, spec) -> None:
    """In a protected directory, record the spec its figures of ``spec.name`` were drawn from."""
    if is_protected(out_dir):
        io.write_text(record_path(out_dir, spec.name), spec.text)


def plot_sweep(results, spec, out_dir: Path) -> list[Path]:
    """The figures ``spec`` declares (``[[figures]]``, else the defaults), drawn from its sweep's
    ``results`` into ``out_dir``, and the spec recorded there (``record_spec``): what ``ladbench
    plot`` and ``ladbench figures`` draw, once ``check_overwrite`` has allowed it. Returns the files."""
    paths = plot_results(results, spec.figures, out_dir)
    record_spec(out_dir, spec)
    return paths
