"""iron-runtime: a governance runtime for AI agents.

The engine is Java, run in an embedded JVM started lazily (on first use, not at
import), so importing this package is fast and needs no Java.
"""
from .errors import (
    AgentLaunchError,
    AgentNotFoundError,
    AgentStateError,
    ConfigurationError,
    ControlServerError,
    IronRuntimeError,
    JavaNotFoundError,
    RouterStartError,
)
from .router import EVENT_TYPES, LlmRouter
from .runtime import AgentHandle, Runtime

__version__ = "0.1.0"

__all__ = [
    "LlmRouter",
    "EVENT_TYPES",
    "Runtime",
    "AgentHandle",
    "AgentNotFoundError",
    "AgentStateError",
    "AgentLaunchError",
    "IronRuntimeError",
    "ConfigurationError",
    "JavaNotFoundError",
    "RouterStartError",
    "ControlServerError",
    "__version__",
]
