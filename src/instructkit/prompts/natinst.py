"""Natural Instructions v1 instruction encodings and the field sets of its ablation table.

The layout follows the v1 paper's encoding: "Prompt:", "Definition:", "Things to Avoid:",
"Emphasis&Caution:", then negative examples ("Negative Example1-" with input, output,
reason and suggestion), positive examples ("Positive Example1-" with input, output and
reason), then the instance as "input: ..., output:".
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from instructkit.errors import UnknownNameError
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.render import RenderContext, TemplateFamily, drop_to_fit
from instructkit.tasks.schema import Example, Instance, Task


class NatInstFieldSet(BaseModel):
    """Which Natural Instructions v1 fields go into the source text."""

    model_config = ConfigDict(frozen=True)

    prompt: bool = Field(True, description="Include 'Prompt:'.")
    definition: bool = Field(False, description="Include 'Definition:'.")
    things_to_avoid: bool = Field(False, description="Include 'Things to Avoid:'.")
    emphasis: bool = Field(False, description="Include 'Emphasis&Caution:'.")
    num_pos_examples: int = Field(0, ge=0, description="Positive examples with reasons.")
    num_neg_examples: int = Field(
        0, ge=0, description="Negative examples with reasons and suggestions."
    )


def _fs(**kw: bool | int) -> NatInstFieldSet:
    return NatInstFieldSet.model_validate(kw)


# The rows of the v1 ablation table over instruction fields.
NATINST_FIELD_SETS: dict[str, NatInstFieldSet] = {
    "prompt": _fs(prompt=True),
    "+definition": _fs(prompt=True, definition=True),
    "+things to avoid": _fs(prompt=True, things_to_avoid=True),
    "+emphasis": _fs(prompt=True, emphasis=True),
    "+pos. examples": _fs(prompt=True, num_pos_examples=2),
    "+definition+pos. examples": _fs(prompt=True, definition=True, num_pos_examples=2),
    "pos. examples": _fs(prompt=False, num_pos_examples=2),
    "full instruction": _fs(
        prompt=True,
        definition=True,
        things_to_avoid=True,
        emphasis=True,
        num_pos_examples=2,
        num_neg_examples=2,
    ),
}


def get_field_set(name: str) -> NatInstFieldSet:
    """A field set by its row name in the v1 ablation table."""
    if name not in NATINST_FIELD_SETS:
        raise UnknownNameError("Natural Instructions field set", name, list(NATINST_FIELD_SETS))
    return NATINST_FIELD_SETS[name]


def _example(kind: str, k: int, ex: Example, suggestion: bool) -> str:
    text = f"{kind} Example{k}-\n  input: {ex.input.strip()}\n  output: {ex.output.strip()}\n"
    if ex.explanation:
        text += f"  reason: {ex.explanation.strip()}\n"
    if suggestion and ex.suggestion:
        text += f"  suggestion: {ex.suggestion.strip()}\n"
    return text


def natinst_source(
    task: Task, instance_input: str, fields: NatInstFieldSet, ctx: RenderContext | None = None
) -> str:
    """The source text of one instance under a v1 field set; absent fields are skipped.
    With a budget in ``ctx``, positive then negative examples are dropped from the end
    until the source fits."""
    ctx = ctx or RenderContext()
    n_pos = min(fields.num_pos_examples, len(task.positive_examples))
    n_neg = min(fields.num_neg_examples, len(task.negative_examples))
    with_pos, n_pos = drop_to_fit(
        lambda k: _natinst_text(task, instance_input, fields, k, n_neg), n_pos, ctx
    )
    if n_pos or ctx.fits(with_pos):
        return with_pos
    return drop_to_fit(lambda k: _natinst_text(task, instance_input, fields, 0, k), n_neg, ctx)[0]


def _natinst_text(
    task: Task, instance_input: str, fields: NatInstFieldSet, n_pos: int, n_neg: int
) -> str:
    parts: list[str] = []
    if fields.prompt and task.prompt:
        parts.append(f"Prompt: {task.prompt.strip()}\n")
    if fields.definition and task.definition:
        parts.append(f"Definition: {task.definition.strip()}\n")
    if fields.things_to_avoid and task.things_to_avoid:
        parts.append(f"Things to Avoid: {task.things_to_avoid.strip()}\n")
    if fields.emphasis and task.emphasis_and_caution:
        parts.append(f"Emphasis&Caution: {task.emphasis_and_caution.strip()}\n")
    for k, ex in enumerate(task.negative_examples[:n_neg], start=1):
        parts.append(_example("Negative", k, ex, suggestion=True))
    for k, ex in enumerate(task.positive_examples[:n_pos], start=1):
        parts.append(_example("Positive", k, ex, suggestion=False))
    parts.append(f"input: {instance_input.strip()}\noutput:")
    return "".join(parts)


def encode_natinst(
    task: Task,
    instance: Instance,
    fields: NatInstFieldSet | str,
    ctx: RenderContext | None = None,
) -> PromptedExample:
    """Render one instance with a v1 field set (an object or a table row name)."""
    name = fields if isinstance(fields, str) else None
    fs = get_field_set(fields) if isinstance(fields, str) else fields
    label = name or "custom"
    return PromptedExample(
        task=task.name,
        instance_id=instance.id,
        template=f"natinst:{label}",
        source=natinst_source(task, instance.input, fs, ctx),
        targets=list(instance.outputs),
        options=list(task.answer_choices or []),
        category=task.category,
        cluster=task.cluster or "",
    )


FAMILY = TemplateFamily(
    "natinst",
    lambda task: list(NATINST_FIELD_SETS),
    lambda name, task, instance, ctx: encode_natinst(task, instance, name, ctx),
    "Natural Instructions v1 field sets (prompt, definition, things to avoid, emphasis, examples)",
)
