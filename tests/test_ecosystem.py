"""Fitting the tools around: --version, JSON output, untruncated piped tables, --quiet for
third-party bars, model cards, pushing to the Hub (up to the network call), mixtures
saved as datasets, and eval loading the LoRA adapter that run saved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli_runner import run_cli

LORA_RUN = {
    "name": "lora",
    "tasks": {"n_instances": 8, "train_instances_per_task": 2, "eval_instances_per_task": 2},
    "model": {"name": "tiny"},
    "train": {
        "steps": 2,
        "batch_size": 2,
        "learning_rate": 0.001,
        "warmup_steps": 0,
        "mixed_precision": "no",
        "save_every": 0,
        "tuning": {"method": "lora"},
    },
    "eval": {"max_new_tokens": 4, "before_tuning": False},
}


def _piped(*args: str) -> subprocess.CompletedProcess[str]:
    """As a user's pipe runs it: no terminal, no COLUMNS."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [sys.executable, "-m", "instructkit.cli", *args],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


def test_version() -> None:
    from importlib.metadata import version

    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"instructkit {version('instructkit')}"


def test_piped_tables_are_not_cut_and_json_is_json() -> None:
    proc = _piped("tasks", "list")
    assert proc.returncode == 0
    assert "ik001_add_two_numbers" in proc.stdout and "…" not in proc.stdout
    data = json.loads(_piped("tasks", "list", "--json", "-").stdout)
    assert len(data["tasks"]) == 53 and data["tasks"][0]["task"] == "ik001_add_two_numbers"
    split = json.loads(_piped("split", "show", "--json", "-").stdout)
    assert split["eval"] and split["reasons"]


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lora")
    cfg = root / "exp.yaml"
    cfg.write_text(yaml.safe_dump({**LORA_RUN, "output_dir": str(root)}))
    proc = run_cli("run", str(cfg), "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


def test_quiet_silences_third_party_bars(lora_run: Path) -> None:
    cfg = lora_run / "exp.yaml"
    proc = run_cli("train", str(cfg), "--quiet", "--model", "tiny")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "it/s]" not in proc.stderr and "%|" not in proc.stderr


def test_model_card_names_base_method_split_and_numbers(lora_run: Path) -> None:
    card = (lora_run / "lora" / "model" / "README.md").read_text()
    assert "base_model: tiny" in card and "library_name: peft" in card
    assert "lora fine-tuning" in card and "leave-one-cluster-out" in card
    assert "| copy demo |" in card and "after tuning" in card


def test_eval_loads_the_adapter_run_saved(lora_run: Path, tmp_path: Path) -> None:
    model_dir = lora_run / "lora" / "model"
    for args in (["--model", str(model_dir)], ["--model", "tiny", "--adapter", str(model_dir)]):
        proc = run_cli(
            "eval", *args, "--tasks", "ik046_is_palindrome", "--max-instances", "2",
            "--output", str(tmp_path / args[-1].replace("/", "_")), "--json", "-", "--quiet",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        metrics = json.loads(proc.stdout)
        assert metrics["overall"]["n"] == 2


def test_results_and_score_json(lora_run: Path, tmp_path: Path) -> None:
    rows = json.loads(
        run_cli("results", "--store", str(lora_run / "results.sqlite"), "--json", "-").stdout
    )
    assert rows and {"experiment", "system", "metric", "value"} <= set(rows[0])


def test_push_uploads_a_finished_model_only(
    lora_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    from instructkit.errors import InstructkitError
    from instructkit.experiments.hub import push_model

    calls: list[tuple[str, dict[str, Any]]] = []

    def create_repo(self: Any, repo_id: str, **kw: Any) -> str:
        calls.append(("create_repo", {"repo_id": repo_id, **kw}))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self: Any, **kw: Any) -> None:
        calls.append(("upload_folder", kw))

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    url = push_model(lora_run / "lora" / "model", "me/lora-tiny", private=True)
    assert url.endswith("me/lora-tiny")
    assert calls[0] == (
        "create_repo",
        {"repo_id": "me/lora-tiny", "exist_ok": True, "private": True},
    )
    assert calls[1][1]["folder_path"] == str(lora_run / "lora" / "model")
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.json").write_text("{}")
    with pytest.raises(InstructkitError, match="not a finished tuned model"):
        push_model(half, "me/x")


def test_mix_build_saves_and_pushes_a_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datasets

    out = tmp_path / "mix"
    proc = run_cli("mix", "build", "--no-tokenize", "--output", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    ds = datasets.load_from_disk(str(out))
    assert set(ds.column_names) == {"task", "instance_id", "template", "source", "target"}
    assert len(ds) > 100

    from instructkit.experiments.hub import save_mixture
    from instructkit.prompts import PromptedExample

    pushed: list[str] = []
    monkeypatch.setattr(
        datasets.Dataset, "push_to_hub", lambda self, repo, **kw: pushed.append(repo)
    )
    ex = PromptedExample(task="t", instance_id="1", template="x", source="s", targets=["y"])
    save_mixture([ex], None, push_to_hub="me/mixture")
    assert pushed == ["me/mixture"]


def test_model_options_dtype_and_errors() -> None:
    import torch

    from instructkit.errors import ModelLoadError
    from instructkit.models import load_model

    assert load_model("tiny", dtype="bfloat16").model.dtype == torch.bfloat16
    with pytest.raises(ModelLoadError, match="unknown dtype 'fp8'"):
        load_model("tiny", dtype="fp8")
    with pytest.raises(ModelLoadError, match="not a PEFT adapter folder"):
        load_model("tiny", adapter="/nonexistent/adapter")


def test_eval_stop_sequences_and_defaults(tmp_path: Path) -> None:
    """`--stop` cuts predictions at the given strings; the defaults are run's."""
    import inspect

    from instructkit import cli
    from instructkit.experiments.config import EvalConfig

    params = inspect.signature(cli.eval_cmd).parameters
    assert params["max_new_tokens"].default == EvalConfig().max_new_tokens
    assert params["batch_size"].default == EvalConfig().batch_size
    proc = run_cli(
        "eval", "--model", "tiny", "--tasks", "ik046_is_palindrome", "--max-instances", "2",
        "--stop", "e", "--stop", "a", "--max-new-tokens", "12", "--output", str(tmp_path / "e"),
        "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    from instructkit.evaluation.run import cut_at_stop

    key = json.loads((tmp_path / "e" / "predictions.jsonl.key.json").read_text())
    assert key["settings"]["generation"]["stop"] == ["e", "a"]
    assert key["settings"]["generation"]["max_new_tokens"] == 12
    for line in (tmp_path / "e" / "predictions.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert row["prediction"] == cut_at_stop(row["raw"], ["e", "a"])
