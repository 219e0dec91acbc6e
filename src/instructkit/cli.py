"""The ``instructkit`` command line: thin commands over the library API.

Errors meant for users (:class:`InstructkitError`) print as one line and exit with
status 1; nothing else is caught.
"""

import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from instructkit.errors import ConfigError, InstructkitError, TaskFormatError

if TYPE_CHECKING:
    from instructkit.experiments.config import ExperimentConfig
    from instructkit.mixtures.split import Split
    from instructkit.tasks.collection import TaskCollection
    from instructkit.tasks.schema import Task

app = typer.Typer(
    help="Multi-task instruction tuning and zero-shot cross-task generalization.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
tasks_app = typer.Typer(help="List, show, validate and export tasks.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")
prompts_app = typer.Typer(help="Show, list and validate prompt templates.", no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")
# Task data, template text and names are untrusted: printed as text, never as markup. Our
# own styling goes through Text objects (see _styled). Piped into a file or another
# program, output is never cut to the 80 columns of a terminal that is not there.
_WIDE = 100_000
console = Console(markup=False, width=None if sys.stdout.isatty() else _WIDE)
err_console = Console(stderr=True, markup=False, width=None if sys.stderr.isatty() else _WIDE)


def _quiet_third_party() -> None:
    """Silence the progress bars of transformers, datasets and huggingface_hub (--quiet)."""
    import os

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TQDM_DISABLE"] = "1"
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover - a dependency
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    except ImportError:  # pragma: no cover - a dependency
        pass


_JSON_HELP = "Write the numbers as JSON to this file ('-': standard output, tables left out)."


def _emit_json(data: Any, dest: Path | None) -> bool:
    """Write ``data`` as JSON to ``dest`` ('-' is standard output); whether it went to
    standard output (the human tables are then left out)."""
    import json as _json

    if dest is None:
        return False
    text = _json.dumps(data, indent=1, ensure_ascii=False, default=str)
    if str(dest) == "-":
        sys.stdout.write(text + "\n")
        return True
    dest.write_text(text + "\n", encoding="utf-8")
    return False


def _with_ci(m: dict[str, Any], metric: str) -> str:
    """A number with its 95% bootstrap interval when one was computed."""
    ci = (m.get("ci95") or {}).get(metric) or m.get(f"{metric}_ci95")
    return f"{m[metric]:.2f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else "")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"instructkit {version('instructkit')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Multi-task instruction tuning and zero-shot cross-task generalization."""


def _styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain strings and (text, style) pairs; no markup is parsed."""
    return Text.assemble(*parts)


# ---- run ----------------------------------------------------------------------------


def _resolve_config(
    config: Path | None,
    *,
    model: str | None,
    name: str | None,
    output_dir: str | None,
    steps: int | None,
) -> "ExperimentConfig":
    """The config file (or the built-in default) with the command line's overrides. With
    no file, a tiny model also gets the tiny settings and a run name of its own."""
    from instructkit.experiments.config import default_config, load_config, tiny_overrides

    cfg = load_config(config) if config else default_config()
    if model:
        cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"name": model})})
        if model.startswith("tiny") and config is None:
            cfg = tiny_overrides(cfg)
        if name is None and config is None:
            cfg = cfg.model_copy(update={"name": f"default-{model.replace('/', '_')}"})
    if name:
        cfg = cfg.model_copy(update={"name": name})
    if output_dir:
        cfg = cfg.model_copy(update={"output_dir": output_dir})
    if steps is not None:
        cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"steps": steps})})
    return cfg


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Argument(help="Experiment YAML; default: built-in.")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="'default', 'tiny', 'tiny-t5', hub id or path.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Run name (folder under --output-dir).")] = None,
    output_dir: Annotated[str | None, typer.Option(help="Parent folder of run folders.")] = None,
    steps: Annotated[int | None, typer.Option(help="Override train.steps.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Tune on training tasks, evaluate zero-shot on held-out tasks, write runs/<name>/."""
    from instructkit.experiments.single import run_experiment

    cfg = _resolve_config(config, model=model, name=name, output_dir=output_dir, steps=steps)
    if quiet:
        _quiet_third_party()
    run_experiment(cfg, console=console, show_progress=not quiet)


# ---- splits, mixtures, audit ----------------------------------------------------------

split_app = typer.Typer(help="Show how tasks are split.", no_args_is_help=True)
mix_app = typer.Typer(help="Build training mixtures.", no_args_is_help=True)
app.add_typer(split_app, name="split")
app.add_typer(mix_app, name="mix")


def _config_tasks_split(config: Path | None) -> "tuple[ExperimentConfig, TaskCollection, Split]":
    from instructkit.experiments.config import default_config, load_config
    from instructkit.experiments.plan import load_tasks, make_split

    cfg = load_config(config) if config else default_config()
    tasks = load_tasks(cfg)
    return cfg, tasks, make_split(cfg, tasks)


@split_app.command("show")
def split_show(
    config: Annotated[
        Path | None, typer.Argument(help="Experiment YAML; default: built-in.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help=_JSON_HELP)] = None,
    all_tasks: Annotated[bool, typer.Option("--all", help="List training tasks too.")] = False,
) -> None:
    """Where each task goes (train, eval, excluded) and why."""
    _, _, split = _config_tasks_split(config)
    for w in split.warnings:
        err_console.print(f"warning: {w}", markup=False, highlight=False)
    if _emit_json(split.to_json(), json_out):
        return
    console.print(
        _styled(
            (split.protocol, "bold"),
            f": {len(split.train)} train, {len(split.eval)} eval, {len(split.excluded)} excluded",
        )
    )
    table = Table()
    for col in ("task", "role", "why"):
        table.add_column(col)
    for name, p in split.placements.items():
        if p.role != "train" or all_tasks:
            table.add_row(name, p.role, p.reason)
    console.print(table)


@mix_app.command("build")
def mix_build(
    config: Annotated[
        Path | None, typer.Argument(help="Experiment YAML; default: built-in.")
    ] = None,
    tokenize: Annotated[bool, typer.Option(help="Tokenise and cache as Arrow.")] = True,
    cache_dir: Annotated[Path, typer.Option(help="Cache of tokenised mixtures.")] = Path(
        ".cache/mixtures"
    ),
    num_proc: Annotated[int | None, typer.Option(help="Tokenisation processes.")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Also save the mixture here (a datasets folder).")
    ] = None,
    push_to_hub: Annotated[
        str | None, typer.Option(help="Also push the mixture to this Hub dataset repo.")
    ] = None,
) -> None:
    """Build the training mixture and summarise it: tasks, examples per task, tokens."""
    from instructkit.experiments.plan import make_mixture

    cfg, tasks, split = _config_tasks_split(config)
    tok = None
    count = None
    if tokenize:
        from instructkit.models.loading import source_token_counter

        tok, count = source_token_counter(
            cfg.model.name, trust_remote_code=cfg.model.trust_remote_code
        )

    # Rendered within the training budget as `train` renders it (needs the tokenizer).
    mixture = make_mixture(cfg, tasks, split, count)
    counts = mixture.counts()
    tokens: dict[str, int] = {}
    if tok is not None:
        from instructkit.mixtures.arrow import tokenize_mixture

        ds = tokenize_mixture(
            mixture,
            tok,
            max_source_tokens=cfg.train.max_source_tokens,
            max_target_tokens=cfg.train.max_target_tokens,
            cache_dir=cache_dir,
            num_proc=num_proc,
            truncate_source=cfg.train.truncate_source,
        )
        for task, s, t in zip(ds["task"], ds["source_ids"], ds["target_ids"], strict=True):
            tokens[task] = tokens.get(task, 0) + len(s) + len(t)
        console.print(f"tokenised mixture cached in {cache_dir}/")
    table = Table(title=f"{len(mixture)} examples from {len(counts)} tasks ({cfg.mixture.rate})")
    for col in ("task", "rate", "examples", *(["tokens"] if tokens else [])):
        table.add_column(col, justify="left" if col == "task" else "right")
    for name, n in sorted(counts.items()):
        table.add_row(
            name,
            f"{mixture.rates[name]:.4f}",
            str(n),
            *([str(tokens.get(name, 0))] if tokens else []),
        )
    if tokens:
        table.add_row(
            Text("total", style="bold"), "1", str(len(mixture)), str(sum(tokens.values()))
        )
    console.print(table)
    if output is not None or push_to_hub:
        from instructkit.experiments.hub import save_mixture

        save_mixture(mixture.examples, output, push_to_hub=push_to_hub)
        if output is not None:
            console.print(f"saved the mixture ({len(mixture)} examples) to {output}/")
        if push_to_hub:
            console.print(f"pushed the mixture to the Hub: {push_to_hub}", highlight=False)


@app.command()
def audit(
    config: Annotated[
        Path | None, typer.Argument(help="Experiment YAML; default: built-in.")
    ] = None,
    ngram: Annotated[
        int | None, typer.Option(help="n of the n-grams (default: the config's).")
    ] = None,
) -> None:
    """Contamination audit: n-gram overlap between evaluation data and the training mixture."""
    from instructkit.experiments.plan import eval_context, make_mixture
    from instructkit.mixtures.audit import audit_corpus, audit_mixture
    from instructkit.prompts.render import render_instances

    cfg, tasks, split = _config_tasks_split(config)
    n = ngram or cfg.audit.ngram
    train = make_mixture(cfg, tasks, split).examples
    eval_tasks = [tasks[t] for t in split.eval]
    prompts = {
        t.name: rendered[0].source
        for t in eval_tasks
        if (
            rendered := render_instances(cfg.prompt.encoding, t, t.instances[:1], eval_context(cfg))
        )
    }
    report = audit_mixture(
        train,
        eval_tasks,
        n=n,
        eval_prompts=prompts,
        max_instances=cfg.tasks.eval_instances_per_task,
    )
    table = Table(
        title=f"{n}-gram overlap of {len(eval_tasks)} evaluation tasks with "
        f"{len(train)} training examples"
    )
    for col in (
        "eval task",
        "instances",
        "contaminated",
        "definition",
        "prompt",
        "example overlap",
    ):
        table.add_column(col)
    for t in report.tasks:
        ex = "; ".join(f"{i} ~ {src}: '{g}'" for i, g, src in t.examples[:1])
        table.add_row(
            t.task,
            str(t.instances),
            f"{t.contaminated} ({100 * t.share:.1f}%)",
            "yes" if t.definition_overlap else "no",
            "yes" if t.prompt_overlap else "no",
            ex,
        )
    console.print(table)
    console.print(
        f"{len(report.overlapping_train)} training examples overlap evaluation instances"
        + (" (dropped when audit.drop_overlaps is set)" if report.overlapping_train else "")
    )
    if cfg.audit.corpus:
        hits = audit_corpus(train, cfg.audit.corpus, n=n)
        console.print(f"corpus overlap per training task: {hits or 'none'}")


# ---- experiments ----------------------------------------------------------------------


@app.command()
def sweep(
    config: Annotated[
        str,
        typer.Argument(
            help="Sweep YAML, or builtin:<name> (loco, clusters, datasets, prompt_tuning, "
            "encoding_matrix, natinst_fields, fewshot, templates, scaling_tasks, "
            "scaling_instances, scaling_models, flan_loco)."
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            help="Override the base model ('tiny' also shrinks the run; a scaling-models "
            "sweep then compares the tiny decoder-only and encoder-decoder models)."
        ),
    ] = None,
    store: Annotated[str | None, typer.Option(help="Override the results store.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Run a sweep (leave-one-cluster-out, encoding matrix, prompts, scaling); finished
    cells are skipped, so an interrupted sweep resumes."""
    from instructkit.experiments.config import tiny_overrides
    from instructkit.experiments.sweep_report import write_sweep_report
    from instructkit.experiments.sweeps import load_sweep, run_sweep

    cfg = load_sweep(config)
    if model:
        base = cfg.base.model_copy(
            update={"model": cfg.base.model.model_copy(update={"name": model})}
        )
        if model.startswith("tiny"):
            base = tiny_overrides(base)
        update: dict[str, object] = {"base": base, "name": f"{cfg.name}-{model.replace('/', '_')}"}
        if cfg.kind == "scaling-models":
            if not model.startswith("tiny"):
                raise ConfigError(
                    config,
                    "models",
                    "a scaling-models sweep runs its own list of models; edit that list "
                    "instead of passing --model",
                )
            update["models"] = ["tiny", "tiny-t5"]
        cfg = cfg.model_copy(update=update)
    if store:
        cfg = cfg.model_copy(update={"store": store})
    t0 = time.perf_counter()
    if quiet:
        _quiet_third_party()
    ran = run_sweep(cfg, console=console, show_progress=not quiet)
    out = write_sweep_report(cfg.store, cfg.name)
    console.print((out / "report.md").read_text(encoding="utf-8"), highlight=False, markup=False)
    console.print(f"{ran} cell(s) run in {time.perf_counter() - t0:.0f} s; report in {out}/")


@app.command()
def results(
    store: Annotated[Path, typer.Option(help="SQLite results store.")] = Path(
        "runs/results.sqlite"
    ),
    experiment: Annotated[str | None, typer.Option(help="Only this experiment.")] = None,
    metric: Annotated[str | None, typer.Option(help="Only this metric.")] = None,
    system: Annotated[str | None, typer.Option(help="Only this system.")] = None,
    task: Annotated[str, typer.Option(help="Task, or * for all tasks together.")] = "*",
    category: Annotated[
        str, typer.Option(help="Category, or * for all categories together.")
    ] = "*",
    json_out: Annotated[Path | None, typer.Option("--json", help=_JSON_HELP)] = None,
) -> None:
    """List stored results, filtered."""
    from instructkit.experiments.store import ResultsStore

    if not store.exists():
        raise TaskFormatError(store, None, "no results store here")
    filters = {
        k: v
        for k, v in {
            "experiment": experiment,
            "metric": metric,
            "system": system,
            "task": task,
            "category": category,
        }.items()
        if v is not None
    }
    db = ResultsStore(store)
    try:
        rows = db.results(**filters)
    finally:
        db.close()
    if _emit_json([dataclasses.asdict(r) for r in rows], json_out):
        return
    table = Table(title=f"{len(rows)} results")
    cols = ("experiment", "kind", "cell", "system", "task", "category", "template", "metric")
    for col in (*cols, "value"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for r in rows:
        table.add_row(
            r.experiment,
            r.kind,
            r.cell,
            r.system,
            r.task,
            r.category,
            r.template,
            r.metric,
            f"{r.value:.2f}",
        )
    console.print(table)


@app.command()
def report(
    experiment: Annotated[str, typer.Argument(help="Experiment name in the store.")],
    store: Annotated[Path, typer.Option(help="SQLite results store.")] = Path(
        "runs/results.sqlite"
    ),
    output: Annotated[Path | None, typer.Option(help="Folder; default beside the store.")] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            help="rougeL | exact_match | accuracy; default: accuracy (rank classification) "
            "for the T0 sweeps that measured it, else rougeL."
        ),
    ] = None,
) -> None:
    """Markdown tables, CSV and plots (PNG, SVG) of an experiment, from the store."""
    from instructkit.experiments.sweep_report import write_sweep_report

    if not store.exists():
        raise TaskFormatError(store, None, "no results store here")
    out = write_sweep_report(store, experiment, output, metric)
    console.print((out / "report.md").read_text(encoding="utf-8"), highlight=False, markup=False)


# ---- evaluation ---------------------------------------------------------------------


def _eval_tasks(
    source: Path | None, split: str | None, track: str, tasks: str | None, n: int
) -> "list[Task]":
    coll = _collection(source, split, track, n)
    names = [t.strip() for t in tasks.split(",")] if tasks else coll.names
    return [coll[name] for name in names]


@app.command("eval")
def eval_cmd(
    model: Annotated[str, typer.Option(help="'default', 'tiny', 'tiny-t5', hub id or path.")],
    source: Annotated[
        Path | None, typer.Option(help="SuperNI folder or task files; default: built-in.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Tasks of an experiment config (its held-out tasks; --all: every task)."),
    ] = None,
    all_tasks: Annotated[bool, typer.Option("--all", help="With --config: every task.")] = False,
    split: Annotated[str | None, typer.Option(help="train | test (SuperNI folders).")] = "test",
    track: Annotated[str, typer.Option(help="default | xlingual")] = "default",
    tasks: Annotated[str | None, typer.Option(help="Comma-separated task names.")] = None,
    template: Annotated[
        str, typer.Option(help="Template id(s), comma-separated, e.g. superni:Def+Pos(2).")
    ] = "superni:Def+Pos(2)",
    mode: Annotated[str, typer.Option(help="generate | rank")] = "generate",
    fewshot: Annotated[int, typer.Option(help="Few-shot exemplars for flan:fewshot*.")] = 2,
    max_source_tokens: Annotated[
        int, typer.Option(help="Source budget: demonstrations dropped first, then cut.")
    ] = 512,
    max_instances: Annotated[int, typer.Option(help="Instances per task (official: 100).")] = 100,
    max_new_tokens: Annotated[
        int, typer.Option(help="Generation length limit (as run's eval.max_new_tokens).")
    ] = 16,
    batch_size: Annotated[int, typer.Option(help="Generation and ranking batch size.")] = 16,
    stop: Annotated[
        list[str] | None,
        typer.Option(help="Stop sequence (repeatable; default: a new line, as run's eval.stop)."),
    ] = None,
    chat_template: Annotated[
        bool, typer.Option(help="Wrap each prompt in the model's chat template.")
    ] = False,
    dtype: Annotated[
        str, typer.Option(help="float32 | bfloat16 | float16 | auto (the checkpoint's own).")
    ] = "float32",
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1, mps, ...")] = None,
    revision: Annotated[str | None, typer.Option(help="Hub revision of the model.")] = None,
    trust_remote_code: Annotated[bool, typer.Option(help="Allow model code from the hub.")] = False,
    adapter: Annotated[
        Path | None,
        typer.Option(help="A PEFT adapter folder (LoRA or soft prompt, e.g. <run>/model)."),
    ] = None,
    xlingual_tokenizer: Annotated[
        str | None, typer.Option(help="GPT-2 tokenizer for xlingual ROUGE-L.")
    ] = None,
    bootstrap: Annotated[bool, typer.Option(help="95% bootstrap confidence intervals.")] = False,
    output: Annotated[Path, typer.Option(help="Output folder (resumable).")] = Path("runs/eval"),
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help=_JSON_HELP)] = None,
) -> None:
    """Evaluate a model zero-shot on tasks, by generation or rank classification."""
    from instructkit.evaluation.api import evaluate
    from instructkit.models import adapter_for, load_model
    from instructkit.prompts.render import RenderContext, check_template, render_instances

    if mode not in ("generate", "rank"):
        raise InstructkitError(f"--mode must be 'generate' or 'rank', not '{mode}'")
    templates = [t.strip() for t in template.split(",") if t.strip()]
    for tid in templates:
        check_template(tid)
    if config is not None:
        # The tasks of an experiment config: its held-out tasks (or every task with --all).
        _, coll, held = _config_tasks_split(config)
        names = [t.strip() for t in tasks.split(",")] if tasks else None
        names = names or (coll.names if all_tasks else held.eval)
        chosen = [coll[n] for n in names]
    else:
        is_superni_root = source is not None and (source / "tasks").is_dir()
        chosen = _eval_tasks(
            source, split if is_superni_root else None, track, tasks, max_instances
        )
    if quiet:
        _quiet_third_party()
    loaded = load_model(
        model,
        dtype=dtype,
        device=device,
        revision=revision,
        trust_remote_code=trust_remote_code,
        adapter=str(adapter) if adapter else None,
    )
    family = adapter_for(loaded)
    # The one renderer, with the evaluation budget: as `run` renders its held-out tasks.
    ctx = RenderContext(
        count_tokens=family.count_tokens, max_source_tokens=max_source_tokens, fewshot=fewshot
    )
    examples = [
        e
        for t in chosen
        for e in render_instances(
            templates,
            t,
            t.instances[:max_instances],
            ctx,
            warn=lambda m: err_console.print(f"warning: {m}", markup=False, highlight=False),
        )
    ]
    if not examples:
        raise InstructkitError(
            f"no instance renders with {template} on the chosen tasks: nothing to evaluate"
        )
    if mode == "rank" and not any(e.options for e in examples):
        raise InstructkitError(
            f"rank classification needs answer options, and no example under {template} "
            "has any (a PromptSource template with answer_choices, or an OPTIONS template)"
        )
    metrics = evaluate(
        family,
        examples,
        output,
        mode="rank" if mode == "rank" else "generate",
        model_name=loaded.name,
        max_source_tokens=max_source_tokens,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        stop=tuple(stop) if stop else ("\n",),
        chat_template=chat_template,
        xlingual_tokenizer=xlingual_tokenizer,
        bootstrap=bootstrap,
        show_progress=not quiet,
    )
    from instructkit.models.loading import distributed_state

    if not distributed_state().is_main_process:
        return
    if _emit_json(metrics, json_out):
        return
    table = Table(title=f"{model} · {template} · {mode} · {len(examples)} instances")
    table.add_column("task")
    cols = ("accuracy", "accuracy_norm") if mode == "rank" else ("exact_match", "rougeL")
    for c in cols:
        table.add_column(c, justify="right")
    for name, m in [*metrics["per_task"].items(), ("overall", metrics["overall"])]:
        table.add_row(name, *(_with_ci(m, c) for c in cols))
    console.print(table)
    if mode == "rank" and metrics.get("spread_over_templates"):
        from instructkit.evaluation.rank import chance_accuracy

        chance = chance_accuracy(examples)["per_task"]
        t0 = Table(title="accuracy over templates per task (T0): median and IQR")
        for col in ("task", "templates", "median", "Q1", "Q3", "IQR", "chance"):
            t0.add_column(col, justify="left" if col == "task" else "right")
        for name, sp in metrics["spread_over_templates"].items():
            t0.add_row(
                name,
                str(sp["templates"]),
                *(f"{sp[k]:.1f}" for k in ("median", "q1", "q3", "iqr")),
                f"{chance.get(name, {}).get('accuracy', 0.0):.1f}",
            )
        console.print(t0)
    if len(templates) > 1 or any(t.endswith(":*") for t in templates):
        per = Table(title="per task and template" if mode == "rank" else "per template")
        if mode == "rank":
            for col in ("task", "template", "accuracy"):
                per.add_column(col)
            for task_name, by_tpl in metrics["per_template"].items():
                for tpl, acc in by_tpl.items():
                    per.add_row(task_name, tpl, f"{acc:.2f}")
        else:
            for col in ("template", *cols):
                per.add_column(col)
            for tpl, m in metrics.get("per_template", {}).items():
                per.add_row(tpl, *(f"{m[c]:.2f}" for c in cols))
        console.print(per)
    console.print(f"wrote {output}/")


@app.command()
def score(
    predictions: Annotated[Path, typer.Argument(help='JSONL of {"id", "prediction"}.')],
    references: Annotated[Path, typer.Argument(help="Official SuperNI reference JSONL.")],
    xlingual_tokenizer: Annotated[
        str | None, typer.Option(help="GPT-2 tokenizer for xlingual ROUGE-L.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help=_JSON_HELP)] = None,
    per_task: Annotated[bool, typer.Option(help="Print the per-task table too.")] = True,
) -> None:
    """Score predictions as the official SuperNI scorer does: per track, category, task."""

    from instructkit.evaluation.scoring import (
        read_prediction_file,
        read_references,
        score_predictions,
    )

    preds = read_prediction_file(predictions)
    refs = read_references(references)
    ref_ids = {r.id for r in refs}
    unmatched = sum(1 for i in preds if i not in ref_ids)
    if unmatched == len(preds):
        raise TaskFormatError(
            predictions, "id", f"none of the {len(preds)} ids is in {references}: nothing to score"
        )
    if unmatched:
        err_console.print(
            f"warning: {unmatched} of {len(preds)} predictions match no reference id",
            markup=False,
            highlight=False,
        )
    result = score_predictions(preds, refs, xlingual_tokenizer=xlingual_tokenizer)
    if _emit_json(result, json_out):
        return
    for track, r in result.items():
        o = r["overall"]
        console.print(
            _styled(
                (f"{track} track", "bold"),
                f": exact match {o['exact_match']:.4f}, ROUGE-L "
                f"{o['rougeL']:.4f} ({o['n']} instances, {r['missing']} without prediction)",
            )
        )
        groups = [("category", r["per_category"])] + ([("task", r["per_task"])] if per_task else [])
        for label, group in groups:
            table = Table(title=f"{track} track, per {label}")
            paper = label == "category"
            cols = (label, "exact match", "ROUGE-L", "n", *(["paper metric"] if paper else []))
            for col in cols:
                table.add_column(col, justify="left" if col == label else "right")
            for name, m in group.items():
                extra = []
                if paper:
                    pm = r["paper_metric"][name]
                    extra = [
                        f"{pm['value']:.2f} ({'EM' if pm['metric'] == 'exact_match' else 'RL'})"
                    ]
                table.add_row(
                    name, f"{m['exact_match']:.2f}", f"{m['rougeL']:.2f}", str(m["n"]), *extra
                )
            console.print(table)


@app.command()
def baselines(
    source: Annotated[
        Path | None, typer.Argument(help="SuperNI folder or task files; default: built-in.")
    ] = None,
    split: Annotated[str | None, typer.Option(help="train | test (SuperNI folders).")] = "test",
    track: Annotated[str, typer.Option(help="default | xlingual")] = "default",
    max_instances: Annotated[int, typer.Option(help="Instances per task (official: 100).")] = 100,
    output: Annotated[
        Path | None, typer.Option(help="Write official prediction files here.")
    ] = None,
) -> None:
    """Copy input, copy demo output and majority class over a split."""
    from instructkit.evaluation.baselines import ALL_BASELINES
    from instructkit.evaluation.run import aggregate, baseline_predictions
    from instructkit.evaluation.scoring import write_prediction_file

    is_superni_root = source is not None and (source / "tasks").is_dir()
    chosen = _eval_tasks(source, split if is_superni_root else None, track, None, max_instances)
    instances = {t.name: t.instances[:max_instances] for t in chosen}
    table = Table(
        title=f"baselines · {len(chosen)} tasks · {sum(map(len, instances.values()))} instances"
    )
    for col in ("baseline", "exact match", "ROUGE-L"):
        table.add_column(col, justify="left" if col == "baseline" else "right")
    for name, fn in ALL_BASELINES.items():
        preds = baseline_predictions(chosen, instances, fn)
        o = aggregate(preds)["overall"]
        table.add_row(name, f"{o['exact_match']:.2f}", f"{o['rougeL']:.2f}")
        if output:
            write_prediction_file(
                {p.id: p.prediction for p in preds}, output / f"{name.replace(' ', '_')}.jsonl"
            )
    console.print(table)


@app.command("train")
def train_cmd(
    config: Annotated[
        Path | None, typer.Argument(help="Experiment YAML; default: built-in.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Override model.name.")] = None,
    name: Annotated[str | None, typer.Option(help="Run name (folder under output_dir).")] = None,
    steps: Annotated[int | None, typer.Option(help="Override train.steps.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Instruction-tune on the training tasks (resumable); the model goes to <run>/model."""
    from instructkit.experiments.single import train_experiment

    cfg = _resolve_config(config, model=model, name=name, output_dir=None, steps=steps)
    if quiet:
        _quiet_third_party()
    train_experiment(cfg, console=console, show_progress=not quiet)


# ---- tasks --------------------------------------------------------------------------


def _collection(
    path: Path | None, split: str | None, track: str, n: int | None = None
) -> "TaskCollection":
    from instructkit.tasks.builtin import builtin_tasks
    from instructkit.tasks.collection import load_collection

    if path is None:
        return builtin_tasks(n_instances=n or 100)
    return load_collection(path, split=split, track=track, max_instances=n)


@tasks_app.command("list")
def tasks_list(
    path: Annotated[
        Path | None, typer.Argument(help="SuperNI folder or task files; default: built-in.")
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="train | test | excluded (SuperNI folders).")
    ] = None,
    track: Annotated[str, typer.Option(help="default | xlingual")] = "default",
    json_out: Annotated[Path | None, typer.Option("--json", help=_JSON_HELP)] = None,
) -> None:
    """List tasks with their category, cluster and number of instances."""
    coll = _collection(path, split, track)
    rows = [
        {
            "task": t.name,
            "category": t.category,
            "categories": list(t.categories),
            "cluster": t.cluster or "",
            "instances": len(t.instances),
            "positive_examples": len(t.positive_examples),
            "negative_examples": len(t.negative_examples),
        }
        for t in coll
    ]
    if _emit_json({"tasks": rows, "absent": list(coll.missing)}, json_out):
        return
    table = Table(
        title=f"{len(coll)} tasks"
        + (f" ({len(coll.missing)} listed but absent)" if coll.missing else "")
    )
    for col in ("task", "category", "cluster", "instances", "pos/neg examples"):
        table.add_column(col)
    for t in coll:
        table.add_row(
            t.name,
            t.category,
            t.cluster or "",
            str(len(t.instances)),
            f"{len(t.positive_examples)}/{len(t.negative_examples)}",
        )
    console.print(table)


@tasks_app.command("show")
def tasks_show(
    task: Annotated[str, typer.Argument(help="A task file, or a task name in --source.")],
    source: Annotated[
        Path | None, typer.Option(help="Where to find a named task; default: built-in.")
    ] = None,
    n: Annotated[int, typer.Option("-n", help="Instances to show.")] = 3,
) -> None:
    """Show a task as the Natural Instructions paper does."""
    from instructkit.tasks.collection import load_task_file

    t = (
        load_task_file(Path(task))
        if Path(task).is_file()
        else _collection(source, None, "default")[task]
    )
    title = t.title or t.name
    console.print(
        Panel.fit(
            _styled(
                (title, "bold"),
                f"  ({t.name})\n"
                f"category: {t.category or '-'} · cluster: {t.cluster or '-'} · "
                f"source: {', '.join(t.source) or '-'} · {len(t.instances)} instances",
            )
        )
    )
    for label, value in (
        ("Prompt:", t.prompt),
        ("Definition:", t.definition),
        ("Emphasis & Caution:", t.emphasis_and_caution),
        ("Things to Avoid:", t.things_to_avoid),
    ):
        if value or label == "Definition:":
            console.print(_styled((label, "bold cyan"), f" {value or ''}"))
    for kind, exs, color in (
        ("Positive", t.positive_examples, "green"),
        ("Negative", t.negative_examples, "red"),
    ):
        for k, e in enumerate(exs, 1):
            body = _styled(("Input:", "bold"), f" {e.input}\n", ("Output:", "bold"), f" {e.output}")
            if e.explanation:
                body.append_text(_styled("\n", ("Reason:", "bold"), f" {e.explanation}"))
            if e.suggestion:
                body.append_text(_styled("\n", ("Suggestion:", "bold"), f" {e.suggestion}"))
            console.print(
                Panel(
                    body, title=Text(f"{kind} Example {k}"), border_style=color, title_align="left"
                )
            )
    for inst in t.instances[:n]:
        console.print(
            Panel(
                _styled(
                    ("Input:", "bold"),
                    f" {inst.input}\n",
                    ("Output:", "bold"),
                    f" {' | '.join(inst.outputs)}",
                ),
                title=Text(f"Instance {inst.id}"),
                title_align="left",
            )
        )


@tasks_app.command("validate")
def tasks_validate(
    path: Annotated[Path, typer.Argument(help="A task file or a folder (searched recursively).")],
) -> None:
    """Validate task files; print one line per malformed file and exit 1 if any."""
    from instructkit.tasks.collection import load_task_file

    if not path.exists():
        raise TaskFormatError(path, None, "no such file or folder")
    files = (
        [path]
        if path.is_file()
        else sorted(
            p
            for p in path.rglob("*")
            if p.suffix in (".json", ".jsonl") and p.name != "README.json"
        )
    )
    bad = 0
    with Progress(transient=True, console=err_console) as bar:
        tid = bar.add_task("validating", total=len(files))
        for f in files:
            try:
                load_task_file(f)
            except InstructkitError as e:
                bad += 1
                err_console.print(_styled(("error", "red"), f" {e}"), soft_wrap=True)
            bar.advance(tid)
    console.print(f"{len(files) - bad} of {len(files)} task files valid")
    if bad:
        raise typer.Exit(1)


@tasks_app.command("export-builtin")
def tasks_export_builtin(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write (tasks/ and splits/).")],
    n_instances: Annotated[int, typer.Option(help="Instances per task.")] = 100,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 1234,
    test_cluster: Annotated[
        list[str] | None, typer.Option(help="Cluster(s) in the test split.")
    ] = None,
) -> None:
    """Write the built-in suite as a SuperNI-format folder with split files."""
    from instructkit.tasks.builtin import export_builtin

    out = export_builtin(out_dir, n_instances=n_instances, seed=seed, test_clusters=test_cluster)
    console.print(f"wrote the built-in suite to {out}/ (tasks/, splits/default/)")


# ---- prompts ------------------------------------------------------------------------


def _rows(data: Path, limit: int | None) -> list[tuple[str, dict[str, Any]]]:
    from instructkit.tasks.jsonl import iter_jsonl_instances

    return [(i.id, i.fields) for i in iter_jsonl_instances(data, max_instances=limit)]


@prompts_app.command("list")
def prompts_list(
    task: Annotated[
        str | None, typer.Argument(help="A task name (built-in or in --source).")
    ] = None,
    source: Annotated[Path | None, typer.Option(help="Where to find the task.")] = None,
    templates: Annotated[Path | None, typer.Option(help="A PromptSource templates.yaml.")] = None,
) -> None:
    """List template ids: SuperNI encodings, NI v1 field sets, FLAN templates, or the
    templates of a PromptSource file."""
    from instructkit.prompts import load_templates_file
    from instructkit.prompts.render import template_ids

    if templates:
        table = Table(title=str(templates))
        for col in ("id", "name", "original task", "choices in prompt", "metrics"):
            table.add_column(col)
        for t in load_templates_file(templates):
            table.add_row(
                t.id,
                t.name,
                str(t.metadata.original_task),
                str(t.metadata.choices_in_prompt),
                ", ".join(t.metadata.metrics),
            )
        console.print(table)
        return
    chosen = _collection(source, None, "default")[task] if task else None
    for tid in template_ids(chosen):
        console.print(tid, highlight=False)


@prompts_app.command("show")
def prompts_show(
    task: Annotated[str, typer.Argument(help="A task name, or a label for --data rows.")],
    template: Annotated[
        str, typer.Option(help="Template id (or PromptSource id or name).")
    ] = "superni:Def+Pos(2)",
    n: Annotated[int, typer.Option("-n", help="Examples to show.")] = 3,
    source: Annotated[
        Path | None, typer.Option(help="Where to find the task; default: built-in.")
    ] = None,
    templates: Annotated[Path | None, typer.Option(help="A PromptSource templates.yaml.")] = None,
    data: Annotated[
        Path | None, typer.Option(help="JSONL rows for PromptSource templates.")
    ] = None,
    fewshot: Annotated[int, typer.Option(help="Few-shot exemplars for flan:fewshot*.")] = 2,
) -> None:
    """Print rendered examples: source, target and options."""
    from instructkit.prompts import load_templates_file
    from instructkit.prompts.promptsource import apply_template as apply_ps
    from instructkit.prompts.render import RenderContext, render

    if templates:
        if data is None:
            raise TaskFormatError(templates, None, "--data JSONL rows are needed to render")
        cands = [t for t in load_templates_file(templates) if template in (t.id, t.name)]
        if not cands:
            raise TaskFormatError(templates, None, f"no template with id or name '{template}'")
        examples = apply_ps(cands[0], _rows(data, None), task=task)[:n]
        if not examples:
            raise TaskFormatError(
                templates,
                None,
                f"template '{cands[0].name}' renders no target on any row of {data}",
            )
    else:
        t = _collection(source, None, "default")[task]
        examples = [
            render(template, t, inst, RenderContext(fewshot=fewshot)) for inst in t.instances[:n]
        ]
    for ex in examples:
        body = _styled(
            ("source:", "bold"), f"\n{ex.source}\n\n", ("target:", "bold"), f" {ex.target}"
        )
        if ex.options:
            body.append_text(_styled("\n", ("options:", "bold"), f" {' | '.join(ex.options)}"))
        console.print(
            Panel(body, title=Text(f"{ex.template} · {ex.instance_id}"), title_align="left"),
            highlight=False,
        )


@prompts_app.command("validate")
def prompts_validate(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="templates.yaml or a folder of them; default: FLAN templates, built-in suite."
        ),
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="JSONL rows to render PromptSource templates on.")
    ] = None,
    max_rows: Annotated[int | None, typer.Option(help="Render on at most this many rows.")] = None,
) -> None:
    """Render every template on sample data; print one line per problem, exit 1 if any."""
    from instructkit.prompts import load_templates_file
    from instructkit.prompts.checks import check_flan, check_promptsource
    from instructkit.prompts.promptsource import TemplateError
    from instructkit.tasks.builtin import builtin_tasks

    problems: list[str] = []
    count = 0
    if path is None:
        problems = [str(p) for p in check_flan(builtin_tasks(n_instances=5))]
        count = len(builtin_tasks(n_instances=1))
    else:
        if not path.exists():
            raise TaskFormatError(path, None, "no such file or folder")
        files = [path] if path.is_file() else sorted(path.rglob("templates.yaml"))
        rows = [r for _, r in _rows(data, max_rows)] if data else []
        for f in files:
            try:
                tpls = load_templates_file(f)
            except TemplateError as e:
                problems.append(str(e))
                continue
            count += len(tpls)
            problems += [str(p) for p in check_promptsource(tpls, rows)]
    for p in problems:
        err_console.print(_styled(("problem", "red"), f" {p}"), soft_wrap=True, highlight=False)
    what = "templates" if path is not None else "built-in tasks"
    console.print(f"{len(problems)} problem(s) in {count} {what}")
    if problems:
        raise typer.Exit(1)


export_app = typer.Typer(help="Export tasks for other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("lm-eval")
def export_lm_eval_cmd(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write (lm-eval --include_path).")],
    config: Annotated[
        Path | None, typer.Argument(help="Experiment YAML; default: built-in.")
    ] = None,
    all_tasks: Annotated[
        bool, typer.Option("--all", help="Every task, not only held-out.")
    ] = False,
) -> None:
    """Write the held-out tasks of a config, with their exact prompts, options and
    metrics, as an lm-evaluation-harness task folder."""
    from instructkit.evaluation.lm_eval_export import export_lm_eval
    from instructkit.experiments.config import default_config, load_config
    from instructkit.models.loading import source_token_counter

    cfg = load_config(config) if config else default_config()
    # The source budget counted as the model counts it.
    _, count = source_token_counter(cfg.model.name, trust_remote_code=cfg.model.trust_remote_code)
    done = export_lm_eval(cfg, out_dir, count_tokens=count, all_tasks=all_tasks)
    console.print(
        f"wrote {len(done['tasks'])} lm-eval tasks ({done['documents']} documents) to "
        f"{out_dir}/; run: lm_eval --include_path {out_dir} --tasks {done['group']} "
        f"--model hf --model_args pretrained=...",
        highlight=False,
    )


@app.command()
def push(
    model_dir: Annotated[Path, typer.Argument(help="A tuned model folder (<run>/model).")],
    repo_id: Annotated[str, typer.Argument(help="Hub repository, e.g. me/my-tuned-model.")],
    private: Annotated[bool, typer.Option(help="Create the repository private.")] = False,
) -> None:
    """Upload a tuned model (weights or adapter, tokenizer, model card) to the Hub."""
    from instructkit.experiments.hub import push_model

    url = push_model(model_dir, repo_id, private=private)
    console.print(f"pushed {model_dir} to {url}", highlight=False)


@app.command()
def serve(
    runs: Annotated[Path, typer.Option(help="Folder of run folders.")] = Path("runs"),
    store: Annotated[
        Path | None, typer.Option(help="SQLite results store; default: RUNS/results.sqlite.")
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(help="Task source: 'builtin', a SuperNI folder or task files (repeatable)."),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (only this machine by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Browse tasks, templates, runs and sweeps in a web browser (read-only)."""
    from instructkit.serve.app import serve as run_server

    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(
            f"warning: listening on {host}: anyone who can reach it can read these files",
            highlight=False,
        )
    console.print(f"instructkit serve: http://{host}:{port}/ (Ctrl+C stops)", highlight=False)
    run_server(source, runs, store, host=host, port=port)


def main() -> None:
    """Entry point: run the app, printing user errors as one line."""
    try:
        app()
    except InstructkitError as e:
        err_console.print(_styled(("error:", "bold red"), f" {e}"), soft_wrap=True, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted: run the same command again to resume", highlight=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
