"""Super-NaturalInstructions task files: parse, validate, load, and write.

A SuperNI task file is a JSON object with the keys of :data:`REQUIRED_FIELDS` (and
optionally "Instance License"). Every problem is reported as a :class:`TaskFormatError`
that names the file and the field, e.g. ``task1.json: field 'Instances[3].output':
expected a list of strings, got int``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from instructkit.errors import TaskFormatError
from instructkit.tasks.schema import Example, Instance, Task

LIST_OF_STR_FIELDS = (
    "Contributors",
    "Source",
    "URL",
    "Categories",
    "Reasoning",
    "Definition",
    "Input_language",
    "Output_language",
    "Instruction_language",
    "Domains",
)
REQUIRED_FIELDS = (*LIST_OF_STR_FIELDS, "Positive Examples", "Negative Examples", "Instances")


def _type_name(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def read_json(path: Path) -> Any:
    """Read a JSON file, turning I/O and syntax errors into one-line TaskFormatErrors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaskFormatError(path, None, "file not found") from None
    except UnicodeDecodeError:
        raise TaskFormatError(path, None, "not valid UTF-8 text") from None
    except OSError as e:
        raise TaskFormatError(path, None, f"cannot read file ({e.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise TaskFormatError(
            path, None, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
        ) from None
    except RecursionError:
        raise TaskFormatError(path, None, "JSON nested too deeply") from None


def _str_list(raw: dict[str, Any], key: str, path: Path, *, required: bool = True) -> list[str]:
    if key not in raw:
        if required:
            raise TaskFormatError(path, key, "missing (a SuperNI task file needs it)")
        return []
    value = raw[key]
    if not isinstance(value, list):
        raise TaskFormatError(path, key, f"expected a list of strings, got {_type_name(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise TaskFormatError(path, f"{key}[{i}]", f"expected a string, got {_type_name(item)}")
    return list(value)


def _text(obj: dict[str, Any], key: str, where: str, path: Path, *, required: bool = True) -> Any:
    if key not in obj:
        if required:
            raise TaskFormatError(path, f"{where}.{key}", "missing")
        return None
    value = obj[key]
    if not isinstance(value, str):
        raise TaskFormatError(path, f"{where}.{key}", f"expected a string, got {_type_name(value)}")
    return value


def parse_examples(raw: Any, key: str, path: Path) -> list[Example]:
    """Validate and convert a list of SuperNI / NI v1 examples.

    Some real SuperNI files write "-" for "no negative examples"; that reads as none.
    """
    if raw == "-" or raw == ["-"]:
        return []
    if not isinstance(raw, list):
        raise TaskFormatError(path, key, f"expected a list of examples, got {_type_name(raw)}")
    out = []
    for i, ex in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(ex, dict):
            raise TaskFormatError(path, where, f"expected an object, got {_type_name(ex)}")
        output = ex.get("output")
        if isinstance(output, list) and output and all(isinstance(o, str) for o in output):
            output = output[0]  # a few files give a one-element list here
            ex = {**ex, "output": output}
        explanation = _text(ex, "explanation", where, path, required=False)
        if explanation is None:
            explanation = _text(ex, "reason", where, path, required=False)
        out.append(
            Example(
                input=_text(ex, "input", where, path),
                output=_text(ex, "output", where, path),
                explanation=explanation,
                suggestion=_text(ex, "suggestion", where, path, required=False),
            )
        )
    return out


def parse_instances(
    raw: Any,
    path: Path,
    *,
    task_name: str,
    max_instances: int | None = None,
    v1: bool = False,
) -> list[Instance]:
    """Validate and convert SuperNI instances (``id``, ``input``, ``output`` list).

    Instances without an id (Natural Instructions v1) get ``<task>-<index>``, with the
    instance's ``index`` where the file gives one (else its position). With ``v1``, an
    empty output list is allowed (v1 files leave the gold output of evaluation instances
    out). Every instance of the file is validated, even those past ``max_instances``.
    """
    key = "Instances"
    if not isinstance(raw, list):
        raise TaskFormatError(path, key, f"expected a list of instances, got {_type_name(raw)}")
    if not raw:
        raise TaskFormatError(path, key, "is empty; a task needs at least one instance")
    seen: dict[str, int] = {}
    out: list[Instance] = []
    for i, inst in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(inst, dict):
            raise TaskFormatError(path, where, f"expected an object, got {_type_name(inst)}")
        index = inst.get("index", i)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise TaskFormatError(path, f"{where}.index", "expected a non-negative integer")
        iid = inst.get("id", f"{task_name}-{index}")
        if not isinstance(iid, str) or not iid:
            raise TaskFormatError(path, f"{where}.id", "expected a non-empty string")
        if iid in seen:
            raise TaskFormatError(
                path, f"{where}.id", f"duplicate id '{iid}' (first used by {key}[{seen[iid]}])"
            )
        seen[iid] = i
        text = _text(inst, "input", where, path)
        outputs = inst.get("output")
        if isinstance(outputs, str):
            outputs = [outputs]
        if not isinstance(outputs, list):
            raise TaskFormatError(
                path, f"{where}.output", f"expected a list of strings, got {_type_name(outputs)}"
            )
        if not outputs and not v1:
            raise TaskFormatError(path, f"{where}.output", "is empty; give at least one reference")
        for j, o in enumerate(outputs):
            if not isinstance(o, str):
                raise TaskFormatError(
                    path, f"{where}.output[{j}]", f"expected a string, got {_type_name(o)}"
                )
        fields = inst.get("fields", {})
        if not isinstance(fields, dict):
            raise TaskFormatError(path, f"{where}.fields", "expected an object")
        if max_instances is None or len(out) < max_instances:
            out.append(
                Instance(
                    id=iid,
                    input=text,
                    outputs=list(outputs),
                    fields=fields,
                    index=index if v1 or "index" in inst else None,
                )
            )
    return out


def parse_task(
    raw: Any, path: str | Path, *, name: str | None = None, max_instances: int | None = None
) -> Task:
    """Validate a decoded SuperNI task file and build a :class:`Task`.

    ``name`` defaults to the file's stem (SuperNI names tasks by their file name).
    """
    path = Path(path)
    name = name or path.stem
    if not isinstance(raw, dict):
        raise TaskFormatError(path, None, f"expected a JSON object, got {_type_name(raw)}")
    lists = {k: _str_list(raw, k, path) for k in LIST_OF_STR_FIELDS}
    if not lists["Definition"] or not lists["Definition"][0].strip():
        raise TaskFormatError(path, "Definition", "is empty")
    for key in ("Positive Examples", "Negative Examples", "Instances"):
        if key not in raw:
            raise TaskFormatError(path, key, "missing (a SuperNI task file needs it)")
    choices = raw.get("Answer Choices")
    if choices is not None and not (
        isinstance(choices, list) and all(isinstance(c, str) for c in choices)
    ):
        raise TaskFormatError(path, "Answer Choices", "expected a list of strings")
    extras = {}
    for key, attr in (
        ("Title", "title"),
        ("Prompt", "prompt"),
        ("Things to Avoid", "things_to_avoid"),
        ("Emphasis & Caution", "emphasis_and_caution"),
        ("Cluster", "cluster"),
    ):
        if key in raw:
            if not isinstance(raw[key], str):
                raise TaskFormatError(path, key, f"expected a string, got {_type_name(raw[key])}")
            extras[attr] = raw[key]
    return Task(
        name=name,
        # Tk-Instruct uses the first definition when a file gives several.
        definition=lists["Definition"][0],
        positive_examples=parse_examples(raw["Positive Examples"], "Positive Examples", path),
        negative_examples=parse_examples(raw["Negative Examples"], "Negative Examples", path),
        instances=parse_instances(
            raw["Instances"], path, task_name=name, max_instances=max_instances
        ),
        contributors=lists["Contributors"],
        source=lists["Source"],
        url=lists["URL"],
        categories=lists["Categories"],
        reasoning=lists["Reasoning"],
        domains=lists["Domains"],
        input_language=lists["Input_language"],
        output_language=lists["Output_language"],
        instruction_language=lists["Instruction_language"],
        instance_license=_str_list(raw, "Instance License", path, required=False),
        answer_choices=choices,
        **extras,
    )


def load_task(path: str | Path, *, max_instances: int | None = None) -> Task:
    """Load and validate one SuperNI task file."""
    path = Path(path)
    return parse_task(read_json(path), path, max_instances=max_instances)


def read_split_file(path: str | Path) -> list[str]:
    """Read a SuperNI split file: one task name per line (blank lines and # ignored)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TaskFormatError(path, None, "split file not found") from None
    except UnicodeDecodeError:
        raise TaskFormatError(path, None, "not valid UTF-8 text") from None
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON through a temporary file and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")
        # mkstemp makes the file 0600; give it the mode the user's umask asks for.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_task(task: Task, path: str | Path) -> None:
    """Write a task as a SuperNI task file (atomically)."""
    write_json_atomic(Path(path), task.to_superni())
