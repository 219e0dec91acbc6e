"""The first end-to-end run with the tiny model, through the CLI and the library API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from instructkit.errors import ConfigError
from instructkit.experiments import default_config, load_config, run_experiment, tiny_overrides
from instructkit.experiments.config import ExperimentConfig
from instructkit.tasks.builtin import builtin_tasks
from tests.cli_runner import run_cli


def _tiny(
    tmp_path: Path,
    name: str,
    *,
    model: str = "tiny",
    save_model: bool = True,
    **sections: dict[str, Any],
) -> ExperimentConfig:
    """The tiny default experiment in ``tmp_path``, with updates per config section."""
    cfg = tiny_overrides(default_config())
    update: dict[str, Any] = {
        "output_dir": str(tmp_path),
        "name": name,
        "save_model": save_model,
        "model": cfg.model.model_copy(update={"name": model}),
    }
    for section, changes in sections.items():
        update[section] = getattr(cfg, section).model_copy(update=changes)
    return cfg.model_copy(update=update)


def test_tiny_run_end_to_end(tmp_path: Path) -> None:
    r = run_cli("run", "--model", "tiny", "--output-dir", str(tmp_path), "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run = tmp_path / "default-tiny"
    for f in (
        "config.yaml",
        "metrics.json",
        "report.md",
        "predictions_before.jsonl",
        "predictions_after.jsonl",
        "split.json",
        "model/model.safetensors",
    ):
        assert (run / f).exists(), f
    metrics = json.loads((run / "metrics.json").read_text())
    systems = metrics["systems"]
    assert list(systems) == [
        "copy input",
        "copy demo",
        "majority class",
        "tiny (before tuning)",
        "tiny (after tuning)",
    ]
    assert len(metrics["eval_tasks"]) == 5
    n = systems["copy demo"]["overall"]["n"]
    assert n == 5 * 10
    lines = (run / "predictions_after.jsonl").read_text().splitlines()
    assert len(lines) == n
    assert set(json.loads(lines[0])) >= {"id", "prediction"}
    assert "| copy demo |" in (run / "report.md").read_text()
    assert "exact match" in r.stdout
    # The resolved config reloads to the same config.
    cfg = load_config(run / "config.yaml")
    assert cfg.model.name == "tiny" and cfg.train.steps == 30


def test_same_config_same_numbers_and_resume(tmp_path: Path) -> None:
    cfg = _tiny(tmp_path, "default", train={"steps": 8})
    a = run_experiment(cfg.model_copy(update={"name": "a"}), show_progress=False)
    b = run_experiment(cfg.model_copy(update={"name": "b"}), show_progress=False)
    assert a.rows == b.rows
    # Rerunning a finished run regenerates nothing and gives the same numbers.
    before = (tmp_path / "a" / "predictions_after.jsonl").read_text()
    again = run_experiment(cfg.model_copy(update={"name": "a"}), show_progress=False)
    assert again.rows == a.rows
    assert (tmp_path / "a" / "predictions_after.jsonl").read_text() == before


def test_interrupted_predictions_resume_without_duplicates(tmp_path: Path) -> None:
    cfg = _tiny(tmp_path, "r")
    full = run_experiment(cfg, show_progress=False)
    path = tmp_path / "r" / "predictions_after.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:17]) + "\n" + lines[17][:10])  # killed mid-write
    again = run_experiment(cfg, show_progress=False)
    ids = [json.loads(x)["id"] for x in path.read_text().splitlines()]
    assert sorted(ids) == sorted(json.loads(x)["id"] for x in lines)
    assert again.rows == full.rows


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("train:\n  steps: -3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: field 'train.steps'"):
        load_config(p)
    r = run_cli("run", str(p), cwd=tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "field 'train.steps'" in r.stderr
    p.write_text("prompt:\n  encoding: Def+Pos(3)\n")
    with pytest.raises(ConfigError, match=r"prompt\.encoding"):
        load_config(p)


def test_encoder_decoder_run(tmp_path: Path) -> None:
    cfg = _tiny(
        tmp_path,
        "t5",
        model="tiny-t5",
        save_model=False,
        train={"steps": 4},
        tasks={"held_out_clusters": ["ciphers"], "eval_instances_per_task": 3},
    )
    result = run_experiment(cfg, show_progress=False)
    assert "tiny-t5 (after tuning)" in result.rows
    assert result.rows["tiny-t5 (after tuning)"]["overall"]["n"] == 5 * 3
    assert len(result.train_losses) == 4


def test_run_with_rank_classification(tmp_path: Path) -> None:
    cfg = _tiny(
        tmp_path,
        "rank",
        model="tiny-t5",
        save_model=False,
        train={"steps": 2},
        tasks={"eval_instances_per_task": 3},
        eval={"rank_classification": True},
    )
    result = run_experiment(cfg, show_progress=False)
    after = result.rows["tiny-t5 (after tuning)"]
    scores = [
        json.loads(x) for x in (tmp_path / "rank" / "rank_after.jsonl").read_text().split("\n") if x
    ]
    # Every held-out instance whose task has answer choices, and only those.
    tasks = builtin_tasks(n_instances=cfg.tasks.n_instances)
    with_options = {t for t in result.split.eval if tasks[t].answer_choices}
    assert 0 < len(with_options) < len(result.split.eval)
    assert after["overall"]["n_ranked"] == len(scores) == 3 * len(with_options)
    correct = [x["prediction"] in x["targets"] for x in scores]
    assert after["overall"]["accuracy"] == pytest.approx(100 * sum(correct) / len(correct))
    assert {t for t, m in after["per_task"].items() if "accuracy" in m} == with_options
    assert "accuracy" not in result.rows["copy demo"]["overall"]
    # The chance baseline: an option picked uniformly at random.
    chance = [100 * len(set(x["targets"]) & set(x["options"])) / len(x["options"]) for x in scores]
    assert result.rows["chance"]["overall"]["accuracy"] == pytest.approx(sum(chance) / len(chance))
    report = (tmp_path / "rank" / "report.md").read_text()
    assert "| system | ROUGE-L | exact match | accuracy (rank) |" in report
    assert "## Accuracy (rank) per held-out task" in report
    assert next(r for r in report.splitlines() if r.startswith("| copy demo |")).endswith("| – |")
    # Resumed: option scores already on disk are not computed again.
    stamp = (tmp_path / "rank" / "rank_after.jsonl").stat().st_mtime_ns
    assert run_experiment(cfg, show_progress=False).rows == result.rows
    assert (tmp_path / "rank" / "rank_after.jsonl").stat().st_mtime_ns == stamp


def test_changed_config_under_the_same_name_gives_fresh_numbers(tmp_path: Path) -> None:
    def systems(cfg: ExperimentConfig) -> dict[str, Any]:
        run_experiment(cfg, show_progress=False)
        metrics = json.loads((cfg.run_dir / "metrics.json").read_text())["systems"]
        return {k: v["overall"] for k, v in metrics.items()}

    first = _tiny(tmp_path, "same", train={"steps": 2}, eval={"max_new_tokens": 8})
    changed = _tiny(tmp_path, "same", train={"steps": 4}, eval={"max_new_tokens": 3})
    fresh = _tiny(tmp_path, "fresh", train={"steps": 4}, eval={"max_new_tokens": 3})
    systems(first)
    assert systems(changed) == systems(fresh)

    def losses(name: str) -> list[float]:
        return json.loads((tmp_path / name / "train_state.json").read_text())["losses"]

    def weights(name: str) -> dict[str, Any]:
        from safetensors.torch import load_file

        return load_file(str(tmp_path / name / "model" / "model.safetensors"))

    # Trained again under the new config: the same losses and weights as a fresh run.
    assert len(losses("same")) == 4 and losses("same") == losses("fresh")
    w_same, w_fresh = weights("same"), weights("fresh")
    assert all((w_same[k] == w_fresh[k]).all() for k in w_fresh)
    key = json.loads((tmp_path / "same" / "predictions_before.jsonl.key.json").read_text())
    assert key["settings"]["generation"]["max_new_tokens"] == 3
    # The model and predictions of the first config are kept aside, not reused.
    assert list((tmp_path / "same").glob("model.stale-*"))
    assert list((tmp_path / "same").glob("predictions_before.stale-*.jsonl"))
    other_model = _tiny(tmp_path, "same", model="tiny-t5", train={"steps": 4})
    fresh_t5 = _tiny(tmp_path, "fresh-t5", model="tiny-t5", train={"steps": 4})
    assert systems(other_model) == systems(fresh_t5)
    # Each run is recorded in the store beside the runs, with its kind.
    from instructkit.experiments.store import ResultsStore

    store = ResultsStore(tmp_path / "results.sqlite")
    assert store.kind("fresh") == "run"
    after = store.results(
        experiment="fresh", system="after tuning", task="*", category="*", metric="rougeL"
    )
    assert [r.value for r in after] == [systems(fresh)["tiny (after tuning)"]["rougeL"]]
    store.close()


def test_training_key_follows_a_local_model_folder(tmp_path: Path) -> None:
    from instructkit.artifacts import write_manifest
    from instructkit.experiments.single import training_key

    folder = tmp_path / "tuned"
    folder.mkdir()
    cfg = _tiny(tmp_path, "pt", model=str(folder))
    write_manifest(folder, {"steps": 1})
    first = training_key(cfg)
    write_manifest(folder, {"steps": 2})  # the starting model was trained again
    assert training_key(cfg) != first
    assert training_key(_tiny(tmp_path, "x")) == training_key(_tiny(tmp_path, "y"))


def test_names_cannot_lead_out_of_the_output_folder(tmp_path: Path) -> None:
    from instructkit.experiments.config import parse_config

    for bad in ("../escape", "a/b", "..", ""):
        with pytest.raises(ConfigError, match="cannot name a folder"):
            parse_config({"name": bad})
    # A cell named from task data (a cluster called "../x") is refused when used.
    cfg = _tiny(tmp_path, "ok").model_copy(update={"name": "held_out=../x"})
    with pytest.raises(ConfigError, match="cannot name a folder"):
        _ = cfg.run_dir
    r = run_cli(
        "run",
        "--model",
        "tiny",
        "--name",
        "../../evil",
        "--output-dir",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert r.returncode == 1 and "cannot name a folder" in r.stderr
    assert not (tmp_path.parent.parent / "evil").exists()
