"""FLAN's own template collection on dataset tasks (family ``flan-patterns``).

FLAN's ``PATTERNS`` (``flan/templates.py`` for v1, the FLAN paper; ``flan/v2/templates.py``)
map each dataset to a list of (input pattern, target pattern) pairs with Python
``str.format`` placeholders named after FLAN's fields (``{premise}``, ``{options_}``,
``{answer}``, ...). They are read from a JSON export or from a FLAN checkout's
``templates.py`` without importing it (the ``PATTERNS`` literal is parsed with ``ast``).

A dataset task names its patterns and a field map (``FlanSpec``): each FLAN field is a
column of the row or a Jinja expression over it, rendered in the sandbox; ``options`` lists
the answer options in the dataset's order and ``answer`` picks the right one. The source is
``input.format(**fields)`` with ``options_`` = FLAN's suffix (``OPTIONS:`` then one
``- option`` per line); the target is ``target.format(**fields)``. A pattern whose target
is not ``{answer}`` turns the task around: its name ends in ``-turned`` and it has no
options. Template ids are ``flan-patterns:<k>`` (``<k>-turned``), k the pattern's index.
"""

from __future__ import annotations

import ast
import json
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from instructkit.errors import InstructkitError, TaskFormatError
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.flan import options_suffix
from instructkit.prompts.render import RenderContext, TemplateFamily
from instructkit.tasks.schema import Instance, Task

Pattern = tuple[str, str]


@lru_cache(maxsize=16)
def load_patterns(path: str, version: str = "v1") -> dict[str, list[Pattern]]:
    """FLAN's patterns: dataset -> [(input, target), ...], from a JSON export (with 'v1' /
    'v2' keys, or the mapping itself) or a ``templates.py`` (its ``PATTERNS`` literal)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaskFormatError(p, None, "FLAN patterns file not found") from None
    if p.suffix == ".py":
        tree = ast.parse(text, filename=str(p))
        literal = next(
            (
                node.value
                for node in tree.body
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "PATTERNS" for t in node.targets)
            ),
            None,
        )
        if literal is None:
            raise TaskFormatError(p, "PATTERNS", "no PATTERNS = {...} literal in this file")
        try:
            data: Any = ast.literal_eval(literal)
        except ValueError as e:
            raise TaskFormatError(p, "PATTERNS", f"not a literal ({e})") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TaskFormatError(p, None, f"invalid JSON: {e.msg}") from None
        if isinstance(data, dict) and version in data and isinstance(data[version], dict):
            data = data[version]
    if not isinstance(data, dict):
        raise TaskFormatError(p, None, "expected a mapping of dataset -> patterns")
    out: dict[str, list[Pattern]] = {}
    for name, pats in data.items():
        if not isinstance(pats, list | tuple) or not all(
            isinstance(x, list | tuple) and len(x) == 2 and all(isinstance(y, str) for y in x)
            for x in pats
        ):
            raise TaskFormatError(p, str(name), "expected a list of [input, target] patterns")
        out[str(name)] = [(a, b) for a, b in pats]
    return out


def default_patterns_file() -> str:
    """The patterns file of a dataset spec that names none: ``$INSTRUCTKIT_FLAN_PATTERNS``."""
    import os

    env = os.environ.get("INSTRUCTKIT_FLAN_PATTERNS")
    if env:
        return env
    raise InstructkitError(
        "no FLAN patterns file: set flan.patterns in the dataset spec (a JSON export or a FLAN "
        "checkout's flan/templates.py) or $INSTRUCTKIT_FLAN_PATTERNS"
    )


def _spec(task: Task) -> dict[str, Any]:
    spec = task.extra.get("flan")
    if not isinstance(spec, dict):
        raise InstructkitError(f"task '{task.name}' has no FLAN patterns (its dataset spec's flan)")
    return spec


def _patterns(task: Task) -> list[Pattern]:
    spec = _spec(task)
    table = load_patterns(spec.get("patterns") or default_patterns_file(), spec["version"])
    if spec["dataset"] not in table:
        from instructkit.errors import UnknownNameError

        raise UnknownNameError("FLAN dataset", spec["dataset"], list(table))
    return table[spec["dataset"]]


def is_turned(pattern: Pattern) -> bool:
    """A pattern turns the task around when its target is not the answer."""
    return pattern[1].strip() != "{answer}"


def _names(task: Task | None) -> list[str]:
    if task is None or "flan" not in task.extra:
        return []
    return [f"{k}-turned" if is_turned(p) else str(k) for k, p in enumerate(_patterns(task))]


def _expr(task: Task, field: str, expr: str, row: dict[str, Any]) -> str:
    from instructkit.prompts.promptsource import render_expression

    if "{{" not in expr and "{%" not in expr:
        if expr not in row:
            raise TemplateFieldError(task.name, field, f"column '{expr}' is not in the data")
        return str(row[expr])
    return render_expression(expr, row, where=f"{task.name}: FLAN field '{field}'")


class TemplateFieldError(InstructkitError):
    """A field map names a column the data lacks, or an expression that does not render."""

    def __init__(self, task: str, field: str, problem: str) -> None:
        super().__init__(f"{task}: FLAN field '{field}': {problem}")


def flan_fields(task: Task, instance: Instance) -> tuple[dict[str, str], list[str]]:
    """The FLAN fields of one row (``options_`` and ``answer`` included) and its options."""
    spec = _spec(task)
    row = instance.fields
    fields = {f: _expr(task, f, e, row) for f, e in spec.get("fields", {}).items()}
    options_spec = spec.get("options")
    if isinstance(options_spec, str):
        options = [o for o in _expr(task, "options", options_spec, row).split("\n") if o]
    else:
        options = list(options_spec or [])
    answer = ""
    if spec.get("answer"):
        answer = _expr(task, "answer", spec["answer"], row)
        if options and answer.lstrip("-").isdigit():
            k = int(answer)
            if not 0 <= k < len(options):
                raise TemplateFieldError(
                    task.name, "answer", f"index {k} outside the {len(options)} options"
                )
            answer = options[k]
    fields["options_"] = options_suffix(options)
    fields["answer"] = answer
    return fields, options


def apply_pattern(task: Task, instance: Instance, pattern: Pattern, name: str) -> PromptedExample:
    """One row under one FLAN pattern: ``str.format`` on the mapped fields."""
    fields, options = flan_fields(task, instance)
    needed = {f for text in pattern for _, f, _, _ in string.Formatter().parse(text) if f}
    missing = sorted(needed - set(fields))
    if missing:
        raise TemplateFieldError(task.name, missing[0], "used by the pattern, not in the field map")
    turned = is_turned(pattern)
    return PromptedExample(
        task=task.name,
        instance_id=instance.id,
        template=f"flan-patterns:{name}",
        source=pattern[0].format_map(fields),
        targets=[pattern[1].format_map(fields)] if (fields["answer"] or turned) else [],
        options=[] if turned else options,
        category=task.category,
        cluster=task.cluster or "",
    )


def _render(name: str, task: Task, instance: Instance, ctx: RenderContext) -> PromptedExample:
    k = int(name.removesuffix("-turned"))
    patterns = _patterns(task)
    if not 0 <= k < len(patterns):
        from instructkit.errors import UnknownNameError

        raise UnknownNameError(f"FLAN pattern of {task.name}", name, _names(task))
    return apply_pattern(task, instance, patterns[k], name)


FAMILY = TemplateFamily(
    "flan-patterns",
    _names,
    _render,
    "FLAN's own templates (v1 or v2 PATTERNS) on dataset tasks, through a field map",
    accepts=lambda name: name == "*" or name.removesuffix("-turned").isdigit(),
)
