"""Task sources: where a config's ``tasks.source`` finds its tasks.

A registered name (``builtin``, or one a plugin registers) is looked up in
:data:`TASK_SOURCES`; anything else is a path (a SuperNI folder with ``tasks/`` and
``splits/``, a folder of task files, or one file). A source is a function from the
config's ``tasks`` section to a :class:`TaskCollection`. A new source is one function and
one ``TASK_SOURCES.register`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from instructkit.registry import Registry
from instructkit.tasks.collection import TaskCollection

TaskSource = Callable[[Any], TaskCollection]

TASK_SOURCES: Registry[TaskSource] = Registry(
    "task source", entry_points="instructkit.task_sources"
)


@TASK_SOURCES.register("builtin")
def builtin_source(cfg: Any) -> TaskCollection:
    """The generated built-in suite (``tasks.n_instances``, ``tasks.builtin_seed``)."""
    from instructkit.tasks.builtin import builtin_tasks

    return builtin_tasks(n_instances=cfg.n_instances, seed=cfg.builtin_seed)


def load_source(cfg: Any) -> TaskCollection:
    """The tasks of a config's ``tasks`` section: a registered source, else a path."""
    if cfg.source in TASK_SOURCES:
        return TASK_SOURCES.get(cfg.source)(cfg)
    from instructkit.tasks.collection import load_collection

    return load_collection(cfg.source, track=cfg.track)
