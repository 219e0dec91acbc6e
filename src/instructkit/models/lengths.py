"""Token budgets and the one truncation rule (no torch here: tokenised mixtures use it too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Side = Literal["left", "right"]


def truncate_ids(ids: list[int], max_tokens: int, side: Side = "left") -> list[int]:
    """At most ``max_tokens`` ids: ``left`` cuts the start (keeps the query at the end of a
    prompt), ``right`` cuts the end (keeps the instruction, as T5 tokenizers truncate)."""
    if len(ids) <= max_tokens:
        return list(ids)
    if max_tokens <= 0:
        return []
    return list(ids[-max_tokens:]) if side == "left" else list(ids[:max_tokens])


@dataclass
class Lengths:
    """Token budgets of a batch, and which end of a too-long source is cut."""

    max_source_tokens: int = 512
    max_target_tokens: int = 64
    truncate_source: Side = "left"

    def cut(self, ids: list[int]) -> list[int]:
        """A source's ids within budget (see :func:`truncate_ids`)."""
        return truncate_ids(ids, self.max_source_tokens, self.truncate_source)
