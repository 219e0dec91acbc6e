"""One small generic registry for every extension point of the pipeline.

A :class:`Registry` maps names to objects of one kind: task sources, template families,
split protocols, mixing rates, metrics, model families, model names and sweep kinds each
have one instance, defined beside the stage that uses it. Entries are added with a
decorator (``@SPLIT_PROTOCOLS.register("leave-one-task")``), directly
(``register(name, obj)``) or lazily (``register_lazy(name, "module:attr")``), imported on
first use, so that naming an entry never imports torch. Third-party packages register
from their own code, or through the entry-point group ``instructkit.<registry name>``
(``name = "package.module:attr"``), which is read the first time a name is missing.

A wrong name raises :class:`~instructkit.errors.UnknownNameError` with a "did you mean".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, overload

from instructkit.errors import InstructkitError, UnknownNameError

T = TypeVar("T")


def _import(path: str) -> Any:
    module, _, attr = path.partition(":")
    if not attr:
        raise InstructkitError(f"lazy registry entry '{path}' must be 'module:attribute'")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Named objects of one kind; ``what`` names the kind in error messages."""

    def __init__(self, what: str, *, entry_points: str | None = None) -> None:
        self.what = what
        self._entries: dict[str, T | str] = {}
        self._entry_points = entry_points
        self.version = 0  # bumped by every change, so callers may cache what they derive
        self._entry_points_read = False

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, obj: T) -> T: ...

    def register(self, name: str, obj: T | None = None) -> Any:
        """Add an entry: ``register(name, obj)`` or as a decorator ``@register(name)``.
        Registering a name again replaces the entry."""
        if obj is not None:
            self._entries[name] = obj
            self.version += 1
            return obj

        def decorator(o: T) -> T:
            self._entries[name] = o
            self.version += 1
            return o

        return decorator

    def register_lazy(self, name: str, path: str) -> None:
        """Add an entry imported on first use from ``path`` (``"module:attr"``)."""
        self._entries[name] = path
        self.version += 1

    def unregister(self, name: str) -> None:
        """Remove an entry (tests and plugins that undo themselves)."""
        self._entries.pop(name, None)
        self.version += 1

    def _read_entry_points(self) -> None:
        if self._entry_points_read or self._entry_points is None:
            return
        self._entry_points_read = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=self._entry_points):
            self._entries.setdefault(ep.name, ep.value)
        self.version += 1

    def __contains__(self, name: object) -> bool:
        if name in self._entries:
            return True
        self._read_entry_points()
        return name in self._entries

    def get(self, name: str) -> T:
        """The entry of that name (imported now if it was registered lazily)."""
        if name not in self:
            raise UnknownNameError(self.what, name, self.names())
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = _import(entry)
            self._entries[name] = entry
        return entry

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        self._read_entry_points()
        return list(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        """(name, entry) pairs; lazy entries are imported."""
        for name in self.names():
            yield name, self.get(name)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {', '.join(self.names())})"
