"""evaluate() on a model in memory (both modes, resumable), and the eval / score /
baselines commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from instructkit.evaluation.api import evaluate
from instructkit.evaluation.stats import bootstrap_ci, median_iqr, spread_over_templates
from instructkit.models import adapter_for, load_model
from instructkit.prompts import apply_template
from instructkit.tasks.builtin import build_task, spec_by_name
from tests.cli_runner import run_cli


def _examples(template: str, n: int = 6) -> list:  # type: ignore[type-arg]
    t = build_task(spec_by_name("ik006_even_or_odd"), n_instances=n)
    return [apply_template(template, t, i) for i in t.instances]


def test_generation_eval_resumes(tmp_path: Path) -> None:
    ad = adapter_for(load_model("tiny"))
    exs = _examples("superni:Def+Pos(2)")
    m1 = evaluate(ad, exs[:3], tmp_path, max_new_tokens=3, show_progress=False)
    assert m1["overall"]["n"] == 3
    m2 = evaluate(ad, exs, tmp_path, max_new_tokens=3, bootstrap=True, show_progress=False)
    lines = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 6 and len({json.loads(x)["id"] for x in lines}) == 6
    official = [
        json.loads(x) for x in (tmp_path / "predictions.official.jsonl").read_text().splitlines()
    ]
    assert all(set(o) == {"id", "prediction"} for o in official)
    lo, hi = m2["overall"]["ci95"]["rougeL"]
    assert lo <= m2["overall"]["rougeL"] <= hi


def test_rank_eval_resumes(tmp_path: Path) -> None:
    ad = adapter_for(load_model("tiny"))
    exs = _examples("flan:zeroshot-options")
    assert exs[0].options == ["even", "odd"]
    evaluate(ad, exs[:2], tmp_path, mode="rank", show_progress=False)
    m = evaluate(ad, exs, tmp_path, mode="rank", show_progress=False)
    assert m["overall"]["n"] == 6
    assert len((tmp_path / "rank_scores.jsonl").read_text().splitlines()) == 6
    assert 0 <= m["overall"]["accuracy"] <= 100


def test_median_iqr_and_bootstrap() -> None:
    s = median_iqr([10.0, 20.0, 30.0, 40.0, 50.0])
    assert (s.median, s.q1, s.q3, s.iqr) == (30.0, 20.0, 40.0, 20.0)
    spreads = spread_over_templates({"rte": {"a": 50.0, "b": 60.0, "c": 70.0}})
    assert spreads["rte"].median == 60.0 and spreads["rte"].n == 3
    lo, hi = bootstrap_ci([0.0, 100.0] * 50, seed=1)
    assert lo < 50.0 < hi
    assert bootstrap_ci([1.0] * 10) == (1.0, 1.0)


def test_eval_cli_tiny(tmp_path: Path) -> None:
    r = run_cli(
        "eval",
        "--model",
        "tiny",
        "--tasks",
        "ik006_even_or_odd,ik007_is_prime",
        "--template",
        "flan:zeroshot-options",
        "--mode",
        "rank",
        "--max-instances",
        "4",
        "--output",
        str(tmp_path),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    assert "accuracy" in r.stdout and "overall" in r.stdout
    r = run_cli("eval", "--model", "tiny", "--mode", "guess", "--output", str(tmp_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_score_and_baselines_cli(tmp_path: Path, superni_root: Path) -> None:
    r = run_cli("baselines", str(superni_root), "--max-instances", "5", "--output", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "copy demo" in r.stdout and "majority class" in r.stdout
    refs = superni_root / "test_references_en.jsonl"
    r = run_cli(
        "score", str(tmp_path / "copy_demo.jsonl"), str(refs), "--json", str(tmp_path / "s.json")
    )
    assert r.returncode == 0, r.stderr
    result = json.loads((tmp_path / "s.json").read_text())
    assert result["default"]["overall"]["n"] == 11810
    assert result["default"]["missing"] == 11810 - len(
        (tmp_path / "copy_demo.jsonl").read_text().splitlines()
    )
    assert "per category" in r.stdout


def test_two_processes_shard_generation(tmp_path: Path) -> None:
    args = [
        "eval",
        "--model",
        "tiny",
        "--tasks",
        "ik006_even_or_odd,ik001_add_two_numbers",
        "--max-instances",
        "6",
        "--max-new-tokens",
        "4",
        "--quiet",
    ]
    one = run_cli(*args, "--output", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "-m",
            "instructkit.cli",
            *args,
            "--output",
            str(tmp_path / "two"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert two.returncode == 0, two.stderr
    a = {
        json.loads(x)["id"]: json.loads(x)["prediction"]
        for x in (tmp_path / "one" / "predictions.jsonl").read_text().splitlines()
    }
    rows = [
        json.loads(x) for x in (tmp_path / "two" / "predictions.jsonl").read_text().splitlines()
    ]
    assert len(rows) == len(a) == 12 and {r["id"] for r in rows} == set(a)
    assert all(a[r["id"]] == r["prediction"] for r in rows)
    assert not list((tmp_path / "two").glob("*.rank*"))
    assert two.stdout.count("overall") == 1  # only the main process reports


def test_spread_over_templates_in_rank_metrics() -> None:
    from instructkit.evaluation.api import rank_metrics
    from instructkit.evaluation.rank import OptionScores

    def r(i: int, tpl: str, right: bool) -> OptionScores:
        return OptionScores(
            str(i), "rte", tpl, ["a", "b"], [-1.0, -2.0], [1, 1], ["a" if right else "b"]
        )

    res = [
        r(0, "t1", True),
        r(1, "t1", True),
        r(2, "t2", True),
        r(3, "t2", False),
        r(4, "t3", False),
        r(5, "t3", False),
    ]
    m = rank_metrics(res)
    assert m["per_template"]["rte"] == {"t1": 100.0, "t2": 50.0, "t3": 0.0}
    assert m["spread_over_templates"]["rte"] == {
        "median": 50.0,
        "q1": 25.0,
        "q3": 75.0,
        "iqr": 50.0,
        "templates": 3,
    }


def test_declared_template_metrics() -> None:
    from instructkit.evaluation.template_metrics import squad_f1, template_metrics

    m = template_metrics(
        ["Accuracy", "Squad", "BLEU"], ["Yes", "the cat sat"], [["Yes"], ["a cat sat down"]]
    )
    assert m["accuracy"] == 50.0
    assert m["squad_em"] == 50.0
    assert squad_f1("the cat sat", "a cat sat down") == 2 * (1.0 * (2 / 3)) / (1.0 + 2 / 3)
    assert m["unsupported"] == ["BLEU"]


def test_per_task_generation_settings(tmp_path: Path) -> None:
    from instructkit.evaluation.run import GenerationSettings, generate_predictions

    class Recorder:
        """Stands in for a model adapter: answers with as many x as tokens allowed."""

        def generate(self, sources, *, max_new_tokens, max_source_tokens, batch_size, stop, **kw):  # type: ignore[no-untyped-def]
            return ["x" * max_new_tokens + "\nmore" for _ in sources]

    t1 = build_task(spec_by_name("ik006_even_or_odd"), n_instances=3)
    t2 = build_task(spec_by_name("ik001_add_two_numbers"), n_instances=3)
    exs = [apply_template("superni:Def", t, i) for t in (t1, t2) for i in t.instances]
    preds = generate_predictions(
        Recorder(),
        exs,
        tmp_path / "p.jsonl",
        max_new_tokens=5,
        stop=("\n",),  # type: ignore[arg-type]
        show_progress=False,
        task_settings={"ik006_even_or_odd": GenerationSettings(max_new_tokens=2, stop=("\n",))},
    )
    assert [p.prediction for p in preds] == ["xx"] * 3 + ["xxxxx"] * 3
