"""PromptSource templates: safe loading, sandboxed rendering, answer choices, checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from instructkit.prompts.checks import (
    DUPLICATE_ID,
    TARGET_NOT_IN_CHOICES,
    UNDEFINED_FIELD,
    check_promptsource,
)
from instructkit.prompts.promptsource import (
    TemplateError,
    apply_template,
    find_templates,
    load_templates_file,
    render,
)
from instructkit.tasks.jsonl import iter_jsonl_instances

T0_DATASETS = {
    "super_glue_rte": ("super_glue", "rte", ["validation.jsonl"]),
    "super_glue_cb": ("super_glue", "cb", ["validation.jsonl"]),
    "super_glue_copa": ("super_glue", "copa", ["validation.jsonl"]),
    "super_glue_wic": ("super_glue", "wic", ["validation.jsonl"]),
    "super_glue_wsc.fixed": ("super_glue", "wsc.fixed", ["validation.jsonl"]),
    "winogrande_xl": ("winogrande", "winogrande_xl", ["validation.jsonl"]),
    "anli": ("anli", None, ["dev_r1.jsonl", "dev_r2.jsonl", "dev_r3.jsonl"]),
    "hellaswag": ("hellaswag", None, ["validation_first2.jsonl"]),
}


@pytest.fixture(scope="module")
def templates_root(t0_eval_root: Path) -> Path:
    root = t0_eval_root.parent / "promptsource" / "templates"
    if not root.is_dir():
        pytest.skip(f"PromptSource templates not found at {root}")
    return root


@pytest.mark.parametrize("folder", list(T0_DATASETS))
def test_every_t0_template_renders_on_every_row(
    folder: str, templates_root: Path, t0_eval_root: Path
) -> None:
    dataset, subset, files = T0_DATASETS[folder]
    tpls = load_templates_file(find_templates(templates_root, dataset, subset))
    assert len(tpls) >= 5
    rows = [
        json.loads(x) for f in files for x in (t0_eval_root / folder / f).read_text().splitlines()
    ]
    assert check_promptsource(tpls, rows) == []
    # And each rendered target is one of the rendered answer choices.
    # PromptSource renders some templates empty on rows they do not apply to (COPA's
    # "cause" templates on "effect" rows); every non-empty target is among the choices.
    checked = 0
    for t in tpls:
        for row in rows[:20]:
            r = render(t, row)
            if t.answer_choices and r.target:
                assert r.target in r.answer_choices
                checked += 1
    assert checked >= 10


def test_copa_answer_choices_are_jinja(templates_root: Path, t0_eval_root: Path) -> None:
    tpls = load_templates_file(find_templates(templates_root, "super_glue", "copa"))
    row = json.loads(
        (t0_eval_root / "super_glue_copa" / "validation.jsonl").read_text().splitlines()[0]
    )
    t = next(t for t in tpls if (t.answer_choices or "").strip() == "{{choice1}} ||| {{choice2}}")
    r = render(t, row)
    assert r.answer_choices == [row["choice1"], row["choice2"]]
    assert r.target == r.answer_choices[row["label"]]
    assert t.metadata.metrics and t.metadata.languages == ("en",)


def test_metadata_and_structured_instances(templates_root: Path, t0_eval_root: Path) -> None:
    tpls = load_templates_file(find_templates(templates_root, "super_glue", "rte"))
    t = next(t for t in tpls if t.name == "MNLI crowdsource")
    assert t.metadata.original_task is True and t.metadata.choices_in_prompt is True
    assert t.metadata.metrics == ("Accuracy",)
    insts = list(
        iter_jsonl_instances(t0_eval_root / "super_glue_rte" / "validation.jsonl", max_instances=4)
    )
    exs = apply_template(t, [(i.id, i.fields) for i in insts], task="super_glue/rte")
    assert len(exs) == 4
    assert exs[0].source.startswith(insts[0].fields["premise"])
    assert exs[0].options == ["Yes", "No"]
    assert exs[0].target == ["Yes", "No"][insts[0].fields["label"]]


def _tpl_file(
    tmp_path: Path, jinja: str, choices: str | None = "Yes ||| No", tid: str = "abc"
) -> Path:
    body = {
        "dataset": "toy",
        "templates": {
            tid: {
                "id": tid,
                "name": "toy template",
                "jinja": jinja,
                "answer_choices": choices,
                "metadata": {
                    "original_task": True,
                    "choices_in_prompt": False,
                    "metrics": ["Accuracy"],
                    "languages": ["en"],
                },
            },
        },
    }
    text = json.dumps(body)  # JSON is YAML; add the tags PromptSource files carry
    text = text.replace(f'"{tid}": {{', f'"{tid}": !Template {{').replace(
        '"metadata": {', '"metadata": !TemplateMetadata {'
    )
    p = tmp_path / "templates.yaml"
    p.write_text(text)
    return p


def test_sandbox_refuses_python_internals(tmp_path: Path) -> None:
    t = load_templates_file(_tpl_file(tmp_path, "{{ ''.__class__.__mro__ }} ||| x", None))[0]
    with pytest.raises(TemplateError, match="refused by the sandbox") as info:
        render(t, {})
    assert "template 'toy template'" in str(info.value) and "\n" not in str(info.value)
    t = load_templates_file(_tpl_file(tmp_path, "{{ cycler.__init__.__globals__ }} ||| x", None))[0]
    with pytest.raises(TemplateError):
        render(t, {})


def test_safe_loader_builds_no_python_objects(tmp_path: Path) -> None:
    p = tmp_path / "templates.yaml"
    p.write_text(
        'dataset: x\ntemplates: !!python/object/apply:os.system ["echo pwned > '
        + str(tmp_path / "pwned")
        + '"]\n'
    )
    with pytest.raises(TemplateError, match="malformed YAML"):
        load_templates_file(p)
    assert not (tmp_path / "pwned").exists()


def test_malformed_yaml_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "templates.yaml"
    p.write_text("dataset: x\ntemplates:\n  a: [unclosed\n")
    with pytest.raises(TemplateError) as info:
        load_templates_file(p)
    assert str(p) in str(info.value) and "malformed YAML at line" in str(info.value)
    assert "\n" not in str(info.value)


def test_syntax_error_names_template_and_field(tmp_path: Path) -> None:
    p = _tpl_file(tmp_path, "{{ premise ||| {{ label }}")
    with pytest.raises(
        TemplateError, match=r"template 'toy template': field 'jinja': Jinja syntax error"
    ):
        load_templates_file(p)


def test_undefined_field_is_named(tmp_path: Path) -> None:
    t = load_templates_file(
        _tpl_file(tmp_path, "{{ premise }} {{ hypotesis }} ||| {{ answer_choices[label] }}")
    )[0]
    with pytest.raises(TemplateError, match=r"field 'hypotesis': undefined in the data"):
        render(t, {"premise": "p", "hypothesis": "h", "label": 0}, strict=True)
    # As promptsource renders it by default: the missing field is empty.
    assert render(t, {"premise": "p", "hypothesis": "h", "label": 0}).source == "p"
    problems = check_promptsource([t], [{"premise": "p", "hypothesis": "h", "label": 0}])
    assert [(p.kind, p.field) for p in problems] == [(UNDEFINED_FIELD, "hypotesis")]


def test_target_outside_choices_and_duplicate_ids(tmp_path: Path) -> None:
    t = load_templates_file(_tpl_file(tmp_path, "{{ premise }} ||| Maybe"))[0]
    problems = check_promptsource([t, t], [{"premise": "p"}])
    assert {p.kind for p in problems} == {TARGET_NOT_IN_CHOICES, DUPLICATE_ID}
    assert all("toy template" in str(p) for p in problems)


def test_pipes_in_data_do_not_split(tmp_path: Path) -> None:
    t = load_templates_file(_tpl_file(tmp_path, "{{ premise }} ||| {{ answer_choices[label] }}"))[0]
    r = render(t, {"premise": "a ||| b", "label": 1})
    assert r.source == "a ||| b" and r.target == "No"


@pytest.mark.parametrize(
    ("jinja", "problem"),
    [
        ("{{ 'x' * 100000000 }} ||| y", "repetition"),
        ("{{ 9 ** 99999999 }} ||| y", "power"),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %} ||| y",
            "longer than",
        ),
        ("{% for a in range(100000) %}{{ 'x' * 90 }}{% endfor %} ||| y", "exceeds"),
    ],
)
def test_template_bombs_are_refused_in_one_line(tmp_path: Path, jinja: str, problem: str) -> None:
    t = load_templates_file(_tpl_file(tmp_path, jinja, None))[0]
    for truncate in (False, True):  # promptsource's truncate filter changes some of them
        with pytest.raises(TemplateError) as info:
            render(t, {}, truncate=truncate)
        assert "template 'toy template'" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(TemplateError, match=problem):
        render(t, {}, truncate=False)
