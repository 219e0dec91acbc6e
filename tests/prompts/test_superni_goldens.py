"""Golden source texts of all ten SuperNI encodings on a real task (task036), written out
literally from Tk-Instruct's layout: "Definition: ...", " Positive Example k -",
"Input: ...", " Output: ...", " Explanation: ...", then "Now complete the following
example -", "Input: ...", "Output: "."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructkit.prompts import ENCODINGS, encode_instance
from instructkit.tasks import load_task

TASK = "task036_qasc_topic_word_to_generate_related_fact"

DEF = (
    "Definition: In this task, you need to write a topic word from the given fact. The topic "
    "word must have at least one word overlap with the given fact. The topic word often involves "
    "adding a new word from a related concept. In your topic word, use at least one word from the "
    "given fact. Topic words with two or more words work best.\n\n"
)
P1 = " Positive Example 1 -\nInput: Fact: pesticides cause pollution.\n Output: pollution harms.\n"
P1X = ' Explanation: This is a good topic word, because it contains one overlapping word "pollution".\n'
P2 = " Positive Example 2 -\nInput: Fact: pesticides cause pollution.\n Output: modern farming pesticide.\n"
P2X = ' Explanation: The word "pesticide" is the overlapping word.\n'
P3 = (
    " Positive Example 3 -\nInput: Fact: a solar panel converts sunlight into electricity.\n"
    " Output: sunlight sun.\n"
)
P4 = " Positive Example 4 -\nInput: Fact: running requires a lot of energy.\n Output: marathon running.\n"
N1 = " Negative Example 1 -\nInput: Fact: pesticides cause pollution.\n Output: computer harms.\n"
N1X = (
    " Explanation: This is a bad topic word, because it has no overlapping word with the given "
    "fact.\n"
)
N2 = " Negative Example 2 -\nInput: Fact: pesticides cause pollution.\n Output: toopaste helps.\n"
N2X = N1X
QUERY = (
    "Now complete the following example -\n"
    "Input: Fact: nerves can be used to feel heat and pressure on the skin.\nOutput: "
)

GOLDEN = {
    "Task ID": f"{TASK}. " + QUERY,
    "Def": DEF + QUERY,
    "Pos(1)": P1 + "\n" + QUERY,
    "Def+Pos(1)": DEF + P1 + "\n" + QUERY,
    "Pos(2)": P1 + "\n" + P2 + "\n" + QUERY,
    "Def+Pos(2)": DEF + P1 + "\n" + P2 + "\n" + QUERY,
    "Def+Pos(2)+Neg(2)": DEF + P1 + "\n" + P2 + "\n" + N1 + "\n" + N2 + "\n" + QUERY,
    "Def+Pos(2)+Neg(2)+Expl": (
        DEF + P1 + P1X + "\n" + P2 + P2X + "\n" + N1 + N1X + "\n" + N2 + N2X + "\n" + QUERY
    ),
    "Pos(4)": P1 + "\n" + P2 + "\n" + P3 + "\n" + P4 + "\n" + QUERY,
    "Def+Pos(4)": DEF + P1 + "\n" + P2 + "\n" + P3 + "\n" + P4 + "\n" + QUERY,
    "Def+Pos(2)+Expl": DEF + P1 + P1X + "\n" + P2 + P2X + "\n" + QUERY,
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_golden(encoding: str, superni_root: Path) -> None:
    task = load_task(superni_root / "tasks" / f"{TASK}.json")
    inst = task.instances[0]
    assert inst.id == "task036-e69df649e3434d7789023005535b3b59"
    ex = encode_instance(task, inst, encoding)
    assert ex.source == GOLDEN[encoding]
    assert ex.targets == inst.outputs
