"""The fake upstream itself, driven directly by the real SDKs (no router).

If these fail, router test failures mean nothing: the fake must speak the
providers' wire formats well enough for the official SDKs to parse them.
"""

import asyncio
import http.client
import json
import socket
import time

import anthropic
import openai
import pytest

from fakes.upstream import FakeUpstream, parse_scenario, reply_text, split_chunks
from helpers import assert_incremental, timed_iter


@pytest.fixture
def up():
    with FakeUpstream(event_delay=0.01, name="direct") as u:
        yield u


def oai(up, **kw):
    return openai.OpenAI(base_url=up.base_url, api_key="sk-test-direct", max_retries=0, timeout=10, **kw)


def ant(up, **kw):
    return anthropic.Anthropic(base_url=up.origin, api_key="sk-ant-test-direct", max_retries=0, timeout=10, **kw)


MSG = [{"role": "user", "content": "hello fake world"}]


def test_parse_scenario():
    assert parse_scenario(None, "gpt-4o-fake-error-500") == {"error": "500"}
    assert parse_scenario("drop:3, delay=0.05", None) == {"drop": "3", "delay": "0.05"}
    assert parse_scenario(None, "claude-3-fake-slow-2-delay-0.05") == {"slow": "2", "delay": "0.05"}
    assert parse_scenario("ratelimit", None)["error"] == "429"
    assert parse_scenario(None, "gpt-4o") == {}
    assert "".join(split_chunks("a b c d")) == "a b c d"
    assert len(split_chunks("abcdefghij", 4)) == 4


def test_chat_non_stream(up):
    r = oai(up).chat.completions.with_raw_response.create(model="gpt-4o", messages=MSG)
    c = r.parse()
    assert c.id.startswith("chatcmpl-")
    assert c.object == "chat.completion"
    assert c.choices[0].message.content == reply_text("hello fake world")
    assert c.choices[0].finish_reason == "stop"
    assert c.usage.total_tokens == c.usage.prompt_tokens + c.usage.completion_tokens
    assert c.usage.prompt_tokens_details.cached_tokens == 0
    assert r.headers["x-request-id"].startswith("req_")
    assert r.headers["x-ratelimit-limit-requests"] == "10000"
    rec = up.last
    assert rec.headers["authorization"] == "Bearer sk-test-direct"
    assert rec.json["model"] == "gpt-4o"
    assert rec.response_headers["x-request-id"] == r.headers["x-request-id"]


def test_chat_stream_with_usage(up):
    chunks = list(oai(up).chat.completions.create(
        model="gpt-4o", messages=MSG, stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == reply_text("hello fake world")
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(split_chunks(text))
    # the client may see [DONE] before the fake has written its last chunk and recorded the outcome
    assert up.last.stream and up.wait_until(lambda: up.last.outcome == "completed", 5)


def test_chat_stream_without_usage_has_no_usage_chunk(up):
    chunks = list(oai(up).chat.completions.create(model="gpt-4o", messages=MSG, stream=True))
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert '"usage"' not in "".join(up.last.events)


def test_events_are_separated_in_time(up):
    stream = oai(up).chat.completions.create(
        model="gpt-4o", messages=MSG, stream=True, extra_headers={"x-fake-scenario": "delay:0.1"})
    chunks, arrivals = timed_iter(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len(chunks) >= 5
    times = up.last.event_times
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.09
    assert_incremental(arrivals, up.last)  # the client saw early events before the fake wrote the last


def test_responses_non_stream_and_stream(up):
    c = oai(up)
    r = c.responses.create(model="gpt-4o", input="hi responses")
    assert r.output_text == reply_text("hi responses")
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    events = list(c.responses.create(model="gpt-4o", input=[{"role": "user", "content": "list input"}], stream=True))
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == reply_text("list input")
    assert events[-1].response.usage.output_tokens == len(split_chunks(deltas))
    # the higher-level helper accumulates the snapshot from the events
    with c.responses.stream(model="gpt-4o", input="helper") as s:
        for _ in s:
            pass
        final = s.get_final_response()
    assert final.output_text == reply_text("helper")


def test_embeddings_and_models(up):
    c = oai(up)
    e = c.embeddings.create(model="text-embedding-3-small", input=["abc", "defgh"])  # SDK asks for base64
    assert len(e.data) == 2 and e.data[1].embedding[0] == 5.0
    e2 = c.embeddings.create(model="text-embedding-3-small", input="abc", encoding_format="float")
    assert e2.data[0].embedding[0] == 3.0
    ids = [m.id for m in c.models.list()]
    assert "gpt-4o" in ids
    assert c.models.retrieve("gpt-4o").id == "gpt-4o"


def test_anthropic_non_stream(up):
    r = ant(up).messages.with_raw_response.create(model="claude-opus-4-5", max_tokens=100, messages=MSG)
    m = r.parse()
    assert m.id.startswith("msg_")
    assert m.content[0].text == reply_text("hello fake world")
    assert m.stop_reason == "end_turn"
    assert m.usage.output_tokens == len(split_chunks(m.content[0].text))
    assert m.usage.cache_read_input_tokens == 0 and m.usage.cache_creation_input_tokens == 0
    assert r.headers["request-id"].startswith("req_")
    rec = up.last
    # anthropic 2.x sends the key as a bearer token
    assert "sk-ant-test-direct" in (rec.headers.get("x-api-key"), rec.headers.get("authorization", "")[7:])
    assert rec.headers["anthropic-version"]


def test_anthropic_stream_and_helper(up):
    c = ant(up)
    events = list(c.messages.create(model="claude-opus-4-5", max_tokens=100, messages=MSG, stream=True))
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert "ping" not in types  # the SDK swallows pings; the fake sent one
    assert any(t.startswith("event: ping") for t in up.last.events)
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == reply_text("hello fake world")
    assert events[0].message.usage.input_tokens > 0
    md = [e for e in events if e.type == "message_delta"][0]
    assert md.delta.stop_reason == "end_turn" and md.usage.output_tokens == len(split_chunks(text))
    with c.messages.stream(model="claude-opus-4-5", max_tokens=100, messages=MSG) as s:
        assert "".join(s.text_stream) == text
        final = s.get_final_message()
    assert final.usage.output_tokens == md.usage.output_tokens
    assert c.messages.count_tokens(model="claude-opus-4-5", messages=MSG).input_tokens > 0


def test_async_clients(up):
    async def main():
        o = openai.AsyncOpenAI(base_url=up.base_url, api_key="k", max_retries=0, timeout=10)
        a = anthropic.AsyncAnthropic(base_url=up.origin, api_key="k", max_retries=0, timeout=10)
        s = await o.chat.completions.create(model="gpt-4o", messages=MSG, stream=True)
        t1 = "".join([c.choices[0].delta.content or "" async for c in s if c.choices])
        s2 = await a.messages.create(model="claude-x", max_tokens=10, messages=MSG, stream=True)
        t2 = "".join([e.delta.text async for e in s2 if e.type == "content_block_delta"])
        m = await a.messages.create(model="claude-x", max_tokens=10, messages=MSG)
        await o.close()
        await a.close()
        return t1, t2, m.content[0].text

    assert asyncio.run(main()) == (reply_text("hello fake world"),) * 3


def test_error_scenarios(up):
    with pytest.raises(openai.InternalServerError) as ei:
        oai(up).chat.completions.create(model="gpt-4o-fake-error-500", messages=MSG)
    assert ei.value.body["type"] == "server_error"
    with pytest.raises(openai.RateLimitError) as ei:
        oai(up).chat.completions.create(model="gpt-4o", messages=MSG, extra_headers={"x-fake-scenario": "error:429"})
    assert ei.value.response.headers["retry-after"] == "2"
    with pytest.raises(anthropic.RateLimitError) as ei:
        ant(up).messages.create(model="claude-x-fake-ratelimit", max_tokens=1, messages=MSG)
    assert ei.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.InternalServerError) as ei:
        ant(up).messages.create(model="claude-x-fake-error-529", max_tokens=1, messages=MSG)
    assert ei.value.status_code == 529


def test_malformed_json_and_unknown_path(up):
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", body=b"{nope", headers={"content-type": "application/json"})
    r = conn.getresponse()
    assert r.status == 400 and "error" in json.loads(r.read())
    conn.request("GET", "/v1/nothing-here?x=1")
    r = conn.getresponse()
    assert r.status == 404 and json.loads(r.read())["error"]["type"] == "invalid_request_error"
    assert up.last.query == "x=1"
    conn.close()


def test_chunked_request_body(up):
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    body = json.dumps({"model": "gpt-4o", "messages": MSG}).encode()
    conn.request("POST", "/v1/chat/completions", body=iter([body[:10], body[10:]]),
                 headers={"content-type": "application/json"}, encode_chunked=True)
    r = conn.getresponse()
    assert r.status == 200 and json.loads(r.read())["choices"][0]["message"]["content"] == reply_text("hello fake world")
    conn.close()


def test_slow_and_stall(up):
    c = openai.OpenAI(base_url=up.base_url, api_key="k", max_retries=0, timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model="gpt-4o-fake-slow-3", messages=MSG)
    assert up.wait_client_gone(3)


def test_drop_mid_stream_ends_sdk_stream(up):
    t0 = time.monotonic()
    got = []
    with pytest.raises(openai.APIConnectionError):
        for ch in oai(up).chat.completions.create(model="gpt-4o-fake-drop-3", messages=MSG, stream=True):
            got.append(ch)
    assert len(got) == 3 and time.monotonic() - t0 < 3
    assert up.last.outcome == "dropped"


def test_client_disconnect_is_seen(up):
    s = oai(up).chat.completions.create(model="gpt-4o-fake-long-100", messages=MSG, stream=True)
    it = iter(s)
    next(it)
    next(it)
    s.close()
    assert up.wait_stream_closed(3)
    rec = up.streams[-1]
    assert rec.outcome == "client_gone" and rec.events_sent < 50


def test_sse_error_event(up):
    with pytest.raises(anthropic.APIStatusError):
        for _ in ant(up).messages.create(model="claude-x-fake-sseerror-3", max_tokens=1, messages=MSG, stream=True):
            pass


def test_stop_with_open_stream_is_fast():
    up = FakeUpstream(event_delay=0.05).start()
    s = openai.OpenAI(base_url=up.base_url, api_key="k", max_retries=0, timeout=5).chat.completions.create(
        model="gpt-4o-fake-long-1000", messages=MSG, stream=True)
    next(iter(s))
    port = up.port
    t0 = time.monotonic()
    up.stop()
    assert time.monotonic() - t0 < 2
    s.close()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.close()


# ---------------------------------------------------------------- output bounds, cache writes, missing usage


def test_output_bound_is_recorded_and_absent_bound_changes_nothing(up):
    c = oai(up).chat.completions.create(model="gpt-4o", messages=MSG)
    assert up.last.output_bound is None and not up.last.truncated and c.choices[0].finish_reason == "stop"
    c = oai(up).chat.completions.create(model="gpt-4o", messages=MSG, max_completion_tokens=1000)
    assert up.last.output_bound == 1000 and not up.last.truncated
    assert c.choices[0].finish_reason == "stop" and c.choices[0].message.content == reply_text("hello fake world")
    # max_completion_tokens wins over the legacy max_tokens; non-integers count as absent and do not crash
    oai(up).chat.completions.create(model="gpt-4o", messages=MSG, max_completion_tokens=2, max_tokens=50)
    assert up.last.output_bound == 2
    for bad in ("7", 2.5, True, None, [3]):
        r = oai(up).chat.completions.create(model="gpt-4o", messages=MSG, extra_body={"max_completion_tokens": bad})
        assert up.last.output_bound is None and r.choices[0].finish_reason == "stop"
    oai(up).chat.completions.create(model="gpt-4o", messages=MSG, extra_body={"max_completion_tokens": "x",
                                                                              "max_tokens": 4})
    assert up.last.output_bound == 4


def test_chat_max_tokens_truncates_non_stream(up):
    full = split_chunks(reply_text("hello fake world"))
    assert len(full) > 2
    for field in ("max_completion_tokens", "max_tokens"):
        c = oai(up).chat.completions.create(model="gpt-4o", messages=MSG, **{field: 2})
        assert c.choices[0].finish_reason == "length"
        assert c.choices[0].message.content == "".join(full[:2])
        assert c.usage.completion_tokens == 2 and c.usage.total_tokens == c.usage.prompt_tokens + 2
        rec = up.last
        assert rec.output_bound == 2 and rec.truncated and rec.reply == "".join(full[:2])
        assert rec.usage == c.usage.model_dump(exclude_unset=True) and rec.usage["completion_tokens"] == 2
    # exactly the number of deltas: nothing to cut
    c = oai(up).chat.completions.create(model="gpt-4o", messages=MSG, max_tokens=len(full))
    assert c.choices[0].finish_reason == "stop" and not up.last.truncated


def test_chat_max_tokens_truncates_stream(up):
    chunks = list(oai(up).chat.completions.create(
        model="gpt-4o-fake-long-50", messages=MSG, stream=True, max_completion_tokens=5,
        stream_options={"include_usage": True}))
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) == 5 and "".join(deltas) == up.last.reply
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].usage.completion_tokens == 5
    assert up.last.usage["completion_tokens"] == 5 and up.last.output_bound == 5


def test_responses_max_output_tokens_incomplete(up):
    c = oai(up)
    full = split_chunks(reply_text("bounded responses input here"))
    r = c.responses.create(model="gpt-4o", input="bounded responses input here", max_output_tokens=3)
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    assert r.output_text == "".join(full[:3]) and r.usage.output_tokens == 3
    assert r.usage.total_tokens == r.usage.input_tokens + 3
    assert up.last.output_bound == 3 and up.last.truncated and up.last.usage["output_tokens"] == 3
    events = list(c.responses.create(model="gpt-4o", input="bounded responses input here",
                                     max_output_tokens=3, stream=True))
    types = [e.type for e in events]
    assert types[-1] == "response.incomplete" and "response.completed" not in types
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "".join(full[:3])
    final = events[-1].response
    assert final.status == "incomplete" and final.incomplete_details.reason == "max_output_tokens"
    assert final.usage.output_tokens == 3 and up.last.usage == final.usage.model_dump(exclude_unset=True)
    # a large enough bound completes normally
    r = c.responses.create(model="gpt-4o", input="x", max_output_tokens=100)
    assert r.status == "completed" and r.incomplete_details is None and up.last.output_bound == 100


def test_anthropic_max_tokens_truncates(up):
    c = ant(up)
    full = split_chunks(reply_text("hello fake world"))
    m = c.messages.create(model="claude-x", max_tokens=2, messages=MSG)
    assert m.stop_reason == "max_tokens" and m.content[0].text == "".join(full[:2])
    assert m.usage.output_tokens == 2 and up.last.output_bound == 2 and up.last.truncated
    events = list(c.messages.create(model="claude-x-fake-long-30", max_tokens=4, messages=MSG, stream=True))
    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]
    md = [e for e in events if e.type == "message_delta"][0]
    assert len(deltas) == 4 and md.delta.stop_reason == "max_tokens" and md.usage.output_tokens == 4
    assert up.last.usage["output_tokens"] == 4
    m = c.messages.create(model="claude-x", max_tokens=100, messages=MSG)
    assert m.stop_reason == "end_turn" and up.last.output_bound == 100 and not up.last.truncated


def test_cachewrite_scenario(up):
    c = ant(up)
    base = c.messages.create(model="claude-x", max_tokens=100, messages=MSG).usage.input_tokens
    m = c.messages.create(model="claude-x", max_tokens=100, messages=MSG,
                          extra_headers={"x-fake-scenario": "cachewrite:3,cached:2"})
    assert m.usage.cache_creation_input_tokens == 3 and m.usage.cache_read_input_tokens == 2
    assert m.usage.input_tokens == base - 5
    assert up.last.usage["cache_creation_input_tokens"] == 3
    # never makes input negative
    m = c.messages.create(model="claude-x-fake-cachewrite-100000", max_tokens=100, messages=MSG)
    assert m.usage.input_tokens == 0 and m.usage.cache_creation_input_tokens == base
    events = list(c.messages.create(model="claude-x", max_tokens=100, messages=MSG, stream=True,
                                    extra_headers={"x-fake-scenario": "cachewrite:4"}))
    assert events[0].message.usage.cache_creation_input_tokens == 4
    md = [e for e in events if e.type == "message_delta"][0]
    assert md.usage.cache_creation_input_tokens == 4 and md.usage.input_tokens == base - 4
    # ignored by OpenAI
    r = oai(up).chat.completions.create(model="gpt-4o", messages=MSG, extra_headers={"x-fake-scenario": "cachewrite:3"})
    assert r.usage.prompt_tokens_details.cached_tokens == 0
    r = oai(up).responses.create(model="gpt-4o", input="hi", extra_headers={"x-fake-scenario": "cachewrite:3"})
    assert r.usage.input_tokens_details.cached_tokens == 0


def _raw(up, path, body, scenario, anthropic_api=False):
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    headers = {"content-type": "application/json", "x-fake-scenario": scenario}
    if anthropic_api:
        headers["anthropic-version"] = "2023-06-01"
    conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    assert r.status == 200
    return data


def test_nousage_non_stream(up):
    obj = json.loads(_raw(up, "/v1/chat/completions", {"model": "gpt-4o", "messages": MSG}, "nousage"))
    assert "usage" not in obj and obj["choices"][0]["message"]["content"] == reply_text("hello fake world")
    assert up.last.usage is None
    obj = json.loads(_raw(up, "/v1/responses", {"model": "gpt-4o", "input": "hi"}, "nousage"))
    assert "usage" not in obj and obj["status"] == "completed" and up.last.usage is None
    obj = json.loads(_raw(up, "/v1/messages", {"model": "claude-x", "max_tokens": 100, "messages": MSG},
                          "nousage", anthropic_api=True))
    assert "usage" not in obj and obj["stop_reason"] == "end_turn" and up.last.usage is None
    # with truncation too
    obj = json.loads(_raw(up, "/v1/messages", {"model": "claude-x", "max_tokens": 1, "messages": MSG},
                          "nousage", anthropic_api=True))
    assert "usage" not in obj and obj["stop_reason"] == "max_tokens" and up.last.usage is None
    # the SDKs still parse it
    c = oai(up).chat.completions.create(model="gpt-4o-fake-nousage", messages=MSG)
    assert c.usage is None


def test_nousage_stream(up):
    chunks = list(oai(up).chat.completions.create(
        model="gpt-4o-fake-nousage", messages=MSG, stream=True, stream_options={"include_usage": True}))
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    assert '"usage":{' not in "".join(up.last.events) and up.last.usage is None
    events = list(oai(up).responses.create(model="gpt-4o-fake-nousage", input="hi", stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.usage is None
    assert up.last.usage is None and '"usage":{' not in "".join(up.last.events)
    events = list(ant(up).messages.create(model="claude-x-fake-nousage", max_tokens=100, messages=MSG, stream=True))
    assert [e.type for e in events][-1] == "message_stop"
    sent = [json.loads(t.split("data: ", 1)[1]) for t in up.last.events]
    start = [d for d in sent if d["type"] == "message_start"][0]
    delta = [d for d in sent if d["type"] == "message_delta"][0]
    assert "usage" not in start["message"] and "usage" not in delta
    assert delta["delta"]["stop_reason"] == "end_turn" and up.last.usage is None


# ---------------------------------------------------------------- fault injection: script, abort, hangup, retry, blackhole

def _status(up, path="/v1/chat/completions", scenario=None, model="gpt-4o"):
    """One raw request; (status, headers) or the exception the connection ended with."""
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    headers = {"content-type": "application/json"}
    if scenario is not None:
        headers["x-fake-scenario"] = scenario
    try:
        if path == "/v1/models":
            conn.request("GET", path, headers=headers)
        else:
            conn.request("POST", path, body=json.dumps({"model": model, "messages": MSG}).encode(), headers=headers)
        r = conn.getresponse()
        r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}
    except (ConnectionError, http.client.HTTPException) as e:
        return e, None
    finally:
        conn.close()


def _raw_bytes(up, scenario):
    """Send one request on a plain socket and read until the server ends the connection."""
    body = json.dumps({"model": "gpt-4o", "messages": MSG}).encode()
    with socket.create_connection(("127.0.0.1", up.port), timeout=5) as s:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"x-fake-scenario: %s\r\nContent-Length: %d\r\n\r\n%s" % (scenario.encode(), len(body), body))
        data = b""
        while True:
            chunk = s.recv(65536)  # ConnectionResetError on RST
            if not chunk:
                return data
            data += chunk


def test_abort_resets_without_a_byte(up):
    with pytest.raises(ConnectionResetError):
        _raw_bytes(up, "abort")
    assert up.wait_idle(3)
    rec = up.last
    assert rec.outcome == "aborted" and rec.status is None and rec.scenario == {"abort": None}
    with pytest.raises(openai.APIConnectionError):
        oai(up).chat.completions.create(model="gpt-4o-fake-abort", messages=MSG)
    assert up.wait_idle(3) and up.last.outcome == "aborted"
    assert up.count() == 2


def test_hangup_closes_cleanly_without_a_byte(up):
    assert _raw_bytes(up, "hangup") == b""  # FIN, no reset, nothing sent
    assert up.wait_idle(3)
    rec = up.last
    assert rec.outcome == "hung_up" and rec.status is None and rec.scenario == {"hangup": None}
    err, _ = _status(up, scenario="hangup")
    assert isinstance(err, http.client.RemoteDisconnected)
    with pytest.raises(anthropic.APIConnectionError):
        ant(up).messages.create(model="claude-x-fake-hangup", max_tokens=1, messages=MSG)
    assert up.wait_idle(3) and [r.outcome for r in up.requests] == ["hung_up"] * 3


def test_retry_headers(up):
    st, h = _status(up, scenario="error:429,retryms:150")
    assert st == 429 and h["retry-after-ms"] == "150" and h["retry-after"] == "2"
    st, h = _status(up, scenario="error:503,retry:0")
    assert st == 503 and h["retry-after"] == "0" and "retry-after-ms" not in h
    st, h = _status(up, model="gpt-4o-fake-error-529-retry-0-retryms-0")
    assert st == 529 and h["retry-after"] == "0" and h["retry-after-ms"] == "0"
    st, h = _status(up, scenario="ratelimit,retry:0.5,retryms:500")
    assert st == 429 and h["retry-after"] == "0.5" and h["retry-after-ms"] == "500"
    st, h = _status(up, scenario="error:500")
    assert st == 500 and "retry-after" not in h and "retry-after-ms" not in h
    assert up.requests[0].response_headers["retry-after-ms"] == "150"
    with pytest.raises(openai.RateLimitError) as ei:
        oai(up).chat.completions.create(model="gpt-4o", messages=MSG,
                                        extra_headers={"x-fake-scenario": "ratelimit,retryms:20"})
    assert ei.value.response.headers["retry-after-ms"] == "20"


def test_script_queue(up):
    assert up.script("error:503,retry:0.2", "abort", None) is up
    up.script("", "hangup")
    assert up.scripted_left == 5
    st, h = _status(up, scenario="error:500")  # the script wins over the request's own scenario
    assert st == 503 and h["retry-after"] == "0.2"
    assert up.last.scenario == {"error": "503", "retry": "0.2"} and up.last.scripted == "error:503,retry:0.2"
    err, _ = _status(up, path="/v1/models")  # any path takes the next entry
    assert type(err) is ConnectionResetError  # an RST (http.client's RemoteDisconnected would be a FIN)
    assert up.wait_idle(3) and up.last.outcome == "aborted" and up.last.scenario == {"abort": None}
    st, _ = _status(up, model="gpt-4o-fake-error-500")  # None: the request's own scenario
    assert st == 500 and up.last.scenario == {"error": "500"} and up.last.scripted is None
    st, _ = _status(up)  # "": normal, own (empty) scenario
    assert st == 200 and up.last.scenario == {}
    assert up.scripted_left == 1
    err, _ = _status(up, path="/v1/embeddings")
    assert isinstance(err, http.client.RemoteDisconnected) and up.wait_idle(3) and up.last.outcome == "hung_up"
    assert up.scripted_left == 0
    st, _ = _status(up, scenario="error:502")  # queue empty: own scenarios again
    assert st == 502 and up.last.scripted is None
    st, _ = _status(up)
    assert st == 200
    assert [r.status for r in up.requests] == [503, None, 500, 200, None, 502, 200]
    # clear() and fresh() empty the queue
    up.script("abort", "abort")
    up.clear()
    assert up.scripted_left == 0 and up.count() == 0
    assert _status(up)[0] == 200
    up.script("error:500")
    assert up.fresh(0.01).scripted_left == 0
    assert _status(up)[0] == 200 and up.count() == 1


def test_script_queue_is_thread_safe(up):
    import threading

    up.script(*(["error:503"] * 20 + [None] * 20))
    results = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            st, _ = _status(up)
            with lock:
                results.append(st)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(results) == 50 and up.scripted_left == 0
    assert results.count(503) == 20 and results.count(200) == 30
    # arrival order: the first 20 recorded requests got the 503 entries
    assert [r.scripted for r in up.requests] == ["error:503"] * 20 + [None] * 30
    assert all(r.status == 503 for r in up.requests[:20])


def test_count(up):
    assert up.count() == 0
    oai(up).chat.completions.create(model="gpt-4o", messages=MSG)
    oai(up).chat.completions.create(model="gpt-4o", messages=MSG)
    oai(up).models.list()
    assert up.count() == 3
    assert up.count("/v1/chat/completions") == 2 and up.count("/v1/models") == 1
    assert up.count("/v1/responses") == 0


def test_blackhole_connect_times_out():
    with FakeUpstream.blackhole() as origin:
        assert origin.startswith("http://127.0.0.1:")
        host, port = origin[len("http://"):].rsplit(":", 1)
        t0 = time.monotonic()
        with pytest.raises(socket.timeout):
            socket.create_connection((host, int(port)), timeout=0.5)
        assert 0.4 < time.monotonic() - t0 < 3
        # the SDKs see a connect timeout too
        c = openai.OpenAI(base_url=origin + "/v1", api_key="k", max_retries=0,
                          timeout=openai.Timeout(5, connect=0.3))
        t0 = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            c.models.list()
        assert time.monotonic() - t0 < 3


# --------------------------------------------------------------------------- wire rules
# The fake refuses bodies the real APIs refuse (fakes/wire_rules.py), with their error shape
# and message, so a badly translated request fails loudly.

TOOL_USE = {"role": "assistant", "content": [{"type": "text", "text": "let me look"},
                                             {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}]}
CALLS = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
    {"id": "call_2", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}


def _post(up, path, body):
    """(status, JSON) of a POST with a body the SDKs would not send."""
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    conn.request("POST", path, body=json.dumps(body).encode(),
                 headers={"content-type": "application/json", "anthropic-version": "2023-06-01"})
    r = conn.getresponse()
    data = json.loads(r.read())
    conn.close()
    return r.status, data


def _result(tool_use_id="toolu_1"):
    return {"type": "tool_result", "tool_use_id": tool_use_id, "content": "42"}


def ant_refused(up, **kw):
    """The message of the 400 the fake answers to messages.create(**kw) (checked to be Anthropic-shaped)."""
    kw.setdefault("model", "claude-x")
    kw.setdefault("max_tokens", 10)
    kw.setdefault("messages", MSG)
    with pytest.raises(anthropic.BadRequestError) as ei:
        ant(up).messages.create(**kw)
    assert ei.value.status_code == 400
    body = ei.value.body
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert up.last.invalid == body["error"]["message"] and up.last.status == 400
    return body["error"]["message"]


def oai_refused(up, **kw):
    """(param, message) of the 400 the fake answers to chat.completions.create(**kw)."""
    kw.setdefault("model", "gpt-4o")
    kw.setdefault("messages", MSG)
    with pytest.raises(openai.BadRequestError) as ei:
        oai(up).chat.completions.create(**kw)
    assert ei.value.status_code == 400
    err = ei.value.body  # the SDK keeps the "error" object
    assert err["type"] == "invalid_request_error" and err["code"] is None
    assert set(err) == {"message", "type", "param", "code"}
    assert up.last.invalid == err["message"]
    return err["param"], err["message"]


def test_anthropic_rules_top_level_fields(up):
    assert ant_refused(up, extra_body={"frequency_penalty": 1}) == \
        "frequency_penalty: Extra inputs are not permitted"
    assert ant_refused(up, max_tokens=0) == "max_tokens: Input should be greater than or equal to 1"
    assert ant_refused(up, messages=[]) == "messages: List should have at least 1 item after validation, not 0"
    assert ant_refused(up, model=7) == "model: Input should be a valid string"
    status, body = _post(up, "/v1/messages", {"model": "claude-x", "messages": MSG})
    assert status == 400 and body["error"]["message"] == "max_tokens: Field required"


def test_anthropic_rules_roles_merge_consecutive_turns(up):
    assert ant_refused(up, messages=[{"role": "system", "content": "be brief"}] + MSG) == (
        'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, '
        'not "system" as an input message role.')
    assert ant_refused(up, messages=MSG + [{"role": "tool", "content": "x"}]) == \
        "messages.1.role: Input should be 'user' or 'assistant'"
    assert ant_refused(up, messages=[{"role": "user", "content": "hi", "name": "bob"}]) == \
        "messages.0.name: Extra inputs are not permitted"
    # the real API combines consecutive same-role turns and accepts a leading assistant turn
    ok = ant(up).messages.create(model="claude-x", max_tokens=10, messages=[
        {"role": "assistant", "content": "hello"}, {"role": "user", "content": "one"},
        {"role": "user", "content": "two"}])
    assert ok.content[0].text == reply_text("two") and up.last.invalid is None


def test_anthropic_rules_content_blocks(up):
    def one(*blocks):
        return ant_refused(up, messages=[{"role": "user", "content": list(blocks)}])

    assert one({"type": "image_url", "image_url": {"url": "https://x/y.png"}}).startswith(
        "messages.0.content.0: Input tag 'image_url' found using 'type' does not match any of the expected tags: "
        "'text', 'image', 'document'")
    assert one({"type": "text"}) == "messages.0.content.0.text.text: Field required"
    assert one({"type": "text", "text": ""}) == "messages: text content blocks must be non-empty"
    assert one({"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "AA=="}}) == (
        "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', "
        "'image/gif' or 'image/webp'")
    assert one({"type": "image", "source": {"type": "url"}}) == \
        "messages.0.content.0.image.source.url.url: Field required"
    assert ant_refused(up, messages=[{"role": "user", "content": ""}, {"role": "assistant", "content": "x"}]) == (
        "messages.0: all messages must have non-empty content except for the optional final assistant message")
    ok = ant(up).messages.create(model="claude-x", max_tokens=10, messages=[{"role": "user", "content": [
        {"type": "text", "text": "see"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]},
        {"role": "assistant", "content": ""}])  # an empty final assistant turn is allowed
    assert ok.content[0].text and up.last.invalid is None


def test_anthropic_rules_tool_results_answer_the_turn_before(up):
    ask = MSG + [TOOL_USE]
    assert ant_refused(up, messages=ask + [{"role": "user", "content": [_result("toolu_9")]}]) == (
        "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9. Each `tool_result` "
        "block must have a corresponding `tool_use` block in the previous message.")
    assert ant_refused(up, messages=ask + [{"role": "user", "content": "and?"}]) == (
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each "
        "`tool_use` block must have a corresponding `tool_result` block in the next message.")
    assert ant_refused(up, messages=ask + [{"role": "user", "content": [{"type": "text", "text": "here"},
                                                                         _result()]}]) == (
        "messages.2: Did not find 1 `tool_result` block(s) at the beginning of this message. Messages following "
        "`tool_use` blocks must begin with a matching number of `tool_result` blocks.")
    assert ant_refused(up, messages=[{"role": "user", "content": [_result()]}]).startswith(
        "messages.0.content.0: unexpected `tool_use_id`")
    # answered (text may follow the results), or the assistant's tool_use is the last turn
    ant(up).messages.create(model="claude-x", max_tokens=10, messages=ask + [
        {"role": "user", "content": [_result(), {"type": "text", "text": "thanks"}]}])
    ant(up).messages.create(model="claude-x", max_tokens=10, messages=ask)
    assert up.last.invalid is None


def test_anthropic_rules_parameters(up):
    assert ant_refused(up, system=[{"type": "image", "text": "x"}]) == "system.0.type: Input should be 'text'"
    assert ant_refused(up, extra_body={"temperature": 1.5}) == "temperature: Input should be less than or equal to 1"
    assert ant_refused(up, extra_body={"top_p": -0.1}) == "top_p: Input should be greater than or equal to 0"
    assert ant_refused(up, stop_sequences=["ok", 3]) == "stop_sequences.1: Input should be a valid string"
    assert ant_refused(up, tools=[{"name": "lookup", "parameters": {"type": "object"}}]) == \
        "tools.0.custom.input_schema: Field required"
    assert ant_refused(up, tools=[{"type": "function", "function": {"name": "lookup"}}]).startswith(
        "tools.0: Input tag 'function' found using 'type' does not match any of the expected tags")
    assert ant_refused(up, tool_choice="auto") == \
        "tool_choice: Input should be a valid dictionary or object to extract fields from"
    assert ant_refused(up, tool_choice={"type": "required"}) == (
        "tool_choice: Input tag 'required' found using 'type' does not match any of the expected tags: "
        "'auto', 'any', 'tool', 'none'")
    assert ant_refused(up, tool_choice={"type": "tool"}) == "tool_choice.tool.name: Field required"
    assert ant_refused(up, metadata={"user_id": "u1", "session": "s"}) == \
        "metadata.session: Extra inputs are not permitted"
    ant(up).messages.create(model="claude-x", max_tokens=10, messages=MSG, system=[{"type": "text", "text": "s"}],
                            stop_sequences=["END"], metadata={"user_id": "u1"}, tool_choice={"type": "any"},
                            tools=[{"name": "lookup", "input_schema": {"type": "object", "properties": {}}}],
                            extra_body={"temperature": 0.5, "top_p": 1})
    assert up.last.invalid is None


def test_openai_rules_top_level_fields(up):
    assert oai_refused(up, extra_body={"top_k": 5}) == (None, "Unrecognized request argument supplied: top_k")
    assert oai_refused(up, messages=[]) == ("messages", "Invalid 'messages': empty array. Expected an array with "
                                                        "minimum length 1, but got an empty array instead.")
    status, body = _post(up, "/v1/chat/completions", {"model": "gpt-4o"})
    assert status == 400 and body["error"] == {"message": "Missing required parameter: 'messages'.",
                                               "type": "invalid_request_error", "param": "messages", "code": None}
    # before any scenario: a sloppy body is refused even where an error scenario was asked for
    assert oai_refused(up, model="gpt-4o-fake-error-500", extra_body={"top_k": 5})[0] is None


def test_openai_rules_roles_and_content(up):
    assert oai_refused(up, messages=[{"role": "model", "content": "x"}]) == (
        "messages[0].role", "Invalid value: 'model'. Supported values are: 'system', 'assistant', 'user', "
                            "'function', 'tool', and 'developer'.")
    assert oai_refused(up, messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]) == (
        "messages[0].content[0].image_url.url", "Missing required parameter: 'messages[0].content[0].image_url.url'.")
    assert oai_refused(up, messages=[{"role": "user", "content": [{"type": "image", "source": {}}]}])[0] == \
        "messages[0].content[0].type"
    assert oai_refused(up, messages=MSG + [{"role": "assistant", "content": None}]) == (
        "messages.[1].content", "Invalid value for 'content': expected a string, got null.")
    assert oai_refused(up, messages=MSG + [{"role": "assistant", "content": [
        {"type": "image_url", "image_url": {"url": "https://x"}}]}]) == (
        "messages[1].content[0].type", "Invalid value: 'image_url'. Supported values are: 'text' and 'refusal'.")
    bad_args = dict(CALLS, tool_calls=[{"id": "call_1", "type": "function",
                                        "function": {"name": "lookup", "arguments": {}}}])
    assert oai_refused(up, messages=MSG + [bad_args]) == (
        "messages[1].tool_calls[0].function.arguments",
        "Invalid type for 'messages[1].tool_calls[0].function.arguments': expected a string, but got an object "
        "instead.")
    oai(up).chat.completions.create(model="gpt-4o", messages=[
        {"role": "developer", "content": "d"}, {"role": "system", "content": [{"type": "text", "text": "s"}]},
        {"role": "user", "content": [{"type": "text", "text": "t"},
                                     {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}}]},
        {"role": "assistant", "content": [{"type": "text", "text": "a"}]}, {"role": "user", "content": "u"}])
    assert up.last.invalid is None


def test_openai_rules_tool_messages_answer_the_calls(up):
    def tool(call_id):
        return {"role": "tool", "tool_call_id": call_id, "content": "42"}

    assert oai_refused(up, messages=MSG + [tool("call_1")]) == (
        "messages.[1].role", "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                             "message with 'tool_calls'.")
    assert oai_refused(up, messages=MSG + [CALLS, tool("call_1"), tool("call_7")]) == (
        "messages.[3].tool_call_id", "Invalid parameter: 'tool_call_id' of 'call_7' not found in 'tool_calls' of "
                                     "previous message.")
    assert oai_refused(up, messages=MSG + [CALLS, tool("call_2"), {"role": "user", "content": "and?"}]) == (
        "messages.[1].role", "An assistant message with 'tool_calls' must be followed by tool messages responding "
                             "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                             "call_1")
    oai(up).chat.completions.create(model="gpt-4o", messages=MSG + [CALLS, tool("call_2"), tool("call_1"),
                                                                    {"role": "user", "content": "thanks"}])
    assert up.last.invalid is None


def test_openai_rules_parameters(up):
    assert oai_refused(up, temperature=2.5) == (
        "temperature", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 "
                       "instead.")
    assert oai_refused(up, top_p=1.5)[0] == "top_p"
    assert oai_refused(up, n=0) == ("n", "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 "
                                         "instead.")
    assert oai_refused(up, stop=["a", "b", "c", "d", "e"]) == (
        "stop", "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with "
                "length 5 instead.")
    assert oai_refused(up, tools=[{"type": "function", "function": {"description": "no name"}}]) == (
        "tools[0].function.name", "Missing required parameter: 'tools[0].function.name'.")
    assert oai_refused(up, tools=[{"name": "lookup", "input_schema": {"type": "object"}}]) == (
        "tools[0].type", "Missing required parameter: 'tools[0].type'.")
    assert oai_refused(up, tool_choice="any") == (
        "tool_choice", "Invalid value: 'any'. Supported values are: 'none', 'auto', and 'required'.")
    assert oai_refused(up, tool_choice={"type": "function", "function": {}}) == (
        "tool_choice.function.name", "Missing required parameter: 'tool_choice.function.name'.")
    assert oai_refused(up, stream_options={"include_usage": True}) == (
        "stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
    oai(up).chat.completions.create(model="gpt-4o", messages=MSG, temperature=2, top_p=0, n=1, stop="END",
                                    tools=[{"type": "function", "function": {"name": "lookup"}}],
                                    tool_choice={"type": "function", "function": {"name": "lookup"}})
    assert up.last.invalid is None


def test_validation_can_be_switched_off():
    with FakeUpstream(event_delay=0.01, name="lenient", validate=False) as up:
        r = ant(up).messages.create(model="claude-x", max_tokens=10,
                                    messages=[{"role": "system", "content": "s"}] + MSG)
        assert r.content[0].text == reply_text("hello fake world")
        oai(up).chat.completions.create(model="gpt-4o", messages=MSG, extra_body={"top_k": 5})
        assert up.last.status == 200 and up.last.invalid is None
