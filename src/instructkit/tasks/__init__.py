"""Tasks: the schema (Task, Example, Instance), loaders for every task source, validation."""

from instructkit.tasks.collection import TaskCollection, load_collection, load_task_file
from instructkit.tasks.schema import Example, Instance, Task
from instructkit.tasks.superni import load_task, write_task

__all__ = [
    "Example",
    "Instance",
    "Task",
    "TaskCollection",
    "load_collection",
    "load_task",
    "load_task_file",
    "write_task",
]
