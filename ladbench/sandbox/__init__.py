"""Sandboxed execution of untrusted Python programs (model-written code) against tests."""

from ladbench.sandbox.execute import (
    AssertTests,
    ExecutionResult,
    FunctionCalls,
    SandboxLimits,
    run_many,
    run_program,
)

__all__ = ["AssertTests", "ExecutionResult", "FunctionCalls", "SandboxLimits", "run_many", "run_program"]
