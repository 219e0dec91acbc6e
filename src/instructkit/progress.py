"""The progress bars of long work: what is counted, throughput and time left."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def bar_columns(label: str, *fields: str) -> tuple[ProgressColumn, ...]:
    """The columns of a bar: the label, the bar, done / total, then ``fields`` (rich
    format strings over the task's fields: the unit and its rate), time elapsed and left."""
    return (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        *(TextColumn(f) for f in fields),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
