"""The task objects: one schema for Super-NaturalInstructions, Natural Instructions v1,
FLAN-style clusters and PromptSource-style structured instances.

Field names follow the papers; :meth:`Task.to_superni` / :func:`superni.parse_task`
convert to and from the official SuperNI JSON layout.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Example(BaseModel):
    """A demonstration of a task: positive (correct) or negative (a typical mistake).

    ``explanation`` is SuperNI's "explanation" and Natural Instructions v1's "reason";
    ``suggestion`` (NI v1, negative examples) says how to fix the mistake.
    """

    model_config = ConfigDict(frozen=True)

    input: str
    output: str
    explanation: str | None = None
    suggestion: str | None = None


class Instance(BaseModel):
    """One input of a task with its reference outputs (any one of them is correct).

    ``fields`` holds structured inputs (PromptSource / Hugging Face rows) when the
    instance comes from a structured dataset; ``input`` is then its plain-text view.
    ``index`` is the instance's position in its Natural Instructions v1 file (v1's
    official encoder borrows examples and picks evaluation instances by position);
    ``outputs`` may be empty there (an evaluation instance whose gold output is not given).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    input: str
    outputs: list[str]
    fields: dict[str, Any] = Field(default_factory=dict)
    index: int | None = None


class Task(BaseModel):
    """A task: its instruction fields, demonstrations and instances.

    Holds every field of a SuperNI task file and of a Natural Instructions v1 file, plus
    what FLAN / PromptSource tasks need (task cluster, answer choices, structured fields).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    definition: str
    positive_examples: list[Example] = Field(default_factory=list)
    negative_examples: list[Example] = Field(default_factory=list)
    instances: list[Instance] = Field(default_factory=list)
    # SuperNI metadata
    contributors: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    url: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    reasoning: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    input_language: list[str] = Field(default_factory=lambda: ["English"])
    output_language: list[str] = Field(default_factory=lambda: ["English"])
    instruction_language: list[str] = Field(default_factory=lambda: ["English"])
    instance_license: list[str] = Field(default_factory=list)
    # Natural Instructions v1 instruction fields
    title: str | None = None
    prompt: str | None = None
    things_to_avoid: str | None = None
    emphasis_and_caution: str | None = None
    # FLAN / PromptSource
    cluster: str | None = None
    answer_choices: list[str] | None = None
    # Source-specific data that template families read (dataset tasks: the PromptSource
    # templates file, FLAN's patterns and field map); plain data, no prompt objects.
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def category(self) -> str:
        """The first category (SuperNI's task type), or "" when there is none."""
        return self.categories[0] if self.categories else ""

    @property
    def task_id(self) -> str:
        """The short id SuperNI uses for "Task ID" encodings, e.g. ``task020``."""
        head = self.name.split("_", 1)[0]
        return head if head.startswith("task") else self.name

    @property
    def is_classification(self) -> bool:
        return bool(self.answer_choices)

    def with_instances(self, instances: list[Instance]) -> Task:
        """A copy of this task with other instances."""
        return self.model_copy(update={"instances": instances})

    def to_superni(self) -> dict[str, Any]:
        """This task as a dict in the official SuperNI task-file layout.

        Fields SuperNI lacks (NI v1 fields, cluster, answer choices) are kept under
        their own keys, which SuperNI readers ignore.
        """

        def example(e: Example) -> dict[str, str]:
            d = {"input": e.input, "output": e.output}
            if e.explanation is not None:
                d["explanation"] = e.explanation
            if e.suggestion is not None:
                d["suggestion"] = e.suggestion
            return d

        out: dict[str, Any] = {
            "Contributors": self.contributors,
            "Source": self.source,
            "URL": self.url,
            "Categories": self.categories,
            "Reasoning": self.reasoning,
            "Definition": [self.definition],
            "Input_language": self.input_language,
            "Output_language": self.output_language,
            "Instruction_language": self.instruction_language,
            "Domains": self.domains,
            "Positive Examples": [example(e) for e in self.positive_examples],
            "Negative Examples": [example(e) for e in self.negative_examples],
            "Instances": [
                {"id": i.id, "input": i.input, "output": list(i.outputs)}
                | ({"fields": i.fields} if i.fields else {})
                for i in self.instances
            ],
            "Instance License": self.instance_license,
        }
        extra = {
            "Title": self.title,
            "Prompt": self.prompt,
            "Things to Avoid": self.things_to_avoid,
            "Emphasis & Caution": self.emphasis_and_caution,
            "Cluster": self.cluster,
            "Answer Choices": self.answer_choices,
        }
        out.update({k: v for k, v in extra.items() if v is not None})
        return out
