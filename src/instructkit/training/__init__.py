"""Training: the config and the Accelerate-driven loop with resumable checkpoints."""

from typing import TYPE_CHECKING

from instructkit._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "config",
    "TrainResult": "loop",
    "save_model": "loop",
    "train": "loop",
    "MethodConfig": "config",
    "apply_method": "methods",
    "load_adapter": "methods",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [
    "MethodConfig",
    "TrainConfig",
    "TrainResult",
    "apply_method",
    "load_adapter",
    "save_model",
    "train",
]

if TYPE_CHECKING:
    from instructkit.training.config import MethodConfig, TrainConfig
    from instructkit.training.loop import TrainResult, save_model, train
    from instructkit.training.methods import apply_method, load_adapter


def accelerate_config(name: str) -> str:
    """Path of a shipped Accelerate config: ``ddp``, ``fsdp``, ``deepspeed_zero2``,
    ``deepspeed_zero3`` or ``cpu2`` (for ``accelerate launch --config_file``)."""
    from importlib.resources import files

    from instructkit.errors import UnknownNameError

    folder = files("instructkit") / "configs" / "accelerate"
    names = sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )
    if name not in names:
        raise UnknownNameError("accelerate config", name, names)
    return str(folder / f"{name}.yaml")
