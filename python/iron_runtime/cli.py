"""``iron-runtime`` command line: run the router in the foreground.

Keys come only from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, IC_TOKEN with
IC_SERVER), never from flags, so they do not end up in shell history or ``ps``.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, List, Optional, Sequence

from . import __version__
from .errors import ConfigurationError, IronRuntimeError

_PROG = "iron-runtime"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG, description="Governance runtime for AI agents."
    )
    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    router = commands.add_parser(
        "router",
        help="run a local OpenAI/Anthropic proxy",
        description="Run a local OpenAI/Anthropic proxy until interrupted. Provider keys "
        "come from OPENAI_API_KEY / ANTHROPIC_API_KEY, or IC_TOKEN + IC_SERVER for the "
        "Iron Cage control server; with none, clients' own keys pass through.",
    )
    router.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    router.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    router.add_argument("--openai-base-url", metavar="URL", help="upstream OpenAI origin")
    router.add_argument("--anthropic-base-url", metavar="URL", help="upstream Anthropic origin")
    router.add_argument("--server-url", metavar="URL", help="Iron Cage control server URL")
    router.add_argument("--max-request-bytes", type=int, metavar="N", default=32 * 1024 * 1024,
                        help="largest request body accepted (default 32 MiB)")
    router.add_argument("--connect-timeout", type=float, metavar="S", default=10.0,
                        help="upstream connect timeout in seconds (default 10)")
    router.add_argument("--first-byte-timeout", type=float, metavar="S",
                        help="seconds from the request to the response head (default 120)")
    router.add_argument("--idle-timeout", type=float, metavar="S",
                        help="seconds a started response may go without data (default 120)")
    router.add_argument("--read-timeout", type=float, metavar="S",
                        help="sets --first-byte-timeout and --idle-timeout together")
    router.add_argument("--total-timeout", type=float, metavar="S", default=900.0,
                        help="seconds a whole call may take, retries included (default 900)")
    router.add_argument("--max-retries", type=int, metavar="N", default=2,
                        help="retries of failed provider calls before the response started (default 2)")
    router.add_argument("--circuit-breaker", choices=("on", "off"), default="on",
                        help="refuse calls to an upstream that keeps failing (default on)")
    router.add_argument("--rpm", type=int, metavar="N", help="requests per minute (default: no limit)")
    router.add_argument("--tpm", type=int, metavar="N", help="tokens per minute (default: no limit)")
    router.add_argument("--max-in-flight", type=int, metavar="N", default=1024,
                        help="provider calls at once; more wait (default 1024)")
    router.add_argument("--queue-timeout", type=float, metavar="S", default=30.0,
                        help="seconds a waiting request waits before 429 (default 30)")
    router.add_argument("--budget", type=float, metavar="USD", help="hard budget in US dollars (default: unlimited)")
    router.add_argument("--budget-id", metavar="NAME", help="accumulate spend under this name across restarts")
    router.add_argument("--state-dir", metavar="DIR",
                        help="ledger database directory (default $IRON_RUNTIME_HOME, else ~/.iron_runtime)")
    router.add_argument("--pricing-file", metavar="FILE", help="LiteLLM-shaped price JSON over the bundled table")
    router.add_argument("--unknown-model", choices=("block", "allow"), default="block",
                        help="requests for models without a price: refuse (default) or forward")
    router.add_argument("--pii", choices=("redact", "mask", "hash", "block", "detect", "off"), default="redact",
                        help="what to do with PII and secrets in prompts and answers (default redact)")
    router.add_argument("--pii-scope", choices=("request", "response", "both"), default="both",
                        help="which direction is scanned (default both)")
    router.add_argument("--pii-region", metavar="CC", default="US",
                        help="country of phone numbers written without + (default US)")
    return parser


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
    spent, limit = router.budget_status
    budget = "unlimited" if limit is None else f"${limit:.6g}"
    ledger = router.database_path or "off"
    lines.append(f"budget: {budget}, spent ${spent:.6g}, ledger: {ledger}")
    lines.append(f"pii: {router.pii}" + ("" if router.pii == "off" else f" ({router.pii_scope})"))
    lines.append(f"export OPENAI_BASE_URL={base_url}")
    lines.append(f"export ANTHROPIC_BASE_URL={origin}")  # the Anthropic SDK adds /v1 itself
    if token is not None:
        for provider in providers or ["openai", "anthropic"]:
            lines.append(f"export {provider.upper()}_API_KEY={token}")
    print("\n".join(lines), flush=True)


def _serve(args: argparse.Namespace) -> int:
    from .router import LlmRouter  # keeps `--version` and `--help` free of JPype

    router = LlmRouter(
        server_url=args.server_url,
        port=args.port,
        host=args.host,
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
        budget=args.budget,
        budget_id=args.budget_id,
        state_dir=args.state_dir,
        pricing_file=args.pricing_file,
        unknown_model=args.unknown_model,
        pii=args.pii,
        pii_scope=args.pii_scope,
        pii_region=args.pii_region,
    )
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status (also used as console script)."""
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help(sys.stderr)
        return 2
    try:
        return _serve(args)
    except ConfigurationError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    except IronRuntimeError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
