"""Mixing rates match their definitions on counts; streams are deterministic and resume."""

from __future__ import annotations

import pytest

from instructkit.mixtures.mixture import cap_per_template, mix, mixing_rates, mixture_from_pools
from instructkit.prompts import PromptedExample


def _pool(task: str, n: int, templates: int = 1) -> list[PromptedExample]:
    return [
        PromptedExample(task, f"{task}-{i}", f"t{i % templates}", f"src {task} {i}", [str(i)])
        for i in range(n)
    ]


POOLS = {"big": _pool("big", 9000), "mid": _pool("mid", 900), "small": _pool("small", 100)}


def test_rate_formulas() -> None:
    assert mixing_rates([9000, 900, 100]) == pytest.approx([0.9, 0.09, 0.01])
    assert mixing_rates([9000, 900, 100], cap=1000) == pytest.approx(
        [1000 / 2000, 900 / 2000, 100 / 2000]
    )
    t = [9000**0.5, 900**0.5, 100**0.5]
    assert mixing_rates([9000, 900, 100], rate="temperature", temperature=2.0) == pytest.approx(
        [x / sum(t) for x in t]
    )
    assert mixing_rates([9000, 900, 100], rate="uniform") == pytest.approx([1 / 3] * 3)


@pytest.mark.parametrize(
    ("rate", "kw"),
    [
        ("examples-proportional", {"cap": 1000}),
        ("temperature", {"temperature": 3.0}),
        ("uniform", {}),
    ],
)
def test_counts_follow_rates(rate, kw) -> None:  # type: ignore[no-untyped-def]
    m = mixture_from_pools(POOLS, rate=rate, length=30000, seed=0, **kw)
    counts = m.counts()
    for task, r in m.rates.items():
        assert counts[task] / 30000 == pytest.approx(r, abs=0.01)
    # Streamed examples agree with the counts.
    seen = {}
    for e in m.stream():
        seen[e.task] = seen.get(e.task, 0) + 1
    assert seen == dict(counts)


def test_cap_bounds_stream_length_and_epochs_cycle() -> None:
    m = mixture_from_pools(POOLS, cap=1000, seed=0)
    assert len(m) == 1000 + 900 + 100
    small = [
        e.instance_id
        for e in mixture_from_pools({"small": _pool("small", 10)}, length=25, seed=3).stream()
    ]
    assert sorted(small[:10]) == sorted(f"small-{i}" for i in range(10))  # a full epoch first
    assert small[:10] != small[10:20]  # reshuffled per epoch


def test_deterministic_and_resumes_exactly() -> None:
    a = mixture_from_pools(POOLS, cap=500, seed=7)
    b = mixture_from_pools(POOLS, cap=500, seed=7)
    c = mixture_from_pools(POOLS, cap=500, seed=8)
    ids = [e.instance_id for e in a.stream()]
    assert ids == [e.instance_id for e in b.stream()]
    assert ids != [e.instance_id for e in c.stream()]
    for k in (0, 1, 333, len(ids) - 1):
        assert [e.instance_id for e in a.stream(start=k)] == ids[k:]


def test_template_cap_and_mixture_of_mixtures() -> None:
    capped = cap_per_template(_pool("x", 100, templates=4), 5)
    assert len(capped) == 20
    m1 = mixture_from_pools({"a": _pool("a", 100), "b": _pool("b", 300)}, seed=0)
    m2 = mixture_from_pools({"c": _pool("c", 50)}, seed=0)
    both = mix([m1, m2], [3, 1], length=40000, seed=0)
    assert both.rates == pytest.approx({"a": 0.75 * 0.25, "b": 0.75 * 0.75, "c": 0.25})
    counts = both.counts()
    assert counts["c"] / 40000 == pytest.approx(0.25, abs=0.01)


def _seqio_rate(n: int, maximum: int | None, temperature: float, scale: float) -> float:
    # seqio.utils.mixing_rate_num_examples, written out.
    rate = scale * n
    if maximum:
        rate = min(rate, maximum)
    if temperature != 1.0:
        rate = rate ** (1.0 / temperature)
    return rate


@pytest.mark.parametrize(
    ("cap", "temperature", "scale"),
    [(None, 1.0, 1.0), (3000, 1.0, 1.0), (3000, 2.0, 1.0), (None, 3.0, 0.5), (500, 1.5, 2.0)],
)
def test_examples_proportional_equals_seqio(cap, temperature, scale) -> None:  # type: ignore[no-untyped-def]
    sizes = [9000, 900, 100, 2500]
    want = [_seqio_rate(n, cap, temperature, scale) for n in sizes]
    got = mixing_rates(
        sizes, rate="examples-proportional", cap=cap, temperature=temperature, scale=scale
    )
    assert got == pytest.approx([w / sum(want) for w in want])


def test_uniform_refuses_a_temperature() -> None:
    from instructkit.errors import InstructkitError

    with pytest.raises(InstructkitError, match="no effect on the uniform rate"):
        mixing_rates([10, 20], rate="uniform", temperature=2.0)


def test_tk_instruct_mix_redraws_per_use_and_random_targets() -> None:
    from instructkit.experiments import default_config
    from instructkit.experiments.config import PromptConfig
    from instructkit.mixtures.mixture import build_mixture
    from instructkit.prompts.superni import TK_INSTRUCT_MIX
    from instructkit.tasks import Instance, Task
    from instructkit.tasks.collection import TaskCollection

    assert PromptConfig(train_encodings=["tk-instruct"]).train_encodings == TK_INSTRUCT_MIX
    task = Task(
        name="t",
        definition="Say something.",
        positive_examples=[{"input": "a", "output": "b", "explanation": "c"}] * 2,  # type: ignore[list-item]
        negative_examples=[{"input": "a", "output": "x", "explanation": "no"}] * 2,  # type: ignore[list-item]
        instances=[Instance(id=str(i), input=f"q{i}", outputs=["A", "B", "C"]) for i in range(4)],
    )
    tasks = TaskCollection.from_tasks([task])
    m = build_mixture(tasks, ["t"], encoding=TK_INSTRUCT_MIX, redraw=True, length=400, seed=3)
    drawn: dict[str, set[str]] = {}
    for e in m.stream():
        drawn.setdefault(e.instance_id, set()).add(e.template)
    assert all(len(v) > 2 for v in drawn.values())  # re-drawn across uses
    assert [e.template for e in m.stream(start=37)] == [e.template for e in m.stream()][37:]
    fixed = build_mixture(tasks, ["t"], encoding=TK_INSTRUCT_MIX, length=400, seed=3)
    once: dict[str, set[str]] = {}
    for e in fixed.stream():
        once.setdefault(e.instance_id, set()).add(e.template)
    assert all(len(v) == 1 for v in once.values())  # one draw per instance
    firsts = {
        e.target
        for e in build_mixture(tasks, ["t"], encoding="Def", target="random", seed=1).stream()
    }
    assert firsts <= {"A", "B", "C"} and len(firsts) > 1
    assert {e.target for e in build_mixture(tasks, ["t"], encoding="Def").stream()} == {"A"}
    assert default_config().mixture.target == "first"
