"""Child side of the sandbox: runs as ``python -I runner.py`` in a fresh temporary directory.

Standard library only (isolated mode cannot import ladbench). It reads one job as JSON from
stdin, then, before any untrusted code runs:

1. applies resource limits (CPU seconds, address space, file size, process count, no core);
2. when started as root: moves into a new network namespace (no interfaces but a down
   loopback: every connection fails) and drops to the job's unprivileged uid/gid;
3. installs an audit hook (PEP 578; it cannot be removed) that refuses sockets, process
   creation, signals, ctypes, frame and garbage-collector introspection, tracing, writes and
   deletions outside the working directory, and reads under /proc;
4. binds every function it needs to local names, so rebinding module globals or builtins
   cannot change what the harness does next.

Then it executes the program and the tests, and writes a one-line verdict to the verdict file
descriptor, prefixed by a nonce the program never sees: the parent trusts nothing else.
"""

import builtins
import json
import math
import os
import resource
import sys
from typing import ClassVar

BLOCKED_EVENTS = {
    "socket.__new__",
    "socket.connect",
    "socket.bind",
    "socket.getaddrinfo",
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.spawn",
    "os.exec",
    "os.system",
    "subprocess.Popen",
    "os.kill",
    "os.killpg",
    "signal.pthread_kill",
    "ctypes.dlopen",
    "ctypes.dlsym",
    "ctypes.cdata",
    "ctypes.call_function",
    "sys._getframe",
    "sys._current_frames",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "sys.settrace",
    "sys.setprofile",
    "sys.addaudithook",
}
PATH_EVENTS = {
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.symlink",
    "os.link",
    "os.truncate",
    "os.utime",
    "shutil.rmtree",
    "os.chdir",
}
FRAME_ATTRIBUTES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back", "f_locals", "f_globals"}
# Imported before privileges are dropped: the unprivileged uid may not be able to read the
# Python installation (e.g. under /root), so these are the modules a program can import.
PRELOADED_MODULES = (
    "array",
    "bisect",
    "cmath",
    "collections",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "hashlib",
    "heapq",
    "itertools",
    "math",
    "operator",
    "random",
    "re",
    "statistics",
    "string",
    "textwrap",
    "typing",
    "unicodedata",
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def apply_limits(limits, uid, gid):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"]))
    memory = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    file_size = limits["file_size_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    if os.geteuid() == 0:
        import ctypes  # before the audit hook exists

        if ctypes.CDLL(None, use_errno=True).unshare(0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed")
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["max_processes"], limits["max_processes"]))


def make_audit_hook(workdir):
    realpath, startswith, isinstance_, str_, bytes_, fsdecode = (
        os.path.realpath,
        str.startswith,
        isinstance,
        str,
        bytes,
        os.fsdecode,
    )
    inside = workdir.rstrip("/") + "/"

    def outside(path):
        if isinstance_(path, int) or path is None:
            return False
        text = fsdecode(path) if isinstance_(path, (str_, bytes_, os.PathLike)) else ""
        resolved = realpath(text)
        return not (resolved == workdir or startswith(resolved + "/", inside))

    def hook(event, arguments):
        if event in BLOCKED_EVENTS:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "object.__getattr__" and arguments[1] in FRAME_ATTRIBUTES:
            raise PermissionError("sandbox: frame introspection is not allowed")
        if event == "open":
            path, mode, flags = arguments
            text = fsdecode(path) if isinstance_(path, (str_, bytes_)) else ""
            if startswith(realpath(text), "/proc") if text else False:
                raise PermissionError("sandbox: /proc is not readable")
            writing = (mode is not None and any(c in mode for c in "wax+")) or bool((flags or 0) & WRITE_FLAGS)
            if writing and outside(path):
                raise PermissionError(f"sandbox: writing outside the working directory: {path!r}")
        elif event in PATH_EVENTS:
            if any(outside(argument) for argument in arguments[:2] if isinstance_(argument, (str_, bytes_))):
                raise PermissionError(f"sandbox: {event} outside the working directory")

    return hook


class _StubCode:
    co_filename = "<program>"
    co_name = "<module>"


class _StubFrame:
    """What sys._getframe returns inside the sandbox. Libraries ask a frame only for their
    caller's module name (namedtuple, enum, typing) or file name (warnings); the real frames,
    whose locals hold the harness's nonce, stay out of reach."""

    f_globals: ClassVar[dict] = {"__name__": "__sandbox__"}
    f_locals: ClassVar[dict] = {}
    f_code = _StubCode()
    f_lineno = 0
    f_back = None


def _stub_getframe(depth=0):
    return _StubFrame()


def strict_json(value):
    """JSON of plain values only: an object that merely claims equality cannot pass as one."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else repr(value)
    if kind in (list, tuple):
        return [strict_json(item) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {key: strict_json(item) for key, item in value.items()}
    raise TypeError(f"returned a {kind.__name__}, which is not a plain JSON value")


def main():
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    nonce, verdict_fd = job.pop("nonce"), job["verdict_fd"]
    write, dumps, exec_, compile_, repr_, type_ = os.write, json.dumps, exec, compile, repr, type
    to_json, base_exception, clean_builtins = strict_json, BaseException, dict(builtins.__dict__)
    builtins_dict = builtins.__dict__

    def report(verdict):
        write(verdict_fd, (nonce + " " + dumps(verdict) + "\n").encode())

    for module in PRELOADED_MODULES:
        __import__(module)
    apply_limits(job["limits"], job["uid"], job["gid"])
    sys._getframe = _stub_getframe
    sys.addaudithook(make_audit_hook(os.getcwd()))
    del job["limits"]

    namespace = {"__name__": "__sandbox__", "__builtins__": builtins}
    try:
        exec_(compile_(job["program"], "<program>", "exec"), namespace)
    except base_exception as error:
        report({"status": "error", "reason": f"program raised {type_(error).__name__}: {error}"[:500]})
        return
    # the tests see the builtins as they were before the program ran
    builtins_dict.clear()
    builtins_dict.update(clean_builtins)
    function = namespace.get(job["entry_point"])
    if not callable(function):
        report({"status": "error", "reason": f"program defines no function {job['entry_point']!r}"})
        return
    try:
        if job["mode"] == "calls":
            outputs = [to_json(function(*arguments)) for arguments in job["calls"]]
            report({"status": "ran", "outputs": outputs})
        else:
            test_namespace = {"__name__": "__tests__", "__builtins__": builtins}
            exec_(compile_(job["test_code"], "<tests>", "exec"), test_namespace)
            test_namespace["check"](function)
            report({"status": "pass", "reason": "check(candidate) passed"})
    except AssertionError as error:
        report({"status": "fail", "reason": f"assertion failed {repr_(error)[:300]}"})
    except base_exception as error:
        report({"status": "error", "reason": f"{type_(error).__name__}: {error}"[:500]})


if __name__ == "__main__":
    main()
