"""Exceptions raised by iron_runtime, and the mapping from the engine's Java exceptions.

Every Java exception that crosses the bridge is turned into one of these, carrying
only the Java message: never a Java stack trace, and never a key (the engine keeps
keys out of its messages; Python code here never formats argument values into text).
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

__all__ = [
    "IronRuntimeError",
    "ConfigurationError",
    "JavaNotFoundError",
    "RouterStartError",
    "ControlServerError",
    "AgentNotFoundError",
    "AgentStateError",
    "AgentLaunchError",
    "java_errors",
]


class IronRuntimeError(Exception):
    """Base class of every error raised by iron_runtime."""


class ConfigurationError(IronRuntimeError, ValueError):
    """An argument, environment variable or combination of them is invalid."""


class JavaNotFoundError(IronRuntimeError, RuntimeError):
    """No usable Java 17+ runtime was found to run the engine."""


class RouterStartError(IronRuntimeError, OSError):
    """The router could not start, e.g. because its port is already in use."""


class ControlServerError(RouterStartError):
    """A router with ``strict=True`` could not get its provider key or its first budget lease
    from the Iron Cage control server when it started. The message names the server's answer
    (``UNAUTHORIZED``, ``NO_PROVIDER_ASSIGNED``, ...) or why it could not be reached."""


class AgentNotFoundError(IronRuntimeError, LookupError):
    """No agent of the runtime has this id."""


class AgentStateError(IronRuntimeError, RuntimeError):
    """The agent (or the runtime) is not in a state that allows this: pausing a stopped agent,
    stopping one twice, starting agents on a runtime that was shut down."""


class AgentLaunchError(IronRuntimeError, OSError):
    """The agent's process could not be started: the interpreter is missing or not executable,
    the platform has no process groups, ..."""


# Java exception class -> Python exception class. Checked along the Java superclass
# chain, so subclasses of these Java exceptions map the same way.
_JAVA_TO_PYTHON = {
    "io.ironruntime.config.ConfigException": ConfigurationError,
    "io.ironruntime.router.ControlStartException": ControlServerError,
    "io.ironruntime.router.RouterStartException": RouterStartError,
    "io.ironruntime.agent.AgentNotFoundException": AgentNotFoundError,
    "io.ironruntime.agent.AgentStateException": AgentStateError,
    "io.ironruntime.agent.AgentLaunchException": AgentLaunchError,
}


def translate_java_exception(exc: BaseException) -> IronRuntimeError:
    """Return the iron_runtime exception for a Java exception raised by a bridge call."""
    java_class = exc.getClass()  # type: ignore[attr-defined]
    python_class: type[IronRuntimeError] = IronRuntimeError
    cls = java_class
    while cls is not None:
        mapped = _JAVA_TO_PYTHON.get(str(cls.getName()))
        if mapped is not None:
            python_class = mapped
            break
        cls = cls.getSuperclass()
    message = exc.getMessage()  # type: ignore[attr-defined]
    text = str(message) if message is not None else str(java_class.getSimpleName())
    return python_class(text)


@contextmanager
def java_errors() -> Iterator[None]:
    """Re-raise Java exceptions from bridge calls as iron_runtime exceptions.

    ``from None`` drops JPype's attached Java stack trace from the traceback.
    java.lang.Error (e.g. OutOfMemoryError) is not an application error and passes through.
    """
    try:
        yield
    except Exception as exc:
        jpype = sys.modules.get("jpype")  # only ever present once the JVM was needed
        if jpype is None or not isinstance(exc, jpype.JException):
            raise
        if not isinstance(exc, jpype.JClass("java.lang.Exception")):
            raise
        raise translate_java_exception(exc) from None
