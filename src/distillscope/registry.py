"""Named extension points: model backends, ICE judges, RSE similarity judges and fuzzer mutators.

Each is a `Registry`: a name -> factory mapping that code (or a plugin) adds to with `register`,
and that the command line reads with `lookup`, so every `--judge`, `--mutators` or model kind that
names nothing known fails the same way: one line that lists the choices. Iteration keeps the
order of registration (the built-ins first), which is the order help texts and defaults show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from distillscope.errors import UserError

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """A typed name -> factory mapping for one extension point.

    `what` names the extension point in messages ("model kind", "mutator"). `load`, if given,
    imports the modules whose registrations fill the registry; it runs once, on first read, so
    importing the registry costs nothing.
    """

    def __init__(self, what: str, *, load: Callable[[], None] | None = None) -> None:
        self.what = what
        self._items: dict[str, T] = {}
        self._load = load

    def _ensure_loaded(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None  # cleared first: the loaded modules call add()
            load()

    def add(self, name: str, item: T, *, replace: bool = False) -> T:
        """Register `item` under `name`. A second registration of a name is a programming error
        unless `replace` says it is meant (a plugin overriding a built-in)."""
        if not name or name != name.strip():
            raise ValueError(f"{self.what} name {name!r}: must be non-empty, without surrounding spaces")
        if name in self._items and not replace and self._items[name] is not item:
            raise ValueError(f"{self.what} {name!r} is already registered (pass replace=True to override)")
        self._items[name] = item
        return item

    def register(self, name: str, *, replace: bool = False) -> Callable[[T], T]:
        """Decorator form of `add`."""

        def decorate(item: T) -> T:
            return self.add(name, item, replace=replace)

        return decorate

    def lookup(self, name: str, *, flag: str | None = None) -> T:
        """The item called `name`; an unknown name is a `UserError` that lists the choices."""
        self._ensure_loaded()
        try:
            return self._items[name]
        except KeyError:
            raise UserError(self.unknown_message([name], flag=flag)) from None

    def unknown_message(self, names: list[str], *, flag: str | None = None) -> str:
        """The one-line message for names that are not registered (or for none given)."""
        self._ensure_loaded()
        prefix = f"{flag}: " if flag else ""
        given = ", ".join(repr(n) for n in names) if names else "(none given)"
        noun = self.what if len(names) <= 1 else f"{self.what}s"
        return f"{prefix}unknown {noun} {given} (choose from: {', '.join(self._items) or 'none registered'})"

    def names(self) -> list[str]:
        self._ensure_loaded()
        return list(self._items)

    def __getitem__(self, name: str) -> T:
        self._ensure_loaded()
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        self._ensure_loaded()
        return iter(list(self._items))

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._items

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {list(self._items)})"
