"""Models: loading for both families and the adapters that batch and generate."""

from typing import TYPE_CHECKING

from instructkit._lazy import lazy_exports

_EXPORTS = {
    "DecoderOnlyAdapter": "adapters",
    "EncoderDecoderAdapter": "adapters",
    "FamilyAdapter": "adapters",
    "Lengths": "adapters",
    "adapter_for": "adapters",
    "LoadedModel": "loading",
    "load_model": "loading",
    "tiny_model": "loading",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
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

if TYPE_CHECKING:
    from instructkit.models.adapters import (
        DecoderOnlyAdapter,
        EncoderDecoderAdapter,
        FamilyAdapter,
        Lengths,
        adapter_for,
    )
    from instructkit.models.loading import LoadedModel, load_model, tiny_model
