"""ROUGE-L and exact match as the official SuperNI scorer defines them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rouge_score import rouge_scorer

from instructkit.evaluation import compute_metrics, exact_match, normalize_answer, rouge_l
from instructkit.evaluation.baselines import copy_demo_output, copy_input
from instructkit.tasks import TaskCollection


def test_normalisation_keeps_articles() -> None:
    assert normalize_answer("  The  Cat, sat!  ") == "the cat sat"
    assert exact_match("Yes.", "yes") == 1.0
    assert exact_match("a cat", "cat") == 0.0


def test_rouge_l_uses_porter_stemmer() -> None:
    assert rouge_l("the cats are running", "the cat is run") == pytest.approx(
        rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
        .score("the cat is run", "the cats are running")["rougeL"]
        .fmeasure
    )
    assert rouge_l("cats running", "cat run") == 1.0


def test_best_over_references_and_scale() -> None:
    m = compute_metrics(["yes", "blue sky"], [["no", "Yes!"], ["the sky is blue"]])
    assert m["exact_match"] == 50.0
    # "blue sky" vs "the sky is blue": LCS 1 token, P = 1/2, R = 1/4 -> F = 1/3
    assert m["rougeL"] == pytest.approx(round(100 * (1 + 1 / 3) / 2, 4))


def test_xlingual_tokenizer(superni_root: Path) -> None:
    gpt2 = superni_root.parent / "tokenizers" / "gpt2"
    if not gpt2.is_dir():
        pytest.skip(f"GPT-2 tokenizer files not found at {gpt2}")
    assert rouge_l("犬が走る", "犬が走る", xlingual_tokenizer=str(gpt2)) == 1.0
    assert 0 < rouge_l("犬が走る", "猫が走る", xlingual_tokenizer=str(gpt2)) < 1


def test_copy_baselines_on_real_test_tasks(superni_root: Path) -> None:
    coll = TaskCollection.superni(superni_root, split="test", max_instances=100)
    refs = {}
    for line in (superni_root / "test_references_en.jsonl").read_text().splitlines():
        r = json.loads(line)
        refs[r["id"]] = r["references"]
    preds, gold, demo = [], [], []
    for t in list(coll)[:10]:
        for i in t.instances:
            assert refs[i.id] == i.outputs  # our loader matches the official references
            preds.append(copy_input(t, i))
            demo.append(copy_demo_output(t, i))
            gold.append(i.outputs)
    m_in, m_demo = compute_metrics(preds, gold), compute_metrics(demo, gold)
    assert 0 <= m_in["rougeL"] <= 100 and m_in["n"] == len(preds)
    assert m_demo["exact_match"] > 0  # demo outputs of classification tasks often match


# ---- our faster scorer against rouge_score ----------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from instructkit.evaluation.fast_rouge import FastRougeL, lcs_length  # noqa: E402
from instructkit.evaluation.metrics import (  # noqa: E402
    normalize_answer_reference,
    rouge_l_reference,
)

_WORDS = st.sampled_from(
    [
        "the",
        "cats",
        "running",
        "ran",
        "runner",
        "a",
        "of",
        "dog",
        "dogs",
        "quickly",
        "quick",
        "jump",
        "jumped",
        "jumping",
        "é",
        "12",
        "x-y",
        "Über",
        "naïve",
        "don't",
        "U.S.",
        "3.5",
        "--",
        ",",
        ".",
        "!",
        "\u212a",  # KELVIN SIGN: lower-cases to an ASCII "k"
        "\u0130stanbul",  # lower-cases to two characters
        "\x1c",  # whitespace to str.split(), not to bytes.split()
        "\t\n",
        "\ud800",  # a lone surrogate, as JSON can carry one
    ]
)
_TEXT = st.one_of(st.text(max_size=60), st.lists(_WORDS, max_size=15).map(" ".join))


@settings(max_examples=400, deadline=None)
@given(_TEXT, _TEXT)
def test_fast_rouge_equals_rouge_score(pred: str, ref: str) -> None:
    assert FastRougeL().score(pred, ref) == rouge_l_reference(pred, ref)
    assert normalize_answer(pred) == normalize_answer_reference(pred)


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.lists(_TEXT, min_size=1, max_size=3))
def test_exact_match_equals_the_official_definition(pred: str, refs: list[str]) -> None:
    from instructkit.evaluation.metrics import METRICS

    em = METRICS.get("exact_match").fn
    # Long predictions too: they take the shortcut that skips normalising them.
    for p in (pred, pred + " " + refs[0], refs[0] + "!", refs[0] + " \x1c"):
        assert em(p, refs) == em(p, refs, reference_impl=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=30), st.lists(st.integers(0, 5), max_size=30))
def test_bit_parallel_lcs_equals_dynamic_programming(a: list[int], b: list[int]) -> None:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
            )
    assert lcs_length(a, b) == table[-1][-1]


def test_scorer_parity_on_real_references(superni_root: Path) -> None:
    from instructkit.evaluation.scoring import read_references, score_predictions

    refs = read_references(superni_root / "test_references_en.jsonl")[::7]
    meta = {}
    for line in (superni_root / "task_metadata.jsonl").read_text().splitlines():
        m = json.loads(line)
        meta[m["task"]] = m["first_positive_example"]["output"]
    preds = {r.id: meta[r.task_id] for r in refs}
    # Partly wrong, partly right, partly missing predictions.
    preds.update({r.id: r.references[0] for r in refs[::5]})
    for r in refs[::11]:
        preds.pop(r.id, None)
    ours = score_predictions(preds, refs)
    official = score_predictions(preds, refs, reference_impl=True)
    assert ours == official
    assert ours["default"]["missing"] > 0 and 0 < ours["default"]["overall"]["exact_match"] < 100


def test_majority_class_never_learns_from_the_evaluated_instances() -> None:
    from instructkit.evaluation.baselines import majority_class
    from instructkit.evaluation.run import aggregate, baseline_predictions
    from instructkit.tasks import Example, Instance, Task

    t = Task(
        name="t",
        definition="d",
        positive_examples=[Example(input="q", output="no")],
        instances=[
            Instance(id="e1", input="a", outputs=["yes"]),
            Instance(id="t1", input="b", outputs=["maybe"]),
            Instance(id="t2", input="c", outputs=["maybe"]),
        ],
    )
    # One evaluation instance: counting it would predict its own label (an oracle).
    preds = baseline_predictions([t], {"t": t.instances[:1]}, majority_class)
    assert preds[0].prediction == "maybe"  # from the examples and unevaluated instances
    assert aggregate(preds)["overall"]["exact_match"] == 0.0
    only_demo = t.model_copy(update={"instances": t.instances[:1]})
    assert (
        baseline_predictions([only_demo], {"t": only_demo.instances}, majority_class)[0].prediction
        == "no"
    )


def test_paper_metric_per_superni_category() -> None:
    from instructkit.evaluation.scoring import paper_metric

    em = {
        "Textual Entailment",
        "Cause Effect Classification",
        "Coreference Resolution",
        "Dialogue Act Recognition",
        "Answerability Classification",
        "Word Analogy",
    }
    rl = {
        "Overlap Extraction",
        "Keyword Tagging",
        "Question Rewriting",
        "Title Generation",
        "Data to Text",
        "Grammar Error Correction",
    }
    assert {paper_metric(c) for c in em} == {"exact_match"}
    assert {paper_metric(c) for c in rl} == {"rougeL"}


def test_stem_cache_between_processes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    from instructkit.evaluation.fast_rouge import FastRougeL, stem_cache_path
    from instructkit.evaluation.metrics import rouge_l_reference

    monkeypatch.setenv("INSTRUCTKIT_CACHE", str(tmp_path))
    first = FastRougeL()
    pairs = [("The cats were running quickly", "a cat runs quick"), ("studies", "studying")]
    want = [first.score(p, r) for p, r in pairs]
    first.save_stems(stem_cache_path())
    assert stem_cache_path().exists()
    second = FastRougeL()
    second.load_stems(stem_cache_path())
    assert second._stems and [second.score(p, r) for p, r in pairs] == want
    assert want == [rouge_l_reference(p, r) for p, r in pairs]
    # A damaged cache is not used: the stems are computed again.
    bad = {w: "zzz" for w in json.loads(stem_cache_path().read_text())}
    stem_cache_path().write_text(json.dumps(bad))
    third = FastRougeL()
    third.load_stems(stem_cache_path())
    assert not third._stems and [third.score(p, r) for p, r in pairs] == want


def test_stemming_over_two_processes_equals_one(superni_root: Path, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Many new words are stemmed by this process and a forked child: the same stems, in
    the same order, and the same scores from a cold stem cache; a child that fails leaves
    its half to this process, and this process's own failure is not hidden."""
    import os
    import threading

    import instructkit.evaluation.fast_rouge as fr
    from instructkit.evaluation.metrics import fast_scorer
    from instructkit.evaluation.scoring import read_references, score_predictions

    refs = read_references(superni_root / "test_references_en.jsonl")[::3]
    vocab = sorted({w for r in refs for x in r.references for w in fr.words(x)})
    assert len(vocab) > 2 * 500
    stemmer = fr.porter.PorterStemmer()
    monkeypatch.setattr(fr, "PARALLEL_STEMS", 500)
    forks: list[int] = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    assert fr._stem_words(stemmer, vocab) == fr._stem_each(stemmer, vocab)
    assert forks or threading.active_count() > 1  # (a threaded process stems alone)

    parent = os.getpid()

    class Failing:  # raises in one of the two processes
        def __init__(self, in_child: bool) -> None:
            self.in_child = in_child

        def stem(self, w: str) -> str:
            if (os.getpid() != parent) == self.in_child:
                raise RuntimeError("stemmer failure")
            return str(stemmer.stem(w))

    assert fr._stem_words(Failing(in_child=True), vocab) == fr._stem_each(stemmer, vocab)
    with pytest.raises(RuntimeError):
        fr._stem_words(Failing(in_child=False), vocab)

    monkeypatch.setenv("INSTRUCTKIT_CACHE", str(tmp_path))
    fast_scorer.cache_clear()
    preds = {r.id: r.references[0][::-1] + " " + r.references[-1] for r in refs}
    try:
        cold = score_predictions(preds, refs)
    finally:
        fast_scorer.cache_clear()
    assert list(tmp_path.glob("stems-*.json"))  # the stems were saved
    assert cold == score_predictions(preds, refs, reference_impl=True)
