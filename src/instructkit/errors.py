"""Errors meant for users: one line that names the file, the field and what is wrong.

The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class InstructkitError(Exception):
    """Base class of every error instructkit reports to a user: always one line (line
    breaks and other control characters that data brings into it are shown escaped)."""

    def __init__(self, *args: object) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            args = (one_line(args[0]),)
        super().__init__(*args)


def one_line(text: str) -> str:
    """``text`` with control characters (line breaks included) escaped as ``\\n`` etc."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


class TaskFormatError(InstructkitError):
    """A task file (SuperNI, Natural Instructions v1, JSONL) is malformed."""

    def __init__(self, path: str | Path, field: str | None, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        where = f"{self.path}: field '{field}'" if field else self.path
        super().__init__(f"{where}: {problem}")


class ConfigError(InstructkitError):
    """An experiment or training config is invalid."""

    def __init__(self, path: str | Path | None, field: str | None, problem: str) -> None:
        self.path = str(path) if path is not None else "<config>"
        self.field = field
        self.problem = problem
        where = f"{self.path}: field '{field}'" if field else self.path
        super().__init__(f"{where}: {problem}")


class UnknownNameError(InstructkitError):
    """A name (task, model, encoding, ...) that is not known; suggests close matches."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        import difflib

        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"unknown {kind} '{name}'{hint}")


class ModelLoadError(InstructkitError):
    """A model or tokenizer could not be loaded."""


def read_yaml_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """A YAML file that holds a mapping (an empty file is an empty one); a missing file,
    invalid YAML or another top-level value is a :class:`ConfigError` naming ``what``."""
    import yaml  # imported here: commands that read no YAML (score) skip it

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(path, None, f"{what} not found") from None
    except IsADirectoryError:
        raise ConfigError(path, None, f"{what} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, f"{what} is not valid UTF-8 text") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(path, None, f"invalid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(path, None, "expected a mapping of fields")
    return data


@contextmanager
def named_by(path: str | Path | None, field: str) -> Iterator[None]:
    """Errors raised while following a value of a config file name that file and field:
    a ConfigError without a file gets ``path``; any other error of ours is prefixed with
    ``path: field 'field':``, so the user sees both the config line and what it led to."""
    try:
        yield
    except InstructkitError as e:
        if path is None or str(path) in str(e):
            raise
        if isinstance(e, ConfigError) and e.path == "<config>":
            raise ConfigError(path, e.field or field, e.problem) from None
        raise ConfigError(path, field, str(e)) from None
