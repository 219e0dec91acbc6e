"""Models: loading for both families and the adapters that batch and generate."""

from instructkit.models.adapters import (
    DecoderOnlyAdapter,
    EncoderDecoderAdapter,
    FamilyAdapter,
    Lengths,
    adapter_for,
)
from instructkit.models.loading import LoadedModel, load_model, tiny_model

__all__ = [
    "DecoderOnlyAdapter",
    "EncoderDecoderAdapter",
    "FamilyAdapter",
    "Lengths",
    "LoadedModel",
    "adapter_for",
    "load_model",
    "tiny_model",
]
