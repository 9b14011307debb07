"""The router as an OpenAI proxy, driven by the real openai SDK (sync and async) and raw HTTP."""

import asyncio
import gzip
import json
import time

import openai
import pytest

from fakes.upstream import reply_text, split_chunks
from helpers import (
    ANTHROPIC_KEY, MSG, OPENAI_KEY, all_header_values, assert_incremental, assert_no_secret,
    oai_async, oai_client, raw, timed_iter,
)

ECHO = reply_text("hello router")
CHAT_BODY = {"model": "gpt-4o", "messages": MSG}


def assert_upstream_auth_openai(rec, router):
    """The upstream saw the real OpenAI key, and nothing of the client's local token."""
    assert rec.headers.get("authorization") == "Bearer " + OPENAI_KEY
    assert len(rec.headers.get_all("authorization")) == 1
    headers = all_header_values(rec)
    assert_no_secret(headers, router.api_key, ANTHROPIC_KEY)


def test_chat_completion_non_stream(router, oai_up):
    r = oai_client(router).chat.completions.with_raw_response.create(model="gpt-4o", messages=MSG)
    c = r.parse()
    assert c.choices[0].message.content == ECHO
    assert c.id.startswith("chatcmpl-") and c.object == "chat.completion"
    rec = oai_up.last
    assert (rec.method, rec.path) == ("POST", "/v1/chat/completions")
    assert rec.json["messages"] == MSG and rec.json["model"] == "gpt-4o"
    assert_upstream_auth_openai(rec, router)
    # usage passes through untouched
    assert c.usage.model_dump(exclude_none=True)["prompt_tokens"] == rec.usage["prompt_tokens"]
    assert c.usage.completion_tokens == rec.usage["completion_tokens"]
    assert c.usage.total_tokens == rec.usage["total_tokens"]
    assert c.usage.prompt_tokens_details.cached_tokens == 0
    # provider headers pass back, and the router adds its own request id
    assert r.headers["x-request-id"] == rec.response_headers["x-request-id"]
    assert r.headers["x-ratelimit-limit-requests"] == "10000"
    assert r.headers["x-ratelimit-remaining-requests"] == "9999"
    assert r.headers["openai-processing-ms"] == "12"
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers.get("x-iron-request-id")
    assert r.status_code == 200


def test_iron_request_id_is_unique_per_response(router, oai_up):
    ids = set()
    for _ in range(3):
        r = oai_client(router).chat.completions.with_raw_response.create(model="gpt-4o", messages=MSG)
        ids.add(r.headers["x-iron-request-id"])
    assert len(ids) == 3


def test_chat_completion_async(router, oai_up):
    async def main():
        async with oai_async(router) as c:
            return await c.chat.completions.create(model="gpt-4o-mini", messages=MSG)

    c = asyncio.run(main())
    assert c.choices[0].message.content == ECHO
    assert oai_up.last.json["model"] == "gpt-4o-mini"


def test_chat_stream_sync_incremental_with_usage(router, oai_up):
    oai_up.event_delay = 0.1
    t0 = time.monotonic()
    stream = oai_client(router).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "one two three four five"}], stream=True,
        stream_options={"include_usage": True})
    chunks, arrivals = timed_iter(stream)
    rec = oai_up.last
    assert time.monotonic() - t0 >= 0.1 * (len(rec.event_times) - 1) - 0.05
    assert_incremental(arrivals, rec)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == rec.reply == reply_text("one two three four five")
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == rec.usage["completion_tokens"] == len(split_chunks(text))
    assert chunks[-1].usage.prompt_tokens == rec.usage["prompt_tokens"]
    assert rec.json["stream_options"] == {"include_usage": True}
    assert oai_up.wait_until(lambda: rec.outcome == "completed", 5)
    assert_upstream_auth_openai(rec, router)


def test_chat_stream_without_include_usage(router, oai_up):
    chunks = list(oai_client(router).chat.completions.create(model="gpt-4o", messages=MSG, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == ECHO
    assert all(c.usage is None for c in chunks)


def test_chat_stream_async_incremental(router, oai_up):
    oai_up.event_delay = 0.1

    async def main():
        async with oai_async(router) as c:
            s = await c.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "async one two three"}], stream=True,
                stream_options={"include_usage": True})
            items, times = [], []
            async for chunk in s:
                items.append(chunk)
                times.append(time.monotonic())
            return items, times

    chunks, arrivals = asyncio.run(main())
    rec = oai_up.last
    assert_incremental(arrivals, rec)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == reply_text("async one two three")
    assert chunks[-1].usage.total_tokens == rec.usage["total_tokens"]


def test_stream_raw_sse_bytes_pass_through(plain_router, oai_up):
    """The SSE body reaches the client event for event (nothing dropped, reordered or rewritten)."""
    r = raw(plain_router, "POST", "/v1/chat/completions",
            {"model": "gpt-4o", "messages": MSG, "stream": True, "stream_options": {"include_usage": True}})
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers.get("x-iron-request-id")
    rec = oai_up.last
    assert r.text.replace("\r\n", "\n") == "".join(rec.events)
    assert r.text.rstrip().endswith("data: [DONE]")


def test_responses_api_non_stream_and_stream(router, oai_up):
    c = oai_client(router)
    resp = c.responses.create(model="gpt-4o", input="responses please")
    assert resp.output_text == reply_text("responses please")
    rec = oai_up.last
    assert rec.path == "/v1/responses"
    assert resp.usage.input_tokens == rec.usage["input_tokens"]
    assert resp.usage.output_tokens == rec.usage["output_tokens"]
    assert resp.usage.total_tokens == rec.usage["total_tokens"]
    assert_upstream_auth_openai(rec, router)

    oai_up.event_delay = 0.05
    events, arrivals = timed_iter(c.responses.create(model="gpt-4o", input="stream responses", stream=True))
    rec = oai_up.last
    assert_incremental(arrivals, rec)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == reply_text("stream responses")
    assert events[-1].response.usage.output_tokens == rec.usage["output_tokens"]
    assert events[-1].response.usage.input_tokens_details.cached_tokens == 0


def test_responses_stream_helper_async(router, oai_up):
    async def main():
        async with oai_async(router) as c:
            async with c.responses.stream(model="gpt-4o", input="helper async") as s:
                deltas = [e.delta async for e in s if e.type == "response.output_text.delta"]
                final = await s.get_final_response()
            return deltas, final

    deltas, final = asyncio.run(main())
    assert "".join(deltas) == final.output_text == reply_text("helper async")
    assert final.usage.output_tokens == oai_up.last.usage["output_tokens"]


def test_embeddings(router, oai_up):
    e = oai_client(router).embeddings.create(model="text-embedding-3-small", input=["abc", "abcdefg"])
    assert [d.embedding[0] for d in e.data] == [3.0, 7.0]
    assert e.usage.prompt_tokens == oai_up.last.usage["prompt_tokens"]
    assert oai_up.last.path == "/v1/embeddings"
    assert_upstream_auth_openai(oai_up.last, router)


def test_models_list_and_retrieve(router, oai_up):
    c = oai_client(router)
    assert "gpt-4o" in [m.id for m in c.models.list()]
    rec = oai_up.last
    assert (rec.method, rec.path) == ("GET", "/v1/models")
    assert_upstream_auth_openai(rec, router)
    assert c.models.retrieve("o3-mini").id == "o3-mini"
    assert oai_up.last.path == "/v1/models/o3-mini"


def test_query_string_and_headers_pass_through(router, oai_up):
    c = oai_client(router)
    c.chat.completions.create(
        model="gpt-4o", messages=MSG, extra_query={"api-version": "2024-10-21", "x": "a b&c"},
        extra_headers={"X-Custom-Trace": "trace-123", "OpenAI-Organization": "org-abc", "OpenAI-Beta": "assistants=v2"})
    rec = oai_up.last
    assert rec.query_params == {"api-version": ["2024-10-21"], "x": ["a b&c"]}
    assert rec.headers.get("x-custom-trace") == "trace-123"
    assert rec.headers.get("openai-organization") == "org-abc"
    assert rec.headers.get("openai-beta") == "assistants=v2"
    assert rec.headers.get("user-agent", "").startswith("OpenAI/Python")


def test_request_body_passes_through_byte_for_byte(router, oai_up):
    body = b'{"model": "gpt-4o",  "messages": [{"role": "user", "content": "caf\\u00e9 \xe2\x98\x95"}], "temperature": 0.25}'
    r = raw(router, "POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    assert r.status == 200, r
    assert oai_up.last.body == body
    assert r.json()["choices"][0]["message"]["content"] == reply_text("café ☕")


def test_response_body_passes_through_byte_for_byte(router, oai_up):
    r = raw(router, "POST", "/v1/chat/completions", {"model": "gpt-4o", "messages": MSG})
    assert r.status == 200
    rec = oai_up.last
    assert r.headers["x-request-id"] == rec.response_headers["x-request-id"]
    assert r.json()["usage"] == rec.usage
    assert r.json()["choices"][0]["message"]["content"] == ECHO


def test_openai_prefix_is_stripped(router, oai_up, ant_up):
    c = oai_client(router, prefix="/openai")
    assert c.chat.completions.create(model="gpt-4o", messages=MSG).choices[0].message.content == ECHO
    assert oai_up.last.path == "/v1/chat/completions"
    assert not ant_up.requests
    # the prefix selects the provider even against the model
    c.chat.completions.create(model="claude-3-5-haiku-latest", messages=MSG)
    assert oai_up.last.json["model"] == "claude-3-5-haiku-latest"
    assert_upstream_auth_openai(oai_up.last, router)
    assert not ant_up.requests


def test_other_v1_paths_go_to_openai(router, oai_up, ant_up):
    r = raw(router, "GET", "/v1/files?purpose=fine-tune&limit=2")
    rec = oai_up.last
    assert (rec.method, rec.path, rec.query) == ("GET", "/v1/files", "purpose=fine-tune&limit=2")
    assert_upstream_auth_openai(rec, router)
    # the fake answers 404 for unknown paths; status and body come back unchanged
    assert r.status == 404
    assert r.json()["error"]["message"] == "Invalid URL (GET /v1/files)"
    assert not ant_up.requests


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-mini", "o1-mini", "o3-mini", "o4-mini", "chatgpt-4o-latest",
                                   "text-embedding-3-small", "some-unknown-model"])
def test_openai_models_stay_on_openai(router, oai_up, ant_up, model):
    oai_client(router).chat.completions.create(model=model, messages=MSG)
    assert oai_up.last.json["model"] == model
    assert not ant_up.requests


@pytest.mark.parametrize("model", ["claude-3-5-haiku-latest", "claude-opus-4-1", "claude-sonnet-4-5"])
def test_claude_model_on_chat_path_goes_to_anthropic(router, oai_up, ant_up, model):
    """Translated to Anthropic Messages (tests/test_translation.py covers the translation itself)."""
    c = oai_client(router).chat.completions.create(model=model, messages=MSG)
    assert c.choices[0].message.content == ECHO
    assert not oai_up.requests
    rec = ant_up.last
    assert (rec.path, rec.json["model"]) == ("/v1/messages", model)
    assert rec.headers.get("x-api-key") == ANTHROPIC_KEY
    assert rec.headers.get("anthropic-version") == "2023-06-01"
    assert_no_secret(all_header_values(rec), OPENAI_KEY, router.api_key)


def test_claude_model_stream_on_chat_path_goes_to_anthropic(router, oai_up, ant_up):
    chunks = list(oai_client(router).chat.completions.create(model="claude-opus-4-1", messages=MSG, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ECHO
    assert ant_up.last.stream and ant_up.last.path == "/v1/messages" and not oai_up.requests


def test_upstream_errors_pass_through(router, oai_up):
    c = oai_client(router)
    with pytest.raises(openai.RateLimitError) as ei:
        c.chat.completions.create(model="gpt-4o", messages=MSG, extra_headers={"x-fake-scenario": "error:429,retry:7"})
    e = ei.value
    assert e.status_code == 429
    assert e.response.headers["retry-after"] == "7"
    assert e.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert e.response.headers.get("x-iron-request-id")
    assert e.body["code"] == "rate_limit_exceeded"
    assert oai_up.last.headers.get("x-fake-scenario") == "error:429,retry:7"

    with pytest.raises(openai.InternalServerError) as ei:
        c.chat.completions.create(model="gpt-4o-fake-error-503", messages=MSG)
    assert ei.value.status_code == 503 and ei.value.body["message"] == "fake upstream error 503 (scenario)"

    with pytest.raises(openai.BadRequestError) as ei:
        c.chat.completions.create(model="gpt-4o-fake-error-400", messages=MSG)
    assert ei.value.body["type"] == "invalid_request_error"
    assert len(oai_up.requests) == 3  # the router does not retry on its own


def test_concurrent_streams_are_independent(router, oai_up):
    async def one(c, i):
        s = await c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "n%d" % i}],
                                            stream=True)
        return "".join([ch.choices[0].delta.content or "" async for ch in s])

    async def main():
        async with oai_async(router) as c:
            return await asyncio.gather(*(one(c, i) for i in range(12)))

    oai_up.event_delay = 0.05
    texts = asyncio.run(main())
    assert texts == [reply_text("n%d" % i) for i in range(12)]
    recs = oai_up.requests
    assert len(recs) == 12 and oai_up.wait_until(lambda: all(r.outcome == "completed" for r in recs), 5)
    # the streams ran side by side through the router, not one after another
    first_end = min(r.ended_at for r in recs)
    assert sum(1 for r in recs if r.started_at < first_end) >= 6


def test_router_asks_upstream_for_plain_bodies(router, oai_up):
    """The router drops the client's Accept-Encoding (it reads usage from the body), so a provider
    that compresses on request answers plain, and the client gets plain JSON."""
    r = oai_client(router).chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MSG, extra_headers={"x-fake-scenario": "gzip"})
    assert r.parse().choices[0].message.content == ECHO
    assert "gzip" not in (oai_up.last.headers.get("accept-encoding") or "")
    assert oai_up.last.response_headers.get("content-encoding") is None


def test_gzip_from_upstream_anyway_reaches_client_intact(router, oai_up):
    c = oai_client(router).chat.completions.create(model="gpt-4o", messages=MSG,
                                                   extra_headers={"x-fake-scenario": "gzipalways"})
    assert c.choices[0].message.content == ECHO
    assert oai_up.last.response_headers.get("content-encoding") == "gzip"
    r = raw(router, "POST", "/v1/chat/completions", CHAT_BODY,
            {"Accept-Encoding": "gzip", "x-fake-scenario": "gzipalways"})
    assert r.status == 200, r
    body = gzip.decompress(r.body) if r.headers.get("content-encoding") == "gzip" else r.body
    assert json.loads(body)["usage"] == oai_up.last.usage


def test_multipart_body_passes_through(router, oai_up):
    """Only JSON bodies are parsed; other uploads (files, audio) pass as sent."""
    boundary = "----ironboundary42"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n{not json\x00\xff}\r\n--%s--\r\n"
            % (boundary, boundary, boundary)).encode("latin-1")
    r = raw(router, "POST", "/v1/files", body, {"Content-Type": "multipart/form-data; boundary=" + boundary})
    assert r.status == 404  # the fake has no /v1/files; what matters is what it received
    rec = oai_up.last
    assert rec.body == body
    assert rec.headers["content-type"] == "multipart/form-data; boundary=" + boundary
    assert_upstream_auth_openai(rec, router)


def test_large_body_under_default_limit(router, oai_up):
    big = "z" * (3 * 1024 * 1024)
    c = oai_client(router).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": big}])
    assert c.choices[0].message.content == reply_text(big)
    assert oai_up.last.json["messages"][0]["content"] == big
