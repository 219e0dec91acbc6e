"""Tasks whose instances are rows of a Hugging Face dataset (PromptSource / T0 style).

``load_hf_task("super_glue", "rte", split="validation")`` goes through the ordinary
``datasets.load_dataset``; a local file works the same way with the ``json`` builder
(``load_hf_task("json", data_files="rows.jsonl")``).
"""

from __future__ import annotations

from typing import Any

from instructkit.errors import TaskFormatError
from instructkit.tasks.schema import Instance, Task


def _row_text(row: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in row.items())


def load_hf_task(
    path: str,
    subset: str | None = None,
    *,
    split: str = "validation",
    name: str | None = None,
    max_instances: int | None = None,
    id_field: str | None = "idx",
    **load_kwargs: Any,
) -> Task:
    """A task whose instances hold the dataset rows in ``Instance.fields``."""
    import datasets

    try:
        ds = datasets.load_dataset(path, subset, split=split, **load_kwargs)
    except Exception as e:  # datasets raises many kinds (connection, missing config, ...)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TaskFormatError(
            f"{path}/{subset or ''}", None, f"cannot load dataset: {first}"
        ) from None
    if max_instances is not None:
        ds = ds.select(range(min(max_instances, len(ds))))
    task_name = name or (f"{path}/{subset}" if subset else path)
    instances = []
    for k, row in enumerate(ds):
        iid = str(row[id_field]) if id_field and id_field in row else f"{task_name}-{k}"
        instances.append(Instance(id=iid, input=_row_text(row), outputs=[], fields=dict(row)))
    if not instances:
        raise TaskFormatError(task_name, None, f"split '{split}' holds no rows")
    return Task(name=task_name, definition="", source=[path], instances=instances)
