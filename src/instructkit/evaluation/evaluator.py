"""The one evaluator behind ``run``, ``sweep`` and ``eval``.

An :class:`Evaluator` holds a model (through its family adapter), the name it was loaded
by and the generation settings. It generates predictions and rank-classifies answer
options into resumable JSONL files. Every stored line is keyed by (instance id, template,
prompt key), and every file by a manifest of what produced it: the model's identity
(name, family, a fingerprint of its weights taken when the evaluation starts) and the
settings that change outputs (generation limits, stop sequences, source budget and
truncation side). A rerun under any other setting sets the old file aside and computes
again (see :mod:`instructkit.artifacts`); nothing is reused across models or settings.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress

from instructkit._faults import reached
from instructkit.artifacts import claim, fingerprint, write_manifest
from instructkit.evaluation.rank import OptionScores, rank_items, score_batched
from instructkit.evaluation.results import EVALUATION_RULES
from instructkit.evaluation.run import (
    GenerationSettings,
    Prediction,
    drop_torn_tail,
    generate_predictions,
    merge_shards,
    read_records,
    shard_path,
)
from instructkit.models.adapters import FamilyAdapter, weights_fingerprint
from instructkit.models.lengths import Side
from instructkit.models.loading import distributed_state
from instructkit.progress import bar_columns
from instructkit.prompts.example import PromptedExample


@dataclass(frozen=True)
class GenerationConfig:
    """How predictions are generated; all but ``batch_size`` are part of every output's key."""

    max_new_tokens: int = 16
    stop: tuple[str, ...] = ("\n",)
    max_source_tokens: int = 512
    truncate_source: Side = "left"
    batch_size: int = 16
    task_settings: Mapping[str, GenerationSettings] = field(default_factory=dict)
    chat_template: bool = False  # wrap each prompt as a user turn in the model's template

    def key(self) -> dict[str, Any]:
        return {
            "chat_template": self.chat_template,
            # Rows stop at a stop string after their leading whitespace (models.adapters.
            # StopOnStrings); outputs of the earlier rule, which stopped at a leading "\n",
            # are not reused.
            "stopping": EVALUATION_RULES["stopping"],
            "max_new_tokens": self.max_new_tokens,
            "stop": list(self.stop),
            "max_source_tokens": self.max_source_tokens,
            "truncate_source": self.truncate_source,
            "task_settings": {t: asdict(s) for t, s in sorted(self.task_settings.items())},
        }


class Evaluator:
    """Generation and rank classification of prompted examples with one model."""

    def __init__(
        self,
        adapter: FamilyAdapter,
        *,
        model_name: str,
        generation: GenerationConfig | None = None,
        show_progress: bool = True,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.adapter = adapter
        self.model_name = model_name
        self.generation = generation or GenerationConfig()
        self.show_progress = show_progress
        # Warnings and notices go to standard error: standard output may carry JSON.
        self.notify = notify or (lambda msg: print(msg, file=sys.stderr))

    def identity(self) -> dict[str, str]:
        """The model as it is now: name, family and a fingerprint of its weights."""
        return {
            "name": self.model_name,
            "family": self.adapter.family,
            "weights": weights_fingerprint(self.adapter.model),
        }

    def produced_by(self, mode: str) -> dict[str, Any]:
        """The settings a generation (``mode="generate"``) or rank output is keyed by."""
        settings: dict[str, Any] = {"mode": mode, "model": self.identity()}
        if mode == "generate":
            settings["generation"] = self.generation.key()
        else:
            settings["source"] = {
                "max_source_tokens": self.generation.max_source_tokens,
                "truncate_source": self.generation.truncate_source,
            }
            # Items packed into batched passes (evaluation.rank.score_packed).
            settings["scorer"] = EVALUATION_RULES["rank_scorer"]
        return settings

    def _claim(self, path: Path, settings: dict[str, Any]) -> None:
        state = distributed_state()
        if state.is_main_process:
            claim(path, settings, notify=self.notify)
        state.wait_for_everyone()

    def generate(
        self,
        examples: Sequence[PromptedExample],
        path: str | Path,
        *,
        label: str = "generating",
        shared_dir: str | Path | None = None,
    ) -> list[Prediction]:
        """Predictions for every example, resumed from ``path`` when it was produced by
        the same model and settings. ``shared_dir`` holds outputs shared between runs
        (the untuned model's, across sweep cells), one file per fingerprint."""
        path = Path(path)
        self.adapter.reset_caches()
        if self.generation.chat_template:
            examples = self._with_chat_template(examples)
        settings = self.produced_by("generate")
        self._claim(path, settings)
        shared = Path(shared_dir) / f"{fingerprint(settings)}.jsonl" if shared_dir else None
        if shared is not None and distributed_state().is_main_process:
            _import_lines(shared, path)
        g = self.generation
        preds = generate_predictions(
            self.adapter,
            examples,
            path,
            max_new_tokens=g.max_new_tokens,
            max_source_tokens=g.max_source_tokens,
            batch_size=g.batch_size,
            stop=g.stop,
            label=label,
            show_progress=self.show_progress,
            task_settings=dict(g.task_settings) or None,
            truncate=g.truncate_source,
        )
        if shared is not None and distributed_state().is_main_process:
            _export(path, shared, settings)
        self._warn_empty(preds)
        return preds

    def _warn_empty(self, preds: Sequence[Prediction]) -> None:
        """One line per task with empty predictions: a stop sequence or a chat format that
        cuts every answer to nothing shows here instead of as a silent 0."""
        empty: dict[str, list[int]] = {}
        for p in preds:
            counts = empty.setdefault(p.task, [0, 0])
            counts[0] += not p.prediction.strip()
            counts[1] += 1
        for task, (n_empty, n) in sorted(empty.items()):
            if n_empty and distributed_state().is_main_process:
                self.notify(
                    f"warning: {n_empty} of {n} predictions for {task} are empty "
                    "(see the raw generations in the predictions file)"
                )

    def _with_chat_template(self, examples: Sequence[PromptedExample]) -> list[PromptedExample]:
        from dataclasses import replace

        tok = self.adapter.tokenizer
        if getattr(tok, "chat_template", None) is None:
            from instructkit.errors import ModelLoadError

            raise ModelLoadError(
                f"model '{self.model_name}' has no chat template; set eval.chat_template: false"
            )
        return [
            replace(
                e,
                source=str(
                    tok.apply_chat_template(
                        [{"role": "user", "content": e.source}],
                        tokenize=False,
                        add_generation_prompt=True,
                    )
                ),
            )
            for e in examples
        ]

    def rank(self, examples: Sequence[PromptedExample], path: str | Path) -> list[OptionScores]:
        """Option scores of every example that has options, resumed from ``path`` under
        the same model and settings. Items are scored ``batch_size`` at a time, longest
        first; under ``accelerate launch`` each process scores its share into a shard
        file, which the main process merges."""
        path = Path(path)
        settings = self.produced_by("rank")
        self._claim(path, settings)
        state = distributed_state()
        if state.is_main_process:
            # The shards an interrupted run left join the file first (its torn last line
            # dropped), as for generation.
            path.parent.mkdir(parents=True, exist_ok=True)
            merge_shards(path)
        state.wait_for_everyone()
        done = {r.slot: r for r in read_option_scores(path)}
        todo = [e for e in examples if e.options and e.slot not in done]
        with state.split_between_processes(todo) as mine:
            shard = path if state.num_processes == 1 else shard_path(path, state.process_index)
            drop_torn_tail(shard)
            self._rank_into(list(mine), shard, show=state.is_main_process)
        state.wait_for_everyone()
        if state.num_processes > 1 and state.is_main_process:
            merge_shards(path)
        state.wait_for_everyone()
        done = {r.slot: r for r in read_option_scores(path)}
        return [done[e.slot] for e in examples if e.options and e.slot in done]

    def _rank_into(self, todo: list[PromptedExample], path: Path, *, show: bool) -> None:
        self.adapter.model.eval()
        g = self.generation
        columns = bar_columns("rank classification", "items {task.fields[rate]}")
        items = rank_items(
            self.adapter, todo, max_source_tokens=g.max_source_tokens, truncate=g.truncate_source
        )
        start = time.perf_counter()
        with (
            Progress(*columns, disable=not (self.show_progress and show)) as bar,
            path.open("a", encoding="utf-8") as f,
        ):
            tid = bar.add_task("rank", total=len(todo), rate="")
            n = 0
            for batch, scores in score_batched(self.adapter, items, batch_size=g.batch_size):
                for i, sc in zip(batch, scores, strict=True):
                    e = todo[i]
                    r = OptionScores(
                        e.instance_id,
                        e.task,
                        e.template,
                        list(e.options),
                        sc,
                        [len(o) for o in items[i].options],
                        list(e.targets),
                        e.key,
                    )
                    line = r.__dict__ | {"prediction": r.prediction()}
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")
                f.flush()
                reached("option-scores-written")
                n += len(batch)
                rate = n / max(time.perf_counter() - start, 1e-9)
                bar.update(tid, advance=len(batch), rate=f"· {rate:.1f}/s")


def read_option_scores(path: str | Path) -> list[OptionScores]:
    """Option scores stored in a JSONL file (a torn last line is ignored)."""

    def build(d: dict[str, Any]) -> OptionScores:
        return OptionScores(
            d["id"],
            d["task"],
            d["template"],
            d["options"],
            d["logprob"],
            d["n_tokens"],
            d["targets"],
            d.get("key", ""),
        )

    return read_records(path, build)


def _import_lines(shared: Path, path: Path) -> None:
    """Append to ``path`` the lines of ``shared`` it lacks (same producer: same fingerprint)."""
    if not shared.exists():
        return
    from instructkit.evaluation.run import read_predictions

    drop_torn_tail(path)
    have = {p.slot for p in read_predictions(path)}
    new = [p for p in read_predictions(shared) if p.slot not in have]
    if new:
        with path.open("a", encoding="utf-8") as f:
            f.writelines(p.to_json() + "\n" for p in new)


def _export(path: Path, shared: Path, settings: dict[str, Any]) -> None:
    """Copy ``path`` whole into the shared folder (temporary file, then rename)."""
    shared.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process: runs of one sweep in two processes may export at once.
    tmp = shared.with_name(f"{shared.name}.{os.getpid()}.tmp")
    shutil.copyfile(path, tmp)
    os.replace(tmp, shared)
    write_manifest(shared, settings)
