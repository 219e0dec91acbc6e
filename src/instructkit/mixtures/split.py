"""Train / evaluation splits that explain themselves.

Protocols:

- SuperNI's official splits (default English and cross-lingual tracks), from split files;
- Natural Instructions v1: random (two tasks of each category held out), leave-one-
  category, leave-one-dataset, leave-one-task;
- FLAN: leave-one-cluster-out, optionally also holding out named related clusters;
- T0: held-out task types (every task of those types is evaluated, none trained on);
- explicit lists (YAML or Python).

Splits work on :class:`TaskInfo` records (name, categories, source datasets, cluster), so
they run on metadata alone. The leakage rule is on by default: a training task that
shares a source dataset with an evaluation task is excluded (as SuperNI's excluded list
does), and each exclusion is reported with its reason. An evaluation task is never in
training.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from instructkit.errors import ConfigError, UnknownNameError, read_yaml_mapping
from instructkit.tasks.collection import TaskCollection
from instructkit.tasks.superni import read_split_file


@dataclass(frozen=True)
class TaskInfo:
    """What a split needs to know of a task."""

    name: str
    categories: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    cluster: str = ""
    # False when ``source`` is only guessed from the task's name (no task file at hand):
    # the leakage rule acts on sources read from task files only.
    source_known: bool = True

    @property
    def category(self) -> str:
        return self.categories[0] if self.categories else ""


@dataclass(frozen=True)
class Placement:
    """Where one task went and why."""

    task: str
    role: str  # "train" | "eval" | "excluded"
    reason: str


@dataclass
class Split:
    """Training tasks, evaluation tasks, excluded tasks, and the reason for each."""

    protocol: str
    train: list[str] = field(default_factory=list)
    eval: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    placements: dict[str, Placement] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)  # listed by split files, not present

    @property
    def warnings(self) -> list[str]:
        """What a user should know about the split (e.g. a partial SuperNI checkout)."""
        if not self.absent:
            return []
        shown = ", ".join(self.absent[:5]) + (", ..." if len(self.absent) > 5 else "")
        return [
            f"{len(self.absent)} task(s) listed in the split files are not in the task folder "
            f"and are left out: {shown}"
        ]

    def explain(self, task: str) -> str:
        """One line: where the task went and why."""
        if task not in self.placements:
            raise UnknownNameError("task", task, list(self.placements))
        p = self.placements[task]
        return f"{task}: {p.role} ({p.reason})"

    def _place(self, task: str, role: str, reason: str) -> None:
        if task in self.placements:
            return  # the first placement stands (eval and exclusions are placed first)
        {"train": self.train, "eval": self.eval, "excluded": self.excluded}[role].append(task)
        self.placements[task] = Placement(task, role, reason)

    def to_json(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "train": self.train,
            "eval": self.eval,
            "excluded": self.excluded,
            "reasons": {t: f"{p.role}: {p.reason}" for t, p in self.placements.items()},
            "absent": self.absent,
        }


TasksLike = TaskCollection | Sequence[TaskInfo]


def task_infos(tasks: TasksLike) -> list[TaskInfo]:
    """TaskInfo records of a collection (or the records themselves)."""
    if isinstance(tasks, TaskCollection):
        return [
            TaskInfo(t.name, tuple(t.categories), tuple(t.source), t.cluster or "") for t in tasks
        ]
    return list(tasks)


def dataset_from_name(name: str) -> str:
    """The source dataset a SuperNI task name carries: ``task020_mctaco_span...`` →
    ``mctaco`` (used where a task's "Source" field is not at hand)."""
    parts = name.split("_")
    return parts[1] if len(parts) > 1 and parts[0].startswith("task") else name


def superni_infos(root: str | Path) -> list[TaskInfo]:
    """TaskInfo of every task in a SuperNI folder's ``task_metadata.jsonl`` (all 1,613
    tasks of the split files), with categories from the reference file and task files where
    present and the source dataset from the task file or, failing that, the task name."""
    root = Path(root)
    meta = root / "task_metadata.jsonl"
    if not meta.exists():
        raise ConfigError(meta, None, "SuperNI metadata file not found")
    names = [
        json.loads(x)["task"] for x in meta.read_text(encoding="utf-8").splitlines() if x.strip()
    ]
    categories: dict[str, str] = {}
    refs = root / "test_references_en.jsonl"
    if refs.exists():
        for line in refs.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            categories.setdefault(r["task_id"], r.get("task_category", ""))
    sources: dict[str, tuple[str, ...]] = {}
    for f in (root / "tasks").glob("*.json"):
        raw = json.loads(f.read_text(encoding="utf-8"))
        sources[f.stem] = tuple(raw.get("Source", ()))
        if raw.get("Categories"):
            categories.setdefault(f.stem, raw["Categories"][0])
    return [
        TaskInfo(
            n,
            (categories[n],) if categories.get(n) else (),
            sources.get(n) or (dataset_from_name(n),),
            source_known=bool(sources.get(n)),
        )
        for n in names
    ]


def _leakage(
    split: Split,
    infos: dict[str, TaskInfo],
    candidates: Iterable[str],
    leakage_rule: bool,
    reason: str = "not held out",
) -> None:
    # Only sources read from task files count: guessing them from task names makes false
    # matches (two unrelated datasets whose names share a word).
    eval_sources: dict[str, str] = {}
    for t in split.eval:
        if t in infos and infos[t].source_known:
            for s in infos[t].source:
                eval_sources.setdefault(s, t)
    for name in candidates:
        info = infos.get(name)
        known = info.source if info is not None and info.source_known else ()
        shared = [s for s in known if s in eval_sources]
        if leakage_rule and shared:
            split._place(
                name,
                "excluded",
                f"shares source dataset '{shared[0]}' with evaluation task "
                f"{eval_sources[shared[0]]}",
            )
        else:
            split._place(name, "train", reason)


def _index(tasks: TasksLike) -> dict[str, TaskInfo]:
    return {i.name: i for i in task_infos(tasks)}


def leave_one_cluster_out(
    tasks: TasksLike,
    held_out: list[str],
    *,
    also_hold_out: list[str] | None = None,
    leakage_rule: bool = True,
) -> Split:
    """FLAN's protocol: every task of the held-out clusters is evaluated, and no task of
    those clusters (nor of ``also_hold_out`` related clusters) is trained on."""
    infos = _index(tasks)
    known = sorted({i.cluster for i in infos.values()})
    for c in [*held_out, *(also_hold_out or [])]:
        if c not in known:
            raise UnknownNameError("cluster", c, known)
    split = Split(protocol=f"leave-one-cluster-out({', '.join(held_out)})")
    rest = []
    for name, info in infos.items():
        if info.cluster in held_out:
            split._place(name, "eval", f"its cluster '{info.cluster}' is held out")
        elif info.cluster in (also_hold_out or []):
            split._place(
                name, "excluded", f"its cluster '{info.cluster}' is a related held-out cluster"
            )
        else:
            rest.append(name)
    _leakage(split, infos, rest, leakage_rule)
    return split


def held_out_task_types(tasks: TasksLike, types: list[str], *, leakage_rule: bool = True) -> Split:
    """T0's protocol: every task whose type (first category) is listed is evaluated."""
    infos = _index(tasks)
    known = sorted({i.category for i in infos.values() if i.category})
    for t in types:
        if t not in known:
            raise UnknownNameError("task type", t, known)
    split = Split(protocol=f"held-out task types({', '.join(types)})")
    for name, info in infos.items():
        if info.category in types:
            split._place(name, "eval", f"its task type '{info.category}' is held out")
    _leakage(split, infos, [n for n in infos if n not in split.placements], leakage_rule)
    return split


def leave_one_category(tasks: TasksLike, category: str, *, leakage_rule: bool = True) -> Split:
    """Natural Instructions v1: evaluate on every task of one category."""
    split = held_out_task_types(tasks, [category], leakage_rule=leakage_rule)
    split.protocol = f"leave-one-category({category})"
    return split


def leave_one_dataset(tasks: TasksLike, dataset: str, *, leakage_rule: bool = True) -> Split:
    """Natural Instructions v1: evaluate on every task built from one source dataset."""
    infos = _index(tasks)
    known = sorted({s for i in infos.values() for s in i.source})
    if dataset not in known:
        raise UnknownNameError("source dataset", dataset, known)
    split = Split(protocol=f"leave-one-dataset({dataset})")
    for name, info in infos.items():
        if dataset in info.source:
            split._place(name, "eval", f"built from the held-out dataset '{dataset}'")
    _leakage(split, infos, [n for n in infos if n not in split.placements], leakage_rule)
    return split


def leave_one_task(tasks: TasksLike, task: str, *, leakage_rule: bool = True) -> Split:
    """Natural Instructions v1: evaluate on one task, train on the others."""
    infos = _index(tasks)
    if task not in infos:
        raise UnknownNameError("task", task, list(infos))
    split = Split(protocol=f"leave-one-task({task})")
    split._place(task, "eval", "the held-out task")
    _leakage(split, infos, [n for n in infos if n != task], leakage_rule)
    return split


def natinst_random(
    tasks: TasksLike, *, per_category: int = 2, seed: int = 0, leakage_rule: bool = True
) -> Split:
    """Natural Instructions v1's random split: ``per_category`` tasks of each category are
    held out (chosen with ``seed``), the rest train."""
    infos = _index(tasks)
    by_cat: dict[str, list[str]] = defaultdict(list)
    for name, info in infos.items():
        by_cat[info.category].append(name)
    rng = random.Random(seed)
    split = Split(protocol=f"random({per_category} per category, seed {seed})")
    for cat in sorted(by_cat):
        names = sorted(by_cat[cat])
        if not cat or len(names) <= per_category:  # unknown category, or too few tasks
            continue  # a category with too few tasks stays in training
        for name in rng.sample(names, per_category):
            split._place(name, "eval", f"drawn as one of {per_category} held-out tasks of '{cat}'")
    _leakage(split, infos, [n for n in infos if n not in split.placements], leakage_rule)
    return split


def superni_official(
    root: str | Path,
    tasks: TasksLike | None = None,
    *,
    track: str = "default",
    leakage_rule: bool = False,
) -> Split:
    """SuperNI's official split of a track, from ``splits/<track>/*_tasks.txt``.

    The excluded list already applies SuperNI's own leakage rule; a track without a train
    file (cross-lingual) trains on every task it neither tests nor excludes.
    """
    root = Path(root)
    split_dir = root / "splits" / track
    if not split_dir.is_dir():
        raise UnknownNameError(
            "SuperNI track", track, sorted(p.name for p in (root / "splits").iterdir())
        )
    infos = _index(tasks) if tasks is not None else {i.name: i for i in superni_infos(root)}
    split = Split(protocol=f"superni-official({track})")
    absent: list[str] = []

    def present(names: list[str]) -> list[str]:
        # A partial checkout: tasks the split files list but the folder lacks are left out.
        absent.extend(n for n in names if n not in infos)
        return [n for n in names if n in infos]

    for name in present(read_split_file(split_dir / "test_tasks.txt")):
        split._place(name, "eval", f"listed in splits/{track}/test_tasks.txt")
    excluded_file = split_dir / "excluded_tasks.txt"
    for name in present(read_split_file(excluded_file)) if excluded_file.exists() else []:
        split._place(name, "excluded", f"listed in splits/{track}/excluded_tasks.txt")
    train_file = split_dir / "train_tasks.txt"
    if train_file.exists():
        train = present(read_split_file(train_file))
        reason = f"listed in splits/{track}/train_tasks.txt"
    else:
        train = [n for n in infos if n not in split.placements]
        reason = "neither tested nor excluded in this track"
    _leakage(split, infos, train, leakage_rule, reason)
    split.absent = sorted(set(absent))
    return split


def explicit_split(
    tasks: TasksLike, train: list[str], eval: list[str], *, leakage_rule: bool = True
) -> Split:
    """A split from explicit task lists; an evaluation task is never trained on."""
    infos = _index(tasks)
    split = Split(protocol="explicit")
    for name in [*eval, *train]:
        if name not in infos:
            raise UnknownNameError("task", name, list(infos))
    for name in eval:
        split._place(name, "eval", "listed as an evaluation task")
    _leakage(
        split, infos, [n for n in train if n not in eval], leakage_rule, "listed as a training task"
    )
    return split


def split_from_yaml(path: str | Path, tasks: TasksLike, *, leakage_rule: bool = True) -> Split:
    """A custom split from YAML: ``train: [...]`` and ``eval: [...]``."""
    path = Path(path)
    data = read_yaml_mapping(path, "split file")
    for key in ("train", "eval"):
        if not isinstance(data.get(key), list) or not all(isinstance(x, str) for x in data[key]):
            raise ConfigError(path, key, "expected a list of task names")
    known = _index(tasks)
    for key in ("train", "eval"):
        for name in data[key]:
            if name not in known:
                raise ConfigError(path, key, str(UnknownNameError("task", name, list(known))))
    split = explicit_split(tasks, data["train"], data["eval"], leakage_rule=leakage_rule)
    split.protocol = f"custom({path.name})"
    return split
