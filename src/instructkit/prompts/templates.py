"""One way to name any template: ``superni:<encoding>``, ``natinst:<field set>`` or a
FLAN id (``flan:1`` … ``flan:10-turned``, ``flan:zeroshot`` …)."""

from __future__ import annotations

from collections.abc import Sequence

from instructkit.errors import UnknownNameError
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.fewshot import sample_exemplars
from instructkit.prompts.flan import ALL_TEMPLATES, BUILTIN_TEMPLATES, apply_flan
from instructkit.prompts.natinst import NATINST_FIELD_SETS, encode_natinst
from instructkit.prompts.superni import ENCODINGS, TokenCounter, encode_instance
from instructkit.tasks.schema import Example, Instance, Task


def template_ids(task: Task | None = None) -> list[str]:
    """Every template id; for a task, the ones that apply to it."""
    ids = [f"superni:{e}" for e in ENCODINGS] + [f"natinst:{f}" for f in NATINST_FIELD_SETS]
    flan = list(ALL_TEMPLATES)
    if task is not None and task.cluster is None:  # not a built-in task
        flan = [t for t in flan if t not in {b.id for b in BUILTIN_TEMPLATES}]
    return ids + flan


def apply_template(
    template_id: str, task: Task, instance: Instance, *, exemplars: Sequence[Example] = ()
) -> PromptedExample:
    """Render one instance with the template of that id."""
    kind, _, name = template_id.partition(":")
    if kind == "superni" and name in ENCODINGS:
        return encode_instance(task, instance, name)
    if kind == "natinst" and name in NATINST_FIELD_SETS:
        return encode_natinst(task, instance, name)
    if template_id in ALL_TEMPLATES:
        return apply_flan(template_id, task, instance, exemplars=exemplars)
    raise UnknownNameError("template", template_id, template_ids())


def is_known_prompt(name: str) -> bool:
    """Whether ``name`` is a SuperNI encoding name or any template id."""
    return name in ENCODINGS or name in template_ids()


def render_prompt(
    name: str,
    task: Task,
    instance: Instance,
    *,
    count_tokens: TokenCounter | None = None,
    max_source_tokens: int | None = None,
    fewshot: int = 2,
    seed: int = 0,
) -> PromptedExample:
    """Render an instance with a SuperNI encoding name (``Def+Pos(2)``) or any template
    id. SuperNI encodings drop demonstrations to fit the token budget; FLAN few-shot
    templates get ``fewshot`` seeded exemplars from the task's positive examples."""
    if name in ENCODINGS:
        return encode_instance(
            task, instance, name, count_tokens=count_tokens, max_source_tokens=max_source_tokens
        )
    exemplars: Sequence[Example] = ()
    if name.startswith("flan:fewshot"):
        k = min(fewshot, len(task.positive_examples))
        exemplars = sample_exemplars(task, instance, k, seed=seed)
    return apply_template(name, task, instance, exemplars=exemplars)
