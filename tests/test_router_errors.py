"""Errors the router produces itself: auth, bad input, size limit, unknown paths, upstream
unreachable / too slow / dropping, DNS rebinding, client disconnect. Every one is a
provider-shaped JSON error (never a hang, never a stack trace, never a key)."""

import asyncio
import json
import socket
import time

import anthropic
import openai
import pytest

from fakes.upstream import reply_text
from helpers import (
    ANTHROPIC_KEY, MSG, as_forwarded, OPENAI_KEY, ant_async, ant_client, assert_anthropic_error, assert_no_secret,
    assert_openai_error, free_port, oai_async, oai_client, raw,
)

ECHO = reply_text("hello router")
CLAUDE = "claude-opus-4-1"
CHAT = {"model": "gpt-4o", "messages": MSG}
MESSAGES = {"model": CLAUDE, "max_tokens": 10, "messages": MSG}


def no_stack_trace(text):
    for marker in ("\tat ", "at io.", "at java.", "at org.", "Traceback"):
        assert marker not in text, text[:500]


# ----------------------------------------------------------------------------- health


@pytest.mark.parametrize("path", ["/", "/iron/health"])
def test_health_needs_no_auth(router, path, oai_up, ant_up):
    r = raw(router, "GET", path, auth=None)
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["status"] == "ok"
    assert r.headers.get("x-iron-request-id")
    assert_no_secret(r.body, OPENAI_KEY, ANTHROPIC_KEY, router.api_key)
    assert not oai_up.requests and not ant_up.requests


# ----------------------------------------------------------------------------- auth


def test_401_openai_sdk_wrong_key(router, oai_up):
    c = oai_client(router, api_key="sk-wrong-key")
    with pytest.raises(openai.AuthenticationError) as ei:
        c.chat.completions.create(model="gpt-4o", messages=MSG)
    e = ei.value
    assert e.status_code == 401
    assert_openai_error({"error": e.body})
    assert e.response.headers.get("x-iron-request-id")
    assert_no_secret(e.response.text, OPENAI_KEY, ANTHROPIC_KEY, router.api_key)
    assert_no_secret(str(e), OPENAI_KEY, ANTHROPIC_KEY, router.api_key)
    assert not oai_up.requests


def test_401_openai_stream_and_async(router, oai_up):
    with pytest.raises(openai.AuthenticationError):
        oai_client(router, api_key="nope").chat.completions.create(model="gpt-4o", messages=MSG, stream=True)

    async def main():
        async with oai_async(router, api_key="nope") as c:
            await c.responses.create(model="gpt-4o", input="x")

    with pytest.raises(openai.AuthenticationError):
        asyncio.run(main())
    assert not oai_up.requests


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"x-api-key": ""},
    {"x-api-key": "sk-wrong"},
])
def test_401_raw_missing_or_bad_credentials(router, oai_up, headers):
    r = raw(router, "POST", "/v1/chat/completions", CHAT, headers, auth=None)
    assert r.status == 401, r
    assert_openai_error(r.json())
    assert r.headers.get("x-iron-request-id")
    assert not oai_up.requests


def test_401_token_prefix_or_suffix_is_not_enough(router, oai_up):
    tok = router.api_key
    for bad in (tok[:-1], tok + "x", tok.upper() if tok.upper() != tok else tok.lower() + "Z", " " + tok + "0"):
        r = raw(router, "POST", "/v1/chat/completions", CHAT, {"Authorization": "Bearer " + bad}, auth=None)
        assert r.status == 401, (bad, r)
    assert not oai_up.requests


def test_401_real_provider_key_is_not_a_client_token(router, oai_up):
    r = raw(router, "POST", "/v1/chat/completions", CHAT, {"Authorization": "Bearer " + OPENAI_KEY}, auth=None)
    assert r.status == 401
    assert_no_secret(r.body, OPENAI_KEY)


def test_401_anthropic_shape(router, ant_up):
    with pytest.raises(anthropic.AuthenticationError) as ei:
        ant_client(router, api_key="sk-ant-wrong").messages.create(model=CLAUDE, max_tokens=10, messages=MSG)
    assert_anthropic_error(ei.value.body)
    assert_no_secret(ei.value.response.text, ANTHROPIC_KEY, OPENAI_KEY, router.api_key)
    r = raw(router, "POST", "/v1/messages/count_tokens", {"model": CLAUDE, "messages": MSG}, auth=None)
    assert r.status == 401
    assert_anthropic_error(r.json())
    r = raw(router, "POST", "/anthropic/v1/chat/completions", CHAT, auth=None)
    assert r.status == 401
    assert_anthropic_error(r.json())
    assert not ant_up.requests


def test_401_async_anthropic_stream(router, ant_up):
    async def main():
        async with ant_async(router, api_key="bad") as c:
            await c.messages.create(model=CLAUDE, max_tokens=10, messages=MSG, stream=True)

    with pytest.raises(anthropic.AuthenticationError):
        asyncio.run(main())
    assert not ant_up.requests


def test_both_auth_headers_accepted(router, oai_up, ant_up):
    assert raw(router, "POST", "/v1/chat/completions", CHAT, auth="x-api-key").status == 200
    assert raw(router, "POST", "/v1/chat/completions", CHAT, auth="bearer").status == 200
    assert raw(router, "POST", "/v1/messages", MESSAGES, auth="x-api-key").status == 200
    assert raw(router, "POST", "/v1/messages", MESSAGES, auth="bearer").status == 200
    assert len(oai_up.requests) == 2 and len(ant_up.requests) == 2
    for rec in oai_up.requests + ant_up.requests:
        assert_no_secret("%r" % rec.headers.items(), router.api_key)


# ----------------------------------------------------------------------------- bad input


def test_400_malformed_json_openai(router, oai_up):
    r = raw(router, "POST", "/v1/chat/completions", b'{"model": "gpt-4o", "messages": [', {"Content-Type": "application/json"})
    assert r.status == 400, r
    assert_openai_error(r.json())
    assert r.headers.get("x-iron-request-id")
    no_stack_trace(r.text)
    assert not oai_up.requests


def test_400_malformed_json_anthropic(router, ant_up):
    r = raw(router, "POST", "/v1/messages", b"not json at all", {"Content-Type": "application/json"})
    assert r.status == 400, r
    assert_anthropic_error(r.json())
    no_stack_trace(r.text)
    assert not ant_up.requests


def test_413_body_over_limit(make_router, oai_up, ant_up):
    r = make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, max_request_bytes=2048,
                    openai_base_url=oai_up.origin, anthropic_base_url=ant_up.origin)
    big = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 8000}]}
    resp = raw(r, "POST", "/v1/chat/completions", big)
    assert resp.status == 413, resp
    assert_openai_error(resp.json())
    assert resp.headers.get("x-iron-request-id")
    resp = raw(r, "POST", "/v1/messages", dict(big, model=CLAUDE, max_tokens=5))
    assert resp.status == 413, resp
    assert_anthropic_error(resp.json())
    # chunked upload (no Content-Length) over the limit
    resp = raw(r, "POST", "/v1/chat/completions", big, chunked=True)
    assert resp.status == 413, resp
    assert not oai_up.requests and not ant_up.requests
    # under the limit passes, also when chunked
    small = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 1000}]}
    assert raw(r, "POST", "/v1/chat/completions", small).status == 200
    assert raw(r, "POST", "/v1/chat/completions", small, chunked=True).status == 200
    assert oai_up.last.json == small


def test_413_via_sdk(make_router, oai_up):
    r = make_router(provider_key=OPENAI_KEY, max_request_bytes=4096, openai_base_url=oai_up.origin)
    with pytest.raises(openai.APIStatusError) as ei:
        oai_client(r).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "y" * 50_000}])
    assert ei.value.status_code == 413
    assert not oai_up.requests


def test_chunked_request_body_is_forwarded(router, oai_up):
    r = raw(router, "POST", "/v1/chat/completions", CHAT, chunked=True)
    assert r.status == 200, r
    assert oai_up.last.json == CHAT


@pytest.mark.parametrize("method,path", [
    ("GET", "/foo"),
    ("POST", "/chat/completions"),
    ("GET", "/v2/models"),
    ("POST", "/anthropicX/v1/messages"),
    ("POST", "/openaiX/v1/chat/completions"),
    ("GET", "/iron/nothing"),
    ("GET", "/v1x/models"),
])
def test_404_unknown_path(router, oai_up, ant_up, method, path):
    r = raw(router, method, path, CHAT if method == "POST" else None)
    assert r.status == 404, r
    body = r.json()
    assert "error" in body and isinstance(body["error"], dict) and body["error"].get("message"), body
    assert r.headers.get("x-iron-request-id")
    no_stack_trace(r.text)
    assert not oai_up.requests and not ant_up.requests


# ----------------------------------------------------------------------------- upstream failures


def test_502_upstream_unreachable(make_router):
    dead = "http://127.0.0.1:%d" % free_port()
    r = make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
                    openai_base_url=dead, anthropic_base_url=dead, connect_timeout=2)
    t0 = time.monotonic()
    with pytest.raises(openai.APIStatusError) as ei:
        oai_client(r).chat.completions.create(model="gpt-4o", messages=MSG)
    assert ei.value.status_code == 502
    assert_openai_error({"error": ei.value.body})
    assert_no_secret(ei.value.response.text, OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
    no_stack_trace(ei.value.response.text)
    with pytest.raises(anthropic.APIStatusError) as ei:
        ant_client(r).messages.create(model=CLAUDE, max_tokens=10, messages=MSG, stream=True)
    assert ei.value.status_code == 502
    assert_anthropic_error(ei.value.body)
    assert_no_secret(ei.value.response.text, OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
    assert ei.value.response.headers.get("x-iron-request-id")
    assert time.monotonic() - t0 < 5


def test_502_upstream_closes_without_answer(make_router):
    """An upstream that accepts and hangs up without a response is a 502, not a hang."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    import threading

    stop = threading.Event()

    def loop():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            try:
                c.recv(65536)
            except OSError:
                pass
            c.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        r = make_router(provider_key=OPENAI_KEY, openai_base_url="http://127.0.0.1:%d" % srv.getsockname()[1])
        resp = raw(r, "POST", "/v1/chat/completions", CHAT)
        assert resp.status == 502, resp
        assert_openai_error(resp.json())
    finally:
        stop.set()
        t.join(2)
        srv.close()


def test_504_upstream_too_slow(make_router, oai_up, ant_up):
    r = make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, read_timeout=0.5,
                    openai_base_url=oai_up.origin, anthropic_base_url=ant_up.origin)
    t0 = time.monotonic()
    with pytest.raises(openai.APIStatusError) as ei:
        oai_client(r).chat.completions.create(model="gpt-4o-fake-slow-5", messages=MSG)
    elapsed = time.monotonic() - t0
    assert ei.value.status_code == 504
    assert_openai_error({"error": ei.value.body})
    assert 0.4 <= elapsed < 3, elapsed
    # the router gave up on the upstream request (closed its connection)
    assert oai_up.wait_client_gone(3)

    resp = raw(r, "POST", "/v1/messages", MESSAGES, {"x-fake-scenario": "slow:5"})
    assert resp.status == 504, resp
    assert_anthropic_error(resp.json())
    assert resp.headers.get("x-iron-request-id")


def test_504_stream_before_head(make_router, oai_up):
    r = make_router(provider_key=OPENAI_KEY, read_timeout=0.5, openai_base_url=oai_up.origin)
    with pytest.raises(openai.APIStatusError) as ei:
        oai_client(r).chat.completions.create(model="gpt-4o-fake-slow-5", messages=MSG, stream=True)
    assert ei.value.status_code == 504


def test_upstream_stall_mid_stream_ends_client_stream(make_router, oai_up):
    """Inactivity after the head: the client's stream ends (or errors) soon after read_timeout."""
    r = make_router(provider_key=OPENAI_KEY, read_timeout=0.5, openai_base_url=oai_up.origin)
    t0 = time.monotonic()
    got = []
    try:
        for ch in oai_client(r).chat.completions.create(model="gpt-4o-fake-stall-5", messages=MSG, stream=True):
            got.append(ch)
    except openai.APIError:
        pass
    assert len(got) >= 1  # the first event was delivered before the stall
    assert time.monotonic() - t0 < 3.5


def test_slow_upstream_within_read_timeout_is_fine(make_router, oai_up):
    r = make_router(provider_key=OPENAI_KEY, read_timeout=3, openai_base_url=oai_up.origin)
    c = oai_client(r).chat.completions.create(model="gpt-4o", messages=MSG, extra_headers={"x-fake-scenario": "slow:0.6"})
    assert c.choices[0].message.content == ECHO
    # a stream whose gaps are each below read_timeout but whose total is above it is not cut
    r2 = make_router(provider_key=OPENAI_KEY, read_timeout=0.5, openai_base_url=oai_up.origin)
    text = "".join(ch.choices[0].delta.content or "" for ch in oai_client(r2).chat.completions.create(
        model="gpt-4o", messages=MSG, stream=True, extra_headers={"x-fake-scenario": "delay:0.2,chunks:6"}))
    assert text == ECHO


@pytest.mark.parametrize("mode", ["drop", "reset"])
def test_upstream_drop_mid_stream_openai(router, oai_up, mode):
    t0 = time.monotonic()
    got = []
    try:
        for ch in oai_client(router).chat.completions.create(
                model="gpt-4o", messages=MSG, stream=True, extra_headers={"x-fake-scenario": "%s:3" % mode}):
            got.append(ch)
    except openai.APIError:
        pass  # ending with an error is acceptable; hanging is not
    assert time.monotonic() - t0 < 5
    assert len(got) == 3
    assert oai_up.last.outcome == ("dropped" if mode == "drop" else "reset")
    # the router is still healthy afterwards
    assert oai_client(router).chat.completions.create(model="gpt-4o", messages=MSG).choices[0].message.content == ECHO


def test_upstream_drop_mid_stream_anthropic_async(router, ant_up):
    async def main():
        got = []
        async with ant_async(router) as c:
            try:
                s = await c.messages.create(model=CLAUDE + "-fake-drop-4", max_tokens=10, messages=MSG, stream=True)
                async for e in s:
                    got.append(e.type)
            except anthropic.APIError:
                pass
        return got

    t0 = time.monotonic()
    got = asyncio.run(asyncio.wait_for(main(), 8))
    assert time.monotonic() - t0 < 5
    assert got == ["message_start", "content_block_start", "content_block_delta"]


def test_events_right_before_upstream_truncation_are_delivered(plain_router, oai_up):
    """The upstream writes 4 events and drops the connection at once (no gap): the 4 events were
    received whole, so they reach the client before the stream ends."""
    r = raw(plain_router, "POST", "/v1/chat/completions", dict(CHAT, stream=True), {"x-fake-scenario": "drop:4,delay:0"})
    assert r.status == 200
    sent = [as_forwarded(e) for e in oai_up.last.events]
    assert len(sent) == 4
    missing = [e for e in sent if e not in r.text.replace("\r\n", "\n")]
    assert not missing, "%d of 4 events received before the drop were not forwarded: %r" % (len(missing), r.text[-300:])


def test_close_delimited_upstream_stream(router, oai_up, ant_up):
    """An SSE body without chunked framing ends when the upstream closes: a normal, complete stream."""
    text = "".join(c.choices[0].delta.content or "" for c in oai_client(router).chat.completions.create(
        model="gpt-4o", messages=MSG, stream=True, extra_headers={"x-fake-scenario": "closedelim"}))
    assert text == ECHO
    with ant_client(router).messages.stream(model=CLAUDE, max_tokens=10, messages=MSG,
                                            extra_headers={"x-fake-scenario": "closedelim,delay:0"}) as s:
        assert "".join(s.text_stream) == ECHO
        assert s.get_final_message().usage.output_tokens == ant_up.last.usage["output_tokens"]


def test_upstream_drop_raw_client_sees_end(plain_router, oai_up):
    """At the HTTP level the client's response ends (no hang): truncated or closed. (PII off: the
    events are compared byte for byte.)"""
    s = socket.create_connection(("127.0.0.1", plain_router.port), timeout=5)
    body = b'{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}'
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
              b"Content-Type: application/json\r\nx-fake-scenario: drop:2\r\nContent-Length: %d\r\n\r\n%s"
              % (plain_router.port, plain_router.api_key.encode(), len(body), body))
    data = b""
    t0 = time.monotonic()
    ended = False
    while time.monotonic() - t0 < 5:
        try:
            part = s.recv(65536)
        except (ConnectionError, socket.timeout):
            ended = True
            break
        if not part:  # the router closed the connection
            ended = True
            break
        data += part
        if b"\r\n0\r\n\r\n" in data:  # or it ended the chunked body (and may keep the connection)
            ended = True
            break
    s.close()
    assert ended and time.monotonic() - t0 < 5, "the client's response neither ended nor was closed: %r" % data[-200:]
    assert data.startswith(b"HTTP/1.1 200")
    # the fake's two events, then at most one provider-shaped error event that says the stream broke off
    assert 2 <= data.count(b"data: ") <= 3, data
    if data.count(b"data: ") == 3:
        last = data.rsplit(b"data: ", 1)[1].split(b"\n", 1)[0]
        assert_openai_error(json.loads(last))
    sent = [as_forwarded(e).encode() for e in oai_up.last.events]
    assert len(sent) == 2 and all(e in data for e in sent)


# ----------------------------------------------------------------------------- client disconnect


def test_client_disconnect_cancels_upstream_sync(router, oai_up):
    oai_up.event_delay = 0.05
    s = oai_client(router).chat.completions.create(model="gpt-4o-fake-long-200", messages=MSG, stream=True)
    it = iter(s)
    next(it), next(it), next(it)
    s.close()
    assert oai_up.wait_stream_closed(5), "the upstream never saw the client go away"
    rec = oai_up.streams[-1]
    assert rec.outcome == "client_gone"
    assert rec.events_sent < 150


def test_client_disconnect_cancels_upstream_async_anthropic(router, ant_up):
    ant_up.event_delay = 0.05

    async def main():
        c = ant_async(router)
        s = await c.messages.create(model=CLAUDE + "-fake-long-200", max_tokens=1000, messages=MSG, stream=True)
        n = 0
        async for _ in s:
            n += 1
            if n == 4:
                break
        await s.close()
        await c.close()

    asyncio.run(main())
    assert ant_up.wait_stream_closed(5), "the upstream never saw the client go away"
    assert ant_up.streams[-1].events_sent < 150


def test_client_disconnect_raw_socket(router, oai_up):
    oai_up.event_delay = 0.05
    s = socket.create_connection(("127.0.0.1", router.port), timeout=5)
    body = b'{"model":"gpt-4o-fake-long-200","messages":[{"role":"user","content":"hi"}],"stream":true}'
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              % (router.port, router.api_key.encode(), len(body), body))
    got = b""
    while got.count(b"data: ") < 2:
        got += s.recv(65536)
    s.close()
    assert oai_up.wait_stream_closed(5)
    # and the router keeps serving
    assert oai_client(router).chat.completions.create(model="gpt-4o", messages=MSG).choices[0].message.content == ECHO


def test_client_gone_while_waiting_for_head(router, oai_up):
    """A client that gives up before the upstream answered also cancels the upstream request."""
    c = oai_client(router, timeout=0.5)
    with pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model="gpt-4o-fake-slow-5", messages=MSG)
    assert oai_up.wait_client_gone(5)


# ----------------------------------------------------------------------------- DNS rebinding


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:%(port)d", "127.0.0.1.evil.com:%(port)d",
                                  "attacker.test:80"])
def test_foreign_host_header_refused(router, oai_up, host):
    h = host % {"port": router.port} if "%" in host else host
    r = raw(router, "POST", "/v1/chat/completions", CHAT, host=h)
    assert r.status in (403, 421), r
    assert_openai_error(r.json())
    assert not oai_up.requests
    r = raw(router, "POST", "/v1/messages", MESSAGES, host=h)
    assert r.status in (403, 421), r
    assert_anthropic_error(r.json())


def test_foreign_host_refused_even_for_health(router):
    r = raw(router, "GET", "/iron/health", host="evil.example.com", auth=None)
    assert r.status in (403, 421), r


def test_loopback_host_header_accepted(router, oai_up):
    assert raw(router, "POST", "/v1/chat/completions", CHAT, host="127.0.0.1:%d" % router.port).status == 200


def test_localhost_host_header_accepted(router, oai_up):
    """Clients configured with http://localhost:PORT/v1 send Host: localhost:PORT."""
    assert raw(router, "POST", "/v1/chat/completions", CHAT, host="localhost:%d" % router.port).status == 200


# ----------------------------------------------------------------------------- never a key


def test_errors_never_show_keys(make_router, oai_up):
    r = make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=oai_up.origin,
                    anthropic_base_url="http://127.0.0.1:%d" % free_port())
    bodies = [
        raw(r, "POST", "/v1/chat/completions", CHAT, auth=None).text,
        raw(r, "POST", "/v1/chat/completions", b"{", {"Content-Type": "application/json"}).text,
        raw(r, "POST", "/v1/messages", MESSAGES).text,  # 502
        raw(r, "GET", "/nope").text,
        raw(r, "POST", "/v1/chat/completions", CHAT, host="evil.example.com").text,
    ]
    for b in bodies:
        assert_no_secret(b, OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
    assert_no_secret(repr(r), OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
    assert_no_secret(str(r), OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
