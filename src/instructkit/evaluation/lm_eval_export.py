"""The held-out tasks of an experiment as an lm-evaluation-harness task folder.

``instructkit export lm-eval DIR [CONFIG]`` renders every held-out instance of the config
exactly as ``run`` evaluates it (its templates, any family, within its source budget) and
writes, per task and template:

- ``data/<task>.jsonl``: one document per instance: ``source`` (the prompt), ``targets``,
  ``options`` and ``gold`` (the index of the first target among the options), ``stop``;
- ``<task>.yaml``: a ``generate_until`` task scored with the official SuperNI metrics
  (exact match and ROUGE-L, ×100, best over references, through ``utils.process_results``)
  after the prediction is cut as instructkit cuts it (leading whitespace dropped, then
  the first stop string);
- ``<task>_mc.yaml`` where the instances have answer options: a ``multiple_choice`` task
  (``acc``, ``acc_norm``), the option after one space as the continuation, as instructkit
  ranks them.

A group ``instructkit_<name>`` lists them: ``lm_eval --include_path DIR --tasks
instructkit_<name> ...``. Generation runs with no stop string on lm-eval's side (it would
cut an answer that starts on a new line) and ``max_gen_toks`` equal to
``eval.max_new_tokens``; the cut happens in ``process_results``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from instructkit.errors import ConfigError
from instructkit.experiments.config import ExperimentConfig

UTILS = '''"""Scoring of the tasks instructkit exported (written by instructkit; do not edit)."""

from instructkit.evaluation.metrics import score_instance
from instructkit.evaluation.run import cut_at_stop


def process_results(doc, results):
    prediction = cut_at_stop(results[0], doc["stop"])
    scores = score_instance(prediction, doc["targets"])
    return {"exact_match": 100.0 * scores["exact_match"], "rougeL": 100.0 * scores["rougeL"]}
'''


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower()


def export_lm_eval(
    config: ExperimentConfig,
    out_dir: str | Path,
    *,
    count_tokens: Callable[[str], int] | None = None,
    all_tasks: bool = False,
) -> dict[str, Any]:
    """Write the folder; returns ``{"group": name, "tasks": [names], "documents": n}``."""
    from instructkit.experiments.plan import eval_context, load_tasks, make_split
    from instructkit.prompts.render import render_instances

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    tasks = load_tasks(config)
    split = make_split(config, tasks)
    ctx = eval_context(config, count_tokens)
    templates = config.eval.templates or [config.prompt.encoding]
    n = config.tasks.eval_instances_per_task
    names = tasks.names if all_tasks else split.eval
    group = f"instructkit_{_slug(config.name)}"
    stop = list(config.eval.stop)
    written: list[str] = []
    documents = 0
    for task_name in names:
        task = tasks[task_name]
        examples = render_instances(templates, task, task.instances[:n], ctx)
        by_template: dict[str, list[Any]] = {}
        for e in examples:
            by_template.setdefault(e.template, []).append(e)
        for template, exs in by_template.items():
            name = f"ik_{_slug(task_name)}"
            if len(by_template) > 1:
                name += f"__{_slug(template)}"
            docs = [
                {
                    "id": e.instance_id,
                    "template": e.template,
                    # lm-eval takes the context as given: the prompt as instructkit
                    # generates from it, and as it ranks options after it (trailing
                    # whitespace dropped, the option after one space: see rank.py).
                    "source": e.source,
                    "context": e.source.rstrip(),
                    "targets": list(e.targets),
                    "options": list(e.options),
                    "gold": next((e.options.index(t) for t in e.targets if t in e.options), -1),
                    "stop": stop,
                }
                for e in exs
            ]
            data = out / "data" / f"{name}.jsonl"
            data.write_text(
                "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8"
            )
            documents += len(docs)
            base = {
                "tag": [group],
                "dataset_path": "json",
                "dataset_kwargs": {"data_files": {"test": str(data.resolve())}},
                "test_split": "test",
                "doc_to_text": "{{source}}",
                "metadata": {"version": 1.0, "template": template, "instructkit_task": task_name},
            }
            gen = {
                **base,
                "task": name,
                "output_type": "generate_until",
                "doc_to_target": "{{targets[0]}}",
                "generation_kwargs": {
                    "until": [],
                    "max_gen_toks": config.eval.max_new_tokens,
                    "do_sample": False,
                },
                "process_results": "!function utils.process_results",
                "metric_list": [
                    {"metric": "exact_match", "aggregation": "mean", "higher_is_better": True},
                    {"metric": "rougeL", "aggregation": "mean", "higher_is_better": True},
                ],
            }
            _write_yaml(out / f"{name}.yaml", gen)
            written.append(name)
            if all(d["options"] and d["gold"] >= 0 for d in docs):
                mc = {
                    **base,
                    "doc_to_text": "{{context}}",
                    "task": f"{name}_mc",
                    "output_type": "multiple_choice",
                    "doc_to_choice": "{{options}}",
                    "doc_to_target": "{{gold}}",
                    "target_delimiter": " ",
                    "metric_list": [
                        {"metric": "acc", "aggregation": "mean", "higher_is_better": True},
                        {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True},
                    ],
                }
                _write_yaml(out / f"{name}_mc.yaml", mc)
                written.append(f"{name}_mc")
    if not written:
        raise ConfigError(config.source_file, "eval", "no held-out instance to export")
    (out / "utils.py").write_text(UTILS, encoding="utf-8")
    return {"group": group, "tasks": written, "documents": documents}


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    # lm-eval's YAML tag for a Python function (safe_dump would quote it).
    text = text.replace("'!function utils.process_results'", "!function utils.process_results")
    path.write_text(text, encoding="utf-8")
