"""What a config asks for, before any model is loaded: its tasks, its split, its training
mixture and how its prompts are rendered. No torch here: ``split show``, ``mix build``
(without tokenising) and ``audit`` use these alone."""

from __future__ import annotations

from instructkit.errors import named_by
from instructkit.experiments.config import ExperimentConfig
from instructkit.mixtures.mixture import Mixture, build_mixture
from instructkit.mixtures.protocols import SPLIT_PROTOCOLS
from instructkit.mixtures.split import Split
from instructkit.prompts.render import RenderContext, TokenCounter
from instructkit.tasks.collection import TaskCollection
from instructkit.tasks.sources import load_source


def load_tasks(config: ExperimentConfig) -> TaskCollection:
    """The task collection a config names (a registered task source or a path)."""
    with named_by(config.source_file, "tasks"):
        return load_source(config.tasks)


def make_split(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    """The train / eval split a config asks for (a registered split protocol)."""
    with named_by(config.source_file, "split"):
        return SPLIT_PROTOCOLS.get(config.split.protocol)(config, tasks)


def training_tasks(config: ExperimentConfig, split: Split) -> list[str]:
    """The tasks the mixture draws from: the split's training tasks, or its evaluation
    tasks when the config adapts on them."""
    return split.eval if config.tasks.adapt_on_eval_tasks else split.train


def eval_context(
    config: ExperimentConfig, count_tokens: TokenCounter | None = None
) -> RenderContext:
    """How evaluation prompts are rendered: the evaluation budget and the run's seed."""
    return RenderContext(
        count_tokens=count_tokens,
        max_source_tokens=config.eval.max_source_tokens,
        seed=config.seed,
    )


def make_mixture(
    config: ExperimentConfig,
    tasks: TaskCollection,
    split: Split,
    count_tokens: TokenCounter | None = None,
) -> Mixture:
    """The training mixture a config asks for; with ``count_tokens``, every example is
    rendered within ``train.max_source_tokens`` exactly as evaluation renders it."""
    mc = config.mixture
    adapt = config.tasks.adapt_on_eval_tasks
    return build_mixture(
        tasks,
        training_tasks(config, split),
        encoding=config.prompt.train_encodings or config.prompt.encoding,
        max_per_task=config.tasks.train_instances_per_task,
        # The evaluation instances are each task's first ones: adapt on those after them.
        skip=config.tasks.eval_instances_per_task if adapt else 0,
        rate=mc.rate,
        cap=mc.cap,
        temperature=mc.temperature,
        scale=mc.scale,
        redraw=config.prompt.redraw_encodings,
        target=mc.target,
        template_cap=mc.template_cap,
        length=mc.length,
        seed=config.seed,
        count_tokens=count_tokens,
        max_source_tokens=config.train.max_source_tokens,
    )
