"""instructkit: multi-task instruction tuning and zero-shot cross-task generalization."""

__version__ = "0.1.0"
