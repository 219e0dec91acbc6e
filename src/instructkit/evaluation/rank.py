"""Rank classification: score every answer option by its log-likelihood and pick the best.

Items are scored in batches, longest first, and the prompt of an item is encoded once
(:func:`score_packed`):

- decoder-only: an item is one row, its prompt followed by all its options, with a 4D
  attention mask that shows each option only the prompt and its own earlier tokens, and
  position ids that restart every option where the prompt ends; only the positions that
  predict option tokens go through the language-model head;
- encoder-decoder: the encoder runs once on the batch's prompts; the decoder scores every
  option (each followed by end-of-sequence) of every item in one batch.

Each option gets the sum of its token log-probabilities. Accuracy is named as
lm-evaluation-harness names it: ``accuracy`` picks the option of highest summed
log-likelihood (lm-eval's ``acc``), ``accuracy_norm`` the highest per character of the
option (lm-eval's ``acc_norm``); ``accuracy_per_token`` divides by the option's tokens.

Conventions, per family:

- decoder-only: the option is scored as the continuation of the prompt after one space
  (``"...Output:" + " yes"``; the prompt's trailing whitespace is removed first), as
  lm-eval's default ``target_delimiter``; the tokens are those of the option text after
  the space, and no end-of-sequence is scored (lm-eval scores none either);
- encoder-decoder: the prompt (with end-of-sequence, as T5 tokenises it) feeds the
  encoder and the option is the decoder's target followed by end-of-sequence, as T0
  scored its answer choices (its targets end with EOS).

:func:`score_options_naive` scores each option with its own full forward pass, as a
reference for tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import torch

from instructkit.models.adapters import FamilyAdapter, is_prompt_learning, pad_right
from instructkit.models.lengths import Side
from instructkit.prompts.example import PromptedExample

Normalization = Literal["chars", "tokens"] | None


@dataclass(frozen=True)
class OptionScores:
    """Log-likelihoods of one instance's options and the options they pick."""

    id: str
    task: str
    template: str
    options: list[str]
    logprob: list[float]  # summed over the option's tokens
    n_tokens: list[int]
    targets: list[str]
    key: str = ""  # PromptedExample.key of the prompt it scores

    @property
    def slot(self) -> tuple[str, str, str]:
        """What it scores: (instance id, template, prompt key)."""
        return (self.id, self.template, self.key)

    @property
    def logprob_mean(self) -> list[float]:
        """Log-likelihood per option token."""
        return [s / max(n, 1) for s, n in zip(self.logprob, self.n_tokens, strict=True)]

    @property
    def logprob_per_char(self) -> list[float]:
        """Log-likelihood per character of the option: lm-eval's ``acc_norm``."""
        return [s / max(len(o), 1) for s, o in zip(self.logprob, self.options, strict=True)]

    def prediction(self, *, normalize: Normalization = None) -> str:
        """The option with the highest log-likelihood: summed (``None``, lm-eval's
        ``acc``), per character (``"chars"``, lm-eval's ``acc_norm``) or per token
        (``"tokens"``)."""
        scores = {
            None: self.logprob,
            "chars": self.logprob_per_char,
            "tokens": self.logprob_mean,
        }[normalize]
        return self.options[max(range(len(scores)), key=scores.__getitem__)]

    def correct(self, *, normalize: Normalization = None) -> bool:
        return self.prediction(normalize=normalize) in self.targets


def _split(
    adapter: FamilyAdapter,
    source: str,
    options: Sequence[str],
    max_source_tokens: int = 512,
    truncate: Side = "left",
) -> tuple[list[int], list[list[int]]]:
    # The prompt's ids are those of generation and training (FamilyAdapter.source_ids).
    # Decoder-only: the option follows the prompt after one space ("Output:" + " yes").
    ctx = adapter.source_ids(source.rstrip(), max_source_tokens, truncate)
    if adapter.family == "encoder-decoder":
        return ctx, [[*adapter.encode(o), adapter.eos_id] for o in options]
    return ctx, [adapter.encode(" " + o) for o in options]


def _gather(logprobs: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> list[float]:
    picked = logprobs.gather(-1, ids.unsqueeze(-1)).squeeze(-1) * mask
    return [float(x) for x in picked.sum(-1)]


def score_options(
    adapter: FamilyAdapter,
    source: str,
    options: Sequence[str],
    *,
    max_source_tokens: int = 512,
    truncate: Side = "left",
) -> tuple[list[float], list[int]]:
    """Summed log-likelihood and token count of each option after ``source`` (one item
    through :func:`score_batched`)."""
    ctx, conts = _split(adapter, source, options, max_source_tokens, truncate)
    [(_, [scores])] = list(score_batched(adapter, [RankItem(ctx, conts)]))
    return scores, [len(c) for c in conts]


@torch.no_grad()
def score_options_naive(
    adapter: FamilyAdapter,
    source: str,
    options: Sequence[str],
    *,
    max_source_tokens: int = 512,
    truncate: Side = "left",
) -> tuple[list[float], list[int]]:
    """The same scores, with one full forward pass per option (reference)."""
    ctx, conts = _split(adapter, source, options, max_source_tokens, truncate)
    return _score_one(adapter, RankItem(ctx, conts)), [len(c) for c in conts]


@dataclass(frozen=True)
class RankItem:
    """One item to score: its prompt ids and the ids of each option (as :func:`_split`
    gives them)."""

    ctx: list[int]
    options: list[list[int]]

    @property
    def length(self) -> int:
        """Tokens of the packed row: the prompt once, then every option."""
        return len(self.ctx) + sum(len(o) for o in self.options)


def rank_items(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    *,
    max_source_tokens: int = 512,
    truncate: Side = "left",
) -> list[RankItem]:
    """The token ids of every example's prompt and options."""
    out = []
    for e in examples:
        ctx, conts = _split(adapter, e.source, e.options, max_source_tokens, truncate)
        out.append(RankItem(ctx, conts))
    return out


def _final_logits(model: Any, hidden: torch.Tensor) -> torch.Tensor:
    """The language-model head on selected hidden states (with the final soft cap of the
    models that have one, e.g. Gemma 2)."""
    logits = model.get_output_embeddings()(hidden).float()
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def _packable(model: Any, item: RankItem) -> bool:
    window = getattr(model.config, "sliding_window", None)
    return not window or item.length <= window


@torch.no_grad()
def score_packed(adapter: FamilyAdapter, items: Sequence[RankItem]) -> list[list[float]]:
    """Summed log-likelihood of every option of every item, the items of one batch in
    one forward pass.

    Decoder-only: each item is one row, its prompt followed by all its options; a 4D
    attention mask lets an option's tokens see the prompt and the option's own earlier
    tokens only, and position ids restart every option where the prompt ends. So the
    prompt is encoded once, every option is scored as the continuation of the prompt (as
    one pass per option would score it), and only the hidden states that predict option
    tokens go through the language-model head. Encoder-decoder: the encoder runs once on
    the batch's prompts; the decoder scores every option of every item in one batch.
    """
    model = cast(Any, adapter.model)
    device = next(adapter.model.parameters()).device
    if adapter.family == "encoder-decoder":
        return _score_packed_seq2seq(adapter, model, items, device)
    # The prompt prefix every item of the batch shares (a task's definition and
    # demonstrations) is encoded once; its key/value cache serves every row.
    shared = _shared_prefix([it.ctx for it in items])
    width = max(it.length for it in items) - shared
    b = len(items)
    ids = torch.full((b, width), adapter.pad_id, dtype=torch.long)
    pos = torch.zeros((b, width), dtype=torch.long)
    allowed = torch.zeros((b, width, shared + width), dtype=torch.bool)
    allowed[:, :, :shared] = True  # every row sees the whole shared prefix
    pred_rows: list[int] = []
    pred_cols: list[int] = []
    targets: list[int] = []
    spans: list[list[tuple[int, int]]] = []  # per item, per option: its range in targets
    for i, it in enumerate(items):
        ctx = it.ctx[shared:]
        p = len(ctx)  # at least 1: the prompt's last token is never shared
        full = len(it.ctx)
        ids[i, :p] = torch.tensor(ctx, dtype=torch.long)
        pos[i, :p] = torch.arange(shared, full)
        allowed[i, :p, shared : shared + p] = torch.tril(torch.ones((p, p), dtype=torch.bool))
        start = p
        item_spans = []
        for opt in it.options:
            n = len(opt)
            end = start + n
            ids[i, start:end] = torch.tensor(opt, dtype=torch.long)
            pos[i, start:end] = torch.arange(full, full + n)
            allowed[i, start:end, shared : shared + p] = True
            allowed[i, start:end, shared + start : shared + end] = torch.tril(
                torch.ones((n, n), dtype=torch.bool)
            )
            # Token 0 of an option is predicted by the prompt's last position; token j
            # by the option's token j - 1.
            first = len(targets)
            pred_rows += [i] * n
            pred_cols += [p - 1, *range(start, end - 1)]
            targets += opt
            item_spans.append((first, len(targets)))
            start = end
        # Padding rows see themselves only (no empty softmax).
        idx = torch.arange(start, width)
        allowed[i, idx, shared + idx] = True
        spans.append(item_spans)
    dtype = next(adapter.model.parameters()).dtype
    if not dtype.is_floating_point:
        dtype = torch.float32
    mask = torch.zeros((b, 1, width, shared + width), dtype=dtype)
    mask.masked_fill_(~allowed.unsqueeze(1), torch.finfo(dtype).min)
    base = model.get_decoder()
    cache = None
    if shared:
        cache = base(
            input_ids=torch.tensor([items[0].ctx[:shared]], device=device), use_cache=True
        ).past_key_values
        cache.batch_repeat_interleave(b)
    hidden = base(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        position_ids=pos.to(device),
        past_key_values=cache,
        use_cache=cache is not None,
    ).last_hidden_state
    sel = hidden[torch.tensor(pred_rows, device=device), torch.tensor(pred_cols, device=device)]
    logprobs = torch.log_softmax(_final_logits(model, sel), dim=-1)
    picked = logprobs[
        torch.arange(len(targets), device=device), torch.tensor(targets, device=device)
    ]
    sums = picked.double().cpu()
    return [[float(sums[a:z].sum()) for a, z in item_spans] for item_spans in spans]


def _batches(items: Sequence[RankItem], todo: list[int], batch_size: int) -> list[list[int]]:
    """Batches of item indices. Items that begin alike (a task's prompts under one
    template) are batched among themselves, so that a batch shares a prefix; the others
    together. Longest first within each, as lm-evaluation-harness orders its requests, so
    that padding stays small."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i in todo:
        groups.setdefault(tuple(items[i].ctx[:MIN_SHARED_PREFIX]), []).append(i)
    alike = [g for g in groups.values() if len(g) > 1]
    rest = [g[0] for g in groups.values() if len(g) == 1]
    out: list[list[int]] = []
    for group in [*alike, rest]:
        group = sorted(group, key=lambda i: (-items[i].length, i))
        out += [group[k : k + batch_size] for k in range(0, len(group), batch_size)]
    return out


# A shared prefix shorter than this is not worth a separate pass.
MIN_SHARED_PREFIX = 32


def _shared_prefix(contexts: Sequence[Sequence[int]]) -> int:
    """Tokens every context begins with, short of each one's last token (whose hidden
    state predicts the first option token); 0 when fewer than ``MIN_SHARED_PREFIX`` or a
    single context."""
    if len(contexts) < 2:
        return 0
    limit = min(len(c) for c in contexts) - 1
    first = contexts[0]
    k = 0
    while k < limit and all(c[k] == first[k] for c in contexts):
        k += 1
    return k if k >= MIN_SHARED_PREFIX else 0


def _score_packed_seq2seq(
    adapter: FamilyAdapter, model: Any, items: Sequence[RankItem], device: torch.device
) -> list[list[float]]:
    enc_ids, enc_mask = pad_right([it.ctx for it in items], adapter.pad_id)
    enc_ids, enc_mask = enc_ids.to(device), enc_mask.to(device)
    hidden = model.get_encoder()(input_ids=enc_ids, attention_mask=enc_mask).last_hidden_state
    owner = [i for i, it in enumerate(items) for _ in it.options]
    conts = [o for it in items for o in it.options]
    opt_ids, opt_mask = pad_right(conts, adapter.pad_id)
    opt_ids, opt_mask = opt_ids.to(device), opt_mask.to(device)
    index = torch.tensor(owner, device=device)
    out = model(
        encoder_outputs=(hidden.index_select(0, index),),
        attention_mask=enc_mask.index_select(0, index),
        labels=opt_ids.masked_fill(opt_mask == 0, -100),
    )
    logprobs = torch.log_softmax(out.logits.float(), dim=-1)
    flat = _gather(logprobs, opt_ids, opt_mask)
    result: list[list[float]] = []
    k = 0
    for it in items:
        result.append(flat[k : k + len(it.options)])
        k += len(it.options)
    return result


def score_batched(
    adapter: FamilyAdapter,
    items: Sequence[RankItem],
    *,
    batch_size: int = 16,
) -> Iterator[tuple[list[int], list[list[float]]]]:
    """Scores of all items, ``batch_size`` items per forward pass: yields (item indices,
    their scores) per batch. Items the packed pass cannot take (a soft prompt; a packed
    row longer than a sliding attention window) are scored one by one."""
    model = cast(Any, adapter.model)
    alone = [
        i for i in range(len(items)) if is_prompt_learning(model) or not _packable(model, items[i])
    ]
    skip = set(alone)
    for chunk in _batches(items, [i for i in range(len(items)) if i not in skip], batch_size):
        yield chunk, score_packed(adapter, [items[i] for i in chunk])
    for i in alone:
        yield [i], [_score_one(adapter, items[i])]


@torch.no_grad()
def _score_one(adapter: FamilyAdapter, item: RankItem) -> list[float]:
    """One item, one full forward pass per option (what a soft prompt needs)."""
    model = cast(Any, adapter.model)
    device = next(adapter.model.parameters()).device
    ctx = item.ctx
    scores = []
    for c in item.options:
        if adapter.family == "encoder-decoder":
            out = model(
                input_ids=torch.tensor([ctx], device=device),
                labels=torch.tensor([c], device=device),
            )
            lp = torch.log_softmax(out.logits[0].float(), dim=-1)
            scores.append(float(lp[torch.arange(len(c)), torch.tensor(c)].sum()))
        else:
            ids = torch.tensor([ctx + c], device=device)
            lp = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
            pos = torch.arange(len(ctx) - 1, len(ctx) + len(c) - 1)
            scores.append(float(lp[pos, torch.tensor(c)].sum()))
    return scores


def rank_classify(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    *,
    naive: bool = False,
    batch_size: int = 16,
) -> list[OptionScores]:
    """Score the options of every example (examples without options are skipped)."""
    adapter.model.eval()
    examples = [e for e in examples if e.options]
    items = rank_items(adapter, examples)
    scores: dict[int, list[float]] = {}
    if naive:
        scores = {i: _score_one(adapter, it) for i, it in enumerate(items)}
    else:
        for batch, result in score_batched(adapter, items, batch_size=batch_size):
            scores.update(zip(batch, result, strict=True))
    return [
        OptionScores(
            ex.instance_id,
            ex.task,
            ex.template,
            list(ex.options),
            scores[i],
            [len(o) for o in items[i].options],
            list(ex.targets),
            ex.key,
        )
        for i, ex in enumerate(examples)
    ]


def accuracy(results: Sequence[OptionScores], *, normalize: Normalization = None) -> float:
    """Share of instances whose best option is a reference (× 100)."""
    if not results:
        return 0.0
    return 100.0 * sum(r.correct(normalize=normalize) for r in results) / len(results)


def chance_accuracy(examples: Sequence[PromptedExample]) -> dict[str, Any]:
    """The expected accuracy of picking an option uniformly at random (× 100), overall and
    per task, over the examples that have options: the baseline of rank classification."""
    by_task: dict[str, list[float]] = {}
    for ex in examples:
        if ex.options:
            hit = len(set(ex.targets) & set(ex.options)) / len(set(ex.options))
            by_task.setdefault(ex.task, []).append(100.0 * hit)
    every = [v for vs in by_task.values() for v in vs]

    def block(vs: list[float]) -> dict[str, Any]:
        return {"accuracy": sum(vs) / len(vs) if vs else 0.0, "n": len(vs)}

    return {"overall": block(every), "per_task": {t: block(v) for t, v in sorted(by_task.items())}}
