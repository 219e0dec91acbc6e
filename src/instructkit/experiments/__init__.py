"""Experiments: configs, the runs they describe, and their reports."""

from instructkit.experiments.config import (
    ExperimentConfig,
    default_config,
    dump_config,
    load_config,
    parse_config,
    tiny_overrides,
)
from instructkit.experiments.single import RunResult, run_experiment

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
