"""A real tiny sweep (two cells: two run folders and a results store) and a task folder
whose text is hostile, shared by the server tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

SWEEP = """
kind: loco
name: s
store: {out}/results.sqlite
clusters: [rule_classification, arithmetic]
base:
  tasks: {{n_instances: 12, train_instances_per_task: 3, eval_instances_per_task: 3}}
  model: {{name: tiny}}
  train: {{steps: 3, batch_size: 2, learning_rate: 0.01, warmup_steps: 1,
           mixed_precision: "no", save_every: 0}}
  eval: {{max_new_tokens: 3, batch_size: 4}}
"""

HOSTILE = "<script>alert('x')</script> [/] [bold]b[/bold] {{ 7*7 }} " + "long " * 400 + "x" * 3000


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from instructkit.experiments.sweeps import load_sweep, run_sweep

    root = tmp_path_factory.mktemp("served")
    (root / "sweep.yaml").write_text(SWEEP.format(out=root))
    run_sweep(load_sweep(root / "sweep.yaml"), console=Console(quiet=True), show_progress=False)
    tasks = root / "hostile"
    tasks.mkdir()
    task = {
        "Contributors": ["x"],
        "Source": ["toy"],
        "URL": [],
        "Categories": ["Toxic Language Detection"],
        "Reasoning": [],
        "Definition": [HOSTILE],
        "Input_language": ["English"],
        "Output_language": ["English"],
        "Instruction_language": ["English"],
        "Domains": ["x"],
        "Positive Examples": [{"input": "<b>in</b>", "output": "[/]", "explanation": "{{ x }}"}],
        "Negative Examples": [],
        "Instances": [
            {"id": "t1-<i>", "input": HOSTILE, "output": ["<img src=x onerror=alert(1)>"]}
        ],
    }
    (tasks / "task999_hostile.json").write_text(json.dumps(task))
    return {"root": root, "runs": root, "store": root / "results.sqlite", "tasks": tasks}
