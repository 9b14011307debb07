"""OpenAI <-> Anthropic translation end to end: the real ``openai`` SDK calling Claude models and the real
``anthropic`` SDK calling GPT models through the router, against fake upstreams that speak (and check)
each provider's own wire format. Streaming and not, tools in two-step conversations, errors, aliases,
LangChain's ChatOpenAI, PII redaction and exact cost on translated streams.
"""

import json
import os
import sqlite3
import urllib.parse
from decimal import ROUND_CEILING, Decimal

import anthropic
import openai
import pytest

from fakes.upstream import fake_reply_header, reply_text
from helpers import ANTHROPIC_KEY, MSG, OPENAI_KEY, ant_client, assert_no_secret, oai_client, raw, wait_for

from iron_runtime import ConfigurationError

CLAUDE = "claude-haiku-4-5"
GPT = "gpt-4o-mini"
ECHO = reply_text("hello router")
REPLY = "x-fake-reply"
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
ANT_WEATHER_TOOL = {"name": "get_weather", "description": "Current weather of a city",
                    "input_schema": WEATHER_TOOL["function"]["parameters"]}
ARG_PIECES = ['{"ci', 'ty": "Par', 'is"}']

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "java", "src", "main", "resources", "io", "ironruntime", "cost", "pricing.json")) as _f:
    PRICES = json.load(_f)


@pytest.fixture
def both(make_router, oai_up, ant_up, tmp_path):
    """A direct-mode router with both keys, its own ledger, no retries (errors pass straight on)."""
    def make(**kw):
        kw.setdefault("max_retries", 0)
        return make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
                           openai_base_url=oai_up.origin, anthropic_base_url=ant_up.origin,
                           read_timeout=20, connect_timeout=5, state_dir=tmp_path, **kw)
    return make


def tool_reply(name="get_weather", pieces=ARG_PIECES, text=None):
    return {REPLY: fake_reply_header(chunks=text, tool_name=name, tool_chunks=list(pieces))}


def ledger(router, n=1):
    """The ledger's rows once there are at least ``n`` (a request settles just after its client has the end)."""
    def rows():
        router.flush(5)
        conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(router.database_path), uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM ledger ORDER BY id")]
        finally:
            conn.close()
    return wait_for(lambda: (lambda r: r if len(r) >= n else None)(rows()), what="%d ledger rows" % n) if n else rows()


def picos(dollars_per_token) -> int:
    return int((Decimal(str(dollars_per_token)) * 10**12).to_integral_value(rounding=ROUND_CEILING))


def anthropic_cost(model, usage) -> int:
    """What an Anthropic usage object costs, in pico-dollars, at the bundled prices."""
    p = PRICES[model]
    return (usage["input_tokens"] * picos(p["input_cost_per_token"])
            + usage.get("cache_read_input_tokens", 0) * picos(p["cache_read_input_token_cost"])
            + usage.get("cache_creation_input_tokens", 0) * picos(p["cache_creation_input_token_cost"])
            + usage["output_tokens"] * picos(p["output_cost_per_token"]))


def openai_cost(model, usage) -> int:
    p = PRICES[model]
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    return ((usage["prompt_tokens"] - cached) * picos(p["input_cost_per_token"])
            + cached * picos(p["cache_read_input_token_cost"])
            + usage["completion_tokens"] * picos(p["output_cost_per_token"]))


# ----------------------------------------------------------------------------- openai SDK -> Claude


def test_openai_sdk_calls_claude(both, ant_up, oai_up):
    router = both()
    c = oai_client(router).chat.completions.create(
        model=CLAUDE, max_tokens=50, temperature=0.3, user="user-7",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello router"}])
    assert not oai_up.requests
    rec = ant_up.last
    assert rec.path == "/v1/messages" and rec.invalid is None
    assert rec.headers.get("x-api-key") == ANTHROPIC_KEY and rec.headers.get("authorization") is None
    assert rec.json["system"] == "Be brief." and rec.json["max_tokens"] == 50
    assert rec.json["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello router"}]}]
    assert rec.json["metadata"] == {"user_id": "user-7"} and rec.json["temperature"] == 0.3
    assert c.object == "chat.completion" and c.model == rec.json["model"]
    assert c.id.startswith("msg_"), "the provider's id, kept"
    choice = c.choices[0]
    assert choice.message.content == ECHO and choice.message.role == "assistant"
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    u = rec.usage
    assert c.usage.prompt_tokens == u["input_tokens"] + u.get("cache_read_input_tokens", 0) + u.get(
        "cache_creation_input_tokens", 0)
    assert c.usage.completion_tokens == u["output_tokens"]
    assert c.usage.total_tokens == c.usage.prompt_tokens + c.usage.completion_tokens
    row = ledger(router)[0]
    assert (row["provider"], row["model"]) == ("anthropic", CLAUDE)
    assert row["cost_picos"] == anthropic_cost(CLAUDE, u), "priced from the provider's own usage"
    assert_no_secret(json.dumps(c.model_dump()), ANTHROPIC_KEY, OPENAI_KEY)


def test_openai_sdk_streams_claude_with_usage(both, ant_up):
    router = both()
    chunks = list(oai_client(router).chat.completions.create(
        model=CLAUDE, messages=MSG, stream=True, stream_options={"include_usage": True},
        extra_headers={"x-fake-scenario": "cached:3"}))
    rec = ant_up.last
    assert rec.stream and rec.json["stream"] is True and "stream_options" not in rec.json
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == ECHO
    assert len([ch for ch in chunks if ch.choices and ch.choices[0].delta.content]) >= 3, "deltas, not one blob"
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finish == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    u = rec.usage
    assert last.usage.prompt_tokens_details.cached_tokens == u["cache_read_input_tokens"] == 3
    assert last.usage.completion_tokens == u["output_tokens"]
    assert all(ch.id == chunks[0].id for ch in chunks) and chunks[0].id.startswith("msg_")
    row = ledger(router)[0]
    assert row["cost_picos"] == anthropic_cost(CLAUDE, u) and row["stream"] == 1


def test_openai_stream_without_include_usage_has_no_usage_chunk(both, ant_up):
    router = both()
    chunks = list(oai_client(router).chat.completions.create(model=CLAUDE, messages=MSG, stream=True))
    assert all(ch.choices for ch in chunks) and all(ch.usage is None for ch in chunks)
    assert ledger(router)[0]["cost_picos"] == anthropic_cost(CLAUDE, ant_up.last.usage), "charged all the same"


@pytest.mark.parametrize("stream", [False, True])
def test_openai_sdk_two_step_tool_conversation_with_claude(both, ant_up, stream):
    router = both()
    client = oai_client(router)
    history = [{"role": "user", "content": "What is the weather in Paris?"}]
    kw = dict(model=CLAUDE, tools=[WEATHER_TOOL], tool_choice="auto", parallel_tool_calls=False)
    if stream:
        calls = {}
        finish = None
        for ch in client.chat.completions.create(messages=history, stream=True, extra_headers=tool_reply(), **kw):
            for tc in (ch.choices[0].delta.tool_calls or []) if ch.choices else []:
                entry = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                entry["name"] = (tc.function.name if tc.function else None) or entry["name"]
                entry["arguments"] += (tc.function.arguments or "") if tc.function else ""
            if ch.choices and ch.choices[0].finish_reason:
                finish = ch.choices[0].finish_reason
        assert list(calls) == [0] and finish == "tool_calls"
        call = calls[0]
        call_id, name, arguments = call["id"], call["name"], call["arguments"]
    else:
        c = client.chat.completions.create(messages=history, extra_headers=tool_reply(), **kw)
        assert c.choices[0].finish_reason == "tool_calls"
        tc = c.choices[0].message.tool_calls[0]
        call_id, name, arguments = tc.id, tc.function.name, tc.function.arguments
    first = ant_up.last
    assert first.json["tools"] == [ANT_WEATHER_TOOL]
    assert first.json["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert call_id == first.tool_call_id and name == "get_weather"
    assert json.loads(arguments) == {"city": "Paris"}
    # Step two: the tool's result goes back; Claude answers in text.
    history += [{"role": "assistant", "content": None, "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]},
                {"role": "tool", "tool_call_id": call_id, "content": "18 C and sunny"}]
    answer = client.chat.completions.create(messages=history, **kw)
    second = ant_up.last
    assert second.invalid is None, second.invalid
    assert second.json["messages"][1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": call_id, "name": "get_weather", "input": {"city": "Paris"}}]}
    assert second.json["messages"][2]["content"][0] == {
        "type": "tool_result", "tool_use_id": call_id, "content": "18 C and sunny"}
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.content
    rows = ledger(router, 2)
    assert len(rows) == 2 and all(r["provider"] == "anthropic" for r in rows)


def test_claude_default_max_tokens_is_the_models_output_limit(both, ant_up):
    router = both()
    oai_client(router).chat.completions.create(model=CLAUDE, messages=MSG)
    assert ant_up.last.json["max_tokens"] == PRICES[CLAUDE]["max_output_tokens"] == 64000
    # With a budget, the bound is what the budget pays for (never more than the model's limit).
    small = both(budget=0.01)
    oai_client(small).chat.completions.create(model=CLAUDE, messages=MSG)
    bound = ant_up.last.json["max_tokens"]
    assert 16 <= bound < 64000 and bound * picos(PRICES[CLAUDE]["output_cost_per_token"]) <= 10**10


def test_unknown_fields_are_dropped_and_named(both, ant_up):
    router = both()
    r = raw(router, "POST", "/v1/chat/completions", {"model": CLAUDE, "messages": MSG, "seed": 7,
                                                      "logprobs": True, "frequency_penalty": 0.5})
    assert r.status == 200, r
    assert r.headers["x-iron-translation-dropped"] == "seed, logprobs, frequency_penalty"
    assert not {"seed", "logprobs", "frequency_penalty"} & set(ant_up.last.json)
    assert r.json()["choices"][0]["message"]["content"] == ECHO


def test_untranslatable_request_is_a_clear_400(both, ant_up):
    router = both()
    with pytest.raises(openai.BadRequestError) as ei:
        oai_client(router).chat.completions.create(model=CLAUDE, messages=MSG, n=2)
    assert ei.value.code == "untranslatable_request" and "n=2" in ei.value.message
    assert not ant_up.requests and ledger(router, 0) == []


def test_anthropic_overloaded_is_a_503_with_retry_headers_for_openai_clients(both, ant_up):
    router = both()
    with pytest.raises(openai.InternalServerError) as ei:
        oai_client(router).chat.completions.create(model=CLAUDE, messages=MSG,
                                                  extra_headers={"x-fake-scenario": "error:529,retry:4"})
    e = ei.value
    assert e.status_code == 503
    assert e.response.headers["retry-after"] == "4" and e.response.headers["x-should-retry"] == "true"
    assert e.body["type"] in ("server_error", "service_unavailable_error") and e.body["code"] == "overloaded_error"
    assert ant_up.last.path == "/v1/messages"


def test_anthropic_error_mid_stream_reaches_the_openai_client(both, ant_up):
    router = both()
    stream = oai_client(router).chat.completions.create(model=CLAUDE, messages=MSG, stream=True,
                                                       extra_headers={"x-fake-scenario": "sseerror:6"})
    texts = []
    with pytest.raises(openai.APIError) as ei:
        for ch in stream:
            texts.append(ch.choices[0].delta.content or "" if ch.choices else "")
    assert ei.value.message == "Overloaded" and ei.value.body["code"] == "overloaded_error"
    assert "".join(texts) and ECHO.startswith("".join(texts)), "what came before the error was passed on"


def test_model_alias_routes_and_prices_the_real_model(both, ant_up, oai_up):
    router = both(model_aliases={"fast": CLAUDE, "smart": "gpt-4o"})
    c = oai_client(router).chat.completions.create(model="fast", messages=MSG, max_tokens=20)
    assert ant_up.last.json["model"] == CLAUDE and c.choices[0].message.content == ECHO
    oai_client(router).chat.completions.create(model="smart", messages=MSG)
    assert oai_up.last.json["model"] == "gpt-4o" and oai_up.last.path == "/v1/chat/completions"
    rows = ledger(router, 2)
    assert [r["model"] for r in rows] == [CLAUDE, "gpt-4o"]
    assert rows[0]["cost_picos"] == anthropic_cost(CLAUDE, ant_up.requests[-1].usage)


@pytest.mark.parametrize("aliases, words", [
    ({"fast": "quick", "quick": CLAUDE}, "itself an alias"),
    ({"fast": ""}, "model name"),
    ({"fast": "fast"}, "names itself"),
])
def test_bad_model_aliases_are_refused(both, aliases, words):
    with pytest.raises(ConfigurationError) as ei:
        both(model_aliases=aliases)
    assert words in str(ei.value)


def test_model_aliases_type_is_checked(both):
    with pytest.raises(TypeError):
        both(model_aliases={"fast": 3})


def test_translation_needs_the_target_providers_key(make_router, oai_up, ant_up):
    only_openai = make_router(provider_key={"openai": OPENAI_KEY}, openai_base_url=oai_up.origin,
                              anthropic_base_url=ant_up.origin)
    with pytest.raises(openai.BadRequestError) as ei:
        oai_client(only_openai).chat.completions.create(model=CLAUDE, messages=MSG)
    assert ei.value.code == "provider_not_configured" and "translated" in ei.value.message
    passthrough = make_router(openai_base_url=oai_up.origin, anthropic_base_url=ant_up.origin)
    with pytest.raises(openai.BadRequestError) as ei:
        oai_client(passthrough, api_key=OPENAI_KEY).chat.completions.create(model=CLAUDE, messages=MSG)
    assert ei.value.code == "translation_needs_provider_key"
    assert not ant_up.requests


def test_provider_prefix_means_no_translation(both, ant_up):
    router = both()
    oai_client(router, prefix="/anthropic").chat.completions.create(model=CLAUDE, messages=MSG)
    assert ant_up.last.path == "/v1/chat/completions", "Anthropic's own OpenAI-compatible endpoint, as asked"


# ----------------------------------------------------------------------------- anthropic SDK -> GPT


def test_anthropic_sdk_calls_gpt(both, oai_up, ant_up):
    router = both()
    m = ant_client(router).messages.create(model=GPT, max_tokens=40, system="Be brief.", messages=MSG,
                                           stop_sequences=["END"], metadata={"user_id": "u-1"})
    assert not ant_up.requests
    rec = oai_up.last
    assert rec.path == "/v1/chat/completions" and rec.invalid is None
    assert rec.headers.get("authorization") == "Bearer " + OPENAI_KEY and rec.headers.get("x-api-key") is None
    assert rec.headers.get("anthropic-version") is None, "the other provider's headers stay behind"
    assert rec.json["messages"][0] == {"role": "system", "content": "Be brief."}
    assert rec.json["max_completion_tokens"] == 40 and rec.json["stop"] == ["END"] and rec.json["user"] == "u-1"
    assert m.type == "message" and m.role == "assistant" and m.model == rec.json["model"]
    assert m.id.startswith("chatcmpl-"), "the provider's id, kept"
    assert [b.type for b in m.content] == ["text"] and m.content[0].text == ECHO
    assert m.stop_reason == "end_turn"
    u = rec.usage
    assert m.usage.input_tokens == u["prompt_tokens"] - u["prompt_tokens_details"]["cached_tokens"]
    assert m.usage.output_tokens == u["completion_tokens"]
    row = ledger(router)[0]
    assert (row["provider"], row["model"]) == ("openai", GPT)
    assert row["cost_picos"] == openai_cost(GPT, u)


def test_anthropic_sdk_streams_gpt(both, oai_up):
    router = both()
    with ant_client(router).messages.stream(model=GPT, max_tokens=40, messages=MSG) as s:
        events = [e.type for e in s]
        final = s.get_final_message()
    rec = oai_up.last
    assert rec.json["stream"] is True and rec.json["stream_options"] == {"include_usage": True}
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert "content_block_start" in events and events.count("text") >= 3
    assert final.content[0].text == ECHO and final.stop_reason == "end_turn"
    assert final.usage.output_tokens == rec.usage["completion_tokens"]
    assert ledger(router)[0]["cost_picos"] == openai_cost(GPT, rec.usage)


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_sdk_two_step_tool_conversation_with_gpt(both, oai_up, stream):
    router = both()
    client = ant_client(router)
    history = [{"role": "user", "content": "What is the weather in Paris?"}]
    kw = dict(model=GPT, max_tokens=100, tools=[ANT_WEATHER_TOOL], tool_choice={"type": "any"})
    if stream:
        with client.messages.stream(messages=history, extra_headers=tool_reply(text=["Let me check. "]), **kw) as s:
            partials = [e.partial_json for e in s if e.type == "input_json"]
            msg = s.get_final_message()
        assert "".join(partials) == "".join(ARG_PIECES)
    else:
        msg = client.messages.create(messages=history, extra_headers=tool_reply(text=["Let me check. "]), **kw)
    first = oai_up.last
    assert first.json["tools"] == [WEATHER_TOOL] and first.json["tool_choice"] == "required"
    assert msg.stop_reason == "tool_use"
    assert [b.type for b in msg.content] == ["text", "tool_use"] and msg.content[0].text == "Let me check. "
    use = msg.content[1]
    assert use.id == first.tool_call_id and use.name == "get_weather" and use.input == {"city": "Paris"}
    history += [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in msg.content]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": use.id, "content": "18 C and sunny"},
                    {"type": "text", "text": "Thanks!"}]}]
    answer = client.messages.create(messages=history, model=GPT, max_tokens=100, tools=[ANT_WEATHER_TOOL])
    second = oai_up.last
    assert second.invalid is None, second.invalid
    msgs = second.json["messages"]
    assert msgs[1]["role"] == "assistant" and msgs[1]["tool_calls"][0]["id"] == use.id
    assert json.loads(msgs[1]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert msgs[2] == {"role": "tool", "tool_call_id": use.id, "content": "18 C and sunny"}
    assert msgs[3]["role"] == "user"
    assert answer.content[0].text == reply_text("Thanks!") and answer.stop_reason == "end_turn"


def test_openai_error_reaches_the_anthropic_client_in_its_format(both, oai_up):
    router = both()
    with pytest.raises(anthropic.RateLimitError) as ei:
        ant_client(router).messages.create(model=GPT, max_tokens=10, messages=MSG,
                                           extra_headers={"x-fake-scenario": "error:429,retry:6"})
    e = ei.value
    assert e.status_code == 429 and e.body["type"] == "error"
    assert e.body["error"]["type"] == "rate_limit_error"
    assert e.response.headers["retry-after"] == "6"


def test_gpt_model_on_messages_path_with_prefix_is_not_translated(both, ant_up, oai_up):
    router = both()
    r = raw(router, "POST", "/anthropic/v1/messages", {"model": GPT, "max_tokens": 10, "messages": MSG})
    assert r.status == 200, r
    assert ant_up.last.json["model"] == GPT and not oai_up.requests


# ----------------------------------------------------------------------------- governance on translated streams


def test_pii_is_redacted_in_a_translated_stream(both, ant_up):
    router = both(pii="redact")
    pieces = ["Write to ", "jane.do", "e@exam", "ple.com", " today."]
    chunks = list(oai_client(router).chat.completions.create(
        model=CLAUDE, messages=MSG, stream=True, extra_headers={REPLY: fake_reply_header(chunks=pieces)}))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert "jane.doe@example.com" not in text and "example.com" not in text
    assert text.startswith("Write to ") and text.endswith(" today.") and "EMAIL" in text
    row = ledger(router)[0]
    assert row["pii_detections"] >= 1
    assert row["cost_picos"] == anthropic_cost(CLAUDE, ant_up.last.usage)


def test_pii_is_redacted_in_a_translated_anthropic_stream(both, oai_up):
    router = both(pii="redact")
    pieces = ["Card ", "4111 1111 ", "1111 1111", " noted."]
    with ant_client(router).messages.stream(model=GPT, max_tokens=50, messages=MSG,
                                            extra_headers={REPLY: fake_reply_header(chunks=pieces)}) as s:
        text = "".join(e.text for e in s if e.type == "text")
    assert "4111" not in text and text.startswith("Card ") and text.endswith(" noted.")
    assert ledger(router)[0]["cost_picos"] == openai_cost(GPT, oai_up.last.usage)


def test_budget_refusal_is_in_the_clients_format(both, ant_up):
    router = both(budget=0.000001)
    with pytest.raises(openai.APIStatusError) as ei:
        oai_client(router).chat.completions.create(model=CLAUDE, messages=MSG, max_tokens=4000)
    body = ei.value.response.json()
    assert ei.value.status_code == 402 and "type" not in body, "OpenAI's shape, not Anthropic's"
    assert body["error"]["code"] in ("insufficient_budget", "budget_exceeded") and body["error"]["message"]
    assert not ant_up.requests


def test_failing_claude_opens_its_circuit_for_translated_calls(both, ant_up, oai_up):
    router = both(circuit_breaker={"failure_threshold": 2, "recovery_timeout": 60})
    client = oai_client(router)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model=CLAUDE, messages=MSG, extra_headers={"x-fake-scenario": "error:500"})
    calls = ant_up.count()
    with pytest.raises(openai.APIStatusError) as ei:
        client.chat.completions.create(model=CLAUDE, messages=MSG)
    assert ei.value.status_code == 503 and ei.value.code == "circuit_open" and "type" not in ei.value.response.json()
    assert ant_up.count() == calls, "refused by the router, not sent"
    assert client.chat.completions.create(model=GPT, messages=MSG).choices[0].message.content == ECHO, \
        "OpenAI's circuit is another one"


# ----------------------------------------------------------------------------- LangChain


def test_langchain_chat_openai_with_a_claude_model_binds_tools_and_streams(both, ant_up):
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    @tool
    def get_weather(city: str) -> str:
        """Current weather of a city."""
        return "18 C and sunny in " + city

    router = both()
    llm = ChatOpenAI(model=CLAUDE, base_url=router.base_url, api_key=router.api_key, max_retries=0, timeout=10)
    with_tools = llm.bind_tools([get_weather])
    ai = with_tools.invoke("What is the weather in Paris?",
                           extra_headers=tool_reply())
    assert ai.tool_calls and ai.tool_calls[0]["name"] == "get_weather"
    assert ai.tool_calls[0]["args"] == {"city": "Paris"}
    assert ant_up.last.json["tools"][0]["name"] == "get_weather"
    streamed = "".join(chunk.content for chunk in llm.stream("hello router"))
    assert streamed == ECHO
    assert ant_up.last.stream
    # Tool calls stream too: LangChain assembles the argument pieces.
    gathered = None
    for chunk in with_tools.stream("weather?", extra_headers=tool_reply()):
        gathered = chunk if gathered is None else gathered + chunk
    assert gathered.tool_calls[0]["args"] == {"city": "Paris"}
    assert len(ledger(router, 3)) == 3
