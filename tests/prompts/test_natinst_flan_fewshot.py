"""Natural Instructions v1 field sets, FLAN templates and few-shot exemplars."""

from __future__ import annotations

import pytest

from instructkit.errors import InstructkitError
from instructkit.prompts import (
    BUILTIN_TEMPLATES,
    NATINST_FIELD_SETS,
    apply_flan,
    apply_template,
    encode_natinst,
    options_suffix,
    sample_exemplars,
    task_options,
    template_ids,
)
from instructkit.prompts.checks import check_flan
from instructkit.tasks import Example, Instance, Task
from instructkit.tasks.builtin import build_task, builtin_tasks, spec_by_name


@pytest.fixture(scope="module")
def sentiment() -> Task:
    return build_task(spec_by_name("ik043_keyword_sentiment"), n_instances=20)


@pytest.fixture(scope="module")
def addition() -> Task:
    return build_task(spec_by_name("ik001_add_two_numbers"), n_instances=20)


def test_natinst_rows_and_layout(sentiment: Task) -> None:
    assert list(NATINST_FIELD_SETS)[:4] == [
        "prompt",
        "+definition",
        "+things to avoid",
        "+emphasis",
    ]
    assert len(NATINST_FIELD_SETS) == 11  # the field sets of the official prompt files
    inst = sentiment.instances[0]
    full = encode_natinst(sentiment, inst, "full instruction").source
    # The official order: Definition before Prompt, negatives before positives.
    order = [
        "Definition:",
        "\nPrompt:",
        "\nThings to Avoid:",
        "\nEmphasis & Caution:",
        "\nNegative Example1- \ninput:",
        "suggestion:",
        "\nPositive Example1- \ninput:",
    ]
    positions = [full.index(p) for p in order]
    assert positions == sorted(positions) and full.rindex("\ninput:") > positions[-1]
    assert "\nreason:" in full[full.index("Positive Example1-") :]
    assert full.endswith(f"\ninput: {inst.input}\noutput:")
    assert encode_natinst(sentiment, inst, "prompt").source == (
        f"Prompt: {sentiment.prompt}\ninput: {inst.input}\noutput:"
    )
    only_pos = encode_natinst(sentiment, inst, "pos. examples@2").source
    assert "Prompt:" not in only_pos and only_pos.startswith("input: ")
    assert only_pos.count("\ninput: ") == 2  # the second example, then the instance


def test_ten_flan_templates_three_turned(addition: Task) -> None:
    assert len(BUILTIN_TEMPLATES) == 10
    assert sum(t.turned_around for t in BUILTIN_TEMPLATES) >= 3
    inst = addition.instances[0]
    sources = {apply_flan(t, addition, inst).source for t in BUILTIN_TEMPLATES}
    assert len(sources) == 10
    turned = apply_flan("flan:8-turned", addition, inst)
    assert turned.targets == [inst.input] and inst.outputs[0] in turned.source


def test_options_suffix_for_classification(sentiment: Task, addition: Task) -> None:
    assert options_suffix(["yes", "no"]) == "OPTIONS:\n- yes\n- no"
    ex = apply_flan("flan:1", sentiment, sentiment.instances[0])
    assert ex.source.endswith("OPTIONS:\n- positive\n- negative")
    assert ex.target in ex.options
    assert "OPTIONS" not in apply_flan("flan:1", addition, addition.instances[0]).source
    assert task_options(addition) == []


def test_label_set_when_no_answer_choices() -> None:
    t = Task(
        name="t",
        definition="d",
        instances=[
            Instance(id=str(i), input=f"x{i}", outputs=["A" if i % 2 else "B"]) for i in range(6)
        ],
    )
    assert task_options(t) == ["B", "A"]  # the dataset's order, not sorted
    ex = apply_template("flan:zeroshot-options", t, t.instances[0])
    assert ex.source == "d\n\nx0\n\nOPTIONS:\n- B\n- A"


def test_flan_leaves_inputs_untouched() -> None:
    raw = "  first line  \n\n\n  second line\t\n"
    t = Task(name="t", definition="d", instances=[Instance(id="1", input=raw, outputs=["y"])])
    for tid in ("flan:zeroshot", "flan:zeroshot-options", "flan:no-template", "flan:fewshot"):
        assert raw in apply_template(tid, t, t.instances[0]).source, tid
    # An empty options suffix or exemplar block leaves no blank lines of the template's own.
    assert apply_template("flan:zeroshot-options", t, t.instances[0]).source == f"d\n\n{raw}"
    assert apply_template("flan:fewshot", t, t.instances[0]).source == (
        f"d\n\nInput: {raw}\nOutput:"
    )


def test_flan_ablations(addition: Task) -> None:
    inst = addition.instances[0]
    assert apply_template("flan:no-template", addition, inst).source == inst.input
    assert (
        apply_template("flan:dataset-name", addition, inst).source
        == f"[{addition.title}] {inst.input}"
    )


def test_fewshot_template_and_exemplars(addition: Task) -> None:
    inst = addition.instances[0]
    ex = sample_exemplars(addition, inst, 2, seed=1)
    assert ex == sample_exemplars(addition, inst, 2, seed=1)
    src = apply_template("flan:fewshot", addition, inst, exemplars=ex).source
    assert src.count("Input:") == 3 and src.endswith(f"Input: {inst.input}\nOutput:")


def test_exemplars_never_the_instance_and_fit_budget(addition: Task) -> None:
    for inst in addition.instances:
        ex = sample_exemplars(addition, inst, 16, source="instances")
        assert len(ex) == 16 and inst.input not in {e.input for e in ex}
    inst = addition.instances[0]
    ex = sample_exemplars(addition, inst, 8, source="instances", count_tokens=len, max_tokens=60)
    full = sample_exemplars(addition, inst, 8, source="instances")
    assert 0 < len(ex) < 8 and ex == full[: len(ex)]  # dropped from the end
    with pytest.raises(InstructkitError):
        sample_exemplars(addition, inst, 17)
    same = Task(
        name="s",
        definition="d",
        positive_examples=[Example(input="q", output="a")],
        instances=[Instance(id="1", input="q", outputs=["a"])],
    )
    assert sample_exemplars(same, same.instances[0], 1) == []


def test_every_builtin_template_renders() -> None:
    assert check_flan(builtin_tasks(n_instances=5)) == []


def test_template_ids(addition: Task) -> None:
    ids = template_ids(addition)
    assert (
        "superni:Def+Pos(2)" in ids and "natinst:full instruction" in ids and "flan:8-turned" in ids
    )
    assert "flan:1" not in template_ids(Task(name="x", definition="d"))
