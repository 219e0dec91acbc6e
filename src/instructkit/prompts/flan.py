"""FLAN-style instruction templates.

A FLAN template is a pair of format patterns (input, target) over a task's slots:
``{input}``, ``{definition}``, ``{title}``, ``{output}``, ``{options_}`` and
``{exemplars}``. Every built-in task gets ten templates: seven that state the task in
different words and three that *turn the task around* (given the answer, produce an input
that has it). Classification tasks get FLAN's options suffix (``OPTIONS:`` then one
``- option`` per line). Generic templates apply to any SuperNI task, zero-shot and
few-shot, with and without options; two ablation templates reproduce FLAN's "no
template" (input only) and "dataset name only" (``[Task name] input``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from instructkit.errors import UnknownNameError
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.render import RenderContext, TemplateFamily, drop_to_fit
from instructkit.tasks.schema import Example, Instance, Task

SLOTS = frozenset({"input", "definition", "title", "output", "options_", "exemplars"})
MAX_LABELS = 10


@dataclass(frozen=True)
class FlanTemplate:
    """One FLAN pattern pair. ``turned_around``: the target is the instance input."""

    id: str
    input: str
    target: str = "{output}"
    turned_around: bool = False
    with_options: bool = False

    def slots(self) -> set[str]:
        """Placeholders the patterns use."""
        fmt = string.Formatter()
        return {f for text in (self.input, self.target) for _, f, _, _ in fmt.parse(text) if f}


def options_suffix(options: Sequence[str]) -> str:
    """FLAN's options suffix: ``OPTIONS:`` and one ``- option`` line per option."""
    return "OPTIONS:\n" + "\n".join(f"- {o}" for o in options) if options else ""


def task_options(task: Task) -> list[str]:
    """A classification task's options: its answer choices, else its label set (the
    distinct single outputs, when there are at most ten of them); [] for other tasks."""
    if task.answer_choices:
        return list(task.answer_choices)
    labels: list[str] = []
    for inst in task.instances:
        if len(inst.outputs) != 1:
            return []
        if inst.outputs[0] not in labels:
            labels.append(inst.outputs[0])
            if len(labels) > MAX_LABELS:
                return []
    # In the dataset's order (first occurrence), as FLAN lists a dataset's options.
    return labels if 1 < len(labels) < len(task.instances) else []


# Seven ways of stating a task, and three of turning it around.
BUILTIN_TEMPLATES: list[FlanTemplate] = [
    FlanTemplate("flan:1", "{input}\n\n{definition}\n\n{options_}", with_options=True),
    FlanTemplate("flan:2", "{definition}\n\n{input}\n\n{options_}", with_options=True),
    FlanTemplate(
        "flan:3",
        "Instructions: {definition}\nInput: {input}\n{options_}\nAnswer:",
        with_options=True,
    ),
    FlanTemplate("flan:4", "{input}\n\nQ: {definition}\n{options_}\nA:", with_options=True),
    FlanTemplate(
        "flan:5",
        "Here is a task: {definition}\n\n{input}\n\n{options_}\nThe answer is:",
        with_options=True,
    ),
    FlanTemplate(
        "flan:6", "Task: {title}.\n{definition}\n\n{input}\n{options_}", with_options=True
    ),
    FlanTemplate(
        "flan:7", "{input}\n\nWhat is the right answer? {definition}\n{options_}", with_options=True
    ),
    FlanTemplate(
        "flan:8-turned",
        '{definition}\n\nThe answer is "{output}". Write an input that has this answer.',
        target="{input}",
        turned_around=True,
    ),
    FlanTemplate(
        "flan:9-turned",
        "Write an example input for the task below whose correct "
        "answer is {output}.\n\nTask: {definition}",
        target="{input}",
        turned_around=True,
    ),
    FlanTemplate(
        "flan:10-turned",
        'Answer: {output}\n\nWhat could the input have been for the task "{title}"?',
        target="{input}",
        turned_around=True,
    ),
]

GENERIC_TEMPLATES: list[FlanTemplate] = [
    FlanTemplate("flan:zeroshot", "{definition}\n\n{input}"),
    FlanTemplate(
        "flan:zeroshot-options", "{definition}\n\n{input}\n\n{options_}", with_options=True
    ),
    FlanTemplate("flan:fewshot", "{definition}\n\n{exemplars}\n\nInput: {input}\nOutput:"),
    FlanTemplate(
        "flan:fewshot-options",
        "{definition}\n\n{exemplars}\n\nInput: {input}\n{options_}\nOutput:",
        with_options=True,
    ),
    FlanTemplate("flan:no-template", "{input}"),
    FlanTemplate("flan:dataset-name", "[{title}] {input}"),
]

ALL_TEMPLATES = {t.id: t for t in [*BUILTIN_TEMPLATES, *GENERIC_TEMPLATES]}

for _t in ALL_TEMPLATES.values():
    assert _t.slots() <= SLOTS, (_t.id, _t.slots() - SLOTS)


def get_flan_template(template_id: str) -> FlanTemplate:
    """A FLAN template by id (``flan:1`` … ``flan:10-turned``, ``flan:zeroshot`` …)."""
    if template_id not in ALL_TEMPLATES:
        raise UnknownNameError("FLAN template", template_id, list(ALL_TEMPLATES))
    return ALL_TEMPLATES[template_id]


def format_exemplars(exemplars: Sequence[Example]) -> str:
    """Few-shot exemplars as ``Input:`` / ``Output:`` blocks separated by blank lines."""
    return "\n\n".join(f"Input: {e.input.strip()}\nOutput: {e.output.strip()}" for e in exemplars)


def _pattern(template: str, *, options: bool, exemplars: bool) -> str:
    """The input pattern without the placeholders that stay empty, and the line breaks
    that lead to them: only the template's own text is changed, never the task's."""
    if not options:
        template = re.sub(r"\n*\{options_\}", "", template)
    if not exemplars:
        template = re.sub(r"\{exemplars\}\n*", "", template)
    return template


def apply_flan(
    template: FlanTemplate | str,
    task: Task,
    instance: Instance,
    *,
    exemplars: Sequence[Example] = (),
    options: Sequence[str] | None = None,
) -> PromptedExample:
    """Render one instance with a FLAN template. A turned-around template's target is the
    instance input and its source names the first reference output."""
    tpl = get_flan_template(template) if isinstance(template, str) else template
    opts = list(options) if options is not None else task_options(task)
    shown = opts if tpl.with_options else []
    slots = {
        "input": instance.input,  # as the data has it: FLAN formats fields untouched
        "definition": task.definition.strip(),
        "title": task.title or task.name,
        "output": instance.outputs[0] if instance.outputs else "",
        "options_": options_suffix(shown),
        "exemplars": format_exemplars(exemplars),
    }
    pattern = _pattern(tpl.input, options=bool(shown), exemplars=bool(exemplars))
    source = pattern.format_map(slots)
    targets = [slots["input"]] if tpl.turned_around else list(instance.outputs)
    return PromptedExample(
        task=task.name,
        instance_id=instance.id,
        template=tpl.id,
        source=source,
        targets=targets,
        options=[] if tpl.turned_around else (opts if tpl.with_options else []),
        category=task.category,
        cluster=task.cluster or "",
    )


def _names(task: Task | None) -> list[str]:
    # The ten per-task templates are written for the built-in suite (tasks with a cluster).
    builtin = {t.id for t in BUILTIN_TEMPLATES}
    return [
        i.removeprefix("flan:")
        for i in ALL_TEMPLATES
        if task is None or task.cluster is not None or i not in builtin
    ]


def _render(name: str, task: Task, instance: Instance, ctx: RenderContext) -> PromptedExample:
    tpl = get_flan_template(f"flan:{name}")
    if "{exemplars}" not in tpl.input:
        return apply_flan(tpl, task, instance)
    from instructkit.prompts.fewshot import sample_exemplars

    if ctx.exemplars is not None:
        exemplars = list(ctx.exemplars)
    else:
        k = min(ctx.fewshot, len(task.positive_examples))
        exemplars = sample_exemplars(task, instance, k, seed=ctx.seed)
    _, k = drop_to_fit(
        lambda j: apply_flan(tpl, task, instance, exemplars=exemplars[:j]).source,
        len(exemplars),
        ctx,
    )
    return apply_flan(tpl, task, instance, exemplars=exemplars[:k])


FAMILY = TemplateFamily(
    "flan",
    _names,
    _render,
    "FLAN templates: ten per built-in task (three turned around), generic zero- and few-shot",
)
