"""Few-shot exemplars: k demonstrations drawn with a seed, never the instance itself,
dropped from the end until they fit a token budget (FLAN used up to 16)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Literal

from instructkit.errors import InstructkitError
from instructkit.tasks.schema import Example, Instance, Task

MAX_EXEMPLARS = 16


def sample_exemplars(
    task: Task,
    instance: Instance,
    k: int,
    *,
    seed: int = 0,
    source: Literal["examples", "instances"] = "examples",
    pool: Sequence[Instance] | None = None,
    count_tokens: Callable[[str], int] | None = None,
    max_tokens: int | None = None,
    render: Callable[[Sequence[Example]], str] | None = None,
) -> list[Example]:
    """Draw ``k`` exemplars for ``instance``: from the task's positive examples or from
    training instances (``pool``, by default the task's own instances). The instance is
    never its own exemplar (same id or same input). With a budget, exemplars are dropped
    from the end until ``count_tokens(render(exemplars)) <= max_tokens``."""
    if k < 0 or k > MAX_EXEMPLARS:
        raise InstructkitError(f"few-shot k must be between 0 and {MAX_EXEMPLARS}, got {k}")
    if source == "examples":
        candidates = [e for e in task.positive_examples if e.input != instance.input]
    else:
        candidates = [
            Example(input=i.input, output=i.outputs[0])
            for i in (pool if pool is not None else task.instances)
            if i.id != instance.id and i.input != instance.input and i.outputs
        ]
    rng = random.Random(f"{seed}:{task.name}:{instance.id}")
    chosen = rng.sample(candidates, min(k, len(candidates)))
    if count_tokens is not None and max_tokens is not None:
        from instructkit.prompts.flan import format_exemplars

        fmt = render or format_exemplars
        while chosen and count_tokens(fmt(chosen)) > max_tokens:
            chosen.pop()
    return chosen
