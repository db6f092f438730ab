"""Where the LLM track runs and in what precision: ``--device`` and ``--dtype`` of ``llm train`` and ``llm eval``.

``--device auto|cpu|cuda|cuda:N``: auto is the current CUDA device when torch sees one, else the
CPU; ``cuda`` is the current CUDA device. :func:`resolve_placement` checks both options before a
model loads and returns the concrete device with its name (recorded in the training run's
manifest and the evaluation's summary.json and manifest).

``--dtype float32|bfloat16`` is the precision of the model's matrix products. The weights, the
optimizer state and checkpoints stay float32 ("mixed precision"): bfloat16 runs the forward
passes under ``torch.autocast``. Storing the weights themselves in bfloat16 would lose the updates:
at a weight of 0.02 the spacing of bfloat16 numbers is 2^-13 ~ 1.2e-4, so an AdamW step of about
the learning rate (1e-5) rounds away. Log-probabilities, entropies, FlowRL's log Z and the loss
are float32 either way (``rollout`` casts logits to float32 before the softmax).

This module imports torch only inside its functions, so configs can name its choices cheaply.
"""

from __future__ import annotations

import platform
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ladbench.errors import UserError, choices_error

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda", "cuda:N")
DTYPES = ("float32", "bfloat16")
CUDA_INDEX = re.compile(r"^cuda:(\d+)$")


@dataclass(frozen=True)
class Placement:
    """A resolved ``--device`` / ``--dtype`` pair."""

    requested: str  # --device as given, e.g. "auto"
    device: str  # the concrete device, e.g. "cpu" or "cuda:0"
    name: str  # e.g. "NVIDIA H200" or the CPU's model name
    dtype: str  # compute precision, one of DTYPES

    def record(self) -> dict[str, str]:
        """Where the model ran, as manifests and summary.json record it (the dtype is a setting of its own)."""
        return {"requested": self.requested, "resolved": self.device, "name": self.name}


def check_dtype(dtype: str) -> str:
    if dtype not in DTYPES:
        raise choices_error("--dtype", dtype, DTYPES)
    return dtype


def check_device(device: str) -> str:
    """The device spelling alone (no hardware check), so configs can validate without torch."""
    if device not in DEVICES[:-1] and not CUDA_INDEX.match(device):
        raise choices_error("--device", device, DEVICES)
    return device


def resolve_placement(device: str, dtype: str) -> Placement:
    """The concrete device and precision for ``--device``/``--dtype``; a one-line UserError when this
    machine cannot provide them (CUDA asked for where torch sees none, a CUDA index past the last GPU,
    bfloat16 on a GPU without it)."""
    import torch

    check_device(device)
    check_dtype(dtype)
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    here = ["auto", "cpu", *(["cuda", *(f"cuda:{i}" for i in range(count))] if count else [])]
    if device == "auto":
        resolved = "cuda" if count else "cpu"
    else:
        resolved = device
    if resolved.startswith("cuda"):
        if not count:
            raise UserError(
                f"--device {device!r} needs CUDA, but torch {torch.__version__} sees no CUDA device; "
                f"valid choices here: {', '.join(here)}"
            )
        match = CUDA_INDEX.match(resolved)
        index = int(match.group(1)) if match else torch.cuda.current_device()
        if index >= count:
            raise UserError(
                f"--device {device!r}: this machine has {count} CUDA device(s); valid choices here: {', '.join(here)}"
            )
        if dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
            raise UserError(f"--dtype 'bfloat16' is not supported by {torch.cuda.get_device_name(index)}; use float32")
        return Placement(device, f"cuda:{index}", torch.cuda.get_device_name(index), dtype)
    return Placement(device, "cpu", cpu_name(), dtype)


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what ``platform`` knows, else "cpu"."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    return platform.processor() or "cpu"


def autocast(device: torch.device | str, dtype: str) -> AbstractContextManager:
    """The context a forward pass runs in: bfloat16 matrix products under ``torch.autocast`` for
    ``dtype="bfloat16"``, nothing for float32."""
    import torch

    device_type = torch.device(device).type
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=dtype == "bfloat16")
