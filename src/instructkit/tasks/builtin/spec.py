"""How a built-in task is described: a generator of samples, a checker, a negative maker.

Each built-in task is a :class:`TaskSpec`: ``make`` draws one sample (input text, every
correct output, an explanation) from a seeded ``random.Random``; ``check`` decides from
the *input text alone* whether an output is correct, independently of ``make``, so tests
can verify every reference; ``wrong`` turns a sample into a negative example.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One generated input with all its correct outputs and why the first is correct."""

    input: str
    outputs: list[str]
    why: str


@dataclass(frozen=True)
class Negative:
    """A wrong output for a sample, why it is wrong and how to fix it."""

    output: str
    why: str
    fix: str


MakeFn = Callable[[random.Random], Sample]
CheckFn = Callable[[str, str], bool]
WrongFn = Callable[[Sample, random.Random], Negative]


@dataclass(frozen=True)
class TaskSpec:
    """A procedurally generated task of the built-in suite."""

    name: str
    cluster: str
    category: str
    definition: str
    make: MakeFn
    check: CheckFn
    wrong: WrongFn
    answer_choices: tuple[str, ...] | None = None
    turns_around: str | None = None  # name of the task this one inverts

    @property
    def title(self) -> str:
        return self.name.split("_", 1)[1].replace("_", " ").capitalize()


# ---- small parsing helpers used by the checkers ---------------------------------------


def field(text: str, label: str) -> str:
    """The value after ``label:`` on its line of ``text``."""
    m = re.search(rf"^{re.escape(label)}:\s*(.*)$", text, flags=re.M)
    if m is None:
        raise ValueError(f"no '{label}:' in {text!r}")
    return m.group(1).strip()


def ints(text: str) -> list[int]:
    """Every (possibly negative) integer in ``text``, in order."""
    return [int(x) for x in re.findall(r"-?\d+", text)]


def int_list(text: str) -> list[int]:
    """The integers of a bracketed list such as ``[3, 18, 7]``."""
    return ints(text.strip("[] "))


def fmt_list(xs: list[int] | list[str]) -> str:
    return "[" + ", ".join(str(x) for x in xs) + "]"


def is_int(s: str) -> bool:
    return re.fullmatch(r"-?\d+", s.strip()) is not None


# ---- reusable negative-example makers --------------------------------------------------


def off_by_one(fix: str) -> WrongFn:
    """A numeric answer that is one too large."""

    def wrong(s: Sample, rng: random.Random) -> Negative:
        bad = str(int(s.outputs[0]) + 1)
        return Negative(bad, f"{bad} is off by one: the correct answer is {s.outputs[0]}.", fix)

    return wrong


def other_label(labels: tuple[str, ...], fix: str) -> WrongFn:
    """A label from the label set that is not the correct one."""

    def wrong(s: Sample, rng: random.Random) -> Negative:
        bad = rng.choice([lab for lab in labels if lab not in s.outputs])
        return Negative(bad, f"The label should be '{s.outputs[0]}', not '{bad}'.", fix)

    return wrong


def verbose(fix: str) -> WrongFn:
    """The right answer buried in a sentence: wrong because the task asks for it alone."""

    def wrong(s: Sample, rng: random.Random) -> Negative:
        bad = f"I think the answer is {s.outputs[0]}."
        return Negative(bad, "The output must be the answer alone, without any extra words.", fix)

    return wrong
