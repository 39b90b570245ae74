"""Provider plugins: every provider registers its models through one hook, `register_models`.

A plugin is a module (or any object) with a hook implementation, as in simonw/llm:

    from app.services.analyzer.providers.plugins import hookimpl

    @hookimpl
    def register_models(register, context):
        register(MyModel(context.settings))

`register(model)` puts a model of any kind in the registry: an analysis model (`base.Model`)
today, an image-generation model (its own base class with its own `kind`) next, through the
same call. `register.owner(name)` says which model already answers to a name, for a plugin
that should not take an alias from another. `context` carries the settings and the HTTP
timeout and retry policy; an implementation may leave out arguments it does not use.

The loader calls the built-in modules (`BUILTIN_PLUGINS`) in order, then any installed
package that declares an entry point in the `jsoncraft` group:

    [project.entry-points.jsoncraft]
    myvendor = "myvendor.jsoncraft_plugin"
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType

import httpx
import pluggy

from app.services.analyzer.providers.base import ANALYSIS
from app.services.analyzer.providers.openai_chat import DEFAULT_RETRY, DEFAULT_TIMEOUT, RetryPolicy
from app.services.analyzer.providers.registry import ModelRegistry, Registrable, get_registry
from app.settings import Settings

PROJECT = "jsoncraft"
ENTRY_POINT_GROUP = PROJECT

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# The offline analyzer first, so it heads the model picker; then the remote providers.
OFFLINE_PLUGINS: tuple[str, ...] = ("app.services.analyzer.providers.local",)
# Image generation's providers register their models (kind "image_generation") the same way.
GENERATION_PLUGINS: tuple[str, ...] = (
    "app.services.generation.providers.together",
    "app.services.generation.providers.fal",
    "app.services.generation.providers.openrouter_images",
)
REMOTE_PLUGINS: tuple[str, ...] = (
    "app.services.analyzer.providers.openrouter",
    "app.services.analyzer.providers.openai_compatible",
    "app.services.analyzer.providers.fal_vision",
    *GENERATION_PLUGINS,
)
BUILTIN_PLUGINS = OFFLINE_PLUGINS + REMOTE_PLUGINS

# A module path to import, or an already loaded module or object with hook implementations.
Plugin = str | object


@dataclass(frozen=True)
class ProviderContext:
    """What a plugin may need to build its models."""

    settings: Settings
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    retry: RetryPolicy = DEFAULT_RETRY


class Register:
    """The `register` argument of the hook: adds models to one registry."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    def __call__(self, model: Registrable) -> None:
        # Loading again (new settings) replaces a model rather than doubling it.
        self._registry.register(model, replace=True)

    def owner(self, name: str, *, kind: str = ANALYSIS) -> str | None:
        """The id of the model that already answers to `name`, if any."""
        return self._registry.resolve(name, kind=kind)


class ProviderSpec:
    @hookspec
    def register_models(self, register: Register, context: ProviderContext) -> None:
        """Register this provider's models with `register(model)`."""


def load_models(
    context: ProviderContext,
    *,
    registry: ModelRegistry | None = None,
    plugins: Sequence[Plugin] = BUILTIN_PLUGINS,
    entry_points: bool = False,
) -> ModelRegistry:
    """Call every plugin's hook, `plugins` in order, then (with `entry_points`) installed
    third-party plugins. Safe to call again: models are replaced, not doubled."""
    target = registry if registry is not None else get_registry()
    third_party = entry_point_plugins() if entry_points else ()
    try:
        manager = _plugin_manager(tuple(plugins), third_party)
    except TypeError:  # a plugin object that can't be a cache key: build one for this call
        manager = _plugin_manager.__wrapped__(tuple(plugins), third_party)
    manager.hook.register_models(register=Register(target), context=context)
    return target


@functools.cache
def _plugin_manager(
    plugins: tuple[Plugin, ...], third_party: tuple[tuple[str, object], ...]
) -> pluggy.PluginManager:
    """The plugin manager for these plugins, built once: registering a module makes pluggy
    inspect every name in it, and models are loaded on every request that resolves one (a
    generation resolved them twice, about 25 ms each)."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(ProviderSpec)
    # pluggy calls the last registered implementation first: third-party plugins go in
    # first (so they run last and may replace a built-in model on purpose), then `plugins`
    # backwards, so that they run in the order given.
    for name, plugin in third_party:
        manager.register(plugin, name=f"{ENTRY_POINT_GROUP}:{name}")
    for plugin in reversed(plugins):
        manager.register(_loaded(plugin))
    return manager


def load_builtin_models(
    settings: Settings,
    *,
    registry: ModelRegistry | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> ModelRegistry:
    """Register the remote models (`REMOTE_PLUGINS`). Safe to call again.

    OpenRouter models are always listed (without a key they report why they are unavailable,
    so the picker can say so); the OpenAI-compatible endpoint's models only when its base URL
    is set, named by `settings.openai_compatible_models` (comma-separated).
    """
    return load_models(
        ProviderContext(settings, timeout=timeout, retry=retry),
        registry=registry,
        plugins=REMOTE_PLUGINS,
    )


@functools.cache
def entry_point_plugins() -> tuple[tuple[str, object], ...]:
    """Installed third-party plugins (name, loaded object), found once per process: scanning
    every installed package is too slow to repeat per request. `cache_clear()` to look again."""
    return tuple(
        (ep.name, ep.load()) for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    )


def _loaded(plugin: Plugin) -> ModuleType | object:
    return importlib.import_module(plugin) if isinstance(plugin, str) else plugin
