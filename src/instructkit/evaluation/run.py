"""Generation runs over held-out tasks, their predictions file, and aggregation.

Predictions are appended to a JSONL file batch by batch, one line per instance in the
official SuperNI prediction layout (``id``, ``prediction``) plus task, category, cluster
and references; a rerun skips ids already in the file, so an interrupted evaluation
resumes with no lost and no duplicated line.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.progress import Progress

from instructkit._faults import reached
from instructkit.evaluation.metrics import compute_metrics, score_instance
from instructkit.evaluation.stats import bootstrap_ci
from instructkit.progress import bar_columns
from instructkit.prompts.example import PromptedExample
from instructkit.tasks.schema import Instance, Task

T = TypeVar("T")

if TYPE_CHECKING:
    from instructkit.models.adapters import FamilyAdapter
    from instructkit.models.lengths import Side


@dataclass(frozen=True)
class Prediction:
    """One prediction with what is needed to score and aggregate it."""

    id: str
    task: str
    category: str
    cluster: str
    prediction: str
    references: list[str]
    template: str = ""
    key: str = ""  # PromptedExample.key of the prompt it answers
    raw: str = ""  # the generated text before the stop cut

    @property
    def slot(self) -> tuple[str, str, str]:
        """What a stored prediction answers: (instance id, template, prompt key)."""
        return (self.id, self.template, self.key)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """The text up to the first stop sequence, stripped. Leading whitespace is dropped
    first: an answer that starts on a new line (as instruction-tuned models often write
    it) is not cut to nothing by a "\n" stop."""
    text = text.lstrip()
    for s in stop:
        if s and s in text:
            text = text[: text.index(s)]
    return text.strip()


def read_records(path: str | Path, build: Callable[[dict[str, Any]], T]) -> list[T]:
    """The records of a resumable JSONL file, each built by ``build``; a line that does not
    parse or build (what an interrupted write leaves) is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(build(json.loads(line)))
        except (json.JSONDecodeError, TypeError, KeyError):
            continue
    return out


def read_predictions(path: str | Path) -> list[Prediction]:
    """Predictions already written to a JSONL file (a torn last line is ignored)."""
    return read_records(path, lambda d: Prediction(**d))


def drop_torn_tail(path: Path) -> None:
    """Cut a JSONL file after its last complete line (what an interrupted write leaves)."""
    if not path.exists():
        return
    with path.open("rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)


@dataclass(frozen=True)
class GenerationSettings:
    """Generation limits of one task."""

    max_new_tokens: int = 32
    stop: tuple[str, ...] = ("\n",)


def shard_path(out_path: Path, rank: int) -> Path:
    """The file process ``rank`` writes its share of ``out_path`` to."""
    return out_path.with_name(f"{out_path.stem}.rank{rank}{out_path.suffix}")


def generate_predictions(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    out_path: str | Path,
    *,
    max_new_tokens: int = 32,
    max_source_tokens: int = 512,
    batch_size: int = 8,
    stop: Sequence[str] = ("\n",),
    label: str = "generating",
    show_progress: bool = True,
    task_settings: Mapping[str, GenerationSettings] | None = None,
    truncate: Side = "left",
) -> list[Prediction]:
    """Generate for every example not yet in ``out_path``; return all predictions in the
    order of ``examples``. ``task_settings`` overrides ``max_new_tokens`` and ``stop``
    for the tasks it names.

    Under ``accelerate launch`` the examples still to do are split between the processes;
    each appends to its own shard file, and the main process merges the shards into
    ``out_path`` once all are done.
    """
    from instructkit.models.loading import distributed_state

    state = distributed_state()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if state.is_main_process:
        merge_shards(out_path)
    state.wait_for_everyone()
    done = {p.slot: p for p in read_predictions(out_path)}
    todo = [e for e in examples if e.slot not in done]
    with state.split_between_processes(todo) as mine:
        shard = out_path if state.num_processes == 1 else shard_path(out_path, state.process_index)
        drop_torn_tail(shard)
        default = GenerationSettings(max_new_tokens, tuple(stop))
        groups: dict[GenerationSettings, list[PromptedExample]] = {}
        for e in mine:
            groups.setdefault((task_settings or {}).get(e.task, default), []).append(e)
        already = len(examples) - len(todo)
        for settings, group in groups.items():
            _generate_into(
                adapter,
                group,
                shard,
                done,
                max_new_tokens=settings.max_new_tokens,
                max_source_tokens=max_source_tokens,
                batch_size=batch_size,
                stop=settings.stop,
                truncate=truncate,
                label=label,
                total=len(examples),
                already=already,
                show_progress=show_progress and state.is_main_process,
            )
            already += len(group)
    state.wait_for_everyone()
    if state.num_processes > 1:
        if state.is_main_process:
            merge_shards(out_path)
        state.wait_for_everyone()
        done = {p.slot: p for p in read_predictions(out_path)}
    return [done[e.slot] for e in examples]


def merge_shards(out_path: Path) -> None:
    """Append the lines of the shard files of ``out_path`` (predictions or option scores)
    to it, each (instance id, template, prompt key) once, then delete the shards."""
    drop_torn_tail(out_path)

    def slot(d: dict[str, Any]) -> tuple[str, str, str]:
        return (d["id"], d["template"], d.get("key", ""))

    def lines(path: Path) -> list[tuple[tuple[str, str, str], str]]:
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append((slot(json.loads(line)), line))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line of a killed process
        return out

    have = {k for k, _ in lines(out_path)} if out_path.exists() else set()
    shards = sorted(out_path.parent.glob(f"{out_path.stem}.rank*{out_path.suffix}"))
    if not shards:
        return
    with out_path.open("a", encoding="utf-8") as f:
        for shard in shards:
            for k, line in lines(shard):
                if k not in have:
                    have.add(k)
                    f.write(line + "\n")
    for shard in shards:
        shard.unlink()


def _generate_into(
    adapter: FamilyAdapter,
    todo: list[PromptedExample],
    path: Path,
    done: dict[tuple[str, str, str], Prediction],
    *,
    max_new_tokens: int,
    max_source_tokens: int,
    batch_size: int,
    stop: Sequence[str],
    truncate: Side,
    label: str,
    total: int,
    already: int,
    show_progress: bool,
) -> None:
    # Longest first: padding stays small within a batch and memory peaks early.
    todo = sorted(todo, key=lambda e: (e.source[:64], -len(e.source)))
    columns = bar_columns(label, "prompts {task.fields[rate]}")
    t0 = time.perf_counter()
    with (
        Progress(*columns, disable=not show_progress) as bar,
        path.open("a", encoding="utf-8") as f,
    ):
        tid = bar.add_task(label, total=total, completed=already, rate="")
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            texts = adapter.generate(
                [e.source for e in chunk],
                max_new_tokens=max_new_tokens,
                max_source_tokens=max_source_tokens,
                batch_size=batch_size,
                stop=stop,
                truncate=truncate,
            )
            for e, t in zip(chunk, texts, strict=True):
                p = Prediction(
                    e.instance_id,
                    e.task,
                    e.category,
                    e.cluster,
                    cut_at_stop(t, stop),
                    list(e.targets),
                    e.template,
                    e.key,
                    t,
                )
                done[p.slot] = p
                f.write(p.to_json() + "\n")
            f.flush()
            reached("predictions-written")
            rate = (start + len(chunk)) / max(time.perf_counter() - t0, 1e-9)
            bar.update(tid, advance=len(chunk), rate=f"· {rate:.1f}/s")


def baseline_predictions(
    tasks: Sequence[Task],
    instances: dict[str, list[Instance]],
    fn: Callable[..., str],
) -> list[Prediction]:
    """Predictions of a heuristic baseline over the given instances of each task; the
    baseline is told which instances are evaluated (it may not learn from them)."""
    out = []
    for t in tasks:
        evaluated = frozenset(i.id for i in instances[t.name])
        out += [
            Prediction(
                i.id, t.name, t.category, t.cluster or "", fn(t, i, evaluated), list(i.outputs)
            )
            for i in instances[t.name]
        ]
    return out


def example_baseline_predictions(
    examples: Sequence[PromptedExample],
    tasks: Mapping[str, Task],
    fn: Callable[..., str],
) -> list[Prediction]:
    """A heuristic baseline on prompted examples, scored against each example's targets
    (what the model is scored against under that template), as the model's predictions
    are; the baseline is told which instances are evaluated."""
    evaluated: dict[str, set[str]] = defaultdict(set)
    for e in examples:
        evaluated[e.task].add(e.instance_id)
    by_id = {
        (name, i.id): i
        for name in evaluated
        for i in tasks[name].instances
        if i.id in evaluated[name]
    }
    return [
        Prediction(
            e.instance_id,
            e.task,
            e.category,
            e.cluster,
            fn(tasks[e.task], by_id[(e.task, e.instance_id)], frozenset(evaluated[e.task])),
            list(e.targets),
            e.template,
            e.key,
        )
        for e in examples
    ]


def aggregate(
    preds: Sequence[Prediction], *, xlingual_tokenizer: str | None = None, bootstrap: bool = False
) -> dict[str, Any]:
    """Metrics overall, per task, per category and per cluster; with ``bootstrap``, 95%
    confidence intervals of the overall metrics."""

    def score(group: Sequence[Prediction]) -> dict[str, Any]:
        return compute_metrics(
            [p.prediction for p in group],
            [p.references for p in group],
            xlingual_tokenizer=xlingual_tokenizer,
        )

    groups: dict[str, dict[str, list[Prediction]]] = {
        "task": defaultdict(list),
        "category": defaultdict(list),
        "cluster": defaultdict(list),
    }
    for p in preds:
        groups["task"][p.task].append(p)
        groups["category"][p.category.lower().replace(" ", "_")].append(p)
        groups["cluster"][p.cluster].append(p)
    result: dict[str, Any] = {
        "overall": score(preds),
        **{f"per_{k}": {name: score(g) for name, g in v.items()} for k, v in groups.items()},
    }
    if bootstrap and preds:
        each = [
            score_instance(p.prediction, p.references, xlingual_tokenizer=xlingual_tokenizer)
            for p in preds
        ]
        result["overall"]["ci95"] = {
            m: list(bootstrap_ci([100 * e[m] for e in each])) for m in ("exact_match", "rougeL")
        }
    return result
