"""Training: the config and the Accelerate-driven loop with resumable checkpoints."""

from instructkit.training.loop import TrainConfig, TrainResult, save_model, train

__all__ = ["TrainConfig", "TrainResult", "save_model", "train"]
