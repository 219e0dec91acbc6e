"""Prompts: every way a task instance becomes model input and target.

SuperNI / Tk-Instruct encodings, Natural Instructions v1 field sets, FLAN templates
(with options and turned-around variants), PromptSource Jinja templates, and few-shot
exemplars; :mod:`instructkit.prompts.checks` validates templates against data."""

from typing import TYPE_CHECKING

from instructkit._lazy import lazy_exports

_EXPORTS = {
    "PromptedExample": "example",
    "sample_exemplars": "fewshot",
    "BUILTIN_TEMPLATES": "flan",
    "GENERIC_TEMPLATES": "flan",
    "FlanTemplate": "flan",
    "apply_flan": "flan",
    "options_suffix": "flan",
    "task_options": "flan",
    "NATINST_FIELD_SETS": "natinst",
    "NatInstFieldSet": "natinst",
    "encode_natinst": "natinst",
    "PromptSourceTemplate": "promptsource",
    "TemplateError": "promptsource",
    "load_templates_file": "promptsource",
    "render": "promptsource",
    "ENCODINGS": "superni",
    "SuperNIEncoding": "superni",
    "encode_instance": "superni",
    "get_encoding": "superni",
    "superni_source": "superni",
    "apply_template": "render",
    "template_ids": "render",
    "render_template": "render",
    "RenderContext": "render",
    "TEMPLATE_FAMILIES": "render",
    "TemplateFamily": "render",
    "is_known_template": "render",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [
    "BUILTIN_TEMPLATES",
    "ENCODINGS",
    "GENERIC_TEMPLATES",
    "NATINST_FIELD_SETS",
    "TEMPLATE_FAMILIES",
    "FlanTemplate",
    "NatInstFieldSet",
    "PromptSourceTemplate",
    "PromptedExample",
    "RenderContext",
    "SuperNIEncoding",
    "TemplateError",
    "TemplateFamily",
    "apply_flan",
    "apply_template",
    "encode_instance",
    "encode_natinst",
    "get_encoding",
    "is_known_template",
    "load_templates_file",
    "options_suffix",
    "render",
    "render_template",
    "sample_exemplars",
    "superni_source",
    "task_options",
    "template_ids",
]

if TYPE_CHECKING:
    from instructkit.prompts.example import PromptedExample
    from instructkit.prompts.fewshot import sample_exemplars
    from instructkit.prompts.flan import (
        BUILTIN_TEMPLATES,
        GENERIC_TEMPLATES,
        FlanTemplate,
        apply_flan,
        options_suffix,
        task_options,
    )
    from instructkit.prompts.natinst import NATINST_FIELD_SETS, NatInstFieldSet, encode_natinst
    from instructkit.prompts.promptsource import (
        PromptSourceTemplate,
        TemplateError,
        load_templates_file,
        render,
    )
    from instructkit.prompts.render import (
        TEMPLATE_FAMILIES,
        RenderContext,
        TemplateFamily,
        apply_template,
        is_known_template,
        render_template,
        template_ids,
    )
    from instructkit.prompts.superni import (
        ENCODINGS,
        SuperNIEncoding,
        encode_instance,
        get_encoding,
        superni_source,
    )
