"""Experiments: configs, the runs they describe, and their reports."""

from typing import TYPE_CHECKING

from instructkit._lazy import lazy_exports

_EXPORTS = {
    "ExperimentConfig": "config",
    "default_config": "config",
    "dump_config": "config",
    "load_config": "config",
    "parse_config": "config",
    "tiny_overrides": "config",
    "RunResult": "single",
    "run_experiment": "single",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [
    "ExperimentConfig",
    "RunResult",
    "default_config",
    "dump_config",
    "load_config",
    "parse_config",
    "run_experiment",
    "tiny_overrides",
]

if TYPE_CHECKING:
    from instructkit.experiments.config import (
        ExperimentConfig,
        default_config,
        dump_config,
        load_config,
        parse_config,
        tiny_overrides,
    )
    from instructkit.experiments.single import RunResult, run_experiment
