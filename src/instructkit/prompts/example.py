"""The object every template produces: what goes into the model and what should come out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PromptedExample:
    """A task instance rendered by a template.

    ``targets`` lists every acceptable output (the first is the training target);
    ``options`` holds answer choices for rank classification, empty otherwise.
    """

    task: str
    instance_id: str
    template: str
    source: str
    targets: list[str]
    options: list[str] = field(default_factory=list)
    category: str = ""
    cluster: str = ""

    @property
    def target(self) -> str:
        return self.targets[0] if self.targets else ""
