"""Build an expensive engine (ONNX sessions, cascades) once, on first use, from any thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """`Lazy(factory).get()` calls `factory` once; concurrent first callers wait for it.

    Models take seconds to load, so importing the analyzer must not load them, and two requests
    arriving together must not load them twice (memory on a 2-core box is not free either).
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
                value = self._value
        return value
