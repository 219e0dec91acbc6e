"""Tuning methods: full fine-tuning, LoRA and prompt tuning, the last two through PEFT.

Prompt tuning works on any checkpoint, including an already instruction-tuned one (as
FLAN tuned soft prompts for a held-out task on top of its instruction-tuned model): load
that checkpoint as the model and choose ``method: prompt-tuning``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peft import (
    LoraConfig,
    PeftModel,
    PromptTuningConfig,
    PromptTuningInit,
    TaskType,
    get_peft_model,
)
from transformers import PreTrainedModel

from instructkit.errors import ModelLoadError
from instructkit.training.config import MethodConfig


def apply_method(
    model: PreTrainedModel, config: MethodConfig, *, tokenizer_path: str | None = None
) -> Any:
    """The model to train: itself (full), or wrapped with LoRA or a soft prompt."""
    if config.method == "full":
        return model
    task_type = TaskType.SEQ_2_SEQ_LM if model.config.is_encoder_decoder else TaskType.CAUSAL_LM
    peft_config: Any
    if config.method == "lora":
        peft_config = LoraConfig(
            task_type=task_type,
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=config.lora_target_modules,
        )
    else:
        init: dict[str, Any] = {}
        if config.prompt_init_text:
            if tokenizer_path is None:
                raise ModelLoadError("prompt_init_text needs a tokenizer saved in a folder")
            init = {
                "prompt_tuning_init": PromptTuningInit.TEXT,
                "prompt_tuning_init_text": config.prompt_init_text,
                "tokenizer_name_or_path": tokenizer_path,
            }
        peft_config = PromptTuningConfig(
            task_type=task_type, num_virtual_tokens=config.num_virtual_tokens, **init
        )
    return get_peft_model(model, peft_config)


def load_adapter(base: PreTrainedModel, path: str | Path) -> Any:
    """A base model with LoRA weights or a soft prompt saved by :func:`apply_method`."""
    return PeftModel.from_pretrained(base, str(path))


def trainable_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total
