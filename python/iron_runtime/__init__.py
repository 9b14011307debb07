"""iron-runtime: a governance runtime for AI agents.

The engine is Java, run in an embedded JVM started lazily (on first use, not at
import), so importing this package is fast and needs no Java.
"""
from .errors import (
    ConfigurationError,
    IronRuntimeError,
    JavaNotFoundError,
    RouterStartError,
)
from .router import LlmRouter

__version__ = "0.1.0"

__all__ = [
    "LlmRouter",
    "IronRuntimeError",
    "ConfigurationError",
    "JavaNotFoundError",
    "RouterStartError",
    "__version__",
]
