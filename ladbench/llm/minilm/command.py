"""``ladbench llm exact``: a mini-LM's exact evaluation and its check against sampling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ladbench import layout
from ladbench.errors import UserError
from ladbench.llm.minilm.exact import exact_table, sampling_check, warn_missed, write_exact
from ladbench.llm.minilm.view import minilm_info, task_for_model


def exact_evaluate(config, out_dir: Path) -> dict[str, Any]:
    """``ladbench llm exact``: the exact files of ``config.prompts`` held-out prompts, and the
    sampling check (``layout.EXACT_CHECK``) on the first ``check_prompts`` of them; a manifest (kind
    ``llm_eval``) last. Returns the summary with the check."""
    from ladbench import manifest
    from ladbench.io import write_json
    from ladbench.llm.evaluate import BASE_LABEL, resolve_model
    from ladbench.llm.models import load_policy
    from ladbench.llm.tasks import get_task

    model_path, run = resolve_model(config.model)
    model, tokenizer = load_policy(model_path)
    if minilm_info(model) is None:
        raise UserError(f"model {config.model!r} is not a mini-LM; exact evaluation needs one (ladbench llm pretrain)")
    task = task_for_model(get_task(config.task, config.split_seed), model)
    problems = task.problems("eval", config.prompts)
    step = None if run is None else run.get("step")
    table = exact_table(model, tokenizer, task, problems, step)  # scored once: the files and the check
    files, summary = write_exact(out_dir, model, tokenizer, task, problems, step, table=table)
    if config.samples:
        checked = problems[: config.check_prompts]
        check = sampling_check(model, tokenizer, task, checked, table, config.samples, config.seed)
        write_json(Path(out_dir) / layout.EXACT_CHECK, check)
        files.append(layout.EXACT_CHECK)
        warn_missed(check, str(out_dir))
        summary["check"] = {key: value for key, value in check.items() if key != "prompts"}
        summary["check"]["accuracy_in_99"] = sum(p["accuracy_in_99"] for p in check["prompts"]) / len(checked)
        summary["check"]["distinct_in_99"] = sum(p["distinct_in_99"] for p in check["prompts"]) / len(checked)
    manifest.write(
        out_dir,
        "llm_eval",
        BASE_LABEL if run is None else run["label"],
        config.model_dump(),
        [config.seed],
        files,
        metrics=summary["metrics"],
        train_step=step,
    )
    return summary
