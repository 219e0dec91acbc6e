"""The built-in task suite: procedurally generated tasks in the SuperNI schema.

Deterministic: the same ``seed`` and ``n_instances`` give byte-identical tasks. Every
output is exactly checkable with :attr:`TaskSpec.check` from the input text alone.
"""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path

from rich.progress import Progress

from instructkit.errors import UnknownNameError
from instructkit.tasks.builtin.numeric import (
    ARITHMETIC,
    COUNTING,
    LIST_OPERATIONS,
    NUMBER_PROPERTIES,
    ORDERING,
)
from instructkit.tasks.builtin.spec import TaskSpec
from instructkit.tasks.builtin.text import (
    CIPHERS,
    CLASSIFICATION,
    PASSAGE_QA,
    STRING_MANIPULATION,
    WORD_EDITING,
)
from instructkit.tasks.collection import TaskCollection
from instructkit.tasks.schema import Example, Instance, Task
from instructkit.tasks.superni import write_json_atomic, write_task

SPECS: list[TaskSpec] = [
    *ARITHMETIC,
    *NUMBER_PROPERTIES,
    *LIST_OPERATIONS,
    *COUNTING,
    *ORDERING,
    *STRING_MANIPULATION,
    *WORD_EDITING,
    *CIPHERS,
    *CLASSIFICATION,
    *PASSAGE_QA,
]
CLUSTERS: list[str] = list(dict.fromkeys(s.cluster for s in SPECS))

# Natural Instructions v1 fields, written per cluster.
_AVOID = {
    "arithmetic": "Do not show your working or add units; do not round.",
    "number_properties": "Do not explain the answer; do not answer with a sentence.",
    "list_operations": "Do not change the numbers themselves or the list's format.",
    "counting": "Do not write the number in words.",
    "ordering": "Do not drop or add items; do not change how the items are written.",
    "string_manipulation": "Do not add spaces, quotes or punctuation.",
    "word_editing": "Do not change any word the instruction does not mention.",
    "ciphers": "Do not change letters the rule does not map; keep lower case.",
    "rule_classification": "Do not answer with a label outside the given set.",
    "passage_qa": "Do not use knowledge that is not in the passage.",
}
_EMPHASIS = {
    "arithmetic": "The answer is a single whole number.",
    "number_properties": "Use exactly one of the allowed answers.",
    "list_operations": "Write lists as [a, b, c].",
    "counting": "The answer is a number written with digits.",
    "ordering": "Separate items exactly as in the input.",
    "string_manipulation": "Every character counts: the output must match exactly.",
    "word_editing": "Keep single spaces between words.",
    "ciphers": "Apply the rule to every letter.",
    "rule_classification": "Answer with the label only.",
    "passage_qa": "Answer with the shortest span that answers the question.",
}

DEFAULT_SEED = 1234


def spec_by_name(name: str) -> TaskSpec:
    """The spec of a built-in task, by its name."""
    for s in SPECS:
        if s.name == name:
            return s
    raise UnknownNameError("built-in task", name, [s.name for s in SPECS])


def build_task(spec: TaskSpec, *, n_instances: int = 100, seed: int = DEFAULT_SEED) -> Task:
    """Generate one task: 4 positive examples, 2 negative examples, ``n_instances``
    instances with pairwise distinct inputs that never repeat an example's input."""
    # String seeds are hashed with SHA-512 by `random`, so this is stable across runs.
    rng = random.Random(f"{seed}:{spec.name}")
    seen: set[str] = set()

    def fresh() -> tuple[str, list[str], str]:
        for _ in range(10_000):
            s = spec.make(rng)
            if s.input not in seen:
                seen.add(s.input)
                return s.input, s.outputs, s.why
        raise RuntimeError(f"{spec.name}: cannot draw enough distinct inputs")

    positives = []
    for _ in range(4):
        inp, outs, why = fresh()
        positives.append(Example(input=inp, output=outs[0], explanation=why))
    negatives = []
    for _ in range(2):
        s = spec.make(rng)
        neg = spec.wrong(s, rng)
        negatives.append(
            Example(input=s.input, output=neg.output, explanation=neg.why, suggestion=neg.fix)
        )
    instances = []
    for k in range(n_instances):
        inp, outs, _why = fresh()
        instances.append(Instance(id=f"{spec.name.split('_')[0]}-{k:05d}", input=inp, outputs=outs))
    return Task(
        name=spec.name,
        definition=spec.definition,
        title=spec.title,
        prompt=spec.definition.split(". ")[0].rstrip(".") + ".",
        things_to_avoid=_AVOID[spec.cluster],
        emphasis_and_caution=_EMPHASIS[spec.cluster],
        positive_examples=positives,
        negative_examples=negatives,
        instances=instances,
        contributors=["instructkit"],
        source=[f"instructkit_builtin_{spec.cluster}"],
        url=["https://github.com/instructkit/instructkit"],
        categories=[spec.category],
        reasoning=["Deductive Reasoning"],
        domains=["Synthetic"],
        instance_license=["Apache-2.0"],
        cluster=spec.cluster,
        answer_choices=list(spec.answer_choices) if spec.answer_choices else None,
    )


def builtin_tasks(
    *, n_instances: int = 100, seed: int = DEFAULT_SEED, clusters: list[str] | None = None
) -> TaskCollection:
    """The built-in suite as a lazily generated collection."""
    if clusters:
        for c in clusters:
            if c not in CLUSTERS:
                raise UnknownNameError("cluster", c, CLUSTERS)
    specs = [s for s in SPECS if not clusters or s.cluster in clusters]
    return TaskCollection(
        loaders={s.name: partial(build_task, s, n_instances=n_instances, seed=seed) for s in specs}
    )


def export_builtin(
    out_dir: str | Path,
    *,
    n_instances: int = 100,
    seed: int = DEFAULT_SEED,
    test_clusters: list[str] | None = None,
) -> Path:
    """Write the suite as a SuperNI folder: ``tasks/*.json`` and
    ``splits/default/{train,test,excluded}_tasks.txt`` (test = ``test_clusters``, by
    default the last cluster)."""
    out = Path(out_dir)
    test_clusters = test_clusters or [CLUSTERS[-1]]
    for c in test_clusters:
        if c not in CLUSTERS:
            raise UnknownNameError("cluster", c, CLUSTERS)
    coll = builtin_tasks(n_instances=n_instances, seed=seed)
    with Progress(transient=True) as progress:
        bar = progress.add_task("writing built-in tasks", total=len(coll))
        for task in coll:
            write_task(task, out / "tasks" / f"{task.name}.json")
            progress.advance(bar)
    train = [s.name for s in SPECS if s.cluster not in test_clusters]
    test = [s.name for s in SPECS if s.cluster in test_clusters]
    split_dir = out / "splits" / "default"
    split_dir.mkdir(parents=True, exist_ok=True)
    for name, names in (("train", train), ("test", test), ("excluded", [])):
        (split_dir / f"{name}_tasks.txt").write_text("".join(n + "\n" for n in names))
    write_json_atomic(
        out / "README.json",
        {
            "generator": "instructkit built-in suite",
            "seed": seed,
            "n_instances": n_instances,
            "clusters": {c: [s.name for s in SPECS if s.cluster == c] for c in CLUSTERS},
        },
    )
    return out


__all__ = ["CLUSTERS", "SPECS", "TaskSpec", "build_task", "builtin_tasks", "export_builtin"]
