"""The tasks commands, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run_cli


def test_tasks_list_builtin() -> None:
    r = run_cli("tasks", "list")
    assert r.returncode == 0
    assert "ik001_add_two_numbers" in r.stdout and "arithmetic" in r.stdout


def test_tasks_show_like_the_paper(superni_root: Path) -> None:
    r = run_cli(
        "tasks",
        "show",
        str(superni_root / "tasks" / "task020_mctaco_span_based_question.json"),
        "-n",
        "2",
    )
    assert r.returncode == 0, r.stderr
    for part in (
        "Definition:",
        "Positive Example 1",
        "Negative Example 1",
        "Reason:",
        "Instance task020-",
    ):
        assert part in r.stdout
    r = run_cli("tasks", "show", "ik005_two_numbers_with_sum")
    for part in ("Things to Avoid:", "Emphasis & Caution:", "Suggestion:"):
        assert part in r.stdout


def test_validate_reports_one_line_per_bad_file(tmp_path: Path, superni_root: Path) -> None:
    good = json.loads(
        (superni_root / "tasks" / "task020_mctaco_span_based_question.json").read_text()
    )
    (tmp_path / "task1_ok.json").write_text(json.dumps(good))
    bad = dict(good)
    bad["Instances"] = []
    (tmp_path / "task2_empty.json").write_text(json.dumps(bad))
    (tmp_path / "task3_broken.json").write_text("{")
    r = run_cli("tasks", "validate", str(tmp_path))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error")]
    assert len(errors) == 2
    assert any("task2_empty.json: field 'Instances': is empty" in e for e in errors)
    assert any("task3_broken.json: invalid JSON" in e for e in errors)
    assert "1 of 3 task files valid" in r.stdout


def test_validate_missing_path_and_unknown_task(tmp_path: Path) -> None:
    r = run_cli("tasks", "validate", str(tmp_path / "nope"))
    assert (
        r.returncode == 1 and "no such file or folder" in r.stderr and "Traceback" not in r.stderr
    )
    r = run_cli("tasks", "show", "ik001_add_two_number")
    assert r.returncode == 1 and "did you mean 'ik001_add_two_numbers'" in r.stderr


def test_export_builtin_then_validate(tmp_path: Path) -> None:
    r = run_cli("tasks", "export-builtin", str(tmp_path / "suite"), "--n-instances", "3")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "suite" / "splits" / "default" / "test_tasks.txt").read_text().strip()
    r = run_cli("tasks", "validate", str(tmp_path / "suite"))
    assert r.returncode == 0, r.stderr


def test_prompts_show_and_list() -> None:
    r = run_cli("prompts", "show", "ik043_keyword_sentiment", "--template", "flan:3", "-n", "2")
    assert r.returncode == 0, r.stderr
    assert "OPTIONS:" in r.stdout and "- positive" in r.stdout and "target:" in r.stdout
    r = run_cli("prompts", "list", "ik001_add_two_numbers")
    assert "superni:Def+Pos(2)+Neg(2)+Expl" in r.stdout and "flan:10-turned" in r.stdout


def test_prompts_validate_builtin_and_bad_files(tmp_path: Path) -> None:
    r = run_cli("prompts", "validate")
    assert r.returncode == 0, r.stderr
    assert "0 problem(s)" in r.stdout
    bad = tmp_path / "a" / "templates.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "dataset: x\ntemplates:\n  t1: !Template\n    id: t1\n    name: broken\n"
        "    jinja: '{{ premise ||| x'\n"
    )
    undefined = tmp_path / "b" / "templates.yaml"
    undefined.parent.mkdir()
    undefined.write_text(
        "dataset: y\ntemplates:\n  t2: !Template\n    id: t2\n    name: typo\n"
        "    jinja: '{{ premis }} ||| {{ label }}'\n"
    )
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"premise": "p", "label": "yes"}\n')
    r = run_cli("prompts", "validate", str(tmp_path), "--data", str(rows))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("problem")]
    assert len(lines) == 2
    assert any("template 'broken': field 'jinja': Jinja syntax error" in ln for ln in lines)
    assert any(
        "template 'typo': field 'premis'" in ln and "uses a field the data lacks" in ln
        for ln in lines
    )


def test_split_mix_audit_commands(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "tasks:\n  n_instances: 20\nsplit:\n  protocol: leave-one-cluster-out\n"
        "  held_out: [ciphers]\n  also_hold_out: [string_manipulation]\n"
        "mixture:\n  rate: temperature\n  temperature: 2.0\nmodel:\n  name: tiny\n"
    )
    r = run_cli("split", "show", str(cfg), "--json", str(tmp_path / "s.json"))
    assert r.returncode == 0, r.stderr
    assert "ik038_caesar_encode" in r.stdout and "related held-out cluster" in r.stdout
    split = json.loads((tmp_path / "s.json").read_text())
    assert len(split["eval"]) == 5 and len(split["excluded"]) == 5
    r = run_cli("mix", "build", str(cfg), "--cache-dir", str(tmp_path / "cache"))
    assert r.returncode == 0, r.stderr
    assert (
        "tokens" in r.stdout
        and "total" in r.stdout
        and list((tmp_path / "cache").glob("tokenized-*"))
    )
    r = run_cli("audit", str(cfg), "--ngram", "6")
    assert r.returncode == 0, r.stderr
    assert "ik038_caesar_encode" in r.stdout and "contaminated" in r.stdout
    cfg.write_text("split:\n  protocol: leave-one-task\n  held_out: [a, b]\n")
    r = run_cli("split", "show", str(cfg))
    assert r.returncode == 1 and "split.held_out" in r.stderr and "Traceback" not in r.stderr
