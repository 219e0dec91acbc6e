"""Collections of tasks, loaded lazily: a task file is read the first time it is used.

``load_collection(path)`` recognises a SuperNI root (``tasks/`` + ``splits/``), a folder
of task files, a single SuperNI or Natural Instructions v1 file, or a JSONL file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from instructkit.errors import TaskFormatError, UnknownNameError
from instructkit.tasks.jsonl import load_jsonl_task
from instructkit.tasks.natinst import is_natinst_v1, parse_natinst_v1
from instructkit.tasks.schema import Task
from instructkit.tasks.superni import parse_task, read_json, read_split_file

SPLIT_NAMES = ("train", "test", "excluded")
TRACKS = ("default", "xlingual")


def load_task_file(path: str | Path, *, max_instances: int | None = None) -> Task:
    """Load one task file of any supported format, detected from its name and content."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return load_jsonl_task(path, max_instances=max_instances)
    raw = read_json(path)
    if is_natinst_v1(raw):
        return parse_natinst_v1(raw, path, max_instances=max_instances)
    return parse_task(raw, path, max_instances=max_instances)


def _identity(task: Task) -> Task:
    return task


@dataclass
class TaskCollection:
    """An ordered, lazily loaded set of tasks keyed by name.

    ``loaders`` maps each task name to a function that builds the task; results are
    cached. ``missing`` lists names a split file asked for but no file provides.
    """

    loaders: dict[str, Callable[[], Task]]
    missing: list[str] = field(default_factory=list)
    _cache: dict[str, Task] = field(default_factory=dict, repr=False)

    @classmethod
    def from_tasks(cls, tasks: list[Task]) -> TaskCollection:
        """A collection over tasks already in memory."""
        coll = cls(loaders={t.name: partial(_identity, t) for t in tasks})
        coll._cache.update({t.name: t for t in tasks})
        return coll

    @classmethod
    def from_files(cls, paths: list[Path], *, max_instances: int | None = None) -> TaskCollection:
        """A collection over task files, each read on first use."""
        loaders: dict[str, Callable[[], Task]] = {}
        for p in sorted(paths):
            loaders[p.stem] = partial(load_task_file, p, max_instances=max_instances)
        return cls(loaders=loaders)

    @classmethod
    def superni(
        cls,
        root: str | Path,
        *,
        split: str | None = None,
        track: str = "default",
        max_instances: int | None = None,
    ) -> TaskCollection:
        """Tasks of a SuperNI checkout: ``root/tasks/*.json``, optionally one split of a
        track (``root/splits/<track>/<split>_tasks.txt``). The official evaluation uses
        ``max_instances=100``.
        """
        root = Path(root)
        task_dir = root / "tasks"
        if not task_dir.is_dir():
            raise TaskFormatError(root, None, "not a SuperNI folder (no tasks/ inside)")
        files = {p.stem: p for p in task_dir.glob("*.json")}
        if split is None:
            return cls.from_files(list(files.values()), max_instances=max_instances)
        if track not in TRACKS:
            raise UnknownNameError("track", track, list(TRACKS))
        if split not in SPLIT_NAMES:
            raise UnknownNameError("split", split, list(SPLIT_NAMES))
        names = read_split_file(root / "splits" / track / f"{split}_tasks.txt")
        present = [n for n in names if n in files]
        coll = cls.from_files([files[n] for n in present], max_instances=max_instances)
        coll.loaders = {n: coll.loaders[n] for n in present}  # keep the split file's order
        coll.missing = [n for n in names if n not in files]
        return coll

    @property
    def names(self) -> list[str]:
        return list(self.loaders)

    def __len__(self) -> int:
        return len(self.loaders)

    def __contains__(self, name: object) -> bool:
        return name in self.loaders

    def __getitem__(self, name: str) -> Task:
        if name not in self.loaders:
            raise UnknownNameError("task", name, self.names)
        if name not in self._cache:
            self._cache[name] = self.loaders[name]()
        return self._cache[name]

    def __iter__(self) -> Iterator[Task]:
        for name in self.loaders:
            yield self[name]

    def subset(self, names: list[str]) -> TaskCollection:
        """The tasks named, in the order given."""
        for n in names:
            if n not in self.loaders:
                raise UnknownNameError("task", n, self.names)
        sub = TaskCollection(loaders={n: self.loaders[n] for n in names})
        sub._cache = {n: t for n, t in self._cache.items() if n in sub.loaders}
        return sub


def load_collection(
    path: str | Path,
    *,
    split: str | None = None,
    track: str = "default",
    max_instances: int | None = None,
) -> TaskCollection:
    """Tasks found at ``path`` (SuperNI root, folder of task files, or one file)."""
    path = Path(path)
    if not path.exists():
        raise TaskFormatError(path, None, "no such file or folder")
    if path.is_dir():
        if (path / "tasks").is_dir():
            return TaskCollection.superni(
                path, split=split, track=track, max_instances=max_instances
            )
        files = [p for p in path.iterdir() if p.suffix in (".json", ".jsonl")]
        if not files:
            raise TaskFormatError(path, None, "holds no task files (*.json, *.jsonl)")
        return TaskCollection.from_files(files, max_instances=max_instances)
    return TaskCollection.from_files([path], max_instances=max_instances)
