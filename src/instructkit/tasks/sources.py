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
    """The tasks of a config's ``tasks`` section: a registered source, else a path; then
    clusters from ``tasks.clusters`` (a map, or a YAML file of one) or from categories."""
    if cfg.source in TASK_SOURCES:
        tasks = TASK_SOURCES.get(cfg.source)(cfg)
    else:
        from instructkit.tasks.collection import load_collection

        tasks = load_collection(cfg.source, track=cfg.track)
    clusters = getattr(cfg, "clusters", None)
    if isinstance(clusters, str):
        from instructkit.errors import ConfigError, read_yaml_mapping

        clusters = read_yaml_mapping(clusters, "clusters file")
        for c, names in clusters.items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ConfigError(cfg.clusters, c, "expected a list of task names")
    if clusters:
        tasks = with_clusters(tasks, clusters)
    if getattr(cfg, "clusters_from_categories", False):
        tasks = with_categories_as_clusters(tasks)
    return tasks


@TASK_SOURCES.register("datasets")
def datasets_source(cfg: Any) -> TaskCollection:
    """Dataset rows as tasks (``tasks.datasets``: Hugging Face or local files)."""
    from instructkit.tasks.datasets import dataset_collection

    if not cfg.datasets:
        from instructkit.errors import ConfigError

        raise ConfigError(None, "tasks.datasets", "the 'datasets' source needs datasets listed")
    return dataset_collection(cfg.datasets)


def with_clusters(tasks: TaskCollection, clusters: dict[str, list[str]]) -> TaskCollection:
    """The collection with clusters assigned from a map cluster -> task names (FLAN's
    clusters, T0's task types); tasks the map does not name keep theirs."""
    from functools import partial

    of = {t: c for c, names in clusters.items() for t in names}
    unknown = sorted(set(of) - set(tasks.names))
    if unknown:
        from instructkit.errors import UnknownNameError

        raise UnknownNameError("task in tasks.clusters", unknown[0], tasks.names)

    def load(name: str) -> Any:
        task = tasks[name]
        return task.model_copy(update={"cluster": of[name]}) if name in of else task

    return TaskCollection(
        loaders={n: partial(load, n) for n in tasks.names}, missing=list(tasks.missing)
    )


def with_categories_as_clusters(tasks: TaskCollection) -> TaskCollection:
    """The collection with each task's category as its cluster (SuperNI categories as
    FLAN-style clusters)."""
    from functools import partial

    def load(name: str) -> Any:
        task = tasks[name]
        key = task.category.lower().replace(" ", "_") or None
        return task.model_copy(update={"cluster": key})

    return TaskCollection(
        loaders={n: partial(load, n) for n in tasks.names}, missing=list(tasks.missing)
    )
