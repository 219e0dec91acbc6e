"""Generate the malformed-input corpus: ``python tests/malformed/make_corpus.py``.

Every case is a set of small files, a command line over them and what its one-line error
must name (the file and the field). The cases are mutations of small valid inputs of every
kind the command line reads: SuperNI, Natural Instructions v1 and JSONL task files,
PromptSource template files, experiment configs, split files, sweep configs, prediction
and reference files, and results stores. ``corpus.json`` is this script's output; a test
checks that it is up to date and runs every case (tests/malformed/test_corpus.py).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CORPUS = HERE / "corpus.json"

SUPERNI: dict[str, Any] = {
    "Contributors": ["A. Author"],
    "Source": ["toy"],
    "URL": ["https://example.org"],
    "Categories": ["Sentiment Analysis"],
    "Reasoning": [],
    "Definition": ["Say whether the review is positive or negative."],
    "Input_language": ["English"],
    "Output_language": ["English"],
    "Instruction_language": ["English"],
    "Domains": ["Reviews"],
    "Positive Examples": [{"input": "Great film.", "output": "positive", "explanation": "Praise."}],
    "Negative Examples": [{"input": "Dull.", "output": "happy", "explanation": "Not a label."}],
    "Instances": [
        {"id": "task900-1", "input": "I loved it.", "output": ["positive"]},
        {"id": "task900-2", "input": "Awful plot.", "output": ["negative"]},
    ],
}

NATINST: dict[str, Any] = {
    "Title": "Answering sentiment questions",
    "Prompt": "Is the review positive?",
    "Definition": "Read the review and answer positive or negative.",
    "Things to Avoid": "-",
    "Emphasis & Caution": "-",
    "Examples": {
        "Positive Examples": [{"input": "Great film.", "output": "positive", "reason": "Praise."}],
        "Negative Examples": [
            {"input": "Dull.", "output": "happy", "reason": "No.", "suggestion": "Use a label."}
        ],
    },
    "Instances": [{"input": "I loved it.", "output": ["positive"]}],
}

TEMPLATES = """dataset: toy
templates:
  a1:
    id: a1
    name: yes_no
    jinja: '{{premise}} Is it true that {{hypothesis}}? ||| {{ answer_choices[label] }}'
    answer_choices: Yes ||| No
    metadata:
      original_task: true
      choices_in_prompt: false
      metrics: [Accuracy]
"""

ROWS = [
    {"premise": "A man sleeps.", "hypothesis": "A man rests.", "label": 0},
    {"premise": "A cat runs.", "hypothesis": "A dog sits.", "label": 1},
]

REFERENCES = [
    {
        "id": "task900-1",
        "task_id": "task900_toy",
        "task_category": "Sentiment Analysis",
        "track": "default",
        "references": ["positive"],
    },
    {
        "id": "task900-2",
        "task_id": "task900_toy",
        "task_category": "Sentiment Analysis",
        "track": "default",
        "references": ["negative"],
    },
]
PREDICTIONS = [
    {"id": "task900-1", "prediction": "positive"},
    {"id": "task900-2", "prediction": "x"},
]

Case = dict[str, Any]
CASES: list[Case] = []


def case(
    cid: str, args: list[str], files: dict[str, str | bytes], expect: list[str], what: str
) -> None:
    """Record one case. ``{dir}`` in args stands for the case's folder."""
    enc: dict[str, Any] = {}
    for name, content in files.items():
        if isinstance(content, bytes):
            enc[name] = {"base64": base64.b64encode(content).decode()}
        else:
            enc[name] = content
    CASES.append({"id": cid, "what": what, "args": args, "files": enc, "expect": expect})


def mutated(base: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    result = change(out)
    return out if result is None else result


def jdump(obj: Any) -> str:
    return json.dumps(obj, indent=1)


def jsonl(rows: list[Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


# ---- task files ---------------------------------------------------------------------


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        target: Any = d
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value

    return change


def _drop(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        target: Any = d
        for p in path[:-1]:
            target = target[p]
        del target[path[-1]]

    return change


SUPERNI_MUTATIONS: list[tuple[str, str | bytes | Callable[[dict[str, Any]], Any], str]] = [
    # (case suffix, raw text or a change of the valid file, the field the error names)
    ("truncated-json", jdump(SUPERNI)[:200], "invalid JSON"),
    ("empty-file", "", "invalid JSON"),
    ("top-level-list", "[1, 2]", "expected a JSON object"),
    ("top-level-string", '"task"', "expected a JSON object"),
    ("invalid-utf8", b'{"Definition": ["\xff\xfe"]}', "UTF-8"),
    ("utf8-bom", "\ufeff" + jdump(SUPERNI), "BOM"),
    ("deep-nesting", "[" * 100_000 + "]" * 100_000, "nested"),
    ("missing-definition", _drop(["Definition"]), "Definition"),
    ("definition-string", _set(["Definition"], "Say it."), "Definition"),
    ("definition-empty", _set(["Definition"], [""]), "Definition"),
    ("definition-number", _set(["Definition"], [1]), "Definition[0]"),
    ("missing-instances", _drop(["Instances"]), "Instances"),
    ("instances-object", _set(["Instances"], {"a": 1}), "Instances"),
    ("instances-empty", _set(["Instances"], []), "Instances"),
    ("instance-string", _set(["Instances", 0], "text"), "Instances[0]"),
    ("instance-no-input", _drop(["Instances", 0, "input"]), "Instances[0].input"),
    ("instance-input-number", _set(["Instances", 1, "input"], 3), "Instances[1].input"),
    ("instance-input-null", _set(["Instances", 0, "input"], None), "Instances[0].input"),
    ("instance-no-output", _drop(["Instances", 1, "output"]), "Instances[1].output"),
    ("instance-output-empty", _set(["Instances", 0, "output"], []), "Instances[0].output"),
    ("instance-output-number", _set(["Instances", 0, "output"], [7]), "Instances[0].output[0]"),
    ("instance-output-object", _set(["Instances", 0, "output"], {"a": 1}), "Instances[0].output"),
    ("instance-id-number", _set(["Instances", 0, "id"], 5), "Instances[0].id"),
    ("instance-id-empty", _set(["Instances", 1, "id"], ""), "Instances[1].id"),
    ("instance-id-duplicate", _set(["Instances", 1, "id"], "task900-1"), "Instances[1].id"),
    ("instance-index-negative", _set(["Instances", 0, "index"], -1), "Instances[0].index"),
    ("instance-fields-list", _set(["Instances", 0, "fields"], [1]), "Instances[0].fields"),
    ("positive-not-list", _set(["Positive Examples"], "x"), "Positive Examples"),
    ("positive-no-output", _drop(["Positive Examples", 0, "output"]), "Positive Examples[0]"),
    ("positive-input-list", _set(["Positive Examples", 0, "input"], ["a"]), "Positive Examples[0]"),
    ("positive-item-number", _set(["Positive Examples", 0], 4), "Positive Examples[0]"),
    ("negative-missing", _drop(["Negative Examples"]), "Negative Examples"),
    ("explanation-number", _set(["Negative Examples", 0, "explanation"], 1), "Negative Examples"),
    ("categories-string", _set(["Categories"], "Sentiment"), "Categories"),
    ("source-numbers", _set(["Source"], [1, 2]), "Source[0]"),
    ("contributors-missing", _drop(["Contributors"]), "Contributors"),
    ("answer-choices-string", _set(["Answer Choices"], "yes|no"), "Answer Choices"),
    ("title-number", _set(["Title"], 12), "Title"),
    ("cluster-list", _set(["Cluster"], ["a"]), "Cluster"),
    ("emphasis-object", _set(["Emphasis & Caution"], {"a": 1}), "Emphasis & Caution"),
    ("nan-input", lambda d: jdump(d).replace('"I loved it."', "NaN"), "Instances[0].input"),
]


def _superni_text(m: str | bytes | Callable[[dict[str, Any]], Any]) -> str | bytes:
    if isinstance(m, str | bytes):
        return m
    result = mutated(SUPERNI, m)
    return result if isinstance(result, str) else jdump(result)


def superni_cases() -> None:
    for suffix, m, field in SUPERNI_MUTATIONS:
        text = _superni_text(m)
        files = {"task900_toy.json": text}
        case(
            f"superni-validate-{suffix}",
            ["tasks", "validate", "{dir}/task900_toy.json"],
            files,
            ["task900_toy.json", field],
            "SuperNI task file, tasks validate",
        )
        case(
            f"superni-show-{suffix}",
            ["tasks", "show", "{dir}/task900_toy.json"],
            files,
            ["task900_toy.json", field],
            "SuperNI task file, tasks show",
        )
    # A folder of task files: the bad one is named among good ones.
    for suffix, m, field in SUPERNI_MUTATIONS[7:27:2]:
        case(
            f"superni-list-folder-{suffix}",
            ["tasks", "list", "{dir}/tasks"],
            {"tasks/task900_toy.json": _superni_text(m), "tasks/task901_ok.json": jdump(SUPERNI)},
            ["task900_toy.json", field],
            "folder of SuperNI task files, tasks list",
        )
    # The task source of an experiment: split show and run stop before writing anything.
    for suffix, m, field in SUPERNI_MUTATIONS[11:23:3]:
        files = {
            "tasks/task900_toy.json": _superni_text(m),
            "tasks/task901_ok.json": jdump(SUPERNI),
            "exp.yaml": "name: exp\noutput_dir: {dir}/runs\ntasks:\n  source: {dir}/tasks\n"
            "  train_tasks: [task901_ok]\n  eval_tasks: [task900_toy]\n",
        }
        for cmd in (["split", "show"], ["run"]):
            case(
                f"superni-{cmd[0]}-config-source-{suffix}",
                [*cmd, "{dir}/exp.yaml"],
                files,
                ["task900_toy.json", field],
                f"task file named by a config, {' '.join(cmd)}",
            )
    case(
        "superni-eval-data-bad-instance",
        ["eval", "--model", "tiny", "--source", "{dir}/task900_toy.json", "--output", "{dir}/ev"],
        {"task900_toy.json": _superni_text(_drop(["Instances", 0, "input"]))},
        ["task900_toy.json", "Instances[0].input"],
        "task file given to eval",
    )
    case(
        "superni-folder-bad-split-file",
        ["tasks", "list", "{dir}/ni", "--split", "test"],
        {
            "ni/tasks/task900_toy.json": jdump(SUPERNI),
            "ni/splits/default/test_tasks.txt": b"task900_toy\n\xff\xfe\n",
        },
        ["test_tasks.txt", "UTF-8"],
        "SuperNI split file that is not text",
    )


NATINST_MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("missing-title", _drop(["Title"]), "Title"),
    ("definition-number", _set(["Definition"], 3), "Definition"),
    ("prompt-object", _set(["Prompt"], {"a": 1}), "Prompt"),
    ("examples-list", _set(["Examples"], [1]), "Examples"),
    ("no-positive", _drop(["Examples", "Positive Examples"]), "Positive Examples"),
    ("positive-not-list", _set(["Examples", "Positive Examples"], 1), "Positive Examples"),
    ("reason-number", _set(["Examples", "Positive Examples", 0, "reason"], 2), "Positive"),
    ("suggestion-list", _set(["Examples", "Negative Examples", 0, "suggestion"], []), "Negative"),
    ("no-instances", _drop(["Instances"]), "Instances"),
    ("instance-output-number", _set(["Instances", 0, "output"], 5), "Instances[0].output"),
    ("instance-input-missing", _drop(["Instances", 0, "input"]), "Instances[0].input"),
    ("instance-index-string", _set(["Instances", 0, "index"], "3"), "Instances[0].index"),
    ("things-to-avoid-number", _set(["Things to Avoid"], 1.5), "Things to Avoid"),
]


def natinst_cases() -> None:
    for suffix, m, field in NATINST_MUTATIONS:
        files = {"subtask900_toy.json": jdump(mutated(NATINST, m))}
        for cmd in ("validate", "show"):
            case(
                f"natinst-{cmd}-{suffix}",
                ["tasks", cmd, "{dir}/subtask900_toy.json"],
                files,
                ["subtask900_toy.json", field],
                f"Natural Instructions v1 task file, tasks {cmd}",
            )


JSONL_TASK_CASES: list[tuple[str, str | bytes, str]] = [
    ("not-json-line", '{"input": "a", "output": "b"}\n{oops\n', "line 2"),
    ("array-line", '{"input": "a", "output": "b"}\n[1]\n', "line 2"),
    ("input-number", '{"input": 4, "output": "b"}\n', "line 1.input"),
    ("output-number", '{"input": "a", "output": 4}\n', "line 1.output"),
    ("duplicate-id", '{"id": "x", "input": "a"}\n{"id": "x", "input": "b"}\n', "line 2.id"),
    ("only-blank-lines", "\n\n  \n", "no instances"),
    ("invalid-utf8", b'{"input": "\xff"}\n', "UTF-8"),
    ("id-list", '{"id": [3], "input": "a", "output": "b"}\n', "line 1.id"),
    ("deep-nesting", "[" * 100_000 + "]" * 100_000 + "\n", "nested"),
]


def jsonl_cases() -> None:
    for suffix, text, field in JSONL_TASK_CASES:
        for cmd in ("validate", "show"):
            case(
                f"jsonl-{cmd}-{suffix}",
                ["tasks", cmd, "{dir}/rows.jsonl"],
                {"rows.jsonl": text},
                ["rows.jsonl", field],
                f"JSONL task file, tasks {cmd}",
            )
        case(
            f"jsonl-prompts-show-data-{suffix}",
            [
                "prompts",
                "show",
                "toy",
                "--templates",
                "{dir}/templates.yaml",
                "--template",
                "a1",
                "--data",
                "{dir}/rows.jsonl",
            ],
            {"rows.jsonl": text, "templates.yaml": TEMPLATES},
            ["rows.jsonl", field],
            "JSONL rows for a PromptSource template, prompts show",
        )


# ---- templates ----------------------------------------------------------------------

TEMPLATE_CASES: list[tuple[str, str | bytes, str]] = [
    ("invalid-yaml", "dataset: toy\ntemplates: {a1: [\n", "line"),
    ("empty", "", "templates"),
    ("list", "- 1\n", "templates"),
    ("no-dataset", TEMPLATES.replace("dataset: toy\n", ""), "dataset"),
    ("templates-list", "dataset: toy\ntemplates: [1, 2]\n", "templates"),
    ("template-string", "dataset: toy\ntemplates:\n  a1: hello\n", "a1"),
    ("no-jinja", TEMPLATES.replace("    jinja:", "    jinja_:"), "jinja"),
    ("jinja-number", TEMPLATES.replace("    jinja: '", "    jinja: 5\n    x: '"), "jinja"),
    ("no-id", TEMPLATES.replace("    id: a1\n", ""), "id"),
    ("jinja-syntax", TEMPLATES.replace("{{premise}}", "{{premise"), "yes_no"),
    ("jinja-unknown-tag", TEMPLATES.replace("{{premise}}", "{% frob %}"), "yes_no"),
    ("choices-syntax", TEMPLATES.replace("Yes ||| No", "'{{ x'"), "answer_choices"),
    ("choices-number", TEMPLATES.replace("Yes ||| No", "3"), "answer_choices"),
    ("python-tag", "dataset: toy\ntemplates: !!python/object/apply:os.system ['true']\n", "line"),
    ("metrics-number", TEMPLATES.replace("[Accuracy]", "7"), "metrics"),
    (
        "duplicate-id",
        TEMPLATES + "  a2:\n    id: a1\n    name: again\n    jinja: 'x ||| y'\n",
        "a1",
    ),
    ("invalid-utf8", b"dataset: toy\ntemplates:\n  a1: \xff\n", "UTF-8"),
    (
        "metadata-list",
        TEMPLATES.replace("    metadata:\n", "    metadata: [1]\n    m:\n"),
        "metadata",
    ),
    ("name-list", TEMPLATES.replace("name: yes_no", "name: [a]"), "name"),
]


def template_cases() -> None:
    for suffix, text, field in TEMPLATE_CASES:
        files = {"templates.yaml": text, "rows.jsonl": jsonl(ROWS)}
        case(
            f"templates-validate-{suffix}",
            ["prompts", "validate", "{dir}/templates.yaml", "--data", "{dir}/rows.jsonl"],
            files,
            ["templates.yaml", field],
            "PromptSource templates, prompts validate",
        )
        case(
            f"templates-list-{suffix}",
            ["prompts", "list", "--templates", "{dir}/templates.yaml"],
            files,
            ["templates.yaml", field],
            "PromptSource templates, prompts list",
        )
    case(
        "templates-show-unknown-template",
        [
            "prompts",
            "show",
            "toy",
            "--templates",
            "{dir}/templates.yaml",
            "--template",
            "zz",
            "--data",
            "{dir}/rows.jsonl",
        ],
        {"templates.yaml": TEMPLATES, "rows.jsonl": jsonl(ROWS)},
        ["templates.yaml", "zz"],
        "unknown template id, prompts show",
    )
    case(
        "templates-show-missing-field",
        [
            "prompts",
            "show",
            "toy",
            "--templates",
            "{dir}/templates.yaml",
            "--template",
            "a1",
            "--data",
            "{dir}/rows.jsonl",
        ],
        {"templates.yaml": TEMPLATES, "rows.jsonl": jsonl([{"premise": "p", "label": 7}])},
        ["templates.yaml", "yes_no"],
        "a row the template cannot render, prompts show",
    )


# ---- configs --------------------------------------------------------------------------

CONFIG_CASES: list[tuple[str, str | bytes, str]] = [
    ("invalid-yaml", "name: a\ntrain: {steps: [\n", "line"),
    ("list", "- name\n", "mapping"),
    ("unknown-field", "nmae: x\n", "nmae"),
    ("unknown-nested-field", "train: {stpes: 3}\n", "train.stpes"),
    ("steps-string", "train: {steps: many}\n", "train.steps"),
    ("steps-negative", "train: {steps: -1}\n", "train.steps"),
    ("batch-zero", "train: {batch_size: 0}\n", "train.batch_size"),
    ("lr-inf", "train: {learning_rate: .inf}\n", "train.learning_rate"),
    ("lr-nan", "train: {learning_rate: .nan}\n", "train.learning_rate"),
    ("lr-negative", "train: {learning_rate: -0.1}\n", "train.learning_rate"),
    ("schedule-unknown", "train: {schedule: wavy}\n", "train.schedule"),
    ("precision-unknown", "train: {mixed_precision: fp8}\n", "train.mixed_precision"),
    ("method-unknown", "train: {tuning: {method: qlora}}\n", "train.tuning.method"),
    ("lora-dropout-one", "train: {tuning: {method: lora, lora_dropout: 1}}\n", "lora_dropout"),
    ("tracker-unknown", "train: {log_with: [myspace]}\n", "train.log_with"),
    ("name-slash", "name: ../escape\n", "name"),
    ("name-dotdot", "name: ..\n", "name"),
    ("name-empty", "name: ''\n", "name"),
    ("protocol-unknown", "split: {protocol: leave-one-out}\n", "split.protocol"),
    ("rate-unknown", "mixture: {rate: proportional}\n", "mixture.rate"),
    ("temperature-zero", "mixture: {temperature: 0}\n", "mixture.temperature"),
    ("cap-zero", "mixture: {cap: 0}\n", "mixture.cap"),
    ("encoding-unknown", "prompt: {encoding: 'Def+Pos(9)+Foo'}\n", "prompt.encoding"),
    ("train-encodings-empty", "prompt: {train_encodings: []}\n", "prompt.train_encodings"),
    ("eval-stop-number", "eval: {stop: 3}\n", "eval.stop"),
    ("max-new-tokens-zero", "eval: {max_new_tokens: 0}\n", "eval.max_new_tokens"),
    ("n-instances-zero", "tasks: {n_instances: 0}\n", "tasks.n_instances"),
    ("held-out-string-number", "tasks: {held_out_clusters: 5}\n", "tasks.held_out_clusters"),
    ("source-missing-path", "tasks: {source: '{dir}/nowhere'}\n", "nowhere"),
    ("track-unknown", "tasks: {track: klingon}\n", "tasks.track"),
    ("eval-task-unknown", "tasks: {eval_tasks: [no_such_task]}\n", "no_such_task"),
    ("clusters-file-missing", "tasks: {clusters: '{dir}/clusters.yaml'}\n", "clusters.yaml"),
    ("split-file-missing", "split: {protocol: custom, file: '{dir}/split.yaml'}\n", "split.yaml"),
    ("seed-float", "seed: 1.5\n", "seed"),
    ("save-model-string", "save_model: maybe\n", "save_model"),
    ("invalid-utf8", b"name: \xff\n", "UTF-8"),
    ("python-tag", "name: !!python/object/apply:os.system ['true']\n", "line"),
    (
        "dataset-spec-unknown-field",
        "tasks: {source: datasets, datasets: [{nmae: x}]}\n",
        "tasks.datasets.0",
    ),
]


def config_cases() -> None:
    for suffix, text, field in CONFIG_CASES:
        if isinstance(text, str) and suffix not in ("list", "invalid-yaml"):
            text += "output_dir: '{dir}/runs'\n"
        for cmd in (["run"], ["split", "show"]):
            case(
                f"config-{cmd[0]}-{suffix}",
                [*cmd, "{dir}/exp.yaml"],
                {"exp.yaml": text},
                ["exp.yaml", field],
                f"experiment config, {' '.join(cmd)}",
            )
    split_files = [
        ("invalid-yaml", "train: [a\n", "line"),
        ("no-lists", "foo: 1\n", "train"),
        ("unknown-task", "train: [no_such_task]\neval: [ik001_add_two_numbers]\n", "no_such_task"),
        ("eval-not-list", "train: [ik001_add_two_numbers]\neval: ik001_add_two_numbers\n", "eval"),
    ]
    for suffix, text, field in split_files:
        case(
            f"split-file-{suffix}",
            ["split", "show", "{dir}/exp.yaml"],
            {
                "exp.yaml": "split: {protocol: custom, file: '{dir}/split.yaml'}\n",
                "split.yaml": text,
            },
            ["split.yaml", field],
            "custom split file, split show",
        )
    case(
        "clusters-file-not-mapping",
        ["split", "show", "{dir}/exp.yaml"],
        {"exp.yaml": "tasks: {clusters: '{dir}/clusters.yaml'}\n", "clusters.yaml": "- a\n"},
        ["clusters.yaml", "mapping"],
        "clusters file, split show",
    )


# ---- sweeps ---------------------------------------------------------------------------

SWEEP_CASES: list[tuple[str, str, str]] = [
    ("invalid-yaml", "kind: loco\nname: [\n", "line"),
    ("no-kind", "name: s\n", "kind"),
    ("unknown-kind", "kind: locoo\nname: s\n", "kind"),
    ("no-name", "kind: loco\n", "name"),
    ("name-escape", "kind: loco\nname: ../../x\n", "name"),
    ("unknown-field", "kind: loco\nname: s\nvalus: [1]\n", "valus"),
    ("values-strings", "kind: scaling-tasks\nname: s\nvalues: [a, b]\n", "values"),
    ("values-negative", "kind: scaling-tasks\nname: s\nvalues: [-1, 2]\n", "values"),
    ("values-too-many-clusters", "kind: clusters\nname: s\nvalues: [1000]\n", "values"),
    ("base-bad-field", "kind: loco\nname: s\nbase: {train: {steps: x}}\n", "base.train.steps"),
    ("base-missing-file", "kind: loco\nname: s\nbase: '{dir}/nothere.yaml'\n", "nothere.yaml"),
    ("loco-unknown-cluster", "kind: loco\nname: s\nclusters: [no_cluster]\n", "no_cluster"),
    ("encoding-unknown", "kind: encoding-matrix\nname: s\ntrain_encodings: [Dfe]\n", "Dfe"),
    ("store-is-folder", "kind: loco\nname: s\nstore: '{dir}'\n", "store"),
    ("models-empty", "kind: scaling-models\nname: s\nmodels: []\n", "models"),
]


def sweep_cases() -> None:
    for suffix, text, field in SWEEP_CASES:
        if "store:" not in text:
            text += "store: '{dir}/results.sqlite'\n"
        case(
            f"sweep-{suffix}",
            ["sweep", "{dir}/sweep.yaml"],
            {"sweep.yaml": text},
            ["sweep.yaml", field],
            "sweep config, sweep",
        )


# ---- predictions, references, stores --------------------------------------------------


def score_cases() -> None:
    preds = jsonl(PREDICTIONS)
    refs = jsonl(REFERENCES)
    pred_cases: list[tuple[str, str | bytes, str]] = [
        ("not-json", '{"id": "task900-1", "prediction": "a"}\n{bad\n', "line 2"),
        (
            "list-prediction",
            jsonl([{"id": "task900-1", "prediction": ["positive"]}]),
            "line 1.prediction",
        ),
        ("null-prediction", jsonl([{"id": "task900-1", "prediction": None}]), "line 1.prediction"),
        ("number-prediction", jsonl([{"id": "task900-1", "prediction": 1}]), "line 1.prediction"),
        (
            "misspelt-key",
            jsonl([{"id": "task900-1", "predicton": "positive"}]),
            "line 1.prediction",
        ),
        ("number-id", jsonl([{"id": 1, "prediction": "positive"}]), "line 1.id"),
        ("no-id", jsonl([{"prediction": "positive"}]), "line 1.id"),
        ("duplicate-id", preds + jsonl([PREDICTIONS[0]]), "duplicate"),
        ("empty", "", "no predictions"),
        ("deep-nesting", "[" * 100_000 + "]" * 100_000 + "\n", "nested"),
        ("array-line", "[1, 2]\n", "line 1"),
        ("unknown-ids-only", jsonl([{"id": "zz", "prediction": "a"}]), "none of the"),
        ("invalid-utf8", b'{"id": "task900-1", "prediction": "\xff"}\n', "UTF-8"),
    ]
    for suffix, text, field in pred_cases:
        case(
            f"score-predictions-{suffix}",
            ["score", "{dir}/predictions.jsonl", "{dir}/references.jsonl"],
            {"predictions.jsonl": text, "references.jsonl": refs},
            ["predictions.jsonl", field],
            "prediction file, score",
        )
    ref_cases: list[tuple[str, str | bytes, str]] = [
        ("empty", "", "no references"),
        ("no-references-key", jsonl([{"id": "a", "task_id": "t"}]), "line 1.references"),
        (
            "references-string",
            jsonl([{"id": "a", "task_id": "t", "references": "x"}]),
            "line 1.references",
        ),
        ("id-number", jsonl([{"id": 1, "task_id": "t", "references": ["x"]}]), "line 1.id"),
        ("duplicate-id", refs + jsonl([REFERENCES[0]]), "duplicate"),
        ("not-json", "{\n", "line 1"),
        ("category-number", jsonl([{**REFERENCES[0], "task_category": 3}]), "task_category"),
        ("track-unknown", jsonl([{**REFERENCES[0], "track": "klingon"}]), "track"),
    ]
    for suffix, text, field in ref_cases:
        case(
            f"score-references-{suffix}",
            ["score", "{dir}/predictions.jsonl", "{dir}/references.jsonl"],
            {"predictions.jsonl": preds, "references.jsonl": text},
            ["references.jsonl", field],
            "reference file, score",
        )
    case(
        "score-predictions-missing-file",
        ["score", "{dir}/nothere.jsonl", "{dir}/references.jsonl"],
        {"references.jsonl": refs},
        ["nothere.jsonl", "not found"],
        "prediction file that does not exist, score",
    )
    for cmd in (
        ["results", "--store", "{dir}/results.sqlite"],
        ["report", "exp", "--store", "{dir}/results.sqlite"],
    ):
        case(
            f"store-garbage-{cmd[0]}",
            cmd,
            {"results.sqlite": b"this is not a database" * 50},
            ["results.sqlite", "not a results store"],
            f"results store that is not SQLite, {cmd[0]}",
        )
        case(
            f"store-missing-{cmd[0]}",
            cmd,
            {},
            ["results.sqlite", "no results store"],
            f"results store that does not exist, {cmd[0]}",
        )


def build() -> list[Case]:
    CASES.clear()
    superni_cases()
    natinst_cases()
    jsonl_cases()
    template_cases()
    config_cases()
    sweep_cases()
    score_cases()
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return list(CASES)


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=True) + "\n"


if __name__ == "__main__":
    CORPUS.write_text(render(), encoding="utf-8")
    print(f"wrote {len(CASES)} cases to {CORPUS}")
