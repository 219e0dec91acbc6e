"""Heuristic baselines of the SuperNI paper: copy the instance input, copy the demo output."""

from __future__ import annotations

from instructkit.tasks.schema import Instance, Task


def copy_input(task: Task, instance: Instance) -> str:
    """Predict the instance's own input."""
    return instance.input


def copy_demo_output(task: Task, instance: Instance) -> str:
    """Predict the output of the task's first positive example (as Tk-Instruct does)."""
    return task.positive_examples[0].output if task.positive_examples else ""


BASELINES = {"copy input": copy_input, "copy demo": copy_demo_output}
