"""Memory a run may use, and refusing a run that would not fit before it allocates anything.

Each track estimates the bytes a run needs from its config alone (``bandit.memory``,
``llm.memory``), as a list of :class:`Need`: the largest allocations, each naming the options
that size it. ``check_fits`` compares their sum with the memory this machine has available and
refuses with one line naming the options of the largest need, so a billion seeds or a group of a
hundred million samples is a UserError, not an allocator traceback or an exhausted host.

The estimates err high (up to about 3x); when one refuses a run you know fits, setting
``LADBENCH_SKIP_MEMORY_CHECK=1`` skips the check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ladbench.errors import UserError

CGROUP = Path("/sys/fs/cgroup")
RUN_BYTES = 16_000  # the state of one run (one seed): its generator (5 kB), settings and Python objects
MAX_SEED = 2**32 - 1  # seeds of both tracks are 32-bit: the LLM track seeds torch with ``step_seed``
SKIP = "LADBENCH_SKIP_MEMORY_CHECK"


def step_seed(seed: int, step: int) -> int:
    """The torch seed of one step of the LLM track: ``seed * 100003 + step``, where ``step`` is a
    training step, or the index of an evaluation's first prompt in its batch (the one formula:
    distinct (seed, step) pairs give distinct seeds while steps stay below 100003)."""
    return seed * 100003 + step


@dataclass(frozen=True)
class Need:
    """``bytes`` for ``what``; ``lower``: the options (with their values) that would shrink it."""

    what: str
    bytes: float
    lower: str


def available_bytes() -> int:
    """Memory this process can still take: /proc/meminfo's MemAvailable (free memory plus what
    the kernel can reclaim), capped by a cgroup v2 limit when the process runs under one."""
    available = _meminfo_available()
    limit, used = _read_int(CGROUP / "memory.max"), _read_int(CGROUP / "memory.current")
    if limit is not None and used is not None:
        available = min(available, max(limit - used, 0))
    return available


def _meminfo_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):  # absent, unreadable, or "max" (no limit)
        return None


def format_bytes(count: float) -> str:
    """``1.5 GB``, ``320 MB`` (decimal units)."""
    for unit, size in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:.0f} B"


def check_fits(needs: list[Need], what: str = "this run", available: int | None = None) -> None:
    """A one-line UserError when the needs add up to more than the available memory, naming the
    options of the largest need."""
    total = sum(need.bytes for need in needs)
    available = available_bytes() if available is None else available
    if total <= available or os.environ.get(SKIP, "") not in ("", "0"):
        return
    largest = max(needs, key=lambda need: need.bytes)
    raise UserError(
        f"{what} would need about {format_bytes(total)} of memory, more than the "
        f"{format_bytes(available)} available (mostly {largest.what}); lower {largest.lower} "
        f"(or set {SKIP}=1 to run anyway)"
    )


def check_seeds(seeds, what: str) -> None:
    """Every seed a whole number in 0..MAX_SEED (``what`` names where they were given)."""
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise UserError(f"{what}: a seed must be an integer in 0..{MAX_SEED}, got {seed!r}")
