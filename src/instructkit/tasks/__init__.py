"""Tasks: the schema (Task, Example, Instance), loaders for every task source, validation."""

from typing import TYPE_CHECKING

from instructkit._lazy import lazy_exports

_EXPORTS = {
    "TaskCollection": "collection",
    "load_collection": "collection",
    "load_task_file": "collection",
    "Example": "schema",
    "Instance": "schema",
    "Task": "schema",
    "load_task": "superni",
    "write_task": "superni",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
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

if TYPE_CHECKING:
    from instructkit.tasks.collection import TaskCollection, load_collection, load_task_file
    from instructkit.tasks.schema import Example, Instance, Task
    from instructkit.tasks.superni import load_task, write_task
