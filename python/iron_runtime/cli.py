"""``iron-runtime`` command line: run the router in the foreground.

Keys come only from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, IC_TOKEN with
IC_SERVER), never from flags, so they do not end up in shell history or ``ps``.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any, Dict, List, NoReturn, Optional, Sequence

from . import __version__
from .errors import ConfigurationError, IronRuntimeError

_PROG = "iron-runtime"
_LOG_LEVELS = ("debug", "info", "warning", "error", "off")
# Flags that take no value (every other flag of ``run`` takes one).
_SWITCHES = ("--verbose",)


class _Parser(argparse.ArgumentParser):
    """Bad flags are one line on stderr and exit status 2, like every other error of the command."""

    def error(self, message: str) -> "NoReturn":  # type: ignore[override]
        self.exit(2, f"{_PROG}: error: {message} (see {self.prog} --help)\n")


def _alias(value: str) -> "tuple[str, str]":
    name, eq, model = value.partition("=")
    if not eq or not name or not model:
        raise argparse.ArgumentTypeError(f"must be NAME=MODEL (e.g. fast=claude-haiku-4-5), got {value!r}")
    return name, model


def _add_router_flags(p: argparse.ArgumentParser) -> None:
    """The router's settings, shared by ``router`` and ``run`` (where it listens and its budget are each
    command's own)."""
    p.add_argument("--openai-base-url", metavar="URL", help="upstream OpenAI origin")
    p.add_argument("--anthropic-base-url", metavar="URL", help="upstream Anthropic origin")
    p.add_argument("--server-url", metavar="URL", help="Iron Cage control server URL")
    p.add_argument("--cache-ttl", type=int, metavar="S", default=300,
                   help="control server: seconds a fetched provider key is used (default 300)")
    p.add_argument("--lease-budget", type=float, metavar="USD",
                   help="control server: USD asked for per budget lease (default 10)")
    p.add_argument("--strict", action="store_true",
                   help="control server: fail at start when the key or first lease cannot be had")
    p.add_argument("--model-alias", action="append", type=_alias, metavar="NAME=MODEL",
                   help="a name clients may use for a model, e.g. fast=claude-haiku-4-5 (repeatable)")
    p.add_argument("--max-request-bytes", type=int, metavar="N", default=32 * 1024 * 1024,
                   help="largest request body accepted (default 32 MiB)")
    p.add_argument("--connect-timeout", type=float, metavar="S", default=10.0,
                   help="upstream connect timeout in seconds (default 10)")
    p.add_argument("--first-byte-timeout", type=float, metavar="S",
                   help="seconds from the request to the response head (default 120)")
    p.add_argument("--idle-timeout", type=float, metavar="S",
                   help="seconds a started response may go without data (default 120)")
    p.add_argument("--read-timeout", type=float, metavar="S",
                   help="sets --first-byte-timeout and --idle-timeout together")
    p.add_argument("--total-timeout", type=float, metavar="S", default=900.0,
                   help="seconds a whole call may take, retries included (default 900)")
    p.add_argument("--max-retries", type=int, metavar="N", default=2,
                   help="retries of failed provider calls before the response started (default 2)")
    p.add_argument("--circuit-breaker", choices=("on", "off"), default="on",
                   help="refuse calls to an upstream that keeps failing (default on)")
    p.add_argument("--rpm", type=int, metavar="N", help="requests per minute (default: no limit)")
    p.add_argument("--tpm", type=int, metavar="N", help="tokens per minute (default: no limit)")
    p.add_argument("--max-in-flight", type=int, metavar="N", default=1024,
                   help="provider calls at once; more wait (default 1024)")
    p.add_argument("--queue-timeout", type=float, metavar="S", default=30.0,
                   help="seconds a waiting request waits before 429 (default 30)")
    p.add_argument("--budget-id", metavar="NAME", help="accumulate spend under this name across restarts")
    p.add_argument("--state-dir", metavar="DIR",
                   help="ledger database directory (default $IRON_RUNTIME_HOME, else ~/.iron_runtime)")
    p.add_argument("--pricing-file", metavar="FILE", help="LiteLLM-shaped price JSON over the bundled table")
    p.add_argument("--unknown-model", choices=("block", "allow"), default="block",
                   help="requests for models without a price: refuse (default) or forward")
    p.add_argument("--pii", choices=("redact", "mask", "hash", "block", "detect", "off"), default="redact",
                   help="what to do with PII and secrets in prompts and answers (default redact)")
    p.add_argument("--pii-scope", choices=("request", "response", "both"), default="both",
                   help="which direction is scanned (default both)")
    p.add_argument("--pii-region", metavar="CC", default="US",
                   help="country of phone numbers written without + (default US)")
    p.add_argument("--event-retention-days", type=int, metavar="N", default=30,
                   help="days the database keeps engine events (default 30)")
    p.add_argument("--verbose", action="store_true",
                   help="log one JSON line per finished request to stderr")
    p.add_argument("--log-level", choices=_LOG_LEVELS, default="warning", type=str.lower,
                   help="level of the engine's other messages on stderr (default warning)")


def _router_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    """LlmRouter keyword arguments from the flags of _add_router_flags."""
    return dict(
        server_url=args.server_url,
        cache_ttl_seconds=args.cache_ttl,
        lease_budget=args.lease_budget,
        strict=True if args.strict else None,
        model_aliases=dict(args.model_alias) if args.model_alias else None,
        openai_base_url=args.openai_base_url,
        anthropic_base_url=args.anthropic_base_url,
        max_request_bytes=args.max_request_bytes,
        connect_timeout=args.connect_timeout,
        first_byte_timeout=args.first_byte_timeout,
        idle_timeout=args.idle_timeout,
        read_timeout=args.read_timeout,
        total_timeout=args.total_timeout,
        max_retries=args.max_retries,
        circuit_breaker=args.circuit_breaker == "on",
        rate_limits={k: v for k, v in (("rpm", args.rpm), ("tpm", args.tpm)) if v is not None} or None,
        max_in_flight=args.max_in_flight,
        queue_timeout=args.queue_timeout,
        budget_id=args.budget_id,
        state_dir=args.state_dir,
        pricing_file=args.pricing_file,
        unknown_model=args.unknown_model,
        pii=args.pii,
        pii_scope=args.pii_scope,
        pii_region=args.pii_region,
        event_retention_days=args.event_retention_days,
        verbose=args.verbose,
        log_level=args.log_level,
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_PROG, description="Governance runtime for AI agents.")
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    router = commands.add_parser(
        "router",
        help="run a local OpenAI/Anthropic proxy",
        description="Run a local OpenAI/Anthropic proxy until interrupted. Provider keys "
        "come from OPENAI_API_KEY / ANTHROPIC_API_KEY, or IC_TOKEN + IC_SERVER for the "
        "Iron Cage control server; with none, clients' own keys pass through.",
    )
    router.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    router.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    router.add_argument("--budget", type=float, metavar="USD", help="hard budget in US dollars (default: unlimited)")
    _add_router_flags(router)
    run = commands.add_parser(
        "run",
        help="run one agent script under governance",
        usage=f"{_PROG} run SCRIPT [flags] [-- ARGS...]",
        description="Run SCRIPT as a governed agent through a router on a free loopback port, show its "
        "output (and on a terminal a live status line), then a summary; exit with the agent's exit code "
        "(130/143 when SIGINT/SIGTERM stopped it). Provider keys come from the environment as for "
        "`router`; the agent gets a router token instead. Flags may come before or after SCRIPT; words "
        "after SCRIPT and everything after -- are the agent's arguments.",
    )
    run.add_argument("script", metavar="SCRIPT", help="the agent's Python script")
    run.add_argument("agent_args", metavar="ARGS", nargs="*", help="the agent's arguments")
    run.add_argument("--budget", type=float, metavar="USD",
                     help="the agent's own budget in US dollars; its calls get 402 once it is spent (default: none)")
    run.add_argument("--total-budget", type=float, metavar="USD",
                     help="the router's total budget (with --budget-id: across runs; default: unlimited)")
    run.add_argument("--restart", choices=("never", "on-failure", "always"), default="never",
                     help="restart the agent when it exits: never (default), on failure, always")
    run.add_argument("--max-restarts", type=int, metavar="N", default=3,
                     help="restarts allowed within 60 s before the agent ends failed (default 3)")
    run.add_argument("--name", help="the agent's name (default: the script's file name)")
    run.add_argument("--cwd", metavar="DIR", help="the agent's working directory (default: this one)")
    run.add_argument("--python", metavar="PATH", help="the agent's interpreter (default: this Python)")
    run.add_argument("--on-budget-exhausted", choices=("block", "stop"), default="block",
                     help="once its budget is spent: answer 402 (block, default) or stop the agent")
    run.add_argument("--stop-timeout", type=float, metavar="S", default=10.0,
                     help="seconds between SIGTERM and SIGKILL when the agent is stopped (default 10)")
    _add_router_flags(run)
    return parser


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    """``run`` takes flags on both sides of SCRIPT and hands everything after ``--`` to the agent."""
    parser = _parser()
    if argv and argv[0] == "run":
        head, tail = list(argv), []
        if "--" in head:
            cut = head.index("--")
            head, tail = head[:cut], head[cut + 1:]
        run = parser._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
        if tail and not _words(head[1:]):
            head, tail = head + tail[:1], tail[1:]  # `run [flags] -- agent.py args...`
        args = run.parse_intermixed_args(head[1:])
        args.command = "run"
        args.agent_args = list(args.agent_args) + tail
        return args
    return parser.parse_args(argv)


def _words(args: Sequence[str]) -> List[str]:
    """The arguments that are not flags or flag values (every flag of ``run`` but the switches takes a value)."""
    words, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a.startswith("-") and a != "-":
            skip = "=" not in a and a not in _SWITCHES
        else:
            words.append(a)
    return words


def _providers(router: Any) -> List[str]:
    """Providers the router holds keys for, from the engine's description."""
    try:
        listed = router.describe().get("providers")
    except Exception:
        listed = None
    if isinstance(listed, list) and listed:
        return [str(p) for p in listed]
    return [router.provider] if router.provider else []


def _announce(router: Any) -> None:
    base_url = router.base_url
    origin = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
    mode = router.mode
    providers = _providers(router)
    token = router.api_key
    lines = [f"{_PROG} router listening on {base_url}"]
    if mode == "passthrough":
        lines.append("mode: passthrough (clients send their own provider keys)")
    else:
        lines.append(f"mode: {mode} ({', '.join(providers)})" if providers else f"mode: {mode}")
    if token is not None:
        lines.append(f"client token: {token}")
    else:
        lines.append(f"admin token (metrics, REST API, live feed): {router.admin_token}")
    spent, limit = router.budget_status
    budget = "unlimited" if limit is None else f"${limit:.6g}"
    ledger = router.database_path or "off"
    lines.append(f"budget: {budget}, spent ${spent:.6g}, ledger: {ledger}")
    lines.append(f"pii: {router.pii}" + ("" if router.pii == "off" else f" ({router.pii_scope})"))
    lines.append(f"live feed: {router.events_url} (WebSocket), {origin}/iron/events (SSE)")
    lines.append(f"dashboard: {router.dashboard_url}")
    lines.append(f"export OPENAI_BASE_URL={base_url}")
    lines.append(f"export ANTHROPIC_BASE_URL={origin}")  # the Anthropic SDK adds /v1 itself
    if token is not None:
        for provider in providers or ["openai", "anthropic"]:
            lines.append(f"export {provider.upper()}_API_KEY={token}")
    print("\n".join(lines), flush=True)


def _serve(args: argparse.Namespace) -> int:
    from .router import LlmRouter  # keeps `--version` and `--help` free of JPype

    router = LlmRouter(port=args.port, host=args.host, budget=args.budget, **_router_kwargs(args))
    done = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        done.set()

    # The JVM leaves signals to Python (-Xrs, see _jvm): stop cleanly on either.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        _announce(router)
        while not done.wait(1.0):  # a timed wait keeps signal handlers running promptly
            pass
    finally:
        router.close()  # also waits for the ledger rows of settled requests
    return 0


class _Console:
    """The user's terminal while ``run`` runs: the agent's output passed on to stdout and stderr as it
    comes and, on a terminal, one status line at the bottom of stderr, erased before any output and
    redrawn after it. Only the command's main thread writes."""

    _ERASE = "\r\033[K"

    def __init__(self, status_line: bool) -> None:
        self._status_line = status_line
        self._shown: Optional[str] = None
        self._drawn = False
        self._at_line_start = True  # a status line drawn after half a line would stick to it

    def write(self, chunks: List[tuple]) -> None:
        if not chunks:
            return
        self._erase()
        for stream, data in chunks:
            to = sys.stdout if stream == "stdout" else sys.stderr
            to.flush()
            to.buffer.write(data)
            to.buffer.flush()
            self._at_line_start = data.endswith(b"\n")
        self._redraw()

    def status(self, line: str) -> None:
        if self._status_line:
            self._shown = line
            self._redraw()

    def clear(self) -> None:
        self._erase()
        self._shown = None

    def _redraw(self) -> None:
        if self._status_line and self._shown is not None and self._at_line_start:
            sys.stderr.write(self._ERASE + self._shown)
            sys.stderr.flush()
            self._drawn = True

    def _erase(self) -> None:
        if self._drawn:
            sys.stderr.write(self._ERASE)
            sys.stderr.flush()
            self._drawn = False


_POLL_S = 0.1
_STATUS_EVERY_S = 0.5
_SETTLE_WAIT_S = 2.0  # the summary waits this long at most for the agent's last calls to be counted


def _terminal_width() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 80


def _run_agent(args: argparse.Namespace) -> int:
    """``iron-runtime run``: one agent in the foreground, its exit code as ours."""
    workdir = os.path.abspath(args.cwd) if args.cwd is not None else os.getcwd()
    if not os.path.isdir(workdir):
        raise ConfigurationError(f"--cwd is not a directory: {workdir}")
    script = os.path.normpath(os.path.join(workdir, args.script))
    if not os.path.isfile(script):
        raise ConfigurationError(f"agent script not found: {script}")
    stopped_on: List[str] = []

    def _on_signal(signum: int, _frame: Any) -> None:
        if not stopped_on:
            stopped_on.append(signal.Signals(signum).name)

    # The JVM leaves signals to Python (-Xrs): the loop below stops the agent gracefully on either.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    from .runtime import Runtime  # keeps `--version` and `--help` free of JPype

    rt = Runtime(budget=args.total_budget, on_budget_exhausted=args.on_budget_exhausted,
                 stop_timeout=args.stop_timeout, python=args.python, **_router_kwargs(args))
    try:
        if stopped_on:  # a signal while the JVM and the router started: no agent yet
            return 128 + signal.Signals[stopped_on[0]].value
        handle = rt.start_agent(script, args=args.agent_args, budget=args.budget, name=args.name, cwd=workdir,
                                restart=args.restart, max_restarts=args.max_restarts, _follow_output=True)
        console = _Console(status_line=sys.stderr.isatty())
        width = _terminal_width()
        next_status = time.monotonic()
        stopping = False
        try:
            while rt._exit_code(handle) is None:
                console.write(rt._read_output(handle, _POLL_S))
                if stopped_on and not stopping:
                    stopping = True
                    try:
                        rt.stop_agent(handle, timeout=args.stop_timeout)
                    except IronRuntimeError:
                        pass  # it ended meanwhile
                if time.monotonic() >= next_status:
                    console.status(rt._status_line(handle, width))
                    next_status = time.monotonic() + _STATUS_EVERY_S
            # Over, and its output pumped: what is left is in the feed.
            rest = rt._read_output(handle, 0)
            while rest:
                console.write(rest)
                rest = rt._read_output(handle, 0)
        finally:
            rt._close_output(handle)
            console.clear()
        deadline = time.monotonic() + _SETTLE_WAIT_S
        while (rt.get_metrics(handle) or {}).get("budget_reserved", 0) > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        metrics = rt.get_metrics(handle) or {}
        sys.stderr.write(rt._summary(handle, stopped_on[0] if stopped_on else None))
        sys.stderr.flush()
        if stopped_on:
            return 128 + signal.Signals[stopped_on[0]].value
        code = metrics.get("exit_code")
        return code if isinstance(code, int) and 0 <= code <= 255 else 1
    finally:
        rt.shutdown()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status (also used as console script)."""
    args = _parse(sys.argv[1:] if argv is None else list(argv))
    if args.command is None:
        _parser().print_help(sys.stderr)
        return 2
    try:
        if args.command == "run":
            return _run_agent(args)
        return _serve(args)
    except (ConfigurationError, FileNotFoundError) as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    except IronRuntimeError as exc:
        from .errors import AgentLaunchError

        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, AgentLaunchError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
