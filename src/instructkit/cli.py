"""The ``instructkit`` command line: thin commands over the library API.

Errors meant for users (:class:`InstructkitError`) print as one line and exit with
status 1; nothing else is caught.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table

from instructkit.errors import InstructkitError, TaskFormatError

app = typer.Typer(
    help="Multi-task instruction tuning and zero-shot cross-task generalization.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
tasks_app = typer.Typer(help="List, show, validate and export tasks.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")
console = Console()
err_console = Console(stderr=True)


# ---- run ----------------------------------------------------------------------------


@app.command()
def run(
    config: Annotated[Path | None, typer.Argument(help="Experiment YAML; default: built-in.")] = None,
    model: Annotated[str | None, typer.Option(help="'default', 'tiny', 'tiny-t5', hub id or path.")] = None,
    name: Annotated[str | None, typer.Option(help="Run name (folder under --output-dir).")] = None,
    output_dir: Annotated[str | None, typer.Option(help="Parent folder of run folders.")] = None,
    steps: Annotated[int | None, typer.Option(help="Override train.steps.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Tune on training tasks, evaluate zero-shot on held-out tasks, write runs/<name>/."""
    from instructkit.experiments.config import default_config, load_config, tiny_overrides
    from instructkit.experiments.single import run_experiment

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
    run_experiment(cfg, console=console, show_progress=not quiet)


# ---- tasks --------------------------------------------------------------------------


def _collection(path: Path | None, split: str | None, track: str, n: int | None = None):  # type: ignore[no-untyped-def]
    from instructkit.tasks.builtin import builtin_tasks
    from instructkit.tasks.collection import load_collection

    if path is None:
        return builtin_tasks(n_instances=n or 100)
    return load_collection(path, split=split, track=track, max_instances=n)


@tasks_app.command("list")
def tasks_list(
    path: Annotated[Path | None, typer.Argument(help="SuperNI folder or task files; default: built-in.")] = None,
    split: Annotated[str | None, typer.Option(help="train | test | excluded (SuperNI folders).")] = None,
    track: Annotated[str, typer.Option(help="default | xlingual")] = "default",
) -> None:
    """List tasks with their category, cluster and number of instances."""
    coll = _collection(path, split, track)
    table = Table(title=f"{len(coll)} tasks" + (f" ({len(coll.missing)} listed but absent)" if coll.missing else ""))
    for col in ("task", "category", "cluster", "instances", "pos/neg examples"):
        table.add_column(col)
    for t in coll:
        table.add_row(t.name, t.category, t.cluster or "", str(len(t.instances)),
                      f"{len(t.positive_examples)}/{len(t.negative_examples)}")
    console.print(table)


@tasks_app.command("show")
def tasks_show(
    task: Annotated[str, typer.Argument(help="A task file, or a task name in --source.")],
    source: Annotated[Path | None, typer.Option(help="Where to find a named task; default: built-in.")] = None,
    n: Annotated[int, typer.Option("-n", help="Instances to show.")] = 3,
) -> None:
    """Show a task as the Natural Instructions paper does."""
    from instructkit.tasks.collection import load_task_file

    t = load_task_file(Path(task)) if Path(task).is_file() else _collection(source, None, "default")[task]
    title = t.title or t.name
    console.print(Panel.fit(f"[bold]{title}[/]  ({t.name})\n"
                            f"category: {t.category or '-'} · cluster: {t.cluster or '-'} · "
                            f"source: {', '.join(t.source) or '-'} · {len(t.instances)} instances"))
    if t.prompt:
        console.print(f"[bold cyan]Prompt:[/] {t.prompt}")
    console.print(f"[bold cyan]Definition:[/] {t.definition}")
    if t.emphasis_and_caution:
        console.print(f"[bold cyan]Emphasis & Caution:[/] {t.emphasis_and_caution}")
    if t.things_to_avoid:
        console.print(f"[bold cyan]Things to Avoid:[/] {t.things_to_avoid}")
    for kind, exs, color in (("Positive", t.positive_examples, "green"), ("Negative", t.negative_examples, "red")):
        for k, e in enumerate(exs, 1):
            body = f"[bold]Input:[/] {e.input}\n[bold]Output:[/] {e.output}"
            if e.explanation:
                body += f"\n[bold]Reason:[/] {e.explanation}"
            if e.suggestion:
                body += f"\n[bold]Suggestion:[/] {e.suggestion}"
            console.print(Panel(body, title=f"{kind} Example {k}", border_style=color, title_align="left"))
    for inst in t.instances[:n]:
        console.print(Panel(f"[bold]Input:[/] {inst.input}\n[bold]Output:[/] {' | '.join(inst.outputs)}",
                            title=f"Instance {inst.id}", title_align="left"))


@tasks_app.command("validate")
def tasks_validate(
    path: Annotated[Path, typer.Argument(help="A task file or a folder (searched recursively).")],
) -> None:
    """Validate task files; print one line per malformed file and exit 1 if any."""
    from instructkit.tasks.collection import load_task_file

    if not path.exists():
        raise TaskFormatError(path, None, "no such file or folder")
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.suffix in (".json", ".jsonl") and p.name != "README.json"
    )
    bad = 0
    with Progress(transient=True, console=err_console) as bar:
        tid = bar.add_task("validating", total=len(files))
        for f in files:
            try:
                load_task_file(f)
            except InstructkitError as e:
                bad += 1
                err_console.print(f"[red]error[/] {e}", soft_wrap=True)
            bar.advance(tid)
    console.print(f"{len(files) - bad} of {len(files)} task files valid")
    if bad:
        raise typer.Exit(1)


@tasks_app.command("export-builtin")
def tasks_export_builtin(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write (tasks/ and splits/).")],
    n_instances: Annotated[int, typer.Option(help="Instances per task.")] = 100,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 1234,
    test_cluster: Annotated[list[str] | None, typer.Option(help="Cluster(s) in the test split.")] = None,
) -> None:
    """Write the built-in suite as a SuperNI-format folder with split files."""
    from instructkit.tasks.builtin import export_builtin

    out = export_builtin(out_dir, n_instances=n_instances, seed=seed, test_clusters=test_cluster)
    console.print(f"wrote the built-in suite to {out}/ (tasks/, splits/default/)")


def main() -> None:
    """Entry point: run the app, printing user errors as one line."""
    try:
        app()
    except InstructkitError as e:
        err_console.print(f"[bold red]error:[/] {e}", soft_wrap=True, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
