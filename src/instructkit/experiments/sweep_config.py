"""Sweep configs: pure data (no torch), so ``instructkit sweep`` validates a sweep file,
and reports read one, before any model is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from instructkit.errors import ConfigError, UnknownNameError, named_by, read_yaml_mapping
from instructkit.experiments.config import ExperimentConfig, folder_name
from instructkit.experiments.kinds import FORWARD_TEMPLATES, SWEEP_KINDS
from instructkit.prompts.render import is_known_template
from instructkit.training.config import MethodConfig, TrainConfig


class SweepConfig(BaseModel):
    """A sweep: its kind, the values it varies, and the base single-run config."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="Which study: a registered sweep kind (experiments.kinds).")
    name: str = Field(description="Experiment name in the store and the report folder.")
    store: str = Field("runs/results.sqlite", description="SQLite results store.")
    base: ExperimentConfig = Field(
        default_factory=ExperimentConfig,
        description="Base run: a config mapping, or the path of one (or builtin:<name>).",
    )

    _safe_name = field_validator("name")(classmethod(lambda cls, v: folder_name(v)))
    # The YAML file the sweep was read from (errors its values lead to name it).
    _source: str | None = PrivateAttr(None)

    @property
    def source_file(self) -> str | None:
        """The file this sweep was read from, if any."""
        return self._source

    @field_validator("base", mode="before")
    @classmethod
    def _base_from_file(cls, v: Any) -> Any:
        if isinstance(v, str):
            from instructkit.experiments.config import load_config

            return load_config(v).model_dump()
        return v

    clusters: list[str] = Field(
        default_factory=list,
        description="loco: the held-out clusters; clusters: the order in which training "
        "clusters are added (default: a seeded shuffle).",
    )
    train_encodings: list[str] = Field(
        default_factory=lambda: ["Def", "Pos(2)", "Def+Pos(2)"], description="encoding-matrix rows."
    )
    test_encodings: list[str] = Field(
        default_factory=lambda: ["Def", "Pos(2)", "Def+Pos(2)"],
        description="encoding-matrix columns.",
    )
    values: list[int] = Field(
        default_factory=list,
        description="The x values: training tasks, instances per task, training clusters, "
        "templates per task, or training tasks per cluster.",
    )
    models: list[str] = Field(default_factory=list, description="scaling-models: model names.")
    prompts: list[str] = Field(
        default_factory=list,
        description="prompts: encodings or template ids, one model each (e.g. the NI v1 field "
        "sets natinst:prompt ... natinst:full instruction, or flan:zeroshot vs flan:fewshot).",
    )
    eval_templates: list[str] = Field(
        default_factory=lambda: list(FORWARD_TEMPLATES),
        description="templates / datasets: every held-out task is evaluated with each of these.",
    )
    prompt_tuning: TrainConfig = Field(
        default_factory=lambda: TrainConfig(
            steps=30,
            learning_rate=0.03,
            warmup_steps=2,
            tuning=MethodConfig(method="prompt-tuning", num_virtual_tokens=20),
        ),
        description="prompt-tuning: how the soft prompt is trained on the held-out tasks.",
    )


BUILTIN_SWEEPS = (
    "loco",
    "clusters",
    "datasets",
    "prompt_tuning",
    "encoding_matrix",
    "natinst_fields",
    "fewshot",
    "templates",
    "scaling_tasks",
    "scaling_instances",
    "scaling_models",
    "flan_loco",
)


def builtin_sweep_path(name: str) -> Path:
    """A small-scale sweep config shipped with the package (``builtin:<name>``)."""
    from importlib.resources import files

    from instructkit.errors import UnknownNameError

    if name not in BUILTIN_SWEEPS:
        raise UnknownNameError("built-in sweep", name, list(BUILTIN_SWEEPS))
    return Path(str(files("instructkit") / "configs" / "sweeps" / f"{name}.yaml"))


def load_sweep(path: str | Path) -> SweepConfig:
    """Read and validate a sweep YAML (or ``builtin:<name>``); errors name the file and
    the field."""
    if isinstance(path, str) and path.startswith("builtin:"):
        path = builtin_sweep_path(path.removeprefix("builtin:"))
    path = Path(path)
    data = read_yaml_mapping(path, "sweep config")
    try:
        with named_by(path, "base"):
            cfg = SweepConfig.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from None
    if cfg.kind not in SWEEP_KINDS:
        raise ConfigError(
            path, "kind", str(UnknownNameError("sweep kind", cfg.kind, SWEEP_KINDS.names()))
        )
    for field, names in (
        ("train_encodings", cfg.train_encodings),
        ("test_encodings", cfg.test_encodings),
        ("prompts", cfg.prompts),
        ("eval_templates", cfg.eval_templates),
    ):
        for name in names:
            if not is_known_template(name):
                raise ConfigError(path, field, f"unknown encoding or template {name!r}")
    cfg._source = str(path)
    return cfg
