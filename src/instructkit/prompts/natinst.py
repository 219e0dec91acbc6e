"""Natural Instructions v1 instruction encodings, as the official encoder writes them.

The official encoder (``src/utils/encodeinstruction.py`` of natural-instructions-v1)
takes an ordered list of instruction fields and a number of examples K and builds one
instruction text G, then one prompt per instance: ``G + "\\ninput: " + input +
"\\noutput:"``. Reproduced here byte for byte (golden tests on the official prompt files):

- ``Definition``, ``Prompt``, ``Things to Avoid``, ``Emphasis & Caution``: a line
  ``"<Name>: " + value.strip()``; lines joined with ``"\\n"``. A value exactly ``"-"`` (the
  files' "none") is skipped; a value that only strips to ``"-"`` prints as ``<Name>: -``.
- ``Negative Examples Full Explanations``: for the first min(K, count) negative examples,
  ``"\\nNegative Example<j>- \\ninput: …\\noutput: …\\nreason: …"`` followed directly by
  ``"suggestion: …"`` unless the suggestion is exactly ``" "`` (nothing when the task
  has no negative example).
- ``Positive Examples Full Explanations``: for j = 1..K,
  ``"\\nPositive Example<j>- \\ninput: …\\noutput: …\\nreason: …"``.
- ``Positive Examples Full Only``: for j = 1..K, ``"input: …\\noutput: …"``, preceded by
  ``"\\n"`` unless G is still empty.
- When K exceeds the P positive examples, example j > P is borrowed from the task's
  instance at position j-1-P (position 60, the first evaluation instance, is replaced by
  80), with its first output and, under Full Explanations, no reason line; under Full
  Only it is always preceded by ``"\\n"``.
- Example and instance texts are used as they are (not stripped).

Template names are the rows of the v1 ablation tables (``natinst:full instruction``) or
the official field list joined by ``_`` (``natinst:_Definition_Prompt_Positive Examples
Full Only``), each optionally followed by ``@K``; without K, K = min(3, P), the value
of most official prompt files. Under a token budget, K is lowered until the prompt fits
(demonstrations dropped first, as for every family).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from instructkit.errors import TaskFormatError, UnknownNameError
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.render import RenderContext, TemplateFamily, drop_to_fit
from instructkit.tasks.schema import Example, Instance, Task

HEADER_FIELDS = ("Definition", "Prompt", "Things to Avoid", "Emphasis & Caution")
NEGATIVE_FULL = "Negative Examples Full Explanations"
POSITIVE_FULL = "Positive Examples Full Explanations"
POSITIVE_ONLY = "Positive Examples Full Only"
ALL_FIELDS = (*HEADER_FIELDS, NEGATIVE_FULL, POSITIVE_FULL, POSITIVE_ONLY)
FIRST_EVAL_INDEX = 60  # the official evaluation instances start at position 60
DEFAULT_K = 3


class NatInstFieldSet(BaseModel):
    """An official ``instruction_structure``: the fields, in order, and K examples
    (``None``: min(3, the task's positive examples))."""

    model_config = ConfigDict(frozen=True)

    fields: tuple[str, ...] = Field(description="Official field names, in order.")
    num_examples: int | None = Field(None, ge=0, description="K; None: min(3, P).")

    def has_examples(self) -> bool:
        return any(f in (NEGATIVE_FULL, POSITIVE_FULL, POSITIVE_ONLY) for f in self.fields)


def _fs(*fields: str) -> NatInstFieldSet:
    return NatInstFieldSet(fields=fields)


# The rows of the v1 ablation tables, as official field lists (the 11 field sets of the
# official GPT-3 prompt files).
NATINST_FIELD_SETS: dict[str, NatInstFieldSet] = {
    "prompt": _fs("Prompt"),
    "+definition": _fs("Definition", "Prompt"),
    "+things to avoid": _fs("Prompt", "Things to Avoid"),
    "+emphasis": _fs("Prompt", "Emphasis & Caution"),
    "+definition+things to avoid+emphasis": _fs(*HEADER_FIELDS),
    "+pos. examples": _fs("Prompt", POSITIVE_ONLY),
    "+definition+pos. examples": _fs("Definition", "Prompt", POSITIVE_ONLY),
    "+definition+things to avoid+emphasis+pos. examples": _fs(*HEADER_FIELDS, POSITIVE_ONLY),
    "pos. examples": _fs(POSITIVE_ONLY),
    "+pos. and neg. examples": _fs("Prompt", NEGATIVE_FULL, POSITIVE_FULL),
    "full instruction": _fs(*HEADER_FIELDS, NEGATIVE_FULL, POSITIVE_FULL),
}


def get_field_set(name: str) -> NatInstFieldSet:
    """A field set by its row name or official ``_Field_Field`` form, with optional ``@K``."""
    base, sep, k = name.partition("@")
    if sep and not k.isdigit():
        raise UnknownNameError("Natural Instructions field set", name, list(NATINST_FIELD_SETS))
    if base.startswith("_"):
        fields = tuple(base.split("_")[1:])
        if not fields or any(f not in ALL_FIELDS for f in fields):
            raise UnknownNameError("Natural Instructions field", base, list(ALL_FIELDS))
        fs = NatInstFieldSet(fields=fields)
    elif base in NATINST_FIELD_SETS:
        fs = NATINST_FIELD_SETS[base]
    else:
        raise UnknownNameError("Natural Instructions field set", name, list(NATINST_FIELD_SETS))
    return fs.model_copy(update={"num_examples": int(k)}) if sep else fs


def _header_value(task: Task, name: str) -> str | None:
    return {
        "Definition": task.definition,
        "Prompt": task.prompt,
        "Things to Avoid": task.things_to_avoid,
        "Emphasis & Caution": task.emphasis_and_caution,
    }[name]


def _borrowed(task: Task, j: int) -> Instance:
    """The instance that stands in for positive example j (beyond the task's own)."""
    pos = j - 1 - len(task.positive_examples)
    if pos == FIRST_EVAL_INDEX:
        pos = 80  # as the official encoder: never show the first evaluation instance
    by_index = {i.index if i.index is not None else k: i for k, i in enumerate(task.instances)}
    if pos not in by_index or not by_index[pos].outputs:
        raise TaskFormatError(
            task.name,
            f"Instances[{pos}]",
            f"positive example {j} is borrowed from this instance, which the task lacks "
            "(or it has no output)",
        )
    return by_index[pos]


def default_k(task: Task) -> int:
    """K of most official prompt files: 3, or the number of positive examples if fewer."""
    return min(DEFAULT_K, len(task.positive_examples))


def instruction_text(task: Task, fields: NatInstFieldSet, k: int) -> str:
    """The official encoder's instruction text G for a field set and K examples."""
    g = ""
    pos: list[Example] = task.positive_examples
    for name in fields.fields:
        if name in HEADER_FIELDS:
            value = _header_value(task, name)
            if value is None or value == "-":
                continue
            line = f"{name}: {value.strip()}"
            g = f"{g}\n{line}" if g else line
        elif name == NEGATIVE_FULL:
            for j, ex in enumerate(task.negative_examples[:k], start=1):
                g += (
                    f"\nNegative Example{j}- \ninput: {ex.input}\noutput: {ex.output}"
                    f"\nreason: {ex.explanation or ''}"
                )
                if ex.suggestion is not None and ex.suggestion != " ":
                    g += f"suggestion: {ex.suggestion}"
        elif name == POSITIVE_FULL:
            for j in range(1, k + 1):
                if j <= len(pos):
                    ex = pos[j - 1]
                    g += (
                        f"\nPositive Example{j}- \ninput: {ex.input}\noutput: {ex.output}"
                        f"\nreason: {ex.explanation or ''}"
                    )
                else:
                    inst = _borrowed(task, j)
                    g += f"\nPositive Example{j}- \ninput: {inst.input}\noutput: {inst.outputs[0]}"
        elif name == POSITIVE_ONLY:
            for j in range(1, k + 1):
                if j <= len(pos):
                    text = f"input: {pos[j - 1].input}\noutput: {pos[j - 1].output}"
                    g = f"{g}\n{text}" if g else text
                else:
                    inst = _borrowed(task, j)
                    g += f"\ninput: {inst.input}\noutput: {inst.outputs[0]}"
    return g


def natinst_source(
    task: Task, instance_input: str, fields: NatInstFieldSet, ctx: RenderContext | None = None
) -> str:
    """The official prompt of one instance: ``G + "\\ninput: " + input + "\\noutput:"``.
    With a budget in ``ctx``, K is lowered until the prompt fits."""
    ctx = ctx or RenderContext()
    k = fields.num_examples if fields.num_examples is not None else default_k(task)
    if not fields.has_examples():
        k = 0

    def build(n: int) -> str:
        return f"{instruction_text(task, fields, n)}\ninput: {instance_input}\noutput:"

    return drop_to_fit(build, k, ctx)[0]


def encode_natinst(
    task: Task,
    instance: Instance,
    fields: NatInstFieldSet | str,
    ctx: RenderContext | None = None,
) -> PromptedExample:
    """Render one instance with a v1 field set (an object, or a name as in the module
    docstring)."""
    label = fields if isinstance(fields, str) else "_" + "_".join(fields.fields)
    fs = get_field_set(fields) if isinstance(fields, str) else fields
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


def official_eval_indices(n_total: int, n: int = 100) -> list[int]:
    """Positions of the official evaluation instances of a task with ``n_total``
    instances: ``range(60, N-1, (N-60) // n)[:n]``."""
    step = (n_total - FIRST_EVAL_INDEX) // n
    if step <= 0:
        return []
    return list(range(FIRST_EVAL_INDEX, n_total - 1, step))[:n]


def _is_name(name: str) -> bool:
    try:
        get_field_set(name)
    except UnknownNameError:
        return False
    return True


def _names(task: Task | None) -> list[str]:
    return list(NATINST_FIELD_SETS)


FAMILY = TemplateFamily(
    "natinst",
    _names,
    lambda name, task, instance, ctx: encode_natinst(task, instance, name, ctx),
    "Natural Instructions v1 field sets, as the official encoder writes them",
    accepts=_is_name,
)
