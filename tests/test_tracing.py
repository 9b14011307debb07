"""Request tracing and the request history, through the real ``openai`` SDK and the fake upstream.

- A valid W3C ``traceparent`` from the client reaches the provider unchanged (with its ``tracestate``);
  without one, or with an invalid one, the provider gets a fresh valid one (and no ``tracestate``).
- The trace is recorded with the request: in its ``request_completed`` event and in
  ``GET /iron/api/requests`` (from the database, or from memory with ``persist=False``).
- ``verbose=True``: one JSON line per finished request on the engine's stderr, read here from a child
  Python process; never the provider key, the router token or a PII value from the prompt.
"""

import json
import re
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import openai
import pytest

from children import CHILD_CWD, child_env
from fakes.upstream import FakeUpstream
from helpers import MSG, OPENAI_KEY, assert_no_secret, oai_client, origin, wait_for

CLIENT_TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")
ROW_FIELDS = {"request_id", "timestamp_ms", "agent_id", "provider", "model", "status", "outcome", "input_tokens",
              "cached_tokens", "output_tokens", "cost", "cost_picos", "latency_ms", "pii_detections", "stream",
              "trace_id", "traceparent", "attempts"}


def admin_get(router, path, token="__admin__"):
    """(status, JSON body) of a GET on the router's own endpoints."""
    req = urllib.request.Request(origin(router) + path)
    if token is not None:
        req.add_header("Authorization", "Bearer " + (router.admin_token if token == "__admin__" else token))
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def requests_of(router, query=""):
    status, body = admin_get(router, "/iron/api/requests" + query)
    assert status == 200, body
    return body["requests"]


def is_fresh_trace(value):
    return bool(value) and TRACEPARENT.match(value) and value.split("-")[1] != CLIENT_TRACE.split("-")[1]


@pytest.fixture
def memory_router(make_router, oai_up):
    return make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, persist=False, max_retries=0)


# ----------------------------------------------------------------------------- trace context upstream


def test_the_clients_traceparent_and_tracestate_reach_the_provider_unchanged(memory_router, oai_up):
    client = oai_client(memory_router)
    client.chat.completions.create(model="gpt-4o-mini", messages=MSG,
                                   extra_headers={"traceparent": CLIENT_TRACE, "tracestate": "rojo=00f067aa0ba902b7"})
    assert oai_up.last.headers.get("traceparent") == CLIENT_TRACE
    assert oai_up.last.headers.get_all("tracestate") == ["rojo=00f067aa0ba902b7"]

    # A stream carries it the same way.
    with client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True,
                                        extra_headers={"traceparent": CLIENT_TRACE}) as stream:
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert oai_up.last.headers.get("traceparent") == CLIENT_TRACE


@pytest.mark.parametrize("sent", [
    None,
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  # uppercase
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",     # no flags
], ids=["absent", "uppercase", "zero-trace-id", "version-ff", "no-flags"])
def test_a_missing_or_invalid_traceparent_is_replaced_by_a_fresh_valid_one(memory_router, oai_up, sent):
    headers = {"tracestate": "rojo=1"}
    if sent is not None:
        headers["traceparent"] = sent
    oai_client(memory_router).chat.completions.create(model="gpt-4o-mini", messages=MSG, extra_headers=headers)
    got = oai_up.last.headers.get("traceparent")
    assert is_fresh_trace(got), got
    assert oai_up.last.headers.get_all("tracestate") == [], "a tracestate belongs to the trace it came with"
    row = requests_of(memory_router, "?limit=1")[0]
    assert row["traceparent"] == got
    assert row["trace_id"] == got.split("-")[1]


def test_every_request_gets_its_own_trace(memory_router, oai_up):
    client = oai_client(memory_router)
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    sent = [r.headers.get("traceparent") for r in oai_up.requests]
    assert len(set(sent)) == 3 and all(is_fresh_trace(t) for t in sent), sent


def test_a_retried_request_sends_the_same_trace_every_time(make_router, oai_up):
    router = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, persist=False, max_retries=2,
                         retry_backoff={"base_delay": 0.01, "max_delay": 0.05}, circuit_breaker=False)
    oai_up.script("error:503,retry:0", "error:503,retry:0", None)
    oai_client(router).chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert [r.headers.get("traceparent") for r in oai_up.requests] == [oai_up.requests[0].headers.get("traceparent")] * 3
    assert is_fresh_trace(oai_up.requests[0].headers.get("traceparent"))
    assert requests_of(router, "?limit=1")[0]["attempts"] == 3


# ----------------------------------------------------------------------------- the requests endpoint


def test_requests_are_listed_newest_first_with_trace_tokens_cost_and_pii(make_router, oai_up):
    router = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, pii="detect")  # with the database
    client = oai_client(router)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "mail jane.doe@example.com"}],
        extra_headers={"traceparent": CLIENT_TRACE})
    first_id = raw.headers["x-iron-request-id"]
    with client.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True) as stream:
        for _ in stream:
            pass
    rows = wait_for(lambda: (lambda r: r if len(r) >= 2 and r[1]["request_id"] == first_id else None)(
        requests_of(router, "?limit=2")), what="both rows committed")
    streamed, first = rows
    assert set(first) == ROW_FIELDS
    assert first["traceparent"] == CLIENT_TRACE and first["trace_id"] == CLIENT_TRACE.split("-")[1]
    assert first["pii_detections"] == 2, "the email in the prompt and in the model's echo of it"
    assert first["stream"] is False and streamed["stream"] is True
    assert first["status"] == 200 and first["outcome"] == "completed" and first["attempts"] == 1
    assert first["provider"] == "openai" and first["model"] == "gpt-4o-mini"
    assert first["input_tokens"] > 0 and first["output_tokens"] > 0
    assert first["cost"] > 0 and first["cost_picos"] == round(first["cost"] * 1e12)
    assert streamed["timestamp_ms"] >= first["timestamp_ms"]
    assert is_fresh_trace(streamed["traceparent"])
    assert_no_secret(json.dumps(rows), OPENAI_KEY, router.api_key, "jane.doe")

    # The same facts as the request's event.
    event = [e for e in router.events(types=["request_completed"]) if e["request_id"] == first_id][0]
    for key in ("trace_id", "traceparent", "pii_detections", "stream", "cost", "input_tokens", "attempts"):
        assert event[key] == first[key], key


def test_requests_filter_by_agent_and_limit_and_name_bad_parameters(make_router, oai_up):
    router = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, persist=False)
    client = oai_client(router)
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o-mini", messages=MSG)
    assert len(requests_of(router)) == 3
    assert len(requests_of(router, "?limit=2")) == 2
    assert requests_of(router, "?agent_id=agent_none") == []
    ids = [r["request_id"] for r in requests_of(router)]
    assert ids == sorted(ids, reverse=True), "newest first"

    for query, name in [("?limit=0", "limit"), ("?limit=1001", "limit"), ("?limit=many", "limit"),
                        ("?agent_id=", "agent_id")]:
        status, body = admin_get(router, "/iron/api/requests" + query)
        assert status == 400, (query, body)
        assert body["error"]["message"].startswith(name), body
    assert admin_get(router, "/iron/api/requests", token=None)[0] == 401
    assert admin_get(router, "/iron/api/requests", token="wrong")[0] == 401


def test_an_agents_requests_are_listed_under_its_id(tmp_path, oai_up):
    from iron_runtime import Runtime

    script = tmp_path / "agent.py"
    script.write_text(textwrap.dedent("""
        import openai
        client = openai.OpenAI(max_retries=0, timeout=20)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    """))
    rt = Runtime(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, persist=False)
    try:
        handle = rt.start_agent(str(script))
        agent_id = handle.agent_id
        router = rt.router
        rows = wait_for(lambda: requests_of(router, "?agent_id=" + agent_id), timeout=60, what="the agent's request")
        assert [r["agent_id"] for r in rows] == [agent_id]
        assert oai_up.last.headers.get("traceparent") == rows[0]["traceparent"]
    finally:
        rt.shutdown()


# ----------------------------------------------------------------------------- the request log

_VERBOSE_CHILD = textwrap.dedent("""
    import sys, openai
    from iron_runtime import LlmRouter
    router = LlmRouter(provider_key=sys.argv[1], openai_base_url=sys.argv[2], persist=False, verbose=True,
                       max_retries=0)
    client = openai.OpenAI(base_url=router.base_url, api_key=router.api_key, max_retries=0, timeout=20)
    client.chat.completions.create(model="gpt-4o-mini",
                                   messages=[{"role": "user", "content": "card 4111 1111 1111 1111 for jane.doe@example.com"}],
                                   extra_headers={"traceparent": "%s"})
    with client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                        stream=True) as s:
        for _ in s:
            pass
    try:
        openai.OpenAI(base_url=router.base_url, api_key="not-the-token-0123456789", max_retries=0).models.list()
    except openai.AuthenticationError:
        pass
    print("TOKEN", router.api_key, flush=True)
    router.close()
""" % CLIENT_TRACE)


def test_verbose_logs_one_json_line_per_request_without_secrets_or_pii(oai_up):
    proc = subprocess.run([sys.executable, "-c", _VERBOSE_CHILD, OPENAI_KEY, oai_up.origin],
                          env=child_env(), capture_output=True, text=True, timeout=120, cwd=CHILD_CWD)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.split("TOKEN ", 1)[1].split()[0]
    lines = [json.loads(line) for line in proc.stderr.splitlines()]  # every stderr line is JSON: nothing else at warning
    assert len(lines) == 3, proc.stderr
    first, streamed, refused = lines
    for line in lines:
        assert {"request_id", "trace_id", "agent_id", "provider", "model", "status", "outcome", "input_tokens",
                "output_tokens", "cost", "latency_ms", "pii_detections", "attempts", "stream"} <= set(line), line
    assert first["trace_id"] == CLIENT_TRACE.split("-")[1]
    assert first["status"] == 200 and first["outcome"] == "completed" and first["stream"] is False
    assert first["pii_detections"] == 2, "card and email in the prompt (the provider saw placeholders)"
    assert first["input_tokens"] > 0 and first["cost"] > 0
    assert streamed["stream"] is True and streamed["status"] == 200
    assert streamed["trace_id"] == oai_up.requests[1].headers.get("traceparent").split("-")[1]
    assert refused["status"] == 401 and refused["outcome"] == "invalid_api_key" and refused["attempts"] == 0
    assert_no_secret(proc.stderr, OPENAI_KEY, token, "not-the-token", "jane.doe", "4111 1111", "4111111111111111")


def test_log_level_info_shows_the_engines_messages_and_off_silences_them(oai_up):
    child = textwrap.dedent("""
        import sys
        from iron_runtime import LlmRouter
        LlmRouter(provider_key=sys.argv[1], persist=False, log_level="INFO").close()
    """)
    proc = subprocess.run([sys.executable, "-c", child, OPENAI_KEY], env=child_env(), capture_output=True,
                          text=True, timeout=120, cwd=CHILD_CWD)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^\S+ INFO LlmRouter - iron-runtime router listening on http://127\.0\.0\.1:\d+/v1 ",
                     proc.stderr, re.M), proc.stderr
    assert_no_secret(proc.stderr, OPENAI_KEY)


@pytest.mark.parametrize("kwargs, error", [
    ({"verbose": "yes"}, TypeError),
    ({"log_level": 20}, TypeError),
    ({"log_level": "loud"}, "log_level must be 'debug', 'info', 'warning', 'error' or 'off', got 'loud'"),
], ids=["verbose-str", "log-level-int", "log-level-unknown"])
def test_bad_logging_settings_are_clear_errors(kwargs, error):
    from iron_runtime import ConfigurationError, LlmRouter

    expected = error if isinstance(error, type) else ConfigurationError
    with pytest.raises(expected) as ei:
        LlmRouter(provider_key=OPENAI_KEY, persist=False, start=False, **kwargs)
    if isinstance(error, str):
        assert error in str(ei.value)


def test_describe_names_the_logging_settings():
    from iron_runtime import LlmRouter

    r = LlmRouter(provider_key=OPENAI_KEY, persist=False, start=False, verbose=True, log_level="Error")
    try:
        d = r.describe()
        assert (d["verbose"], d["log_level"]) == (True, "error")
    finally:
        r.close()
