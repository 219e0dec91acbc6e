"""Train / evaluation splits that explain themselves.

Thin first form: FLAN's leave-one-cluster-out and explicit task lists, with the leakage
rule on by default (a training task that shares a source dataset with an evaluation task
is excluded, as SuperNI's excluded list does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from instructkit.errors import UnknownNameError
from instructkit.tasks.collection import TaskCollection


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

    def explain(self, task: str) -> str:
        p = self.placements[task]
        return f"{task}: {p.role} ({p.reason})"

    def _place(self, task: str, role: str, reason: str) -> None:
        getattr(self, role if role != "eval" else "eval").append(task)
        self.placements[task] = Placement(task, role, reason)


def _apply_leakage_rule(
    split: Split, tasks: TaskCollection, candidates: list[str], leakage_rule: bool
) -> None:
    eval_sources = {s: t for t in split.eval for s in tasks[t].source}
    for name in candidates:
        shared = [s for s in tasks[name].source if s in eval_sources]
        if leakage_rule and shared:
            split._place(
                name,
                "excluded",
                f"shares source dataset '{shared[0]}' with evaluation task "
                f"{eval_sources[shared[0]]}",
            )
        else:
            split._place(name, "train", "not held out")


def leave_one_cluster_out(
    tasks: TaskCollection,
    held_out: list[str],
    *,
    also_hold_out: list[str] | None = None,
    leakage_rule: bool = True,
) -> Split:
    """FLAN's protocol: every task of the held-out clusters is evaluated, and no task of
    those clusters (nor of ``also_hold_out`` related clusters) is trained on."""
    clusters = {t.name: t.cluster or "" for t in tasks}
    known = sorted(set(clusters.values()))
    for c in [*held_out, *(also_hold_out or [])]:
        if c not in known:
            raise UnknownNameError("cluster", c, known)
    split = Split(protocol=f"leave-one-cluster-out({', '.join(held_out)})")
    rest = []
    for name, cluster in clusters.items():
        if cluster in held_out:
            split._place(name, "eval", f"its cluster '{cluster}' is held out")
        elif cluster in (also_hold_out or []):
            split._place(name, "excluded", f"its cluster '{cluster}' is a related held-out cluster")
        else:
            rest.append(name)
    _apply_leakage_rule(split, tasks, rest, leakage_rule)
    return split


def explicit_split(
    tasks: TaskCollection, train: list[str], eval: list[str], *, leakage_rule: bool = True
) -> Split:
    """A split from explicit task lists; an evaluation task is never trained on."""
    split = Split(protocol="explicit")
    for name in eval:
        if name not in tasks:
            raise UnknownNameError("task", name, tasks.names)
        split._place(name, "eval", "listed as an evaluation task")
    for name in train:
        if name not in tasks:
            raise UnknownNameError("task", name, tasks.names)
    _apply_leakage_rule(split, tasks, [n for n in train if n not in eval], leakage_rule)
    return split
