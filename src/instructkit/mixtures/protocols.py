"""Split protocols by name: a config's ``split.protocol`` is looked up here.

Each protocol is a function ``(config, tasks) -> Split`` that reads what it needs from the
experiment config (``split`` and ``tasks`` sections, the seed). A new protocol is one
function and one ``SPLIT_PROTOCOLS.register`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from instructkit.errors import ConfigError
from instructkit.mixtures.split import (
    Split,
    explicit_split,
    held_out_task_types,
    leave_one_category,
    leave_one_cluster_out,
    leave_one_dataset,
    leave_one_task,
    natinst_random,
    split_from_yaml,
    superni_official,
)
from instructkit.registry import Registry
from instructkit.tasks.collection import TaskCollection

if TYPE_CHECKING:
    from instructkit.experiments.config import ExperimentConfig

SplitProtocol = Callable[["ExperimentConfig", TaskCollection], Split]

SPLIT_PROTOCOLS: Registry[SplitProtocol] = Registry(
    "split protocol", entry_points="instructkit.split_protocols"
)


def _one(config: ExperimentConfig) -> str:
    held = config.split.held_out
    if len(held) != 1:
        raise ConfigError(None, "split.held_out", f"{config.split.protocol} needs exactly one name")
    return held[0]


@SPLIT_PROTOCOLS.register("auto")
def auto(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    """Explicit task lists, else the official split of a SuperNI folder, else
    leave-one-cluster-out over ``tasks.held_out_clusters``."""
    tc = config.tasks
    if tc.train_tasks is not None or tc.eval_tasks is not None:
        return explicit_split(
            tasks, tc.train_tasks or [], tc.eval_tasks or [], leakage_rule=tc.leakage_rule
        )
    if (Path(tc.source) / "splits").is_dir():
        return superni_official(tc.source, tasks, track=tc.track)
    if not tc.held_out_clusters:
        raise ConfigError(None, "tasks.held_out_clusters", "give held-out clusters or task lists")
    return leave_one_cluster_out(tasks, tc.held_out_clusters, leakage_rule=tc.leakage_rule)


@SPLIT_PROTOCOLS.register("leave-one-cluster-out")
def loco(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    sc = config.split
    return leave_one_cluster_out(
        tasks, sc.held_out, also_hold_out=sc.also_hold_out, leakage_rule=config.tasks.leakage_rule
    )


@SPLIT_PROTOCOLS.register("superni-official")
def official(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    return superni_official(config.tasks.source, tasks, track=config.tasks.track)


@SPLIT_PROTOCOLS.register("natinst-random")
def natinst(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    return natinst_random(
        tasks,
        per_category=config.split.per_category,
        seed=config.seed,
        leakage_rule=config.tasks.leakage_rule,
    )


@SPLIT_PROTOCOLS.register("leave-one-category")
def one_category(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    return leave_one_category(tasks, _one(config), leakage_rule=config.tasks.leakage_rule)


@SPLIT_PROTOCOLS.register("leave-one-dataset")
def one_dataset(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    return leave_one_dataset(tasks, _one(config), leakage_rule=config.tasks.leakage_rule)


@SPLIT_PROTOCOLS.register("leave-one-task")
def one_task(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    return leave_one_task(tasks, _one(config), leakage_rule=config.tasks.leakage_rule)


@SPLIT_PROTOCOLS.register("task-types")
def task_types(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    return held_out_task_types(tasks, config.split.held_out, leakage_rule=config.tasks.leakage_rule)


@SPLIT_PROTOCOLS.register("custom")
def custom(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    if config.split.file is None:
        raise ConfigError(None, "split.file", "the custom protocol needs a YAML file")
    return split_from_yaml(config.split.file, tasks, leakage_rule=config.tasks.leakage_rule)
