"""The results store: one SQLite file that holds every cell of every experiment.

Schema (several experiments may share one file):

- ``cells``: one row per cell of an experiment: ``experiment``, ``cell`` (its key, e.g.
  ``held_out=ciphers``), ``config_hash`` (SHA-256 of the cell's resolved config),
  ``model``, ``status`` (``done``), ``started`` and ``finished`` (ISO timestamps),
  ``seconds``, ``kind`` (the sweep kind, e.g. ``loco``; ``run`` for a single run);
- ``results``: one row per number: ``experiment``, ``cell``, ``config_hash``, ``model``,
  ``system`` (e.g. "after tuning", "copy demo"), ``task``, ``template``, ``metric``,
  ``value``, ``created``, ``category``. ``task`` is ``*`` for numbers over all tasks of
  the cell, ``category`` is ``*`` for numbers over all categories; a per-category number
  has ``task = '*'`` and its category; a per-task number has its task and its category.

Stores written before ``kind`` and ``category`` existed are migrated when opened (the
kind from the cell keys, ``task = 'category=X'`` rows to ``category = 'X'``).

A cell is written in one transaction once it has finished, so a sweep interrupted at
any point resumes without recomputing a finished cell and without half a cell.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from instructkit._faults import reached
from instructkit.errors import ConfigError
from instructkit.evaluation.results import Score

SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
    experiment TEXT NOT NULL,
    cell TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    seconds REAL NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (experiment, cell, config_hash)
);
CREATE TABLE IF NOT EXISTS results (
    experiment TEXT NOT NULL,
    cell TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    system TEXT NOT NULL,
    task TEXT NOT NULL,
    template TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    created TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '*'
);
CREATE INDEX IF NOT EXISTS results_by_experiment ON results (experiment, cell, metric);
"""


@dataclass(frozen=True)
class ResultRow:
    """One stored number."""

    experiment: str
    cell: str
    model: str
    system: str
    task: str
    template: str
    metric: str
    value: float
    category: str = "*"
    kind: str = ""


# Kinds of stores written before the kind was recorded, from their first cell's key.
LEGACY_KINDS = {
    "held_out": "loco",
    "clusters": "clusters",
    "train": "encoding-matrix",
    "prompt": "prompts",
    "templates": "templates",
    "datasets": "datasets",
    "start": "prompt-tuning",
    "stage": "prompt-tuning",
    "train_tasks": "scaling-tasks",
    "instances": "scaling-instances",
    "model": "scaling-models",
}


def config_hash(config: Any) -> str:
    """SHA-256 of a config's canonical JSON, with the evaluation rules that are code
    (``EVALUATION_RULES``): a cell stored under other rules is computed again."""
    from instructkit.evaluation.results import EVALUATION_RULES

    data = config.model_dump(mode="json") if hasattr(config, "model_dump") else config
    keyed = {"config": data, "evaluation": EVALUATION_RULES}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ResultsStore:
    """A SQLite results store (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path)
            self.db.executescript(SCHEMA)
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise ConfigError(self.path, None, f"not a results store ({e})") from None

    def _migrate(self) -> None:
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(cells)")}
        if "kind" not in cols:
            with self.db:
                self.db.execute("ALTER TABLE cells ADD COLUMN kind TEXT NOT NULL DEFAULT ''")
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(results)")}
        if "category" not in cols:
            with self.db:
                self.db.execute("ALTER TABLE results ADD COLUMN category TEXT NOT NULL DEFAULT '*'")
                self.db.execute(
                    "UPDATE results SET category = substr(task, 10), task = '*' "
                    "WHERE task LIKE 'category=%'"
                )
        unknown = self.db.execute("SELECT DISTINCT experiment FROM cells WHERE kind=''").fetchall()
        for (experiment,) in unknown:
            first = self.db.execute(
                "SELECT cell FROM cells WHERE experiment=? ORDER BY rowid LIMIT 1", (experiment,)
            ).fetchone()[0]
            with self.db:
                self.db.execute(
                    "UPDATE cells SET kind=? WHERE experiment=? AND kind=''",
                    (LEGACY_KINDS.get(first.split("=", 1)[0], "run"), experiment),
                )

    def close(self) -> None:
        self.db.close()

    def is_done(self, experiment: str, cell: str, chash: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM cells WHERE experiment=? AND cell=? AND config_hash=? AND status='done'",
            (experiment, cell, chash),
        ).fetchone()
        return row is not None

    def record_cell(
        self,
        experiment: str,
        cell: str,
        chash: str,
        model: str,
        scores: Iterable[Score],
        *,
        kind: str,
        started: str,
        seconds: float,
    ) -> None:
        """Store a finished cell of a ``kind`` of experiment and its scores in one
        transaction. A cell holds the numbers of its latest computation: rows stored before
        (under this or another config hash) are replaced, never reported beside them."""
        created = _now()
        with self.db:
            self.db.execute("DELETE FROM results WHERE experiment=? AND cell=?", (experiment, cell))
            self.db.execute("DELETE FROM cells WHERE experiment=? AND cell=?", (experiment, cell))
            self.db.executemany(
                "INSERT INTO results (experiment, cell, config_hash, model, system, task, "
                "template, metric, value, created, category) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        experiment,
                        cell,
                        chash,
                        model,
                        sc.system,
                        sc.task,
                        sc.template,
                        sc.metric,
                        float(sc.value),
                        created,
                        sc.category,
                    )
                    for sc in scores
                ],
            )
            reached("cell-rows-inserted")  # inside the transaction: rolled back if killed
            self.db.execute(
                "INSERT OR REPLACE INTO cells (experiment, cell, config_hash, model, status, "
                "started, finished, seconds, kind) VALUES (?,?,?,?,?,?,?,?,?)",
                (experiment, cell, chash, model, "done", started, created, seconds, kind),
            )

    def results(self, **filters: str) -> list[ResultRow]:
        """Stored numbers, filtered by any of experiment, cell, model, system, task,
        category, template, metric."""
        allowed = {
            "experiment",
            "cell",
            "model",
            "system",
            "task",
            "category",
            "template",
            "metric",
        }
        bad = set(filters) - allowed
        if bad:
            raise ValueError(f"unknown filter(s): {', '.join(sorted(bad))}")
        where = " AND ".join(f"r.{k}=?" for k in filters) or "1=1"
        rows = self.db.execute(
            "SELECT r.experiment, r.cell, r.model, r.system, r.task, r.template, r.metric, "
            "r.value, r.category, COALESCE(c.kind, '') FROM results r LEFT JOIN cells c ON "
            "c.experiment = r.experiment AND c.cell = r.cell AND c.config_hash = r.config_hash "
            f"WHERE {where} ORDER BY r.experiment, r.cell, r.system, r.task, r.metric",
            tuple(filters.values()),
        ).fetchall()
        return [ResultRow(*r) for r in rows]

    def kind(self, experiment: str) -> str:
        """The kind of an experiment, as its cells recorded it ('' when unknown)."""
        row = self.db.execute(
            "SELECT kind FROM cells WHERE experiment=? ORDER BY rowid LIMIT 1", (experiment,)
        ).fetchone()
        return row[0] if row else ""

    def cells(self, experiment: str | None = None) -> list[tuple[str, str, str, str, float]]:
        """(experiment, cell, model, finished, seconds) of finished cells."""
        q = "SELECT experiment, cell, model, finished, seconds FROM cells"
        args: tuple[str, ...] = ()
        if experiment:
            q += " WHERE experiment=?"
            args = (experiment,)
        # rowid follows insertion: the order in which cells finished.
        return list(self.db.execute(q + " ORDER BY rowid", args).fetchall())
