"""Training mixtures: a seeded, deterministic list of prompted examples over many tasks.

Thin first form: examples-proportional mixing with a cap per task (FLAN), shuffled with
a fixed seed; later forms add temperature and uniform rates and Arrow materialisation.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from instructkit.prompts.example import PromptedExample
from instructkit.prompts.superni import encode_instance, get_encoding
from instructkit.tasks.collection import TaskCollection


@dataclass(frozen=True)
class Mixture:
    """The examples of a training mixture, in training order."""

    examples: list[PromptedExample]
    seed: int

    def counts(self) -> Counter[str]:
        """Examples per task."""
        return Counter(e.task for e in self.examples)

    def __len__(self) -> int:
        return len(self.examples)


def build_mixture(
    tasks: TaskCollection,
    task_names: list[str],
    *,
    encoding: str | list[str] = "Def+Pos(2)",
    max_per_task: int | None = None,
    seed: int = 0,
) -> Mixture:
    """Render each task's first ``max_per_task`` instances with a SuperNI encoding and
    shuffle them together with ``seed`` (examples-proportional with a cap).

    With a list of encodings, each instance draws its own encoding (seeded), as
    Tk-Instruct does when it mixes encodings during training.
    """
    names = [encoding] if isinstance(encoding, str) else list(encoding)
    encs = [get_encoding(n) for n in names]
    rng = random.Random(f"{seed}:encodings")
    examples: list[PromptedExample] = []
    for name in task_names:
        task = tasks[name]
        for inst in task.instances[:max_per_task]:
            enc = encs[0] if len(encs) == 1 else rng.choice(encs)
            examples.append(encode_instance(task, inst, enc))
    random.Random(seed).shuffle(examples)
    return Mixture(examples=examples, seed=seed)
