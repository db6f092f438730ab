"""Optional dependencies of the LLM track, imported on demand with a one-line install hint."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

from ladbench.errors import UserError

INSTALL_HINT = "pip install 'ladbench[llm]'"


def require(module: str, hint: str = INSTALL_HINT) -> ModuleType:
    """Import ``module`` or raise a UserError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise UserError(
            f"the LLM track needs the Python module {module!r} ({error}); install it with: {hint}"
        ) from None


def quiet_transformers() -> None:
    """No download, conversion or weight-loading progress bars and no hub retry warnings."""
    logging = require("transformers").utils.logging
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    require("huggingface_hub").utils.logging.set_verbosity_error()


def cache_dir() -> Path:
    """Where downloaded and derived models are kept: ``$LADBENCH_CACHE`` or ``~/.cache/ladbench``."""
    return Path(os.environ.get("LADBENCH_CACHE", Path.home() / ".cache" / "ladbench"))


def minilm_dir(corpus: str, key: str, cache: Path | None = None) -> Path:
    """Where a pretrained mini-LM is cached: ``<cache>/<corpus>-<cache key>`` (default cache:
    ``cache_dir()/minilm``)."""
    return Path(cache or cache_dir() / "minilm") / f"{corpus}-{key}"
