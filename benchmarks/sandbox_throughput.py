"""Programs executed per second by the sandbox pool, against one worker in the same process.

python benchmarks/sandbox_throughput.py [--programs 60]
"""

from __future__ import annotations

import argparse
import os
import time

from ladbench.sandbox import FunctionCalls, run_many

PROGRAM = "def reverse_words(text):\n    return ' '.join(reversed(text.split()))\n"
TESTS = FunctionCalls("reverse_words", [["a b c"], ["one"], [""]], ["c b a", "one", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=60)
    arguments = parser.parse_args()
    jobs = [(PROGRAM, TESTS)] * arguments.programs
    timings = {}
    for workers in (1, os.cpu_count() or 1):
        start = time.perf_counter()
        results = run_many(jobs, workers=workers)
        timings[workers] = time.perf_counter() - start
        assert all(result.passed for result in results)
        print(f"{workers} worker(s): {arguments.programs / timings[workers]:6.1f} programs/s")
    pool = max(timings)
    print(f"pool of {pool} vs 1 worker: {timings[1] / timings[pool]:.2f}x  (load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
