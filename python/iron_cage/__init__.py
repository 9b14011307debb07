"""iron_cage: the original project's import name; the same public names as iron_runtime."""
from iron_runtime import (
    ConfigurationError,
    IronRuntimeError,
    JavaNotFoundError,
    LlmRouter,
    RouterStartError,
    __version__,
)

__all__ = [
    "LlmRouter",
    "IronRuntimeError",
    "ConfigurationError",
    "JavaNotFoundError",
    "RouterStartError",
    "__version__",
]
