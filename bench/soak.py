#!/usr/bin/env python3
"""Soak of the iron-runtime router at mixed faults (issue 5, "a soak").

One router (budget, priced models, PII redaction on, small timeouts, retries, a circuit
breaker with a short recovery, a rate limit and an in-flight gate) in front of the fake
upstream of the tests (``tests/fakes/upstream.py``), loaded for ``--seconds`` by N worker
threads using the official ``openai`` and ``anthropic`` SDKs. Each request picks a kind at
random: plain and streamed chat completions and messages, PII in the prompt, upstream
faults that the router retries away (a 429 / 500 / 529 / reset on the first attempt only),
persistent errors (500, 529, 429 with retry-after), abort (RST) and hang-up (FIN) before
the response, drop / reset mid-stream, stalls past ``idle_timeout``, slow heads past
``first_byte_timeout``, streams past ``total_timeout``, clients that close a stream early,
and bursts of errors. Once a minute (at 20 s) a storm (``--storm`` seconds) makes most requests fail,
so the circuits open, half-open and close again.

Every 10 s the main thread samples, through JPype in the same process: the JVM heap used
right after ``System.gc()``, live and peak JVM threads, Python threads, open file
descriptors, the process RSS and the router's gauges. At the end the load stops, the
router must drain to ``in_flight == 0`` with nothing reserved, and the ledger database must
hold one row per settled request.

    python bench/soak.py [--seconds 300] [--workers 16] [--json FILE]

Exit status 0 when every verdict holds, 1 when one fails, 2 on an error of the script.
This is a benchmark, not part of the CI test run.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the fake upstream of the tests
if (REPO / "python" / "iron_runtime").is_dir():
    # this checkout's package, not an installed (maybe older) one; the jar comes from target/ or
    # IRON_RUNTIME_JAR
    sys.path.insert(0, str(REPO / "python"))

OPENAI_KEY = "sk-proj-SOAKopenaiKEY-0123456789abcdefABCDEF"
ANTHROPIC_KEY = "sk-ant-api03-SOAKanthropicKEY-0123456789abcdef"
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-3-5-haiku-20241022"
SAMPLE_EVERY = 10.0
PII_TEXTS = (
    "my email is jane.doe@example.com, call me",
    "card 4111 1111 1111 1111 expires soon",
    "reach me at +1 415 555 0134 tomorrow",
    "server 10.20.30.40 uses key AKIAIOSFODNN7EXAMPLE",
)

# ----------------------------------------------------------------------------- the mix
#
# kind: (weight in normal phases, weight in storms). A kind is an API (oai / ant), a
# stream flag, a fake scenario and what the client does. "flaky" kinds fail on the first
# upstream attempt only (see FlakyHook): the router's retry must turn them into a success.

KINDS: Dict[str, Tuple[float, float]] = {
    "chat": (20, 2),
    "chat_stream": (20, 2),
    "messages": (16, 2),
    "messages_stream": (16, 2),
    "pii": (6, 1),
    "early_close": (4, 1),        # a long stream the client closes after a few events
    "flaky_429": (3, 0),          # 429 retry-after 0.05 s once, then ok
    "flaky_5xx": (1.5, 0),        # 500 (OpenAI) / 529 (Anthropic) once, then ok
    "flaky_abort": (1, 0),        # RST before the response once, then ok
    "error_5xx": (1, 20),         # 500 / 529 on every attempt
    "error_429": (1.5, 5),        # 429 retry-after 0.05 s on every attempt
    "abort": (0.4, 15),           # RST before the response, every attempt
    "hangup": (0.4, 15),          # FIN before the response, every attempt
    "drop_mid": (1, 10),          # stream: 3 events, then FIN without the last chunk
    "reset_mid": (1, 10),         # stream: 3 events, then RST
    "stall": (0.8, 5),            # stream: head + 1 event, then silence past idle_timeout
    "slow_head": (0.8, 5),        # no head until past first_byte_timeout
    "total_timeout": (0.3, 0),    # a stream that outlasts total_timeout
    "burst": (0.05, 0),           # 6 back-to-back persistent errors from one worker
}

# kinds whose requests carry no fault: anything but success is collateral damage (an open
# circuit, a rate limit, a timeout because the machine was too busy)
CLEAN_KINDS = ("chat", "chat_stream", "messages", "messages_stream", "pii", "early_close")


class Outcome(Exception):
    """A client-side verdict on a finished request (e.g. a stream that ended without its end)."""


def classify(exc: BaseException) -> str:
    """A short, stable outcome name for an exception raised by an SDK call or stream."""
    status = getattr(exc, "status_code", None)
    if isinstance(exc, Outcome):
        return str(exc)
    if status is not None:
        etype = ""
        body = getattr(exc, "body", None)
        if isinstance(body, dict):
            err = body.get("error") if isinstance(body.get("error"), dict) else body
            etype = str(err.get("type") or "") if isinstance(err, dict) else ""
        if status == 200:  # anthropic: an error event inside a started stream
            return f"stream_error_event {etype}".strip()
        return f"{status} {etype}".strip()
    name = type(exc).__name__
    if name == "APIError":  # openai: an error event inside a started stream
        return f"stream_error_event {getattr(exc, 'type', None) or ''}".strip()
    return f"exc:{name}"


# Outcomes no request of any kind should ever end with: the router always answers (or ends
# a started stream with an error event), and every timeout of the router is shorter than
# the clients' own.
def suspicious(outcome: str) -> bool:
    return outcome.startswith("exc:") or outcome in ("stream_no_end",)


class FlakyHook:
    """Fake-upstream hook: requests carrying ``x-soak-token`` use their scenario only on
    the first ``x-soak-fail-first`` attempts that reach the upstream, then answer normally."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: Dict[str, Tuple[int, float]] = {}

    def __call__(self, handler: Any, rec: Any) -> bool:
        token = rec.headers.get("x-soak-token")
        if token:
            fail_first = int(rec.headers.get("x-soak-fail-first") or "1")
            with self.lock:
                n = self.seen.get(token, (0, 0.0))[0] + 1
                self.seen[token] = (n, time.monotonic())
            if n > fail_first:
                rec.scenario.clear()  # the handler goes on with this (same) dict: a normal answer
        return False  # never answers itself

    def purge(self, older_than: float = 30.0) -> None:
        cut = time.monotonic() - older_than
        with self.lock:
            for k in [k for k, (_, t) in self.seen.items() if t < cut]:
                del self.seen[k]


class Load:
    """The workers and what they saw."""

    def __init__(self, router: Any, workers: int, storm_seconds: float, storm_every: float, seed: int):
        self.router = router
        self.workers = workers
        self.storm_seconds = storm_seconds
        self.storm_every = storm_every
        self.seed = seed
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts: Dict[Tuple[str, str], int] = collections.Counter()
        self.examples: Dict[Tuple[str, str], str] = {}
        self.ok_latency: List[float] = []
        self.collateral: List[Tuple[float, str, str]] = []  # (t, kind, outcome) of fault-free kinds that failed
        self.started = 0.0
        self.threads: List[threading.Thread] = []
        self.worker_errors: List[str] = []

    def storming(self, at: Optional[float] = None) -> bool:
        t = ((time.monotonic() - self.started) if at is None else at) % self.storm_every
        start = self.storm_every / 3  # the storm sits at 20-26 s of every minute
        return start <= t < start + self.storm_seconds

    def record(self, kind: str, outcome: str, example: str = "", latency: Optional[float] = None) -> None:
        with self.lock:
            self.counts[(kind, outcome)] += 1
            if example and (kind, outcome) not in self.examples:
                self.examples[(kind, outcome)] = example[:300]
            if latency is not None and len(self.ok_latency) < 2_000_000:
                self.ok_latency.append(latency)
            if kind in CLEAN_KINDS and outcome not in ("ok", "closed_early"):
                self.collateral.append((time.monotonic() - self.started, kind, outcome))

    def start(self) -> None:
        self.started = time.monotonic()
        for i in range(self.workers):
            t = threading.Thread(target=self._worker, args=(i,), name=f"soak-worker-{i}", daemon=True)
            self.threads.append(t)
            t.start()

    def finish(self, timeout: float = 20.0) -> List[str]:
        """Stop the load; the names of workers still busy after ``timeout``."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t.name for t in self.threads if t.is_alive()]

    # -- one worker -----------------------------------------------------------

    def _worker(self, index: int) -> None:
        import anthropic
        import openai

        rnd = random.Random(self.seed * 1000 + index)
        base = self.router.base_url
        origin = base[: -len("/v1")]
        # half the workers let the SDK retry once (it honours Retry-After), half never retry
        sdk_retries = index % 2
        oai = openai.OpenAI(base_url=base, api_key=self.router.api_key, max_retries=sdk_retries, timeout=15.0)
        ant = anthropic.Anthropic(base_url=origin, api_key=self.router.api_key, max_retries=sdk_retries,
                                  timeout=15.0)
        names = list(KINDS)
        normal = [KINDS[k][0] for k in names]
        storm = [KINDS[k][1] for k in names]
        try:
            while not self.stop.is_set():
                kind = rnd.choices(names, storm if self.storming() else normal)[0]
                api = "oai" if kind.startswith("chat") else "ant" if kind.startswith("messages") else (
                    "oai" if rnd.random() < 0.5 else "ant")
                if kind == "burst":
                    for _ in range(6):
                        self._one(oai, ant, rnd, "burst", api, False)
                else:
                    self._one(oai, ant, rnd, kind, api, sdk_retries == 0)
        except BaseException:  # noqa: BLE001 - a dead worker is reported, not hidden
            with self.lock:
                self.worker_errors.append(traceback.format_exc())
        finally:
            oai.close()
            ant.close()

    def _one(self, oai: Any, ant: Any, rnd: random.Random, kind: str, api: str, timed: bool) -> None:
        stream = kind.endswith("_stream") or kind in ("drop_mid", "reset_mid", "stall", "total_timeout",
                                                       "early_close") or (
            kind in ("pii", "flaky_429", "flaky_5xx", "error_5xx") and rnd.random() < 0.5)
        err5 = "500" if api == "oai" else "529"
        scenario = {
            "flaky_429": "error:429,retry:0.05",
            "flaky_5xx": f"error:{err5},retry:0.05",
            "flaky_abort": "abort",
            "error_5xx": f"error:{err5},retry:0.05",
            "burst": f"error:{err5},retry:0.05",
            "error_429": "error:429,retry:0.05",
            "abort": "abort",
            "hangup": "hangup",
            "drop_mid": "drop:3",
            "reset_mid": "reset:3",
            "stall": "stall:1.5",
            "slow_head": "slow:1.5",
            "total_timeout": "long:400,delay:0.02",
            "early_close": "long:200,delay:0.01",
        }.get(kind)
        headers: Dict[str, str] = {}
        if scenario:
            headers["x-fake-scenario"] = scenario
        if kind.startswith("flaky_"):
            headers["x-soak-token"] = uuid.uuid4().hex
            headers["x-soak-fail-first"] = "1"
        text = rnd.choice(PII_TEXTS) if kind == "pii" else f"soak request {rnd.randrange(10**6)}"
        msgs = [{"role": "user", "content": text}]
        close_after = 5 if kind == "early_close" else None
        t0 = time.monotonic()
        try:
            if api == "oai":
                self._openai(oai, msgs, headers, stream, close_after, kind)
            else:
                self._anthropic(ant, msgs, headers, stream, close_after, kind)
            outcome = "closed_early" if close_after else "ok"
            timed = timed and outcome == "ok" and not scenario
            self.record(kind, outcome, latency=time.monotonic() - t0 if timed else None)
        except Exception as exc:  # noqa: BLE001 - every outcome is counted
            outcome = classify(exc)
            self.record(kind, outcome, f"{api} {'stream' if stream else 'plain'}: {type(exc).__name__}: {exc}")

    @staticmethod
    def _openai(client: Any, msgs: list, headers: dict, stream: bool, close_after: Optional[int], kind: str) -> None:
        if not stream:
            r = client.chat.completions.create(model=OPENAI_MODEL, messages=msgs, extra_headers=headers)
            content = r.choices[0].message.content or ""
            if kind != "pii" and not content.startswith("echo: "):
                raise Outcome("bad_content")
            return
        s = client.chat.completions.create(model=OPENAI_MODEL, messages=msgs, stream=True,
                                           stream_options={"include_usage": True}, extra_headers=headers)
        _drain(s, lambda chunk: bool(chunk.choices and chunk.choices[0].finish_reason), close_after)

    @staticmethod
    def _anthropic(client: Any, msgs: list, headers: dict, stream: bool, close_after: Optional[int],
                   kind: str) -> None:
        if not stream:
            r = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=1024, messages=msgs, extra_headers=headers)
            content = "".join(getattr(b, "text", "") for b in r.content)
            if kind != "pii" and not content.startswith("echo: "):
                raise Outcome("bad_content")
            return
        s = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=1024, messages=msgs, stream=True,
                                   extra_headers=headers)
        _drain(s, lambda event: event.type == "message_stop", close_after)


def _drain(stream: Any, is_end: Any, close_after: Optional[int]) -> None:
    """Read a stream to its end event (Outcome "stream_no_end" without one), or leave after ``close_after`` items."""
    finished = False
    n = 0
    try:
        for item in stream:
            n += 1
            finished = finished or is_end(item)
            if close_after is not None and n >= close_after:
                return
    finally:
        stream.close()
    if not finished:
        raise Outcome("stream_no_end")


# ----------------------------------------------------------------------------- sampling


class Sampler:
    def __init__(self, router: Any):
        import jpype

        self.router = router
        mf = jpype.JClass("java.lang.management.ManagementFactory")
        self.memory = mf.getMemoryMXBean()
        self.threads = mf.getThreadMXBean()
        self.system = jpype.JClass("java.lang.System")
        self.samples: List[Dict[str, Any]] = []

    def histogram(self) -> Dict[str, Tuple[int, int]]:
        """The JVM's live-object class histogram (a full GC): class -> (instances, bytes)."""
        import jpype

        server = jpype.JClass("java.lang.management.ManagementFactory").getPlatformMBeanServer()
        name = jpype.JClass("javax.management.ObjectName")("com.sun.management:type=DiagnosticCommand")
        args = jpype.JArray(jpype.JObject)([jpype.JArray(jpype.JString)([])])
        sig = jpype.JArray(jpype.JString)(["[Ljava.lang.String;"])
        text = str(server.invoke(name, "gcClassHistogram", args, sig))
        out: Dict[str, Tuple[int, int]] = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[0].endswith(":") and parts[1].isdigit():
                out[parts[3]] = (int(parts[1]), int(parts[2]))
        return out

    @staticmethod
    def rss_mb() -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")

    @staticmethod
    def fds() -> int:
        try:
            return len(os.listdir("/proc/self/fd"))
        except OSError:
            return -1

    def sample(self, t: float, phase: str = "load") -> Dict[str, Any]:
        g0 = time.monotonic()
        self.system.gc()
        gc_ms = (time.monotonic() - g0) * 1000
        heap = self.memory.getHeapMemoryUsage()
        m = self.router.metrics()
        s = {
            "t": round(t, 1),
            "phase": phase,
            "heap_mb": int(heap.getUsed()) / 2**20,
            "heap_committed_mb": int(heap.getCommitted()) / 2**20,
            "nonheap_mb": int(self.memory.getNonHeapMemoryUsage().getUsed()) / 2**20,
            "gc_ms": gc_ms,
            "jvm_threads": int(self.threads.getThreadCount()),
            "jvm_peak_threads": int(self.threads.getPeakThreadCount()),
            "py_threads": threading.active_count(),
            "fds": self.fds(),
            "rss_mb": self.rss_mb(),
            "requests": m.get("requests"),
            "in_flight": m.get("in_flight"),
            "upstream_in_flight": m.get("upstream_in_flight"),
            "queued": m.get("queued"),
            "budget_reserved": m.get("budget_reserved"),
        }
        self.samples.append(s)
        return s


def circuit_opens(metrics: Dict[str, Any]) -> int:
    return sum(int(c.get("times_opened") or 0) for c in (metrics.get("circuits") or {}).values())


def pct(values: List[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q / 100.0 * len(v) + 0.5)) - 1))]


# ----------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=300, help="load time (default 300)")
    ap.add_argument("--workers", type=int, default=16, help="client threads (default 16)")
    ap.add_argument("--json", metavar="FILE", help="write the samples, counts and verdicts as JSON")
    ap.add_argument("--rpm", type=int, default=6000, help="the router's requests-per-minute limit (default 6000)")
    ap.add_argument("--tpm", type=int, default=150000,
                    help="the router's tokens-per-minute limit (default 150000: requests take their estimate up "
                         "front, about 16k tokens for an unbounded gpt-4o-mini call, so it bites when many are "
                         "in flight at once)")
    ap.add_argument("--max-in-flight", type=int, default=10,
                    help="the router's max_in_flight (default 10: below --workers, so requests queue)")
    ap.add_argument("--storm", type=float, default=6.0, help="seconds of storm in every minute (default 6; 0: none)")
    ap.add_argument("--thread-slack", type=int, default=6,
                    help="JVM threads may grow by this much, last minute against first (default 6)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--histogram", type=int, default=0, metavar="N",
                    help="diagnostics: print the N classes whose live bytes grew most between the end of the "
                         "first minute and the end of the load (two extra full GCs)")
    args = ap.parse_args()
    if args.seconds < 20 or args.workers < 1:
        ap.error("--seconds must be at least 20 (samples are 10 s apart) and --workers at least 1")
    # the Anthropic SDK warns on every call that the (priced) model is deprecated
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    window = 60.0 if args.seconds >= 180 else args.seconds / 3  # "first minute" and "last minute"

    try:
        import anthropic
        import openai

        from fakes.upstream import FakeUpstream
        from iron_runtime import LlmRouter
    except ImportError as exc:
        print(f"missing a module: {exc} (needs openai, anthropic, JPype1 and iron_runtime)", file=sys.stderr)
        return 2

    state_dir = tempfile.mkdtemp(prefix="iron-soak-")
    hook = FlakyHook()
    up = FakeUpstream(event_delay=0.02, handler=hook).start()
    circuit_events: Dict[str, int] = collections.Counter()
    opens_at: List[Tuple[float, bool]] = []  # (t, during a storm) of every closed->open / half_open->open
    t_boot = time.monotonic()
    router = LlmRouter(
        provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
        openai_base_url=up.origin, anthropic_base_url=up.origin,
        budget=1000, state_dir=state_dir,
        first_byte_timeout=1.0, idle_timeout=0.5, total_timeout=5.0, connect_timeout=2.0,
        circuit_breaker={"failure_threshold": 5, "recovery_timeout": 2},
        max_retries=2, retry_backoff={"base_delay": 0.05},
        rate_limits={k: v for k, v in (("rpm", args.rpm), ("tpm", args.tpm)) if v},
        max_in_flight=args.max_in_flight, queue_timeout=1.0,
    )
    boot = time.monotonic() - t_boot

    load = Load(router, args.workers, args.storm, 60.0, args.seed)

    @router.on_circuit_change
    def _on_circuit(event: Dict[str, Any]) -> None:
        circuit_events[f"{event.get('from')}->{event.get('to')}"] += 1
        if event.get("to") == "open" and load.started:
            # the event arrives shortly after the change: a storm that just ended still counts
            t = time.monotonic() - load.started
            opens_at.append((t, load.storming() or load.storming(t - 1.0)))

    import jpype
    runtime = jpype.JClass("java.lang.Runtime").getRuntime()
    print(f"soak: {args.seconds:.0f} s, {args.workers} workers (openai {openai.__version__}, anthropic "
          f"{anthropic.__version__}), Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"JVM max heap {int(runtime.maxMemory()) // 2**20} MB; router up in {boot:.2f} s")
    print(f"router: budget $1000, PII redact, first_byte 1 s / idle 0.5 s / total 5 s, max_retries 2 "
          f"(base 0.05 s), circuit 5 failures / 2 s recovery, rpm {args.rpm} tpm {args.tpm}, max_in_flight "
          f"{args.max_in_flight} / queue 1 s; storm {args.storm:.0f} s every 60 s")

    sampler = Sampler(router)
    header = (f"{'t':>5} {'req/s':>6} {'heap':>6} {'gc ms':>6} {'jvm thr':>7} {'peak':>5} {'py thr':>6} "
              f"{'fds':>5} {'rss MB':>7} {'in_fl':>5} {'up_fl':>5} {'queued':>6} {'reserved $':>10}")
    print(header)
    rc_error = 0
    try:
        first = sampler.sample(0.0, "before")
        load.start()
        prev_req, prev_t = first["requests"] or 0, 0.0
        next_at = SAMPLE_EVERY
        hist_first: Optional[Tuple[float, Dict[str, Tuple[int, int]]]] = None
        hist_last: Optional[Tuple[float, Dict[str, Tuple[int, int]]]] = None

        def show(s: Dict[str, Any], rate: float) -> None:
            print(f"{s['t']:>5.0f} {rate:>6.1f} {s['heap_mb']:>6.1f} {s['gc_ms']:>6.0f} {s['jvm_threads']:>7} "
                  f"{s['jvm_peak_threads']:>5} {s['py_threads']:>6} {s['fds']:>5} {s['rss_mb']:>7.0f} "
                  f"{s['in_flight']:>5} {s['upstream_in_flight']:>5} {s['queued']:>6} "
                  f"{s['budget_reserved']:>10.4f}", flush=True)

        show(first, 0.0)
        while True:
            now = time.monotonic() - load.started
            if now >= args.seconds:
                break
            time.sleep(min(next_at, args.seconds) - now if min(next_at, args.seconds) > now else 0.05)
            now = time.monotonic() - load.started
            if now >= next_at - 0.01:
                s = sampler.sample(now)
                rate = ((s["requests"] or 0) - prev_req) / max(1e-9, now - prev_t)
                s["req_per_s"] = rate
                prev_req, prev_t = s["requests"] or 0, now
                show(s, rate)
                if args.histogram and hist_first is None and now >= window:
                    hist_first = (now, sampler.histogram())
                up.clear()  # the fake records every request: keep its memory flat
                hook.purge()
                next_at += SAMPLE_EVERY
        load_seconds = time.monotonic() - load.started
        if args.histogram:
            hist_last = (load_seconds, sampler.histogram())
        busy = load.finish()
        t_stop = time.monotonic()
        drained = False
        while time.monotonic() - t_stop < 20:
            m = router.metrics()
            if m["in_flight"] == 0 and m["upstream_in_flight"] == 0 and m["queued"] == 0:
                drained = True
                break
            time.sleep(0.1)
        drain_s = time.monotonic() - t_stop
        flushed = router.flush(30)
        time.sleep(1.0)  # let finished connections' threads end
        after = sampler.sample(time.monotonic() - load.started, "after")
        show(after, 0.0)
        final = router.metrics()
        con = sqlite3.connect(f"file:{router.database_path}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT count(*) FROM ledger").fetchone()[0]
            attempts = dict(con.execute("SELECT attempts, count(*) FROM ledger GROUP BY attempts").fetchall())
            by_outcome = dict(con.execute("SELECT outcome, count(*) FROM ledger GROUP BY outcome").fetchall())
            ledger_attempts = con.execute("SELECT coalesce(sum(attempts), 0) FROM ledger").fetchone()[0]
            ledger_cost = con.execute("SELECT coalesce(sum(cost_picos), 0) FROM ledger").fetchone()[0]
        finally:
            con.close()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        load.finish(5)
        rc_error = 2
    if rc_error:
        router.close()
        up.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
        return rc_error

    # ------------------------------------------------------------------------- summary
    samples = [s for s in sampler.samples if s["phase"] == "load"]
    first_w = [s for s in samples if s["t"] <= window + 1] or samples[:1]
    last_w = [s for s in samples if s["t"] >= load_seconds - window - 1] or samples[-1:]
    heap_first = statistics.median(s["heap_mb"] for s in first_w)
    heap_last = statistics.median(s["heap_mb"] for s in last_w)
    heap_max = max(s["heap_mb"] for s in samples)
    tail = [(s["t"], s["heap_mb"]) for s in samples if s["t"] >= window - 1]
    slope = float("nan")
    if len(tail) >= 3:  # least squares, MB per minute, after the first minute
        mt = statistics.fmean(t for t, _ in tail)
        mh = statistics.fmean(h for _, h in tail)
        slope = 60 * sum((t - mt) * (h - mh) for t, h in tail) / sum((t - mt) ** 2 for t, _ in tail)
    thr_first = max(s["jvm_threads"] for s in first_w)
    thr_last = max(s["jvm_threads"] for s in last_w)
    total_requests = sum(load.counts.values())
    outcomes: Dict[str, int] = collections.Counter()
    for (_, o), n in load.counts.items():
        outcomes[o] += n
    kinds = sorted({k for k, _ in load.counts})
    clean_calls = sum(n for (k, _), n in load.counts.items() if k in CLEAN_KINDS)
    coll_by = collections.Counter(o for _, _, o in load.collateral)
    gc_times = [x["t"] for x in sampler.samples if x["phase"] == "load"]
    coll_timeouts = [t for t, _, o in load.collateral if "504" in o or "timeout" in o or "idle" in o]
    near_gc = sum(1 for t in coll_timeouts if any(0 <= t - g <= 2.0 for g in gc_times))
    odd = {f"{k} / {o}": n for (k, o), n in load.counts.items() if suspicious(o)}
    reserved = final["budget_reserved"]
    settled = final["settled_requests"]
    verdicts = [
        ("drained (in_flight 0 within 20 s of the end)", drained, f"{drain_s:.1f} s"),
        ("budget_reserved == 0", reserved == 0, f"{reserved}"),
        ("ledger rows == settled_requests", rows == settled and flushed, f"{rows} rows, {settled} settled"),
        (f"JVM threads: last minute max <= first minute max + {args.thread_slack}",
         thr_last <= thr_first + args.thread_slack, f"{thr_first} -> {thr_last}"),
        ("heap after GC: last minute median <= 1.5 x first minute median",
         heap_last <= 1.5 * heap_first, f"{heap_first:.1f} -> {heap_last:.1f} MB"),
        ("no worker died", not load.worker_errors and not busy, f"{len(load.worker_errors)} died, busy {busy}"),
    ]
    ok = all(v for _, v, _ in verdicts)

    print()
    print(f"load {load_seconds:.0f} s: {total_requests} client calls, {total_requests / load_seconds:.1f}/s; "
          f"router requests {final['requests']} ({final['requests'] / load_seconds:.1f}/s), "
          f"upstream attempts in the ledger {ledger_attempts}")
    print(f"ok latency (no fault, workers without SDK retries): p50 {pct(load.ok_latency, 50) * 1000:.0f} ms, "
          f"p99 {pct(load.ok_latency, 99) * 1000:.0f} ms")
    print("outcomes by kind:")
    for k in kinds:
        row = sorted(((o, n) for (kk, o), n in load.counts.items() if kk == k), key=lambda x: -x[1])
        print(f"  {k:<16} " + ", ".join(f"{o} {n}" for o, n in row))
    print("outcomes overall: " + ", ".join(f"{o} {n}" for o, n in sorted(outcomes.items(), key=lambda x: -x[1])))
    print(f"fault-free kinds: {clean_calls} calls, {len(load.collateral)} did not succeed "
          f"({100.0 * len(load.collateral) / max(1, clean_calls):.1f} %): "
          + ", ".join(f"{o} {n}" for o, n in coll_by.most_common())
          + (f"; of their timeouts {near_gc} of {len(coll_timeouts)} ended within 2 s after a sample's System.gc()"
             if coll_timeouts else ""))
    print(f"heap after GC, MB: first {window:.0f} s median {heap_first:.1f}, last {window:.0f} s median "
          f"{heap_last:.1f}, max {heap_max:.1f}, after the load {after['heap_mb']:.1f}; trend after the first "
          f"{window:.0f} s {slope:+.1f} MB/min")
    print(f"JVM non-heap used, MB: first sample {samples[0]['nonheap_mb']:.1f}, last {samples[-1]['nonheap_mb']:.1f}; "
          f"heap committed first {samples[0]['heap_committed_mb']:.0f}, last {samples[-1]['heap_committed_mb']:.0f}")
    print(f"JVM threads: min {min(s['jvm_threads'] for s in samples)}, max {max(s['jvm_threads'] for s in samples)}"
          f" (peak {max(s['jvm_peak_threads'] for s in samples)}), after the load {after['jvm_threads']}; Python "
          f"threads min {min(s['py_threads'] for s in samples)}, max {max(s['py_threads'] for s in samples)}, "
          f"after {after['py_threads']}; fds min {min(s['fds'] for s in samples)}, max "
          f"{max(s['fds'] for s in samples)}, after {after['fds']}")
    print(f"RSS MB: before the load {first['rss_mb']:.0f}, first sample {samples[0]['rss_mb']:.0f}, "
          f"last sample {samples[-1]['rss_mb']:.0f}, after {after['rss_mb']:.0f}")
    t = final["timeouts"]
    in_storm = sum(1 for _, st in opens_at if st)
    print(f"router: circuit opens {circuit_opens(final)} ({in_storm} in storms, {len(opens_at) - in_storm} outside;"
          f" events {dict(circuit_events)}), circuit rejected "
          f"{final['circuit_rejected']}, retries {final['retries']}, rate limited {final['rate_limited']}, "
          f"queue timeouts {final['queue_timeouts']}, timeouts first_byte {t['first_byte']} idle {t['idle']} "
          f"total {t['total']} connect {t['connect']}, stream failures {final['stream_failures']}, "
          f"client aborts {final['client_aborts']}, upstream failures {final['upstream_failures']}, "
          f"pii detections {final['pii_detections']}")
    print(f"ledger: {rows} rows (settled {settled}), attempts {dict(sorted(attempts.items()))}, spent "
          f"${final['budget_spent']:.6f} (ledger ${ledger_cost / 1e12:.6f}), reserved ${reserved}, "
          f"ledger_pending {final['ledger_pending']}, ledger_error {final['ledger_error']}, "
          f"events_dropped {final['events_dropped']}")
    print("ledger outcomes: " + ", ".join(f"{o} {n}" for o, n in sorted(by_outcome.items(), key=lambda x: -x[1])))
    if odd:
        print("suspicious outcomes (the router should always answer or end a stream with an error event):")
        for name, n in sorted(odd.items(), key=lambda x: -x[1]):
            k, o = name.split(" / ")
            print(f"  {name}: {n}  e.g. {load.examples.get((k, o), '')}")
    if hist_first and hist_last:
        (t1, h1), (t2, h2) = hist_first, hist_last
        grown = sorted(((h2.get(c, (0, 0))[1] - h1.get(c, (0, 0))[1], c) for c in set(h1) | set(h2)), reverse=True)
        total = sum(b for _, b in h2.values()) - sum(b for _, b in h1.values())
        print(f"live objects grown between {t1:.0f} s and {t2:.0f} s: {total / 2**20:+.1f} MB; top classes:")
        for d, c in grown[:args.histogram]:
            n1, b1 = h1.get(c, (0, 0))
            n2, b2 = h2.get(c, (0, 0))
            print(f"  {d / 2**20:+8.2f} MB {n2 - n1:+9d} objects ({n2} now, {b2 / 2**20:.1f} MB)  {c}")
    for err in load.worker_errors:
        print("worker died:\n" + err)
    print("verdicts:")
    for name, v, detail in verdicts:
        print(f"  {'ok  ' if v else 'FAIL'} {name}: {detail}")
    print("soak: " + ("ok" if ok else "FAILED"))

    if args.json:
        doc = {
            "args": vars(args),
            "load_seconds": load_seconds,
            "client_calls": total_requests,
            "counts": {f"{k}|{o}": n for (k, o), n in sorted(load.counts.items())},
            "examples": {f"{k}|{o}": e for (k, o), e in sorted(load.examples.items())},
            "samples": sampler.samples,
            "final_metrics": final,
            "circuit_events": dict(circuit_events),
            "ledger": {"rows": rows, "attempts": attempts, "outcomes": by_outcome, "cost_picos": ledger_cost},
            "summary": {"heap_first_mb": heap_first, "heap_last_mb": heap_last, "heap_max_mb": heap_max,
                        "heap_slope_mb_per_min": slope,
                        "jvm_threads_first_max": thr_first, "jvm_threads_last_max": thr_last,
                        "ok_latency_p50_s": pct(load.ok_latency, 50), "ok_latency_p99_s": pct(load.ok_latency, 99)},
            "verdicts": [{"name": n, "ok": v, "detail": d} for n, v, d in verdicts],
            "ok": ok,
        }
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str))
    router.close()
    up.stop()
    shutil.rmtree(state_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
