"""The lm-eval export: lm-evaluation-harness, run on the exported folder with the tiny
model, gets the same per-task numbers as instructkit's own evaluation of the same prompts
(generation: exact match and ROUGE-L; rank classification: accuracy and acc_norm)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from instructkit.evaluation.api import evaluate
from instructkit.evaluation.lm_eval_export import export_lm_eval
from instructkit.experiments.config import parse_config
from instructkit.experiments.plan import eval_context, load_tasks, make_split
from instructkit.models import adapter_for, load_model
from instructkit.prompts.render import render_instances

lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is not installed (dev extra)")

CONFIG = {
    "name": "parity",
    "tasks": {"n_instances": 12, "eval_instances_per_task": 4},
    "model": {"name": "tiny"},
    "prompt": {"encoding": "Def"},
    "eval": {"max_new_tokens": 6, "max_source_tokens": 400, "rank_classification": True},
}


def test_lm_eval_on_the_export_matches_instructkit(tmp_path: Path) -> None:
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from instructkit.experiments.plan import make_mixture
    from instructkit.training import TrainConfig, train

    cfg = parse_config(CONFIG)
    adapter = adapter_for(load_model("tiny", seed=0))
    # A few steps on the training tasks, so that the model answers with words.
    tasks_ = load_tasks(cfg)
    mix = make_mixture(cfg, tasks_, make_split(cfg, tasks_)).examples
    train(
        adapter,
        mix,
        TrainConfig(steps=150, batch_size=8, learning_rate=1e-2, warmup_steps=0,
                    mixed_precision="no", save_every=0),
        tmp_path / "train",
        show_progress=False,
    )  # fmt: skip
    out = tmp_path / "lm-eval"
    done = export_lm_eval(cfg, out, count_tokens=adapter.count_tokens)
    assert done["tasks"] and any(t.endswith("_mc") for t in done["tasks"])
    spec = yaml.safe_load((out / f"{done['tasks'][0]}.yaml").read_text().replace("!function", ""))
    assert spec["output_type"] == "generate_until" and spec["tag"] == [done["group"]]

    # instructkit on the same prompts.
    tasks = load_tasks(cfg)
    split = make_split(cfg, tasks)
    ctx = eval_context(cfg, adapter.count_tokens)
    examples = [
        e
        for t in split.eval
        for e in render_instances([cfg.prompt.encoding], tasks[t], tasks[t].instances[:4], ctx)
    ]
    gen = evaluate(
        adapter, examples, tmp_path / "gen", max_new_tokens=6, max_source_tokens=400,
        show_progress=False,
    )  # fmt: skip
    rank = evaluate(
        adapter, examples, tmp_path / "rank", mode="rank", max_source_tokens=400,
        show_progress=False,
    )  # fmt: skip

    # add_bos_token=False: lm-eval otherwise lets the tokenizer add its special tokens,
    # and the tiny model's byte tokenizer (T5's) appends </s> to every context.
    lm = HFLM(
        pretrained=adapter.model, tokenizer=adapter.tokenizer, batch_size=1, add_bos_token=False
    )
    res = lm_eval.simple_evaluate(
        model=lm,
        tasks=[done["group"]],
        task_manager=TaskManager(include_path=str(out)),
        log_samples=False,
        bootstrap_iters=0,
    )["results"]
    answered = [
        line
        for line in (tmp_path / "gen" / "predictions.jsonl").read_text().splitlines()
        if '"prediction": ""' not in line
    ]
    assert answered, "the model gave no non-empty prediction: the comparison would be weak"
    compared = 0
    for t in split.eval:
        name = "ik_" + t.lower()
        ours_g = gen["per_task"][t]
        assert res[name]["exact_match,none"] == pytest.approx(ours_g["exact_match"], abs=1e-6)
        assert res[name]["rougeL,none"] == pytest.approx(ours_g["rougeL"], abs=1e-6)
        if f"{name}_mc" in res:
            ours_r = rank["per_task"][t]
            assert res[f"{name}_mc"]["acc,none"] * 100 == pytest.approx(ours_r["accuracy"])
            assert res[f"{name}_mc"]["acc_norm,none"] * 100 == pytest.approx(
                ours_r["accuracy_norm"]
            )
            compared += 1
    assert compared >= 3


def test_export_cli_writes_a_folder(tmp_path: Path) -> None:
    from tests.cli_runner import run_cli

    cfg = tmp_path / "exp.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    proc = run_cli("export", "lm-eval", str(tmp_path / "out"), str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "lm_eval --include_path" in proc.stdout
    assert (tmp_path / "out" / "utils.py").is_file()
    assert list((tmp_path / "out" / "data").glob("*.jsonl"))
