"""Rank classification: score every answer option by its log-likelihood and pick the best.

The prompt of an instance is encoded once and its options are scored together:

- decoder-only: one forward pass over the prompt fills the key/value cache, which is
  repeated once per option; one batched pass over the options (right-padded) then gives
  every option token's log-probability;
- encoder-decoder: the encoder runs once on the prompt; its output is repeated once per
  option and the decoder scores all options (each followed by end-of-sequence) in one
  batch.

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

from collections.abc import Sequence
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


@torch.no_grad()
def score_options(
    adapter: FamilyAdapter,
    source: str,
    options: Sequence[str],
    *,
    max_source_tokens: int = 512,
    truncate: Side = "left",
) -> tuple[list[float], list[int]]:
    """Summed log-likelihood and token count of each option after ``source``."""
    if is_prompt_learning(adapter.model):
        # A soft prompt is prepended inside forward; the cache cannot be shared.
        return score_options_naive(
            adapter, source, options, max_source_tokens=max_source_tokens, truncate=truncate
        )
    model = cast(Any, adapter.model)
    device = next(adapter.model.parameters()).device
    ctx, conts = _split(adapter, source, options, max_source_tokens, truncate)
    n = len(conts)
    opt_ids, opt_mask = pad_right(conts, adapter.pad_id)
    opt_ids, opt_mask = opt_ids.to(device), opt_mask.to(device)
    if adapter.family == "encoder-decoder":
        enc_ids = torch.tensor([ctx], device=device)
        enc = model.get_encoder()(input_ids=enc_ids)
        hidden = enc.last_hidden_state.expand(n, -1, -1)
        labels = opt_ids.masked_fill(opt_mask == 0, -100)
        out = model(
            encoder_outputs=(hidden,),
            attention_mask=torch.ones((n, len(ctx)), device=device, dtype=torch.long),
            labels=labels,
        )
        logprobs = torch.log_softmax(out.logits.float(), dim=-1)
        return _gather(logprobs, opt_ids, opt_mask), [len(c) for c in conts]
    first = model(input_ids=torch.tensor([ctx], device=device), use_cache=True)
    cache = first.past_key_values
    cache.batch_repeat_interleave(n)
    last = torch.log_softmax(first.logits[0, -1].float(), dim=-1)
    attn = torch.cat([torch.ones((n, len(ctx)), dtype=torch.long, device=device), opt_mask], dim=1)
    out = model(input_ids=opt_ids, attention_mask=attn, past_key_values=cache, use_cache=True)
    logprobs = torch.log_softmax(out.logits.float(), dim=-1)
    # Token j of an option is predicted at position j - 1; token 0 by the prompt's last.
    scores = []
    for i, c in enumerate(conts):
        s = float(last[c[0]])
        if len(c) > 1:
            s += float(
                logprobs[i, torch.arange(len(c) - 1), torch.tensor(c[1:], device=device)].sum()
            )
        scores.append(s)
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
    model = cast(Any, adapter.model)
    device = next(adapter.model.parameters()).device
    ctx, conts = _split(adapter, source, options, max_source_tokens, truncate)
    scores = []
    for c in conts:
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
    return scores, [len(c) for c in conts]


def rank_classify(
    adapter: FamilyAdapter, examples: Sequence[PromptedExample], *, naive: bool = False
) -> list[OptionScores]:
    """Score the options of every example (examples without options are skipped)."""
    adapter.model.eval()
    fn = score_options_naive if naive else score_options
    out = []
    for ex in examples:
        if not ex.options:
            continue
        scores, lengths = fn(adapter, ex.source, ex.options)
        out.append(
            OptionScores(
                ex.instance_id,
                ex.task,
                ex.template,
                list(ex.options),
                scores,
                lengths,
                list(ex.targets),
                ex.key,
            )
        )
    return out


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
