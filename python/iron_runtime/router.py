"""LlmRouter: a local proxy in front of OpenAI and Anthropic, run by the Java engine.

Python only checks argument types and converts them; the engine validates the
configuration, resolves the key mode and serves every request without calling back
into Python.
"""
from __future__ import annotations

import atexit
import json
import math
import operator
import os
import re
import threading
import weakref
from numbers import Real
from typing import Any, Dict, Mapping, Optional, Union

from . import _jvm
from .errors import ConfigurationError, java_errors

__all__ = ["LlmRouter"]

_PROVIDERS = ("openai", "anthropic")
# Environment read at construction and handed to the engine, which resolves the key mode.
_ENV_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "IC_TOKEN", "IC_SERVER")

ProviderKey = Union[str, Mapping[str, Optional[str]]]

# Routers still alive at interpreter exit are stopped before JPype shuts the JVM down:
# stopping takes milliseconds, while tearing down a JVM with a live server takes ~0.3 s.
_live_routers: "weakref.WeakSet[LlmRouter]" = weakref.WeakSet()
_exit_hook_lock = threading.Lock()
_exit_hook_registered = False


def _stop_live_routers() -> None:
    for router in list(_live_routers):
        try:
            router._bridge.stop()
        except BaseException:
            pass


def _register_exit_hook() -> None:
    # Registered after JPype's own exit hook (JPype is imported by now), so it runs first.
    global _exit_hook_registered
    with _exit_hook_lock:
        if not _exit_hook_registered:
            atexit.register(_stop_live_routers)
            _exit_hook_registered = True


def _type_name(value: Any) -> str:
    # Only ever the type: argument values may be secrets.
    return type(value).__name__


def _opt_str(name: str, value: Any) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a str or None, not {_type_name(value)}")


def _int(name: str, value: Any, low: int, high: Optional[int] = None) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        number = operator.index(value)  # int and int-likes (e.g. numpy integers), not floats
    except TypeError:
        raise TypeError(f"{name} must be an int, not {_type_name(value)}") from None
    if number < low or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigurationError(f"{name} must be {bounds}, got {number}")
    return number


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number of seconds, not {_type_name(value)}")
    seconds = float(value)
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
    return seconds


def _provider_key(value: Any) -> Union[None, str, Dict[str, str]]:
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(
            "provider_key must be a str or a dict like {'openai': ..., 'anthropic': ...}, "
            f"not {_type_name(value)}"
        )
    keys: Dict[str, str] = {}
    for provider, key in value.items():
        if provider not in _PROVIDERS:
            # Show the name only if it looks like a provider name: a swapped dict would put
            # a real key here, and keys are never shown.
            looks_safe = isinstance(provider, str) and re.fullmatch(r"[A-Za-z_]{1,20}", provider)
            shown = repr(provider) if looks_safe else "an unknown key"
            raise ConfigurationError(
                f"provider_key has {shown}; allowed keys are 'openai' and 'anthropic'"
            )
        if key is None:
            continue
        if not isinstance(key, str):
            raise TypeError(f"provider_key[{provider!r}] must be a str, not {_type_name(key)}")
        keys[provider] = key
    return keys


def _java_str(value: Any) -> Optional[str]:
    # convertStrings=False: Java strings arrive as java.lang.String, null as None.
    return None if value is None else str(value)


class LlmRouter:
    """A local OpenAI/Anthropic proxy whose hot path runs in the Java engine.

    Point an SDK at :attr:`base_url` with :attr:`api_key` as its key::

        with LlmRouter(provider_key="sk-...") as router:
            client = openai.OpenAI(base_url=router.base_url, api_key=router.api_key)

    Key modes, resolved by the engine in this order:

    * direct: ``provider_key``, or an ``api_key`` that is a provider key when no
      ``server_url`` is given, or ``OPENAI_API_KEY``/``ANTHROPIC_API_KEY``. The router
      holds the real key(s); :attr:`api_key` is a fresh random local token.
    * control server: ``api_key`` (Iron Cage token) with ``server_url``, or
      ``IC_TOKEN``/``IC_SERVER``.
    * passthrough: no key at all; clients send their own provider key, forwarded as is.

    The environment variables are read once, when the router is constructed.

    A router that is garbage collected is stopped, so an abandoned router frees its
    port; keep a reference for as long as it should serve. Routers still running at
    interpreter exit are stopped then.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        server_url: Optional[str] = None,
        cache_ttl_seconds: int = 300,
        *,
        provider_key: Optional[ProviderKey] = None,
        port: int = 0,
        host: str = "127.0.0.1",
        openai_base_url: Optional[str] = None,
        anthropic_base_url: Optional[str] = None,
        max_request_bytes: int = 32 * 1024 * 1024,
        connect_timeout: float = 10.0,
        read_timeout: float = 600.0,
        start: bool = True,
    ) -> None:
        """Configure the router and, unless ``start=False``, start serving.

        Args:
            api_key: a provider key (direct mode) or, with ``server_url``, an Iron Cage token.
            server_url: the Iron Cage control server URL.
            cache_ttl_seconds: how long keys fetched from the control server are cached.
            provider_key: the real provider key, or ``{"openai": ..., "anthropic": ...}``.
            port: the loopback port to listen on; 0 picks a free one.
            host: the address to listen on.
            openai_base_url: upstream OpenAI origin (default ``https://api.openai.com``).
            anthropic_base_url: upstream Anthropic origin (default ``https://api.anthropic.com``).
            max_request_bytes: larger request bodies are refused with 413.
            connect_timeout: seconds to wait for an upstream connection.
            read_timeout: seconds of upstream inactivity before answering 504.
            start: start serving now.

        Raises:
            TypeError: an argument has the wrong type.
            ConfigurationError: an argument or the environment is invalid.
            JavaNotFoundError: no Java 17+ runtime was found.
            RouterStartError: the router could not listen (e.g. port in use).
        """
        self._bridge: Any = None
        if not isinstance(start, bool):
            raise TypeError(f"start must be a bool, not {_type_name(start)}")
        if not isinstance(host, str):
            raise TypeError(f"host must be a str, not {_type_name(host)}")
        config: Dict[str, Any] = {
            "api_key": _opt_str("api_key", api_key),
            "server_url": _opt_str("server_url", server_url),
            "cache_ttl_seconds": _int("cache_ttl_seconds", cache_ttl_seconds, 0),
            "provider_key": _provider_key(provider_key),
            "port": _int("port", port, 0, 65535),
            "host": host,
            "openai_base_url": _opt_str("openai_base_url", openai_base_url),
            "anthropic_base_url": _opt_str("anthropic_base_url", anthropic_base_url),
            "max_request_bytes": _int("max_request_bytes", max_request_bytes, 1),
            "connect_timeout": _seconds("connect_timeout", connect_timeout),
            "read_timeout": _seconds("read_timeout", read_timeout),
            "env": {name: os.environ[name] for name in _ENV_VARS if name in os.environ},
        }
        config = {k: v for k, v in config.items() if v is not None}
        bridge_class = _jvm.bridge_class("RouterBridge")
        with java_errors():
            self._bridge = bridge_class.create(json.dumps(config))
        _register_exit_hook()
        _live_routers.add(self)
        if start:
            self.start()

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start serving; a no-op when running. A stopped router starts again."""
        with java_errors():
            if not self._bridge.isRunning():
                self._bridge.start()

    def stop(self) -> None:
        """Stop serving and free the port at once. Idempotent."""
        with java_errors():
            self._bridge.stop()

    def __enter__(self) -> "LlmRouter":
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __del__(self) -> None:
        # Free the port of an abandoned router. Never raise from a finalizer, and never
        # touch a JVM that is gone (interpreter shutdown).
        bridge = getattr(self, "_bridge", None)
        if bridge is None:
            return
        try:
            if _jvm.jvm_running():
                bridge.stop()  # idempotent; also releases what a never-started router holds
        except BaseException:
            pass

    # -- facts -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL clients use as their OpenAI base URL: ``http://127.0.0.1:{port}/v1``."""
        return str(self._bridge.baseUrl())

    @property
    def api_key(self) -> Optional[str]:
        """The local token clients must present; None in passthrough mode.

        This is never the real provider key.
        """
        return _java_str(self._bridge.localToken())

    @property
    def port(self) -> int:
        """The port the router listens on."""
        return int(self._bridge.port())

    @property
    def host(self) -> str:
        """The address the router listens on."""
        return str(self._bridge.host())

    @property
    def provider(self) -> Optional[str]:
        """``"openai"`` or ``"anthropic"`` (from the key), or None when not known."""
        return _java_str(self._bridge.provider())

    @property
    def mode(self) -> str:
        """``"direct"``, ``"control_server"`` or ``"passthrough"``."""
        return str(self._bridge.mode())

    @property
    def is_running(self) -> bool:
        """True while the router is serving."""
        return bool(self._bridge.isRunning())

    def describe(self) -> Dict[str, Any]:
        """The engine's description of this router (safe facts only, never keys)."""
        result: Dict[str, Any] = json.loads(str(self._bridge.describeJson()))
        return result

    def __repr__(self) -> str:
        # Only safe facts: never a key, never the local token.
        if self._bridge is None:
            return "<LlmRouter not created>"
        try:
            state = "running" if self.is_running else "stopped"
            return (
                f"<LlmRouter mode={self.mode} provider={self.provider} "
                f"base_url={self.base_url} {state}>"
            )
        except Exception:
            return "<LlmRouter unavailable>"
