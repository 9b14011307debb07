#!/usr/bin/env python3
"""Cold start of the iron-runtime router from Python (issue 2, "Performance").

Measures, in N fresh Python processes, the time from just before
``from iron_runtime import LlmRouter`` to the first proxied response received through
the ``openai`` SDK (a non-streaming chat completion). The JVM start is inside that
window: ``LlmRouter()`` starts the embedded JVM lazily, on first use.

The fake upstream is a small ``http.server`` run by this (parent) process, so nothing of
it is inside the child's timed window. Each child imports ``openai`` before its timer
starts: an agent has its SDK imported anyway, and the SDK's import time is not the
router's (it is reported beside, for context).

    python bench/cold_start.py [--runs 5] [--target 1.5] [--jar PATH]

Exit status 0 when the median is within the target, 1 when it is not, 2 on error.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROVIDER_KEY = "sk-cold-start"

RESPONSE = json.dumps(
    {
        "id": "chatcmpl-cold",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the fake upstream.", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15},
    }
).encode()

# The child: everything it does before t0 is outside the measure (interpreter start, the
# SDK import); t0..t3 is the measure. perf_counter is monotonic and high-resolution.
CHILD = r"""
import json, sys, time
t_proc = time.perf_counter()
import openai
t0 = time.perf_counter()
from iron_runtime import LlmRouter
t1 = time.perf_counter()
router = LlmRouter(provider_key=sys.argv[1], openai_base_url=sys.argv[2])
t2 = time.perf_counter()
client = openai.OpenAI(base_url=router.base_url, api_key=router.api_key, max_retries=0)
t_client = time.perf_counter()
reply = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello."}])
t3 = time.perf_counter()
assert reply.choices[0].message.content == "Hello from the fake upstream.", reply
print(json.dumps({"import_openai": t0 - t_proc, "import": t1 - t0, "router": t2 - t1,
                  "sdk_client": t_client - t2, "first_response": t3 - t_client, "total": t3 - t0}))
"""


class FakeOpenAI(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen_keys: list = []

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        FakeOpenAI.seen_keys.append(self.headers.get("Authorization"))
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(RESPONSE)))
        self.send_header("x-request-id", "req_cold")
        self.end_headers()
        self.wfile.write(RESPONSE)

    def log_message(self, *args: object) -> None:
        pass


def child_env(jar: str | None) -> dict:
    """Environment for the children: the installed package if there is one, else this checkout."""
    env = dict(os.environ)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "IC_TOKEN", "IC_SERVER", "OPENAI_BASE_URL"):
        env.pop(name, None)
    if jar:
        env["IRON_RUNTIME_JAR"] = str(Path(jar).resolve())
    probe = subprocess.run([sys.executable, "-c", "import iron_runtime"], env=env, capture_output=True)
    if probe.returncode != 0:
        source = REPO / "python"
        if not (source / "iron_runtime").is_dir():
            sys.exit("iron_runtime is not importable: pip install the package first (pip install .)")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
        print(f"iron_runtime is not installed; using the source tree {source} (jar from target/ or IRON_RUNTIME_JAR)")
    return env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh processes to start (default 5)")
    ap.add_argument("--target", type=float, default=1.5, help="target for the median, seconds (default 1.5)")
    ap.add_argument("--jar", help="engine jar to use (sets IRON_RUNTIME_JAR for the children)")
    args = ap.parse_args()

    try:
        import openai  # noqa: F401  (only checks that the children can import it)
    except ImportError:
        print("the openai package is needed: pip install openai", file=sys.stderr)
        return 2

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}"
    env = child_env(args.jar)

    print(f"cold start: {args.runs} fresh processes of {sys.executable} (Python {sys.version.split()[0]}),"
          f" {os.cpu_count()} CPUs; timed from `from iron_runtime import LlmRouter` to the first"
          " proxied response via the openai SDK")
    print(f"{'run':>3}  {'import':>8}  {'LlmRouter()':>11}  {'OpenAI()':>8}  {'1st reply':>9}  {'total':>7}  "
          f"{'(process':>8} {'openai import)':>14}")
    totals = []
    for i in range(1, args.runs + 1):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, PROVIDER_KEY, upstream], env=env,
                              capture_output=True, text=True, timeout=120)
        wall = time.perf_counter() - started
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            print(f"run {i} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}", file=sys.stderr)
            return 2
        m = json.loads(lines[-1])
        totals.append(m["total"])
        print(f"{i:>3}  {m['import']:>7.3f}s  {m['router']:>10.3f}s  {m['sdk_client']:>7.3f}s  "
              f"{m['first_response']:>8.3f}s  {m['total']:>6.3f}s  ({wall:>6.3f}s {m['import_openai']:>13.3f}s)")
    server.shutdown()

    if any(key != f"Bearer {PROVIDER_KEY}" for key in FakeOpenAI.seen_keys):
        print(f"the upstream did not receive the provider key: {set(FakeOpenAI.seen_keys)}", file=sys.stderr)
        return 2
    median = statistics.median(totals)
    ok = median <= args.target
    print(f"median {median:.3f} s (min {min(totals):.3f}, max {max(totals):.3f}); target <= {args.target:.1f} s:"
          f" {'ok' if ok else 'MISS'}")
    print("columns: import = `from iron_runtime import LlmRouter`; LlmRouter() = JVM start + engine load +"
          " router listening; OpenAI() = the SDK building its client (httpx, TLS context); 1st reply = the first"
          " chat completion through the router; total = the sum (the measure); process = the whole child"
          " process as the parent saw it, interpreter start and `import openai` included")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
