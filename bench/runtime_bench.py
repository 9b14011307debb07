#!/usr/bin/env python3
"""Agent runtime costs (issue 6): how long starting and stopping a governed agent takes, and what
attributing a request to an agent adds to the router's latency.

1. ``start_agent`` until it returns (the prelude has made the agent its own group leader and exec'd
   the script) and ``stop_agent`` (SIGTERM to the group until the exit is recorded), over N agents.
2. Requests through the router with the router's own token and with an agent's token, interleaved
   one by one from this process (keep-alive connection, a tiny fake provider on loopback): medians
   and their difference. An agent's token costs one SHA-256 and a map lookup, and an agent request
   reserves in two budgets instead of one.

    python bench/runtime_bench.py [--agents 10] [--requests 2000] [--jar PATH]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPLY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
}).encode()
BODY = json.dumps({"model": "gpt-4o-mini", "max_tokens": 16,
                   "messages": [{"role": "user", "content": "Say ok."}]}).encode()


class FakeOpenAI(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # head and body go out in two writes: without this, Nagle and delayed ACKs add 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)

    def log_message(self, *args: object) -> None:
        pass


def ms(values):
    return statistics.median(values) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--jar", help="engine jar (sets IRON_RUNTIME_JAR)")
    args = ap.parse_args()
    if args.jar:
        os.environ["IRON_RUNTIME_JAR"] = str(Path(args.jar).resolve())
    sys.path.insert(0, str(REPO / "python"))
    from iron_runtime import Runtime

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}"

    with tempfile.TemporaryDirectory() as tmp:
        sleeper = Path(tmp) / "sleeper.py"
        sleeper.write_text("import time\ntime.sleep(600)\n")
        with Runtime(budget=1000.0, provider_key="sk-bench-0123456789", openai_base_url=upstream,
                     state_dir=tmp) as rt:
            starts, stops = [], []
            for _ in range(args.agents):
                t0 = time.perf_counter()
                h = rt.start_agent(sleeper)
                starts.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                rt.stop_agent(h, timeout=5)
                stops.append(time.perf_counter() - t0)
            print(f"start_agent: median {ms(starts):.1f} ms (min {min(starts) * 1000:.1f}, max {max(starts) * 1000:.1f})"
                  f" over {args.agents} agents")
            print(f"stop_agent:  median {ms(stops):.1f} ms (min {min(stops) * 1000:.1f}, max {max(stops) * 1000:.1f})")

            # An agent that waits while this process borrows its token (the token is in its environment).
            probe = Path(tmp) / "token.py"
            probe.write_text("import os, time\nprint(os.environ['OPENAI_API_KEY'], flush=True)\ntime.sleep(600)\n")
            h = rt.start_agent(probe)
            deadline = time.monotonic() + 30
            while not rt.logs(h, tail=1).strip() and time.monotonic() < deadline:
                time.sleep(0.05)
            agent_token = rt.logs(h, tail=1).strip()
            port = rt.router.port
            tokens = {"router token": rt.router.api_key, "agent token": agent_token}
            conns = {name: http.client.HTTPConnection("127.0.0.1", port) for name in tokens}
            for c in conns.values():
                c.connect()
                c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            latencies = {name: [] for name in tokens}
            for i in range(args.requests + 200):
                for name, token in tokens.items():
                    c = conns[name]
                    t0 = time.perf_counter()
                    c.request("POST", "/v1/chat/completions", BODY,
                              {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
                    r = c.getresponse()
                    r.read()
                    if r.status != 200:
                        raise SystemExit(f"{name}: status {r.status}")
                    if i >= 200:  # warm-up
                        latencies[name].append(time.perf_counter() - t0)
            base, agent = ms(latencies["router token"]), ms(latencies["agent token"])
            print(f"request via the router, router token: median {base:.3f} ms; agent token: median {agent:.3f} ms;"
                  f" difference {agent - base:+.3f} ms ({args.requests} each, interleaved)")
            m = rt.get_metrics(h)
            assert m["requests"] >= args.requests, m
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
