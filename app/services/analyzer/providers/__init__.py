"""Model providers: a registry of models that stream typed events.

from app.services.analyzer.providers import ChatMessage, ChatRequest, get_registry

model = get_registry().get_model("nemotron")
async for event in model.stream(ChatRequest(messages=(ChatMessage("user", "Hi"),))):
    ...
"""

from app.services.analyzer.providers.base import (
    ChatMessage,
    ChatRequest,
    ContentDelta,
    ImageInput,
    Model,
    ModelInfo,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    Usage,
)
from app.services.analyzer.providers.openai_chat import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    SUPPORTED_OPTIONS,
    RetryPolicy,
    new_http_client,
    stream_chat_completion,
)
from app.services.analyzer.providers.openrouter import DEFAULT_MODEL_ID
from app.services.analyzer.providers.options import Options
from app.services.analyzer.providers.plugins import (
    ProviderContext,
    Register,
    hookimpl,
    load_builtin_models,
    load_models,
)
from app.services.analyzer.providers.registry import ModelRegistry, get_registry, reset_registry

__all__ = [
    "DEFAULT_MODEL_ID",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "SUPPORTED_OPTIONS",
    "ChatMessage",
    "ChatRequest",
    "ContentDelta",
    "ImageInput",
    "Model",
    "ModelInfo",
    "ModelRegistry",
    "Options",
    "ProviderContext",
    "ReasoningDelta",
    "Register",
    "RetryPolicy",
    "StreamEnd",
    "StreamEvent",
    "Usage",
    "get_registry",
    "hookimpl",
    "load_builtin_models",
    "load_models",
    "new_http_client",
    "reset_registry",
    "stream_chat_completion",
]
