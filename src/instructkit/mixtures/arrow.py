"""Mixtures as Hugging Face ``datasets``: Arrow tables, tokenised and cached, or streamed.

The tokenised form keeps, per example, the source and target token ids (the source
truncated from the left, the target from the right), so either model family's adapter
can batch it. It is cached on disk under a hash of its inputs: the examples in stream
order (task, instance, template, source, targets), the tokenizer (class, vocabulary size
and a digest of its vocabulary) and the two lengths. Any change to one of them gives a
new cache entry; the same inputs load the cached Arrow files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
from transformers import PreTrainedTokenizerBase

from instructkit.mixtures.mixture import Mixture
from instructkit.models.lengths import Side, truncate_ids
from instructkit.prompts.example import PromptedExample

COLUMNS = ("task", "instance_id", "template", "source", "target", "targets", "options")


def _row(e: PromptedExample) -> dict[str, Any]:
    return {
        "task": e.task,
        "instance_id": e.instance_id,
        "template": e.template,
        "source": e.source,
        "target": e.target,
        "targets": list(e.targets),
        "options": list(e.options),
    }


def to_dataset(mixture: Mixture) -> datasets.Dataset:
    """The mixture's stream as an in-memory Arrow table, in training order."""
    rows: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for e in mixture.stream():
        for k, v in _row(e).items():
            rows[k].append(v)
    return datasets.Dataset.from_dict(rows)


def to_iterable_dataset(mixture: Mixture, start: int = 0) -> datasets.IterableDataset:
    """The stream as an ``IterableDataset``: nothing is materialised (large mixtures)."""

    def gen() -> Iterator[dict[str, Any]]:
        for e in mixture.stream(start=start):
            yield _row(e)

    return datasets.IterableDataset.from_generator(gen)


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerBase) -> str:
    """Class, vocabulary size and a digest of the vocabulary of a tokenizer."""
    vocab = tokenizer.get_vocab()
    digest = hashlib.sha256(
        json.dumps(sorted(vocab.items()), ensure_ascii=False).encode()
    ).hexdigest()[:16]
    return f"{type(tokenizer).__name__}:{len(vocab)}:{digest}"


def mixture_fingerprint(
    mixture: Mixture,
    tokenizer: PreTrainedTokenizerBase,
    max_source_tokens: int,
    max_target_tokens: int,
) -> str:
    """The cache key of a tokenised mixture."""
    h = hashlib.sha256()
    h.update(f"{tokenizer_fingerprint(tokenizer)}|{max_source_tokens}|{max_target_tokens}".encode())
    for e in mixture.stream():
        h.update("\x1f".join([e.task, e.instance_id, e.template, e.source, *e.targets]).encode())
        h.update(b"\x1e")
    return h.hexdigest()[:24]


def tokenize_mixture(
    mixture: Mixture,
    tokenizer: PreTrainedTokenizerBase,
    *,
    max_source_tokens: int = 512,
    max_target_tokens: int = 64,
    cache_dir: str | Path,
    num_proc: int | None = None,
    truncate_source: Side = "left",
) -> datasets.Dataset:
    """The tokenised mixture (``source_ids``, ``target_ids`` per example), from the cache
    when its inputs are unchanged."""
    key = mixture_fingerprint(mixture, tokenizer, max_source_tokens, max_target_tokens)
    if truncate_source != "left":
        key += f"-{truncate_source}"
    path = Path(cache_dir) / f"tokenized-{key}"
    if (path / "dataset_info.json").exists():
        return datasets.load_from_disk(str(path))

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[list[int]]]:
        src = tokenizer(batch["source"], add_special_tokens=False)["input_ids"]
        tgt = tokenizer(batch["target"], add_special_tokens=False)["input_ids"]
        return {
            "source_ids": [truncate_ids(s, max_source_tokens, truncate_source) for s in src],
            "target_ids": [t[: max_target_tokens - 1] for t in tgt],
        }

    ds = to_dataset(mixture).map(
        encode,
        batched=True,
        batch_size=1000,
        num_proc=num_proc,
        desc="tokenizing mixture",
    )
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    ds.save_to_disk(str(tmp))
    shutil.rmtree(path, ignore_errors=True)
    tmp.replace(path)  # written whole, then renamed: never a half-written cache entry
    return datasets.load_from_disk(str(path))
