"""The one renderer: training mixtures and evaluation render the same source for the same
(task, instance, template, budget), for every template family; demonstrations are dropped
first to fit the budget; template families are a registry."""

from __future__ import annotations

import pytest

from instructkit.errors import UnknownNameError
from instructkit.experiments import default_config
from instructkit.experiments.plan import eval_context, load_tasks, make_mixture, make_split
from instructkit.models import adapter_for, load_model
from instructkit.prompts.render import (
    TEMPLATE_FAMILIES,
    RenderContext,
    canonical_id,
    render,
    template_ids,
)

BUDGET = 260  # tokens of the byte-level tiny tokenizer: forces demonstrations out


@pytest.mark.parametrize(
    "template",
    [
        "superni:Def+Pos(4)",
        "superni:Def+Pos(2)+Neg(2)+Expl",
        "natinst:full instruction",
        "flan:fewshot",
        "flan:fewshot-options",
        "flan:3",
    ],
)
def test_training_and_evaluation_sources_are_identical(template: str) -> None:
    cfg = default_config()
    cfg = cfg.model_copy(
        update={
            "tasks": cfg.tasks.model_copy(update={"n_instances": 12}),
            "prompt": cfg.prompt.model_copy(update={"encoding": template}),
            "train": cfg.train.model_copy(update={"max_source_tokens": BUDGET}),
            "eval": cfg.eval.model_copy(update={"max_source_tokens": BUDGET}),
        }
    )
    tasks = load_tasks(cfg)
    split = make_split(cfg, tasks)
    adapter = adapter_for(load_model("tiny"))
    mixture = make_mixture(cfg, tasks, split, adapter.count_tokens)
    ctx = eval_context(cfg, adapter.count_tokens)
    dropped = 0
    for pool in mixture.pools.values():
        for e in pool:
            task = tasks[e.task]
            inst = next(i for i in task.instances if i.id == e.instance_id)
            assert render(template, task, inst, ctx).source == e.source
            dropped += render(template, task, inst).source != e.source
            # Token level: training and generation cut the source with the same function.
            src_ids, _ = adapter.example_ids(e.source, e.target, _lengths())
            assert src_ids == adapter.source_ids(e.source, BUDGET)
    if "Pos(" in template or "fewshot" in template or "full" in template:
        assert dropped > 0, "the budget should have dropped demonstrations somewhere"


def _lengths():  # type: ignore[no-untyped-def]
    from instructkit.models.lengths import Lengths

    return Lengths(BUDGET, 16)


def test_demonstrations_dropped_before_the_definition() -> None:
    from instructkit.tasks.builtin import build_task, spec_by_name

    task = build_task(spec_by_name("ik006_even_or_odd"), n_instances=3)
    inst = task.instances[0]
    full = render("natinst:full instruction", task, inst).source
    tight = RenderContext(count_tokens=len, max_source_tokens=len(full) - 10)
    cut = render("natinst:full instruction", task, inst, tight).source
    assert len(cut) <= len(full) - 10 and cut.count("Example") < full.count("Example")
    assert f"Definition: {task.definition.strip()}" in cut
    few = render("flan:fewshot", task, inst, RenderContext(fewshot=2)).source
    assert few.count("Input:") == 3  # two exemplars drawn by the renderer, then the instance
    none = render("flan:fewshot", task, inst, RenderContext(count_tokens=len, max_source_tokens=1))
    assert none.source.count("Input:") == 1  # every exemplar dropped, the instance kept


def test_template_ids_and_families() -> None:
    assert set(TEMPLATE_FAMILIES.names()) >= {"superni", "natinst", "flan"}
    ids = template_ids()
    assert "superni:Def+Pos(2)" in ids and "natinst:prompt" in ids and "flan:10-turned" in ids
    assert canonical_id("Def+Pos(2)") == "superni:Def+Pos(2)"
    with pytest.raises(UnknownNameError, match="did you mean"):
        render("flan:fewshoot", None, None)  # type: ignore[arg-type]
