"""Natural Instructions v1 task files (Mishra et al., 2022).

A v1 file holds "Title", "Prompt", "Definition", "Things to Avoid", "Emphasis & Caution",
"Examples" {"Positive Examples", "Negative Examples"} (each example with "input",
"output", "reason" and, for negatives, "suggestion") and "Instances" (input, output list).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructkit.errors import TaskFormatError
from instructkit.tasks.schema import Task
from instructkit.tasks.superni import parse_examples, parse_instances, read_json

V1_TEXT_FIELDS = ("Title", "Prompt", "Definition", "Things to Avoid", "Emphasis & Caution")


def is_natinst_v1(raw: Any) -> bool:
    """Whether a decoded JSON object looks like a Natural Instructions v1 task."""
    return (
        isinstance(raw, dict)
        and ("Examples" in raw or "Prompt" in raw or "Title" in raw)
        and ("Contributors" not in raw)
    )


def parse_natinst_v1(
    raw: Any, path: str | Path, *, name: str | None = None, max_instances: int | None = None
) -> Task:
    """Validate a decoded v1 file and build a :class:`Task`."""
    path = Path(path)
    name = name or path.stem
    if not isinstance(raw, dict):
        raise TaskFormatError(path, None, "expected a JSON object")
    text: dict[str, str] = {}
    for key in V1_TEXT_FIELDS:
        value = raw.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n".join(value)
        if value is None and key in ("Title", "Definition"):
            raise TaskFormatError(path, key, "missing (a Natural Instructions v1 file needs it)")
        if value is not None and not isinstance(value, str):
            raise TaskFormatError(path, key, f"expected a string, got {type(value).__name__}")
        if value is not None:
            text[key] = value
    examples = raw.get("Examples", raw)
    if not isinstance(examples, dict):
        raise TaskFormatError(path, "Examples", "expected an object with positive/negative lists")
    pos_key = next((k for k in examples if k.lower() == "positive examples"), None)
    neg_key = next((k for k in examples if k.lower() == "negative examples"), None)
    if pos_key is None:
        raise TaskFormatError(path, "Examples.Positive Examples", "missing")
    if "Instances" not in raw:
        raise TaskFormatError(path, "Instances", "missing")
    return Task(
        name=name,
        title=text["Title"],
        prompt=text.get("Prompt"),
        definition=text["Definition"],
        things_to_avoid=text.get("Things to Avoid"),
        emphasis_and_caution=text.get("Emphasis & Caution"),
        positive_examples=parse_examples(examples[pos_key], f"Examples.{pos_key}", path),
        negative_examples=parse_examples(examples.get(neg_key, []), f"Examples.{neg_key}", path)
        if neg_key
        else [],
        instances=parse_instances(
            raw["Instances"], path, task_name=name, max_instances=max_instances, v1=True
        ),
        categories=[raw["Category"]] if isinstance(raw.get("Category"), str) else [],
        source=[raw["Source"]] if isinstance(raw.get("Source"), str) else [],
    )


def load_natinst_v1(path: str | Path, *, max_instances: int | None = None) -> Task:
    """Load and validate one Natural Instructions v1 task file."""
    path = Path(path)
    return parse_natinst_v1(read_json(path), path, max_instances=max_instances)
