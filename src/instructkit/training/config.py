"""Training configs: pure data (no torch), so configs load and validate without the
model stack. :mod:`instructkit.training.loop` and :mod:`instructkit.training.methods`
consume them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The trackers Accelerate knows (accelerate.utils.LoggerType; a test keeps them equal).
TRACKERS = (
    "all",
    "aim",
    "tensorboard",
    "wandb",
    "trackio",
    "comet_ml",
    "mlflow",
    "clearml",
    "dvclive",
    "swanlab",
)

Method = Literal["full", "lora", "prompt-tuning"]


class MethodConfig(BaseModel):
    """Which parameters are tuned."""

    model_config = ConfigDict(extra="forbid")

    method: Method = Field("full", description="full fine-tuning, LoRA, or prompt tuning.")
    lora_r: int = Field(8, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(16, ge=1, description="LoRA scaling numerator.")
    lora_dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on LoRA inputs.")
    lora_target_modules: list[str] | str = Field(
        "all-linear", description="Modules that get LoRA weights ('all-linear' or names)."
    )
    num_virtual_tokens: int = Field(20, ge=1, description="Soft prompt length.")
    prompt_init_text: str | None = Field(
        None, description="Initialise the soft prompt from this text's embeddings."
    )


class TrainConfig(BaseModel):
    """How to fine-tune. Every field has a default that runs on a laptop CPU."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(45, ge=0, description="Optimizer steps.")
    batch_size: int = Field(8, ge=1, description="Examples per device per micro-batch.")
    grad_accum: int = Field(1, ge=1, description="Micro-batches per optimizer step.")
    learning_rate: float = Field(
        1e-4, gt=0, allow_inf_nan=False, description="Peak learning rate (AdamW)."
    )
    weight_decay: float = Field(0.0, ge=0, allow_inf_nan=False, description="AdamW weight decay.")
    warmup_steps: int = Field(4, ge=0, description="Linear warm-up steps.")
    schedule: Literal["linear", "cosine", "constant"] = Field(
        "linear", description="Learning-rate schedule after warm-up."
    )
    max_source_tokens: int = Field(512, ge=8, description="Source length limit in tokens.")
    max_target_tokens: int = Field(64, ge=2, description="Target truncated from the right.")
    truncate_source: Literal["left", "right"] = Field(
        "left", description="Which end of a too-long source is cut (left keeps the query)."
    )
    mixed_precision: Literal["no", "bf16", "fp16"] = Field(
        "bf16", description="Autocast precision (bf16 also works on CPU)."
    )
    max_grad_norm: float = Field(
        1.0, gt=0, allow_inf_nan=False, description="Gradient clipping norm."
    )
    save_every: int = Field(25, ge=0, description="Checkpoint every N steps (0: never).")
    packing: bool = Field(
        False,
        description="Decoder-only: pack several examples per row with no attention between "
        "them (rows of pack_length tokens; batch_size counts rows).",
    )
    pack_length: int = Field(1024, ge=16, description="Tokens per packed row.")
    eval_every: int = Field(
        0, ge=0, description="Evaluate held-out tasks every N steps (0: never)."
    )
    log_with: list[str] = Field(
        default_factory=list,
        description="Accelerate trackers to log to, e.g. ['tensorboard'] or ['wandb'].",
    )

    @field_validator("log_with")
    @classmethod
    def _known_trackers(cls, v: list[str]) -> list[str]:
        for name in v:
            if name not in TRACKERS:
                raise ValueError(f"unknown tracker {name!r}; one of {', '.join(TRACKERS)}")
        return v

    seed: int = Field(0, description="Seed of weights init, dropout and everything else.")
    tuning: MethodConfig = Field(
        default_factory=MethodConfig, description="full fine-tuning, LoRA or prompt tuning."
    )
