"""Arrow materialisation with a hashed tokenisation cache, and the contamination audit."""

from __future__ import annotations

from pathlib import Path

from instructkit.mixtures import leave_one_cluster_out
from instructkit.mixtures.arrow import to_dataset, to_iterable_dataset, tokenize_mixture
from instructkit.mixtures.audit import audit_corpus, audit_mixture, drop_overlapping
from instructkit.mixtures.mixture import build_mixture
from instructkit.models.loading import load_tokenizer
from instructkit.prompts import PromptedExample
from instructkit.tasks import Instance, Task
from instructkit.tasks.builtin import builtin_tasks


def _mixture(n: int = 6, seed: int = 0):  # type: ignore[no-untyped-def]
    tasks = builtin_tasks(n_instances=n)
    return build_mixture(tasks, tasks.names[:5], seed=seed)


def test_arrow_rows_follow_the_stream() -> None:
    m = _mixture()
    ds = to_dataset(m)
    assert ds["instance_id"] == [e.instance_id for e in m.stream()]
    it = list(to_iterable_dataset(m, start=5))
    assert [r["instance_id"] for r in it] == ds["instance_id"][5:]


def test_tokenised_cache_hits_and_misses(tmp_path: Path) -> None:
    tok = load_tokenizer("tiny")
    m = _mixture()
    ds = tokenize_mixture(m, tok, max_source_tokens=40, max_target_tokens=8, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("tokenized-*"))) == 1
    first = ds[0]
    assert first["source_ids"] == tok(first["source"], add_special_tokens=False)["input_ids"][-40:]
    assert len(first["target_ids"]) <= 7
    again = tokenize_mixture(
        _mixture(), tok, max_source_tokens=40, max_target_tokens=8, cache_dir=tmp_path
    )
    assert len(list(tmp_path.glob("tokenized-*"))) == 1 and again["source_ids"] == ds["source_ids"]
    tokenize_mixture(m, tok, max_source_tokens=41, max_target_tokens=8, cache_dir=tmp_path)
    tokenize_mixture(
        _mixture(seed=1), tok, max_source_tokens=40, max_target_tokens=8, cache_dir=tmp_path
    )
    assert len(list(tmp_path.glob("tokenized-*"))) == 3


def test_audit_clean_split_reports_nothing() -> None:
    tasks = builtin_tasks(n_instances=40)
    split = leave_one_cluster_out(tasks, ["passage_qa"])
    train = build_mixture(tasks, split.train).examples
    report = audit_mixture(train, [tasks[t] for t in split.eval], n=8)
    assert report.clean and not report.overlapping_train
    assert all(t.instances == 40 for t in report.tasks)


def test_audit_finds_planted_overlap_and_drops_it(tmp_path: Path) -> None:
    passage = (
        "the quick brown fox jumps over the lazy dog near the old river bank "
        "while seven small birds sing in the tall green trees"
    )
    eval_task = Task(
        name="ev",
        definition="Answer questions about the passage given here.",
        instances=[
            Instance(
                id="e1", input=f"Passage: {passage} Question: who jumps?", outputs=["the fox"]
            ),
            Instance(id="e2", input="A clean input with nothing in common at all.", outputs=["x"]),
        ],
    )
    clean = PromptedExample(
        "tr", "t1", "x", "Completely different training text about numbers.", ["1"]
    )
    leaked = PromptedExample("tr", "t2", "x", f"Copy: {passage}", ["ok"])
    report = audit_mixture([clean, leaked], [eval_task], n=13)
    audit = report.tasks[0]
    assert (audit.instances, audit.contaminated, audit.share) == (2, 1, 0.5)
    assert audit.examples[0][0] == "e1" and audit.examples[0][2] == "tr/t2"
    assert report.overlapping_train == {1}
    assert drop_overlapping([clean, leaked], report) == [clean]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(f"Some web page. {passage} The end.")
    assert audit_corpus([clean, leaked], [corpus]) == {"tr": 1}
