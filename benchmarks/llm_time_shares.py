"""Where an LLM training step's time goes: generating, grading (running code, for code tasks), updating.

Reads the ``metrics.jsonl`` of finished runs (``ladbench llm train`` logs ``generate_s``,
``grade_s`` and ``update_s`` for every step) and prints each run's totals and shares, then the
shares pooled over all runs. The three phases run one after another in one process, so each
share is of the same wall clock and needs no separate baseline.

    python benchmarks/llm_time_shares.py results/llm_code_cpu/cells/*/train/metrics.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

PHASES = ("generate_s", "grade_s", "update_s")


def phase_totals(path: Path) -> dict[str, float]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {phase: sum(record.get(phase, 0.0) for record in records) for phase in PHASES} | {"steps": len(records)}


def shares_line(label: str, totals: dict[str, float]) -> str:
    step_total = sum(totals[phase] for phase in PHASES)
    parts = ", ".join(f"{phase[:-2]} {totals[phase]:.1f} s ({totals[phase] / step_total:.1%})" for phase in PHASES)
    return f"{label}: {int(totals['steps'])} steps, {step_total / totals['steps']:.1f} s/step; {parts}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path, help="metrics.jsonl files of training runs")
    arguments = parser.parse_args()
    pooled = dict.fromkeys((*PHASES, "steps"), 0.0)
    for path in arguments.logs:
        totals = phase_totals(path)
        print(shares_line(path.parent.name, totals))
        for name, value in totals.items():
            pooled[name] += value
    print(shares_line("all runs", pooled))


if __name__ == "__main__":
    main()
