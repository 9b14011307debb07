"""The router as an Anthropic proxy, driven by the real anthropic SDK (sync and async) and raw HTTP."""

import asyncio

import anthropic
import pytest

from fakes.upstream import reply_text
from helpers import (
    ANTHROPIC_KEY, MSG, OPENAI_KEY, all_header_values, ant_async, ant_client, assert_incremental,
    assert_no_secret, raw, timed_iter,
)

ECHO = reply_text("hello router")
MODEL = "claude-opus-4-1"


def assert_upstream_auth_anthropic(rec, router, version=None):
    """The upstream saw the real Anthropic key in x-api-key, and nothing of the client's token."""
    assert rec.headers.get("x-api-key") == ANTHROPIC_KEY
    assert len(rec.headers.get_all("x-api-key")) == 1
    if version is not None:
        assert rec.headers.get("anthropic-version") == version
    assert len(rec.headers.get_all("anthropic-version")) == 1
    assert_no_secret(all_header_values(rec), router.api_key, OPENAI_KEY)


def test_messages_non_stream(router, ant_up, oai_up):
    r = ant_client(router).messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=MSG)
    m = r.parse()
    assert m.content[0].text == ECHO
    assert m.id.startswith("msg_") and m.stop_reason == "end_turn"
    rec = ant_up.last
    assert (rec.method, rec.path) == ("POST", "/v1/messages")
    assert rec.json["messages"] == MSG and rec.json["max_tokens"] == 64
    # the SDK sends its own anthropic-version; the router keeps it
    assert_upstream_auth_anthropic(rec, router, version=r.http_request.headers["anthropic-version"])
    assert m.usage.input_tokens == rec.usage["input_tokens"]
    assert m.usage.output_tokens == rec.usage["output_tokens"]
    assert m.usage.cache_read_input_tokens == 0 and m.usage.cache_creation_input_tokens == 0
    assert r.headers["request-id"] == rec.response_headers["request-id"]
    assert r.headers["anthropic-ratelimit-requests-remaining"] == "3999"
    assert r.headers.get("x-iron-request-id")
    assert not oai_up.requests


def test_messages_cached_usage_passes_through(router, ant_up):
    m = ant_client(router).messages.create(model=MODEL, max_tokens=64, messages=MSG,
                                           extra_headers={"x-fake-scenario": "cached:5"})
    assert m.usage.cache_read_input_tokens == 5 == ant_up.last.usage["cache_read_input_tokens"]


def test_anthropic_version_default_and_x_api_key_client_auth(router, ant_up):
    r = raw(router, "POST", "/v1/messages", {"model": MODEL, "max_tokens": 10, "messages": MSG}, auth="x-api-key")
    assert r.status == 200, r
    assert r.json()["content"][0]["text"] == ECHO
    assert_upstream_auth_anthropic(ant_up.last, router, version="2023-06-01")
    assert ant_up.last.headers.get("authorization") is None
    # a version the client chose is kept
    raw(router, "POST", "/v1/messages", {"model": MODEL, "max_tokens": 10, "messages": MSG},
        {"anthropic-version": "2024-01-01", "anthropic-beta": "prompt-caching-2024-07-31"})
    assert_upstream_auth_anthropic(ant_up.last, router, version="2024-01-01")
    assert ant_up.last.headers.get("anthropic-beta") == "prompt-caching-2024-07-31"


def test_messages_async(router, ant_up):
    async def main():
        async with ant_async(router) as c:
            return await c.messages.create(model=MODEL, max_tokens=10, messages=MSG)

    assert asyncio.run(main()).content[0].text == ECHO
    assert_upstream_auth_anthropic(ant_up.last, router)


def test_messages_stream_sync_incremental(plain_router, ant_up):
    ant_up.event_delay = 0.1
    c = ant_client(plain_router)
    events, arrivals = timed_iter(c.messages.create(
        model=MODEL, max_tokens=64, stream=True, messages=[{"role": "user", "content": "stream one two three"}]))
    rec = ant_up.last
    assert_incremental(arrivals, rec)
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert types.count("content_block_delta") == len(rec.reply.split())
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == rec.reply == reply_text("stream one two three")
    start = events[0].message.usage
    assert start.input_tokens == rec.usage["input_tokens"]
    delta = [e for e in events if e.type == "message_delta"][0]
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == rec.usage["output_tokens"]
    assert "event: ping" in "".join(rec.events)
    assert_upstream_auth_anthropic(rec, plain_router)


def test_messages_stream_helper_and_raw_bytes(plain_router, ant_up):
    with ant_client(plain_router).messages.stream(model=MODEL, max_tokens=64, messages=MSG) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == ECHO == final.content[0].text
    assert final.usage.output_tokens == ant_up.last.usage["output_tokens"]
    r = raw(plain_router, "POST", "/v1/messages", {"model": MODEL, "max_tokens": 8, "messages": MSG, "stream": True})
    assert r.status == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.text.replace("\r\n", "\n") == "".join(ant_up.last.events)


def test_messages_stream_async_incremental(router, ant_up):
    ant_up.event_delay = 0.1

    async def main():
        import time

        async with ant_async(router) as c:
            s = await c.messages.create(model=MODEL, max_tokens=64, stream=True,
                                        messages=[{"role": "user", "content": "async a b c"}])
            items, times = [], []
            async for e in s:
                items.append(e)
                times.append(time.monotonic())
            return items, times

    events, arrivals = asyncio.run(main())
    rec = ant_up.last
    assert_incremental(arrivals, rec)
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == reply_text("async a b c")
    assert [e for e in events if e.type == "message_delta"][0].usage.output_tokens == rec.usage["output_tokens"]


def test_count_tokens(router, ant_up):
    n = ant_client(router).messages.count_tokens(model=MODEL, messages=MSG)
    rec = ant_up.last
    assert rec.path == "/v1/messages/count_tokens"
    assert n.input_tokens == rec.usage["input_tokens"]
    assert_upstream_auth_anthropic(rec, router)


def test_anthropic_prefix_is_stripped(router, ant_up, oai_up):
    m = ant_client(router, prefix="/anthropic").messages.create(model=MODEL, max_tokens=10, messages=MSG)
    assert m.content[0].text == ECHO
    assert ant_up.last.path == "/v1/messages"
    # the prefix wins over an OpenAI model name and over an OpenAI path
    r = raw(router, "POST", "/anthropic/v1/chat/completions", {"model": "gpt-4o", "messages": MSG})
    assert r.status == 200, r
    assert (ant_up.last.path, ant_up.last.json["model"]) == ("/v1/chat/completions", "gpt-4o")
    assert_upstream_auth_anthropic(ant_up.last, router)
    r = raw(router, "GET", "/anthropic/v1/models?limit=5")
    assert r.status == 200 and r.json()["data"][0]["type"] == "model"
    assert (ant_up.last.path, ant_up.last.query) == ("/v1/models", "limit=5")
    assert not oai_up.requests


def test_openai_prefix_on_messages_path_goes_to_openai(router, ant_up, oai_up):
    r = raw(router, "POST", "/openai/v1/messages", {"model": MODEL, "max_tokens": 10, "messages": MSG})
    assert r.status == 200, r
    rec = oai_up.last
    assert rec.path == "/v1/messages"
    assert rec.headers.get("authorization") == "Bearer " + OPENAI_KEY
    assert rec.headers.get("x-api-key") is None
    assert not ant_up.requests


def test_messages_path_with_an_openai_model_goes_to_openai(router, ant_up, oai_up):
    """Translated to Chat Completions (tests/test_translation.py covers the translation itself)."""
    r = raw(router, "POST", "/v1/messages", {"model": "gpt-4o", "max_tokens": 10, "messages": MSG})
    assert r.status == 200, r
    assert r.json()["type"] == "message"
    assert (oai_up.last.path, oai_up.last.json["model"]) == ("/v1/chat/completions", "gpt-4o")
    assert not ant_up.requests


def test_upstream_errors_pass_through(router, ant_up):
    c = ant_client(router)
    with pytest.raises(anthropic.RateLimitError) as ei:
        c.messages.create(model=MODEL + "-fake-ratelimit-retry-9", max_tokens=10, messages=MSG)
    assert ei.value.response.headers["retry-after"] == "9"
    assert ei.value.body["error"]["type"] == "rate_limit_error"
    assert ei.value.response.headers["request-id"] == ant_up.last.response_headers["request-id"]
    with pytest.raises(anthropic.APIStatusError) as ei:
        c.messages.create(model=MODEL + "-fake-error-529", max_tokens=10, messages=MSG)
    assert ei.value.status_code == 529
    assert ei.value.body["error"]["type"] == "overloaded_error"
    assert len(ant_up.requests) == 2


def test_mid_stream_error_event_passes_through(router, ant_up):
    got = []
    with pytest.raises(anthropic.APIStatusError) as ei:
        for e in ant_client(router).messages.create(model=MODEL + "-fake-sseerror-3", max_tokens=10, messages=MSG,
                                                   stream=True):
            got.append(e.type)
    assert got == ["message_start", "content_block_start"]  # the ping is swallowed by the SDK
    assert "overloaded_error" in str(ei.value.body)
