"""LlmRouter: a local proxy in front of OpenAI and Anthropic, run by the Java engine.

Python only checks argument types and converts them; the engine validates the
configuration, resolves the key mode and serves every request without calling back
into Python.
"""
from __future__ import annotations

import atexit
import datetime
import json
import logging
import math
import operator
import os
import re
import threading
import weakref
from decimal import Decimal
from numbers import Real
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _dashboard, _jvm
from .errors import ConfigurationError, java_errors

_log = logging.getLogger("iron_runtime")

__all__ = ["LlmRouter", "EVENT_TYPES"]

_PROVIDERS = ("openai", "anthropic")
# Environment read at construction and handed to the engine, which resolves the key mode.
_ENV_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "IC_TOKEN", "IC_SERVER", "IRON_RUNTIME_HOME")
_UNKNOWN_MODEL = ("block", "allow")
_PII_MODES = ("redact", "mask", "hash", "block", "detect", "off")
_PII_SCOPES = ("request", "response", "both")
# How long the event thread waits inside Java per poll: bounds how long close() waits for it.
_ALERT_POLL_MS = 200
# Event types delivered to on_budget_alert / on_pii_detected callbacks.
_BUDGET_ALERT = "budget_threshold_reached"
_PII_DETECTED = "pii_detected"
_CIRCUIT_CHANGED = "circuit_state_changed"
# Every engine event type (router.events(types=...) and router.on_event(types=...) accept these).
EVENT_TYPES = (
    "router_started", "router_stopped", "request_completed", "request_failed",
    "budget_threshold_reached", "budget_exceeded", "pii_detected", "circuit_state_changed",
    "rate_limited", "agent_started", "agent_paused", "agent_resumed", "agent_stopped",
    "agent_restarted", "agent_failed", "agent_completed", "provider_key_fetched",
    "control_server_error", "lease_acquired", "lease_refresh_denied", "lease_returned", "lease_lost",
    "control_report_rejected",
)
_MAX_EVENTS_LIMIT = 100_000
_CIRCUIT_KEYS = ("failure_threshold", "failure_rate", "window", "minimum_calls", "recovery_timeout",
                 "half_open_probes")
_BACKOFF_KEYS = ("base_delay", "max_delay", "max_retry_after")
_RATE_KEYS = ("rpm", "tpm")

ProviderKey = Union[str, Mapping[str, Optional[str]]]

# Routers still alive at interpreter exit are stopped before JPype shuts the JVM down:
# stopping takes milliseconds, while tearing down a JVM with a live server takes ~0.3 s.
_live_routers: "weakref.WeakSet[LlmRouter]" = weakref.WeakSet()
_exit_hook_lock = threading.Lock()
_exit_hook_registered = False


# Event threads still running. At exit they are told to end and joined before JPype shuts the JVM
# down: a thread returning from a Java call into a JVM that is being destroyed crashes the process.
_event_threads: "set[threading.Thread]" = set()
_exiting = threading.Event()


def _stop_live_routers() -> None:
    _exiting.set()
    for router in list(_live_routers):
        try:
            router.close()
        except BaseException:
            pass
    for thread in list(_event_threads):
        thread.join(2 * _ALERT_POLL_MS / 1000 + 1)


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


def _non_negative_seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number of seconds, not {_type_name(value)}")
    seconds = float(value)
    if not (seconds >= 0 and math.isfinite(seconds)):
        raise ConfigurationError(f"{name} must be zero or a positive number of seconds, got {value!r}")
    return seconds


def _opt_seconds(name: str, value: Any) -> Optional[float]:
    return None if value is None else _seconds(name, value)


def _opt_bool(name: str, value: Any) -> Optional[bool]:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {_type_name(value)}")
    return value


def _opt_number(name: str, value: Any) -> Optional[float]:
    """A plain number; its range is the engine's to check (one message for every caller)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, not {_type_name(value)}")
    if not math.isfinite(float(value)):
        raise ConfigurationError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _settings_dict(name: str, value: Any, keys: Tuple[str, ...], example: str) -> Dict[str, Any]:
    """A dict of numeric settings: types checked here, ranges by the engine (one message each)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict like {example}, not {_type_name(value)}")
    out: Dict[str, Any] = {}
    for key, v in value.items():
        if key not in keys:
            raise ConfigurationError(f"{name} has an unknown setting {key!r} (known: {', '.join(keys)})")
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, Real):
            raise TypeError(f"{name}[{key!r}] must be a number, not {_type_name(v)}")
        out[key] = v if isinstance(v, int) else float(v)
    return out


def _circuit_breaker(value: Any) -> Union[bool, Dict[str, Any]]:
    if isinstance(value, bool):
        return value
    if value is None:
        return True
    return _settings_dict("circuit_breaker", value, _CIRCUIT_KEYS, "{'failure_threshold': 5, 'recovery_timeout': 30}")


def _rate_limits(value: Any) -> Optional[Dict[str, Any]]:
    if value is None:
        return None
    limits = _settings_dict("rate_limits", value, _RATE_KEYS, "{'rpm': 500, 'tpm': 200000}")
    for key, v in limits.items():
        if not isinstance(v, int):
            raise TypeError(f"rate_limits[{key!r}] must be an int, not {_type_name(v)}")
    return limits


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


def _dollars(name: str, value: Any) -> str:
    """A dollar amount as exact decimal text for the engine (which holds money as integers)."""
    if isinstance(value, bool) or not isinstance(value, (Real, Decimal)):
        raise TypeError(f"{name} must be a number of US dollars, not {_type_name(value)}")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    else:  # floats by their shortest repr: 0.1 means exactly 0.1 dollars
        amount = Decimal(repr(float(value)))
    if not amount.is_finite():
        raise ConfigurationError(f"{name} must be a finite number of US dollars, got {value!r}")
    if amount < 0:
        raise ConfigurationError(f"{name} cannot be negative, got {value!r}")
    return str(amount)


def _opt_path(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise TypeError(f"{name} must be a path (str or os.PathLike) or None, not {_type_name(value)}")


def _model_aliases(value: Any) -> Optional[Dict[str, str]]:
    """Types here; the engine checks names and that no alias names another (one message each)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"model_aliases must be a dict of alias to model name, not {_type_name(value)}")
    out: Dict[str, str] = {}
    for alias, model in value.items():
        if not isinstance(alias, str) or not isinstance(model, str):
            raise TypeError(f"model_aliases must map str to str, got {_type_name(alias)} -> {_type_name(model)}")
        out[alias] = model
    return out


def _custom_pricing(value: Any) -> Optional[Dict[str, Dict[str, Any]]]:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"custom_pricing must be a dict of model name to prices, not {_type_name(value)}")
    out: Dict[str, Dict[str, Any]] = {}
    for model, prices in value.items():
        if not isinstance(model, str):
            raise TypeError(f"custom_pricing keys must be model names (str), not {_type_name(model)}")
        if not isinstance(prices, Mapping):
            raise TypeError(f"custom_pricing[{model!r}] must be a dict of prices, not {_type_name(prices)}")
        entry: Dict[str, Any] = {}
        for field, number in prices.items():
            if isinstance(number, bool) or not isinstance(number, (Real, Decimal, str)):
                raise TypeError(f"custom_pricing[{model!r}][{field!r}] must be a number, not {_type_name(number)}")
            if isinstance(number, float) and not math.isfinite(number):
                raise ConfigurationError(f"custom_pricing[{model!r}][{field!r}] must be finite")
            entry[str(field)] = str(number) if isinstance(number, Decimal) else number
        out[model] = entry
    return out


def _alerts(value: Any) -> Optional[List[str]]:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"budget_alerts must be a list of fractions like [0.5, 0.8, 1.0], not {_type_name(value)}")
    fractions = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (Real, Decimal)):
            raise TypeError(f"budget_alerts must hold numbers (fractions of the budget), not {_type_name(v)}")
        if not (0 < float(v) <= 1):
            raise ConfigurationError(
                f"budget_alerts are fractions of the budget between 0 and 1 (0.5 means 50%), got {v!r}"
            )
        fractions.append(str(v) if isinstance(v, Decimal) else repr(float(v)))
    return fractions


def _pii(value: Any) -> str:
    if value is False:
        return "off"
    if not isinstance(value, str):
        raise TypeError(f"pii must be one of {', '.join(map(repr, _PII_MODES))}, not {_type_name(value)}")
    if value.lower() not in _PII_MODES:
        raise ConfigurationError(f"pii must be one of {', '.join(map(repr, _PII_MODES))}, got {value!r}")
    return value.lower()


def _pii_scope(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"pii_scope must be 'request', 'response' or 'both', not {_type_name(value)}")
    if value.lower() not in _PII_SCOPES:
        raise ConfigurationError(f"pii_scope must be 'request', 'response' or 'both', got {value!r}")
    return value.lower()


def _pii_patterns(value: Any) -> Optional[List[Dict[str, Any]]]:
    if value is None:
        return None
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(
            "pii_patterns must be a list of dicts like {'name': 'EMPLOYEE_ID', 'regex': r'EMP-\\d{6}', "
            f"'validator': None}}, not {_type_name(value)}"
        )
    out = []
    for i, p in enumerate(value):
        if not isinstance(p, Mapping):
            raise TypeError(f"pii_patterns[{i}] must be a dict with 'name' and 'regex', not {_type_name(p)}")
        for key in ("name", "regex"):
            if not isinstance(p.get(key), str):
                raise TypeError(f"pii_patterns[{i}]['{key}'] must be a str, not {_type_name(p.get(key))}")
        if p.get("validator") is not None and not isinstance(p.get("validator"), str):
            raise TypeError(f"pii_patterns[{i}]['validator'] must be None or a validator name such as 'luhn'")
        out.append(dict(p))
    return out


def _pii_detectors(value: Any) -> Optional[Dict[str, bool]]:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"pii_detectors must be a dict like {{'IP_ADDRESS': False}}, not {_type_name(value)}")
    for name, on in value.items():
        if not isinstance(name, str) or not isinstance(on, bool):
            raise TypeError("pii_detectors maps detector names (str) to True/False")
    return dict(value)


def _deliver_events(router_ref: "weakref.ref[LlmRouter]", bridge: Any) -> None:
    """The event thread: polls the engine and calls the callbacks registered for each
    event type. Holds the router only weakly between polls, so an abandoned router is
    still collected (and closed)."""
    try:
        _event_loop(router_ref, bridge)
    finally:
        _event_threads.discard(threading.current_thread())


def _event_loop(router_ref: "weakref.ref[LlmRouter]", bridge: Any) -> None:
    while _jvm.jvm_running() and not _exiting.is_set():
        try:
            batch = json.loads(str(bridge.pollEventsJson(_ALERT_POLL_MS)))
        except Exception:  # the JVM is going away
            return
        router = router_ref()
        if router is None or router._closed or _exiting.is_set():
            return
        with router._alert_lock:
            callbacks = {t: list(fns) for t, fns in router._callbacks.items()}
            batch_callbacks = list(router._batch_callbacks)
        del router
        for fn, types in batch_callbacks:
            wanted = batch if types is None else [e for e in batch if e.get("type") in types]
            if wanted:
                try:
                    fn(wanted)
                except Exception:
                    _log.exception("event callback %r failed for a batch of %d", fn, len(wanted))
        for event in batch:
            for fn in callbacks.get(event.get("type"), ()):
                try:
                    fn(event)
                except Exception:
                    _log.exception("event callback %r failed for %s", fn, event.get("type"))


def _event_types(types: Any) -> List[str]:
    if isinstance(types, str) or not isinstance(types, Iterable):
        raise TypeError("types must be a list of event type names, like ['request_completed']")
    names = list(types)
    for name in names:
        if name not in EVENT_TYPES:
            raise ValueError(f"unknown event type {name!r}; known types: {', '.join(EVENT_TYPES)}")
    return names


def _since(since: Any) -> Tuple[int, Optional[str]]:
    """(since_ms or -1, after_event_id or None) for the engine."""
    if since is None:
        return -1, None
    if isinstance(since, str):
        if not since.startswith("evt_"):
            raise ValueError("since as a str must be an event_id (starting with 'evt_')")
        return -1, since
    if isinstance(since, datetime.datetime):
        return int(since.timestamp() * 1000), None
    if isinstance(since, bool) or not isinstance(since, int):
        raise TypeError(
            f"since must be an int (ms since the epoch), a datetime or an event_id, not {_type_name(since)}"
            " (for time.time() seconds, pass int(t * 1000))"
        )
    if since < 0:
        raise ValueError("since must not be negative")
    return since, None


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
        strict: Optional[bool] = None,
        lease_budget: Optional[float] = None,
        lease_refresh_threshold: Optional[float] = None,
        analytics_interval: Optional[float] = None,
        provider_key: Optional[ProviderKey] = None,
        model_aliases: Optional[Mapping[str, str]] = None,
        port: int = 0,
        host: str = "127.0.0.1",
        openai_base_url: Optional[str] = None,
        anthropic_base_url: Optional[str] = None,
        max_request_bytes: int = 32 * 1024 * 1024,
        connect_timeout: float = 10.0,
        first_byte_timeout: Optional[float] = None,
        idle_timeout: Optional[float] = None,
        total_timeout: float = 900.0,
        read_timeout: Optional[float] = None,
        circuit_breaker: Union[bool, Mapping[str, float], None] = True,
        max_retries: int = 2,
        retry_backoff: Optional[Mapping[str, float]] = None,
        rate_limits: Optional[Mapping[str, int]] = None,
        max_in_flight: int = 1024,
        queue_timeout: float = 30.0,
        budget: Optional[float] = None,
        budget_id: Optional[str] = None,
        state_dir: Union[str, "os.PathLike[str]", None] = None,
        persist: bool = True,
        pricing_file: Union[str, "os.PathLike[str]", None] = None,
        custom_pricing: Optional[Mapping[str, Mapping[str, float]]] = None,
        unknown_model: str = "block",
        budget_alerts: Optional[Iterable[float]] = None,
        pii: str = "redact",
        pii_scope: str = "both",
        pii_patterns: Optional[Iterable[Mapping[str, Any]]] = None,
        pii_detectors: Optional[Mapping[str, bool]] = None,
        pii_region: str = "US",
        pii_salt: Optional[str] = None,
        event_retention_days: int = 30,
        verbose: bool = False,
        log_level: str = "warning",
        start: bool = True,
    ) -> None:
        """Configure the router and, unless ``start=False``, start serving.

        Args:
            api_key: a provider key (direct mode) or, with ``server_url``, an Iron Cage token.
            server_url: the Iron Cage control server URL.
            cache_ttl_seconds: how long a provider key fetched from the control server is
                used (1 to 86400); it is fetched again in the background before it expires.
            strict: control-server mode only. ``True``: if the key or the first budget
                lease cannot be had at start, raise :class:`ControlServerError`. Default
                ``False``: start anyway, report the problem in ``metrics()["control"]`` and
                events, answer requests with a 503/502 naming the server's error, and keep trying.
            lease_budget: control-server mode only. USD asked for per budget lease (default
                10, at most 100); ``budget`` caps the spend below the leases.
            lease_refresh_threshold: control-server mode only. Refresh the lease when the
                part of it neither spent nor reserved falls below this fraction (default 0.2).
            analytics_interval: control-server mode only. Seconds between posts of finished
                requests to the server's analytics (default 5; also at stop).
            provider_key: the real provider key, or ``{"openai": ..., "anthropic": ...}``.
                With both keys, OpenAI-format clients can call Claude models and
                Anthropic-format clients OpenAI models: the router translates.
            model_aliases: names clients may use for models, e.g. ``{"fast":
                "claude-haiku-4-5"}``; applied before routing, translation and pricing.
            port: the loopback port to listen on; 0 picks a free one.
            host: the address to listen on.
            openai_base_url: upstream OpenAI origin (default ``https://api.openai.com``).
            anthropic_base_url: upstream Anthropic origin (default ``https://api.anthropic.com``).
            max_request_bytes: larger request bodies are refused with 413.
            connect_timeout: seconds to open a provider connection (TCP and TLS).
            first_byte_timeout: seconds from sending a request to the response head (a
                non-streamed answer arrives whole, so this bounds its generation too);
                default 120.
            idle_timeout: seconds a started response may go without new data; default 120.
            total_timeout: seconds the whole call may take, retries included.
                Each timeout ends in a provider-shaped 504, or an error event when a
                stream already started; the partial cost is charged.
            read_timeout: sets ``first_byte_timeout`` and ``idle_timeout`` together
                (when those are not given).
            circuit_breaker: per upstream (provider + origin): ``True`` (defaults),
                ``False``, or a dict of ``failure_threshold`` (5 consecutive failures),
                ``failure_rate`` (0.5 of the last ``window`` = 20 calls, once there are
                ``minimum_calls`` = 10), ``recovery_timeout`` (30 s open, then
                ``half_open_probes`` = 3 probes). While open: 503 with Retry-After.
            max_retries: retries of a connect failure, a reset before the response, or a
                429/500/502/503/504/529 answer, before anything reached the client.
            retry_backoff: ``{"base_delay": 0.5, "max_delay": 8, "max_retry_after": 60}``:
                full-jitter exponential backoff; a provider's Retry-After wins, unless it
                asks for more than ``max_retry_after`` (then its answer is passed on).
            rate_limits: ``{"rpm": 500, "tpm": 200000}``; over a limit requests get 429
                with ``Retry-After`` and the provider's rate-limit headers.
            max_in_flight: provider calls running at once; later requests queue.
            queue_timeout: seconds a queued request waits before it gets 429.
            budget: the hard budget in US dollars; None means unlimited (spend is still
                tracked). Requests that could overspend it are refused with HTTP 402.
            budget_id: a name under which spend accumulates across restarts and across
                routers using the same id (read from the ledger database at construction).
            state_dir: where the ledger database lives (default ``$IRON_RUNTIME_HOME``,
                else ``~/.iron_runtime``); the file is ``iron_runtime.db``.
            persist: False keeps the ledger in memory only (no database).
            pricing_file: a JSON price table in LiteLLM's shape, laid over the bundled one.
            custom_pricing: ``{"model": {"input_cost_per_token": ..., "output_cost_per_token": ...}}``
                (also ``cache_read_input_token_cost``, ``cache_creation_input_token_cost``,
                ``max_output_tokens``), laid over everything else.
            unknown_model: ``"block"`` refuses requests for models without a price;
                ``"allow"`` forwards them and records their tokens with the cost flagged unknown.
            budget_alerts: fractions of the budget that raise an alert (default
                ``[0.5, 0.8, 0.95, 1.0]``); see :meth:`on_budget_alert`.
            pii: what to do with PII and secrets found in the text agents and models
                write: ``"redact"`` (``[EMAIL_REDACTED]``), ``"mask"`` (``****1234``),
                ``"hash"`` (a salted token, stable within the router), ``"block"`` (HTTP
                400 naming the types), ``"detect"`` (audit only) or ``"off"``.
            pii_scope: ``"request"`` (before anything leaves the machine), ``"response"``
                or ``"both"``.
            pii_patterns: your own detectors, ``[{"name": "EMPLOYEE_ID", "regex":
                r"EMP-\\d{6}", "validator": None}]``; a validator may be ``"luhn"``,
                ``"mod97"``, ``"iban"``, ``"ssn"``, ``"card"``, ``"email"``, ``"ipv4"``, ``"ipv6"``.
            pii_detectors: built-in detectors to switch off, e.g. ``{"IP_ADDRESS": False}``.
            pii_region: the country of phone numbers written without ``+`` (ISO code).
            pii_salt: the key of hash tokens and audit fingerprints (at least 16
                characters); by default a random one per router.
            event_retention_days: how many days the database keeps engine events (see
                :meth:`events`); older ones are deleted at start and about daily. 1 to 3650.
            verbose: log one JSON line per finished request to stderr (logger
                ``iron_runtime.requests``): ids, trace, provider, model, status, tokens, cost,
                latency, PII count; never a key, a token, prompt text or a PII value.
            log_level: the level of the engine's other messages on stderr: ``"debug"``,
                ``"info"``, ``"warning"`` (default), ``"error"`` or ``"off"``. The engine is
                shared by the whole process: the most detailed level of the open routers applies.
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
        if not isinstance(persist, bool):
            raise TypeError(f"persist must be a bool, not {_type_name(persist)}")
        if not isinstance(verbose, bool):
            raise TypeError(f"verbose must be a bool, not {_type_name(verbose)}")
        if not isinstance(log_level, str):
            raise TypeError(f"log_level must be a str such as 'info' or 'warning', not {_type_name(log_level)}")
        if unknown_model not in _UNKNOWN_MODEL:
            if not isinstance(unknown_model, str):
                raise TypeError(f"unknown_model must be a str, not {_type_name(unknown_model)}")
            raise ConfigurationError("unknown_model must be 'block' or 'allow'")
        self._alert_lock = threading.Lock()
        self._callbacks: Dict[str, List[Callable[[Dict[str, Any]], Any]]] = {}
        self._batch_callbacks: List[Tuple[Callable[[List[Dict[str, Any]]], Any], Optional[frozenset]]] = []
        self._alert_thread: Optional[threading.Thread] = None
        self._closed = False
        self._launcher_files: List[str] = []  # open_dashboard's redirect pages, deleted at close()
        config: Dict[str, Any] = {
            "api_key": _opt_str("api_key", api_key),
            "server_url": _opt_str("server_url", server_url),
            "cache_ttl_seconds": _int("cache_ttl_seconds", cache_ttl_seconds, 1, 86_400),
            "strict": _opt_bool("strict", strict),
            "lease_budget": None if lease_budget is None else _dollars("lease_budget", lease_budget),
            "lease_refresh_threshold": _opt_number("lease_refresh_threshold", lease_refresh_threshold),
            "analytics_interval": _opt_seconds("analytics_interval", analytics_interval),
            "provider_key": _provider_key(provider_key),
            "model_aliases": _model_aliases(model_aliases),
            "port": _int("port", port, 0, 65535),
            "host": host,
            "openai_base_url": _opt_str("openai_base_url", openai_base_url),
            "anthropic_base_url": _opt_str("anthropic_base_url", anthropic_base_url),
            "max_request_bytes": _int("max_request_bytes", max_request_bytes, 1),
            "connect_timeout": _seconds("connect_timeout", connect_timeout),
            "first_byte_timeout": _opt_seconds("first_byte_timeout", first_byte_timeout),
            "idle_timeout": _opt_seconds("idle_timeout", idle_timeout),
            "total_timeout": _seconds("total_timeout", total_timeout),
            "read_timeout": _opt_seconds("read_timeout", read_timeout),
            "circuit_breaker": _circuit_breaker(circuit_breaker),
            "max_retries": _int("max_retries", max_retries, 0, 10),
            "retry_backoff": None if retry_backoff is None else _settings_dict(
                "retry_backoff", retry_backoff, _BACKOFF_KEYS, "{'base_delay': 0.5, 'max_delay': 8}"),
            "rate_limits": _rate_limits(rate_limits),
            "max_in_flight": _int("max_in_flight", max_in_flight, 1, 100_000),
            "queue_timeout": _non_negative_seconds("queue_timeout", queue_timeout),
            "budget": None if budget is None else _dollars("budget", budget),
            "budget_id": _opt_str("budget_id", budget_id),
            "state_dir": _opt_path("state_dir", state_dir),
            "persist": persist,
            "pricing_file": _opt_path("pricing_file", pricing_file),
            "custom_pricing": _custom_pricing(custom_pricing),
            "unknown_model": unknown_model,
            "budget_alerts": _alerts(budget_alerts),
            "pii": _pii(pii),
            "pii_scope": _pii_scope(pii_scope),
            "pii_patterns": _pii_patterns(pii_patterns),
            "pii_detectors": _pii_detectors(pii_detectors),
            "pii_region": _opt_str("pii_region", pii_region),
            "pii_salt": _opt_str("pii_salt", pii_salt),
            "event_retention_days": _int("event_retention_days", event_retention_days, 1, 3650),
            "verbose": verbose,
            "log_level": log_level,
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
        """Stop serving and free the port at once. Idempotent.

        Waits briefly until the ledger rows of settled requests are in the database.
        A stopped router can start again.
        """
        with java_errors():
            self._bridge.stop()

    def close(self) -> None:
        """Stop, and close the ledger database; the router cannot start again. Idempotent."""
        if self._bridge is None or self._closed:
            return
        self._closed = True
        with java_errors():
            self._bridge.close()
        _dashboard.remove_files(self._launcher_files)
        thread = self._alert_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2 * _ALERT_POLL_MS / 1000 + 1)

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
        self._closed = True  # ends the alert thread, if any
        _dashboard.remove_files(getattr(self, "_launcher_files", []))
        try:
            if _jvm.jvm_running():
                bridge.close()  # idempotent; also releases what a never-started router holds
        except BaseException:
            pass

    # -- facts -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL clients use as their OpenAI base URL: ``http://127.0.0.1:{port}/v1``."""
        return str(self._bridge.baseUrl())

    @property
    def events_url(self) -> Optional[str]:
        """The live feed's WebSocket, ``ws://127.0.0.1:{port}/iron/ws``; None when not running.

        It listens on a second port of the router's host, chosen at start (a restart keeps
        it when it can). Authenticate with :attr:`admin_token`, as ``Authorization: Bearer``
        on the handshake or as the first text message; the same messages come as
        Server-Sent Events from ``GET /iron/events`` on the router's own port. See the
        README's "Live feed" section for the messages.
        """
        return _java_str(self._bridge.eventsUrl())

    @property
    def api_key(self) -> Optional[str]:
        """The local token clients must present; None in passthrough mode.

        This is never the real provider key.
        """
        return _java_str(self._bridge.localToken())

    @property
    def admin_token(self) -> str:
        """The token of the router's own endpoints (metrics, REST API, live feeds).

        The same as :attr:`api_key`; in passthrough mode, where clients bring their
        own provider keys, a random token of its own. Never a provider key.
        """
        return str(self._bridge.adminToken())

    @property
    def dashboard_url(self) -> str:
        """The dashboard's link, ``http://127.0.0.1:{port}/iron/dashboard#token=...``.

        It carries :attr:`admin_token` in the fragment, which the browser keeps to itself (never
        sent to a server, nor in a Referer); the page moves it into the tab's sessionStorage and
        out of the address bar. Treat the link like the token: it opens this router's API for as
        long as the router runs.
        """
        return str(self._bridge.dashboardUrl())

    def open_dashboard(self, browser: bool = True) -> None:
        """Print the dashboard's link and, with ``browser=True`` where a graphical browser is
        available, open it there.

        The printed link carries the router token (see :attr:`dashboard_url`): it is meant for
        your own terminal or notebook. The browser is started on a small redirect page readable
        by you only, so the token never appears on a command line; the page is deleted when the
        router is closed.
        """
        if not isinstance(browser, bool):
            raise TypeError(f"browser must be a bool, not {_type_name(browser)}")
        if not self.is_running:
            raise RuntimeError("the router is stopped: start() it, then open its dashboard")
        url = self.dashboard_url
        opened = False
        if browser and _dashboard.can_open_browser():
            database = self.database_path
            launcher = _dashboard.open_in_browser(url, os.path.dirname(database) if database else None)
            if launcher is not None:
                self._launcher_files.append(launcher)
                opened = True
        print(f"iron-runtime dashboard: {url}" + (" (opened in your browser)" if opened else ""), flush=True)

    def _repr_html_(self) -> str:
        # Jupyter's rich display: the dashboard link and the totals, every value escaped.
        if self._bridge is None:
            return "<em>LlmRouter not created</em>"
        try:
            running = self.is_running
            return _dashboard.rich_display(
                running=running, base_url=self.base_url, dashboard_url=self.dashboard_url if running else None,
                mode=self.mode, provider=self.provider, metrics=self.metrics())
        except Exception:
            return "<em>LlmRouter unavailable</em>"

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
        """``"openai"`` or ``"anthropic"`` (from the key), or None when not known.

        In control-server mode, the provider of the key the Iron Cage server handed out
        (None until the first fetch succeeded).
        """
        return _java_str(self._bridge.provider())

    @property
    def pii(self) -> str:
        """What happens to PII and secrets: redact, mask, hash, block, detect or off."""
        return str(self._bridge.piiMode())

    @property
    def pii_scope(self) -> str:
        """Which direction is scanned: request, response or both."""
        return str(self._bridge.piiScope())

    @property
    def mode(self) -> str:
        """``"direct"``, ``"control_server"`` or ``"passthrough"``."""
        return str(self._bridge.mode())

    @property
    def is_running(self) -> bool:
        """True while the router is serving."""
        return bool(self._bridge.isRunning())

    # -- budget and cost ---------------------------------------------------------

    def _budget(self) -> Dict[str, Any]:
        result: Dict[str, Any] = json.loads(str(self._bridge.budgetJson()))
        return result

    @property
    def budget(self) -> Optional[float]:
        """The budget limit in US dollars, or None when unlimited."""
        limit = self._budget()["limit"]
        return None if limit is None else float(limit)

    @property
    def budget_status(self) -> Tuple[float, Optional[float]]:
        """``(spent, limit)`` in US dollars; limit is None when unlimited."""
        b = self._budget()
        return float(b["spent"]), (None if b["limit"] is None else float(b["limit"]))

    def total_spent(self) -> float:
        """US dollars spent so far (under ``budget_id``, including earlier runs)."""
        return float(self._budget()["spent"])

    def set_budget(self, usd: Optional[float]) -> None:
        """Set a new budget limit in US dollars (None: unlimited), effective at once.

        Requests already in flight keep what they reserved; if the new limit is below
        what is already spent, the next request gets HTTP 402.
        """
        amount = None if usd is None else _dollars("budget", usd)
        with java_errors():
            self._bridge.setBudget(amount)

    def metrics(self) -> Dict[str, Any]:
        """Counters, tokens and money so far.

        Keys include ``requests``, ``errors``, ``input_tokens``, ``output_tokens``,
        ``cached_tokens``, ``cache_write_tokens``, ``budget_spent``, ``budget_limit``,
        ``budget_reserved``, ``cost_by_model`` (US dollars) and ``models`` (per model).
        """
        result: Dict[str, Any] = json.loads(str(self._bridge.metricsJson()))
        return result

    @property
    def database_path(self) -> Optional[str]:
        """The SQLite file holding the ledger (table ``ledger``), or None with ``persist=False``."""
        return _java_str(self._bridge.databasePath())

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every settled request's row is in the database; False on timeout."""
        return bool(self._bridge.flushLedger(int(_seconds("timeout", timeout) * 1000)))

    def on_budget_alert(self, fn: Callable[[Dict[str, Any]], Any]) -> Callable[[Dict[str, Any]], Any]:
        """Call ``fn(alert)`` for each budget threshold crossed (usable as a decorator).

        ``alert`` is a dict with ``type`` (``"budget_threshold_reached"``), ``threshold``
        (a fraction), ``budget_spent``, ``budget_limit``, ``budget_reserved``,
        ``budget_id``, ``event_id``, ``timestamp_ms`` and ``request_id``. Calls happen on
        one background thread, in order, shortly after the crossing; never on the
        request path. An exception raised by ``fn`` is logged and does not stop delivery.
        """
        return self._subscribe("on_budget_alert", _BUDGET_ALERT, fn)

    def on_pii_detected(self, fn: Callable[[Dict[str, Any]], Any]) -> Callable[[Dict[str, Any]], Any]:
        """Call ``fn(event)`` for each PII or secret value found (usable as a decorator).

        ``event`` is a dict with ``type`` (``"pii_detected"``), ``direction``
        (``"request"`` or ``"response"``), ``entity_type``, ``action``, ``field``,
        ``start``, ``end``, ``value_hash`` (salted; never the value), ``event_id``,
        ``timestamp_ms`` and ``request_id``. Delivered like :meth:`on_budget_alert`.
        """
        return self._subscribe("on_pii_detected", _PII_DETECTED, fn)

    def on_circuit_change(self, fn: Callable[[Dict[str, Any]], Any]) -> Callable[[Dict[str, Any]], Any]:
        """Call ``fn(event)`` when an upstream's circuit changes state (usable as a decorator).

        ``event`` is a dict with ``type`` (``"circuit_state_changed"``), ``upstream``
        (``"openai@https://api.openai.com"``), ``provider``, ``origin``, ``from`` and
        ``to`` (``"closed"``, ``"open"``, ``"half_open"``), ``reason``, ``retry_after``
        (seconds, when it opened), ``event_id`` and ``timestamp_ms``. Delivered like
        :meth:`on_budget_alert`. The current states are in ``metrics()["circuits"]``.
        """
        return self._subscribe("on_circuit_change", _CIRCUIT_CHANGED, fn)

    def on_rate_limited(self, fn: Callable[[Dict[str, Any]], Any]) -> Callable[[Dict[str, Any]], Any]:
        """Call ``fn(event)`` when the router refuses a request with 429 (usable as a decorator).

        ``event`` is a dict with ``type`` (``"rate_limited"``), ``limit`` (``"rpm"``, ``"tpm"``
        or ``"queue"``), ``retry_after`` (seconds), ``request_id``, ``event_id`` and
        ``timestamp_ms``. Delivered like :meth:`on_budget_alert`.
        """
        return self._subscribe("on_rate_limited", "rate_limited", fn)

    def on_event(
        self, fn: Callable[[List[Dict[str, Any]]], Any], types: Optional[Iterable[str]] = None
    ) -> Callable[[List[Dict[str, Any]]], Any]:
        """Call ``fn(events)`` with each batch of new engine events (a list of dicts, oldest
        first), optionally only those of ``types`` (names from ``EVENT_TYPES``).

        The dicts are those of :meth:`events`. Batches arrive on one background Python thread
        a few milliseconds after the events happen (at most 256 per call), never on the request
        path; only events after registration are delivered. If this thread falls more than
        4096 events behind, newer events are dropped and counted in
        ``metrics()["events_dropped"]``. An exception raised by ``fn`` is logged and does not
        stop delivery.
        """
        if not callable(fn):
            raise TypeError(f"on_event needs a callable, not {_type_name(fn)}")
        wanted = None if types is None else frozenset(_event_types(types))
        with self._alert_lock:
            self._batch_callbacks.append((fn, wanted))
        self._start_delivery()
        return fn

    def events(
        self,
        since: Union[None, int, str, "datetime.datetime"] = None,
        types: Optional[Iterable[str]] = None,
        limit: int = 1000,
    ) -> List[Dict[str, Any]]:
        """The newest ``limit`` recorded events, returned oldest first.

        Each is a dict with ``event_id``, ``type``, ``timestamp_ms`` (ms since the epoch),
        ``agent_id`` and ``request_id`` (None when unknown) and the type's own fields (see
        README, "Events"). Read from the database, which keeps them ``event_retention_days``
        across restarts, or, with ``persist=False``, from the last 16384 events in memory.

        Args:
            since: only newer events: an ``int`` timestamp in **milliseconds** since the epoch
                (as ``timestamp_ms``; inclusive), an aware or naive (local time)
                ``datetime``, or an ``event_id`` string (exclusive: the events recorded
                after that one, the way to resume without duplicates).
            types: only these types (names from ``EVENT_TYPES``).
            limit: at most this many (1 to 100000), the newest ones.
        """
        since_ms, after_id = _since(since)
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError(f"limit must be an int, not {_type_name(limit)}")
        if not 1 <= limit <= _MAX_EVENTS_LIMIT:
            raise ValueError(f"limit must be between 1 and {_MAX_EVENTS_LIMIT}, got {limit}")
        types_json = None if types is None else json.dumps(sorted(_event_types(types)))
        with java_errors():
            text = self._bridge.eventsJson(since_ms, after_id, types_json, limit)
        result: List[Dict[str, Any]] = json.loads(str(text))
        return result

    def _subscribe(self, method: str, event_type: str, fn: Any) -> Any:
        if not callable(fn):
            raise TypeError(f"{method} needs a callable, not {_type_name(fn)}")
        with self._alert_lock:
            self._callbacks.setdefault(event_type, []).append(fn)
        self._start_delivery()
        return fn

    def _start_delivery(self) -> None:
        with self._alert_lock:
            if self._alert_thread is None:
                self._bridge.subscribeEvents()  # buffering starts now, before the thread's first poll
                self._alert_thread = threading.Thread(
                    target=_deliver_events, args=(weakref.ref(self), self._bridge),
                    name="iron-runtime-events", daemon=True,
                )
                _event_threads.add(self._alert_thread)
                self._alert_thread.start()

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
