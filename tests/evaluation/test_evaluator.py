"""The one evaluator: outputs keyed by what produced them. A rerun under another model or
other settings recomputes (the old file is kept aside), never reuses; rank results of
several templates that share instance ids are kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from instructkit.evaluation.api import evaluate
from instructkit.models import adapter_for, load_model
from instructkit.prompts.render import render
from instructkit.tasks.builtin import build_task, spec_by_name


def _examples(*templates: str, n: int = 5) -> list:  # type: ignore[type-arg]
    t = build_task(spec_by_name("ik006_even_or_odd"), n_instances=n)
    return [render(tpl, t, i) for tpl in templates for i in t.instances]


def _predictions(folder: Path) -> list[str]:
    lines = (folder / "predictions.jsonl").read_text().splitlines()
    return [json.loads(x)["prediction"] for x in lines]


def test_another_model_into_the_same_folder_gets_its_own_numbers(tmp_path: Path) -> None:
    exs = _examples("flan:zeroshot")
    first = adapter_for(load_model("tiny"))
    other = adapter_for(load_model("tiny-t5"))
    shared, fresh = tmp_path / "shared", tmp_path / "fresh"
    kw = {"max_new_tokens": 4, "stop": (), "show_progress": False}
    evaluate(first, exs, shared, model_name="tiny", **kw)  # type: ignore[arg-type]
    before = _predictions(shared)
    got = evaluate(other, exs, shared, model_name="tiny-t5", **kw)  # type: ignore[arg-type]
    want = evaluate(other, exs, fresh, model_name="tiny-t5", **kw)  # type: ignore[arg-type]
    assert _predictions(shared) == _predictions(fresh) != before
    assert got["overall"] == want["overall"]
    assert list(shared.glob("predictions.stale-*.jsonl")), "the old predictions are kept aside"


def test_same_name_other_weights_recompute(tmp_path: Path) -> None:
    exs = _examples("flan:zeroshot")
    ad = adapter_for(load_model("tiny"))
    kw = {"max_new_tokens": 2, "stop": (), "show_progress": False}
    evaluate(ad, exs, tmp_path, model_name="tiny", **kw)  # type: ignore[arg-type]
    key = json.loads((tmp_path / "predictions.jsonl.key.json").read_text())
    with torch.no_grad():  # as a training step would
        for p in ad.model.parameters():
            p.mul_(1.5)
    evaluate(ad, exs, tmp_path, model_name="tiny", **kw)  # type: ignore[arg-type]
    new = json.loads((tmp_path / "predictions.jsonl.key.json").read_text())
    assert new["settings"]["model"]["weights"] != key["settings"]["model"]["weights"]
    (stale,) = tmp_path.glob("predictions.stale-*.jsonl")
    assert stale.name == f"predictions.stale-{key['fingerprint']}.jsonl"


def test_changed_generation_settings_recompute(tmp_path: Path) -> None:
    exs = _examples("flan:zeroshot")
    ad = adapter_for(load_model("tiny"))
    evaluate(ad, exs, tmp_path / "a", max_new_tokens=2, stop=(), show_progress=False)
    evaluate(ad, exs, tmp_path / "a", max_new_tokens=6, stop=(), show_progress=False)
    evaluate(ad, exs, tmp_path / "b", max_new_tokens=6, stop=(), show_progress=False)
    assert _predictions(tmp_path / "a") == _predictions(tmp_path / "b")
    # The same settings again resume: nothing is recomputed or set aside.
    stale = sorted((tmp_path / "a").glob("*.stale-*"))
    evaluate(ad, exs, tmp_path / "a", max_new_tokens=6, stop=(), show_progress=False)
    assert sorted((tmp_path / "a").glob("*.stale-*")) == stale


def test_rank_keeps_templates_that_share_ids_apart(tmp_path: Path) -> None:
    templates = ("flan:zeroshot-options", "flan:fewshot-options")
    exs = _examples(*templates)
    assert len({e.instance_id for e in exs}) == len(exs) // 2  # ids shared by the templates
    ad = adapter_for(load_model("tiny"))
    m = evaluate(ad, exs, tmp_path, mode="rank", show_progress=False)
    assert m["overall"]["n"] == len(exs)
    assert set(m["per_template"]["ik006_even_or_odd"]) == set(templates)
    assert m["spread_over_templates"]["ik006_even_or_odd"]["templates"] == 2
    lines = (tmp_path / "rank_scores.jsonl").read_text().splitlines()
    assert len(lines) == len(exs)
    again = evaluate(ad, exs, tmp_path, mode="rank", show_progress=False)
    assert again == m and len((tmp_path / "rank_scores.jsonl").read_text().splitlines()) == len(exs)


def test_prefix_cache_dropped_when_the_model_changes() -> None:
    ad = adapter_for(load_model("tiny", seed=0))
    exs = _examples("superni:Def+Pos(2)")
    ad.min_shared_prefix = 4  # type: ignore[attr-defined]
    ad.generate([e.source for e in exs], max_new_tokens=3)
    assert ad._prefix is not None  # type: ignore[attr-defined]
    ad.model = load_model("tiny", seed=1).model
    assert ad._prefix is None  # type: ignore[attr-defined]


def test_leading_newline_is_not_cut_to_nothing_and_empties_are_reported(tmp_path: Path) -> None:
    from instructkit.evaluation.run import cut_at_stop

    assert cut_at_stop("\nyes\nmore", ["\n"]) == "yes"
    assert cut_at_stop("  no", ["\n"]) == "no"

    class Silent:
        """Stands in for a model adapter that answers with a blank line."""

        family = "decoder-only"
        model = torch.nn.Linear(1, 1)

        def reset_caches(self) -> None: ...

        def generate(self, sources, **kw):  # type: ignore[no-untyped-def]
            return ["\n\n" for _ in sources]

    from instructkit.evaluation.evaluator import Evaluator

    said: list[str] = []
    ev = Evaluator(Silent(), model_name="silent", show_progress=False, notify=said.append)  # type: ignore[arg-type]
    preds = ev.generate(_examples("flan:zeroshot"), tmp_path / "p.jsonl")
    assert [p.raw for p in preds] == ["\n\n"] * 5 and all(p.prediction == "" for p in preds)
    assert any("5 of 5 predictions for ik006_even_or_odd are empty" in s for s in said)
