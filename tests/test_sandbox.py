"""Hostile programs: each is contained, reported as a failure, and the harness carries on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

from ladbench.sandbox import AssertTests, FunctionCalls, SandboxLimits, run_many, run_program
from ladbench.sandbox.execute import RUNNER as RUNNER_PATH
from ladbench.sandbox.execute import SANDBOX_UID_BASE

LIMITS = SandboxLimits(wall_s=3.0, cpu_s=2, memory_mb=256, file_size_mb=4)
ADD_CALLS = FunctionCalls("add", [[1, 2], [5, 7]], [3, 12])
ADD_ASSERTS = AssertTests(
    "add", "def check(candidate):\n    assert abs(candidate(1, 2) - 3) < 1e-9\n    assert candidate(5, 7) == 12\n"
)
GOOD = "def add(a, b):\n    return a + b\n"


def test_correct_wrong_and_crashing_programs():
    results = run_many(
        [
            (GOOD, ADD_CALLS),
            (GOOD, ADD_ASSERTS),
            ("def add(a, b):\n    return a - b\n", ADD_CALLS),
            ("def add(a, b):\n    return a - b\n", ADD_ASSERTS),
            ("def add(a, b):\n    return 1 / 0\n", ADD_CALLS),
            ("def add(a, b) return a\n", ADD_CALLS),
            ("def plus(a, b):\n    return a + b\n", ADD_CALLS),
        ],
        LIMITS,
    )
    assert [result.status for result in results] == ["pass", "pass", "fail", "fail", "error", "error", "error"]
    assert results[2].reason == "call 0 returned -1, expected 3"
    assert "ZeroDivisionError" in results[4].reason
    assert "SyntaxError" in results[5].reason
    assert "no function 'add'" in results[6].reason


def test_common_standard_library_works_inside():
    program = (
        "import collections, math, itertools, functools, re, heapq, string, typing, enum, dataclasses, random\n"
        "Point = collections.namedtuple('Point', 'x y')\n"
        "def add(a, b):\n    return Point(a, b).x + max(itertools.chain([b], [0]))\n"
    )
    assert run_program(program, ADD_CALLS, LIMITS).status == "pass"


def _listening_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    accepted = []

    def accept_until_closed():
        while True:
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    threading.Thread(target=accept_until_closed, daemon=True).start()
    return server, accepted


def test_hostile_programs_are_contained(tmp_path):
    outside_file = tmp_path / "precious.txt"
    outside_file.write_text("keep me")
    escape_path = tmp_path / "escaped.txt"
    server, accepted = _listening_server()
    port = server.getsockname()[1]
    hostile = {
        "infinite loop": "while True:\n    pass\n",
        "fork bomb": "import os\nwhile True:\n    os.fork()\n",
        "memory bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 2**20))\n",
        "huge write to disk": "with open('big.bin', 'wb') as f:\n    while True:\n        f.write(b'0' * 2**20)\n",
        "write outside": f"open({str(escape_path)!r}, 'w').write('escaped')\n",
        "delete outside": f"import os\nos.remove({str(outside_file)!r})\n",
        "network socket": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n",
        "kill the parent": "import os\nos.kill(os.getppid(), 9)\n",
        "kill the group": "import os\nos.killpg(0, 9)\n",
        "sys.exit(0) at import": "import sys\nsys.exit(0)\n",
        "os._exit(0) at import": "import os\nos._exit(0)\n",
        "os._exit(0) inside the call": "import os\ndef add(a, b):\n    os._exit(0)\n",
        "print gigabytes": "while True:\n    print('x' * 2**20)\n",
        "forged verdicts": (
            "import os\nfor fd in range(0, 64):\n    try:\n"
            "        os.write(fd, b'0' * 32 + b' {\"status\": \"pass\"}\\n')\n"
            "    except OSError:\n        pass\ndef add(a, b):\n    return 0\n"
        ),
        "patched builtins": "import builtins\nbuiltins.abs = lambda x: 0\ndef add(a, b):\n    return 0\n",
        "frame hunting": (
            "import sys\nframe = sys._getframe(1)\nsecrets = dict(frame.f_locals)\n"
            "try:\n    raise ValueError\nexcept ValueError as error:\n    tb = error.__traceback__.tb_frame\n"
            "def add(a, b):\n    return 0\n"
        ),
        "always-equal result": (
            "class Any:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Any()\n"
        ),
    }
    assert_mode = {"patched builtins", "frame hunting", "os._exit(0) inside the call"}
    jobs = [(program, ADD_ASSERTS if name in assert_mode else ADD_CALLS) for name, program in hostile.items()]
    results = dict(zip(hostile, run_many(jobs, LIMITS), strict=True))
    server.close()

    for name, result in results.items():
        assert result.status in ("fail", "timeout", "error"), (name, result)
    assert results["infinite loop"].status == "timeout"
    assert "PermissionError" in results["fork bomb"].reason
    assert "MemoryError" in results["memory bomb"].reason
    assert "File too large" in results["huge write to disk"].reason
    assert "PermissionError" in results["write outside"].reason and not escape_path.exists()
    assert outside_file.read_text() == "keep me"
    assert results["network socket"].status == "error" and accepted == []
    assert "PermissionError" in results["kill the parent"].reason
    assert "SystemExit" in results["sys.exit(0) at import"].reason
    assert "without a verdict" in results["os._exit(0) at import"].reason
    assert "without a verdict" in results["os._exit(0) inside the call"].reason
    assert results["print gigabytes"].status in ("error", "timeout")
    assert results["forged verdicts"].reason == "call 0 returned 0, expected 3"
    assert results["patched builtins"].status == "fail"
    assert "PermissionError" in results["frame hunting"].reason
    assert "not a plain JSON value" in results["always-equal result"].reason
    # the harness carries on, and left nothing running
    assert run_program(GOOD, ADD_CALLS, LIMITS).status == "pass"
    if os.geteuid() == 0:
        owners = [entry.stat().st_uid for entry in Path("/proc").iterdir() if entry.name.isdigit() and entry.exists()]
        assert not any(SANDBOX_UID_BASE <= owner < SANDBOX_UID_BASE + 64 for owner in owners)


def test_environment_is_empty_and_directory_is_fresh():
    program = "import os\ndef add(a, b):\n    return [sorted(os.environ), os.listdir('.')]\n"
    os.environ["LADBENCH_TEST_SECRET"] = "hunter2"
    try:
        result = run_program(program, FunctionCalls("add", [[0, 0]], [None]), LIMITS)
    finally:
        del os.environ["LADBENCH_TEST_SECRET"]
    environment, listing = result.outputs[0]
    assert "LADBENCH_TEST_SECRET" not in environment
    assert set(environment) <= {"PATH", "LANG", "HOME", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "LC_CTYPE"}
    assert listing == []


def test_program_runs_unprivileged_when_the_harness_is_root():
    program = "import os\ndef add(a, b):\n    return os.getuid()\n"
    result = run_program(program, FunctionCalls("add", [[0, 0]], [None]), LIMITS)
    assert result.outputs[0] == (SANDBOX_UID_BASE if os.geteuid() == 0 else os.getuid())


def test_network_namespace_refuses_connections_even_without_the_audit_hook():
    """Defence in depth, as root: the runner's limits alone (no audit hook) leave no route out.
    Without root there is no namespace, and the audit hook is the only layer."""
    server, accepted = _listening_server()
    port = server.getsockname()[1]
    script = (
        "import socket, sys\n"
        f"sys.path.insert(0, {str(Path(RUNNER_PATH).parent)!r})\n"
        "import runner\n"
        "runner.apply_limits({'cpu_s': 5, 'memory_mb': 512, 'file_size_mb': 1, 'max_processes': 16}, 61999, 61999)\n"
        f"socket.socket().connect(('127.0.0.1', {port}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False)
    server.close()
    if os.geteuid() == 0:
        assert completed.returncode != 0 and "Network is unreachable" in completed.stderr
        assert accepted == []
    else:
        assert completed.returncode == 0 and len(accepted) == 1
