"""Tasks whose instances live in a JSONL file, one instance per line, read as a stream.

A line is ``{"id", "input", "output"}`` (output: a string or a list of strings), or a
structured row (Hugging Face / PromptSource style) whose keys all go to
``Instance.fields``; the plain-text ``input`` of such a row is "key: value" lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from instructkit.errors import TaskFormatError
from instructkit.jsonl_io import iter_json_objects
from instructkit.tasks.schema import Instance, Task


def _row_text(row: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in row.items())


def iter_jsonl_instances(
    path: str | Path, *, task_name: str | None = None, max_instances: int | None = None
) -> Iterator[Instance]:
    """Stream instances from a JSONL file without loading the whole file."""
    path = Path(path)
    name = task_name or path.stem
    seen: set[str] = set()
    count = 0
    for lineno, row in iter_json_objects(path):
        if max_instances is not None and count >= max_instances:
            return
        # Dataset rows often carry integer ids (``idx``): those become strings.
        raw_id = row.get("id", row.get("idx", f"{name}-{lineno - 1}"))
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
            raise TaskFormatError(path, f"line {lineno}.id", "expected a string or an integer")
        iid = str(raw_id)
        if iid in seen:
            raise TaskFormatError(path, f"line {lineno}.id", f"duplicate id '{iid}'")
        seen.add(iid)
        if "input" in row:
            if not isinstance(row["input"], str):
                raise TaskFormatError(path, f"line {lineno}.input", "expected a string")
            out = row.get("output", row.get("outputs", []))
            outputs = [out] if isinstance(out, str) else out
            if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
                raise TaskFormatError(
                    path, f"line {lineno}.output", "expected a string or a list of strings"
                )
            fields = {k: v for k, v in row.items() if k not in ("id", "input", "output")}
            yield Instance(id=iid, input=row["input"], outputs=outputs, fields=fields)
        else:
            yield Instance(id=iid, input=_row_text(row), outputs=[], fields=row)
        count += 1
    if count == 0:
        raise TaskFormatError(path, None, "holds no instances")


def load_jsonl_task(
    path: str | Path,
    *,
    name: str | None = None,
    definition: str = "",
    categories: list[str] | None = None,
    answer_choices: list[str] | None = None,
    max_instances: int | None = None,
) -> Task:
    """Build a task from a JSONL file of instances and the instruction fields given here."""
    path = Path(path)
    name = name or path.stem
    return Task(
        name=name,
        definition=definition,
        categories=categories or [],
        answer_choices=answer_choices,
        instances=list(iter_jsonl_instances(path, task_name=name, max_instances=max_instances)),
    )
