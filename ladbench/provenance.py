"""What a result was produced with: package versions, git commit, machine."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("ladbench", "torch", "numpy", "scipy", "pandas", "pydantic", "matplotlib", "seaborn")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def git_commit(directory: Path | None = None) -> dict[str, str | bool | None]:
    """HEAD of the repository holding ladbench, and whether its work tree has changes."""
    directory = directory or Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            completed = subprocess.run(
                ["git", *args], check=False, cwd=directory, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return completed.stdout.strip() if completed.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def provenance() -> dict:
    return {
        "versions": package_versions(),
        "git": git_commit(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
