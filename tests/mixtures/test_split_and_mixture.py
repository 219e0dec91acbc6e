"""Leave-one-cluster-out with the leakage rule, and seeded mixtures."""

from __future__ import annotations

from instructkit.mixtures import build_mixture, explicit_split, leave_one_cluster_out
from instructkit.tasks import Task, TaskCollection
from instructkit.tasks.builtin import SPECS, builtin_tasks


def test_leave_one_cluster_out_on_builtin() -> None:
    tasks = builtin_tasks(n_instances=5)
    split = leave_one_cluster_out(tasks, ["ciphers"])
    assert {tasks[t].cluster for t in split.eval} == {"ciphers"}
    assert not set(split.eval) & set(split.train)
    assert len(split.train) + len(split.eval) + len(split.excluded) == len(SPECS)
    assert "held out" in split.explain(split.eval[0])


def test_leakage_rule_excludes_shared_sources() -> None:
    def task(name: str, source: str, cluster: str) -> Task:
        return Task(name=name, definition="d", source=[source], cluster=cluster)

    coll = TaskCollection.from_tasks(
        [task("a", "squad", "qa"), task("b", "squad", "gen"), task("c", "imdb", "sent")]
    )
    split = leave_one_cluster_out(coll, ["qa"])
    assert split.train == ["c"] and split.excluded == ["b"]
    assert "shares source dataset 'squad' with evaluation task a" in split.explain("b")
    assert leave_one_cluster_out(coll, ["qa"], leakage_rule=False).train == ["b", "c"]
    assert explicit_split(coll, ["a", "c"], ["a"]).train == ["c"]


def test_mixture_is_seeded_and_capped() -> None:
    tasks = builtin_tasks(n_instances=10)
    names = tasks.names[:3]
    a = build_mixture(tasks, names, max_per_task=4, seed=1)
    b = build_mixture(tasks, names, max_per_task=4, seed=1)
    c = build_mixture(tasks, names, max_per_task=4, seed=2)
    assert [e.instance_id for e in a.examples] == [e.instance_id for e in b.examples]
    assert [e.instance_id for e in a.examples] != [e.instance_id for e in c.examples]
    assert {t: len(p) for t, p in a.pools.items()} == dict.fromkeys(names, 4)
    assert len(a) == 12 and sum(a.counts().values()) == 12


def test_encodings_sampled_per_instance() -> None:
    tasks = builtin_tasks(n_instances=30)
    names = tasks.names[:4]
    mixed = build_mixture(tasks, names, encoding=["Def", "Pos(1)", "Def+Pos(2)+Neg(2)"], seed=3)
    used = {e.template for e in mixed.examples}
    assert used == {"superni:Def", "superni:Pos(1)", "superni:Def+Pos(2)+Neg(2)"}
    again = build_mixture(tasks, names, encoding=["Def", "Pos(1)", "Def+Pos(2)+Neg(2)"], seed=3)
    assert [e.source for e in mixed.examples] == [e.source for e in again.examples]
