"""One adapter per model family: batching with loss masks, and generation.

Decoder-only: the sequence is ``source + target + eos``; the loss covers the target and
eos only (source positions get label -100); sources are truncated from the left so the
query at their end survives. Encoder-decoder: the source feeds the encoder, the target
(+ eos) is the decoder's label sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from instructkit.models.loading import Family, LoadedModel

IGNORE_INDEX = -100


@dataclass
class Lengths:
    """Token budgets of a batch."""

    max_source_tokens: int = 512
    max_target_tokens: int = 64


class FamilyAdapter:
    """What both families share; subclasses implement ``collate`` and ``_generate_batch``."""

    family: Family

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
        self.model = model
        self.tokenizer = tokenizer
        pad = tokenizer.pad_token_id
        self.pad_id: int = pad if pad is not None else tokenizer.eos_token_id
        self.eos_id: int = tokenizer.eos_token_id

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def collate(
        self, sources: Sequence[str], targets: Sequence[str], lengths: Lengths
    ) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def generate(
        self,
        sources: Sequence[str],
        *,
        max_new_tokens: int = 32,
        max_source_tokens: int = 512,
        batch_size: int = 8,
    ) -> list[str]:
        """Greedy generation, batched by length (longest first); returns texts in input order."""
        order = sorted(range(len(sources)), key=lambda i: -len(sources[i]))
        out: list[str] = [""] * len(sources)
        self.model.eval()
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            texts = self._generate_batch(
                [sources[i] for i in idx],
                max_new_tokens=max_new_tokens,
                max_source_tokens=max_source_tokens,
            )
            for i, t in zip(idx, texts, strict=True):
                out[i] = t
        return out

    def _generate_batch(
        self, sources: list[str], *, max_new_tokens: int, max_source_tokens: int
    ) -> list[str]:
        raise NotImplementedError


class DecoderOnlyAdapter(FamilyAdapter):
    family: Family = "decoder-only"

    def collate(
        self, sources: Sequence[str], targets: Sequence[str], lengths: Lengths
    ) -> dict[str, torch.Tensor]:
        rows, labels = [], []
        for s, t in zip(sources, targets, strict=True):
            src = self.encode(s)[-lengths.max_source_tokens :]
            tgt = [*self.encode(t)[: lengths.max_target_tokens - 1], self.eos_id]
            rows.append(src + tgt)
            labels.append([IGNORE_INDEX] * len(src) + tgt)
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        lab = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, (r, la) in enumerate(zip(rows, labels, strict=True)):
            ids[i, : len(r)] = torch.tensor(r)
            lab[i, : len(la)] = torch.tensor(la)
            mask[i, : len(r)] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": lab}

    def _generate_batch(
        self, sources: list[str], *, max_new_tokens: int, max_source_tokens: int
    ) -> list[str]:
        enc = [self.encode(s)[-max_source_tokens:] for s in sources]
        width = max(len(e) for e in enc)
        # Left padding, so every row's continuation starts at the same position.
        ids = torch.full((len(enc), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(enc), width), dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, width - len(e) :] = torch.tensor(e)
            mask[i, width - len(e) :] = 1
        device = next(self.model.parameters()).device
        gen = cast(Any, self.model).generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=self.pad_id,
            eos_token_id=self.eos_id,
        )
        return self.tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)


class EncoderDecoderAdapter(FamilyAdapter):
    family: Family = "encoder-decoder"

    def collate(
        self, sources: Sequence[str], targets: Sequence[str], lengths: Lengths
    ) -> dict[str, torch.Tensor]:
        src = [self.encode(s)[-lengths.max_source_tokens :] for s in sources]
        tgt = [[*self.encode(t)[: lengths.max_target_tokens - 1], self.eos_id] for t in targets]
        sw, tw = max(len(s) for s in src), max(len(t) for t in tgt)
        ids = torch.full((len(src), sw), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(src), sw), dtype=torch.long)
        lab = torch.full((len(tgt), tw), IGNORE_INDEX, dtype=torch.long)
        for i, (s, t) in enumerate(zip(src, tgt, strict=True)):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
            lab[i, : len(t)] = torch.tensor(t)
        return {"input_ids": ids, "attention_mask": mask, "labels": lab}

    def _generate_batch(
        self, sources: list[str], *, max_new_tokens: int, max_source_tokens: int
    ) -> list[str]:
        enc = [[*self.encode(s)[-max_source_tokens:], self.eos_id] for s in sources]
        width = max(len(e) for e in enc)
        ids = torch.full((len(enc), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(enc), width), dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, : len(e)] = torch.tensor(e)
            mask[i, : len(e)] = 1
        device = next(self.model.parameters()).device
        gen = cast(Any, self.model).generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
        )
        return self.tokenizer.batch_decode(gen, skip_special_tokens=True)


def adapter_for(loaded: LoadedModel) -> FamilyAdapter:
    """The adapter of a loaded model's family."""
    cls = EncoderDecoderAdapter if loaded.family == "encoder-decoder" else DecoderOnlyAdapter
    return cls(loaded.model, loaded.tokenizer)
