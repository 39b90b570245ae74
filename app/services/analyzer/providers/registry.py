"""Every model the app can call, found by id or alias, one table per kind of model.

Providers register models through `register()`, each from its plugin hook (`plugins.py`
loads them: `load_builtin_models`, `setup.ensure_models`); the registry knows no vendor.
A model's class says its `kind` ("analysis" for the vision/language models of `base.Model`;
image generation brings its own base and kind), and each kind has its own names, so a new
kind needs no change here. Tests build their own `ModelRegistry` (or `clear()` the default
one) and register fakes through the very same calls.

Beyond the registered models, a registry asks its sources (`add_source`) for names it does
not know: the provider catalogues (any model OpenRouter lists) are one, so hundreds of models
work without hundreds of registrations. Registered models win over a source's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, overload

from app.services.analyzer.catalogue.ids import closest, openrouter_id
from app.services.analyzer.providers.base import ANALYSIS, Model, ModelInfo
from app.services.core.errors import UnknownModelError

# How many model ids an "unknown model" message spells out.
_LISTED = 12
_CLOSEST = 5


class Registrable(Protocol):
    """What the registry needs of a model of any kind."""

    kind: ClassVar[str]
    info: ModelInfo

    def unavailable_reason(self) -> str | None: ...

    def is_available(self) -> bool: ...


M = TypeVar("M", bound=Registrable)


class ModelSource(Protocol):
    """Models found on demand by name (a provider's catalogue), not registered one by one."""

    def find(self, name: str) -> Model | None:
        """The model `name` stands for, or None."""

    def names(self) -> list[str]:
        """Every id it would find, for "did you mean" suggestions."""


@dataclass
class _Table:
    """The models of one kind."""

    models: dict[str, Registrable] = field(default_factory=dict)  # by id, in order
    names: dict[str, str] = field(default_factory=dict)  # casefolded id or alias -> id
    sources: dict[str, ModelSource] = field(default_factory=dict)


class ModelRegistry:
    def __init__(self) -> None:
        self._tables: dict[str, _Table] = {}

    def _table(self, kind: str) -> _Table:
        return self._tables.setdefault(kind, _Table())

    def register(self, model: Registrable, *, replace: bool = False) -> None:
        """Add a model to its kind's table. A clash of id or alias is a programming error
        unless `replace`, in which case the newcomer wins the id and every alias it asks for."""
        table = self._table(model.kind)
        info = model.info
        names = [info.model_id, *info.aliases]
        clashes = {table.names[n.casefold()] for n in names if n.casefold() in table.names}
        if clashes and not replace:
            raise ValueError(
                f"cannot register {info.model_id}: its id or aliases are taken by "
                f"{', '.join(sorted(clashes))} (pass replace=True to override)"
            )
        self.unregister(info.model_id, kind=model.kind)
        for name in names:
            table.names[name.casefold()] = info.model_id
        table.models[info.model_id] = model

    def unregister(self, model_id: str, *, kind: str = ANALYSIS) -> None:
        table = self._table(kind)
        table.models.pop(model_id, None)
        table.names = {name: mid for name, mid in table.names.items() if mid != model_id}

    def add_source(self, key: str, source: ModelSource) -> None:
        """Ask `source` for analysis-model names none registered answers to (same key:
        replaced)."""
        self._table(ANALYSIS).sources[key] = source

    def resolve(self, name: str, *, kind: str = ANALYSIS) -> str | None:
        """The registered model_id that `name` (an id or alias, any case, with or without an
        "openrouter/" or "openrouter:" prefix) stands for, if any."""
        names = self._table(kind).names
        folded = name.strip().casefold()
        return names.get(folded) or names.get(openrouter_id(folded))

    @overload
    def get_model(self, name: str) -> Model: ...

    @overload
    def get_model(self, name: str, kind: type[M]) -> M: ...

    def get_model(self, name: str, kind: type[Registrable] = Model) -> Registrable:
        """A registered model of `kind` (a model base class; analysis models by default),
        else one a source finds; UnknownModelError names the closest."""
        table = self._table(kind.kind)
        model_id = self.resolve(name, kind=kind.kind)
        if model_id is not None:
            return table.models[model_id]
        if name.strip() and len(name) <= 300:
            for source in table.sources.values():
                found = source.find(name)
                if found is not None:
                    return found
        raise UnknownModelError(self._unknown_message(name, table))

    def list_models(self, *, available_only: bool = False, kind: str = ANALYSIS) -> list[ModelInfo]:
        return [
            m.info
            for m in self._table(kind).models.values()
            if not available_only or m.is_available()
        ]

    @overload
    def models(self) -> list[Model]: ...

    @overload
    def models(self, kind: type[M]) -> list[M]: ...

    def models(self, kind: type[Registrable] = Model) -> list[Any]:
        """The registered models of `kind` in registration order (the picker says why one is
        unavailable)."""
        return list(self._table(kind.kind).models.values())

    def clear(self) -> None:
        self._tables.clear()

    def __contains__(self, name: object) -> bool:
        """Whether an analysis model answers to `name`."""
        return isinstance(name, str) and self.resolve(name) is not None

    def __len__(self) -> int:
        return sum(len(table.models) for table in self._tables.values())

    def _unknown_message(self, name: str, table: _Table) -> str:
        shown = " ".join(name.split())
        shown = shown if len(shown) <= 80 else shown[:79] + "…"
        ids = list(table.models)
        for source in table.sources.values():
            ids.extend(source.names())
        if not ids:
            return f"Unknown model '{shown}'. No models are set up."
        near = closest(name, ids, limit=_CLOSEST)
        if near:
            return f"Unknown model '{shown}'. Did you mean: {', '.join(near)}?"
        more = f", and {len(ids) - _LISTED} more" if len(ids) > _LISTED else ""
        return f"Unknown model '{shown}'. Choose one of: {', '.join(ids[:_LISTED])}{more}."


_default_registry = ModelRegistry()


def get_registry() -> ModelRegistry:
    """The process-wide registry the app uses."""
    return _default_registry


def reset_registry() -> None:
    """Empty the process-wide registry (tests, and reloading settings)."""
    _default_registry.clear()
