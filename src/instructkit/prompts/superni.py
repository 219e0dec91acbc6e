"""Super-NaturalInstructions / Tk-Instruct instruction encodings.

The text layout follows Tk-Instruct's data collator: an optional task name, then
"Definition: ...", then " Positive Example k -" / "Input:" / " Output:" /
" Explanation:" blocks (negative examples likewise), then "Now complete the following
example -" with the instance's "Input:" and an open "Output: ". Each piece that does not
end in punctuation gets a full stop. Examples that would push the source past the token
budget are dropped, as Tk-Instruct does.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from instructkit.errors import UnknownNameError
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.render import RenderContext, TemplateFamily
from instructkit.tasks.schema import Example, Instance, Task

TokenCounter = Callable[[str], int]


class SuperNIEncoding(BaseModel):
    """Which instruction elements go into the source text (the SuperNI encoding table)."""

    model_config = ConfigDict(frozen=True)

    add_task_name: bool = Field(False, description="Prefix the task name (the 'Task ID' row).")
    add_definition: bool = Field(True, description="Include 'Definition: ...'.")
    num_pos_examples: int = Field(2, ge=0, description="Positive examples shown: Pos(k).")
    num_neg_examples: int = Field(0, ge=0, description="Negative examples shown: Neg(k).")
    add_explanation: bool = Field(False, description="Show each example's explanation.")

    @property
    def name(self) -> str:
        parts = []
        if self.add_task_name:
            parts.append("Task ID")
        if self.add_definition:
            parts.append("Def")
        if self.num_pos_examples:
            parts.append(f"Pos({self.num_pos_examples})")
        if self.num_neg_examples:
            parts.append(f"Neg({self.num_neg_examples})")
        if self.add_explanation:
            parts.append("Expl")
        return "+".join(parts) or "Input only"


def _enc(
    name: bool = False, d: bool = False, pos: int = 0, neg: int = 0, expl: bool = False
) -> SuperNIEncoding:
    return SuperNIEncoding(
        add_task_name=name,
        add_definition=d,
        num_pos_examples=pos,
        num_neg_examples=neg,
        add_explanation=expl,
    )


# The ten rows of the SuperNI encoding table, by their names in the paper.
ENCODINGS: dict[str, SuperNIEncoding] = {
    "Task ID": _enc(name=True),
    "Def": _enc(d=True),
    "Pos(1)": _enc(pos=1),
    "Def+Pos(1)": _enc(d=True, pos=1),
    "Pos(2)": _enc(pos=2),
    "Def+Pos(2)": _enc(d=True, pos=2),
    "Def+Pos(2)+Neg(2)": _enc(d=True, pos=2, neg=2),
    "Def+Pos(2)+Neg(2)+Expl": _enc(d=True, pos=2, neg=2, expl=True),
    "Pos(4)": _enc(pos=4),
    "Def+Pos(4)": _enc(d=True, pos=4),
    # Not a row of the table: one of the encodings Tk-Instruct mixes in training.
    "Def+Pos(2)+Expl": _enc(d=True, pos=2, expl=True),
}

# The encodings Tk-Instruct draws from for each training instance (``prompt.
# train_encodings: [tk-instruct]``), with ``prompt.redraw_encodings`` drawn at every use.
TK_INSTRUCT_MIX = ["Def", "Pos(2)", "Def+Pos(2)", "Def+Pos(2)+Neg(2)", "Def+Pos(2)+Expl"]


def get_encoding(name: str) -> SuperNIEncoding:
    """An encoding by its table name (e.g. ``"Def+Pos(2)"``)."""
    if name not in ENCODINGS:
        raise UnknownNameError("SuperNI encoding", name, list(ENCODINGS))
    return ENCODINGS[name]


def _close(text: str) -> str:
    """Add a full stop unless the text already ends in punctuation (Tk-Instruct's rule)."""
    return text if text and text[-1] in string.punctuation else text + "."


def _example_block(kind: str, k: int, ex: Example, explain: bool) -> str:
    block = f" {kind} Example {k} -\n" + _close(f"Input: {ex.input.strip()}") + "\n"
    block += _close(f" Output: {ex.output.strip()}") + "\n"
    if explain and ex.explanation:
        block += _close(f" Explanation: {ex.explanation.strip()}") + "\n"
    return block + "\n"


def superni_source(
    task: Task,
    instance_input: str,
    encoding: SuperNIEncoding,
    *,
    count_tokens: TokenCounter | None = None,
    max_source_tokens: int | None = None,
) -> str:
    """The source text of one instance under one encoding."""
    query = "Now complete the following example -\n"
    query += _close(f"Input: {instance_input.strip()}") + "\n" + "Output: "
    name = f"{task.name}. " if encoding.add_task_name else ""
    definition = ""
    if encoding.add_definition:
        definition = _close("Definition: " + task.definition.strip()) + "\n\n"

    def fits(text: str) -> bool:
        if count_tokens is None or max_source_tokens is None:
            return True
        return count_tokens(text) <= max_source_tokens

    pos: list[str] = []
    for k, ex in enumerate(task.positive_examples[: encoding.num_pos_examples], start=1):
        block = _example_block("Positive", k, ex, encoding.add_explanation)
        if not fits(definition + " ".join(pos) + block + query):
            break
        pos.append(block)
    neg: list[str] = []
    for k, ex in enumerate(task.negative_examples[: encoding.num_neg_examples], start=1):
        block = _example_block("Negative", k, ex, encoding.add_explanation)
        if not fits(definition + " ".join(pos) + " ".join(neg) + block + query):
            break
        neg.append(block)
    return name + definition + "".join(pos) + "".join(neg) + query


def encode_instance(
    task: Task,
    instance: Instance,
    encoding: SuperNIEncoding | str,
    *,
    count_tokens: TokenCounter | None = None,
    max_source_tokens: int | None = None,
) -> PromptedExample:
    """Render one instance with a SuperNI encoding (an object or a table name)."""
    enc = get_encoding(encoding) if isinstance(encoding, str) else encoding
    return PromptedExample(
        task=task.name,
        instance_id=instance.id,
        template=f"superni:{enc.name}",
        source=superni_source(
            task,
            instance.input,
            enc,
            count_tokens=count_tokens,
            max_source_tokens=max_source_tokens,
        ),
        targets=list(instance.outputs),
        options=list(task.answer_choices or []),
        category=task.category,
        cluster=task.cluster or "",
    )


def sample_encoding(rng: random.Random, encodings: list[str] | None = None) -> SuperNIEncoding:
    """Draw an encoding per instance (Tk-Instruct's option to mix encodings in training)."""
    names = encodings or list(ENCODINGS)
    return get_encoding(rng.choice(names))


def _render(name: str, task: Task, instance: Instance, ctx: RenderContext) -> PromptedExample:
    return encode_instance(
        task,
        instance,
        name,
        count_tokens=ctx.count_tokens,
        max_source_tokens=ctx.max_source_tokens,
    )


FAMILY = TemplateFamily(
    "superni",
    lambda task: list(ENCODINGS),
    _render,
    "Super-NaturalInstructions / Tk-Instruct encodings (Task ID, Def, Pos(k), Neg(k), Expl)",
)
