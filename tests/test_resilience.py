"""Issue 5, end to end: circuit breakers, router-side retries, rate limits, backpressure and
timeouts, through the official ``openai`` and ``anthropic`` SDKs (and raw HTTP where the exact
headers matter) against the fault-injecting fake upstream on loopback.

Every test builds its own router (``make_router``) with small timeouts and fast backoff; the
shared fakes are emptied for each test. No reservation may leak: tests with a budget check that
``budget_reserved`` returns to 0, and tests that read the ledger keep it in ``tmp_path``.
"""

import collections
import concurrent.futures
import datetime
import email.utils
import json
import math
import re
import sqlite3
import threading
import time

import anthropic
import openai
import pytest

from fakes.upstream import FakeUpstream, reply_text
from helpers import (
    ANTHROPIC_KEY, MSG, OPENAI_KEY, ant_client, assert_anthropic_error, assert_no_secret, assert_openai_error,
    free_port, oai_client, raw,
)
from iron_runtime import ConfigurationError, LlmRouter

OAI = "gpt-4o-mini"  # priced
ANT = "claude-haiku-4-5"  # priced
ECHO = reply_text("hello router")
CHAT = {"model": OAI, "messages": MSG}
MESSAGES = {"model": ANT, "max_tokens": 20, "messages": MSG}
FAST = {"base_delay": 0.01, "max_delay": 0.02}  # router backoff when the upstream names no wait
# A breaker that records every outcome but never opens (tests about something else).
NEVER_OPENS = {"failure_threshold": 1_000_000, "failure_rate": 1.0, "window": 10_000, "minimum_calls": 10_000}
API_STATUS_ERRORS = (openai.APIStatusError, anthropic.APIStatusError)
API_ERRORS = (openai.APIError, anthropic.APIError)


# ----------------------------------------------------------------------------- helpers


def make(make_router, up, ant=None, **kw):
    """A direct-mode router holding both keys, OpenAI at ``up`` and Anthropic at ``ant`` (else ``up``)."""
    kw.setdefault("retry_backoff", FAST)
    return make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=up.origin,
                       anthropic_base_url=(ant or up).origin, **kw)


def sc(scenario):
    return {"x-fake-scenario": scenario} if scenario else {}


def oai_call(router, scenario=None, *, stream=False, client=None, model=OAI, **kw):
    """One chat completion through the OpenAI SDK; returns the text (a stream's deltas joined)."""
    c = client or oai_client(router)
    if stream:
        with c.chat.completions.create(model=model, messages=MSG, stream=True, extra_headers=sc(scenario), **kw) as s:
            return "".join(ch.choices[0].delta.content or "" for ch in s if ch.choices)
    reply = c.chat.completions.create(model=model, messages=MSG, extra_headers=sc(scenario), **kw)
    return reply.choices[0].message.content


def ant_call(router, scenario=None, *, stream=False, client=None, model=ANT, max_tokens=20):
    """One message through the Anthropic SDK; returns the text."""
    c = client or ant_client(router)
    if stream:
        with c.messages.stream(model=model, max_tokens=max_tokens, messages=MSG, extra_headers=sc(scenario)) as s:
            return "".join(s.text_stream)
    reply = c.messages.create(model=model, max_tokens=max_tokens, messages=MSG, extra_headers=sc(scenario))
    return reply.content[0].text


def call(provider, router, scenario=None, **kw):
    return (oai_call if provider == "openai" else ant_call)(router, scenario, **kw)


def status_error(fn, *args, **kw):
    """The SDK's APIStatusError raised by ``fn`` (fails when it returns)."""
    with pytest.raises(API_STATUS_ERRORS) as ei:
        fn(*args, **kw)
    return ei.value


def full_body(exc):
    """The whole JSON error body of an SDK status error (the OpenAI SDK unwraps ``error`` in .body)."""
    return exc.response.json()


def stream_until_error(provider, router, scenario, client=None, **kw):
    """Iterates a stream through the SDK until it raises. Returns (items received, the exception,
    seconds from the call to the exception)."""
    got = []
    t0 = time.monotonic()
    with pytest.raises(API_ERRORS) as ei:
        if provider == "openai":
            c = client or oai_client(router)
            for ch in c.chat.completions.create(model=OAI, messages=MSG, stream=True, extra_headers=sc(scenario), **kw):
                got.append(ch)
        else:
            c = client or ant_client(router)
            for ev in c.messages.create(model=ANT, max_tokens=kw.pop("max_tokens", 20), messages=MSG, stream=True,
                                        extra_headers=sc(scenario), **kw):
                got.append(ev)
    return got, ei.value, time.monotonic() - t0


def error_text(exc):
    return json.dumps(getattr(exc, "body", None)) + " " + str(exc)


def wait_for(predicate, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def settled(router, timeout=8.0):
    """metrics() once nothing is reserved any more (settlement may trail the client's last read)."""
    assert wait_for(lambda: router.metrics()["budget_reserved"] == 0, timeout), \
        "a reservation leaked: %r" % router.metrics()["budget_reserved"]
    return router.metrics()


def ledger(router):
    """Every ledger row of the router's database (the test gave it a state_dir of its own), once settled."""
    settled(router)
    assert router.flush(10)
    db = sqlite3.connect("file:%s?mode=ro" % router.database_path, uri=True)
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM ledger ORDER BY id")]
    finally:
        db.close()


def circuit(router, provider):
    """(key, entry) of the one circuit of ``provider`` in metrics()["circuits"]."""
    found = [(k, v) for k, v in router.metrics()["circuits"].items() if v["provider"] == provider]
    assert len(found) == 1, router.metrics()["circuits"]
    return found[0]


class Recorder(list):
    """Collects events of one type delivered by the router's event thread."""

    def __init__(self, router, kind="circuit"):
        super().__init__()
        self._lock = threading.Lock()
        if kind == "circuit":
            router.on_circuit_change(self._add)
        else:
            router.on_rate_limited(self._add)

    def _add(self, event):
        with self._lock:
            self.append(event)

    def wait(self, n, timeout=5.0):
        assert wait_for(lambda: len(self) >= n, timeout), "expected %d events, got %r" % (n, list(self))
        time.sleep(0.15)  # a moment more: nothing unexpected follows
        return list(self)


def transitions(events):
    return [(e["from"], e["to"]) for e in events]


def assert_circuit_open_reply(status, headers, body, provider, origin, recovery):
    """503, provider-shaped ``iron_cage_circuit_open``, naming the upstream, with retry-after(-ms)."""
    assert status == 503, (status, body)
    if provider == "openai":
        err = assert_openai_error(body)
        assert err["code"] == "circuit_open", body
    else:
        err = assert_anthropic_error(body)
    assert err["type"] == "iron_cage_circuit_open", body
    assert origin in err["message"], err
    assert "x-should-retry" not in headers
    ms = int(headers["retry-after-ms"])
    seconds = int(headers["retry-after"])
    assert 0 < ms <= recovery * 1000, headers
    assert seconds == max(1, math.ceil(ms / 1000)), headers
    assert 1 <= seconds <= max(1, math.ceil(recovery)), headers
    return err


_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def openai_duration(value):
    """Seconds in OpenAI's reset format: ``20ms``, ``1.5s``, ``6m0s``, ``1h2m3s``."""
    if value.endswith("ms"):
        assert re.match(r"^\d+ms$", value), value
        return int(value[:-2]) / 1000
    m = _DURATION.match(value)
    assert m and value, value
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def rfc3339(value):
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", value), value
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def retry_after_headers(headers, max_seconds):
    """retry-after (whole seconds, >= 1) and retry-after-ms agree; returns the wait in seconds."""
    ms = int(headers["retry-after-ms"])
    seconds = int(headers["retry-after"])
    assert 0 < ms <= max_seconds * 1000, headers
    assert seconds == max(1, math.ceil(ms / 1000)), headers
    return ms / 1000


# ============================================================================= circuit breaker


def test_error_storm_opens_the_circuit_and_the_upstream_count_stops_growing(make_router, oai_up):
    """Default settings: 5 consecutive 500s open the OpenAI circuit; later requests get an
    immediate provider-shaped 503 and the provider sees nothing more."""
    r = make(make_router, oai_up, max_retries=0)
    events = Recorder(r)
    for _ in range(5):
        e = status_error(oai_call, r, "error:500")
        assert e.status_code == 500 and full_body(e)["error"]["type"] == "server_error"
    assert oai_up.count() == 5
    key, c = circuit(r, "openai")
    assert key == "openai@" + oai_up.origin
    assert set(c) == {"provider", "origin", "state", "reason", "retry_after", "consecutive_failures", "times_opened",
                      "rejected"}, c
    assert c["state"] == "open" and c["times_opened"] == 1 and c["origin"] == oai_up.origin
    assert "5 consecutive failures" in c["reason"]
    assert 25 < c["retry_after"] <= 30

    for stream in (False, True, False):
        t0 = time.monotonic()
        e = status_error(oai_call, r, None, stream=stream)  # a healthy request: refused all the same
        assert time.monotonic() - t0 < 1.0
        assert isinstance(e, openai.InternalServerError)
        assert_circuit_open_reply(e.status_code, e.response.headers, full_body(e), "openai", oai_up.origin, 30)
        assert e.response.headers.get("x-iron-request-id")
        assert_no_secret(e.response.text, OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
    assert oai_up.count() == 5, "the upstream saw requests while the circuit was open"
    m = r.metrics()
    assert m["circuit_breaker"] is True and m["circuit_rejected"] == 3
    assert m["circuits"][key]["rejected"] == 3
    (ev,) = events.wait(1)
    assert ev["type"] == "circuit_state_changed" and ev["upstream"] == key
    assert ev["provider"] == "openai" and ev["origin"] == oai_up.origin
    assert (ev["from"], ev["to"]) == ("closed", "open") and "5 consecutive failures" in ev["reason"]
    assert ev["retry_after"] == 30


def test_anthropic_529_storm_with_router_retries_opens_the_circuit(make_router, oai_up, ant_up):
    """529 (overloaded) is a failure; router-side retries are attempts: one request with
    max_retries=2 makes 3 upstream calls, which reach failure_threshold=3. The client gets the
    provider's last answer; then the circuit refuses without calling the provider."""
    r = make(make_router, oai_up, ant_up, max_retries=2,
             circuit_breaker={"failure_threshold": 3, "recovery_timeout": 20})
    events = Recorder(r)
    e = status_error(ant_call, r, "error:529,retry:0")
    assert e.status_code == 529
    assert full_body(e)["error"]["type"] == "overloaded_error"
    assert e.response.headers.get("x-fake-upstream") == "anthropic"  # the provider's own answer, passed on
    assert ant_up.count() == 3
    assert r.metrics()["retries"] == 2
    _, c = circuit(r, "anthropic")
    assert c["state"] == "open" and "3 consecutive failures" in c["reason"]

    for stream in (False, True):
        e = status_error(ant_call, r, None, stream=stream)
        assert isinstance(e, anthropic.InternalServerError)
        assert_circuit_open_reply(e.status_code, e.response.headers, full_body(e), "anthropic", ant_up.origin, 20)
    resp = raw(r, "POST", "/v1/messages", MESSAGES, auth="x-api-key")
    assert_circuit_open_reply(resp.status, resp.headers, resp.json(), "anthropic", ant_up.origin, 20)
    assert ant_up.count() == 3
    # The OpenAI upstream is another circuit: unaffected.
    assert oai_call(r) == ECHO and oai_up.count() == 1
    assert circuit(r, "openai")[1]["state"] == "closed"
    assert transitions(events.wait(1)) == [("closed", "open")]


@pytest.mark.parametrize("fault", ["error:500", "error:502", "error:503,retry:0", "error:504", "error:529,retry:0",
                                   "abort", "hangup", "first_byte_timeout"])
def test_each_kind_of_failure_counts(make_router, oai_up, fault):
    """5xx, 529, a reset or close before the response, and a timeout are failures: with
    failure_threshold=1 one of them opens the circuit."""
    timing_out = fault == "first_byte_timeout"
    # Only the timeout case has a short first-byte deadline: on a loaded machine 0.3 s can pass before
    # the fake has even read a request, which would turn the other cases into timeouts too.
    r = make(make_router, oai_up, max_retries=0, first_byte_timeout=0.5 if timing_out else 10,
             circuit_breaker={"failure_threshold": 1, "recovery_timeout": 30})
    e = status_error(oai_call, r, "slow:3" if timing_out else fault)
    assert e.status_code >= 500
    key, c = circuit(r, "openai")
    assert c["state"] == "open", c
    assert oai_up.wait_for_requests(1, 2) and oai_up.count() == 1
    e = status_error(oai_call, r)
    assert full_body(e)["error"]["type"] == "iron_cage_circuit_open"
    assert oai_up.count() == 1


def test_streams_failing_after_their_head_count_as_circuit_failures(make_router, oai_up):
    """Resets and timeouts are failures even after a 200 head: a good answer counts only when its
    body is complete, so two streams that break off or go silent open a circuit with
    failure_threshold=2. The first-byte deadline is long (the head must arrive on a loaded machine)
    and the idle deadline short of the fake's 5 s stall."""
    r = make(make_router, oai_up, idle_timeout=1.5, first_byte_timeout=10, max_retries=0,
             circuit_breaker={"failure_threshold": 2, "recovery_timeout": 30})
    for fault in ("reset:2", "stall:5"):
        got, exc, _ = stream_until_error("openai", r, fault)
        assert got and "incomplete" in error_text(exc)
    m = r.metrics()
    assert m["stream_failures"] == 2 and m["timeouts"]["idle"] == 1
    _, c = circuit(r, "openai")
    assert c["state"] == "open", "2 failed streams in a row, yet the circuit is %s: %r" % (c["state"], c)


def test_client_errors_and_429_do_not_open_the_circuit(make_router, oai_up, ant_up):
    """The client's own 4xx and 429 say nothing about the provider's health: with
    failure_threshold=1 none of them opens the circuit (429 is retried by the router, 3 calls per
    request, and still not a failure)."""
    r = make(make_router, oai_up, ant_up, max_retries=2,
             circuit_breaker={"failure_threshold": 1, "recovery_timeout": 30})
    answers = ["error:400", "error:401", "error:403", "error:404", "error:409", "error:413", "error:422",
               "error:429,retry:0"]
    for answer in answers:
        for provider in ("openai", "anthropic"):
            e = status_error(call, provider, r, answer)
            assert e.status_code == int(answer.split(",")[0].split(":")[1])
            _, c = circuit(r, provider)
            assert c["state"] == "closed" and c["times_opened"] == 0 and c["consecutive_failures"] == 0, (answer, c)
    assert oai_up.count() == ant_up.count() == len(answers) - 1 + 3
    assert r.metrics()["circuit_rejected"] == 0
    assert oai_call(r) == ECHO and ant_call(r) == ECHO


def test_failure_rate_over_the_window_opens_the_circuit(make_router, oai_up):
    """Alternating success and failure never makes 3 consecutive failures, but half of the last 4
    calls failing reaches failure_rate=0.5."""
    r = make(make_router, oai_up, max_retries=0,
             circuit_breaker={"failure_threshold": 3, "failure_rate": 0.5, "window": 4, "minimum_calls": 4})
    events = Recorder(r)
    assert oai_call(r) == ECHO
    status_error(oai_call, r, "error:500")
    assert oai_call(r) == ECHO
    assert circuit(r, "openai")[1]["state"] == "closed"
    status_error(oai_call, r, "error:502")
    _, c = circuit(r, "openai")
    assert c["state"] == "open" and "2 of the last 4 calls failed" in c["reason"], c
    (ev,) = events.wait(1)
    assert "2 of the last 4" in ev["reason"]
    assert status_error(oai_call, r).status_code == 503
    assert oai_up.count() == 4


def test_half_open_probes_that_succeed_close_the_circuit(make_router, oai_up):
    r = make(make_router, oai_up, max_retries=0,
             circuit_breaker={"failure_threshold": 2, "recovery_timeout": 4, "half_open_probes": 2})
    events = Recorder(r)
    for _ in range(2):
        status_error(oai_call, r, "error:503,retry:0")
    assert circuit(r, "openai")[1]["state"] == "open"
    e = status_error(oai_call, r)
    assert_circuit_open_reply(e.status_code, e.response.headers, full_body(e), "openai", oai_up.origin, 4)
    assert oai_up.count() == 2
    time.sleep(4.1)
    assert oai_call(r) == ECHO  # probe 1 of 2
    assert circuit(r, "openai")[1]["state"] == "half_open"
    assert oai_call(r, stream=True) == ECHO  # probe 2 of 2: all succeeded
    # A good answer counts when its body is complete: the router sees the stream's end just after
    # the client read its last event.
    deadline = time.monotonic() + 3
    while circuit(r, "openai")[1]["state"] != "closed" and time.monotonic() < deadline:
        time.sleep(0.01)
    _, c = circuit(r, "openai")
    assert c["state"] == "closed" and "2 probes succeeded" in c["reason"], c
    assert oai_up.count() == 4
    evs = events.wait(3)
    assert transitions(evs) == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert evs[0]["retry_after"] == 4 and "recovery timeout" in evs[1]["reason"]
    for _ in range(3):
        assert oai_call(r) == ECHO


def test_a_failed_half_open_probe_reopens_the_circuit(make_router, oai_up):
    r = make(make_router, oai_up, max_retries=0,
             circuit_breaker={"failure_threshold": 1, "recovery_timeout": 4, "half_open_probes": 1})
    events = Recorder(r)
    status_error(oai_call, r, "error:500")
    time.sleep(4.1)
    e = status_error(oai_call, r, "error:500")  # the probe goes to the provider, and fails
    assert e.status_code == 500 and oai_up.count() == 2
    _, c = circuit(r, "openai")
    assert c["state"] == "open" and c["times_opened"] == 2 and "probe failed" in c["reason"], c
    e = status_error(oai_call, r)  # open again: refused
    assert_circuit_open_reply(e.status_code, e.response.headers, full_body(e), "openai", oai_up.origin, 4)
    assert oai_up.count() == 2
    time.sleep(4.1)
    assert oai_call(r) == ECHO
    assert circuit(r, "openai")[1]["state"] == "closed"
    evs = events.wait(5)
    assert transitions(evs) == [("closed", "open"), ("open", "half_open"), ("half_open", "open"),
                                ("open", "half_open"), ("half_open", "closed")]
    assert "probe failed" in evs[2]["reason"] and evs[2]["retry_after"] == 4
    assert [e["event_id"] for e in evs] == list(dict.fromkeys(e["event_id"] for e in evs))  # distinct
    assert [e["timestamp_ms"] for e in evs] == sorted(e["timestamp_ms"] for e in evs)


def test_half_open_lets_only_the_probes_through(make_router, oai_up):
    """While the one probe is out, other requests are refused (503, retry in about 1 s) without
    reaching the provider; the probe's success closes the circuit."""
    r = make(make_router, oai_up, max_retries=0,
             circuit_breaker={"failure_threshold": 1, "recovery_timeout": 0.5, "half_open_probes": 1})
    status_error(oai_call, r, "error:500")
    time.sleep(0.6)
    result = {}
    probe = threading.Thread(target=lambda: result.setdefault("text", oai_call(r, "slow:1")))
    probe.start()
    try:
        assert oai_up.wait_for_requests(2, 5)
        e = status_error(oai_call, r)
        assert e.status_code == 503
        assert full_body(e)["error"]["type"] == "iron_cage_circuit_open"
        assert "half-open" in full_body(e)["error"]["message"]
        assert e.response.headers["retry-after"] == "1"
        assert oai_up.count() == 2
    finally:
        probe.join(10)
    assert result.get("text") == ECHO
    assert circuit(r, "openai")[1]["state"] == "closed"
    assert oai_call(r) == ECHO and oai_up.count() == 3


def test_connect_failures_open_the_circuit(make_router):
    """A closed port: one request with max_retries=2 makes 3 failed connects (3 failures), the
    client gets 502, and the next request is refused at once."""
    dead = "http://127.0.0.1:%d" % free_port()
    r = make_router(provider_key=OPENAI_KEY, openai_base_url=dead, retry_backoff=FAST,
                    circuit_breaker={"failure_threshold": 3, "recovery_timeout": 30})
    e = status_error(oai_call, r)
    assert e.status_code == 502 and dead in full_body(e)["error"]["message"]
    assert r.metrics()["retries"] == 2
    _, c = circuit(r, "openai")
    assert c["state"] == "open" and "3 consecutive failures" in c["reason"]
    t0 = time.monotonic()
    e = status_error(oai_call, r)
    assert time.monotonic() - t0 < 3
    assert_circuit_open_reply(e.status_code, e.response.headers, full_body(e), "openai", dead, 30)
    assert r.metrics()["retries"] == 2  # refused before any attempt


def test_circuits_are_per_upstream_provider_and_origin(make_router, oai_up):
    """OpenAI and Anthropic at the same origin are two upstreams: one's open circuit does not
    refuse the other's requests."""
    r = make(make_router, oai_up, max_retries=0, circuit_breaker={"failure_threshold": 2, "recovery_timeout": 30})
    for _ in range(2):
        status_error(oai_call, r, "error:500")
    assert status_error(oai_call, r).status_code == 503
    assert ant_call(r) == ECHO and ant_call(r, stream=True) == ECHO
    circuits = r.metrics()["circuits"]
    assert set(circuits) == {"openai@" + oai_up.origin, "anthropic@" + oai_up.origin}
    assert circuits["openai@" + oai_up.origin]["state"] == "open"
    assert circuits["anthropic@" + oai_up.origin]["state"] == "closed"
    assert oai_up.count() == 4


def test_circuit_breaker_false_never_refuses(make_router, oai_up):
    r = make(make_router, oai_up, max_retries=0, circuit_breaker=False)
    for _ in range(12):
        assert status_error(oai_call, r, "error:500").status_code == 500
    assert oai_call(r) == ECHO
    assert oai_up.count() == 13
    m = r.metrics()
    assert m["circuit_breaker"] is False and m["circuits"] == {} and m["circuit_rejected"] == 0


# ============================================================================= retries


@pytest.mark.parametrize("provider,stream", [("openai", False), ("anthropic", True)])
def test_429_with_retry_after_is_retried_after_the_delay_and_charged_once(make_router, oai_up, ant_up, tmp_path,
                                                                         provider, stream):
    up = oai_up if provider == "openai" else ant_up
    r = make(make_router, oai_up, ant_up, budget=5, state_dir=tmp_path, circuit_breaker=NEVER_OPENS)
    assert call(provider, r, stream=stream) == ECHO  # what one request costs
    one = settled(r)["budget_spent_picos"]
    assert one > 0
    up.clear()
    up.script("error:429,retry:0.3", None)
    t0 = time.monotonic()
    assert call(provider, r, stream=stream) == ECHO
    elapsed = time.monotonic() - t0
    first, second = up.requests
    assert first.status == 429 and second.status == 200
    assert second.json == first.json and second.json["messages"] == MSG  # the same request, sent again
    assert second.received_at - first.ended_at >= 0.29, "retried before the provider's retry-after"
    assert 0.3 <= elapsed < 3
    m = settled(r)
    assert m["retries"] == 1
    assert m["budget_spent_picos"] == 2 * one, "the retried request was charged more than once"
    rows = ledger(r)
    assert len(rows) == 2, "one ledger row per request, not per attempt"
    assert rows[0]["attempts"] == 1
    assert rows[1]["attempts"] == 2 and rows[1]["status"] == 200 and rows[1]["outcome"] == "completed"
    assert rows[1]["cost_picos"] == rows[0]["cost_picos"] == one


def test_requests_without_a_body_are_retried_too(make_router, oai_up):
    r = make(make_router, oai_up, circuit_breaker=NEVER_OPENS)
    oai_up.script("error:502", "hangup", None)
    models = oai_client(r).models.list()
    assert any(m.id == OAI for m in models.data)
    assert [x.path for x in oai_up.requests] == ["/v1/models"] * 3
    assert r.metrics()["retries"] == 2


def test_retry_after_ms_wins_over_retry_after(make_router, oai_up):
    r = make(make_router, oai_up, budget=5, circuit_breaker=NEVER_OPENS)
    oai_up.script("error:503,retry:5,retryms:250", None)
    t0 = time.monotonic()
    assert oai_call(r) == ECHO
    first, second = oai_up.requests
    assert first.response_headers["retry-after"] == "5" and first.response_headers["retry-after-ms"] == "250"
    assert second.received_at - first.ended_at >= 0.24
    assert time.monotonic() - t0 < 3, "waited for retry-after (5 s) instead of retry-after-ms"
    assert settled(r)["retries"] == 1


def test_retry_after_as_an_http_date(make_router):
    """Retry-After may be an HTTP date: the retry waits until then."""
    answers = []
    arrivals = []

    def handler(h, rec):
        arrivals.append(time.time())
        if not answers:
            return False
        h._send_json(rec, 503, {"error": {"message": "busy", "type": "server_error", "param": None, "code": None}},
                     [("retry-after", answers.pop(0))])
        return True

    with FakeUpstream(name="dated", handler=handler) as up:
        r = make(make_router, up, circuit_breaker=NEVER_OPENS)
        when = math.ceil(time.time()) + 1  # 1 to 2 s ahead, on a whole second (the format has no fraction)
        answers.append(email.utils.formatdate(when, usegmt=True))
        assert oai_call(r) == ECHO
        assert len(arrivals) == 2
        assert arrivals[1] >= when - 0.02, "retried %.3f s before the date" % (when - arrivals[1])
        assert arrivals[1] - when < 2


def test_retry_after_above_max_retry_after_is_passed_on_at_once(make_router, oai_up, ant_up):
    r = make(make_router, oai_up, ant_up, retry_backoff={"base_delay": 0.01, "max_retry_after": 1},
             circuit_breaker=NEVER_OPENS)
    t0 = time.monotonic()
    e = status_error(ant_call, r, "error:529,retry:6")
    assert time.monotonic() - t0 < 4  # waiting would take 6 s
    assert e.status_code == 529 and e.response.headers["retry-after"] == "6"  # the provider's answer, as sent
    assert full_body(e)["error"]["type"] == "overloaded_error"
    assert ant_up.count() == 1
    # With the default max_retry_after (60 s), a provider asking for 120 s is not waited for either.
    r2 = make(make_router, oai_up, circuit_breaker=NEVER_OPENS)
    t0 = time.monotonic()
    resp = raw(r2, "POST", "/v1/chat/completions", CHAT, sc("error:503,retry:120"))
    assert resp.status == 503 and resp.headers["retry-after"] == "120"
    assert time.monotonic() - t0 < 4 and oai_up.count() == 1
    assert r.metrics()["retries"] == 0 and r2.metrics()["retries"] == 0


def test_retry_wait_past_total_timeout_is_not_taken(make_router, oai_up):
    r = make(make_router, oai_up, total_timeout=5, circuit_breaker=NEVER_OPENS)
    oai_up.script("error:503,retry:8")
    t0 = time.monotonic()
    e = status_error(oai_call, r)
    assert e.status_code == 503 and time.monotonic() - t0 < 4  # taking the wait would end at the 5 s total timeout
    assert oai_up.count() == 1 and r.metrics()["retries"] == 0


def test_backoff_without_retry_after_then_the_last_answer_reaches_the_client(make_router, oai_up, tmp_path):
    """500 without Retry-After: retried with capped full-jitter backoff; when retries run out the
    client gets the provider's last answer (status, body, its own headers)."""
    r = make(make_router, oai_up, budget=5, state_dir=tmp_path, retry_backoff={"base_delay": 0.05, "max_delay": 0.1},
             circuit_breaker=NEVER_OPENS)
    t0 = time.monotonic()
    e = status_error(oai_call, r, "error:500")
    assert time.monotonic() - t0 < 2
    assert e.status_code == 500
    assert full_body(e) == {"error": {"message": "fake upstream error 500 (scenario)", "type": "server_error",
                                      "param": None, "code": None}}
    assert e.response.headers.get("x-fake-upstream") == "openai"
    assert e.response.headers.get("x-request-id") == oai_up.requests[-1].response_headers["x-request-id"]
    assert oai_up.count() == 3
    recs = oai_up.requests
    for a, b in zip(recs, recs[1:]):
        assert b.received_at - a.ended_at < 0.1 + 0.4, "a backoff above max_delay"
    m = settled(r)
    assert m["retries"] == 2
    (row,) = ledger(r)
    assert (row["status"], row["outcome"], row["attempts"], row["cost_picos"]) == (500, "upstream_error", 3, 0)


@pytest.mark.parametrize("fault,outcome", [("abort", "aborted"), ("hangup", "hung_up")])
def test_reset_or_close_before_the_response_is_retried(make_router, oai_up, ant_up, tmp_path, fault, outcome):
    r = make(make_router, oai_up, ant_up, budget=5, state_dir=tmp_path, circuit_breaker=NEVER_OPENS)
    oai_up.script(fault, None)
    assert oai_call(r) == ECHO
    # the fake records "completed" just after the last byte reached the client
    assert oai_up.wait_until(lambda: [x.outcome for x in oai_up.requests] == [outcome, "completed"], 5), oai_up.requests
    ant_up.script(fault, None)
    assert ant_call(r, stream=True) == ECHO
    # the fake records "completed" just after the last byte reached the client
    assert ant_up.wait_until(lambda: [x.outcome for x in ant_up.requests] == [outcome, "completed"], 5), ant_up.requests
    assert settled(r)["retries"] == 2
    rows = ledger(r)
    assert [(x["attempts"], x["status"], x["outcome"]) for x in rows] == [(2, 200, "completed")] * 2
    assert all(x["cost_picos"] > 0 for x in rows)


def test_resets_until_retries_run_out_give_a_provider_shaped_502(make_router, oai_up, tmp_path):
    r = make(make_router, oai_up, budget=5, state_dir=tmp_path, circuit_breaker=NEVER_OPENS)
    oai_up.script("abort", "abort", "abort", None)
    e = status_error(oai_call, r)
    assert e.status_code == 502
    err = assert_openai_error(full_body(e))
    assert err["code"] == "upstream_unreachable" and oai_up.origin in err["message"]
    assert oai_up.count() == 3 and oai_up.scripted_left == 1
    (row,) = ledger(r)
    assert (row["status"], row["attempts"], row["cost_picos"]) == (502, 3, 0)


def test_connect_failure_is_retried_until_the_provider_comes_up(make_router):
    port = free_port()
    r = make_router(provider_key=OPENAI_KEY, openai_base_url="http://127.0.0.1:%d" % port, max_retries=10,
                    retry_backoff={"base_delay": 0.2, "max_delay": 0.2}, circuit_breaker=NEVER_OPENS, budget=5)
    result = {}

    def run():
        try:
            result["text"] = oai_call(r)
        except Exception as e:  # pragma: no cover - reported below
            result["error"] = e

    t = threading.Thread(target=run)
    t.start()
    try:
        assert wait_for(lambda: r.metrics()["retries"] >= 1, 5), "the first connect did not fail"
        with FakeUpstream(port=port, name="late") as late:
            t.join(10)
            assert result.get("text") == ECHO, result
            assert late.count() == 1
    finally:
        t.join(10)
    m = settled(r)
    assert 1 <= m["retries"] <= 10 and m["timeouts"]["connect"] == 0


def test_closed_port_gives_502_after_every_attempt(make_router, tmp_path):
    dead = "http://127.0.0.1:%d" % free_port()
    r = make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=dead,
                    anthropic_base_url=dead, retry_backoff=FAST, circuit_breaker=False, budget=5, state_dir=tmp_path)
    e = status_error(oai_call, r)
    assert e.status_code == 502
    err = assert_openai_error(full_body(e))
    assert err["type"] == "server_error" and err["code"] == "upstream_unreachable"
    assert dead in err["message"] and "refused" in err["message"]
    assert r.metrics()["retries"] == 2
    e = status_error(ant_call, r, stream=True)
    assert e.status_code == 502
    assert dead in assert_anthropic_error(full_body(e))["message"]
    m = settled(r)
    assert m["retries"] == 4 and m["timeouts"]["connect"] == 0
    rows = ledger(r)
    assert [(x["status"], x["attempts"], x["cost_picos"]) for x in rows] == [(502, 3, 0), (502, 3, 0)]


def test_other_4xx_are_not_retried(make_router, oai_up, ant_up):
    r = make(make_router, oai_up, ant_up, circuit_breaker=NEVER_OPENS)
    statuses = [400, 401, 403, 404, 409, 413, 422]
    for status in statuses:
        assert status_error(oai_call, r, "error:%d" % status).status_code == status
        assert status_error(ant_call, r, "error:%d" % status, stream=True).status_code == status
    assert oai_up.count() == ant_up.count() == len(statuses)
    assert r.metrics()["retries"] == 0


def test_upstream_x_should_retry_false_is_obeyed(make_router):
    answers = [[("retry-after", "0"), ("x-should-retry", "false")]]

    def handler(h, rec):
        if not answers:
            return False
        h._send_json(rec, 503, {"error": {"message": "do not retry", "type": "server_error", "param": None,
                                          "code": None}}, answers.pop(0))
        return True

    with FakeUpstream(name="noretry", handler=handler) as up:
        r = make(make_router, up, circuit_breaker=NEVER_OPENS)
        e = status_error(oai_call, r)
        assert e.status_code == 503 and e.response.headers.get("x-should-retry") == "false"
        assert up.count() == 1 and r.metrics()["retries"] == 0


def test_max_retries_zero_passes_the_first_answer_on(make_router, oai_up):
    r = make(make_router, oai_up, max_retries=0, circuit_breaker=NEVER_OPENS)
    oai_up.script("error:503,retry:0", None)
    assert status_error(oai_call, r).status_code == 503
    assert oai_up.count() == 1 and r.metrics()["retries"] == 0


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("fault", ["reset:3", "drop:3"])
def test_mid_stream_failure_is_not_retried_and_ends_with_a_clean_sdk_error(make_router, oai_up, ant_up, tmp_path,
                                                                          provider, fault):
    up = oai_up if provider == "openai" else ant_up
    r = make(make_router, oai_up, ant_up, budget=5, state_dir=tmp_path, circuit_breaker=NEVER_OPENS)
    got, exc, elapsed = stream_until_error(provider, r, fault)
    assert elapsed < 5
    sent = [e for e in up.last.events if not e.startswith("event: ping")]  # the SDK does not surface pings
    assert len(up.last.events) == 3 and len(got) == len(sent), "the events sent before the failure reach the client"
    text = error_text(exc)
    assert "broke off" in text and "incomplete" in text, text
    assert_no_secret(text, OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
    time.sleep(0.1)  # a retry would go after at most 0.02 s (FAST backoff)
    assert up.count() == 1, "a stream that already reached the client was retried"
    m = settled(r)
    assert m["retries"] == 0 and m["stream_failures"] == 1
    (row,) = ledger(r)
    assert row["attempts"] == 1 and row["status"] == 200 and row["outcome"] == "upstream_failed"
    assert row["usage_estimated"] == 1 and row["cost_picos"] > 0
    # the router stays healthy
    assert call(provider, r, stream=True) == ECHO


# ============================================================================= rate limits


def test_rpm_limit_openai_429_headers_and_event(make_router, oai_up):
    r = make(make_router, oai_up, budget=5, rate_limits={"rpm": 1, "tpm": 100_000})
    limited = Recorder(r, "rate_limited")
    assert oai_call(r) == ECHO
    t0 = time.time()
    resp = raw(r, "POST", "/v1/chat/completions", CHAT)
    assert resp.status == 429, resp
    err = assert_openai_error(resp.json())
    assert err["type"] == "iron_cage_rate_limited" and err["code"] == "rate_limit_exceeded"
    assert "requests per minute" in err["message"]
    h = resp.headers
    wait = retry_after_headers(h, 60)
    assert 55 < wait <= 60  # one request per minute: the next one in about a minute
    assert "x-should-retry" not in h  # the SDKs' own backoff may retry it
    assert h["x-ratelimit-limit-requests"] == "1" and h["x-ratelimit-remaining-requests"] == "0"
    assert abs(openai_duration(h["x-ratelimit-reset-requests"]) - wait) < 1.5, h
    assert h["x-ratelimit-limit-tokens"] == "100000"
    assert 99_000 <= int(h["x-ratelimit-remaining-tokens"]) <= 100_000
    assert openai_duration(h["x-ratelimit-reset-tokens"]) < 60
    assert not any(k.startswith("anthropic-ratelimit") for k in h)
    # through the SDK: RateLimitError; GET /v1/models is counted too
    with pytest.raises(openai.RateLimitError) as ei:
        oai_call(r, stream=True)
    assert ei.value.body["type"] == "iron_cage_rate_limited"
    with pytest.raises(openai.RateLimitError):
        oai_client(r).models.list()
    assert oai_up.count() == 1, "a refused request reached the provider"
    m = settled(r)
    assert m["rate_limited"] == 3 and m["budget_reserved"] == 0
    assert m["rate_limits"]["rpm"]["limit"] == 1 and m["rate_limits"]["rpm"]["remaining"] == 0
    assert 50 < m["rate_limits"]["rpm"]["reset"] <= 60
    assert m["rate_limits"]["tpm"]["limit"] == 100_000
    evs = limited.wait(3)
    assert {e["type"] for e in evs} == {"rate_limited"} and {e["limit"] for e in evs} == {"rpm"}
    assert all(55 < e["retry_after"] <= 60 and e["request_id"].startswith("req_") for e in evs)
    assert evs[0]["request_id"] == resp.headers["x-iron-request-id"]
    assert time.time() - t0 < 10


def test_rpm_limit_anthropic_429_headers(make_router, oai_up, ant_up):
    r = make(make_router, oai_up, ant_up, budget=5, rate_limits={"rpm": 1})
    assert ant_call(r) == ECHO
    before = time.time()
    resp = raw(r, "POST", "/v1/messages", MESSAGES, auth="x-api-key")
    after = time.time()
    assert resp.status == 429, resp
    err = assert_anthropic_error(resp.json())
    assert err["type"] == "iron_cage_rate_limited"
    h = resp.headers
    wait = retry_after_headers(h, 60)
    assert "x-should-retry" not in h
    assert h["anthropic-ratelimit-requests-limit"] == "1" and h["anthropic-ratelimit-requests-remaining"] == "0"
    reset = rfc3339(h["anthropic-ratelimit-requests-reset"])
    assert before + wait - 1.5 <= reset <= after + wait + 1.5, (h, before, wait)
    assert not any(k.startswith("anthropic-ratelimit-tokens") for k in h), "only configured limits have headers"
    assert not any(k.startswith("x-ratelimit") for k in h)
    e = status_error(ant_call, r, stream=True)
    assert isinstance(e, anthropic.RateLimitError) and full_body(e)["error"]["type"] == "iron_cage_rate_limited"
    assert ant_up.count() == 1
    m = settled(r)
    assert m["rate_limited"] == 2 and "tpm" not in m["rate_limits"]


def test_tpm_takes_tokens_up_front_and_gives_back_the_unused(make_router, oai_up):
    """tpm=1000: a request in flight with max_tokens=900 holds ~910 tokens, so a second one asking
    for 200 more is refused (429 with the tokens headers); once the first settles with its small
    real usage the tokens are back and the second one goes."""
    r = make(make_router, oai_up, budget=5, rate_limits={"tpm": 1000})
    limited = Recorder(r, "rate_limited")
    first = {}
    t = threading.Thread(target=lambda: first.setdefault("text", oai_call(r, "slow:1", max_tokens=900)))
    t.start()
    try:
        assert oai_up.wait_for_requests(1, 5)
        held = r.metrics()["rate_limits"]["tpm"]["remaining"]
        assert held < 150, held  # ~910 of 1000 taken (plus a little refill)
        resp = raw(r, "POST", "/v1/chat/completions", dict(CHAT, max_tokens=200))
        assert resp.status == 429, resp
        err = assert_openai_error(resp.json())
        assert err["type"] == "iron_cage_rate_limited" and err["code"] == "rate_limit_exceeded"
        assert "tokens per minute" in err["message"]
        requested = int(re.search(r"requested (\d+)", err["message"]).group(1))
        assert 200 < requested < 230, err
        h = resp.headers
        assert h["x-ratelimit-limit-tokens"] == "1000"
        remaining = int(h["x-ratelimit-remaining-tokens"])
        assert remaining < requested
        wait = retry_after_headers(h, 60)
        assert abs(wait - (requested - remaining) * 60 / 1000) < 0.2, (wait, requested, remaining)
        assert openai_duration(h["x-ratelimit-reset-tokens"]) > wait - 0.1
        assert not any(k.endswith("-requests") for k in h), "rpm is not configured"
        with pytest.raises(openai.RateLimitError):
            oai_call(r, max_tokens=200)
    finally:
        t.join(10)
    assert first.get("text") == ECHO
    assert oai_up.count() == 1
    assert wait_for(lambda: r.metrics()["rate_limits"]["tpm"]["remaining"] >= 950, 2), r.metrics()["rate_limits"]
    assert oai_call(r, max_tokens=200) == ECHO
    m = settled(r)
    assert m["rate_limited"] == 2
    assert {e["limit"] for e in limited.wait(2)} == {"tpm"}


def test_tpm_usage_above_the_estimate_is_taken_anthropic_headers(make_router, oai_up, ant_up):
    """tpm=100: a reply of 150 tokens uses more than the 100 taken up front; the difference is taken
    when it settles (the bucket goes into debt), so the next request is refused with Anthropic's
    token headers, and only those (rpm is not configured)."""
    r = make(make_router, oai_up, ant_up, budget=5, rate_limits={"tpm": 100})
    assert len(ant_call(r, "long:150", max_tokens=200)) > 100
    assert wait_for(lambda: r.metrics()["rate_limits"]["tpm"]["remaining"] == 0, 2)
    before = time.time()
    e = status_error(ant_call, r, max_tokens=10)
    assert isinstance(e, anthropic.RateLimitError)
    assert full_body(e)["error"]["type"] == "iron_cage_rate_limited"
    h = e.response.headers
    wait = retry_after_headers(h, 120)
    assert wait > 30, "the debt of the long reply was not taken"
    assert h["anthropic-ratelimit-tokens-limit"] == "100" and h["anthropic-ratelimit-tokens-remaining"] == "0"
    reset = rfc3339(h["anthropic-ratelimit-tokens-reset"])
    assert before + wait - 2 <= reset <= time.time() + 120, h
    assert not any(k.startswith("anthropic-ratelimit-requests") for k in h)
    assert not any(k.startswith("x-ratelimit") for k in h)
    assert ant_up.count() == 1
    m = settled(r)
    assert m["rate_limited"] == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_tpm_is_corrected_from_real_usage(make_router, oai_up, ant_up, provider):
    """Sequential requests each bounded at 900 output tokens, but using about 15: with tpm=1000
    every one passes, because each gives back what it did not use (refill alone would take
    almost a minute)."""
    r = make(make_router, oai_up, ant_up, budget=5, rate_limits={"tpm": 1000})
    for i in range(3):
        if provider == "openai":
            assert oai_call(r, stream=i % 2 == 1, max_tokens=900) == ECHO
        else:
            assert ant_call(r, stream=i % 2 == 1, max_tokens=900) == ECHO
        assert wait_for(lambda: r.metrics()["rate_limits"]["tpm"]["remaining"] >= 950, 2), r.metrics()["rate_limits"]
    m = settled(r)
    assert m["rate_limited"] == 0


def test_one_request_larger_than_tpm_still_goes_when_the_bucket_is_full(make_router, oai_up):
    r = make(make_router, oai_up, rate_limits={"tpm": 100})
    assert oai_call(r, max_tokens=5000) == ECHO  # capped at the limit, not refused forever
    assert wait_for(lambda: r.metrics()["rate_limits"]["tpm"]["remaining"] >= 70, 2)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_sdk_own_retry_succeeds_after_the_router_rate_limits(make_router, oai_up, ant_up, provider):
    """rpm=60 (one request a second after a burst of 60): the burst is spent, then an SDK with its
    default retries gets the router's 429, waits retry-after-ms, and its retry succeeds."""
    up = oai_up if provider == "openai" else ant_up
    r = make(make_router, oai_up, ant_up, budget=5, rate_limits={"rpm": 60})
    seen = []

    def hook(response):
        seen.append((response.status_code, dict(response.headers), time.monotonic()))

    kw = {"max_retries": 2}
    if provider == "openai":
        client = oai_client(r, http_client=openai.DefaultHttpxClient(event_hooks={"response": [hook]}), **kw)
    else:
        client = ant_client(r, http_client=anthropic.DefaultHttpxClient(event_hooks={"response": [hook]}), **kw)
    for _ in range(5):
        for _ in range(200):  # spend the burst
            if raw(r, "GET", "/v1/models").status == 429:
                break
        seen.clear()
        before = up.count()
        assert call(provider, r, client=client) == ECHO
        if seen[0][0] == 429:
            break  # else the bucket refilled in between: spend it again
    statuses = [s for s, _, _ in seen]
    assert statuses == [429, 200], statuses
    (_, h429, t429), (_, _, t200) = seen
    wait = retry_after_headers(h429, 1.1)
    assert h429["retry-after"] == "1"
    assert "x-should-retry" not in h429
    if provider == "openai":
        assert h429["x-ratelimit-limit-requests"] == "60" and h429["x-ratelimit-remaining-requests"] == "0"
    else:
        assert h429["anthropic-ratelimit-requests-limit"] == "60"
        assert h429["anthropic-ratelimit-requests-remaining"] == "0"
    assert t200 - t429 >= wait - 0.005, "the SDK did not honour retry-after-ms"
    assert t200 - t429 < 5
    assert up.count() == before + 1, "the refused attempt reached the provider"
    assert settled(r)["budget_reserved"] == 0


# ============================================================================= backpressure


def test_queued_request_waits_for_a_slot_then_goes(make_router, oai_up, ant_up):
    r = make(make_router, oai_up, ant_up, budget=5, max_in_flight=1, queue_timeout=5, circuit_breaker=NEVER_OPENS)
    assert r.metrics()["max_in_flight"] == 1
    results = {}

    def run(name, fn):
        t0 = time.monotonic()
        results[name] = (fn(), time.monotonic() - t0)

    a = threading.Thread(target=run, args=("a", lambda: oai_call(r, "slow:1")))
    a.start()
    assert oai_up.wait_for_requests(1, 5)
    b = threading.Thread(target=run, args=("b", lambda: ant_call(r, stream=True)))
    b.start()
    try:
        assert wait_for(lambda: r.metrics()["queued"] == 1, 3), r.metrics()["queued"]
        m = r.metrics()
        assert m["upstream_in_flight"] == 1 and m["queued"] == 1
        assert ant_up.count() == 0, "a queued request went before a slot was free"
    finally:
        a.join(10)
        b.join(10)
    assert results["a"][0] == ECHO and results["b"][0] == ECHO
    (first,), (second,) = oai_up.requests, ant_up.requests
    assert second.received_at >= first.ended_at - 0.01
    assert second.received_at - first.ended_at < 0.5, "the queued request did not go as soon as the slot was free"
    assert results["b"][1] >= 0.5
    m = settled(r)
    assert m["queued"] == 0 and m["upstream_in_flight"] == 0 and m["queue_timeouts"] == 0


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_queue_timeout_gives_429(make_router, oai_up, ant_up, provider):
    r = make(make_router, oai_up, ant_up, budget=5, max_in_flight=1, queue_timeout=0.3, circuit_breaker=NEVER_OPENS)
    limited = Recorder(r, "rate_limited")
    holder = threading.Thread(target=lambda: oai_call(r, "slow:1"))
    holder.start()
    try:
        assert oai_up.wait_for_requests(1, 5)
        t0 = time.monotonic()
        e = status_error(call, provider, r)
        elapsed = time.monotonic() - t0
        assert 0.3 <= elapsed < 2, elapsed
        assert e.status_code == 429
        body = full_body(e)
        err = assert_openai_error(body) if provider == "openai" else assert_anthropic_error(body)
        assert err["type"] == "iron_cage_rate_limited"
        assert "queue_timeout" in err["message"] and "max_in_flight" in err["message"]
        if provider == "openai":
            assert err["code"] == "queue_timeout"
        assert e.response.headers["retry-after"] == "1" and e.response.headers["retry-after-ms"] == "1000"
        assert "x-should-retry" not in e.response.headers
        m = r.metrics()
        assert m["queue_timeouts"] == 1 and m["queued"] == 0
    finally:
        holder.join(10)
    assert oai_up.count() + ant_up.count() == 1, "the request that timed out in the queue reached the provider"
    m = settled(r)
    assert m["upstream_in_flight"] == 0
    ev = limited.wait(1)[0]
    assert ev["limit"] == "queue"


def test_queue_timeout_zero_refuses_at_once_when_busy(make_router, oai_up):
    r = make(make_router, oai_up, max_in_flight=1, queue_timeout=0, circuit_breaker=NEVER_OPENS)
    holder = threading.Thread(target=lambda: oai_call(r, "slow:4"))
    holder.start()
    try:
        assert oai_up.wait_for_requests(1, 5)
        t0 = time.monotonic()
        resp = raw(r, "POST", "/v1/chat/completions", CHAT)
        assert resp.status == 429 and resp.json()["error"]["code"] == "queue_timeout"
        assert time.monotonic() - t0 < 3  # a queued request would wait for the 4 s holder
    finally:
        holder.join(10)
    assert oai_call(r) == ECHO  # a free slot: no wait


def test_a_client_leaving_the_queue_frees_its_place(make_router, oai_up):
    r = make(make_router, oai_up, budget=5, max_in_flight=1, queue_timeout=10, circuit_breaker=NEVER_OPENS)
    holder = threading.Thread(target=lambda: oai_call(r, "slow:1"))
    holder.start()
    try:
        assert oai_up.wait_for_requests(1, 5)
        with pytest.raises(openai.APITimeoutError):
            oai_call(r, client=oai_client(r, timeout=0.3))
        assert wait_for(lambda: r.metrics()["queued"] == 0, 2), "the abandoned request stayed in the queue"
    finally:
        holder.join(10)
    time.sleep(0.2)
    assert oai_up.count() == 1, "the abandoned request was sent after its client left"
    m = settled(r)
    assert m["upstream_in_flight"] == 0
    assert oai_call(r) == ECHO


def test_a_client_leaving_the_queue_is_not_recorded_as_an_upstream_attempt(make_router, oai_up, tmp_path):
    """A request whose client leaves while it waits for an in-flight slot never reaches the
    provider, and its ledger row says so: the attempts column counts provider calls (a queue
    timeout, by contrast, writes no row at all)."""
    r = make(make_router, oai_up, budget=5, state_dir=tmp_path, max_in_flight=1, queue_timeout=10,
             circuit_breaker=NEVER_OPENS)
    holder = threading.Thread(target=lambda: oai_call(r, "slow:1"))
    holder.start()
    try:
        assert oai_up.wait_for_requests(1, 5)
        with pytest.raises(openai.APITimeoutError):
            oai_call(r, client=oai_client(r, timeout=0.3))
    finally:
        holder.join(10)
    rows = ledger(r)
    assert oai_up.count() == 1
    assert sum(row["attempts"] for row in rows) == oai_up.count(), \
        "ledger attempts %r, but the provider got %d call(s)" % ([(x["status"], x["attempts"]) for x in rows],
                                                                oai_up.count())


def test_a_stream_abandoned_by_its_client_frees_the_slot(make_router, oai_up):
    r = make(make_router, oai_up, max_in_flight=1, queue_timeout=5, circuit_breaker=NEVER_OPENS)
    s = oai_client(r).chat.completions.create(model=OAI, messages=MSG, stream=True, extra_headers=sc("long:200"))
    it = iter(s)
    next(it), next(it)
    assert r.metrics()["upstream_in_flight"] == 1
    s.close()
    assert oai_up.wait_stream_closed(5)
    assert wait_for(lambda: r.metrics()["upstream_in_flight"] == 0, 3)
    t0 = time.monotonic()
    assert oai_call(r) == ECHO
    assert time.monotonic() - t0 < 2


# ============================================================================= timeouts


def test_connect_timeout(make_router, tmp_path):
    """A provider whose connects hang: each attempt ends at connect_timeout and is retried; then a
    provider-shaped 5xx naming the provider's origin."""
    with FakeUpstream.blackhole() as hole:
        r = make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=hole,
                        anthropic_base_url=hole, connect_timeout=0.3, max_retries=1, retry_backoff=FAST,
                        circuit_breaker=NEVER_OPENS, budget=5, state_dir=tmp_path)
        t0 = time.monotonic()
        e = status_error(oai_call, r)
        elapsed = time.monotonic() - t0
        assert 0.6 <= elapsed < 6, elapsed  # two attempts of at least 0.3 s
        assert e.status_code in (502, 504)
        err = assert_openai_error(full_body(e))
        assert err["type"] == "server_error" and hole in err["message"] and "connect" in err["message"], err
        m = settled(r)
        assert m["timeouts"]["connect"] == 2 and m["retries"] == 1 and m["timeouts"]["first_byte"] == 0
        (row,) = ledger(r)
        assert (row["status"], row["attempts"], row["cost_picos"]) == (e.status_code, 2, 0)


@pytest.mark.parametrize("provider,stream", [("openai", False), ("anthropic", True)])
def test_first_byte_timeout_is_a_504(make_router, oai_up, ant_up, provider, stream):
    up = oai_up if provider == "openai" else ant_up
    r = make(make_router, oai_up, ant_up, budget=5, first_byte_timeout=0.5, circuit_breaker=NEVER_OPENS)
    t0 = time.monotonic()
    e = status_error(call, provider, r, "slow:3", stream=stream)
    elapsed = time.monotonic() - t0
    assert 0.5 <= elapsed < 5, elapsed
    assert e.status_code == 504
    body = full_body(e)
    if provider == "openai":
        err = assert_openai_error(body)
        assert err["type"] == "server_error" and err["code"] == "upstream_timeout"
    else:
        err = assert_anthropic_error(body)
        assert err["type"] == "timeout_error"
    assert "first_byte_timeout" in err["message"] and up.origin in err["message"]
    assert up.wait_client_gone(3), "the router kept waiting on the provider"
    assert up.count() == 1, "a first-byte timeout was retried"
    m = settled(r)
    assert m["timeouts"] == {"connect": 0, "first_byte": 1, "idle": 0, "total": 0}


def test_first_byte_timeout_after_a_retry(make_router, oai_up, tmp_path):
    r = make(make_router, oai_up, budget=5, state_dir=tmp_path, first_byte_timeout=0.6, circuit_breaker=NEVER_OPENS)
    oai_up.script("error:503,retry:0", "slow:3")
    t0 = time.monotonic()
    e = status_error(oai_call, r)
    assert e.status_code == 504 and "first_byte_timeout" in full_body(e)["error"]["message"]
    assert time.monotonic() - t0 >= 0.6
    assert oai_up.count() == 2
    (row,) = ledger(r)
    assert (row["status"], row["attempts"], row["cost_picos"]) == (504, 2, 0)


def warm_stream_errors(router):
    """One stream broken off by the provider: the JVM's first stream error event takes a second or
    two to produce (class loading), which must not count against the timing of the next one."""
    stream_until_error("openai", router, "drop:1")


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_idle_timeout_cuts_a_silent_stream_and_charges_the_partial_cost(make_router, oai_up, ant_up, tmp_path,
                                                                       provider):
    up = oai_up if provider == "openai" else ant_up
    r = make(make_router, oai_up, ant_up, budget=5, state_dir=tmp_path, idle_timeout=1, first_byte_timeout=10,
             circuit_breaker=NEVER_OPENS)
    got, exc, elapsed = stream_until_error(provider, r, "stall:6")
    assert got, "the event sent before the stall reaches the client"
    assert 1 <= elapsed < 5, elapsed
    text = error_text(exc)
    assert "idle_timeout" in text and "incomplete" in text, text
    assert up.wait_client_gone(3)
    assert up.count() == 1
    m = settled(r)
    assert m["timeouts"] == {"connect": 0, "first_byte": 0, "idle": 1, "total": 0}
    (row,) = ledger(r)
    assert row["outcome"] == "timed_out" and row["status"] == 200
    assert row["cost_picos"] > 0 and row["usage_estimated"] == 1


def test_idle_timeout_shorter_than_first_byte_timeout(make_router, oai_up):
    """The documented use is a long first_byte_timeout (slow reasoning models) with a short
    idle_timeout: a stream that goes silent right after its head is cut about idle_timeout (0.5 s)
    after its last event, not once first_byte_timeout (2 s) has passed."""
    r = make(make_router, oai_up, idle_timeout=0.5, first_byte_timeout=2, circuit_breaker=NEVER_OPENS)
    warm_stream_errors(r)
    got, exc, elapsed = stream_until_error("openai", r, "stall:5")
    assert got and "idle_timeout (0.5 s)" in error_text(exc), error_text(exc)
    assert 0.5 <= elapsed < 1.6, "a 0.5 s idle timeout cut the stream after %.2f s" % elapsed


def test_total_timeout_cuts_a_stream_that_keeps_going(make_router, oai_up, tmp_path):
    r = make(make_router, oai_up, budget=5, state_dir=tmp_path, total_timeout=1, idle_timeout=5,
             first_byte_timeout=5, circuit_breaker=NEVER_OPENS)
    got, exc, elapsed = stream_until_error("openai", r, "long:200,delay:0.02")  # about 4 s of events
    assert 1 <= elapsed < 4, elapsed
    assert len(got) >= 5, "events before the cut reach the client"
    text = error_text(exc)
    assert "total_timeout" in text, text
    assert oai_up.wait_client_gone(3)
    m = settled(r)
    assert m["timeouts"]["total"] == 1 and m["timeouts"]["idle"] == 0
    (row,) = ledger(r)
    assert row["outcome"] == "timed_out" and row["cost_picos"] > 0 and row["output_tokens"] > 0


def test_total_timeout_before_the_head_is_a_504(make_router, oai_up, ant_up):
    r = make(make_router, oai_up, ant_up, budget=5, total_timeout=0.6, first_byte_timeout=5,
             circuit_breaker=NEVER_OPENS)
    t0 = time.monotonic()
    e = status_error(ant_call, r, "slow:3")
    assert 0.6 <= time.monotonic() - t0 < 5
    assert e.status_code == 504
    err = assert_anthropic_error(full_body(e))
    assert err["type"] == "timeout_error" and "total_timeout" in err["message"]
    assert settled(r)["timeouts"]["total"] == 1


def test_read_timeout_sets_first_byte_and_idle(make_router, oai_up):
    r = make(make_router, oai_up, budget=5, read_timeout=1, circuit_breaker=NEVER_OPENS)
    e = status_error(oai_call, r, "slow:4")
    assert e.status_code == 504 and "first_byte_timeout (1 s)" in full_body(e)["error"]["message"]
    got, exc, _ = stream_until_error("openai", r, "stall:4")
    assert got and "idle_timeout (1 s)" in error_text(exc)
    # a stream whose gaps stay below the timeout is not cut, however long it is in total
    assert oai_call(r, "delay:0.1,chunks:5", stream=True) == ECHO
    m = settled(r)
    assert m["timeouts"] == {"connect": 0, "first_byte": 1, "idle": 1, "total": 0}
    # an explicit first_byte_timeout wins over read_timeout
    r2 = make(make_router, oai_up, read_timeout=30, first_byte_timeout=0.3, circuit_breaker=NEVER_OPENS)
    e = status_error(oai_call, r2, "slow:3")
    assert e.status_code == 504 and "first_byte_timeout (0.3 s)" in full_body(e)["error"]["message"]


# ============================================================================= configuration


BAD_SETTINGS = [
    ({"circuit_breaker": {"failure_threshold": 0}}, ConfigurationError,
     "circuit_breaker['failure_threshold'] must be between 1 and"),
    ({"circuit_breaker": {"failure_threshold": 2.5}}, ConfigurationError, "failure_threshold"),
    ({"circuit_breaker": {"failure_rate": 1.5}}, ConfigurationError, "failure_rate"),
    ({"circuit_breaker": {"failure_rate": 0}}, ConfigurationError, "failure_rate"),
    ({"circuit_breaker": {"window": 0}}, ConfigurationError, "circuit_breaker['window']"),
    ({"circuit_breaker": {"minimum_calls": 30}}, ConfigurationError, "minimum_calls"),
    ({"circuit_breaker": {"recovery_timeout": 0}}, ConfigurationError, "recovery_timeout"),
    ({"circuit_breaker": {"half_open_probes": 0}}, ConfigurationError, "half_open_probes"),
    ({"circuit_breaker": {"threshold": 5}}, ConfigurationError, "'threshold'"),
    ({"circuit_breaker": "on"}, TypeError, "circuit_breaker"),
    ({"circuit_breaker": {"failure_threshold": "5"}}, TypeError, "circuit_breaker['failure_threshold']"),
    ({"max_retries": 11}, ConfigurationError, "max_retries must be between 0 and 10"),
    ({"max_retries": -1}, ConfigurationError, "max_retries"),
    ({"max_retries": 1.5}, TypeError, "max_retries"),
    ({"retry_backoff": {"base_delay": -1}}, ConfigurationError, "retry_backoff['base_delay']"),
    ({"retry_backoff": {"base_delay": 2, "max_delay": 1}}, ConfigurationError, "max_delay"),
    ({"retry_backoff": {"jitter": 0.5}}, ConfigurationError, "'jitter'"),
    ({"retry_backoff": [0.5]}, TypeError, "retry_backoff"),
    ({"rate_limits": {"rpm": 0}}, ConfigurationError, "rate_limits['rpm']"),
    ({"rate_limits": {"tpm": -1}}, ConfigurationError, "rate_limits['tpm']"),
    ({"rate_limits": {"rpm": 1.5}}, TypeError, "rate_limits['rpm']"),
    ({"rate_limits": {"rph": 10}}, ConfigurationError, "'rph'"),
    ({"rate_limits": 500}, TypeError, "rate_limits"),
    ({"max_in_flight": 0}, ConfigurationError, "max_in_flight"),
    ({"max_in_flight": "10"}, TypeError, "max_in_flight"),
    ({"queue_timeout": -1}, ConfigurationError, "queue_timeout"),
    ({"queue_timeout": float("nan")}, ConfigurationError, "queue_timeout"),
    ({"connect_timeout": 0}, ConfigurationError, "connect_timeout"),
    ({"first_byte_timeout": -1}, ConfigurationError, "first_byte_timeout"),
    ({"idle_timeout": 0}, ConfigurationError, "idle_timeout"),
    ({"total_timeout": float("inf")}, ConfigurationError, "total_timeout"),
    ({"read_timeout": 0}, ConfigurationError, "read_timeout"),
    ({"connect_timeout": "10"}, TypeError, "connect_timeout"),
]


def _setting_id(kwargs):
    (name, value), = kwargs.items()
    return "%s=%s" % (name, json.dumps(value).replace(" ", "") if not isinstance(value, float) else value)


@pytest.mark.parametrize("kwargs,error,fragment", BAD_SETTINGS, ids=[_setting_id(k) for k, _, _ in BAD_SETTINGS])
def test_bad_settings_are_refused_naming_the_setting(kwargs, error, fragment):
    with pytest.raises(error) as ei:
        LlmRouter(provider_key=OPENAI_KEY, start=False, **kwargs)
    assert fragment in str(ei.value), str(ei.value)
    if error is ConfigurationError:
        assert isinstance(ei.value, ValueError)
    assert OPENAI_KEY not in str(ei.value)


def test_good_settings_are_accepted(make_router, oai_up):
    r = make(make_router, oai_up,
             circuit_breaker={"failure_threshold": 2, "failure_rate": 1, "window": 5, "minimum_calls": 5,
                              "recovery_timeout": 0.25, "half_open_probes": 1},
             max_retries=10, retry_backoff={"base_delay": 0, "max_delay": 0, "max_retry_after": 0},
             rate_limits={"rpm": 1000, "tpm": 10**9}, max_in_flight=3, queue_timeout=0, connect_timeout=0.5,
             first_byte_timeout=2, idle_timeout=2, total_timeout=3)
    assert oai_call(r) == ECHO
    m = r.metrics()
    assert m["max_in_flight"] == 3 and m["circuit_breaker"] is True
    assert m["rate_limits"]["rpm"]["limit"] == 1000 and m["rate_limits"]["tpm"]["limit"] == 10**9
    # base_delay 0 and a provider wait above max_retry_after=0: retries are immediate, and
    # "retry in 0.2 s" is passed on rather than waited for
    oai_up.script("abort", None)
    assert oai_call(r) == ECHO
    oai_up.script("error:503,retry:0.2", None)
    assert status_error(oai_call, r).status_code == 503
    r2 = make(make_router, oai_up, rate_limits={})
    assert r2.metrics()["rate_limits"] == {}


# ============================================================================= concurrency


# (label, provider, stream, scenario, expected (status, outcome, attempts) of the ledger row)
MIXED = [
    ("ok", "openai", False, "", (200, "completed", 1)),
    ("ok-stream", "anthropic", True, "", (200, "completed", 1)),
    ("503", "openai", False, "error:503,retry:0", (503, "upstream_error", 3)),
    ("429", "anthropic", False, "error:429,retry:0.05", (429, "upstream_error", 3)),
    ("529", "anthropic", True, "error:529,retry:0", (529, "upstream_error", 3)),
    ("abort", "openai", True, "abort", (502, "not_answered", 3)),
    ("hangup", "anthropic", False, "hangup", (502, "not_answered", 3)),
    ("400", "openai", False, "error:400", (400, "upstream_error", 1)),
    ("reset", "openai", True, "reset:3", (200, "upstream_failed", 1)),
    ("drop", "anthropic", True, "drop:3", (200, "upstream_failed", 1)),
    ("stall", "openai", True, "stall:6", (200, "timed_out", 1)),
    ("slow", "anthropic", False, "slow:6", (504, "not_answered", 1)),
    ("leave", "openai", True, "long:200", (200, "client_disconnected", 1)),
    ("ok-2", "openai", True, "", (200, "completed", 1)),
]


def _mixed_request(router, case):
    label, provider, stream, scenario, _ = case
    try:
        if label == "leave":
            s = oai_client(router, timeout=30).chat.completions.create(model=OAI, messages=MSG, stream=True,
                                                                      extra_headers=sc(scenario))
            it = iter(s)
            next(it), next(it), next(it)
            s.close()
            return "left"
        if stream and label in ("reset", "drop", "stall"):
            stream_until_error(provider, router, scenario, client=(oai_client if provider == "openai" else ant_client)(
                router, timeout=30))
            return "stream_error"
        c = (oai_client if provider == "openai" else ant_client)(router, timeout=30)
        return call(provider, router, scenario, stream=stream, client=c)
    except API_STATUS_ERRORS as e:
        return e.status_code


def test_concurrent_mixed_faults_leave_nothing_reserved(make_router, oai_up, ant_up, tmp_path):
    """20 threads, 28 requests of mixed faults through one router with a budget, 6 provider calls
    at a time (the others queue): every request settles once, nothing stays reserved or in flight,
    one ledger row per request with the right attempts, and the provider saw exactly the attempts
    recorded. (Timeouts are generous: 20 SDK threads, two fakes and the JVM share two cores.)"""
    r = make(make_router, oai_up, ant_up, budget=5, state_dir=tmp_path, max_in_flight=6, queue_timeout=30,
             first_byte_timeout=2.5, idle_timeout=1.5, total_timeout=30, circuit_breaker=NEVER_OPENS)
    cases = MIXED * 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda case: (case, _mixed_request(r, case)), cases, timeout=60))
    expected_client = {"503": 503, "429": 429, "529": 529, "abort": 502, "hangup": 502, "400": 400, "slow": 504,
                       "reset": "stream_error", "drop": "stream_error", "stall": "stream_error", "leave": "left"}
    for (label, _, _, _, _), got in results:
        assert got == expected_client.get(label, ECHO), (label, got)
    m = settled(r, timeout=10)
    assert wait_for(lambda: r.metrics()["upstream_in_flight"] == 0, 5)
    m = r.metrics()
    assert m["budget_reserved"] == 0 and m["queued"] == 0 and m["upstream_in_flight"] == 0
    rows = ledger(r)
    assert len(rows) == len(cases), "one ledger row per request"
    assert collections.Counter((x["status"], x["outcome"], x["attempts"]) for x in rows) == \
        collections.Counter(case[4] for case in cases)
    assert sum(x["attempts"] for x in rows) == oai_up.count() + ant_up.count()
    assert sum(x["cost_picos"] for x in rows) == m["budget_spent_picos"]
    assert m["retries"] == sum(x["attempts"] - 1 for x in rows)
    assert m["timeouts"]["idle"] == 2 and m["timeouts"]["first_byte"] == 2
    assert circuit(r, "openai")[1]["state"] == "closed"
    # and the router still serves
    assert oai_call(r) == ECHO and ant_call(r, stream=True) == ECHO
