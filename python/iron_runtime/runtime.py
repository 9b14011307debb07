"""Runtime: run agent scripts as governed child processes.

Each agent is an unmodified Python script started in its own process group, with
``OPENAI_BASE_URL``/``OPENAI_API_KEY`` and ``ANTHROPIC_BASE_URL``/``ANTHROPIC_API_KEY``
pointing at the router with a token of its own: every LLM call it makes through the
official SDKs (or LangChain, CrewAI, ...) is attributed to it, priced, held to its budget
and scanned for PII. The real provider keys never reach it.

    with Runtime(budget=5.0, provider_key={"openai": "sk-..."}) as rt:
        h = rt.start_agent("agent.py", budget=1.0, restart="on-failure")
        rt.wait_agent(h)
        print(rt.get_metrics(h))
"""
from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import weakref
from numbers import Real
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .errors import ConfigurationError, java_errors
from .router import LlmRouter, _dollars, _type_name

__all__ = ["Runtime", "AgentHandle"]

_DEFAULT_BUDGET = 100.0
AGENT_EVENTS = ("agent_started", "agent_paused", "agent_resumed", "agent_restarted", "agent_stopped",
                "agent_completed", "agent_failed")
_RESTART_POLICIES = ("never", "on-failure", "on_failure", "always")
# Waits are cut into slices so that Ctrl-C reaches Python between them.
_WAIT_SLICE_S = 0.25
_UNSET: Any = object()

_live_runtimes: "weakref.WeakSet[Runtime]" = weakref.WeakSet()
_exit_hook_lock = threading.Lock()
_exit_hook_registered = False


def _shutdown_live_runtimes() -> None:
    for rt in list(_live_runtimes):
        try:
            rt.shutdown()
        except BaseException:
            pass


def _register_exit_hook() -> None:
    # Registered after the router module's hook (a runtime always has a router first), so it runs
    # before it: agents are stopped while their router still answers.
    global _exit_hook_registered
    with _exit_hook_lock:
        if not _exit_hook_registered:
            atexit.register(_shutdown_live_runtimes)
            _exit_hook_registered = True


AgentRef = Union[str, "AgentHandle"]


class AgentHandle:
    """One started agent. ``str(handle)`` is its id; every ``Runtime`` method taking an
    ``agent_id`` accepts the handle too."""

    __slots__ = ("_runtime", "agent_id")

    def __init__(self, runtime: "Runtime", agent_id: str) -> None:
        self._runtime = runtime
        self.agent_id = agent_id

    @property
    def pid(self) -> Optional[int]:
        """The pid of the agent's current process (also its process group id); None between runs."""
        m = self._runtime.get_metrics(self.agent_id)
        return None if m is None else m["pid"]

    @property
    def status(self) -> str:
        """starting, running, paused, stopping, stopped, completed, failed or restarting."""
        m = self._runtime.get_metrics(self.agent_id)
        return "unknown" if m is None else m["status"]

    def __str__(self) -> str:
        return self.agent_id

    def __repr__(self) -> str:
        return f"<AgentHandle {self.agent_id}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AgentHandle):
            return other.agent_id == self.agent_id
        return isinstance(other, str) and other == self.agent_id

    def __hash__(self) -> int:
        return hash(self.agent_id)


def _agent_id(agent: Any) -> str:
    if isinstance(agent, AgentHandle):
        return agent.agent_id
    if not isinstance(agent, str):
        raise TypeError(f"agent_id must be a str or an AgentHandle, not {_type_name(agent)}")
    return agent


def _seconds(name: str, value: Any, *, allow_none: bool = False) -> Optional[float]:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number of seconds, not {_type_name(value)}")
    if not value >= 0 or value == float("inf"):
        raise ConfigurationError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return float(value)


def _env(value: Any) -> Dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"env must be a dict of str to str, not {_type_name(value)}")
    out = {}
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"env must map str to str; got {_type_name(k)} -> {_type_name(v)}")
        out[k] = v
    return out


class Runtime:
    """Runs agent scripts as governed child processes through one router.

    Args:
        budget: the total budget in US dollars of every agent together (the router's budget).
            Only for a runtime that creates its router; a router you pass keeps its own.
        verbose: log each agent's start, restart and end; a runtime that creates its router also
            turns on the router's request log (``LlmRouter(verbose=True)``).
        router: a running :class:`LlmRouter` to use; by default the runtime creates one from
            ``router_kwargs`` (``provider_key=...``, ``pii=...``, ...) and stops it at shutdown.
        on_budget_exhausted: ``"block"`` (default: an agent whose own budget is spent gets 402
            on its next call) or ``"stop"`` (the runtime stops it).
        stop_timeout: seconds between SIGTERM and SIGKILL when the runtime stops agents itself
            (shutdown, the stop policy).
        python: the interpreter agents run with unless ``start_agent`` names one; by default
            this one (``sys.executable``), so agents see the packages you have.
    """

    def __init__(
        self,
        budget: Optional[float] = _UNSET,
        verbose: bool = False,
        router: Optional[LlmRouter] = None,
        *,
        on_budget_exhausted: str = "block",
        stop_timeout: float = 10.0,
        python: Optional[str] = None,
        **router_kwargs: Any,
    ) -> None:
        self._bridge: Any = None
        self._closed = False
        if not isinstance(verbose, bool):
            raise TypeError(f"verbose must be a bool, not {_type_name(verbose)}")
        if not isinstance(on_budget_exhausted, str):
            raise TypeError(f"on_budget_exhausted must be 'block' or 'stop', not {_type_name(on_budget_exhausted)}")
        if python is not None and not isinstance(python, (str, os.PathLike)):
            raise TypeError(f"python must be a path or a name, not {_type_name(python)}")
        settings = {
            "on_budget_exhausted": on_budget_exhausted,
            "stop_timeout": _seconds("stop_timeout", stop_timeout),
            "python": os.fspath(python) if python is not None else sys.executable,
            "verbose": verbose,
        }
        if router is None:
            router_kwargs.setdefault("start", True)
            router_kwargs["verbose"] = verbose
            self._router = LlmRouter(budget=_DEFAULT_BUDGET if budget is _UNSET else budget, **router_kwargs)
            owns = True
        else:
            if not isinstance(router, LlmRouter):
                raise TypeError(f"router must be an LlmRouter, not {_type_name(router)}")
            if router_kwargs:
                raise TypeError("router settings (" + ", ".join(sorted(router_kwargs)) + ") only apply when the"
                                " runtime creates its router; set them on the LlmRouter you pass")
            if budget is not _UNSET:
                raise ConfigurationError("budget is the router's: pass it to the LlmRouter you give the runtime"
                                         " (or let the runtime create its router)")
            self._router = router
            owns = False
        from . import _jvm

        bridge_class = _jvm.bridge_class("RuntimeBridge")
        try:
            with java_errors():
                self._bridge = bridge_class.create(self._router._bridge, json.dumps(settings), owns)
        except BaseException:
            if owns:
                self._router.close()
            raise
        self._owns_router = owns
        _register_exit_hook()
        _live_runtimes.add(self)

    # -- agents ------------------------------------------------------------------------------------

    def start_agent(
        self,
        script: Union[str, "os.PathLike[str]"],
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        budget: Optional[float] = None,
        name: Optional[str] = None,
        cwd: Optional[Union[str, "os.PathLike[str]"]] = None,
        python: Optional[Union[str, "os.PathLike[str]"]] = None,
        restart: str = "never",
        max_restarts: int = 3,
        *,
        restart_window: Optional[float] = None,
        restart_delay: Optional[float] = None,
        restart_max_delay: Optional[float] = None,
        _follow_output: bool = False,
    ) -> AgentHandle:
        """Start ``script`` as a governed agent and return once its process runs.

        Args:
            script: the Python script (relative paths are taken from ``cwd``, else from here).
            args: its command-line arguments.
            env: variables added to its environment (it inherits this process's, minus provider
                keys); the governance variables (``OPENAI_API_KEY``, ...) cannot be overridden.
            budget: the agent's own budget in US dollars, on top of the runtime's total.
            name: a label for lists and dashboards (default: the script's file name).
            cwd: its working directory.
            python: its interpreter (default: the runtime's).
            restart: ``"never"``, ``"on-failure"`` or ``"always"``.
            max_restarts: at most this many restarts within ``restart_window`` seconds (60);
                beyond that the agent ends ``failed``. Restarts wait ``restart_delay`` (0.5 s),
                doubling up to ``restart_max_delay`` (30 s).

        Raises:
            FileNotFoundError: the script or ``cwd`` does not exist.
            AgentLaunchError: the interpreter cannot be run, or the process could not start.
            ConfigurationError: an argument is out of range, or ``env`` tries to set a governed
                variable or hand the agent a provider key.
        """
        self._check_open()
        if not isinstance(script, (str, os.PathLike)):
            raise TypeError(f"script must be a path, not {_type_name(script)}")
        if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
            raise TypeError(f"args must be a list or tuple of str, not {_type_name(args)}")
        for a in args:
            if not isinstance(a, str):
                raise TypeError(f"args must hold str only, not {_type_name(a)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str, not {_type_name(name)}")
        if python is not None and not isinstance(python, (str, os.PathLike)):
            raise TypeError(f"python must be a path or a name, not {_type_name(python)}")
        if not isinstance(restart, str):
            raise TypeError(f"restart must be 'never', 'on-failure' or 'always', not {_type_name(restart)}")
        if isinstance(max_restarts, bool) or not isinstance(max_restarts, int):
            raise TypeError(f"max_restarts must be an int, not {_type_name(max_restarts)}")
        workdir = os.fspath(cwd) if cwd is not None else None
        if workdir is not None and not os.path.isdir(workdir):
            raise FileNotFoundError(2, "the agent's working directory (cwd) does not exist", workdir)
        path = os.fspath(script)
        where = os.path.join(workdir, path) if workdir is not None else path
        if not os.path.isfile(where):
            raise FileNotFoundError(2, "agent script not found", os.path.abspath(where))
        spec = {
            "script": os.path.abspath(where),
            "args": list(args),
            "env": _env(env),
            "inherited_env": dict(os.environ),
            "budget": None if budget is None else _dollars("budget", budget),
            "name": name,
            "cwd": os.path.abspath(workdir) if workdir is not None else os.getcwd(),
            "python": os.fspath(python) if python is not None else None,
            "restart": restart,
            "max_restarts": max_restarts,
            "restart_window": _seconds("restart_window", restart_window, allow_none=True),
            "restart_delay": _seconds("restart_delay", restart_delay, allow_none=True),
            "restart_max_delay": _seconds("restart_max_delay", restart_max_delay, allow_none=True),
            "follow_output": bool(_follow_output),
        }
        with java_errors():
            started = json.loads(str(self._bridge.startAgent(json.dumps(spec))))
        return AgentHandle(self, started["agent_id"])

    def get_metrics(self, agent_id: AgentRef) -> Optional[Dict[str, Any]]:
        """The agent's status and figures (spend in dollars, requests, tokens, PII detections,
        pid, exit code, restarts, last error, ...), or None for an id this runtime and its
        database do not know."""
        aid = _agent_id(agent_id)
        with java_errors():
            text = self._bridge.metricsJson(aid)
        return None if text is None else json.loads(str(text))

    def list_agents(self) -> List[Dict[str, Any]]:
        """Every agent: this runtime's (newest first), then the ones earlier runtimes left in the
        database, as ended, with their final spend."""
        with java_errors():
            return json.loads(str(self._bridge.listJson()))

    def pause_agent(self, agent_id: AgentRef) -> None:
        """SIGSTOP to the agent's process group: it and everything it started stop running."""
        with java_errors():
            self._bridge.pause(_agent_id(agent_id))

    def resume_agent(self, agent_id: AgentRef) -> None:
        """SIGCONT to the agent's process group."""
        with java_errors():
            self._bridge.resume(_agent_id(agent_id))

    def stop_agent(self, agent_id: AgentRef, timeout: float = 10.0) -> int:
        """SIGTERM to the agent's process group, SIGKILL after ``timeout`` seconds; returns its
        exit code (128 + N when signal N ended it). Stopping an ended agent raises AgentStateError."""
        aid = _agent_id(agent_id)
        seconds = _seconds("timeout", timeout)
        with java_errors():
            return int(self._bridge.stop(aid, seconds))

    def wait_agent(self, agent_id: AgentRef, timeout: Optional[float] = None) -> int:
        """Wait until the agent ends for good (after its restarts) and return its exit code.

        Raises TimeoutError when it still runs after ``timeout`` seconds."""
        import time

        aid = _agent_id(agent_id)
        limit = _seconds("timeout", timeout, allow_none=True)
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            left = _WAIT_SLICE_S if deadline is None else max(0.0, min(_WAIT_SLICE_S, deadline - time.monotonic()))
            with java_errors():
                code = self._bridge.waitFor(aid, left)
            if code is not None:
                return int(code)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"agent {aid} is still running after {limit:g} s")

    def logs(self, agent_id: AgentRef, tail: int = 200) -> str:
        """The last ``tail`` lines the agent printed, stdout and stderr interleaved."""
        if isinstance(tail, bool) or not isinstance(tail, int):
            raise TypeError(f"tail must be an int, not {_type_name(tail)}")
        if tail < 0:
            raise ConfigurationError(f"tail must be >= 0, got {tail}")
        with java_errors():
            return str(self._bridge.logs(_agent_id(agent_id), tail))

    # -- for the ``run`` command (one agent in the foreground) --------------------------------------------
    # An agent started with _follow_output=True has its output fed to _read_output, which someone must
    # keep calling: when 1 MiB is unread the agent waits, as it would on a full pipe.

    def _read_output(self, agent_id: AgentRef, wait: float) -> List[tuple]:
        """[("stdout" or "stderr", bytes), ...] printed since the last call, in order."""
        import base64

        with java_errors():
            text = str(self._bridge.readOutput(_agent_id(agent_id), float(wait)))
        return [(stream, base64.b64decode(data)) for stream, data in json.loads(text)]

    def _close_output(self, agent_id: AgentRef) -> None:
        with java_errors():
            self._bridge.closeOutput(_agent_id(agent_id))

    def _exit_code(self, agent_id: AgentRef) -> Optional[int]:
        """The final exit code once the agent ended for good, else None (does not wait)."""
        with java_errors():
            code = self._bridge.waitFor(_agent_id(agent_id), 0.0)
        return None if code is None else int(code)

    def _status_line(self, agent_id: AgentRef, width: int) -> str:
        with java_errors():
            return str(self._bridge.statusLine(_agent_id(agent_id), int(width)))

    def _summary(self, agent_id: AgentRef, stopped_on: Optional[str]) -> str:
        with java_errors():
            return str(self._bridge.summary(_agent_id(agent_id), stopped_on))

    def on_agent_event(self, fn: Any) -> Any:
        """Call ``fn(event)`` for each agent lifecycle event (usable as a decorator).

        ``event`` is a dict with ``type`` (``agent_started``, ``agent_paused``, ``agent_resumed``,
        ``agent_restarted``, ``agent_stopped``, ``agent_completed`` or ``agent_failed``),
        ``agent_id``, ``name``, ``reason``, ``exit_code``, ``restarts``, ``event_id`` and
        ``timestamp_ms``. Calls happen in order on one background thread, never on the request
        path; an exception raised by ``fn`` is logged and does not stop delivery.
        """
        for event_type in AGENT_EVENTS:
            self._router._subscribe("on_agent_event", event_type, fn)
        return fn

    # -- lifecycle -----------------------------------------------------------------------------------

    @property
    def router(self) -> LlmRouter:
        """The router the agents' calls go through."""
        return self._router

    def shutdown(self) -> None:
        """Stop every agent (SIGTERM, SIGKILL after ``stop_timeout``) and, when the runtime
        created it, the router. Idempotent."""
        if self._bridge is None or self._closed:
            return
        self._closed = True
        with java_errors():
            self._bridge.shutdown()
        if self._owns_router:
            self._router.close()

    def _check_open(self) -> None:
        if self._closed:
            from .errors import AgentStateError

            raise AgentStateError("this runtime is shut down; create a new one")

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        state = "shut down" if self._closed else "running"
        return f"<Runtime router={self._router.base_url} {state}>"
