"""PromptSource rendering against promptsource 0.2.3 itself (its ``Template.apply``), on
every template of the T0 held-out datasets over their real rows, with random draws seeded
the same way; and the cases that used to differ (constant ``choice`` lists, ``most_frequent``,
``truncate``, undefined fields, pipes in data)."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import pytest

from instructkit.prompts.promptsource import (
    PromptSourceTemplate,
    TemplateMetadata,
    find_templates,
    load_templates_file,
    render,
)
from tests.prompts.test_promptsource import T0_DATASETS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    ps = pytest.importorskip(
        "promptsource.templates",
        reason="promptsource 0.2.3 (the reference) is not installed: scripts/setup.sh installs it",
    )


def _reference(tpl: PromptSourceTemplate, row: dict, seed: int) -> list[str]:  # type: ignore[type-arg]
    ref = ps.Template(tpl.name, tpl.jinja, tpl.reference, answer_choices=tpl.answer_choices)
    random.seed(seed)
    return ref.apply(row)  # type: ignore[no-any-return]


def _ours(tpl: PromptSourceTemplate, row: dict, seed: int) -> list[str]:  # type: ignore[type-arg]
    return render(tpl, row, seed=seed).parts


@pytest.mark.parametrize("folder", list(T0_DATASETS))
def test_renders_equal_promptsource_apply(folder: str, t0_eval_root: Path) -> None:
    root = t0_eval_root.parent / "promptsource" / "templates"
    if not root.is_dir():
        pytest.skip(f"PromptSource templates not found at {root}")
    dataset, subset, files = T0_DATASETS[folder]
    tpls = load_templates_file(find_templates(root, dataset, subset))
    rows = [
        json.loads(x) for f in files for x in (t0_eval_root / folder / f).read_text().splitlines()
    ][:100]
    for tpl in tpls:
        for k, row in enumerate(rows):
            want = _reference(tpl, row, k)
            got = _ours(tpl, row, k)
            assert got == want[: len(got)] and len(want) <= 2, (tpl.name, k)


def _tpl(jinja: str, choices: str | None = None) -> PromptSourceTemplate:
    return PromptSourceTemplate(
        id="x", name="t", jinja=jinja, answer_choices=choices, metadata=TemplateMetadata(),
        dataset="d", subset=None, file="f.yaml",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("jinja", "choices", "row"),
    [
        ('{{ ["Yes", "No", "Maybe"] | choice }} {{ a }} ||| {{ b }}', None, {"a": "x", "b": "y"}),
        (
            "{{ a | most_frequent | choice }} ||| {{ b }}",
            None,
            {"a": ["p", "q", "q", "p", "r"], "b": "y"},
        ),
        ("{{ a }} {{ missing }} ||| {{ b }}", None, {"a": "x", "b": "y"}),
        ("{{ a }} ||| {{ answer_choices[b] }}", "no ||| yes", {"a": "u ||| v {3}| w", "b": 1}),
        ("{{ a }} ||| {{ b }}", None, {"a": "long " * 600, "b": "y"}),
        ("{{ a }} {{ answer_choices }} ||| {{ b }}", None, {"a": "x", "b": "y"}),
    ],
)
def test_edge_cases_equal_promptsource(jinja: str, choices: str | None, row: dict) -> None:  # type: ignore[type-arg]
    tpl = _tpl(jinja, choices)
    for seed in range(12):
        assert _ours(tpl, row, seed) == _reference(tpl, row, seed), seed
    # A constant choice is drawn per row, not once for every row.
    if "| choice" in jinja:
        assert len({render(tpl, row, seed=s).source for s in range(12)}) > 1
