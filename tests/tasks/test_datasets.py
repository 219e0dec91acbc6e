"""Dataset tasks (T0 / FLAN): rows read through datasets.load_dataset, PromptSource
templates and FLAN's patterns as template families, field maps, one-line errors."""

from __future__ import annotations

import csv
import json
import string
from pathlib import Path

import pytest

from instructkit.errors import InstructkitError
from instructkit.experiments.config import load_config, tiny_overrides
from instructkit.experiments.plan import load_tasks, make_split
from instructkit.prompts.flan import options_suffix
from instructkit.prompts.flan_patterns import flan_fields, load_patterns
from instructkit.prompts.promptsource import render as ps_render
from instructkit.prompts.promptsource import task_templates
from instructkit.prompts.render import render_instances
from instructkit.tasks.datasets import DatasetSpec, load_dataset_task
from tests.conftest import SHARED_DATA

T0 = SHARED_DATA / "t0-eval"
needs_data = pytest.mark.skipif(
    not (T0.is_dir() and (SHARED_DATA / "flan" / "patterns.json").exists()),
    reason=f"T0 evaluation data or FLAN patterns not found under {SHARED_DATA}",
)


def test_local_files_load_as_rows(tmp_path: Path) -> None:
    rows = [{"premise": f"p{i}", "hypothesis": f"h{i}", "idx": i, "label": i % 2} for i in range(4)]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "a.csv").write_text(
        "premise,hypothesis,idx,label\n" + "".join(f"p{i},h{i},{i},{i % 2}\n" for i in range(4))
    )
    for f in ("a.jsonl", "a.csv"):
        task = load_dataset_task(DatasetSpec(name="toy", path=str(tmp_path / f), cluster="nli"))
        assert [i.id for i in task.instances] == [f"toy-{i}" for i in range(4)]
        assert task.instances[1].fields["hypothesis"] == "h1" and task.cluster == "nli"
    with pytest.raises(InstructkitError, match="toy") as e:
        load_dataset_task(DatasetSpec(name="toy", path="no_such_dataset_here_xyz"))
    assert "\n" not in str(e.value)


@needs_data
def test_promptsource_and_flan_families_on_t0_rows() -> None:
    cfg = load_config("builtin:t0_heldout")
    tasks = load_tasks(cfg)
    rte = tasks["rte"]
    tpls = task_templates(rte)
    assert tpls and all(t.metadata.original_task for t in tpls)
    from instructkit.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="did you mean"):
        render_instances("promptsource:GPT-3 stylee", rte, rte.instances[:1])
    exs = render_instances("promptsource:*", rte, rte.instances[:3])
    assert {e.template for e in exs} == {f"promptsource:{t.name}" for t in tpls}
    for e in exs:
        tpl = next(t for t in tpls if f"promptsource:{t.name}" == e.template)
        inst = next(i for i in rte.instances if i.id == e.instance_id)
        assert e.options and e.targets[0] in e.options
        if "choice" not in tpl.jinja:
            assert e.source == ps_render(tpl, inst.fields).source

    flan = load_config("builtin:flan_loco")
    ftasks = load_tasks(flan)
    patterns = load_patterns(str(SHARED_DATA / "flan" / "patterns.json"), "v1")
    for name in ("rte", "cb", "anli", "copa", "wic", "wsc", "winogrande"):
        task = ftasks[name]
        exs = render_instances("flan-patterns:*", task, task.instances[:2])
        assert len(exs) == 2 * len(patterns[name])
        for e in exs:
            k = int(e.template.split(":")[1].removesuffix("-turned"))
            inst = next(i for i in task.instances if i.id == e.instance_id)
            fields, options = flan_fields(task, inst)
            # The rendered text is str.format on the mapped fields with FLAN's suffix.
            assert fields["options_"] == options_suffix(options)
            assert e.source == patterns[name][k][0].format(**fields)
            assert e.targets == [patterns[name][k][1].format(**fields)]
            turned = e.template.endswith("-turned")
            assert (e.options == []) == turned
            if not turned:
                assert (
                    e.targets[0] in options and "OPTIONS:\n- " in e.source
                ) or "{options_}" not in patterns[name][k][0]
    used = {f for a, b in patterns["rte"] for _, f, _, _ in string.Formatter().parse(a + b) if f}
    assert used <= {"premise", "hypothesis", "options_", "answer"}


@needs_data
def test_bad_field_map_is_one_line_and_keeps_the_rows_that_render(tmp_path: Path) -> None:
    rows = [
        {"premise": "a|b", "hypothesis": "h", "label": 0},
        {"premise": "q", "hypothesis": "h", "label": 1},
    ]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    def task(fields: dict[str, str]):  # type: ignore[no-untyped-def]
        flan = {
            "dataset": "rte",
            "fields": fields,
            "options": ["yes", "no"],
            "answer": "{{ label }}",
        }
        spec = {"name": "toy", "path": str(tmp_path / "rows.jsonl"), "flan": flan}
        return load_dataset_task(DatasetSpec.model_validate(spec))

    said: list[str] = []
    t = task({"premise": "{{ premise.split('|')[1] }}", "hypothesis": "hypothesis"})
    exs = render_instances("flan-patterns:0", t, t.instances, warn=said.append)
    assert [e.instance_id for e in exs] == ["toy-0"]  # the row that renders is kept
    assert len(said) == 1 and "toy" in said[0] and "premise" in said[0] and "\n" not in said[0]
    said.clear()
    t = task({"premise": "premise", "hypothesis": "hypo"})
    assert render_instances("flan-patterns:0", t, t.instances, warn=said.append) == []
    assert "FLAN field 'hypothesis': column 'hypo' is not in the data" in said[0]
    with pytest.raises(ValueError, match="no shipped FLAN field map"):
        DatasetSpec.model_validate({"name": "x", "path": "y", "flan": "nope"})


@needs_data
def test_t0_run_and_eval_over_all_templates_at_tiny_scale(tmp_path: Path) -> None:
    from instructkit.experiments import run_experiment
    from instructkit.experiments.store import ResultsStore
    from tests.cli_runner import run_cli

    cfg = tiny_overrides(load_config("builtin:t0_heldout"))
    cfg = cfg.model_copy(
        update={
            "output_dir": str(tmp_path),
            "save_model": False,
            "model": cfg.model.model_copy(update={"name": "tiny"}),
            "tasks": cfg.tasks.model_copy(
                update={"eval_instances_per_task": 2, "train_instances_per_task": 4}
            ),
            "train": cfg.train.model_copy(update={"steps": 2, "save_every": 0}),
        }
    )
    split = make_split(cfg, load_tasks(cfg))
    assert sorted(split.eval) == ["anli", "cb", "rte"]
    result = run_experiment(cfg, show_progress=False)
    # Baselines answer the same prompted examples, against the templates' targets: with no
    # demonstration, copying the demo output (nothing) is never right.
    demo = result.rows["copy demo"]["overall"]
    assert demo["exact_match"] == 0.0 and demo["n"] == result.rows["chance"]["overall"]["n"]
    acc = [s for s in result.scores if s.metric == "accuracy" and s.system == "after tuning"]
    templates = {s.template for s in acc if s.task == "*" and s.category == "*"}
    assert len(templates) > 5  # per PromptSource template, beside the pooled number
    store = ResultsStore(tmp_path / "results.sqlite")
    assert store.kind("t0-heldout") == "run"
    store.close()
    from instructkit.experiments.sweep_report import write_sweep_report

    out = write_sweep_report(tmp_path / "results.sqlite", "t0-heldout", metric="accuracy")
    report = (out / "report.md").read_text()
    assert "## Over templates: median (IQR), as T0 reports" in report
    rows = list(csv.reader((out / "results.csv").open()))
    pooled = result.rows[next(k for k in result.rows if k.endswith("(after tuning)"))]
    assert rows[0][-1] == "after tuning" and rows[1][-1] == f"{pooled['overall']['accuracy']:.1f}"
    assert "chance" in rows[0]
    r = run_cli(
        "eval", "--model", "tiny", "--config", "builtin:t0_heldout", "--all",
        "--template", "promptsource:*", "--mode", "rank", "--max-instances", "2",
        "--output", str(tmp_path / "eval"), "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    spread = metrics["spread_over_templates"]
    assert set(spread) == {"rte", "cb", "anli", "copa", "wic", "wsc", "winogrande"}
    assert all(s["templates"] >= 3 for s in spread.values())


@needs_data
def test_sweep_base_may_name_a_shipped_config(tmp_path: Path) -> None:
    from instructkit.experiments.sweeps import cells, load_sweep

    p = tmp_path / "s.yaml"
    p.write_text("kind: loco\nname: fl\nclusters: [nli, coreference]\nbase: builtin:flan_loco\n")
    assert [k for k, _ in cells(load_sweep(p))] == ["held_out=nli", "held_out=coreference"]
