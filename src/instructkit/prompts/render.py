"""The one renderer: ``(task, instance, template, exemplars, budget) -> PromptedExample``.

Training mixtures, run evaluation, ``instructkit eval``, ``prompts show`` and ``audit``
all render through :func:`render`, so the same (task, instance, template id, context)
gives the same source text everywhere.

A template id is ``<family>:<name>``; the families are registered in
:data:`TEMPLATE_FAMILIES` (``superni``, ``natinst``, ``flan``; a bare SuperNI encoding
name such as ``Def+Pos(2)`` means ``superni:Def+Pos(2)``). A new family is one module
with a :class:`TemplateFamily` and one ``TEMPLATE_FAMILIES.register`` line.

The token budget (:attr:`RenderContext.max_source_tokens`, counted with
:attr:`RenderContext.count_tokens`) is applied the same way by every family that shows
demonstrations: demonstrations are dropped from the end until the source fits, as
Tk-Instruct's collator does; the definition and the instance are never dropped. A source
that is still over budget without any demonstration is cut at the token level by
:func:`instructkit.models.lengths.truncate_ids` (by default from the left, which keeps the
instance and the open ``Output:`` and loses the start of the instruction; ``right`` keeps
the instruction, as Tk-Instruct's T5 tokenizer does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from instructkit.prompts.example import PromptedExample
from instructkit.registry import Registry
from instructkit.tasks.schema import Example, Instance, Task

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class RenderContext:
    """What a render may depend on besides (task, instance, template).

    ``exemplars``: explicit few-shot demonstrations (``None``: the template's family draws
    ``fewshot`` of them from the task's positive examples with ``seed``).
    """

    count_tokens: TokenCounter | None = None
    max_source_tokens: int | None = None
    fewshot: int = 2
    seed: int = 0
    exemplars: tuple[Example, ...] | None = None

    def fits(self, text: str) -> bool:
        """Whether ``text`` is within the token budget (always, without a budget)."""
        if self.count_tokens is None or self.max_source_tokens is None:
            return True
        return self.count_tokens(text) <= self.max_source_tokens

    def budget_key(self) -> dict[str, object]:
        """The parts of the context that change rendered text (for fingerprints)."""
        return {
            "max_source_tokens": self.max_source_tokens if self.count_tokens else None,
            "fewshot": self.fewshot,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class TemplateFamily:
    """A family of templates: its template names (for a task, or all) and its renderer,
    which takes the name without the family prefix. ``accepts`` recognises names beyond
    the listed ones (e.g. parameterised names such as ``full instruction@5``)."""

    name: str
    names: Callable[[Task | None], list[str]]
    render: Callable[[str, Task, Instance, RenderContext], PromptedExample]
    description: str = ""
    accepts: Callable[[str], bool] | None = None


TEMPLATE_FAMILIES: Registry[TemplateFamily] = Registry(
    "template family", entry_points="instructkit.template_families"
)
TEMPLATE_FAMILIES.register_lazy("superni", "instructkit.prompts.superni:FAMILY")
TEMPLATE_FAMILIES.register_lazy("natinst", "instructkit.prompts.natinst:FAMILY")
TEMPLATE_FAMILIES.register_lazy("flan", "instructkit.prompts.flan:FAMILY")
TEMPLATE_FAMILIES.register_lazy("promptsource", "instructkit.prompts.promptsource:FAMILY")
TEMPLATE_FAMILIES.register_lazy("flan-patterns", "instructkit.prompts.flan_patterns:FAMILY")


def split_template_id(template_id: str) -> tuple[TemplateFamily, str]:
    """(family, name) of a template id; a bare SuperNI encoding name is ``superni:``."""
    from instructkit.prompts.superni import ENCODINGS

    if template_id in ENCODINGS:
        return TEMPLATE_FAMILIES.get("superni"), template_id
    family, sep, name = template_id.partition(":")
    if not sep or family not in TEMPLATE_FAMILIES:
        from instructkit.errors import UnknownNameError

        raise UnknownNameError("template", template_id, template_ids())
    return TEMPLATE_FAMILIES.get(family), name


def canonical_id(template_id: str) -> str:
    """The full ``family:name`` id of a template id (``Def`` → ``superni:Def``)."""
    family, name = split_template_id(template_id)
    return f"{family.name}:{name}"


def template_ids(task: Task | None = None) -> list[str]:
    """Every template id of every family; for a task, the ones that apply to it."""
    return [f"{fam.name}:{n}" for _, fam in TEMPLATE_FAMILIES.items() for n in fam.names(task)]


def is_known_template(template_id: str) -> bool:
    """Whether ``template_id`` names a template (or is a bare SuperNI encoding name)."""
    from instructkit.errors import UnknownNameError

    try:
        family, name = split_template_id(template_id)
    except UnknownNameError:
        return False
    return name in family.names(None) or (family.accepts is not None and family.accepts(name))


def check_template(template_id: str) -> None:
    """Raise the "did you mean" error unless ``template_id`` names a template."""
    if not is_known_template(template_id):
        from instructkit.errors import UnknownNameError

        raise UnknownNameError("template", template_id, template_ids())


def render(
    template_id: str,
    task: Task,
    instance: Instance,
    ctx: RenderContext | None = None,
) -> PromptedExample:
    """Render one instance with one template: the one road to a prompt."""
    check_template(template_id)
    family, name = split_template_id(template_id)
    return family.render(name, task, instance, ctx or RenderContext())


def expand(template_id: str, task: Task) -> list[str]:
    """The template ids ``template_id`` stands for on a task: ``family:*`` is every
    template of the family that applies to the task, anything else itself."""
    family, name = split_template_id(template_id)
    if name != "*":
        return [template_id]
    return [f"{family.name}:{n}" for n in family.names(task)]


def render_instances(
    template_ids: Sequence[str] | str,
    task: Task,
    instances: Sequence[Instance],
    ctx: RenderContext | None = None,
    *,
    warn: Callable[[str], None] | None = None,
) -> list[PromptedExample]:
    """Every instance under every template (``family:*`` expanded for the task). An
    example without a target (a PromptSource template that does not apply to the row) is
    left out, as T0 leaves it out; a template that does not render on a row leaves that
    row out with one line per template through ``warn`` (the rows that render are kept)."""
    from instructkit.prompts.flan_patterns import TemplateFieldError
    from instructkit.prompts.promptsource import TemplateError

    ids = [template_ids] if isinstance(template_ids, str) else list(template_ids)
    for t in ids:
        check_template(t)  # a wrong id is an error, not a row that does not render
    out: list[PromptedExample] = []
    for tid in [x for t in ids for x in expand(t, task)]:
        failed, first = 0, ""
        for inst in instances:
            try:
                ex = render(tid, task, inst, ctx)
            except (TemplateError, TemplateFieldError) as e:
                failed, first = failed + 1, first or str(e)
                continue
            if ex.targets:
                out.append(ex)
        if failed and warn is not None:
            warn(
                f"{task.name}: template {tid}: {failed} of {len(instances)} rows left out: {first}"
            )
    return out


def drop_to_fit(build: Callable[[int], str], n: int, ctx: RenderContext) -> tuple[str, int]:
    """The source built with the most of the first ``n`` demonstrations that fits the
    budget (``build(k)`` renders with k of them), and that k: dropped from the end."""
    k = n
    text = build(k)
    while k > 0 and not ctx.fits(text):
        k -= 1
        text = build(k)
    return text, k


def apply_template(
    template_id: str, task: Task, instance: Instance, *, exemplars: Sequence[Example] = ()
) -> PromptedExample:
    """:func:`render` with explicit few-shot exemplars (none: the family draws them)."""
    ctx = RenderContext(exemplars=tuple(exemplars) if exemplars else None)
    return render(template_id, task, instance, ctx)


render_template = (
    render  # the package-level name (``instructkit.prompts.render`` is PromptSource's)
)
