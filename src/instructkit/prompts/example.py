"""The object every template produces: what goes into the model and what should come out."""

from __future__ import annotations

import hashlib
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

    @property
    def key(self) -> str:
        """A digest of what the model is given and scored against (template, source,
        targets, options): a stored output is reused only for the same key."""
        parts = [self.template, self.source, *self.targets, "\x1e", *self.options]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    @property
    def slot(self) -> tuple[str, str, str]:
        """What a stored output answers: (instance id, template, prompt key); predictions
        and option scores carry the same triple."""
        return (self.instance_id, self.template, self.key)
