"""Training mixtures: which examples a model sees, in which order.

A :class:`Mixture` holds, per task, its prompted examples (capped at
``max_instances``, and per template at ``template_cap``) and a sampling rate:

- ``examples-proportional``: rate ∝ min(scale·n, cap)^(1/T), seqio's
  ``mixing_rate_num_examples`` (``maximum`` = cap, ``temperature`` = T, ``scale``):
  FLAN's capped mixing with T = 1 (caps like 3,000 or
  30,000);
- ``temperature``: the same rate (the name T5 / mT5 use for T > 1);
- ``uniform``: every task equally.

:meth:`Mixture.stream` is deterministic for a seed: step ``k`` always gives the same
example, and ``stream(start=k)`` resumes exactly there (task choices are drawn in one
vectorised call; each task walks a seeded permutation of its examples, reshuffled per
epoch). :func:`mix` combines mixtures with weights (a mixture of mixtures).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from instructkit.errors import InstructkitError
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.render import (
    RenderContext,
    TokenCounter,
    check_template,
    expand,
    render,
)
from instructkit.registry import Registry
from instructkit.tasks.collection import TaskCollection

Rate = str

# Mixing rates by name: each maps the capped pool sizes (and the temperature) to weights.
# A new rate is one function and one registration line.
MIXING_RATES: Registry[Callable[[np.ndarray, float], np.ndarray]] = Registry(
    "mixing rate", entry_points="instructkit.mixing_rates"
)


@MIXING_RATES.register("examples-proportional")
@MIXING_RATES.register("temperature")
def _proportional(capped: np.ndarray, temperature: float) -> np.ndarray:
    # seqio: rate = min(scale * n, maximum), then rate ** (1 / temperature).
    if temperature <= 0:
        raise InstructkitError(f"temperature must be positive, got {temperature}")
    return capped if temperature == 1.0 else capped ** (1.0 / temperature)


@MIXING_RATES.register("uniform")
def _uniform(capped: np.ndarray, temperature: float) -> np.ndarray:
    if temperature != 1.0:
        raise InstructkitError(
            f"mixture.temperature ({temperature}) has no effect on the uniform rate; "
            "leave it at 1 or use rate: examples-proportional"
        )
    return (capped > 0).astype(float)


def mixing_rates(
    sizes: Sequence[int],
    *,
    rate: Rate = "examples-proportional",
    cap: int | None = None,
    temperature: float = 1.0,
    scale: float = 1.0,
) -> list[float]:
    """Normalised sampling rates of tasks with the given numbers of examples."""
    if not sizes:
        return []
    if scale <= 0:
        raise InstructkitError(f"mixture.scale must be positive, got {scale}")
    scaled = [scale * n for n in sizes]
    capped = np.array([min(n, cap) if cap else n for n in scaled], dtype=float)
    w = MIXING_RATES.get(rate)(capped, temperature)
    total = w.sum()
    if total <= 0:
        raise InstructkitError("the mixture holds no examples")
    return [float(x) for x in w / total]


@dataclass
class Mixture:
    """Per-task example pools and rates; a deterministic stream over them."""

    pools: dict[str, list[PromptedExample]]
    rates: dict[str, float]
    seed: int = 0
    length: int | None = None  # stream length; default: every pooled example once
    # Renderings to draw from each time an instance is used (task, instance id → examples):
    # Tk-Instruct re-draws the encoding of an instance every time it is used.
    alternatives: dict[tuple[str, str], list[PromptedExample]] = field(default_factory=dict)
    _choices: np.ndarray | None = field(default=None, repr=False)

    @property
    def examples(self) -> list[PromptedExample]:
        """The stream as a list (one epoch of ``len(self)`` examples)."""
        return list(self.stream())

    def __len__(self) -> int:
        return self.length if self.length is not None else sum(len(p) for p in self.pools.values())

    def counts(self) -> Counter[str]:
        """Examples per task in the stream."""
        names = list(self.pools)
        return Counter(
            {
                names[i]: int(c)
                for i, c in enumerate(np.bincount(self._task_choices(), minlength=len(names)))
                if c
            }
        )

    def _task_choices(self) -> np.ndarray:
        if self._choices is None:
            names = list(self.pools)
            if set(self.rates) != set(names):
                raise InstructkitError("rates and pools name different tasks")
            p = np.array([self.rates[n] for n in names], dtype=float)
            rng = np.random.default_rng(self.seed)
            self._choices = rng.choice(len(names), size=len(self), p=p / p.sum())
        return self._choices

    def _order(self, task: str, epoch: int) -> list[int]:
        order = list(range(len(self.pools[task])))
        random.Random(f"{self.seed}:{task}:{epoch}").shuffle(order)
        return order

    def stream(self, start: int = 0) -> Iterator[PromptedExample]:
        """The examples from position ``start`` on; the same for the same seed."""
        names = list(self.pools)
        choices = self._task_choices()
        # Where each task's walk stands at `start`: the number of earlier picks of it.
        seen = np.bincount(choices[:start], minlength=len(names)).tolist()
        cache: dict[tuple[str, int], list[int]] = {}
        for k in range(start, len(self)):
            t = int(choices[k])
            name, pool = names[t], self.pools[names[t]]
            epoch, pos = divmod(seen[t], len(pool))
            key = (name, epoch)
            if key not in cache:
                cache[key] = self._order(name, epoch)
            seen[t] += 1
            ex = pool[cache[key][pos]]
            alts = self.alternatives.get((name, ex.instance_id))
            if alts:
                # Seeded by the instance and the epoch: resuming gives the same draw.
                draw = random.Random(f"{self.seed}:{name}:{ex.instance_id}:{epoch}")
                ex = alts[draw.randrange(len(alts))]
            yield ex


def cap_per_template(examples: Sequence[PromptedExample], cap: int | None) -> list[PromptedExample]:
    """At most ``cap`` examples of each template (in order)."""
    if not cap:
        return list(examples)
    used: Counter[str] = Counter()
    out = []
    for e in examples:
        if used[e.template] < cap:
            used[e.template] += 1
            out.append(e)
    return out


def mixture_from_pools(
    pools: dict[str, list[PromptedExample]],
    *,
    rate: Rate = "examples-proportional",
    cap: int | None = None,
    temperature: float = 1.0,
    template_cap: int | None = None,
    length: int | None = None,
    seed: int = 0,
    scale: float = 1.0,
) -> Mixture:
    """A mixture over per-task pools of prompted examples."""
    pools = {t: cap_per_template(p, template_cap) for t, p in pools.items() if p}
    rates = mixing_rates(
        [len(p) for p in pools.values()],
        rate=rate,
        cap=cap,
        temperature=temperature,
        scale=scale,
    )
    if length is None:
        length = sum(min(len(p), cap) if cap else len(p) for p in pools.values())
    return Mixture(
        pools=pools, rates=dict(zip(pools, rates, strict=True)), seed=seed, length=length
    )


def build_mixture(
    tasks: TaskCollection,
    task_names: list[str],
    *,
    encoding: str | list[str] = "Def+Pos(2)",
    max_per_task: int | None = None,
    skip: int = 0,
    rate: Rate = "examples-proportional",
    cap: int | None = None,
    temperature: float = 1.0,
    template_cap: int | None = None,
    length: int | None = None,
    seed: int = 0,
    count_tokens: TokenCounter | None = None,
    max_source_tokens: int | None = None,
    scale: float = 1.0,
    redraw: bool = False,
    target: str = "first",
) -> Mixture:
    """Render each task's first ``max_per_task`` instances (after the first ``skip``) with
    a SuperNI encoding and mix them at the given rate.

    With a list of encodings, each instance draws its own encoding (seeded); with
    ``redraw``, it draws again every time it is used, as Tk-Instruct's collator does.
    ``target``: ``first`` trains on the first reference, ``random`` on a reference drawn
    per instance (seeded), as Tk-Instruct draws its label. With ``count_tokens`` and
    ``max_source_tokens``, every example is rendered within that budget exactly as
    evaluation renders it (:func:`instructkit.prompts.render.render`).
    """
    names = [encoding] if isinstance(encoding, str) else list(encoding)
    for n in names:
        check_template(n)
    ctx = RenderContext(count_tokens=count_tokens, max_source_tokens=max_source_tokens, seed=seed)
    rng = random.Random(f"{seed}:encodings")
    if target not in ("first", "random"):
        raise InstructkitError(f"mixture.target must be 'first' or 'random', not '{target}'")
    pools: dict[str, list[PromptedExample]] = {}
    alternatives: dict[tuple[str, str], list[PromptedExample]] = {}
    for name in task_names:
        task = tasks[name]
        pool = []
        # ``family:*`` stands for every template of the family that applies to the task.
        choices = [x for n in names for x in expand(n, task)]
        for inst in task.instances[skip:][:max_per_task]:
            if target == "random" and len(inst.outputs) > 1:
                pick = random.Random(f"{seed}:target:{name}:{inst.id}").randrange(len(inst.outputs))
                inst = inst.model_copy(
                    update={
                        "outputs": [
                            inst.outputs[pick],
                            *inst.outputs[:pick],
                            *inst.outputs[pick + 1 :],
                        ]
                    }
                )
            if redraw and len(choices) > 1:
                alts = [e for e in (render(n, task, inst, ctx) for n in choices) if e.targets]
                if alts:
                    alternatives[(name, inst.id)] = alts
            ex = render(choices[0] if len(choices) == 1 else rng.choice(choices), task, inst, ctx)
            if ex.targets:  # a template that does not apply to the row gives no example
                pool.append(ex)
        pools[name] = pool
    mixture = mixture_from_pools(
        pools,
        rate=rate,
        cap=cap,
        temperature=temperature,
        template_cap=template_cap,
        length=length,
        seed=seed,
        scale=scale,
    )
    mixture.alternatives = alternatives
    return mixture


def mix(
    mixtures: Sequence[Mixture],
    weights: Sequence[float],
    *,
    seed: int = 0,
    length: int | None = None,
) -> Mixture:
    """A mixture of mixtures: each sub-mixture gets its weight, shared within it by its
    own rates. Task names are prefixed with the sub-mixture's index when they clash."""
    if len(mixtures) != len(weights) or not mixtures:
        raise InstructkitError("give one weight per mixture")
    total = float(sum(weights))
    pools: dict[str, list[PromptedExample]] = {}
    rates: dict[str, float] = {}
    for k, (m, w) in enumerate(zip(mixtures, weights, strict=True)):
        for t, pool in m.pools.items():
            key = t if t not in pools else f"{k}:{t}"
            pools[key] = pool
            rates[key] = w / total * m.rates[t]
    return Mixture(
        pools=pools,
        rates=rates,
        seed=seed,
        length=length if length is not None else sum(len(m) for m in mixtures),
    )
