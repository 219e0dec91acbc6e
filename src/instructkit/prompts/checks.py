"""Template checks: render every template on sample data and report what is wrong.

Kinds of problem: ``does not render``, ``uses a field the data lacks``, ``target not
among the answer choices``, ``duplicate id``. Each report names the template and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from instructkit.prompts.flan import BUILTIN_TEMPLATES, FlanTemplate, apply_flan, task_options
from instructkit.prompts.promptsource import PromptSourceTemplate, TemplateError, render
from instructkit.tasks.schema import Task

DOES_NOT_RENDER = "does not render"
UNDEFINED_FIELD = "uses a field the data lacks"
TARGET_NOT_IN_CHOICES = "target not among the answer choices"
DUPLICATE_ID = "duplicate id"


@dataclass(frozen=True)
class TemplateProblem:
    """One problem of one template."""

    file: str
    template: str
    kind: str
    field: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.file}: template '{self.template}': field '{self.field}'"
        return f"{where}: {self.kind} ({self.detail})"


def check_promptsource(
    templates: Sequence[PromptSourceTemplate], rows: Iterable[dict[str, Any]]
) -> list[TemplateProblem]:
    """Render every template on every row; at most one problem per template and kind."""
    problems: dict[tuple[str, str], TemplateProblem] = {}
    seen: dict[str, PromptSourceTemplate] = {}
    for t in templates:
        if t.id in seen:
            problems[(t.id + t.name, DUPLICATE_ID)] = TemplateProblem(
                t.file, t.name, DUPLICATE_ID, "id", f"'{t.id}' also used by '{seen[t.id].name}'"
            )
        seen[t.id] = t
    row_list = list(rows)
    for t in templates:
        for k, row in enumerate(row_list):
            try:
                r = render(t, row, seed=k, strict=True)
            except TemplateError as e:
                kind = UNDEFINED_FIELD if "undefined in the data" in e.problem else DOES_NOT_RENDER
                problems.setdefault(
                    (t.id, kind),
                    TemplateProblem(
                        t.file, t.name, kind, e.field or "jinja", f"row {k}: {e.problem}"
                    ),
                )
                continue
            if r.answer_choices and r.target and r.target not in r.answer_choices:
                problems.setdefault(
                    (t.id, TARGET_NOT_IN_CHOICES),
                    TemplateProblem(
                        t.file,
                        t.name,
                        TARGET_NOT_IN_CHOICES,
                        "answer_choices",
                        f"row {k}: {r.target!r} not in {r.answer_choices}",
                    ),
                )
    return list(problems.values())


def check_flan(
    tasks: Iterable[Task],
    templates: Sequence[FlanTemplate] = BUILTIN_TEMPLATES,
    *,
    per_task: int = 5,
) -> list[TemplateProblem]:
    """Render FLAN templates on the first instances of each task."""
    problems: list[TemplateProblem] = []
    ids = [t.id for t in templates]
    for dup in {i for i in ids if ids.count(i) > 1}:
        problems.append(TemplateProblem("flan", dup, DUPLICATE_ID, "id", "used twice"))
    for task in tasks:
        opts = task_options(task)
        for tpl in templates:
            for inst in task.instances[:per_task]:
                ex = apply_flan(tpl, task, inst, options=opts)
                if not ex.source or not ex.target:
                    problems.append(
                        TemplateProblem(
                            "flan",
                            tpl.id,
                            DOES_NOT_RENDER,
                            "input",
                            f"{task.name}/{inst.id}: empty text",
                        )
                    )
                    break
                if tpl.with_options and opts and ex.target not in opts:
                    problems.append(
                        TemplateProblem(
                            "flan",
                            tpl.id,
                            TARGET_NOT_IN_CHOICES,
                            "options_",
                            f"{task.name}/{inst.id}: {ex.target!r}",
                        )
                    )
                    break
    return problems
