"""ROUGE-L F-measure with numbers identical to ``rouge_score``, computed faster.

Why our own: scoring a SuperNI test set calls the Porter stemmer on every token of every
prediction and reference and runs a quadratic pure-Python LCS table per pair. Here
(measured in ``benchmarks/bench_scorer.py``):

- tokens come from ``rouge_score``'s own regular expressions and nltk's
  ``PorterStemmer`` (the stemmer ``rouge_score`` uses), so they are the same tokens; each
  distinct word is stemmed once and each distinct text tokenised once;
- the LCS length is computed with the bit-parallel algorithm of Allison & Dix / Hyyrö
  (one big-integer update per token), which gives the exact same integer;
- precision, recall and F-measure use ``rouge_score``'s formulas in the same order.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rouge_score.tokenize import VALID_TOKEN_RE

# The complement of rouge_score's NON_ALPHANUM_RE ([^a-z0-9]+): its words.
ALNUM_RE = re.compile(r"[a-z0-9]+")


def _porter_module() -> Any:
    """nltk's ``nltk.stem.porter`` module (the stemmer ``rouge_score`` uses).

    Importing it the usual way runs ``nltk/__init__``, which imports most of nltk (about
    0.16 s here, a fifth of a whole ``instructkit score`` process). When nltk is not
    imported yet, its ``porter`` module and the three small modules it needs are loaded
    under stand-in parent packages, which are removed again afterwards: a later
    ``import nltk`` runs nltk's own ``__init__`` and finds this same ``porter`` module.
    """
    if "nltk" in sys.modules or "nltk.stem.porter" in sys.modules:
        return importlib.import_module("nltk.stem.porter")
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        return importlib.import_module("nltk.stem.porter")
    root = Path(next(iter(spec.submodule_search_locations)))
    stand_ins = {"nltk": root, "nltk.stem": root / "stem"}
    for name, path in stand_ins.items():
        pkg = types.ModuleType(name)
        pkg.__path__ = [str(path)]
        sys.modules[name] = pkg
    try:
        module = importlib.import_module("nltk.stem.porter")
    finally:
        for name in stand_ins:
            sys.modules.pop(name, None)
    return module


porter = _porter_module()


def lcs_length(a: list[int], b: list[int]) -> int:
    """Length of the longest common subsequence of two sequences (bit-parallel)."""
    if not a or not b:
        return 0
    masks: dict[int, int] = {}
    for i, x in enumerate(a):
        masks[x] = masks.get(x, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for y in b:
        u = v & masks.get(y, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def fmeasure_from_lcs(lcs: int, n_pred: int, n_ref: int) -> float:
    """rouge_score's F-measure from an LCS length and the two token counts."""
    if n_pred == 0 or n_ref == 0:
        return 0.0
    precision = lcs / n_pred
    recall = lcs / n_ref
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


class FastRougeL:
    """ROUGE-L F-measure with caches; English (Porter stemmer) or a custom tokenizer."""

    def __init__(self, tokenize: Callable[[str], list[str]] | None = None) -> None:
        self._custom = tokenize
        self._stemmer = porter.PorterStemmer()
        self._stems: dict[str, str] = {}
        self._texts: dict[str, list[int]] = {}
        self._vocab: dict[str, int] = {}
        self._word_ids: dict[str, int] = {}  # word → id of its stem (-1: no token)

    def load_stems(self, path: Path) -> None:
        """Stems computed by an earlier process (same nltk version: see
        :func:`stem_cache_path`); a missing or unreadable file is ignored."""
        import json

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        stems = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
        # A spot check of 64 entries against the stemmer: a damaged file is not used.
        words = list(stems)
        for w in words[:: max(1, len(words) // 64)]:
            if stems[w] != (self._stemmer.stem(w) if len(w) > 3 else w):
                return
        self._stems.update(stems)
        self._saved = len(self._stems)

    def save_stems(self, path: Path) -> None:
        """Write the stems for later processes when new words were stemmed (temporary file,
        then rename); a cache folder that cannot be written is no error."""
        import json
        import os

        if len(self._stems) <= getattr(self, "_saved", 0):
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._stems, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
            self._saved = len(self._stems)
        except OSError:
            pass

    def _stem(self, word: str) -> str:
        s = self._stems.get(word)
        if s is None:
            s = self._stemmer.stem(word) if len(word) > 3 else word
            self._stems[word] = s
        return s

    def tokens(self, text: str) -> list[str]:
        """The tokens ``rouge_score`` would produce for ``text`` (the words as :meth:`ids`
        finds them)."""
        if self._custom is not None:
            return self._custom(text)
        words = ALNUM_RE.findall(text.lower())
        return [t for t in (self._stem(w) for w in words) if VALID_TOKEN_RE.match(t)]

    def ids(self, text: str) -> list[int]:
        """Token ids of a text (cached). The words are the runs of ``[a-z0-9]`` of the
        lower-cased text, as rouge_score's substitution then split yields them (without
        its empty strings), and each word's stem id is looked up once."""
        got = self._texts.get(text)
        if got is None:
            if self._custom is not None:
                vocab = self._vocab
                got = [vocab.setdefault(t, len(vocab)) for t in self._custom(text)]
            else:
                word_ids = self._word_ids
                got = []
                for w in ALNUM_RE.findall(text.lower()):
                    i = word_ids.get(w)
                    if i is None:
                        t = self._stem(w)
                        i = (
                            self._vocab.setdefault(t, len(self._vocab))
                            if VALID_TOKEN_RE.match(t)
                            else -1
                        )
                        word_ids[w] = i
                    if i >= 0:
                        got.append(i)
            self._texts[text] = got
        return got

    def score(self, prediction: str, reference: str) -> float:
        """ROUGE-L F-measure of a prediction against one reference (0..1)."""
        p, r = self.ids(prediction), self.ids(reference)
        return fmeasure_from_lcs(lcs_length(r, p), len(p), len(r))


def stem_cache_path() -> Path:
    """Where stems persist between processes: ``$INSTRUCTKIT_CACHE`` (or
    ~/.cache/instructkit) / ``stems-nltk<version>.json``; keyed by nltk's version, since a
    stem is a function of the word and the stemmer only."""
    import os
    from importlib.metadata import version

    root = Path(os.environ.get("INSTRUCTKIT_CACHE", Path.home() / ".cache" / "instructkit"))
    return root / f"stems-nltk{version('nltk')}-porter.json"
