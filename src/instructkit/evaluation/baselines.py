"""Heuristic baselines: copy the instance input, copy the demo output (the SuperNI paper),
and the majority class.

A baseline is ``fn(task, instance, evaluated=ids)``; ``evaluated`` holds the ids of the
instances being scored, which no baseline may learn from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from instructkit.tasks.schema import Instance, Task


def copy_input(task: Task, instance: Instance, evaluated: Collection[str] = ()) -> str:
    """Predict the instance's own input."""
    return instance.input


def copy_demo_output(task: Task, instance: Instance, evaluated: Collection[str] = ()) -> str:
    """Predict the output of the task's first positive example (as Tk-Instruct does)."""
    return task.positive_examples[0].output if task.positive_examples else ""


def majority_class(task: Task, instance: Instance, evaluated: Collection[str] = ()) -> str:
    """Predict the most frequent output of the data that is not evaluated: the task's
    positive examples and its instances outside ``evaluated`` (ties: the first seen).
    Counting the evaluated instances themselves would be an oracle."""
    outputs = [e.output for e in task.positive_examples]
    outputs += [
        i.outputs[0]
        for i in task.instances
        if i.outputs and i.id not in evaluated and i.id != instance.id
    ]
    counts = Counter(outputs)
    return counts.most_common(1)[0][0] if counts else ""


BASELINES = {"copy input": copy_input, "copy demo": copy_demo_output}
ALL_BASELINES = {**BASELINES, "majority class": majority_class}
