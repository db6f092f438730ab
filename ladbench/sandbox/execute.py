"""Parent side of the sandbox: run untrusted Python programs, one process each, and judge them.

Every program runs in its own process (``runner.py``) with a wall-clock timeout, CPU-time,
memory, file-size and process-count limits, a fresh temporary working directory, an environment
with nothing inherited (no secrets), sockets refused, and, when this process is root, its own
network namespace and an unprivileged uid. On timeout the whole process group is killed, and as
root every process left under the run's uid is killed too (a program that left its group by
``setsid`` included). The verdict comes back as pass / fail / timeout / error with the reason.

What it does not protect against (see docs/llm.md): kernel exploits and native code that
reaches syscalls without an audit event (ctypes is refused, but a compiled extension already on
disk is not); reading world-readable files; CPU and memory pressure on the host within the
limits; and test code that trusts objects the program returns (an object whose ``__eq__`` is
always true defeats a plain ``assert candidate(x) == y``). Without root there is no network
namespace and no uid switch: sockets, signals and writes outside the directory are refused by
the audit hook only, and processes that escape the process group are not reaped.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RUNNER = Path(__file__).with_name("runner.py")
SANDBOX_UID_BASE = 61000  # slot i runs as uid/gid SANDBOX_UID_BASE + i (no such user needs to exist)
VERDICT_LIMIT = 1 << 20
TAIL = 2000
STATUSES = ("pass", "fail", "timeout", "error")


@dataclass(frozen=True)
class SandboxLimits:
    wall_s: float = 5.0
    cpu_s: int = 5
    memory_mb: int = 512
    file_size_mb: int = 16
    max_processes: int = 16


@dataclass(frozen=True)
class FunctionCalls:
    """Call ``entry_point`` on each argument list; the parent compares with ``expected`` (which
    the program never sees), using plain JSON values only."""

    entry_point: str
    calls: Sequence[Sequence[Any]]
    expected: Sequence[Any]


@dataclass(frozen=True)
class AssertTests:
    """HumanEval-style tests: ``test_code`` defines ``check(candidate)``, which asserts."""

    entry_point: str
    test_code: str


@dataclass
class ExecutionResult:
    status: str  # pass | fail | timeout | error
    reason: str
    duration_s: float
    outputs: list | None = None
    stdout: str = ""
    stderr: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def _job_payload(
    program: str, tests: FunctionCalls | AssertTests, limits: SandboxLimits, nonce: str, verdict_fd: int, uid: int
) -> str:
    payload: dict[str, Any] = {
        "program": program,
        "entry_point": tests.entry_point,
        "nonce": nonce,
        "verdict_fd": verdict_fd,
        "limits": asdict(limits),
        "uid": uid,
        "gid": uid,
    }
    if isinstance(tests, FunctionCalls):
        payload.update(mode="calls", calls=[list(arguments) for arguments in tests.calls])
    else:
        payload.update(mode="assert", test_code=tests.test_code)
    return json.dumps(payload)


def _kill_uid(uid: int) -> None:
    """SIGKILL every process owned by ``uid`` (root only; the slot uid is used by nothing else)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def _read_capped(stream, sink: list[bytes]) -> None:
    total = 0
    while chunk := stream.read(65536):
        if total < VERDICT_LIMIT:
            sink.append(chunk[: VERDICT_LIMIT - total])
        total += len(chunk)


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - TAIL))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_program(
    program: str, tests: FunctionCalls | AssertTests, limits: SandboxLimits | None = None, slot: int = 0
) -> ExecutionResult:
    """Run ``program`` against ``tests`` in a sandbox and judge it."""
    limits = limits or SandboxLimits()
    as_root = os.geteuid() == 0
    uid = SANDBOX_UID_BASE + slot
    workdir = Path(tempfile.mkdtemp(prefix="ladbench-sandbox-"))
    output_dir = Path(tempfile.mkdtemp(prefix="ladbench-sandbox-out-"))  # not writable by the program
    nonce = secrets.token_hex(16)
    verdict_read, verdict_write = os.pipe()
    start = time.monotonic()
    try:
        if as_root:
            os.chown(workdir, uid, uid)
        environment = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(workdir),
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        with open(output_dir / "stdout", "wb") as stdout, open(output_dir / "stderr", "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-I", str(RUNNER)],
                stdin=subprocess.PIPE,
                stdout=stdout,
                stderr=stderr,
                cwd=workdir,
                env=environment,
                pass_fds=(verdict_write,),
                start_new_session=True,
            )
        child_verdict_fd = verdict_write  # pass_fds keeps the descriptor's number in the child
        os.close(verdict_write)
        verdict_write = -1
        verdict_chunks: list[bytes] = []
        with os.fdopen(verdict_read, "rb") as verdict_stream:
            verdict_read = -1
            reader = threading.Thread(target=_read_capped, args=(verdict_stream, verdict_chunks), daemon=True)
            reader.start()
            try:
                process.stdin.write(_job_payload(program, tests, limits, nonce, child_verdict_fd, uid).encode())
                process.stdin.close()
            except BrokenPipeError:
                pass
            timed_out = False
            try:
                process.wait(timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            _kill_group(process.pid)
            if as_root:
                _kill_uid(uid)
            process.wait()
            reader.join(timeout=5)
        duration = time.monotonic() - start
        verdict = _parse_verdict(b"".join(verdict_chunks), nonce)
        result = _judge(verdict, tests, timed_out, process.returncode, limits)
        result.duration_s = duration
        result.stdout, result.stderr = _tail(output_dir / "stdout"), _tail(output_dir / "stderr")
        return result
    finally:
        for descriptor in (verdict_read, verdict_write):
            if descriptor >= 0:
                os.close(descriptor)
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(output_dir, ignore_errors=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _parse_verdict(raw: bytes, nonce: str) -> dict | None:
    """The line that starts with the nonce; anything else the program wrote is ignored."""
    for line in raw.decode("utf-8", "replace").splitlines():
        prefix, _, body = line.partition(" ")
        if secrets.compare_digest(prefix, nonce):
            try:
                return json.loads(body)
            except json.JSONDecodeError:
                return None
    return None


def _judge(
    verdict: dict | None, tests: FunctionCalls | AssertTests, timed_out: bool, returncode: int, limits: SandboxLimits
) -> ExecutionResult:
    if timed_out:
        return ExecutionResult("timeout", f"wall-clock limit of {limits.wall_s:g} s exceeded", 0.0)
    if verdict is None:
        if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            return ExecutionResult("timeout", f"CPU limit of {limits.cpu_s} s exceeded (signal {-returncode})", 0.0)
        return ExecutionResult("error", f"exited with status {returncode} without a verdict", 0.0)
    status = verdict.get("status")
    if status != "ran":
        return ExecutionResult(status if status in STATUSES else "error", verdict.get("reason", ""), 0.0)
    outputs = verdict["outputs"]
    for index, (output, expected) in enumerate(zip(outputs, tests.expected, strict=True)):
        if output != _plain(expected):
            return ExecutionResult(
                "fail", f"call {index} returned {output!r:.200}, expected {expected!r:.200}", 0.0, outputs
            )
    return ExecutionResult("pass", f"{len(outputs)} calls correct", 0.0, outputs)


def _plain(value: Any) -> Any:
    """Expected values as the runner's strict JSON encodes outputs (tuples become lists)."""
    return json.loads(json.dumps(value))


def run_many(
    jobs: Sequence[tuple[str, FunctionCalls | AssertTests]],
    limits: SandboxLimits | None = None,
    workers: int | None = None,
) -> list[ExecutionResult]:
    """Run many programs in parallel (a pool sized to the cores by default), results in order.

    Each worker owns a slot (and so a uid), so reaping one run's processes never touches another's."""
    workers = workers or os.cpu_count() or 1
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(workers):
        slots.put(slot)

    def run(job: tuple[str, FunctionCalls | AssertTests]) -> ExecutionResult:
        slot = slots.get()
        try:
            return run_program(job[0], job[1], limits, slot)
        finally:
            slots.put(slot)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))
