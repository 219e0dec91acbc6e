"""The SuperNI encodings pinned against golden strings in Tk-Instruct's layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructkit.errors import UnknownNameError
from instructkit.prompts import ENCODINGS, encode_instance, get_encoding
from instructkit.tasks import load_task

TASK = "task020_mctaco_span_based_question.json"


def test_ten_rows_of_the_encoding_table() -> None:
    assert list(ENCODINGS) == [
        "Task ID",
        "Def",
        "Pos(1)",
        "Def+Pos(1)",
        "Pos(2)",
        "Def+Pos(2)",
        "Def+Pos(2)+Neg(2)",
        "Def+Pos(2)+Neg(2)+Expl",
        "Pos(4)",
        "Def+Pos(4)",
        "Def+Pos(2)+Expl",  # not a table row: one of Tk-Instruct's training encodings
    ]
    for name, enc in ENCODINGS.items():
        assert enc.name == name


def test_def_pos2_golden(superni_root: Path) -> None:
    t = load_task(superni_root / "tasks" / TASK)
    inst = t.instances[0]
    p1, p2 = t.positive_examples[:2]
    golden = (
        f"Definition: {t.definition.strip()}\n\n"
        f" Positive Example 1 -\nInput: {p1.input.strip()}\n Output: {p1.output.strip()}\n\n"
        f" Positive Example 2 -\nInput: {p2.input.strip()}\n Output: {p2.output.strip()}\n\n"
        f"Now complete the following example -\nInput: {inst.input.strip()}\nOutput: "
    )
    # Each piece not ending in punctuation gets a full stop, as in Tk-Instruct.
    assert t.definition.strip()[-1] == "."
    assert p1.input.strip()[-1] == "?" and p1.output.strip() == "Yes."
    ex = encode_instance(t, inst, "Def+Pos(2)")
    assert ex.source == golden
    assert ex.targets == inst.outputs
    assert ex.template == "superni:Def+Pos(2)"


def test_full_stop_and_explanations(superni_root: Path) -> None:
    t = load_task(superni_root / "tasks" / TASK)
    src = encode_instance(t, t.instances[0], "Def+Pos(2)+Neg(2)+Expl").source
    assert " Negative Example 1 -\n" in src
    assert f" Explanation: {t.positive_examples[0].explanation.strip()}" in src
    assert src.index("Positive Example 2") < src.index("Negative Example 1")
    assert encode_instance(t, t.instances[0], "Task ID").source.startswith(
        f"{t.name}. Now complete"
    )


def test_budget_drops_examples(superni_root: Path) -> None:
    t = load_task(superni_root / "tasks" / TASK)
    full = encode_instance(t, t.instances[0], "Def+Pos(4)").source
    cut = encode_instance(
        t,
        t.instances[0],
        "Def+Pos(4)",
        count_tokens=lambda s: len(s.split()),
        max_source_tokens=len(full.split()) - 5,
    ).source
    assert "Positive Example 1 -" in cut
    assert cut.count("Positive Example") < full.count("Positive Example")


def test_unknown_encoding_suggests() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean .*'Def\+Pos\(2\)'"):
        get_encoding("Def+Pos(3)")


def test_budget_counts_tokens_as_tk_instruct_does() -> None:
    # Tk-Instruct keeps a demonstration while len(tokenizer(text)["input_ids"]) <= budget,
    # which counts the end-of-sequence a T5 tokenizer appends.
    from instructkit.models import adapter_for, load_model

    t5 = adapter_for(load_model("tiny-t5"))
    assert t5.count_tokens("abc") == len(t5.tokenizer("abc")["input_ids"]) == 4
    llama = adapter_for(load_model("tiny"))
    assert llama.count_tokens("abc") == 3  # decoder-only sources get no special token
