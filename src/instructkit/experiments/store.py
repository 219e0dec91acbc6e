"""The results store: one SQLite file that holds every cell of every experiment.

Schema (several experiments may share one file):

- ``cells``: one row per cell of an experiment: ``experiment``, ``cell`` (its key, e.g.
  ``held_out=ciphers``), ``config_hash`` (SHA-256 of the cell's resolved config),
  ``model``, ``status`` (``done``), ``started`` and ``finished`` (ISO timestamps),
  ``seconds``;
- ``results``: one row per number: ``experiment``, ``cell``, ``config_hash``, ``model``,
  ``system`` (e.g. "after tuning", "copy demo"), ``task``, ``template``, ``metric``,
  ``value``, ``created``. ``task`` is ``*`` for numbers over all tasks of the cell.

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
    created TEXT NOT NULL
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


def config_hash(config: Any) -> str:
    """SHA-256 of a config's canonical JSON."""
    data = config.model_dump(mode="json") if hasattr(config, "model_dump") else config
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ResultsStore:
    """A SQLite results store (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)

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
        rows: Iterable[tuple[str, str, str, str, float]],
        *,
        started: str,
        seconds: float,
    ) -> None:
        """Store a finished cell and its numbers ``(system, task, template, metric, value)``
        in one transaction."""
        created = _now()
        with self.db:
            self.db.execute(
                "DELETE FROM results WHERE experiment=? AND cell=? AND config_hash=?",
                (experiment, cell, chash),
            )
            self.db.executemany(
                "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (experiment, cell, chash, model, s, t, tpl, m, float(v), created)
                    for s, t, tpl, m, v in rows
                ],
            )
            self.db.execute(
                "INSERT OR REPLACE INTO cells VALUES (?,?,?,?,?,?,?,?)",
                (experiment, cell, chash, model, "done", started, created, seconds),
            )

    def results(self, **filters: str) -> list[ResultRow]:
        """Stored numbers, filtered by any of experiment, cell, model, system, task,
        template, metric."""
        allowed = {"experiment", "cell", "model", "system", "task", "template", "metric"}
        bad = set(filters) - allowed
        if bad:
            raise ValueError(f"unknown filter(s): {', '.join(sorted(bad))}")
        where = " AND ".join(f"{k}=?" for k in filters) or "1=1"
        rows = self.db.execute(
            f"SELECT experiment, cell, model, system, task, template, metric, value FROM results "
            f"WHERE {where} ORDER BY experiment, cell, system, task, metric",
            tuple(filters.values()),
        ).fetchall()
        return [ResultRow(*r) for r in rows]

    def cells(self, experiment: str | None = None) -> list[tuple[str, str, str, str, float]]:
        """(experiment, cell, model, finished, seconds) of finished cells."""
        q = "SELECT experiment, cell, model, finished, seconds FROM cells"
        args: tuple[str, ...] = ()
        if experiment:
            q += " WHERE experiment=?"
            args = (experiment,)
        # rowid follows insertion: the order in which cells finished.
        return list(self.db.execute(q + " ORDER BY rowid", args).fetchall())
