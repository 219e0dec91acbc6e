"""Property-based fuzzing of every loader and of the renderer: whatever the input, the only
exceptions are the project's own (``InstructkitError`` and its subclasses), which the
command line prints as one line. Inputs are mutations of small valid files (a random
value put anywhere in the tree, or a key dropped) and arbitrary bytes."""

from __future__ import annotations

import atexit
import copy
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instructkit.errors import InstructkitError
from instructkit.evaluation.scoring import read_prediction_file, read_references
from instructkit.experiments.config import load_config
from instructkit.experiments.sweep_config import load_sweep
from instructkit.mixtures.split import split_from_yaml
from instructkit.prompts.flan_patterns import load_patterns
from instructkit.prompts.promptsource import load_templates_file
from instructkit.prompts.promptsource import render as ps_render
from instructkit.prompts.render import RenderContext, render, template_ids
from instructkit.tasks.builtin import builtin_tasks
from instructkit.tasks.collection import load_task_file
from instructkit.tasks.natinst import parse_natinst_v1
from instructkit.tasks.superni import parse_task
from tests.malformed.make_corpus import NATINST, REFERENCES, SUPERNI, TEMPLATES

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutations(draw: st.DrawFn, base: Any) -> Any:
    """``base`` with one to three random changes: a value replaced or a key dropped."""
    tree = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(tree) if p]
        if not paths:
            return draw(json_values)
        path = draw(st.sampled_from(paths))
        parent = tree
        for p in path[:-1]:
            parent = parent[p]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return tree


def _only_ours(call: Callable[[], Any]) -> None:
    try:
        call()
    except InstructkitError as e:
        assert "\n" not in str(e), str(e)


_ROOT = tempfile.mkdtemp(prefix="ik-fuzz-")
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)


def _file(name: str, content: str | bytes) -> Path:
    folder = Path(tempfile.mkdtemp(dir=_ROOT))
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@FUZZ
@given(mutations(SUPERNI))
def test_superni_parser(raw: Any) -> None:
    _only_ours(lambda: parse_task(raw, "task900_toy.json"))


@FUZZ
@given(mutations(NATINST))
def test_natinst_parser(raw: Any) -> None:
    _only_ours(lambda: parse_natinst_v1(raw, "subtask900_toy.json"))


@FUZZ
@given(
    st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    st.sampled_from([".json", ".jsonl"]),
)
def test_task_file_bytes(content: bytes, suffix: str) -> None:
    path = _file(f"task900_toy{suffix}", content)
    _only_ours(lambda: load_task_file(path))


@FUZZ
@given(st.lists(json_values, max_size=4))
def test_jsonl_task_rows(rows: list[Any]) -> None:
    path = _file("rows.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    _only_ours(lambda: load_task_file(path))


@FUZZ
@given(mutations(yaml.safe_load(TEMPLATES)) | json_values)
def test_promptsource_templates_file(raw: Any) -> None:
    path = _file("templates.yaml", yaml.safe_dump(raw))
    _only_ours(lambda: load_templates_file(path))


@FUZZ
@given(st.text(max_size=300))
def test_yaml_text_everywhere(text: str) -> None:
    path = _file("any.yaml", text)
    tasks = builtin_tasks(n_instances=2)
    for read in (load_config, load_sweep, load_templates_file):
        _only_ours(lambda: read(path))  # noqa: B023
    _only_ours(lambda: split_from_yaml(path, tasks))


CONFIG = {
    "name": "x",
    "tasks": {"n_instances": 4, "held_out_clusters": ["arithmetic"]},
    "split": {"protocol": "auto"},
    "mixture": {"rate": "temperature", "temperature": 2.0, "cap": 10},
    "prompt": {"encoding": "Def+Pos(2)", "train_encodings": ["Def"]},
    "train": {"steps": 3, "learning_rate": 0.001, "tuning": {"method": "lora"}},
    "eval": {"stop": ["\n"], "templates": ["superni:Def"]},
}
SWEEP = {"kind": "scaling-tasks", "name": "s", "values": [1, 2], "base": CONFIG}


@FUZZ
@given(mutations(CONFIG), mutations(SWEEP))
def test_config_and_sweep_files(config: Any, sweep: Any) -> None:
    _only_ours(lambda: load_config(_file("exp.yaml", yaml.safe_dump(config))))
    _only_ours(lambda: load_sweep(_file("sweep.yaml", yaml.safe_dump(sweep))))


@FUZZ
@given(st.lists(mutations(REFERENCES[0]), max_size=3), st.lists(json_values, max_size=3))
def test_reference_and_prediction_files(refs: list[Any], preds: list[Any]) -> None:
    _only_ours(
        lambda: read_references(_file("r.jsonl", "".join(json.dumps(r) + "\n" for r in refs)))
    )
    _only_ours(
        lambda: read_prediction_file(_file("p.jsonl", "".join(json.dumps(p) + "\n" for p in preds)))
    )


@FUZZ
@given(mutations({"v1": {"anli": [["{premise} {hypothesis}", "{answer}"]]}}))
def test_flan_patterns_file(raw: Any) -> None:
    path = _file("patterns.json", json.dumps(raw))
    _only_ours(lambda: load_patterns(str(path)))


JINJA_PIECES = [
    "{{ premise }}",
    "{{ hypothesis }}",
    " ||| ",
    "{{ answer_choices[label] }}",
    "{{ label }}",
    "{{ premise",
    "{% if label %}",
    "{% endif %}",
    "{% for x in range(n) %}",
    "{% endfor %}",
    "{{ 9 ** 99999 }}",
    "{{ 'a' * 10000000 }}",
    "{{ premise.__class__.__mro__ }}",
    "{{ premise | upper }}",
    "{{ label / 0 }}",
    "{{ premise | choice }}",
    "{{ [] | choice }}",
    "{{ premise | most_frequent }}",
    "{{ lipsum() }}",
    "{{ premise[999] }}",
    "{{ x.y.z }}",
    "{{ range(10**7) | list | length }}",
    "{{ premise | int }}",
    "{% set a = 1 %}",
    "text",
    "{{ premise.split(' ')[0] }}",
    "{{ zip(premise) | list }}",
    "}}",
    "{%",
    "{# c #}",
]


@FUZZ
@given(
    st.lists(st.sampled_from(JINJA_PIECES), min_size=1, max_size=6).map("".join),
    st.none() | st.lists(st.sampled_from([*JINJA_PIECES, "Yes ||| No"]), max_size=3).map("".join),
    st.dictionaries(
        st.sampled_from(["premise", "hypothesis", "label", "n", "answer_choices"]), json_values
    ),
)
def test_promptsource_renderer(jinja: str, choices: str | None, row: dict[str, Any]) -> None:
    path = _file(
        "templates.yaml",
        yaml.safe_dump(
            {
                "dataset": "toy",
                "templates": {
                    "a": {"id": "a", "name": "fuzz", "jinja": jinja, "answer_choices": choices}
                },
            }
        ),
    )

    def go() -> None:
        for tpl in load_templates_file(path):
            ps_render(tpl, row)

    _only_ours(go)


@FUZZ
@given(mutations(SUPERNI), st.integers(0, 200), st.integers(0, 5))
def test_every_template_family_renders_or_says_why(raw: Any, budget: int, fewshot: int) -> None:
    try:
        task = parse_task(raw, "task900_toy.json")
    except InstructkitError:
        return
    ctx = RenderContext(
        count_tokens=lambda s: len(s.split()), max_source_tokens=budget or None, fewshot=fewshot
    )
    for tid in template_ids(task):
        _only_ours(lambda: render(tid, task, task.instances[0], ctx))  # noqa: B023
