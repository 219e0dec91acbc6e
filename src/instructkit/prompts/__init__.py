"""Prompts: every way a task instance becomes model input and target."""

from instructkit.prompts.example import PromptedExample
from instructkit.prompts.superni import (
    ENCODINGS,
    SuperNIEncoding,
    encode_instance,
    get_encoding,
    superni_source,
)

__all__ = [
    "ENCODINGS",
    "PromptedExample",
    "SuperNIEncoding",
    "encode_instance",
    "get_encoding",
    "superni_source",
]
