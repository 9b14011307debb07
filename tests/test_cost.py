"""Cost tracking end to end: real SDK clients -> router -> fake upstream, then the ledger rows
read back with sqlite3 and compared with prices computed here, in integer pico-dollars.

Every test makes its own router with ``state_dir=tmp_path``, so it reads only its own rows.
"""

import json
import math
import os
import sqlite3
import time
import urllib.parse
from decimal import ROUND_CEILING, Decimal

import anthropic
import openai
import pytest

from helpers import ANTHROPIC_KEY, MSG, OPENAI_KEY, as_forwarded, assert_anthropic_error, assert_openai_error, raw

from iron_runtime import ConfigurationError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRICING_JSON = os.path.join(ROOT, "java", "src", "main", "resources", "io", "ironruntime", "cost", "pricing.json")
with open(PRICING_JSON) as _f:
    PRICES = json.load(_f)

# The anthropic SDK warns about deprecated model names; these are the ones the price table has.
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")

PROMPT = [{"role": "user", "content": "how much will this request cost"}]
SCENARIO = "x-fake-scenario"
UNPRICED = "my-unpriced-model"


# ----------------------------------------------------------------------------- prices, rows


def picos(dollars_per_token) -> int:
    """A LiteLLM per-token dollar price as integer pico-dollars, rounded up."""
    return int((Decimal(str(dollars_per_token)) * 10**12).to_integral_value(rounding=ROUND_CEILING))


def price_of(entry: dict) -> dict:
    """Per-token prices in picos; a model without cache prices pays the input price for cached tokens."""
    inp = picos(entry["input_cost_per_token"])
    return {
        "input": inp,
        "output": picos(entry["output_cost_per_token"]),
        "cache_read": picos(entry["cache_read_input_token_cost"]) if "cache_read_input_token_cost" in entry else inp,
        "cache_write": (picos(entry["cache_creation_input_token_cost"])
                        if "cache_creation_input_token_cost" in entry else inp),
    }


def tokens_from_usage(api: str, usage: dict) -> dict:
    """The fake's usage object split into billing kinds (the row's token columns)."""
    if api == "chat":
        cached = usage["prompt_tokens_details"]["cached_tokens"]
        return {"input_tokens": usage["prompt_tokens"] - cached, "cache_read_tokens": cached,
                "cache_write_tokens": 0, "output_tokens": usage["completion_tokens"]}
    if api == "responses":
        cached = usage["input_tokens_details"]["cached_tokens"]
        return {"input_tokens": usage["input_tokens"] - cached, "cache_read_tokens": cached,
                "cache_write_tokens": 0, "output_tokens": usage["output_tokens"]}
    if api == "embeddings":
        return {"input_tokens": usage["prompt_tokens"], "cache_read_tokens": 0, "cache_write_tokens": 0,
                "output_tokens": 0}
    assert api == "messages", api
    return {"input_tokens": usage["input_tokens"], "cache_read_tokens": usage["cache_read_input_tokens"],
            "cache_write_tokens": usage["cache_creation_input_tokens"], "output_tokens": usage["output_tokens"]}


def cost_of(price: dict, t: dict) -> int:
    return (t["input_tokens"] * price["input"] + t["cache_read_tokens"] * price["cache_read"]
            + t["cache_write_tokens"] * price["cache_write"] + t["output_tokens"] * price["output"])


def read_rows(router) -> list:
    path = router.database_path
    assert path, "the router has no ledger database"
    if not os.path.exists(path):
        return []
    # Read-only: a read-write connection of Python's own SQLite in the engine's process checkpoints
    # and deletes the engine's WAL when it closes (see test_in_process_reader_does_not_hide_rows).
    conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(path), uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM ledger ORDER BY id")]
    finally:
        conn.close()


def wait_rows(router, n: int = 1, timeout: float = 5.0) -> list:
    """The ledger rows once there are ``n`` of them (settlement is asynchronous to the client), or at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        router.flush(2)
        rows = read_rows(router)
        if len(rows) >= n:
            return rows
        if time.monotonic() > deadline:
            return rows
        time.sleep(0.01)


def the_row(router, **kw) -> dict:
    rows = wait_rows(router, 1, **kw)
    assert len(rows) == 1, "rows=%r metrics=%s" % (rows, json.dumps(router.metrics()))
    return rows[0]


def assert_spent_matches_rows(router) -> None:
    rows = read_rows(router)
    assert router.metrics()["budget_spent_picos"] == sum(r["cost_picos"] for r in rows)


# ----------------------------------------------------------------------------- routers, clients


@pytest.fixture
def cost_router(make_router, oai_up, ant_up, tmp_path):
    """A direct-mode router in front of both fakes with its own ledger database; unpriced models blocked."""
    def make(**kw):
        kw.setdefault("unknown_model", "block")
        return make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
                           openai_base_url=oai_up.origin, anthropic_base_url=ant_up.origin,
                           read_timeout=20, connect_timeout=5, state_dir=tmp_path, **kw)
    return make


# One HTTP client per SDK for the whole module: building a fresh one costs ~0.1 s, per test.
_HTTP: dict = {}


@pytest.fixture(scope="module", autouse=True)
def _shared_http_clients():
    yield
    for client in _HTTP.values():
        client.close()
    _HTTP.clear()


def oai(router) -> openai.OpenAI:
    if "openai" not in _HTTP:
        _HTTP["openai"] = openai.DefaultHttpxClient()
    return openai.OpenAI(base_url=router.base_url, api_key=router.api_key, max_retries=0, timeout=10,
                         http_client=_HTTP["openai"])


def ant(router) -> anthropic.Anthropic:
    if "anthropic" not in _HTTP:
        _HTTP["anthropic"] = anthropic.DefaultHttpxClient()
    return anthropic.Anthropic(base_url=router.base_url[:-3], api_key=router.api_key, max_retries=0, timeout=10,
                               http_client=_HTTP["anthropic"])


def call(router, api: str, model: str, stream: bool, scenario: str = "", **kw):
    """One request through the SDK, consumed whole (streams with short gaps between events, unless
    the scenario sets its own delay: the money, not the pacing, is under test here)."""
    if stream and "delay" not in scenario:
        scenario = ",".join(x for x in (scenario, "delay:0.003") if x)
    headers = {SCENARIO: scenario} if scenario else {}
    if api == "chat":
        r = oai(router).chat.completions.create(model=model, messages=PROMPT, stream=stream,
                                                extra_headers=headers, **kw)
    elif api == "responses":
        r = oai(router).responses.create(model=model, input=PROMPT[0]["content"], stream=stream,
                                         extra_headers=headers, **kw)
    else:
        kw.setdefault("max_tokens", 100)
        r = ant(router).messages.create(model=model, messages=PROMPT, stream=stream, extra_headers=headers, **kw)
    return list(r) if stream else r


# ----------------------------------------------------------------------------- 1. exact cost

OPENAI_CHAT = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-5", "o3-mini", "gpt-5.4"]
ANTHROPIC = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "claude-3-5-haiku", "claude-sonnet-4-6",
             "claude-opus-4-6"]

CASES = []
for _m in OPENAI_CHAT:
    for _sc in ("", "cached:5"):
        CASES.append(("chat", _m, _m, _sc))
for _sc in ("", "cached:5"):
    CASES.append(("responses", "gpt-4.1", "gpt-4.1", _sc))
for _m in ANTHROPIC:
    for _sc in ("", "cached:5", "cachewrite:7", "cached:3,cachewrite:4"):
        CASES.append(("messages", _m, _m, _sc))
# dated snapshots priced as their family; an exact dated entry wins over the family
CASES += [
    ("chat", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", "cached:5"),
    ("messages", "claude-sonnet-4-20250514", "claude-sonnet-4", "cached:3,cachewrite:4"),
    ("chat", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13", "cached:5"),
    # no cache price in the table: cached tokens at the input price
    ("chat", "gpt-4-turbo", "gpt-4-turbo", "cached:5"),
]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("api,model,family,scenario", CASES,
                         ids=["%s-%s-%s" % (c[0], c[1], c[3] or "nocache") for c in CASES])
def test_cost_is_exact(cost_router, oai_up, ant_up, api, model, family, scenario, stream):
    router = cost_router()
    call(router, api, model, stream, scenario)
    up = ant_up if api == "messages" else oai_up
    rec = up.last
    assert rec.usage is not None
    if "cached" in scenario:
        assert tokens_from_usage(api, rec.usage)["cache_read_tokens"] > 0
    if "cachewrite" in scenario:
        assert rec.usage["cache_creation_input_tokens"] > 0
    expected_tokens = tokens_from_usage(api, rec.usage)
    expected = cost_of(price_of(PRICES[family]), expected_tokens)
    assert expected > 0

    row = the_row(router)
    assert row["cost_picos"] == expected, (row, expected_tokens)
    assert {k: row[k] for k in expected_tokens} == expected_tokens
    assert row["usage_estimated"] == 0
    assert row["outcome"] == "completed"
    assert row["status"] == 200
    assert row["cost_known"] == 1
    assert row["model"] == model
    assert row["provider"] == ("anthropic" if api == "messages" else "openai")
    assert row["cost_usd"] == pytest.approx(expected / 1e12, rel=1e-12)
    assert_spent_matches_rows(router)


def test_cost_accumulates_over_requests(cost_router, oai_up, ant_up):
    """Several requests on one router: one row each, spent == sum of the rows == sum of expected costs."""
    router = cost_router()
    expected = 0
    for api, model, stream, sc in [("chat", "gpt-4o", False, "cached:5"), ("chat", "gpt-4o-mini", True, ""),
                                   ("responses", "gpt-4.1", True, "cached:2"),
                                   ("messages", "claude-haiku-4-5", True, "cached:2,cachewrite:3"),
                                   ("messages", "claude-opus-4-1", False, "")]:
        call(router, api, model, stream, sc)
        rec = (ant_up if api == "messages" else oai_up).last
        expected += cost_of(price_of(PRICES[model]), tokens_from_usage(api, rec.usage))
    rows = wait_rows(router, 5)
    assert len(rows) == 5
    assert sum(r["cost_picos"] for r in rows) == expected
    assert router.metrics()["budget_spent_picos"] == expected
    assert len({r["request_id"] for r in rows}) == 5


def test_in_process_reader_does_not_hide_rows(cost_router, oai_up):
    """``database_path`` is documented as readable with Python's sqlite3, and the router runs in the
    same process. A plain (read-write) reader that closes must not make later rows invisible."""
    router = cost_router()
    call(router, "chat", "gpt-4o", False)
    assert len(wait_rows(router, 1)) == 1
    conn = sqlite3.connect(router.database_path)  # what a user does
    assert conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] == 1
    conn.close()
    call(router, "chat", "gpt-4o-mini", False)
    call(router, "chat", "gpt-4.1", False)
    assert router.metrics()["settled_requests"] == 3
    assert router.flush(5) and router.metrics()["ledger_pending"] == 0
    rows = wait_rows(router, 3, timeout=2)
    assert [r["model"] for r in rows] == ["gpt-4o", "gpt-4o-mini", "gpt-4.1"], (
        "rows committed by the engine after an in-process sqlite3 reader closed are invisible "
        "(the reader checkpointed and deleted the engine's -wal file): %r" % rows)


# ----------------------------------------------------------------------------- 2. hidden usage chunk


def sse_data(text: str) -> list:
    return [line[len("data: "):] for line in text.replace("\r\n", "\n").split("\n") if line.startswith("data: ")]


@pytest.mark.parametrize("options", [None, {"include_usage": False}], ids=["no-options", "include-false"])
def test_stream_usage_asked_for_and_hidden(cost_router, oai_up, options):
    router = cost_router(pii="off")  # the stream is compared byte for byte
    body = {"model": "gpt-4o", "messages": PROMPT, "stream": True}
    if options is not None:
        body["stream_options"] = options
    r = raw(router, "POST", "/v1/chat/completions", body, {SCENARIO: "cached:4"})
    assert r.status == 200, r
    rec = oai_up.last
    assert rec.json["stream_options"]["include_usage"] is True
    # the fake did send a usage chunk...
    assert any('"choices":[]' in e and '"usage":{' in e for e in rec.events)
    # ...which the client never sees, and no chunk mentions usage at all
    data = sse_data(r.text)
    assert data[-1] == "[DONE]"
    for d in data[:-1]:
        assert '"usage"' not in d, d
        assert json.loads(d)["choices"], d
    # apart from that, the stream is the fake's, byte for byte
    sent = [d for d in sse_data("".join(as_forwarded(e) for e in rec.events)) if '"usage"' not in d]
    assert data == sent
    row = the_row(router)
    assert row["usage_estimated"] == 0 and row["outcome"] == "completed"
    assert row["cost_picos"] == cost_of(price_of(PRICES["gpt-4o"]), tokens_from_usage("chat", rec.usage))


def test_stream_usage_hidden_from_sdk(cost_router, oai_up):
    router = cost_router()
    chunks = call(router, "chat", "gpt-4o-mini", True)
    assert oai_up.last.json["stream_options"] == {"include_usage": True}
    assert chunks
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    assert all("usage" not in c.model_dump(exclude_unset=True) for c in chunks)
    row = the_row(router)
    assert row["cost_picos"] == cost_of(price_of(PRICES["gpt-4o-mini"]), tokens_from_usage("chat", oai_up.last.usage))


def test_stream_usage_passed_through_when_client_asks(cost_router, oai_up):
    router = cost_router(pii="off")  # the stream is compared byte for byte
    body = {"model": "gpt-4o", "messages": PROMPT, "stream": True, "stream_options": {"include_usage": True}}
    r = raw(router, "POST", "/v1/chat/completions", body, {SCENARIO: "cached:4"})
    assert r.status == 200
    rec = oai_up.last
    assert rec.json["stream_options"] == {"include_usage": True}
    assert sse_data(r.text) == sse_data("".join(rec.events))  # unchanged, usage chunk and usage:null included
    last = json.loads(sse_data(r.text)[-2])
    assert last["choices"] == [] and last["usage"] == rec.usage
    # and through the SDK
    chunks = oai(router).chat.completions.create(model="gpt-4o", messages=PROMPT, stream=True,
                                                 stream_options={"include_usage": True})
    chunks = list(chunks)
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == oai_up.last.usage["prompt_tokens"]
    rows = wait_rows(router, 2)
    assert [r["usage_estimated"] for r in rows] == [0, 0]
    assert rows[0]["cost_picos"] == cost_of(price_of(PRICES["gpt-4o"]), tokens_from_usage("chat", rec.usage))


# ----------------------------------------------------------------------------- 3. streams cut short


@pytest.mark.parametrize("api,model,drop", [("chat", "gpt-4o", 4), ("messages", "claude-sonnet-4-5", 6),
                                            ("responses", "gpt-4.1", 7)])
def test_upstream_drop_is_charged(cost_router, oai_up, ant_up, api, model, drop):
    router = cost_router()
    try:
        call(router, api, model, True, "drop:%d" % drop)
    except (openai.APIError, anthropic.APIError):
        pass  # the stream ends with an error: fine
    up = ant_up if api == "messages" else oai_up
    assert up.last.outcome == "dropped"
    row = the_row(router)
    assert row["outcome"] == "upstream_failed"
    assert row["usage_estimated"] == 1
    assert row["status"] == 200
    assert row["output_tokens"] > 0
    assert row["input_tokens"] + row["cache_read_tokens"] + row["cache_write_tokens"] > 0
    assert row["cost_picos"] > 0
    price = price_of(PRICES[model])
    assert row["cost_picos"] == cost_of(price, row)
    if api == "messages":  # message_start reported the input: that is used, not a count
        assert row["input_tokens"] == up.last.usage["input_tokens"]
    assert_spent_matches_rows(router)


@pytest.mark.parametrize("api,model", [("chat", "gpt-4o"), ("messages", "claude-haiku-4-5")])
def test_client_disconnect_is_charged(cost_router, oai_up, ant_up, api, model):
    router = cost_router()
    up = ant_up if api == "messages" else oai_up
    headers = {SCENARIO: "long:200,delay:0.03"}
    if api == "chat":
        s = oai(router).chat.completions.create(model=model, messages=PROMPT, stream=True, extra_headers=headers)
    else:
        s = ant(router).messages.create(model=model, messages=PROMPT, max_tokens=1000, stream=True,
                                        extra_headers=headers)
    it = iter(s)
    seen = [next(it) for _ in range(6)]
    assert len(seen) == 6
    s.close()
    assert up.wait_stream_closed(5), "the upstream never saw the client go away"
    row = the_row(router)  # settled when the router saw the client go, not when the client returned
    assert row["outcome"] == "client_disconnected", row
    assert row["usage_estimated"] == 1
    assert row["status"] == 200
    # "tick N " deltas: the router counts only what went by before the client left
    sent = up.last.events_sent
    assert sent < 100
    assert 0 < row["output_tokens"] < 200
    assert row["output_tokens"] <= 4 * sent
    assert row["input_tokens"] > 0
    assert row["cost_picos"] == cost_of(price_of(PRICES[model]), row) > 0
    assert_spent_matches_rows(router)


# ----------------------------------------------------------------------------- 4. no usage reported


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("api,model", [("chat", "gpt-4o"), ("responses", "gpt-4.1"), ("messages", "claude-sonnet-4-5")])
def test_no_usage_is_counted(cost_router, oai_up, ant_up, api, model, stream):
    router = cost_router()
    call(router, api, model, stream, "nousage")
    up = ant_up if api == "messages" else oai_up
    assert up.last.usage is None
    row = the_row(router)
    assert row["usage_estimated"] == 1
    assert row["outcome"] == "completed"
    assert row["input_tokens"] > 0
    assert row["output_tokens"] > 0
    assert row["cost_picos"] == cost_of(price_of(PRICES[model]), row) > 0
    assert router.metrics()["estimated_usage_requests"] == 1
    assert_spent_matches_rows(router)


# ----------------------------------------------------------------------------- 5. unknown models, own prices


def test_unknown_model_blocked(cost_router, oai_up, ant_up):
    router = cost_router(unknown_model="block")
    with pytest.raises(openai.BadRequestError) as ei:
        oai(router).chat.completions.create(model=UNPRICED, messages=PROMPT)
    assert ei.value.status_code == 400
    msg = ei.value.body["message"] if isinstance(ei.value.body, dict) else str(ei.value)
    assert UNPRICED in msg and "custom_pricing" in msg
    with pytest.raises(anthropic.BadRequestError) as ei2:
        ant(router).messages.create(model="claude-" + UNPRICED, messages=PROMPT, max_tokens=10)
    assert "claude-" + UNPRICED in str(ei2.value) and "custom_pricing" in str(ei2.value)
    assert oai_up.requests == [] and ant_up.requests == []
    assert router.metrics()["refused_unknown_model"] == 2
    assert wait_rows(router, 1, timeout=0.3) == []


def test_unknown_model_allowed(cost_router, oai_up):
    router = cost_router(unknown_model="allow")
    call(router, "chat", UNPRICED, False, "cached:3")
    row = the_row(router)
    assert row["model"] == UNPRICED
    assert row["cost_known"] == 0 and row["cost_picos"] == 0
    assert {k: row[k] for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")} \
        == tokens_from_usage("chat", oai_up.last.usage)
    assert row["output_tokens"] > 0
    assert router.metrics()["unknown_cost_requests"] == 1
    assert router.metrics()["budget_spent_picos"] == 0


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_custom_pricing_prices_exactly(cost_router, oai_up, stream):
    custom = {UNPRICED: {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}
    router = cost_router(unknown_model="block", custom_pricing=custom)
    call(router, "chat", UNPRICED, stream, "cached:3")
    t = tokens_from_usage("chat", oai_up.last.usage)
    row = the_row(router)
    assert row["cost_known"] == 1
    # no cache price given: cached tokens at the input price
    assert row["cost_picos"] == (t["input_tokens"] + t["cache_read_tokens"]) * 1_000_000 \
        + t["output_tokens"] * 2_000_000
    assert_spent_matches_rows(router)


def test_custom_pricing_anthropic_cache_prices(cost_router, ant_up):
    """Anthropic cache reads and writes: at their own prices when given, else at the input price."""
    custom = {
        "claude-custom-a": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                            "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06},
        "claude-custom-b": {"input_cost_per_token": "0.000003", "output_cost_per_token": "0.000015"},
    }
    router = cost_router(custom_pricing=custom)
    call(router, "messages", "claude-custom-a", True, "cached:3,cachewrite:4")
    ua = tokens_from_usage("messages", ant_up.last.usage)
    call(router, "messages", "claude-custom-b", False, "cached:3,cachewrite:4")
    ub = tokens_from_usage("messages", ant_up.last.usage)
    rows = wait_rows(router, 2)
    assert [r["model"] for r in rows] == ["claude-custom-a", "claude-custom-b"]
    assert rows[0]["cost_picos"] == cost_of(price_of(custom["claude-custom-a"]), ua)
    assert rows[1]["cost_picos"] == cost_of(price_of(custom["claude-custom-b"]), ub)
    assert rows[1]["cost_picos"] == (ub["input_tokens"] + ub["cache_read_tokens"] + ub["cache_write_tokens"]) \
        * 3_000_000 + ub["output_tokens"] * 15_000_000


def test_pricing_file_overrides_bundled_price(cost_router, oai_up, tmp_path):
    table = {"gpt-4o-mini": {"input_cost_per_token": 1.23e-06, "output_cost_per_token": 4.56e-06,
                             "cache_read_input_token_cost": 7e-08, "litellm_provider": "openai", "mode": "chat"},
             "sample_spec": {"max_tokens": "set to max_output_tokens if provider specifies it"}}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(table))
    bundled = cost_router()
    call(bundled, "chat", "gpt-4o-mini", False, "cached:2")
    t1 = tokens_from_usage("chat", oai_up.last.usage)
    r1 = the_row(bundled)
    assert r1["cost_picos"] == cost_of(price_of(PRICES["gpt-4o-mini"]), t1)
    bundled.close()

    router = cost_router(pricing_file=str(path))
    call(router, "chat", "gpt-4o-mini-2024-07-18", False, "cached:2")
    t2 = tokens_from_usage("chat", oai_up.last.usage)
    rows = wait_rows(router, 2)  # same state_dir: the first router's row is there too
    assert len(rows) == 2
    assert rows[1]["cost_picos"] == cost_of(price_of(table["gpt-4o-mini"]), t2)
    assert rows[1]["cost_picos"] != rows[0]["cost_picos"]
    # the rest of the bundled table still applies
    call(router, "chat", "gpt-4o", False)
    rows = wait_rows(router, 3)
    assert rows[2]["cost_picos"] == cost_of(price_of(PRICES["gpt-4o"]), tokens_from_usage("chat", oai_up.last.usage))


# ----------------------------------------------------------------------------- 6. bad input


@pytest.mark.parametrize("path,body,check", [
    ("/v1/chat/completions", {"messages": MSG}, assert_openai_error),
    ("/v1/chat/completions", {"model": "", "messages": MSG}, assert_openai_error),
    ("/v1/chat/completions", {"model": None, "messages": MSG}, assert_openai_error),
    ("/v1/responses", {"input": "hi"}, assert_openai_error),
    ("/v1/messages", {"messages": MSG, "max_tokens": 10}, assert_anthropic_error),
], ids=["chat-missing", "chat-empty", "chat-null", "responses-missing", "messages-missing"])
def test_model_required(cost_router, oai_up, ant_up, path, body, check):
    router = cost_router()
    headers = {"anthropic-version": "2023-06-01"} if path == "/v1/messages" else {}
    r = raw(router, "POST", path, body, headers)
    assert r.status == 400, r
    err = check(r.json())
    if check is assert_openai_error:
        assert err["code"] == "model_required", err
    assert "model" in err["message"]
    assert oai_up.requests == [] and ant_up.requests == []


BAD_BOUNDS = ["100", 0, 1.5, 10**12, -5, True]


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_bad_output_bound_refused(cost_router, oai_up, field):
    router = cost_router()
    for value in BAD_BOUNDS:
        r = raw(router, "POST", "/v1/chat/completions", {"model": "gpt-4o", "messages": MSG, field: value})
        assert r.status == 400, (value, r)
        err = assert_openai_error(r.json())
        assert field in err["message"], (value, err)
        assert err["code"] == "invalid_request_field", (value, err)
    assert oai_up.requests == []
    assert wait_rows(router, 1, timeout=0.2) == []
    # a valid bound goes through, and is charged
    call(router, "chat", "gpt-4o", False, **{field: 5})
    assert oai_up.last.output_bound == 5 and oai_up.last.usage["completion_tokens"] <= 5
    assert the_row(router)["cost_picos"] == cost_of(price_of(PRICES["gpt-4o"]),
                                                    tokens_from_usage("chat", oai_up.last.usage))


def test_bad_max_tokens_anthropic_refused(cost_router, ant_up):
    router = cost_router()
    for value in BAD_BOUNDS:
        r = raw(router, "POST", "/v1/messages", {"model": "claude-sonnet-4-5", "messages": MSG, "max_tokens": value},
                {"anthropic-version": "2023-06-01"}, auth="x-api-key")
        assert r.status == 400, (value, r)
        err = assert_anthropic_error(r.json())
        assert "max_tokens" in err["message"], (value, err)
    assert ant_up.requests == []
    assert wait_rows(router, 1, timeout=0.2) == []


def test_embeddings_charged_for_input_only(cost_router, oai_up):
    router = cost_router()
    res = oai(router).embeddings.create(model="text-embedding-3-small", input=["hello embeddings", "a second one"])
    assert len(res.data) == 2
    usage = oai_up.last.usage
    row = the_row(router)
    assert row["output_tokens"] == 0
    assert row["input_tokens"] == usage["prompt_tokens"] > 0
    assert row["cost_picos"] == usage["prompt_tokens"] * picos(PRICES["text-embedding-3-small"]["input_cost_per_token"])
    assert row["usage_estimated"] == 0 and row["outcome"] == "completed"
    assert "max_completion_tokens" not in oai_up.last.json and "max_tokens" not in oai_up.last.json
    assert_spent_matches_rows(router)


# ----------------------------------------------------------------------------- 7. Python-side argument errors


@pytest.mark.parametrize("kwargs,exc", [
    ({"budget": -1}, ConfigurationError),
    ({"budget": -0.01}, ConfigurationError),
    ({"budget": float("nan")}, ConfigurationError),
    ({"budget": float("inf")}, ConfigurationError),
    ({"budget": "abc"}, TypeError),
    ({"budget": True}, TypeError),
    ({"unknown_model": "maybe"}, ConfigurationError),
    ({"unknown_model": 1}, TypeError),
    ({"budget_alerts": [1.5]}, ConfigurationError),
    ({"budget_alerts": [0]}, ConfigurationError),
    ({"custom_pricing": {"m": {"input_cost_per_token": 1e-6}}}, ConfigurationError),
    ({"custom_pricing": {"m": {"output_cost_per_token": 1e-6}}}, ConfigurationError),
    ({"custom_pricing": {"m": {"input_cost_per_token": -1e-6, "output_cost_per_token": 1e-6}}}, ConfigurationError),
    ({"custom_pricing": {"m": {"input_cost_per_token": float("nan"), "output_cost_per_token": 1e-6}}},
     ConfigurationError),
    ({"pricing_file": "/nonexistent.json"}, ConfigurationError),
], ids=lambda v: repr(v) if isinstance(v, dict) else getattr(v, "__name__", str(v)))
def test_bad_arguments(make_router, tmp_path, kwargs, exc):
    kwargs = dict(kwargs)
    kwargs.setdefault("unknown_model", "allow")
    with pytest.raises(exc):
        make_router(provider_key=OPENAI_KEY, state_dir=tmp_path, start=False, **kwargs)


def test_bad_pricing_file_contents(make_router, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigurationError, match="pricing_file"):
        make_router(provider_key=OPENAI_KEY, state_dir=tmp_path, start=False, pricing_file=str(bad))
    neg = tmp_path / "neg.json"
    neg.write_text(json.dumps({"gpt-4o": {"input_cost_per_token": -1, "output_cost_per_token": 1e-6}}))
    with pytest.raises(ConfigurationError):
        make_router(provider_key=OPENAI_KEY, state_dir=tmp_path, start=False, pricing_file=str(neg))


def test_budget_status_in_dollars(cost_router, oai_up):
    """The float views agree with the exact picos."""
    router = cost_router(budget=5)
    call(router, "chat", "gpt-4o", False, "cached:5")
    row = the_row(router)
    spent, limit = router.budget_status
    assert limit == 5.0
    assert spent == pytest.approx(row["cost_picos"] / 1e12, rel=1e-12)
    assert router.total_spent() == spent
    assert router.metrics()["budget_spent_picos"] == row["cost_picos"]
    assert math.isclose(router.metrics()["budget_spent"], spent)


# ----------------------------------------------------------------------------- 1h cache writes, service tiers


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_anthropic_one_hour_cache_writes_are_priced_apart(cost_router, ant_up, stream):
    router = cost_router()
    call(router, "messages", "claude-sonnet-4-6", stream, "cachewrite:6,cachewrite_hour:4")
    usage = ant_up.last.usage
    assert usage["cache_creation"]["ephemeral_1h_input_tokens"] == 4
    entry = PRICES["claude-sonnet-4-6"]
    write_1h = picos(entry["cache_creation_input_token_cost_above_1hr"])
    assert write_1h == 2 * picos(entry["input_cost_per_token"])
    t = tokens_from_usage("messages", usage)
    p = price_of(entry)
    expected = (t["input_tokens"] * p["input"] + t["cache_read_tokens"] * p["cache_read"]
                + (t["cache_write_tokens"] - 4) * p["cache_write"] + 4 * write_1h + t["output_tokens"] * p["output"])
    row = the_row(router)
    assert row["cost_picos"] == expected
    assert row["cache_write_tokens"] == 6 and row["usage_estimated"] == 0


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("tier", ["priority", "flex"])
def test_openai_service_tier_is_charged_at_its_own_prices(cost_router, oai_up, tier, stream):
    router = cost_router()
    call(router, "chat", "gpt-5", stream, "cached:5", service_tier=tier)
    assert oai_up.last.json["service_tier"] == tier
    entry = PRICES["gpt-5"]
    tiered = {
        "input": picos(entry["input_cost_per_token_" + tier]),
        "output": picos(entry["output_cost_per_token_" + tier]),
        "cache_read": picos(entry["cache_read_input_token_cost_" + tier]),
        "cache_write": picos(entry["input_cost_per_token_" + tier]),
    }
    expected = cost_of(tiered, tokens_from_usage("chat", oai_up.last.usage))
    assert expected != cost_of(price_of(entry), tokens_from_usage("chat", oai_up.last.usage))
    assert the_row(router)["cost_picos"] == expected
