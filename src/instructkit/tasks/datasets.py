"""Tasks made of dataset rows (T0 / FLAN style): a Hugging Face dataset by name, subset and
split, or local JSONL / CSV / Parquet files in the same field layout, both read through
``datasets.load_dataset`` (so the hub, its cache and offline mode behave as usual).

A :class:`DatasetSpec` (one entry of a config's ``tasks.datasets``) names the data, the
task's cluster and category (FLAN's clusters, T0's task types), and the templates that
render its rows: a PromptSource ``templates.yaml`` (all templates, a list, or only
``original_task`` ones) and FLAN's pattern collection with a field map. The templates go
with the task as plain data (``Task.extra``); the prompt families read them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from instructkit.errors import TaskFormatError
from instructkit.tasks.collection import TaskCollection
from instructkit.tasks.schema import Instance, Task

LOCAL_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
DATA_ROOT_DEFAULT = "../shared/data"  # the reference data beside a checkout


def expand_path(value: str) -> str:
    """``$INSTRUCTKIT_DATA`` (default ``../shared/data``), other variables and ``~``."""
    import os

    root = os.environ.get("INSTRUCTKIT_DATA", DATA_ROOT_DEFAULT)
    value = value.replace("${INSTRUCTKIT_DATA}", root).replace("$INSTRUCTKIT_DATA", root)
    return os.path.expanduser(os.path.expandvars(value))


def shipped_flan_maps() -> dict[str, Any]:
    """The FLAN field maps shipped for the T0 held-out datasets (``flan: <name>``)."""
    from importlib.resources import files

    import yaml

    text = (files("instructkit") / "configs" / "flan_field_maps.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


class FlanSpec(BaseModel):
    """FLAN's templates for a dataset: which patterns, and how its columns fill them."""

    model_config = ConfigDict(extra="forbid")

    patterns: str | None = Field(
        None,
        validate_default=True,
        description="FLAN's collection: a JSON export (dataset -> [[input, target], ...] under "
        "'v1'/'v2') or a FLAN checkout's flan/templates.py or flan/v2/templates.py (read "
        "without importing it); default: the shipped field maps' patterns file.",
    )
    version: Literal["v1", "v2"] = Field("v1", description="FLAN v1 (the paper) or v2.")
    dataset: str = Field(description="The dataset's key in FLAN's collection (e.g. 'rte').")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="FLAN placeholder -> column name, or a Jinja expression over the row "
        "(e.g. \"{{ sentence.split('_')[0] }}\").",
    )
    options: list[str] | str | None = Field(
        None,
        description="The answer options in the dataset's order: a list, or a Jinja "
        "expression giving one option per line (per-row options such as COPA's choices).",
    )
    answer: str | None = Field(
        None,
        description="The answer: a Jinja expression (e.g. '{{ label }}' as an index into "
        "options, or text); with options and an integer, the option at that index.",
    )

    @field_validator("patterns")
    @classmethod
    def _expand(cls, v: str | None) -> str:
        return expand_path(v or "${INSTRUCTKIT_DATA}/flan/patterns.json")


class DatasetSpec(BaseModel):
    """One dataset as a task."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Task name.")
    path: str = Field(
        description="A Hugging Face dataset name (e.g. 'super_glue') or a local file / folder "
        "(JSONL, CSV, Parquet)."
    )
    subset: str | None = Field(None, description="The dataset's configuration (e.g. 'rte').")
    split: str = Field("validation", description="Which split (hub datasets).")
    files: list[str] = Field(
        default_factory=list, description="Local files (relative to path when it is a folder)."
    )
    cluster: str | None = Field(None, description="Task cluster (FLAN) or task type (T0).")
    category: str | None = Field(None, description="Category (task type) of the task.")
    id_field: str | None = Field("idx", description="The column that identifies a row.")
    max_instances: int | None = Field(None, ge=1, description="Read at most this many rows.")
    templates: str | None = Field(
        None, description="PromptSource templates.yaml of this dataset (or its folder)."
    )
    template_names: list[str] | None = Field(
        None, description="Only these PromptSource templates (names or ids)."
    )
    original_task_only: bool = Field(
        False, description="Only templates whose metadata says original_task: true (T0)."
    )
    flan: FlanSpec | None = Field(
        None,
        description="FLAN's templates for this dataset: a field map, or the name of a shipped "
        "one (rte, cb, anli, copa, wic, wsc, winogrande).",
    )

    @field_validator("path", "templates")
    @classmethod
    def _expand(cls, v: str | None) -> str | None:
        return expand_path(v) if v is not None else None

    @field_validator("flan", mode="before")
    @classmethod
    def _shipped(cls, v: Any) -> Any:
        if isinstance(v, str):
            maps = shipped_flan_maps()
            if v not in maps:
                raise ValueError(f"no shipped FLAN field map '{v}'; shipped: {', '.join(maps)}")
            return maps[v]
        return v


def _data_files(spec: DatasetSpec) -> tuple[str, dict[str, Any]] | None:
    """(builder, arguments) of local data, or None for a hub dataset."""
    path = Path(spec.path)
    if not path.exists():
        return None
    files = (
        [path / f for f in spec.files]
        if path.is_dir()
        else [path] + [path.parent / f for f in spec.files]
    )
    if path.is_dir() and not spec.files:
        files = sorted(p for p in path.iterdir() if p.suffix in LOCAL_BUILDERS)
    if not files:
        raise TaskFormatError(path, "files", "no JSONL, CSV or Parquet files here")
    builders = {LOCAL_BUILDERS.get(f.suffix) for f in files}
    if None in builders or len(builders) != 1:
        raise TaskFormatError(path, "files", "give files of one kind: JSONL, CSV or Parquet")
    for f in files:
        if not f.exists():
            raise TaskFormatError(f, None, "file not found")
    return builders.pop() or "json", {"data_files": [str(f) for f in files]}


def load_dataset_task(spec: DatasetSpec) -> Task:
    """The task of a dataset spec: one instance per row, the row in ``Instance.fields``."""
    import datasets

    local = _data_files(spec)
    where = f"{spec.path}" + (f"/{spec.subset}" if spec.subset else "")
    try:
        if local is not None:
            builder, kwargs = local
            ds = datasets.load_dataset(builder, split="train", **kwargs)
        else:
            ds = datasets.load_dataset(spec.path, spec.subset, split=spec.split)
    except Exception as e:  # datasets raises many kinds (offline, missing config, ...)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TaskFormatError(where, None, f"cannot load dataset '{spec.name}': {first}") from None
    if spec.max_instances is not None:
        ds = ds.select(range(min(spec.max_instances, len(ds))))
    instances = []
    seen: set[str] = set()
    for k, row in enumerate(ds):
        value = row.get(spec.id_field) if spec.id_field else None
        iid = f"{spec.name}-{value if value is not None else k}"
        if iid in seen:
            iid = f"{spec.name}-{k}"
        seen.add(iid)
        text = "\n".join(f"{c}: {v}" for c, v in row.items())
        instances.append(Instance(id=iid, input=text, outputs=[], fields=dict(row)))
    if not instances:
        raise TaskFormatError(where, None, f"dataset '{spec.name}' holds no rows")
    extra: dict[str, Any] = {}
    if spec.templates is not None:
        extra["promptsource"] = {
            "file": spec.templates,
            "names": spec.template_names,
            "original_task_only": spec.original_task_only,
        }
    if spec.flan is not None:
        extra["flan"] = spec.flan.model_dump()
    return Task(
        name=spec.name,
        definition="",
        title=spec.name,
        categories=[spec.category] if spec.category else [],
        cluster=spec.cluster,
        source=[where],
        instances=instances,
        extra=extra,
    )


def dataset_collection(specs: list[DatasetSpec]) -> TaskCollection:
    """A collection over dataset specs; each dataset is read on first use."""
    from functools import partial

    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise TaskFormatError("tasks.datasets", "name", f"'{dup}' names two datasets")
    return TaskCollection(loaders={s.name: partial(load_dataset_task, s) for s in specs})
