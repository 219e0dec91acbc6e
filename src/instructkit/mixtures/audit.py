"""Contamination audit: n-gram overlap between evaluation data and a training mixture.

Texts are lower-cased and split into word tokens; two texts overlap when they share an
n-gram (13 words by default, as in GPT-3's contamination study). Reported per evaluation
task: the share of its instances (input plus references) that overlap the training
mixture, and examples of the shared n-grams; also whether the task's definition and its
evaluation prompt text overlap. Training examples that overlap evaluation data can be
dropped. A mixture can also be audited against any text corpus given as files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from instructkit.prompts.example import PromptedExample
from instructkit.tasks.schema import Task

_WORD = re.compile(r"\w+")


def ngrams(text: str, n: int) -> set[str]:
    """The word n-grams of a text (lower case), joined by spaces."""
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass
class TaskAudit:
    """Overlap of one evaluation task with the training data."""

    task: str
    instances: int
    contaminated: int
    examples: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (instance, n-gram, training example)
    definition_overlap: bool = False
    prompt_overlap: bool = False

    @property
    def share(self) -> float:
        return self.contaminated / self.instances if self.instances else 0.0


@dataclass
class AuditReport:
    """Per evaluation task overlaps, and the training examples that overlap."""

    n: int
    tasks: list[TaskAudit]
    overlapping_train: set[int] = field(default_factory=set)  # indices into the training list

    @property
    def clean(self) -> bool:
        return not any(t.contaminated for t in self.tasks)


class NgramIndex:
    """n-gram → index of the first training text that holds it."""

    def __init__(self, texts: Iterable[str], n: int) -> None:
        self.n = n
        self.first: dict[str, int] = {}
        for k, text in enumerate(texts):
            for g in ngrams(text, n):
                self.first.setdefault(g, k)

    def hits(self, text: str) -> list[tuple[str, int]]:
        return [(g, self.first[g]) for g in ngrams(text, self.n) if g in self.first]


def _train_text(e: PromptedExample) -> str:
    return e.source + "\n" + "\n".join(e.targets)


def audit_mixture(
    train: Sequence[PromptedExample],
    eval_tasks: Sequence[Task],
    *,
    n: int = 13,
    eval_prompts: dict[str, str] | None = None,
    max_instances: int | None = None,
    max_examples: int = 3,
) -> AuditReport:
    """Audit training examples against evaluation tasks (instances, definitions, and the
    evaluation prompt text of each task given in ``eval_prompts``)."""
    index = NgramIndex((_train_text(e) for e in train), n)
    eval_grams: set[str] = set()
    report = AuditReport(n=n, tasks=[])
    for task in eval_tasks:
        insts = task.instances[:max_instances]
        ta = TaskAudit(task.name, len(insts), 0)
        for inst in insts:
            text = inst.input + "\n" + "\n".join(inst.outputs)
            eval_grams |= ngrams(text, n)
            hits = index.hits(text)
            if hits:
                ta.contaminated += 1
                if len(ta.examples) < max_examples:
                    g, k = hits[0]
                    ta.examples.append((inst.id, g, f"{train[k].task}/{train[k].instance_id}"))
        ta.definition_overlap = bool(index.hits(task.definition))
        if eval_prompts and task.name in eval_prompts:
            ta.prompt_overlap = bool(index.hits(eval_prompts[task.name]))
        report.tasks.append(ta)
    report.overlapping_train = {
        k for k, e in enumerate(train) if ngrams(_train_text(e), n) & eval_grams
    }
    return report


def drop_overlapping(
    train: Sequence[PromptedExample], report: AuditReport
) -> list[PromptedExample]:
    """The training examples that share no n-gram with the evaluation instances."""
    return [e for k, e in enumerate(train) if k not in report.overlapping_train]


def audit_corpus(
    train: Sequence[PromptedExample], files: Sequence[str | Path], *, n: int = 13
) -> dict[str, int]:
    """Per training task, how many of its examples share an n-gram with the corpus files."""
    corpus: set[str] = set()
    for f in files:
        corpus |= ngrams(Path(f).read_text(encoding="utf-8", errors="replace"), n)
    out: dict[str, int] = {}
    for e in train:
        if ngrams(_train_text(e), n) & corpus:
            out[e.task] = out.get(e.task, 0) + 1
    return out
