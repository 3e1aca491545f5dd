"""One registry pattern for every pluggable component.

A ``Registry`` is a name -> class map that refuses duplicate names and wrong base
classes, and whose lookup errors name the valid choices. Registries for packages
of modules (``gans.losses``, ``gans.variants``...) import every module in the
package on first use, so a new component is one new file: no list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """An unknown or clashing component name."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0])


class Registry(Generic[T]):
    def __init__(self, kind: str, base: type | None = None, package: str | None = None):
        self.kind = kind
        self.base = base
        self.package = package
        self._items: dict[str, T] = {}
        self._discovered = package is None

    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator: ``@LOSSES.register("hinge")``."""

        def decorator(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: T) -> None:
        if name in self._items and self._items[name] is not obj:
            raise RegistryError(f"{self.kind} '{name}' is already registered by {self._items[name]!r}")
        if self.base is not None and not (isinstance(obj, type) and issubclass(obj, self.base)):
            raise TypeError(f"{self.kind} '{name}' must be a subclass of {self.base.__name__}, got {obj!r}")
        if self.base is not None:
            obj.name = name  # type: ignore[attr-defined]  # every component knows its registered name
        self._items[name] = obj

    def discover(self) -> None:
        """Import every module of the package, which registers its components."""
        if self._discovered:
            return
        self._discovered = True
        pkg = importlib.import_module(self.package)
        for info in pkgutil.iter_modules(pkg.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{self.package}.{info.name}")

    def get(self, name: str) -> T:
        self.discover()
        if name not in self._items:
            raise RegistryError(f"unknown {self.kind} '{name}'; choose one of: {', '.join(self.names())}")
        return self._items[name]

    def names(self) -> list[str]:
        self.discover()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self.discover()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self):
        self.discover()
        return sorted(self._items.items())
