"""ROUGE-L F-measure with numbers identical to ``rouge_score``, computed faster.

Why our own: scoring a SuperNI test set calls the Porter stemmer on every token of every
prediction and reference and runs a quadratic pure-Python LCS table per pair. Here
(measured in ``benchmarks/bench_scorer.py``):

- the words are those of ``rouge_score``'s regular expressions (found in C, see
  :func:`words`), and the tokens are their stems by nltk's ``PorterStemmer`` (the
  stemmer ``rouge_score`` uses, with its valid-token rule), so they are the same tokens;
  each distinct word is stemmed once (many new words over two processes) and each
  distinct text tokenised once;
- the LCS length is computed with the bit-parallel algorithm of Allison & Dix / Hyyrö
  (one big-integer update per token the two texts share), which gives the exact same
  integer;
- precision, recall and F-measure use ``rouge_score``'s formulas in the same order.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from rouge_score.tokenize import VALID_TOKEN_RE

# rouge_score's words are the runs of [a-z0-9] of the lower-cased text (its
# NON_ALPHANUM_RE, [^a-z0-9]+, becomes a space, then the text is split). The same runs,
# found in C: every byte of the UTF-8 text but [a-z0-9] becomes a space (the bytes of a
# non-ASCII character are all >= 0x80), then bytes.split(). About 2x re.findall here.
_SEPARATORS = bytes(c if 0x30 <= c <= 0x39 or 0x61 <= c <= 0x7A else 0x20 for c in range(256))


def words(text: str) -> list[str]:
    """rouge_score's words of a text: the runs of ``[a-z0-9]`` of its lower case."""
    return (
        text.lower().encode("utf-8", "surrogatepass").translate(_SEPARATORS).decode("ascii").split()
    )


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

# Fewer new words than this are stemmed in this process alone.
PARALLEL_STEMS = 4000


def _stem_each(stemmer: Any, words: Sequence[str]) -> list[str]:
    # rouge_score stems the words longer than 3 characters only.
    return [stemmer.stem(w) if len(w) > 3 else w for w in words]


def _stem_words(stemmer: Any, words: Sequence[str]) -> list[str]:
    """The stems of ``words``, in order. Many words on a Linux machine with several
    cores, in a process without other threads (``instructkit score``): a forked child
    stems the second half while this process stems the first (about 1.8x on 12,000
    words with 2 cores); should the child fail, this process stems its half too."""
    import threading

    if (
        len(words) < PARALLEL_STEMS
        or sys.platform != "linux"
        or (os.cpu_count() or 1) < 2
        or threading.active_count() > 1  # forking a threaded process is not safe
    ):
        return _stem_each(stemmer, words)
    half = len(words) // 2
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write its stems, one per line, and leave at once
        code = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as f:
                f.write("\n".join(_stem_each(stemmer, words[half:])).encode("ascii"))
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    try:
        first = _stem_each(stemmer, words[:half])
    finally:
        with os.fdopen(read, "rb") as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
    second = data.decode("ascii").split("\n")
    if status != 0 or len(second) != len(words) - half:
        second = _stem_each(stemmer, words[half:])
    return first + second


def lcs_length(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence of two sequences (bit-parallel)."""
    return lcs_from_masks(match_masks(a), len(a), b)


def match_masks(a: Sequence[Hashable]) -> dict[Hashable, int]:
    """Per token of ``a``, the bit set of the positions where it occurs."""
    masks: dict[Hashable, int] = {}
    for i, x in enumerate(a):
        masks[x] = masks.get(x, 0) | (1 << i)
    return masks


def lcs_from_masks(masks: dict[Hashable, int], n: int, b: Sequence[Hashable]) -> int:
    """LCS length of a sequence of ``n`` tokens (given by :func:`match_masks`) and ``b``."""
    if not n or not b:
        return 0
    full = (1 << n) - 1
    v = full
    # A token of b that a lacks leaves v as it is (u = 0): only the others are visited.
    for m in map(masks.__getitem__, filter(masks.__contains__, b)):
        u = v & m
        v = ((v + u) | (v - u)) & full
    return n - v.bit_count()


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
    """ROUGE-L F-measure with caches; English (Porter stemmer) or a custom tokenizer.

    English tokens are the stems themselves (strings, whose hashes Python caches): a text's
    tokens are one dictionary lookup per word, word → stem."""

    def __init__(self, tokenize: Callable[[str], list[str]] | None = None) -> None:
        self._custom = tokenize
        self._stemmer = porter.PorterStemmer()
        self._stems: dict[str, str] = {}  # word → stem
        self._invalid: set[str] = set()  # stems that are no token (rouge_score drops them)
        self._texts: dict[str, list[str]] = {}
        self._masks: dict[str, dict[Hashable, int]] = {}  # per text: match_masks

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
        sample = list(stems)[:: max(1, len(stems) // 64)]
        if _stem_each(self._stemmer, sample) != [stems[w] for w in sample]:
            return
        values = stems.values()
        joined = "".join(values)
        if not (all(values) and joined.isascii() and joined.isalnum() and joined.islower()):
            # Some stem is not a run of [a-z0-9] (all of them are, checked in C, as a rule).
            self._invalid.update(v for v in values if not VALID_TOKEN_RE.match(v))
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

    def prepare(self, texts: Iterable[str]) -> None:
        """Tokenise many texts at once: the words not stemmed yet are stemmed together,
        over two processes when there are many of them (stemming is most of the cost
        of scoring with no stems cached). The stems are those of the stemmer either way."""
        if self._custom is not None:
            return
        stems, done = self._stems, self._texts
        pending: dict[str, list[str]] = {}  # texts with words not stemmed yet
        new: set[str] = set()
        for t in texts:
            if t in done or t in pending:
                continue
            ws = words(t)
            found = list(map(stems.get, ws))  # one lookup per word, in C
            if None in found:
                pending[t] = ws
                new.update(set(ws).difference(stems))
            else:
                done[t] = self._valid(cast(list[str], found))
        order = list(new)
        for w, s in zip(order, _stem_words(self._stemmer, order), strict=True):
            stems[w] = s
            if not VALID_TOKEN_RE.match(s):
                self._invalid.add(s)
        for t, ws in pending.items():
            done[t] = self._valid(list(map(stems.__getitem__, ws)))

    def _valid(self, stems: list[str]) -> list[str]:
        # rouge_score drops a stem that is not a run of [a-z0-9].
        return [x for x in stems if x not in self._invalid] if self._invalid else stems

    def tokens(self, text: str) -> list[str]:
        """The tokens ``rouge_score`` would produce for ``text`` (cached). English: the
        words are the runs of ``[a-z0-9]`` of the lower-cased text, as rouge_score's
        substitution then split yields them (without its empty strings); each is replaced
        by its Porter stem, and a stem that is not a valid token is dropped."""
        got = self._texts.get(text)
        if got is None:
            if self._custom is not None:
                got = self._texts[text] = self._custom(text)
            else:
                self.prepare((text,))
                got = self._texts[text]
        return got

    def score(self, prediction: str, reference: str) -> float:
        """ROUGE-L F-measure of a prediction against one reference (0..1)."""
        p, r = self.tokens(prediction), self.tokens(reference)
        # LCS is symmetric: the masks are those of the shorter text (a Python loop per
        # token), kept per text (a prediction meets each of its references, a copied
        # demonstration a whole task, a label thousands of predictions); the longer is
        # only filtered, in C.
        short, short_tokens, other = (prediction, p, r) if len(p) <= len(r) else (reference, r, p)
        masks = self._masks.get(short)
        if masks is None:
            masks = self._masks[short] = match_masks(short_tokens)
        lcs = lcs_from_masks(masks, len(short_tokens), other)
        return fmeasure_from_lcs(lcs, len(p), len(r))


def stem_cache_path() -> Path:
    """Where stems persist between processes: ``$INSTRUCTKIT_CACHE`` (or
    ~/.cache/instructkit) / ``stems-nltk<version>.json``; keyed by nltk's version, since a
    stem is a function of the word and the stemmer only."""
    root = Path(os.environ.get("INSTRUCTKIT_CACHE", Path.home() / ".cache" / "instructkit"))
    return root / f"stems-nltk{_nltk_version()}-porter.json"


def _nltk_version() -> str:
    # nltk's own VERSION file (what nltk.__version__ reads), beside the stemmer's package;
    # importlib.metadata costs a tenth of a scoring process to import.
    try:
        return (Path(porter.__file__).parents[1] / "VERSION").read_text().strip()
    except OSError:
        from importlib.metadata import version

        return version("nltk")
