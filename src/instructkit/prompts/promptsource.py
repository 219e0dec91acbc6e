"""PromptSource (P3) templates: safe loading, sandboxed Jinja rendering, answer choices.

A ``templates.yaml`` file holds ``dataset``, ``subset`` and ``templates`` (id →
``!Template`` with ``jinja``, ``answer_choices``, ``name``, ``reference`` and a
``!TemplateMetadata`` with ``original_task``, ``choices_in_prompt``, ``metrics``,
``languages``). The tags are read as plain mappings by a subclass of
``yaml.SafeLoader``: no Python object is ever built from the file.

Rendering equals promptsource 0.2.3's ``Template.apply`` (golden-tested against the
package on the T0 evaluation data): every ``}}`` of the template gets
``| string | truncate(2048)`` (``truncate=True``, apply's default); ``|||`` in the data's
top-level string fields is protected by promptsource's marker; the answer choices are
rendered first and passed in as ``answer_choices`` (``None`` without an expression); the
result is split on ``|||`` and each part unprotected and stripped; a field the data lacks
renders empty; ``most_frequent`` returns the list of most frequent items; ``choice``
draws at random per row, from a generator seeded per row (promptsource uses Python's
global ``random``: the same draws as ``random.seed(seed)`` before ``apply``). Templates
are compiled for every render where they use ``choice``, as promptsource compiles, so
that a ``choice`` over a constant list (folded at compile time) is drawn per row too.

Deliberate difference, for safety: rendering runs in Jinja's ``SandboxedEnvironment``,
so a template that reaches Python internals (``{{ ''.__class__ }}``) fails with one line
naming the file and the template. ``render(..., strict=True)`` (used by ``prompts
validate``) makes a field the data lacks an error naming the field.
"""

from __future__ import annotations

import random
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from instructkit.errors import InstructkitError
from instructkit.prompts.example import PromptedExample

SEPARATOR = "|||"
PIPE_PROTECTOR = "3ed2dface8203c4c9dfb1a5dc58e41e0"  # promptsource's marker
TEXT_VAR_LENGTH = 2048  # promptsource's truncate(2048)


class TemplateError(InstructkitError):
    """A template does not load or does not render; names file, template and field."""

    def __init__(self, file: str, template: str | None, field: str | None, problem: str) -> None:
        self.file, self.template, self.field, self.problem = file, template, field, problem
        where = file
        if template:
            where += f": template '{template}'"
        if field:
            where += f": field '{field}'"
        super().__init__(f"{where}: {problem}")


class _SafeTemplateLoader(yaml.SafeLoader):
    """A safe loader that reads PromptSource's two YAML tags as plain mappings."""


def _as_mapping(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.tag} expects a mapping", node.start_mark
        )
    return loader.construct_mapping(node, deep=True)  # type: ignore[return-value]


_SafeTemplateLoader.add_constructor("!Template", _as_mapping)
_SafeTemplateLoader.add_constructor("!TemplateMetadata", _as_mapping)


@dataclass(frozen=True)
class TemplateMetadata:
    """PromptSource's metadata of a template."""

    original_task: bool | None = None
    choices_in_prompt: bool | None = None
    metrics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromptSourceTemplate:
    """One PromptSource template: Jinja source, answer-choice Jinja and metadata."""

    id: str
    name: str
    jinja: str
    answer_choices: str | None
    metadata: TemplateMetadata
    dataset: str
    subset: str | None
    file: str
    reference: str = ""

    @property
    def dataset_name(self) -> str:
        return f"{self.dataset}/{self.subset}" if self.subset else self.dataset


def _promptsource_choice(choices: Sequence[Any]) -> Any:
    # PromptSource's `choice` filter draws at random; the environment's seeded RNG makes
    # each render reproducible.
    return _RNG.choice(list(choices))


def _most_frequent(items: Sequence[Any]) -> Any:
    # promptsource: the list of the items that appear most often (None for no items).
    if not items:
        return None
    counts = Counter(items).most_common()
    return [c[0] for c in counts if c[1] == counts[0][1]]


def _highlight(text: str) -> str:
    return "<span style='color: #F08080'>" + str(text) + "</span>"


_RNG = random.Random(0)


MAX_OUTPUT_CHARS = 1_000_000  # a render longer than this is refused
MAX_SECONDS = 2.0  # and one slower than this
MAX_POWER = 10_000  # and an integer power with a larger exponent


class RenderLimitError(Exception):
    """A template exceeded the rendering limits (raised inside Jinja, reported as a
    TemplateError naming the template)."""


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox with bounds on what a template may build: big powers and string
    or list repetition are refused before they are computed."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_POWER:
            raise RenderLimitError(f"a power with exponent {right} (limit {MAX_POWER})")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                size = len(seq) * n if isinstance(seq, str | list | tuple) else 0
                if isinstance(n, int) and size > MAX_OUTPUT_CHARS:
                    raise RenderLimitError(
                        f"a repetition of {size} items (limit {MAX_OUTPUT_CHARS})"
                    )
        return super().call_binop(context, operator, left, right)


def _bounded_render(template: jinja2.Template, ctx: dict[str, Any]) -> str:
    """Render piece by piece, stopping past the size or time limit. In the main thread a
    timer also interrupts a loop that produces no output."""
    import signal
    import threading
    import time

    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(
        signal, "setitimer"
    )
    previous = None
    if use_alarm:

        def _timeout(signum: int, frame: Any) -> None:
            raise RenderLimitError(f"rendering took longer than {MAX_SECONDS:.0f} s")

        previous = signal.signal(signal.SIGALRM, _timeout)
        signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS)
    try:
        start = time.perf_counter()
        parts: list[str] = []
        size = 0
        for piece in template.generate(**ctx):
            parts.append(piece)
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise RenderLimitError(f"the output exceeds {MAX_OUTPUT_CHARS} characters")
            if time.perf_counter() - start > MAX_SECONDS:
                raise RenderLimitError(f"rendering took longer than {MAX_SECONDS:.0f} s")
        return "".join(parts)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def make_environment(*, strict: bool = False) -> SandboxedEnvironment:
    """The sandboxed Jinja environment with PromptSource's filters and globals; ``strict``:
    a field the data lacks is an error instead of empty."""
    undefined = jinja2.StrictUndefined if strict else jinja2.Undefined
    env = BoundedSandbox(undefined=undefined, autoescape=False)
    env.filters["choice"] = _promptsource_choice
    env.filters["most_frequent"] = _most_frequent
    env.filters["highlight"] = _highlight
    env.globals["zip"] = zip
    return env


_USES_CHOICE = re.compile(r"\|\s*choice\b")
_ENV = make_environment()
_STRICT_ENV = make_environment(strict=True)
_UNDEFINED = re.compile(r"'(?:[^']*' has no attribute ')?([^']+)' is undefined")


def _undefined_field(e: jinja2.UndefinedError) -> str | None:
    m = _UNDEFINED.search(str(e))
    return m.group(1) if m else None


def load_templates_file(path: str | Path) -> list[PromptSourceTemplate]:
    """Read a ``templates.yaml`` file safely and check that every template compiles."""
    path = Path(path)
    file = str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeTemplateLoader)
    except FileNotFoundError:
        raise TemplateError(file, None, None, "file not found") from None
    except UnicodeDecodeError:
        raise TemplateError(file, None, None, "not valid UTF-8 text") from None
    except IsADirectoryError:
        raise TemplateError(file, None, None, "is a folder, not a templates.yaml") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or "syntax error"
        raise TemplateError(file, None, None, f"malformed YAML{where}: {problem}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("templates"), dict):
        raise TemplateError(file, None, "templates", "missing (expected a mapping of templates)")
    dataset = raw.get("dataset")
    if not isinstance(dataset, str):
        raise TemplateError(file, None, "dataset", "missing or not a string")
    out: list[PromptSourceTemplate] = []
    ids: dict[str, str] = {}
    for key, t in raw["templates"].items():
        if not isinstance(t, dict):
            raise TemplateError(file, str(key), None, "expected a mapping")
        name = t.get("name", str(key))
        if not isinstance(name, str):
            raise TemplateError(file, str(key), "name", "expected a string")
        for req in ("jinja", "id"):
            if not isinstance(t.get(req), str):
                raise TemplateError(file, name, req, "missing or not a string")
        if t["id"] in ids:
            raise TemplateError(
                file, name, "id", f"duplicate id '{t['id']}' (also template '{ids[t['id']]}')"
            )
        ids[t["id"]] = name
        if not isinstance(t.get("answer_choices", ""), str | None):
            raise TemplateError(file, name, "answer_choices", "expected a string or nothing")
        meta = t.get("metadata") or {}
        if not isinstance(meta, dict):
            raise TemplateError(file, name, "metadata", "expected a mapping")
        for key_ in ("metrics", "languages"):
            value = meta.get(key_) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TemplateError(file, name, f"metadata.{key_}", "expected a list of strings")
        tpl = PromptSourceTemplate(
            id=t["id"],
            name=name,
            jinja=t["jinja"],
            answer_choices=t.get("answer_choices"),
            metadata=TemplateMetadata(
                original_task=meta.get("original_task"),
                choices_in_prompt=meta.get("choices_in_prompt"),
                metrics=tuple(meta.get("metrics") or ()),
                languages=tuple(meta.get("languages") or ()),
            ),
            dataset=dataset,
            subset=raw.get("subset"),
            file=file,
            reference=t.get("reference") or "",
        )
        for part, text in (("jinja", tpl.jinja), ("answer_choices", tpl.answer_choices)):
            if text is None:
                continue
            try:
                _ENV.parse(text)
            except jinja2.TemplateSyntaxError as e:
                raise TemplateError(
                    file, name, part, f"Jinja syntax error at line {e.lineno}: {e.message}"
                ) from None
        out.append(tpl)
    return out


def find_templates(root: str | Path, dataset: str, subset: str | None = None) -> Path:
    """The ``templates.yaml`` of a dataset (and subset) under a PromptSource templates root."""
    path = Path(root) / dataset / (subset or "") / "templates.yaml"
    if not path.exists():
        raise TemplateError(str(path), None, None, "no templates for this dataset")
    return path


def _escape_pipes(fields: dict[str, Any]) -> dict[str, Any]:
    # As promptsource: "|||" in the example's top-level string fields cannot split the text.
    return {
        k: v.replace(SEPARATOR, PIPE_PROTECTOR) if isinstance(v, str) else v
        for k, v in fields.items()
    }


def _unescape(text: str) -> str:
    return text.replace(PIPE_PROTECTOR, SEPARATOR)


@dataclass(frozen=True)
class Rendered:
    """A rendered template: source text, target (may be empty) and answer choices."""

    source: str
    target: str
    answer_choices: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # every part apply returns


@lru_cache(maxsize=8192)
def _compiled(text: str, strict: bool) -> jinja2.Template:
    # Compiling is most of the cost of a render; templates are rendered on many rows.
    return (_STRICT_ENV if strict else _ENV).from_string(text)


def _render(
    tpl: PromptSourceTemplate, part: str, text: str, ctx: dict[str, Any], strict: bool = False
) -> str:
    try:
        if _USES_CHOICE.search(text):
            # Compiled afresh, as promptsource does: Jinja folds a filter over constants
            # at compile time, so a cached template would freeze one draw for every row.
            compiled = (_STRICT_ENV if strict else _ENV).from_string(text)
        else:
            compiled = _compiled(text, strict)
        return _bounded_render(compiled, ctx)
    except SecurityError as e:
        raise TemplateError(tpl.file, tpl.name, part, f"refused by the sandbox ({e})") from None
    except RenderLimitError as e:
        raise TemplateError(tpl.file, tpl.name, part, f"refused: {e}") from None
    except (RecursionError, MemoryError, OverflowError) as e:
        raise TemplateError(
            tpl.file, tpl.name, part, f"does not render ({type(e).__name__})"
        ) from None
    except jinja2.UndefinedError as e:
        missing = _undefined_field(e)
        raise TemplateError(
            tpl.file, tpl.name, missing or part, f"undefined in the data ({e})"
        ) from None
    except jinja2.TemplateSyntaxError as e:
        # The template compiled, but not once the truncation filter was added to it.
        raise TemplateError(
            tpl.file, tpl.name, part, f"Jinja syntax error at line {e.lineno}: {e.message}"
        ) from None
    except (
        jinja2.TemplateError,
        TypeError,
        ValueError,
        IndexError,
        KeyError,
        ZeroDivisionError,
    ) as e:
        raise TemplateError(
            tpl.file, tpl.name, part, f"does not render ({type(e).__name__}: {e})"
        ) from None


def render(
    tpl: PromptSourceTemplate,
    fields: dict[str, Any],
    *,
    seed: int = 0,
    truncate: bool = True,
    strict: bool = False,
) -> Rendered:
    """Render a template on one example's fields: promptsource's ``apply(example,
    truncate=truncate)`` with ``random.seed(seed)`` before it (see the module docstring)."""
    if "answer_choices" in fields:
        raise TemplateError(tpl.file, tpl.name, "answer_choices", "a reserved name in the data")
    _RNG.seed(seed)
    ctx = _escape_pipes(fields)
    choices: list[str] | None = None
    if tpl.answer_choices is not None:
        text = _render(tpl, "answer_choices", tpl.answer_choices, ctx, strict)
        choices = [_unescape(c.strip()) for c in text.split(SEPARATOR)]
    jinja = tpl.jinja
    if truncate:
        jinja = jinja.replace("}}", f" | string | truncate({TEXT_VAR_LENGTH}) }}}}")
    rendered = _render(tpl, "jinja", jinja, {**ctx, "answer_choices": choices}, strict)
    parts = [_unescape(p).strip() for p in rendered.split(SEPARATOR)]
    return Rendered(
        source=parts[0],
        target=parts[1] if len(parts) > 1 else "",
        answer_choices=choices or [],
        parts=parts,
    )


def apply_template(
    tpl: PromptSourceTemplate, rows: Iterable[tuple[str, dict[str, Any]]], *, task: str = ""
) -> list[PromptedExample]:
    """Render a template over (id, fields) rows into prompted examples; rows whose target
    renders empty (e.g. unlabelled test rows) are skipped, as PromptSource does."""
    out = []
    for k, (iid, fields) in enumerate(rows):
        r = render(tpl, fields, seed=k)
        if not r.target:
            continue
        out.append(
            PromptedExample(
                task=task or tpl.dataset_name,
                instance_id=iid,
                template=f"promptsource:{tpl.id}",
                source=r.source,
                targets=[r.target],
                options=r.answer_choices,
            )
        )
    return out


def render_expression(expr: str, row: dict[str, Any], *, where: str) -> str:
    """A Jinja expression (``{{ ... }}``) over a data row, in the sandbox; one line naming
    ``where`` when it does not render."""
    try:
        return str(_STRICT_ENV.from_string(expr).render(**row))
    except jinja2.UndefinedError as e:
        raise TemplateError(
            where, None, _undefined_field(e), f"undefined in the data ({e})"
        ) from None
    except SecurityError as e:
        raise TemplateError(where, None, None, f"refused by the sandbox ({e})") from None
    except (jinja2.TemplateError, TypeError, ValueError, IndexError, KeyError) as e:
        raise TemplateError(
            where, None, None, f"does not render ({type(e).__name__}: {e})"
        ) from None


@lru_cache(maxsize=64)
def _task_templates(file: str) -> tuple[PromptSourceTemplate, ...]:
    path = Path(file)
    if path.is_dir():
        path = path / "templates.yaml"
    return tuple(load_templates_file(path))


def task_templates(task: Any) -> list[PromptSourceTemplate]:
    """The PromptSource templates a dataset task carries (``Task.extra['promptsource']``):
    all of its file, the listed ones, or only ``original_task`` ones."""
    spec = task.extra.get("promptsource")
    if not isinstance(spec, dict):
        return []
    tpls = list(_task_templates(spec["file"]))
    if spec.get("original_task_only"):
        tpls = [t for t in tpls if t.metadata.original_task]
    names = spec.get("names")
    if names:
        known = {t.name for t in tpls} | {t.id for t in tpls}
        for n in names:
            if n not in known:
                from instructkit.errors import UnknownNameError

                raise UnknownNameError(f"PromptSource template of {task.name}", n, sorted(known))
        tpls = [t for t in tpls if t.name in names or t.id in names]
    return tpls


def _family_names(task: Any) -> list[str]:
    return [t.name for t in task_templates(task)] if task is not None else []


def _family_render(name: str, task: Any, instance: Any, ctx: Any) -> PromptedExample:
    tpl = next((t for t in task_templates(task) if name in (t.name, t.id)), None)
    if tpl is None:
        from instructkit.errors import UnknownNameError

        raise UnknownNameError(f"PromptSource template of {task.name}", name, _family_names(task))
    # One draw per (instance, run seed) for templates that use ``choice``.
    seed = zlib.crc32(f"{ctx.seed}:{instance.id}".encode())
    r = render(tpl, instance.fields, seed=seed)
    return PromptedExample(
        task=task.name,
        instance_id=instance.id,
        template=f"promptsource:{tpl.name}",
        source=r.source,
        targets=[r.target] if r.target else [],  # no target: the row is not rendered (T0)
        options=r.answer_choices,
        category=task.category,
        cluster=task.cluster or "",
    )


def _family() -> Any:
    from instructkit.prompts.render import TemplateFamily

    return TemplateFamily(
        "promptsource",
        _family_names,
        _family_render,
        "PromptSource templates of dataset tasks (T0 / P3), with answer choices as options",
        accepts=lambda name: bool(name),
    )


FAMILY = _family()
