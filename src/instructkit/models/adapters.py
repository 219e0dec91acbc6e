"""One adapter per model family: batching with loss masks, and generation.

Decoder-only: the sequence is ``source + target + eos``; the loss covers the target and
eos only (source positions get label -100); sources are truncated from the left so the
query at their end survives. Encoder-decoder: the source feeds the encoder, the target
(+ eos) is the decoder's label sequence.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, cast

import torch
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)

from instructkit.models.lengths import Lengths, Side, truncate_ids
from instructkit.models.loading import Family, LoadedModel
from instructkit.registry import Registry

IGNORE_INDEX = -100


def is_prompt_learning(model: Any) -> bool:
    """Whether a model carries a (PEFT) soft prompt: its forward prepends virtual tokens,
    so no cache of the plain prompt can be shared and no logits can be sliced."""
    return bool(getattr(getattr(model, "active_peft_config", None), "is_prompt_learning", False))


def pad_right(rows: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rows right-padded to one width, and their attention mask."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask


class StopOnStrings(StoppingCriteria):
    """Marks a row finished once its generated text contains one of the stop strings
    after its leading whitespace, as :func:`instructkit.evaluation.run.cut_at_stop` cuts
    it (an answer that starts on a new line is generated, not stopped at that line)."""

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, stops: Sequence[str], start: int
    ) -> None:
        self.tokenizer, self.stops, self.start = tokenizer, list(stops), start

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.start :], skip_special_tokens=True)
        done = [any(s in t.lstrip() for s in self.stops) for t in texts]
        return cast(torch.BoolTensor, torch.tensor(done, dtype=torch.bool, device=input_ids.device))


class FamilyAdapter:
    """What both families share; subclasses implement ``collate`` and ``_generate_batch``."""

    family: Family

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
        self._model = model
        self.tokenizer = tokenizer
        pad = tokenizer.pad_token_id
        self.pad_id: int = pad if pad is not None else tokenizer.eos_token_id
        self.eos_id: int = tokenizer.eos_token_id

    @classmethod
    def matches(cls, model: Any) -> bool:
        """Whether this family handles ``model`` (see :func:`family_of`)."""
        return False

    @property
    def model(self) -> Any:
        return self._model

    @model.setter
    def model(self, model: Any) -> None:
        # Caches computed with other weights must never serve the new model.
        self._model = model
        self.reset_caches()

    def reset_caches(self) -> None:
        """Drop every cache computed with the model (called when the model or its weights
        may have changed: a new model, a training step, the start of an evaluation)."""

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def source_ids(self, text: str, max_tokens: int, side: Side = "left") -> list[int]:
        """The token ids a source becomes, within budget: the same for training,
        generation and rank classification. Encoder-decoder sources end with
        end-of-sequence, as T5 tokenizers add it."""
        return truncate_ids(self.encode(text), max_tokens, side)

    def count_tokens(self, text: str) -> int:
        """Tokens a source takes in the model (the rendering budget counts these): with
        the end-of-sequence of encoder-decoder sources, as Tk-Instruct counts them."""
        return len(self.source_ids(text, 1 << 30))

    def collate(
        self, sources: Sequence[str], targets: Sequence[str], lengths: Lengths
    ) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def example_ids(
        self, source: str, target: str, lengths: Lengths
    ) -> tuple[list[int], list[int]]:
        """Source ids (:meth:`source_ids`) and target ids + end of sequence."""
        src = self.source_ids(source, lengths.max_source_tokens, lengths.truncate_source)
        return src, [*self.encode(target)[: lengths.max_target_tokens - 1], self.eos_id]

    def token_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Summed cross-entropy over labelled tokens, and their number.

        Summing lets the training loop divide by the tokens of the whole optimizer step
        (all micro-batches and processes), so the loss does not depend on how a step is
        split.
        """
        if self.family == "decoder-only":
            # A soft prompt adds positions in front; the last positions align with labels.
            logits = logits[:, -labels.shape[1] :][:, :-1]
            labels = labels[:, 1:]
        loss = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]),
            labels.reshape(-1),
            ignore_index=IGNORE_INDEX,
            reduction="sum",
        )
        return loss, int((labels != IGNORE_INDEX).sum())

    def forward_loss(self, model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Summed cross-entropy of a training batch.

        Decoder-only models project to the vocabulary only at positions that predict a
        target token (``logits_to_keep``): the output projection is a large share of a
        small model's compute (a fifth of SmolLM2-135M's forward pass) and the loss
        ignores every other position. Same loss as :meth:`token_loss` on full logits.
        """
        labels = batch["labels"]
        inputs = {
            k: v for k, v in batch.items() if k != "labels" or self.family == "encoder-decoder"
        }
        if self.family != "decoder-only" or is_prompt_learning(model):
            return self.token_loss(model(**inputs, use_cache=False).logits, labels)[0]
        keep = torch.zeros_like(labels, dtype=torch.bool)
        keep[:, :-1] = labels[:, 1:] != IGNORE_INDEX
        logits = model(**inputs, use_cache=False, logits_to_keep=keep).logits
        targets = labels[:, 1:][keep[:, :-1]]
        return torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), targets, reduction="sum"
        )

    def count_loss_tokens(self, batch: dict[str, torch.Tensor]) -> int:
        labels = batch["labels"]
        if self.family == "decoder-only":
            labels = labels[:, 1:]
        return int((labels != IGNORE_INDEX).sum())

    @torch.no_grad()
    def generate(
        self,
        sources: Sequence[str],
        *,
        max_new_tokens: int = 32,
        max_source_tokens: int = 512,
        batch_size: int = 8,
        stop: Sequence[str] = (),
        truncate: Side = "left",
    ) -> list[str]:
        """Greedy generation; returns texts in input order.

        Prompts are grouped by their opening (prompts of one task share it) and sorted
        longest first, so rows of a batch share a prefix and little padding. A row stops
        once it contains a stop string (the text after it is not needed) and a batch once
        all its rows have stopped.
        """
        order = sorted(range(len(sources)), key=lambda i: (sources[i][:64], -len(sources[i])))
        out: list[str] = [""] * len(sources)
        self.model.eval()
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            texts = self._generate_batch(
                [sources[i] for i in idx],
                max_new_tokens=max_new_tokens,
                max_source_tokens=max_source_tokens,
                stop=stop,
                truncate=truncate,
            )
            for i, t in zip(idx, texts, strict=True):
                out[i] = t
        return out

    def _generate_batch(
        self,
        sources: list[str],
        *,
        max_new_tokens: int,
        max_source_tokens: int,
        stop: Sequence[str] = (),
        truncate: Side = "left",
    ) -> list[str]:
        raise NotImplementedError

    def _stopping(self, stop: Sequence[str], start: int) -> StoppingCriteriaList | None:
        if not stop:
            return None
        return StoppingCriteriaList([StopOnStrings(self.tokenizer, stop, start)])


class DecoderOnlyAdapter(FamilyAdapter):
    family: Family = "decoder-only"

    def collate_packed(
        self, rows: Sequence[Sequence[tuple[list[int], list[int]]]], width: int
    ) -> dict[str, torch.Tensor]:
        """Rows of several examples each, ``width`` tokens wide, with no attention between
        examples: position ids restart at 0 for every example and no 2D attention mask is
        given, from which the model builds a block-diagonal causal mask. The padding at
        the end of a row is a segment of its own and carries no labels."""
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        lab = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)
        pos = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            at = 0
            for src, tgt in row:
                n = len(src) + len(tgt)
                ids[i, at : at + n] = torch.tensor(src + tgt)
                lab[i, at + len(src) : at + n] = torch.tensor(tgt)
                pos[i, at : at + n] = torch.arange(n)
                at += n
            pos[i, at:] = torch.arange(width - at)
        return {"input_ids": ids, "labels": lab, "position_ids": pos}

    def collate(
        self, sources: Sequence[str], targets: Sequence[str], lengths: Lengths
    ) -> dict[str, torch.Tensor]:
        rows, labels = [], []
        for s, t in zip(sources, targets, strict=True):
            src = self.source_ids(s, lengths.max_source_tokens, lengths.truncate_source)
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

    # Prompts of one task share their instruction (definition and demonstrations); its
    # key/value cache is computed once and reused by every row and every batch that
    # shares it. Below this many shared tokens plain batching is used.
    min_shared_prefix = 32

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
        self._prefix: tuple[tuple[int, ...], Any] | None = None
        super().__init__(model, tokenizer)

    @classmethod
    def matches(cls, model: Any) -> bool:
        return not getattr(model.config, "is_encoder_decoder", False)

    def reset_caches(self) -> None:
        self._prefix = None

    def _prefix_cache(self, prefix: list[int], device: torch.device) -> Any:
        # Keyed on the prefix tokens; reset_caches() drops it whenever the model changes.
        key = tuple(prefix)
        if self._prefix is None or self._prefix[0] != key:
            out = cast(Any, self.model)(
                input_ids=torch.tensor([prefix], device=device), use_cache=True
            )
            self._prefix = (key, out.past_key_values)
        return copy.deepcopy(self._prefix[1])

    def _generate_batch(
        self,
        sources: list[str],
        *,
        max_new_tokens: int,
        max_source_tokens: int,
        stop: Sequence[str] = (),
        truncate: Side = "left",
    ) -> list[str]:
        enc = [self.source_ids(s, max_source_tokens, truncate) for s in sources]
        device = next(self.model.parameters()).device
        shared = _common_prefix_len(enc)
        shared = min(shared, min(len(e) for e in enc) - 1)  # each row keeps >= 1 new token
        cache = None
        # A soft prompt is prepended inside the model's forward: no shared-prefix cache.
        if shared >= self.min_shared_prefix and not is_prompt_learning(self.model):
            cache = self._prefix_cache(enc[0][:shared], device)
            cache.batch_repeat_interleave(len(enc))
        else:
            shared = 0
        rest = [e[shared:] for e in enc]
        width = max(len(r) for r in rest)
        # [shared prefix][left padding][rest]: every row's continuation starts at the same
        # column; positions come from the attention mask, so padding shifts nothing.
        ids = torch.full((len(enc), shared + width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(enc), shared + width), dtype=torch.long)
        for i, r in enumerate(rest):
            ids[i, :shared] = torch.tensor(enc[i][:shared], dtype=torch.long)
            mask[i, :shared] = 1
            ids[i, shared + width - len(r) :] = torch.tensor(r)
            mask[i, shared + width - len(r) :] = 1
        gen = cast(Any, self.model).generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            past_key_values=cache,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=self.pad_id,
            eos_token_id=self.eos_id,
            stopping_criteria=self._stopping(stop, shared + width),
        )
        return self.tokenizer.batch_decode(gen[:, shared + width :], skip_special_tokens=True)


def _common_prefix_len(rows: list[list[int]]) -> int:
    first = rows[0]
    n = min(len(r) for r in rows)
    for k in range(n):
        t = first[k]
        if any(r[k] != t for r in rows):
            return k
    return n


class EncoderDecoderAdapter(FamilyAdapter):
    family: Family = "encoder-decoder"

    @classmethod
    def matches(cls, model: Any) -> bool:
        return bool(getattr(model.config, "is_encoder_decoder", False))

    def source_ids(self, text: str, max_tokens: int, side: Side = "left") -> list[int]:
        return [*truncate_ids(self.encode(text), max_tokens - 1, side), self.eos_id]

    def collate(
        self, sources: Sequence[str], targets: Sequence[str], lengths: Lengths
    ) -> dict[str, torch.Tensor]:
        src = [
            self.source_ids(s, lengths.max_source_tokens, lengths.truncate_source) for s in sources
        ]
        tgt = [[*self.encode(t)[: lengths.max_target_tokens - 1], self.eos_id] for t in targets]
        ids, mask = pad_right(src, self.pad_id)
        lab, _ = pad_right(tgt, IGNORE_INDEX)
        return {"input_ids": ids, "attention_mask": mask, "labels": lab}

    def _generate_batch(
        self,
        sources: list[str],
        *,
        max_new_tokens: int,
        max_source_tokens: int,
        stop: Sequence[str] = (),
        truncate: Side = "left",
    ) -> list[str]:
        enc = [self.source_ids(s, max_source_tokens, truncate) for s in sources]
        ids, mask = pad_right(enc, self.pad_id)
        device = next(self.model.parameters()).device
        gen = cast(Any, self.model).generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            stopping_criteria=self._stopping(stop, 1),
        )
        return self.tokenizer.batch_decode(gen, skip_special_tokens=True)


# Model families: one adapter subclass each. A new family is one subclass (with
# ``matches``) and one registration line; the last registered family that matches a model
# handles it.
MODEL_FAMILIES: Registry[type[FamilyAdapter]] = Registry(
    "model family", entry_points="instructkit.model_families"
)
MODEL_FAMILIES.register("decoder-only", DecoderOnlyAdapter)
MODEL_FAMILIES.register("encoder-decoder", EncoderDecoderAdapter)


def family_of(model: Any) -> str:
    """The registered family that handles ``model`` (the latest registration wins)."""
    for name, cls in reversed(list(MODEL_FAMILIES.items())):
        if cls.matches(model):
            return name
    return "decoder-only"


def adapter_for(loaded: LoadedModel) -> FamilyAdapter:
    """The adapter of a loaded model's family."""
    return MODEL_FAMILIES.get(family_of(loaded.model))(loaded.model, loaded.tokenizer)


def weights_fingerprint(model: Any) -> str:
    """A digest of a model's weights: every parameter's name, shape, dtype and 1,024 evenly
    spaced values (fine-tuning, LoRA and soft prompts change them). Cheap enough to take
    before every evaluation, so that no cached output outlives the weights it came from."""
    import hashlib

    h = hashlib.sha256()
    with torch.no_grad():
        for name, p in model.named_parameters():
            flat = p.detach().reshape(-1)
            step = max(1, flat.numel() // 1024)
            sample = flat[::step][:1024].float().cpu().contiguous()
            h.update(f"{name}|{tuple(p.shape)}|{p.dtype}|".encode())
            h.update(sample.numpy().tobytes())
    return h.hexdigest()[:16]
