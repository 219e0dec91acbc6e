"""Heuristic baselines: copy the instance input, copy the demo output (the SuperNI paper),
and the majority class."""

from __future__ import annotations

from collections import Counter

from instructkit.tasks.schema import Instance, Task


def copy_input(task: Task, instance: Instance) -> str:
    """Predict the instance's own input."""
    return instance.input


def copy_demo_output(task: Task, instance: Instance) -> str:
    """Predict the output of the task's first positive example (as Tk-Instruct does)."""
    return task.positive_examples[0].output if task.positive_examples else ""


def majority_class(task: Task, instance: Instance) -> str:
    """Predict the task's most frequent reference output (ties: the first seen)."""
    counts = Counter(i.outputs[0] for i in task.instances if i.outputs)
    return counts.most_common(1)[0][0] if counts else ""


BASELINES = {"copy input": copy_input, "copy demo": copy_demo_output}
ALL_BASELINES = {**BASELINES, "majority class": majority_class}
