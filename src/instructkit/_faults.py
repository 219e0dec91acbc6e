"""Named points at which a crash-consistency test can kill the process.

With ``INSTRUCTKIT_KILL_AT=<point>[:<n>]`` in the environment, the process sends itself
SIGKILL the n-th time (default: the first) it reaches ``point``. Without it (as users run),
:func:`reached` returns at once. The tests in ``tests/test_kill_points.py`` kill ``run``
and ``sweep`` at every point, rerun them, and compare with uninterrupted runs.
"""

from __future__ import annotations

import os
import signal

_TARGET = os.environ.get("INSTRUCTKIT_KILL_AT", "")
_counts: dict[str, int] = {}

POINTS = (
    "split-written",
    "checkpoint-state-saved",
    "checkpoint-complete",
    "model-saved",
    "model-renamed",
    "predictions-written",
    "option-scores-written",
    "metrics-written",
    "cell-rows-inserted",
    "cell-recorded",
)


def reached(point: str) -> None:
    """Die here if the environment asks for it (see the module docstring)."""
    if not _TARGET:
        return
    name, _, nth = _TARGET.partition(":")
    if name != point:
        return
    _counts[point] = _counts.get(point, 0) + 1
    if _counts[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
