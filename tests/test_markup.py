"""Task data is printed as text, never as markup: brackets in data survive and cannot
crash the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run_cli

HOSTILE = "[math]x^2[/math] [/] [bold red]loud[/] <script>alert(1)</script> {{ 7*7 }}"


def _task(tmp_path: Path) -> Path:
    task = {
        "Contributors": ["x"],
        "Source": ["toy"],
        "URL": ["u"],
        "Categories": ["Toy [/]"],
        "Reasoning": [],
        "Definition": [f"Copy the input. {HOSTILE}"],
        "Input_language": ["English"],
        "Output_language": ["English"],
        "Instruction_language": ["English"],
        "Domains": ["d"],
        "Positive Examples": [{"input": HOSTILE, "output": "[/]", "explanation": "[red]e"}],
        "Negative Examples": [],
        "Instances": [{"id": "t-[/]", "input": HOSTILE, "output": ["[/math]"]}],
        "Instance License": ["unknown"],
    }
    p = tmp_path / "task999_toy.json"
    p.write_text(json.dumps(task))
    return p


def test_tasks_show_and_prompts_show_print_data_as_text(tmp_path: Path) -> None:
    p = _task(tmp_path)
    r = run_cli("tasks", "show", str(p), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    flat = " ".join(r.stdout.split())
    assert "[math]x^2[/math]" in flat and "[bold red]loud[/]" in flat and "t-[/]" in flat
    r = run_cli(
        "prompts", "show", "task999_toy", "--source", str(tmp_path), "--template", "superni:Def",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "[math]x^2[/math]" in " ".join(r.stdout.split())


def test_an_error_message_with_brackets_is_printed_whole(tmp_path: Path) -> None:
    bad = tmp_path / "task[red]bad[bold].json"
    bad.write_text("{not json")
    r = run_cli("tasks", "validate", str(bad), cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "task[red]bad[bold].json" in " ".join(r.stderr.split())
