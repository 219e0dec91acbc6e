"""Experiment configs: YAML validated by pydantic; every field documented here.

``instructkit run`` with no config runs :func:`default_config`; a YAML file overrides any
subset of its fields. The resolved config is saved beside the results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from instructkit.errors import ConfigError, read_yaml_mapping
from instructkit.prompts.superni import ENCODINGS
from instructkit.tasks.datasets import DatasetSpec
from instructkit.training.config import TrainConfig


def check_name(name: str, what: str = "name") -> str:
    """A run, sweep or cell name becomes a folder: one plain path component, never a way
    out of the output folder."""
    bad = (
        not name
        or name in (".", "..")
        or any(c in name for c in ("/", "\\", "\0"))
        or name != name.strip()
    )
    if bad:
        raise ConfigError(
            None, what, f"{name!r} cannot name a folder (no '/', '\\', '..' or surrounding spaces)"
        )
    return name


def folder_name(v: str) -> str:
    """:func:`check_name` as a pydantic validator (a ValueError with the problem)."""
    try:
        return check_name(v)
    except ConfigError as e:
        raise ValueError(e.problem) from None


def _check_registered(registry: Any, name: str) -> str:
    """A config value that must name a registry entry (a "did you mean" otherwise)."""
    from instructkit.errors import UnknownNameError

    if name not in registry:
        raise ValueError(str(UnknownNameError(registry.what, name, registry.names())))
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TasksConfig(_Strict):
    """Which tasks, and how they are split between training and evaluation."""

    source: str = Field(
        "builtin",
        description="'builtin' (the generated suite), 'datasets' (the rows of tasks.datasets), "
        "another registered task source, or a path: a SuperNI folder (tasks/ + splits/), a "
        "folder of task files, or one task file.",
    )
    datasets: list[DatasetSpec] = Field(
        default_factory=list,
        description="source 'datasets': Hugging Face datasets or local JSONL/CSV/Parquet files "
        "as tasks, with their PromptSource templates and FLAN patterns.",
    )
    clusters: dict[str, list[str]] | str | None = Field(
        None,
        description="Clusters (FLAN) or task types (T0): a map cluster -> task names, or a "
        "YAML file of one; overrides the tasks' own clusters.",
    )
    clusters_from_categories: bool = Field(
        False, description="Use each task's category as its cluster (SuperNI categories)."
    )
    n_instances: int = Field(120, ge=1, description="Instances generated per built-in task.")
    builtin_seed: int = Field(1234, description="Seed of the built-in suite's generator.")
    held_out_clusters: list[str] = Field(
        default_factory=lambda: ["rule_classification"],
        description="Leave-one-cluster-out: clusters whose tasks are evaluated, never trained.",
    )
    train_tasks: list[str] | None = Field(
        None, description="Explicit training tasks (overrides held_out_clusters)."
    )
    eval_tasks: list[str] | None = Field(
        None, description="Explicit evaluation tasks (overrides held_out_clusters)."
    )
    split: Literal["train", "test"] | None = Field(
        None, description="For a SuperNI folder without explicit lists: use the official split."
    )
    track: Literal["default", "xlingual"] = Field("default", description="SuperNI track.")
    train_instances_per_task: int = Field(
        80, ge=0, description="Cap on training instances per task (examples-proportional)."
    )
    eval_instances_per_task: int = Field(
        20, ge=1, description="Evaluation instances per task (official SuperNI: 100)."
    )
    leakage_rule: bool = Field(
        True, description="Exclude training tasks that share a source dataset with an eval task."
    )
    adapt_on_eval_tasks: bool = Field(
        False,
        description="Train on the evaluation tasks' own instances that follow the evaluation "
        "instances, instead of on the training tasks (FLAN's prompt tuning of unseen tasks).",
    )


class SplitConfig(_Strict):
    """Which split protocol; ``auto`` keeps the behaviour of the ``tasks`` section."""

    protocol: str = Field(
        "auto",
        description="A registered split protocol (instructkit.mixtures.protocols): auto, "
        "leave-one-cluster-out, superni-official, natinst-random, leave-one-category, "
        "leave-one-dataset, leave-one-task, task-types, custom. auto: explicit task lists, "
        "else the official split of a SuperNI folder, else leave-one-cluster-out over "
        "tasks.held_out_clusters.",
    )
    held_out: list[str] = Field(
        default_factory=list,
        description="What is held out: clusters, a category, a dataset, a task or task types.",
    )
    also_hold_out: list[str] = Field(
        default_factory=list, description="FLAN: related clusters also kept out of training."
    )
    per_category: int = Field(2, ge=1, description="natinst-random: tasks held out per category.")
    file: str | None = Field(None, description="custom: YAML with train and eval task lists.")

    @field_validator("protocol")
    @classmethod
    def _registered(cls, v: str) -> str:
        from instructkit.mixtures.protocols import SPLIT_PROTOCOLS

        return _check_registered(SPLIT_PROTOCOLS, v)


class MixtureConfig(_Strict):
    """How training examples are sampled from the training tasks."""

    rate: str = Field(
        "examples-proportional",
        description="Mixing rate of each task, a registered rate (instructkit.mixtures."
        "mixture.MIXING_RATES): examples-proportional, temperature, uniform.",
    )
    cap: int | None = Field(None, ge=1, description="Examples-proportional cap per task (FLAN).")
    temperature: float = Field(
        1.0,
        gt=0,
        allow_inf_nan=False,
        description="Temperature T: rates ∝ min(scale·n, cap)^(1/T) (seqio); T = 1 is "
        "plain examples-proportional mixing.",
    )
    scale: float = Field(
        1.0,
        gt=0,
        allow_inf_nan=False,
        description="seqio's scale: each task's size is multiplied before the cap.",
    )
    template_cap: int | None = Field(None, ge=1, description="Examples per template and task.")
    length: int | None = Field(None, ge=1, description="Stream length; default: all examples.")
    target: Literal["first", "random"] = Field(
        "first",
        description="Training target: the first reference, or one drawn per instance "
        "(seeded), as Tk-Instruct draws its label.",
    )

    @field_validator("rate")
    @classmethod
    def _registered(cls, v: str) -> str:
        from instructkit.mixtures.mixture import MIXING_RATES

        return _check_registered(MIXING_RATES, v)


class AuditConfig(_Strict):
    """Contamination audit between evaluation data and the training mixture."""

    ngram: int = Field(13, ge=3, description="n of the word n-grams compared.")
    drop_overlaps: bool = Field(False, description="Drop training examples that overlap.")
    corpus: list[str] = Field(default_factory=list, description="Text files to audit against.")


class PromptConfig(_Strict):
    """How instances become model inputs."""

    encoding: str = Field(
        "Def+Pos(2)",
        description="Prompt of evaluation (and training): a SuperNI encoding name, or any "
        "template id (superni:…, natinst:…, flan:…).",
    )
    train_encodings: list[str] | None = Field(
        None,
        description="Encodings to sample from per training instance (Tk-Instruct's mixed "
        "encodings; 'tk-instruct' stands for Def, Pos(2), Def+Pos(2), Def+Pos(2)+Neg(2) and "
        "Def+Pos(2)+Expl); default: the evaluation encoding only.",
    )
    redraw_encodings: bool = Field(
        False,
        description="Draw a training instance's encoding again every time it is used, as "
        "Tk-Instruct's collator does (default: one draw per instance).",
    )

    @field_validator("encoding")
    @classmethod
    def _known(cls, v: str) -> str:
        from instructkit.prompts.render import is_known_template

        if not is_known_template(v):
            raise ValueError(
                f"unknown encoding or template {v!r}; encodings: {', '.join(ENCODINGS)}; "
                "or a template id such as natinst:full instruction or flan:3"
            )
        return v

    @field_validator("train_encodings")
    @classmethod
    def _known_all(cls, v: list[str] | None) -> list[str] | None:
        from instructkit.prompts.render import is_known_template
        from instructkit.prompts.superni import TK_INSTRUCT_MIX

        if v is not None and not v:
            raise ValueError("give at least one encoding, or leave the field out")
        if v is not None:
            v = [x for e in v for x in (TK_INSTRUCT_MIX if e == "tk-instruct" else [e])]
        for e in v or []:
            if not is_known_template(e):
                raise ValueError(f"unknown encoding or template {e!r}")
        return v


class ModelConfig(_Strict):
    """Which pretrained model."""

    name: str = Field(
        "default",
        description="'default' (packaged SmolLM2-135M-Instruct), 'tiny', 'tiny-t5', a .gguf "
        "file, a Hugging Face hub id or a local folder.",
    )
    trust_remote_code: bool = Field(False, description="Allow model code from the hub.")


class EvalConfig(_Strict):
    """How held-out tasks are evaluated."""

    max_new_tokens: int = Field(16, ge=1, description="Generation length limit.")
    batch_size: int = Field(16, ge=1, description="Generation batch size.")
    max_source_tokens: int = Field(512, ge=8, description="Source truncated from the left.")
    stop: list[str] = Field(
        default_factory=lambda: ["\n"], description="A prediction ends at the first of these."
    )
    templates: list[str] | None = Field(
        None,
        description="Templates the held-out tasks are evaluated with (default: "
        "prompt.encoding); 'family:*' is every template of a family (T0: "
        "'promptsource:*'). With several, numbers are also reported per template.",
    )
    chat_template: bool = Field(
        False,
        description="Wrap each prompt as a user turn in the model's chat template before "
        "generating (instruct models); the prompt key changes with it.",
    )
    before_tuning: bool = Field(True, description="Also evaluate the model before tuning.")
    rank_classification: bool = Field(
        False,
        description="Also score instances that have answer options by rank classification "
        "(the option of highest log-likelihood; T0's accuracy).",
    )


class ExperimentConfig(_Strict):
    """A single run: tune on the training tasks, evaluate zero-shot on held-out tasks."""

    name: str = Field("default", description="Run name: results go to <output_dir>/<name>/.")
    output_dir: str = Field("runs", description="Parent folder of run folders.")
    seed: int = Field(0, description="Global seed (data order, init, dropout).")
    tasks: TasksConfig = Field(default_factory=TasksConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    mixture: MixtureConfig = Field(default_factory=MixtureConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    save_model: bool = Field(True, description="Save the tuned model (safetensors) in the run.")

    _safe_name = field_validator("name")(classmethod(lambda cls, v: folder_name(v)))
    # The YAML file the config was read from (errors that its values lead to name it).
    _source: str | None = PrivateAttr(None)

    @property
    def source_file(self) -> str | None:
        """The file this config was read from, if any."""
        return self._source

    def from_file(self, path: str | Path | None) -> ExperimentConfig:
        """This config, remembered as read from ``path``."""
        self._source = None if path is None else str(path)
        return self

    @property
    def run_dir(self) -> Path:
        """``<output_dir>/<name>``; the name is checked here too (configs derived with
        ``model_copy`` skip validation), so a run folder never lies outside output_dir."""
        check_name(self.name)
        return Path(self.output_dir) / self.name


def default_config() -> ExperimentConfig:
    """The built-in default: built-in suite, one cluster held out, Def+Pos(2), SmolLM2."""
    return ExperimentConfig()


def tiny_overrides(config: ExperimentConfig) -> ExperimentConfig:
    """Settings that make a run with a tiny model finish in well under a minute."""
    return config.model_copy(
        update={
            "train": config.train.model_copy(
                update={"steps": 30, "learning_rate": 1e-3, "mixed_precision": "no"}
            ),
            "eval": config.eval.model_copy(update={"max_new_tokens": 8}),
            "tasks": config.tasks.model_copy(update={"eval_instances_per_task": 10}),
        }
    )


def _first_error(e: ValidationError) -> tuple[str, str]:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    return loc, err["msg"]


def parse_config(data: dict[str, Any], path: str | Path | None = None) -> ExperimentConfig:
    """Validate a config mapping; errors name the file and the field."""
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as e:
        loc, msg = _first_error(e)
        raise ConfigError(path, loc, msg) from None


def builtin_config_path(name: str) -> Path:
    """An experiment config shipped with the package (``builtin:<name>``)."""
    from importlib.resources import files

    from instructkit.errors import UnknownNameError

    folder = files("instructkit") / "configs" / "experiments"
    names = sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )
    if name not in names:
        raise UnknownNameError("built-in experiment config", name, names)
    return Path(str(folder / f"{name}.yaml"))


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a YAML experiment config (or ``builtin:<name>``)."""
    if str(path).startswith("builtin:"):
        path = builtin_config_path(str(path).removeprefix("builtin:"))
    return parse_config(read_yaml_mapping(path, "config file"), path).from_file(path)


def dump_config(config: ExperimentConfig) -> str:
    """The config as YAML, every field resolved."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
