"""PII and secret detection and redaction (issue 4), end to end.

Agents talk to a router through the real ``openai`` and ``anthropic`` SDKs; the router talks to
``fakes/upstream.py``. What the agent sends is checked where it arrives (the fake's record of
the request); what the model answers is chosen exactly with the fake's ``x-fake-reply`` header
(text deltas and tool-call argument pieces), so every split of a value between two stream
events can be driven through the SDKs. Audit rows are read from the router's database
read-only, and the database files are searched byte by byte for the values.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple

import anthropic
import openai
import pytest

from fakes.upstream import FakeUpstream, fake_reply_header
from helpers import ANTHROPIC_KEY, OPENAI_KEY, ant_async, ant_client, oai_async, oai_client
from iron_runtime import ConfigurationError

OAI_MODEL = "gpt-4o"
ANT_MODEL = "claude-haiku-4-5"
HELLO = [{"role": "user", "content": "hello"}]

# ---------------------------------------------------------------------------------------------
# Values. Each is detected by the engine as the type named next to it (checked one by one in
# test_each_value_alone_is_found_as_its_type, so a failure elsewhere is not a detection gap).

EMAIL = "jane.doe@example.com"
EMAIL2 = "ops-team@corp.example.org"
PHONE = "+1 415 555 2671"
CARD = "4111 1111 1111 1111"
CARD_DIGITS = "4111111111111111"
SSN = "123-45-6789"
IBAN = "GB82 WEST 1234 5698 7654 32"
OAI_SECRET = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
ANT_SECRET = "sk-ant-api03-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7"
AWS_KEY = "AKIA2E0A8F3B244C9986"
GH_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SLACK_TOKEN = "xoxb-2048-3172-Zx9Yw8Vu7Ts6"
IP = "172.217.16.142"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
PEM = ("-----BEGIN RSA PRIVATE KEY-----\n"
       "MIIEowIBAAKCAQEA7bq9Xk2mZ8yQp1wLrT5vN3cH6dJ0fGsU4\n"
       "q8Zr2Lm5Tn7Vb1Xc3Yd9Wf0Ge4Hh6Ji8Kk+/Q==\n"
       "-----END RSA PRIVATE KEY-----")
EMP = "EMP-123456"
EMP_PATTERN = {"name": "EMPLOYEE_ID", "regex": r"EMP-\d{6}", "validator": None}

ALL_VALUES = {
    "EMAIL": EMAIL, "PHONE": PHONE, "CREDIT_CARD": CARD, "US_SSN": SSN, "IBAN": IBAN, "IP_ADDRESS": IP,
    "OPENAI_KEY": OAI_SECRET, "ANTHROPIC_KEY": ANT_SECRET, "AWS_ACCESS_KEY": AWS_KEY, "GITHUB_TOKEN": GH_TOKEN,
    "SLACK_TOKEN": SLACK_TOKEN, "JWT": JWT, "PRIVATE_KEY": PEM,
}

# The reply text of the split-everywhere tests: every kind of value a stream must hold back
# (a word, grouped digits, grouped capitals, a dotted token, a multi-line block, a custom pattern).
SEGMENTS: List[Tuple[str, Optional[str]]] = [
    ("Sure! Mail ", None), (EMAIL, "EMAIL"), (" or call ", None), (PHONE, "PHONE"),
    (". Card ", None), (CARD, "CREDIT_CARD"), (", SSN ", None), (SSN, "US_SSN"),
    (", IBAN ", None), (IBAN, "IBAN"), (", key ", None), (OAI_SECRET, "OPENAI_KEY"),
    (", token ", None), (JWT, "JWT"), (" and the key:\n", None), (PEM, "PRIVATE_KEY"),
    ("\nEmployee ", None), (EMP, "EMPLOYEE_ID"), (" done.", None),
]


def compose(segments: Sequence[Tuple[str, Optional[str]]]) -> Tuple[str, str, List[Tuple[str, int, int, str]]]:
    """(text, text with each value redacted, [(type, start, end, value)]) of the segments."""
    text, expected, spans = "", "", []
    for piece, kind in segments:
        if kind is not None:
            spans.append((kind, len(text), len(text) + len(piece), piece))
            expected += "[%s_REDACTED]" % kind
        else:
            expected += piece
        text += piece
    return text, expected, spans


TEXT, TEXT_REDACTED, TEXT_SPANS = compose(SEGMENTS)
TEXT_VALUES = [v for _, _, _, v in TEXT_SPANS]

# Tool-call arguments as a model writes them: the values inside strings (escapes included: the
# newlines of the key block, a \u0040 in an address) and a card written as a bare JSON number.
TOOL_ARGS = ('{"note": %s, "card": %s, "contact": {"mail": "jane.doe\\u0040example.com", "n": 3},'
             ' "tags": ["ok", %s]}') % (json.dumps(TEXT), CARD_DIGITS, json.dumps(SSN))
TOOL_ARGS_REDACTED = {"note": TEXT_REDACTED, "card": "[CREDIT_CARD_REDACTED]",
                      "contact": {"mail": "[EMAIL_REDACTED]", "n": 3}, "tags": ["ok", "[US_SSN_REDACTED]"]}
TOOL_VALUES = TEXT_VALUES + [CARD_DIGITS, "jane.doe\\u0040example.com"]

OAI_TOOLS = [{"type": "function", "function": {
    "name": "lookup", "description": "Looks a customer up; escalations go to " + EMAIL2,
    "parameters": {"type": "object", "properties": {"note": {"type": "string"}}}}}]
RESP_TOOLS = [{"type": "function", "name": "lookup", "description": "Looks a customer up; escalations go to " + EMAIL2,
               "parameters": {"type": "object", "properties": {"note": {"type": "string"}}}, "strict": False}]
ANT_TOOLS = [{"name": "lookup", "description": "Looks a customer up; escalations go to " + EMAIL2,
              "input_schema": {"type": "object", "properties": {"note": {"type": "string"}}}}]

# Base64 "image" data that holds a card number and an address: scanned as text they would be
# found (test_request_chat_fields checks that on a text part), so an untouched copy proves that
# images are not scanned.
IMG_B64 = "iVBORw0KGgoAAAANSUhEUgAA/" + CARD_DIGITS + "/" + "QmFzZTY0+" + EMAIL.replace("@", "+") + "=="
IMG_B64_AS_TEXT = "see /" + CARD_DIGITS + "/ here"


def reply(chunks: Optional[Sequence[str]] = None, tool: Optional[Sequence[str]] = None,
          tool_name: str = "lookup", logprobs: bool = False) -> Dict[str, str]:
    """SDK ``extra_headers`` that make the fake answer with exactly these deltas / argument pieces."""
    return {"x-fake-reply": fake_reply_header(None if chunks is None else list(chunks), tool_name,
                                              None if tool is None else list(tool), logprobs)}


def two_way(text: str, k: int) -> List[str]:
    return [text[:k], text[k:]]


def pieces_of(text: str, n: int) -> List[str]:
    """``text`` in pieces of ``n`` characters (values cut everywhere)."""
    return [text[i:i + n] for i in range(0, len(text), n)]


def assert_nothing_leaked(seen: str, values: Sequence[str], allowed: str = "") -> None:
    """No value, nor any 6-character window of one (unless that window is in ``allowed``, the text
    the client may see), nor a value's last 8 characters, is in ``seen``."""
    for v in values:
        assert v not in seen, "a value leaked whole: %r" % v
        assert v[-8:] not in seen, "the last 8 characters of %r leaked" % v
        for i in range(len(v) - 5):
            w = v[i:i + 6]
            if w not in allowed:
                assert w not in seen, "the fragment %r of %r leaked into %r" % (w, v, seen[:300])


def count_where(rows, **kw) -> int:
    return sum(1 for r in rows if all(r[k] == v for k, v in kw.items()))


def audit_rows(router) -> List[sqlite3.Row]:
    """Every pii_audit row, read with a read-only connection once everything is written."""
    assert router.flush(10)
    with contextlib.closing(sqlite3.connect("file:%s?mode=ro" % router.database_path, uri=True)) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM pii_audit ORDER BY id").fetchall()


def database_bytes(router) -> bytes:
    path = router.database_path
    out = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as f:
                out += f.read()
    return out


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def settled(router, n: int, timeout: float = 5.0) -> Dict[str, Any]:
    """The router's metrics once ``n`` requests have settled (a stream settles a moment after the client's read)."""
    assert wait_for(lambda: router.metrics()["settled_requests"] >= n, timeout), router.metrics()
    return router.metrics()


# ---------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture
def ups(oai_up, ant_up):
    """The two fakes with no delay between stream events."""
    return oai_up.fresh(0), ant_up.fresh(0)


@pytest.fixture
def new_router(make_router, ups, tmp_path):
    """Routers in front of the fakes, each with its own database under tmp_path."""
    oai_up, ant_up = ups
    n = itertools.count()

    def make(**kw):
        kw.setdefault("provider_key", {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY})
        kw.setdefault("openai_base_url", oai_up.origin)
        kw.setdefault("anthropic_base_url", ant_up.origin)
        kw.setdefault("read_timeout", 20)
        kw.setdefault("connect_timeout", 5)
        kw.setdefault("state_dir", str(tmp_path / ("state%d" % next(n))))
        return make_router(**kw)

    return make


@pytest.fixture(scope="module")
def split_router(_oai_up_module, _ant_up_module):
    """One redacting router (with the EMPLOYEE_ID pattern) for the many split requests of a module."""
    from iron_runtime import LlmRouter

    r = LlmRouter(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
                  openai_base_url=_oai_up_module.origin, anthropic_base_url=_ant_up_module.origin,
                  read_timeout=20, connect_timeout=5, unknown_model="allow", persist=False,
                  pii_patterns=[EMP_PATTERN])
    try:
        yield r
    finally:
        r.stop()


# ---------------------------------------------------------------------------------------------
# the fake's exact replies, straight to the SDKs (no router): if these fail, nothing below means anything


def test_fake_exact_reply_parses_in_every_sdk_stream_and_not():
    args = ['{"a":', ' "x\\ny"', ', "n": 42}']
    h = reply(["Hel", "lo ", "world"], args)
    with FakeUpstream(0, name="direct-pii") as up:
        o = openai.OpenAI(base_url=up.base_url, api_key="sk-direct", max_retries=0, timeout=10)
        a = anthropic.Anthropic(base_url=up.origin, api_key="sk-ant-direct", max_retries=0, timeout=10)

        c = o.chat.completions.create(model=OAI_MODEL, messages=HELLO, tools=OAI_TOOLS, extra_headers=h)
        m = c.choices[0].message
        assert m.content == "Hello world" and c.choices[0].finish_reason == "tool_calls"
        assert m.tool_calls[0].function.name == "lookup" and m.tool_calls[0].id == up.last.tool_call_id
        assert json.loads(m.tool_calls[0].function.arguments) == {"a": "x\ny", "n": 42}
        assert c.usage.completion_tokens == 6
        rec = up.last
        assert (rec.reply, rec.reply_chunks, rec.tool_name, rec.tool_chunks, rec.tool_arguments) == (
            "Hello world", ["Hel", "lo ", "world"], "lookup", args, "".join(args))

        with o.chat.completions.stream(model=OAI_MODEL, messages=HELLO, tools=OAI_TOOLS, extra_headers=h) as s:
            chunks = [e.chunk for e in s if e.type == "chunk"]
            final = s.get_final_completion()
        assert [ch.choices[0].delta.content for ch in chunks if ch.choices and ch.choices[0].delta.content] == [
            "Hel", "lo ", "world"]
        pieces = [tc.function.arguments for ch in chunks if ch.choices for tc in ch.choices[0].delta.tool_calls or []]
        assert pieces == [""] + args
        assert final.choices[0].message.content == "Hello world"
        assert final.choices[0].message.tool_calls[0].function.arguments == "".join(args)
        assert final.choices[0].finish_reason == "tool_calls"

        r = o.responses.create(model=OAI_MODEL, input="hi", tools=RESP_TOOLS, extra_headers=h)
        assert r.output_text == "Hello world" and [i.type for i in r.output] == ["message", "function_call"]
        assert r.output[1].arguments == "".join(args) and r.output[1].name == "lookup"
        assert r.usage.output_tokens == 6
        with o.responses.stream(model=OAI_MODEL, input="hi", tools=RESP_TOOLS, extra_headers=h) as s:
            events = list(s)
            final_r = s.get_final_response()
        assert [e.delta for e in events if e.type == "response.function_call_arguments.delta"] == args
        assert [e.arguments for e in events if e.type == "response.function_call_arguments.done"] == ["".join(args)]
        assert final_r.output_text == "Hello world" and final_r.output[1].arguments == "".join(args)
        assert [e.sequence_number for e in events] == list(range(len(events)))

        msg = a.messages.create(model=ANT_MODEL, max_tokens=100, messages=HELLO, tools=ANT_TOOLS, extra_headers=h)
        assert [b.type for b in msg.content] == ["text", "tool_use"] and msg.stop_reason == "tool_use"
        assert msg.content[0].text == "Hello world" and msg.content[1].input == {"a": "x\ny", "n": 42}
        assert msg.usage.output_tokens == 6
        with a.messages.stream(model=ANT_MODEL, max_tokens=100, messages=HELLO, tools=ANT_TOOLS,
                               extra_headers=h) as s:
            events = list(s)
            final_m = s.get_final_message()
        assert [e.delta.partial_json for e in events
                if e.type == "content_block_delta" and e.delta.type == "input_json_delta"] == args
        assert final_m.content[0].text == "Hello world" and final_m.content[1].input == {"a": "x\ny", "n": 42}
        assert final_m.content[1].id == up.last.tool_call_id and final_m.usage.output_tokens == 6


def test_fake_exact_reply_tool_only_text_only_and_bad_header():
    with FakeUpstream(0, name="direct-pii") as up:
        o = openai.OpenAI(base_url=up.base_url, api_key="sk-direct", max_retries=0, timeout=10)
        a = anthropic.Anthropic(base_url=up.origin, api_key="sk-ant-direct", max_retries=0, timeout=10)
        only_tool = reply(tool=['{"q": ', '1}'])
        c = o.chat.completions.create(model=OAI_MODEL, messages=HELLO, extra_headers=only_tool)
        assert c.choices[0].message.content is None
        assert c.choices[0].message.tool_calls[0].function.arguments == '{"q": 1}'
        m = a.messages.create(model=ANT_MODEL, max_tokens=10, messages=HELLO, extra_headers=only_tool)
        assert [b.type for b in m.content] == ["tool_use"] and m.content[0].input == {"q": 1}
        with o.responses.stream(model=OAI_MODEL, input="hi", extra_headers=only_tool) as s:
            list(s)
            assert [i.type for i in s.get_final_response().output] == ["function_call"]
        only_text = reply(["a", "b", "c", "d"])
        stream = o.chat.completions.create(model=OAI_MODEL, messages=HELLO, stream=True, extra_headers=only_text,
                                           max_tokens=2)  # an exact reply is never cut by a bound
        assert "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices) == "abcd"
        assert up.last.output_bound == 2 and up.last.tool_chunks is None
        with pytest.raises(openai.BadRequestError):
            o.chat.completions.create(model=OAI_MODEL, messages=HELLO, extra_headers={"x-fake-reply": "%%%"})
        # {} is the usual echo
        c = o.chat.completions.create(model=OAI_MODEL, messages=HELLO, extra_headers={"x-fake-reply": "e30"})
        assert c.choices[0].message.content == "echo: hello"
        # log probabilities, one per delta
        with_lp = reply(["a ", "b"], logprobs=True)
        c = o.chat.completions.create(model=OAI_MODEL, messages=HELLO, extra_headers=with_lp)
        assert [t.token for t in c.choices[0].logprobs.content] == ["a ", "b"]
        stream = o.chat.completions.create(model=OAI_MODEL, messages=HELLO, stream=True, extra_headers=with_lp)
        assert [t.token for ch in stream if ch.choices and ch.choices[0].logprobs
                for t in ch.choices[0].logprobs.content] == ["a ", "b"]
        r = o.responses.create(model=OAI_MODEL, input="hi", extra_headers=with_lp)
        assert [t.token for t in r.output[0].content[0].logprobs] == ["a ", "b"]


# ---------------------------------------------------------------------------------------------
# detection of each value, and request-side redaction in every text field


def test_each_value_alone_is_found_as_its_type(new_router, ups):
    """Every value this file relies on is found, alone, as its type, in a chat message."""
    oai_up, _ = ups
    router = new_router(pii_patterns=[EMP_PATTERN])
    client = oai_client(router)
    for kind, value in list(ALL_VALUES.items()) + [("EMPLOYEE_ID", EMP)]:
        client.chat.completions.create(model=OAI_MODEL, messages=[{"role": "user", "content": "here: %s ." % value}])
        assert oai_up.last.json["messages"][0]["content"] == "here: [%s_REDACTED] ." % kind, kind
    m = settled(router, len(ALL_VALUES) + 1)
    assert m["pii_detections_by_type"] == dict.fromkeys(list(ALL_VALUES) + ["EMPLOYEE_ID"], 1)
    assert m["pii_action"] == "redacted"


ESCAPED_ARGS = '{"note":"Call me\\n+1 415 555 2671","mail":"jane.doe\\u0040example.com","card":4111111111111111}'
ESCAPED_ARGS_REDACTED = ('{"note":"Call me\\n[PHONE_REDACTED]","mail":"[EMAIL_REDACTED]",'
                         '"card":"[CREDIT_CARD_REDACTED]"}')


def test_request_chat_fields(new_router, ups):
    oai_up, _ = ups
    router = new_router()
    messages = [
        {"role": "system", "content": "Operator line %s." % PHONE},
        {"role": "user", "content": [
            {"type": "text", "text": "My mail is %s." % EMAIL},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + IMG_B64}},
            {"type": "text", "text": IMG_B64_AS_TEXT},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_PII_1", "type": "function", "function": {"name": "lookup", "arguments": ESCAPED_ARGS}}]},
        {"role": "tool", "tool_call_id": "call_PII_1", "content": "card on file: %s" % CARD},
        {"role": "user", "content": "and my SSN is %s, thanks" % SSN},
    ]
    c = oai_client(router).chat.completions.create(model=OAI_MODEL, messages=messages, tools=OAI_TOOLS, user="u-1")
    assert c.choices[0].message.content == "echo: and my SSN is [US_SSN_REDACTED], thanks"  # a normal answer
    rec = oai_up.last
    got = rec.json
    assert got["model"] == OAI_MODEL and got["user"] == "u-1"
    assert got["tools"] == OAI_TOOLS  # tool definitions untouched (the description has an address)
    sent = got["messages"]
    assert sent[0] == {"role": "system", "content": "Operator line [PHONE_REDACTED]."}
    assert sent[1]["content"][0] == {"type": "text", "text": "My mail is [EMAIL_REDACTED]."}
    assert sent[1]["content"][1] == messages[1]["content"][1]  # the image is not text
    assert sent[1]["content"][2] == {"type": "text", "text": "see /[CREDIT_CARD_REDACTED]/ here"}
    assert sent[2]["tool_calls"][0]["id"] == "call_PII_1" and sent[2]["tool_calls"][0]["function"]["name"] == "lookup"
    args = sent[2]["tool_calls"][0]["function"]["arguments"]
    assert args == ESCAPED_ARGS_REDACTED  # the JSON source kept as written, only the values replaced
    assert json.loads(args) == {"note": "Call me\n[PHONE_REDACTED]", "mail": "[EMAIL_REDACTED]",
                                "card": "[CREDIT_CARD_REDACTED]"}
    assert sent[3] == {"role": "tool", "tool_call_id": "call_PII_1", "content": "card on file: [CREDIT_CARD_REDACTED]"}
    assert sent[4]["content"] == "and my SSN is [US_SSN_REDACTED], thanks"
    body = rec.body.decode("utf-8")
    assert IMG_B64 in body and EMAIL2 in body
    body = body.replace(IMG_B64, "").replace(EMAIL2, "")  # kept on purpose: an image, a tool definition
    for v in (PHONE, EMAIL, CARD, SSN, "415 555 2671", "jane.doe\\u0040example.com"):
        assert v not in body
    m = settled(router, 1)
    assert m["pii_detections_by_type"] == {"PHONE": 2, "EMAIL": 2, "CREDIT_CARD": 3, "US_SSN": 1}


def test_request_anthropic_fields(new_router, ups):
    _, ant_up = ups
    router = new_router()
    messages = [
        {"role": "user", "content": [
            {"type": "text", "text": "My mail is %s." % EMAIL},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": IMG_B64}},
        ]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Looking that up."},
            {"type": "tool_use", "id": "toolu_PII_1", "name": "lookup",
             "input": {"card": int(CARD_DIGITS), "who": {"ssn": SSN, "mails": [EMAIL, "none"]}, "count": 3}},
            {"type": "tool_use", "id": "toolu_PII_2", "name": "lookup", "input": {"q": "keys"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_PII_1",
             "content": [{"type": "text", "text": "IBAN %s on record" % IBAN}]},
            {"type": "tool_result", "tool_use_id": "toolu_PII_2", "content": "key %s" % OAI_SECRET},
            {"type": "text", "text": "Thanks!"},
        ]},
    ]
    system = [{"type": "text", "text": "Escalate to %s." % PHONE}]
    msg = ant_client(router).messages.create(model=ANT_MODEL, max_tokens=200, system=system, messages=messages,
                                             tools=ANT_TOOLS)
    assert msg.content[0].text == "echo: Thanks!"
    rec = ant_up.last
    got = rec.json
    assert got["model"] == ANT_MODEL and got["tools"] == ANT_TOOLS
    assert got["system"] == [{"type": "text", "text": "Escalate to [PHONE_REDACTED]."}]
    sent = got["messages"]
    assert sent[0]["content"][0]["text"] == "My mail is [EMAIL_REDACTED]."
    assert sent[0]["content"][1] == messages[0]["content"][1]
    use = sent[1]["content"][1]
    assert (use["id"], use["name"]) == ("toolu_PII_1", "lookup")
    assert use["input"] == {"card": "[CREDIT_CARD_REDACTED]",
                            "who": {"ssn": "[US_SSN_REDACTED]", "mails": ["[EMAIL_REDACTED]", "none"]}, "count": 3}
    assert sent[1]["content"][2] == messages[1]["content"][2]
    assert sent[2]["content"][0] == {"type": "tool_result", "tool_use_id": "toolu_PII_1",
                                     "content": [{"type": "text", "text": "IBAN [IBAN_REDACTED] on record"}]}
    assert sent[2]["content"][1]["content"] == "key [OPENAI_KEY_REDACTED]"
    assert sent[2]["content"][2] == {"type": "text", "text": "Thanks!"}
    body = rec.body.decode("utf-8")
    assert IMG_B64 in body
    body = body.replace(IMG_B64, "")  # the image holds a card number on purpose
    for v in (PHONE, EMAIL, CARD_DIGITS, SSN, IBAN, OAI_SECRET):
        assert v not in body

    # a system prompt given as a plain string
    ant_client(router).messages.create(model=ANT_MODEL, max_tokens=20, system="Call %s first" % PHONE, messages=HELLO)
    assert ant_up.last.json["system"] == "Call [PHONE_REDACTED] first"


def test_request_responses_fields(new_router, ups):
    oai_up, _ = ups
    router = new_router()
    items = [
        {"role": "user", "content": [
            {"type": "input_text", "text": "mail %s" % EMAIL},
            {"type": "input_image", "image_url": "data:image/png;base64," + IMG_B64, "detail": "auto"},
        ]},
        {"type": "function_call", "call_id": "call_PII_9", "name": "lookup", "arguments": ESCAPED_ARGS},
        {"type": "function_call_output", "call_id": "call_PII_9", "output": "card %s" % CARD},
        {"role": "user", "content": "my SSN %s" % SSN},
    ]
    r = oai_client(router).responses.create(model=OAI_MODEL, input=items, instructions="Escalate to %s" % PHONE,
                                            tools=RESP_TOOLS)
    assert r.output_text == "echo: my SSN [US_SSN_REDACTED]"
    got = oai_up.last.json
    assert got["model"] == OAI_MODEL and got["tools"] == RESP_TOOLS
    assert got["instructions"] == "Escalate to [PHONE_REDACTED]"
    sent = got["input"]
    assert sent[0]["content"][0] == {"type": "input_text", "text": "mail [EMAIL_REDACTED]"}
    assert sent[0]["content"][1] == items[0]["content"][1]
    assert {k: v for k, v in sent[1].items() if k != "arguments"} == {
        k: v for k, v in items[1].items() if k != "arguments"}
    assert sent[1]["arguments"] == ESCAPED_ARGS_REDACTED
    assert sent[2] == {"type": "function_call_output", "call_id": "call_PII_9", "output": "card [CREDIT_CARD_REDACTED]"}
    assert sent[3]["content"] == "my SSN [US_SSN_REDACTED]"

    # input as a plain string, and embeddings input
    oai_client(router).responses.create(model=OAI_MODEL, input="reach me at %s" % EMAIL)
    assert oai_up.last.json["input"] == "reach me at [EMAIL_REDACTED]"
    e = oai_client(router).embeddings.create(model="text-embedding-3-small", input=["mail %s" % EMAIL, "plain"],
                                             encoding_format="float")
    assert len(e.data) == 2
    assert oai_up.last.json["input"] == ["mail [EMAIL_REDACTED]", "plain"]


def test_request_completions_prompt_is_redacted(new_router, ups):
    """The legacy completions prompt (the fake answers 404 to it; what it received is what counts)."""
    oai_up, _ = ups
    router = new_router()
    with pytest.raises(openai.NotFoundError):
        oai_client(router).completions.create(model="gpt-3.5-turbo-instruct", prompt=["ssn %s" % SSN, "fine"])
    assert oai_up.last.path == "/v1/completions"
    assert oai_up.last.json["prompt"] == ["ssn [US_SSN_REDACTED]", "fine"]


# ---------------------------------------------------------------------------------------------
# modes, scope, detectors and patterns, both directions


def chat_roundtrip(router, oai_up, sent: str, answer: str) -> Tuple[str, str, str]:
    """(what the upstream received, the non-stream answer, the streamed answer) for one text each way."""
    client = oai_client(router)
    c = client.chat.completions.create(model=OAI_MODEL, messages=[{"role": "user", "content": sent}],
                                       extra_headers=reply([answer]))
    upstream = oai_up.last.json["messages"][0]["content"]
    stream = client.chat.completions.create(model=OAI_MODEL, messages=[{"role": "user", "content": sent}],
                                            extra_headers=reply(list(answer)), stream=True)
    streamed = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
    return upstream, c.choices[0].message.content, streamed


def test_redact_mode_is_the_default_both_ways(new_router, ups):
    oai_up, _ = ups
    router = new_router()
    sent = "I am %s, card %s" % (EMAIL, CARD)
    answer = "Noted %s; call %s" % (EMAIL, PHONE)
    up_text, body_text, stream_text = chat_roundtrip(router, oai_up, sent, answer)
    assert up_text == "I am [EMAIL_REDACTED], card [CREDIT_CARD_REDACTED]"
    assert body_text == stream_text == "Noted [EMAIL_REDACTED]; call [PHONE_REDACTED]"
    m = settled(router, 2)
    assert m["pii_action"] == "redacted"
    assert m["pii_detections_by_type"] == {"EMAIL": 4, "CREDIT_CARD": 2, "PHONE": 2}
    assert m["pii_detections"] == 8


def test_mask_mode(new_router, ups):
    oai_up, _ = ups
    pin = {"name": "PIN", "regex": r"PIN\d{4,6}"}  # up to 8 characters nothing is kept, from 9 the last 4
    router = new_router(pii="mask", pii_patterns=[EMP_PATTERN, pin])
    sent = ("mail %s card %s key %s jwt %s emp %s pins PIN4821 PIN48215 PIN482159 end"
            % (EMAIL, CARD, OAI_SECRET, JWT, EMP))
    answer = "ok %s, ssn %s, phone %s, and\n%s\nbye" % (EMAIL, SSN, PHONE, PEM)
    up_text, body_text, stream_text = chat_roundtrip(router, oai_up, sent, answer)
    assert up_text == ("mail ****.com card ****1111 key ****Xy4z jwt **** emp ****3456 pins **** **** ****2159 end")
    assert body_text == stream_text == "ok ****.com, ssn ****6789, phone ****2671, and\n****\nbye"
    assert "4821" not in up_text and JWT[-4:] not in up_text and "END RSA" not in body_text
    assert settled(router, 2)["pii_action"] == "masked"


HASH_TOKEN = r"\[%s_([0-9a-f]{8})\]"


def test_hash_mode_tokens_are_stable_within_a_router_and_salted_per_router(new_router, ups):
    oai_up, _ = ups
    a = new_router(pii="hash")
    sent = "mail %s, again %s, other %s, card %s" % (EMAIL, EMAIL, EMAIL2, CARD)
    up_text, body_text, stream_text = chat_roundtrip(a, oai_up, sent, "reply to %s now" % EMAIL)
    m = re.fullmatch(r"mail (\[EMAIL_[0-9a-f]{8}\]), again (\[EMAIL_[0-9a-f]{8}\]), other (\[EMAIL_[0-9a-f]{8}\]), "
                     r"card (\[CREDIT_CARD_[0-9a-f]{8}\])", up_text)
    assert m, up_text
    tok = m.group(1)
    assert m.group(2) == tok  # the same value, the same token
    assert m.group(3) != tok  # another value, another token
    assert body_text == stream_text == "reply to %s now" % tok  # the same in answers (stream or not)
    assert up_text == chat_roundtrip(a, oai_up, sent, "x")[0]  # and in later requests

    b = new_router(pii="hash")  # its own random salt
    tok_b = re.search(HASH_TOKEN % "EMAIL", chat_roundtrip(b, oai_up, "mail %s" % EMAIL, "x")[0]).group(0)
    assert tok_b != tok

    salt = "a-shared-salt-of-32-characters!!"
    c = new_router(pii="hash", pii_salt=salt)
    d = new_router(pii="hash", pii_salt=salt)
    tok_c = chat_roundtrip(c, oai_up, "mail %s" % EMAIL, "x")[0]
    tok_d = chat_roundtrip(d, oai_up, "mail %s" % EMAIL, "x")[0]
    assert re.fullmatch(r"mail " + HASH_TOKEN % "EMAIL", tok_c)
    assert tok_c == tok_d and tok_c != "mail " + tok and tok_c != "mail " + tok_b
    assert settled(a, 4)["pii_action"] == "hashed"


def test_detect_mode_passes_everything_and_audits(new_router, ups):
    oai_up, _ = ups
    router = new_router(pii="detect")
    sent = "mail %s card %s" % (EMAIL, CARD)
    answer = "call %s" % PHONE
    assert chat_roundtrip(router, oai_up, sent, answer) == (sent, answer, answer)
    m = settled(router, 2)
    assert m["pii_action"] == "detected"
    assert m["pii_detections_by_type"] == {"EMAIL": 2, "CREDIT_CARD": 2, "PHONE": 2}  # two requests, two answers
    rows = audit_rows(router)
    assert len(rows) == 6 and {r["action"] for r in rows} == {"detected"}
    assert count_where(rows, direction="request") == 4 and count_where(rows, direction="response") == 2


def test_off_mode_does_nothing(new_router, ups):
    oai_up, _ = ups
    router = new_router(pii="off")
    events = []
    router.on_pii_detected(events.append)
    sent = "mail %s card %s" % (EMAIL, CARD)
    answer = "call %s" % PHONE
    assert chat_roundtrip(router, oai_up, sent, answer) == (sent, answer, answer)
    m = settled(router, 2)
    assert m["pii_detections"] == 0 and m["pii_detections_by_type"] == {}
    assert audit_rows(router) == []
    time.sleep(0.5)
    assert events == []


def test_scope_request_only(new_router, ups):
    oai_up, _ = ups
    router = new_router(pii_scope="request")
    up_text, body_text, stream_text = chat_roundtrip(router, oai_up, "mail %s" % EMAIL, "call %s" % PHONE)
    assert up_text == "mail [EMAIL_REDACTED]"
    assert body_text == stream_text == "call %s" % PHONE
    m = settled(router, 2)
    assert m["pii_detections_by_type"] == {"EMAIL": 2}
    assert {r["direction"] for r in audit_rows(router)} == {"request"}


def test_scope_response_only(new_router, ups):
    oai_up, ant_up = ups
    router = new_router(pii_scope="response")
    up_text, body_text, stream_text = chat_roundtrip(router, oai_up, "mail %s" % EMAIL, "call %s" % PHONE)
    assert up_text == "mail %s" % EMAIL
    assert body_text == stream_text == "call [PHONE_REDACTED]"
    msg = ant_client(router).messages.create(model=ANT_MODEL, max_tokens=50, system="sys %s" % EMAIL,
                                             messages=[{"role": "user", "content": "ssn %s" % SSN}],
                                             extra_headers=reply(["ssn ", SSN]))
    assert ant_up.last.json["system"] == "sys %s" % EMAIL
    assert ant_up.last.json["messages"][0]["content"] == "ssn %s" % SSN
    assert msg.content[0].text == "ssn [US_SSN_REDACTED]"
    m = settled(router, 3)
    assert m["pii_detections_by_type"] == {"PHONE": 2, "US_SSN": 1}
    assert {r["direction"] for r in audit_rows(router)} == {"response"}


def test_detectors_can_be_switched_off(new_router, ups):
    oai_up, _ = ups
    router = new_router(pii_detectors={"EMAIL": False, "IP_ADDRESS": False})
    sent = "mail %s from %s, card %s" % (EMAIL, IP, CARD)
    up_text, body_text, stream_text = chat_roundtrip(router, oai_up, sent, "to %s at %s" % (EMAIL, PHONE))
    assert up_text == "mail %s from %s, card [CREDIT_CARD_REDACTED]" % (EMAIL, IP)
    assert body_text == stream_text == "to %s at [PHONE_REDACTED]" % EMAIL
    assert set(settled(router, 2)["pii_detections_by_type"]) == {"CREDIT_CARD", "PHONE"}
    # and switching a detector on explicitly is the default
    on = new_router(pii_detectors={"EMAIL": True})
    assert chat_roundtrip(on, oai_up, "mail %s" % EMAIL, "x")[0] == "mail [EMAIL_REDACTED]"


MEMBER = "800123456785"  # passes the Luhn check; no built-in detector takes it (checked below)
MEMBER_BAD = "800123456784"


def test_custom_patterns_with_and_without_a_validator(new_router, ups):
    oai_up, _ = ups
    member = {"name": "MEMBER_NO", "regex": r"\b8\d{11}\b", "validator": "luhn"}
    router = new_router(pii_patterns=[EMP_PATTERN, member])
    sent = "emp %s, member %s, not member %s, bare EMP-12345" % (EMP, MEMBER, MEMBER_BAD)
    answer = "member %s and %s of emp %s" % (MEMBER, MEMBER_BAD, EMP)
    up_text, body_text, stream_text = chat_roundtrip(router, oai_up, sent, answer)
    assert up_text == ("emp [EMPLOYEE_ID_REDACTED], member [MEMBER_NO_REDACTED], not member %s, bare EMP-12345"
                       % MEMBER_BAD)
    assert body_text == stream_text == "member [MEMBER_NO_REDACTED] and %s of emp [EMPLOYEE_ID_REDACTED]" % MEMBER_BAD
    assert settled(router, 2)["pii_detections_by_type"] == {"EMPLOYEE_ID": 4, "MEMBER_NO": 4}
    # without the patterns neither is found
    plain = new_router()
    assert chat_roundtrip(plain, oai_up, sent, "x")[0] == sent


def test_phone_region_decides_numbers_written_without_a_country_code(new_router, ups):
    oai_up, _ = ups
    sent = "UK 020 7946 0958, US (415) 555-2671, intl %s" % PHONE
    us = chat_roundtrip(new_router(), oai_up, sent, "x")[0]
    gb = chat_roundtrip(new_router(pii_region="GB"), oai_up, sent, "x")[0]
    assert us == "UK 020 7946 0958, US [PHONE_REDACTED], intl [PHONE_REDACTED]"
    assert gb == "UK [PHONE_REDACTED], US (415) 555-2671, intl [PHONE_REDACTED]"


@pytest.mark.parametrize("kwargs, error, words", [
    ({"pii": "scrub"}, ConfigurationError, ["pii", "'redact'", "'scrub'"]),
    ({"pii": 1}, TypeError, ["pii", "int"]),
    ({"pii_scope": "outbound"}, ConfigurationError, ["pii_scope", "'request'", "'outbound'"]),
    ({"pii_scope": None}, TypeError, ["pii_scope"]),
    ({"pii_patterns": [{"name": "BAD", "regex": "EMP-(\\d{6}"}]}, ConfigurationError,
     ["pii_patterns[0]", "regex", "not a valid regular expression"]),
    ({"pii_patterns": [{"name": "EMPTY", "regex": "x*"}]}, ConfigurationError, ["pii_patterns[0]", "empty"]),
    ({"pii_patterns": [{"name": "ACCT", "regex": "\\d{12}", "validator": "crc32"}]}, ConfigurationError,
     ["pii_patterns[0]", "validator", "luhn"]),
    ({"pii_patterns": [{"name": "EMAIL", "regex": "x@y"}]}, ConfigurationError, ["EMAIL", "built-in"]),
    ({"pii_patterns": [EMP_PATTERN, EMP_PATTERN]}, ConfigurationError, ["EMPLOYEE_ID", "twice"]),
    ({"pii_patterns": [{"name": "X"}]}, TypeError, ["pii_patterns[0]", "regex"]),
    ({"pii_patterns": {"name": "X", "regex": "x"}}, TypeError, ["pii_patterns", "list"]),
    ({"pii_detectors": {"CREDIT_CARDS": False}}, ConfigurationError,
     ["unknown detector", "CREDIT_CARDS", "CREDIT_CARD"]),
    ({"pii_detectors": {"EMAIL": "no"}}, TypeError, ["pii_detectors"]),
    ({"pii_region": "XX"}, ConfigurationError, ["pii_region", "XX"]),
    ({"pii_salt": "short"}, ConfigurationError, ["pii_salt", "16"]),
])
def test_bad_pii_configuration_is_refused_clearly(kwargs, error, words):
    from iron_runtime import LlmRouter

    with pytest.raises(error) as ei:
        LlmRouter(provider_key=OPENAI_KEY, persist=False, start=False, **kwargs)
    msg = str(ei.value)
    for w in words:
        assert w in msg, (w, msg)
    assert "short" not in msg or "pii_salt" not in kwargs  # the salt itself is never shown


# ---------------------------------------------------------------------------------------------
# streams split everywhere, through the SDKs' own stream helpers

TOOL_ARGS_REDACTED_SRC = ('{"note": %s, "card": "[CREDIT_CARD_REDACTED]", "contact": {"mail": "[EMAIL_REDACTED]",'
                          ' "n": 3}, "tags": ["ok", "[US_SSN_REDACTED]"]}') % json.dumps(TEXT_REDACTED)
# What must never reach the client of a tool-call stream: the values as text and as JSON source.
TOOL_LEAKS = TOOL_VALUES + [json.dumps(v)[1:-1] for v in TEXT_VALUES]
ALLOWED = TEXT_REDACTED + TOOL_ARGS_REDACTED_SRC


class Seen:
    """What the client got from one stream: the deltas joined, the SDK's final text or arguments,
    the whole texts repeated by done/completed events, and everything as one string to search."""

    def __init__(self, streamed: str, final: str, repeats: Sequence[str] = (), extra: str = ""):
        self.streamed = streamed
        self.final = final
        self.repeats = list(repeats)
        self.blob = "\n".join([streamed, final, *self.repeats, extra])


def chat_text(client, chunks) -> Seen:
    with client.chat.completions.stream(model=OAI_MODEL, messages=HELLO, extra_headers=reply(chunks)) as s:
        deltas = [e.chunk.choices[0].delta.content or "" for e in s if e.type == "chunk" and e.chunk.choices]
        final = s.get_final_completion()
    assert final.choices[0].finish_reason == "stop"
    return Seen("".join(deltas), final.choices[0].message.content, extra=final.model_dump_json(warnings=False))


def chat_tool(client, pieces) -> Seen:
    with client.chat.completions.stream(model=OAI_MODEL, messages=HELLO, tools=OAI_TOOLS,
                                        extra_headers=reply(tool=pieces)) as s:
        deltas = [tc.function.arguments or "" for e in s if e.type == "chunk" and e.chunk.choices
                  for tc in e.chunk.choices[0].delta.tool_calls or [] if tc.function is not None]
        final = s.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls[0].function.name == "lookup"
    return Seen("".join(deltas), choice.message.tool_calls[0].function.arguments,
                extra=final.model_dump_json(warnings=False))


def responses_text(client, chunks) -> Seen:
    with client.responses.stream(model=OAI_MODEL, input="hi", extra_headers=reply(chunks)) as s:
        events = list(s)
        final = s.get_final_response()
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    repeats = [e.text for e in events if e.type == "response.output_text.done"]
    repeats += [e.part.text for e in events if e.type == "response.content_part.done"]
    repeats += [e.item.content[0].text for e in events if e.type == "response.output_item.done"]
    repeats += [e.response.output_text for e in events if e.type == "response.completed"]
    assert len(repeats) == 4, [e.type for e in events]
    return Seen("".join(deltas), final.output_text, repeats, final.model_dump_json(warnings=False))


def responses_tool(client, pieces) -> Seen:
    with client.responses.stream(model=OAI_MODEL, input="hi", tools=RESP_TOOLS, extra_headers=reply(tool=pieces)) as s:
        events = list(s)
        final = s.get_final_response()
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    repeats = [e.arguments for e in events if e.type == "response.function_call_arguments.done"]
    repeats += [e.item.arguments for e in events if e.type == "response.output_item.done"]
    repeats += [e.response.output[0].arguments for e in events if e.type == "response.completed"]
    assert len(repeats) == 3, [e.type for e in events]
    assert final.output[0].type == "function_call" and final.output[0].name == "lookup"
    return Seen("".join(deltas), final.output[0].arguments, repeats, final.model_dump_json(warnings=False))


def anthropic_text(client, chunks) -> Seen:
    with client.messages.stream(model=ANT_MODEL, max_tokens=4096, messages=HELLO, extra_headers=reply(chunks)) as s:
        events = list(s)
        final = s.get_final_message()
        text = s.get_final_text()
    deltas = [e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"]
    assert final.content[0].text == text and final.stop_reason == "end_turn"
    return Seen("".join(deltas), text, extra=final.model_dump_json(warnings=False))


def anthropic_tool(client, pieces) -> Seen:
    with client.messages.stream(model=ANT_MODEL, max_tokens=4096, messages=HELLO, tools=ANT_TOOLS,
                                extra_headers=reply(tool=pieces)) as s:
        events = list(s)
        final = s.get_final_message()
    deltas = [e.delta.partial_json for e in events
              if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
    block = final.content[0]
    assert block.type == "tool_use" and block.name == "lookup" and final.stop_reason == "tool_use"
    # the SDK's parsed input, written back as JSON: compared by value below
    return Seen("".join(deltas), json.dumps(block.input), extra=final.model_dump_json(warnings=False))


STREAMS = {
    "chat-text": (chat_text, TEXT, False),
    "responses-text": (responses_text, TEXT, False),
    "anthropic-text": (anthropic_text, TEXT, False),
    "chat-tool": (chat_tool, TOOL_ARGS, True),
    "responses-tool": (responses_tool, TOOL_ARGS, True),
    "anthropic-tool": (anthropic_tool, TOOL_ARGS, True),
}


def check_seen(seen: Seen, tool: bool, where: str) -> None:
    if tool:
        assert seen.streamed == TOOL_ARGS_REDACTED_SRC, where
        assert json.loads(seen.final) == TOOL_ARGS_REDACTED, where  # the SDK-assembled arguments parse
        for r in seen.repeats:
            assert r == TOOL_ARGS_REDACTED_SRC, where
        assert_nothing_leaked(seen.blob, TOOL_LEAKS, ALLOWED)
    else:
        assert seen.streamed == TEXT_REDACTED, where
        assert seen.final == TEXT_REDACTED, where
        for r in seen.repeats:
            assert r == TEXT_REDACTED, where
        assert_nothing_leaked(seen.blob, TEXT_VALUES, ALLOWED)


def test_non_stream_redaction_of_the_split_texts(split_router, ups):
    """The reference for the split tests: the whole reply redacted in one body, in every API."""
    client, aclient = oai_client(split_router), ant_client(split_router)
    c = client.chat.completions.create(model=OAI_MODEL, messages=HELLO, tools=OAI_TOOLS,
                                       extra_headers=reply([TEXT], [TOOL_ARGS]))
    assert c.choices[0].message.content == TEXT_REDACTED
    assert c.choices[0].message.tool_calls[0].function.arguments == TOOL_ARGS_REDACTED_SRC
    r = client.responses.create(model=OAI_MODEL, input="hi", tools=RESP_TOOLS, extra_headers=reply([TEXT], [TOOL_ARGS]))
    assert r.output_text == TEXT_REDACTED and r.output[1].arguments == TOOL_ARGS_REDACTED_SRC
    m = aclient.messages.create(model=ANT_MODEL, max_tokens=4096, messages=HELLO, tools=ANT_TOOLS,
                                extra_headers=reply([TEXT], [TOOL_ARGS]))
    assert m.content[0].text == TEXT_REDACTED and m.content[1].input == TOOL_ARGS_REDACTED
    for body in (c.model_dump_json(warnings=False), r.model_dump_json(warnings=False),
                 m.model_dump_json(warnings=False)):
        assert_nothing_leaked(body, TOOL_LEAKS, ALLOWED)


@pytest.mark.parametrize("api", list(STREAMS))
def test_stream_of_one_character_deltas(split_router, ups, api):
    fn, text, tool = STREAMS[api]
    client = ant_client(split_router) if api.startswith("anthropic") else oai_client(split_router)
    check_seen(fn(client, list(text)), tool, "one-character deltas")
    assert split_router.metrics()["pii_failed_responses"] == 0


def split_positions(text: str, values: Sequence[str], step: int, offset: int) -> List[int]:
    """Every ``step``-th position (from ``offset``) plus every position within 3 characters of
    where a value starts or ends: the splits that cut a value's first or last characters off."""
    ks = set(range(offset % step, len(text) + 1, step))
    for v in values:
        i = text.find(v)
        while i >= 0:
            ks.update(k for k in range(i - 3, i + 4) if 0 <= k <= len(text))
            ks.update(k for k in range(i + len(v) - 3, i + len(v) + 4) if 0 <= k <= len(text))
            i = text.find(v, i + 1)
    return sorted(ks)


# chat-text is split at every position; the others at every n-th (a different residue each) and
# around every value's edges, to keep the file fast (the Responses helper is the slowest SDK path).
SPLIT_STEPS = {"chat-text": (1, 0), "responses-text": (11, 1), "anthropic-text": (9, 2),
               "chat-tool": (11, 3), "responses-tool": (13, 4), "anthropic-tool": (9, 5)}


@pytest.mark.parametrize("api", list(STREAMS))
def test_stream_split_in_two(split_router, ups, api):
    """The reply arrives as text[:k] + text[k:] (k = 0 sends an empty first delta)."""
    fn, text, tool = STREAMS[api]
    client = ant_client(split_router) if api.startswith("anthropic") else oai_client(split_router)
    step, offset = SPLIT_STEPS[api]
    ks = split_positions(text, TOOL_LEAKS if tool else TEXT_VALUES, step, offset)
    if step == 1:
        assert ks == list(range(len(text) + 1))

    def one(k):
        check_seen(fn(client, two_way(text, k)), tool, "split at %d" % k)
        return k

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(one, ks))
    assert done == ks and len(ks) > len(text) // step
    assert split_router.metrics()["pii_failed_responses"] == 0


@pytest.mark.parametrize("api", ["chat", "responses", "anthropic"])
def test_a_value_at_the_very_end_is_flushed_before_the_stream_ends(split_router, ups, api):
    """The held tail is sent when the text ends (finish chunk, .done, content_block_stop), redacted."""
    chunks = ["Call ", "+1 415 ", "555 2671"]
    if api == "chat":
        stream = oai_client(split_router).chat.completions.create(
            model=OAI_MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True},
            extra_headers=reply(chunks))
        got = list(stream)
        text = "".join(ch.choices[0].delta.content or "" for ch in got if ch.choices)
        assert got[-1].choices == [] and got[-1].usage.completion_tokens == 3  # usage still comes last
        assert [ch.choices[0].finish_reason for ch in got if ch.choices][-1] == "stop"
    elif api == "responses":
        seen = responses_text(oai_client(split_router), chunks)
        assert seen.repeats == ["Call [PHONE_REDACTED]"] * 4 and seen.final == "Call [PHONE_REDACTED]"
        text = seen.streamed
    else:
        seen = anthropic_text(ant_client(split_router), chunks)
        assert seen.final == "Call [PHONE_REDACTED]"
        text = seen.streamed
    assert text == "Call [PHONE_REDACTED]"


@pytest.mark.parametrize("api", ["chat", "anthropic"])
def test_a_key_block_cut_off_before_its_end_line_is_redacted_to_the_end(split_router, ups, api):
    """A private key block with no END line (the reply was cut short): everything after its header
    is key material, held and then redacted, never released."""
    cut = PEM[:90]
    fn = chat_text if api == "chat" else anthropic_text
    client = oai_client(split_router) if api == "chat" else ant_client(split_router)
    for chunks in (["Here:\n" + cut], pieces_of("Here:\n" + cut, 7)):
        seen = fn(client, chunks)
        assert seen.streamed == seen.final == "Here:\n[PRIVATE_KEY_REDACTED]"
        assert_nothing_leaked(seen.blob, [cut[32:]])


def test_concurrent_async_streams_do_not_mix(split_router, ups):
    """Many streams at once through one router (async SDKs): each is redacted on its own."""
    async def openai_one(client, k):
        stream = await client.chat.completions.create(model=OAI_MODEL, messages=HELLO, stream=True,
                                                      extra_headers=reply(two_way(TEXT, k)))
        return "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])

    async def anthropic_one(client, k):
        async with client.messages.stream(model=ANT_MODEL, max_tokens=4096, messages=HELLO,
                                          extra_headers=reply(list(TEXT[:k]) + [TEXT[k:]])) as s:
            deltas = [e.delta.text async for e in s if e.type == "content_block_delta"]
            final = await s.get_final_text()
        assert final == TEXT_REDACTED
        return "".join(deltas)

    async def main():
        o, a = oai_async(split_router), ant_async(split_router)
        try:
            ks = range(3, len(TEXT), 29)
            return await asyncio.gather(*[openai_one(o, k) for k in ks], *[anthropic_one(a, k) for k in ks])
        finally:
            await o.close()
            await a.close()

    results = asyncio.run(main())
    assert len(results) >= 30
    for text in results:
        assert text == TEXT_REDACTED
        assert_nothing_leaked(text, TEXT_VALUES, ALLOWED)


# ---------------------------------------------------------------------------------------------
# block mode


def assert_block_message(message: str, types: Sequence[str], values: Sequence[str]) -> None:
    for t in types:
        assert t in message, message
    for v in values:
        assert v not in message and v[-4:] not in message, message


def test_block_mode_refuses_requests_with_pii_before_they_leave(new_router, ups):
    oai_up, ant_up = ups
    router = new_router(pii="block")
    client = oai_client(router)
    with pytest.raises(openai.BadRequestError) as ei:
        client.chat.completions.create(model=OAI_MODEL, messages=[
            {"role": "user", "content": "mail %s, card %s" % (EMAIL, CARD)}])
    err = ei.value
    assert err.status_code == 400 and err.code == "pii_blocked" and err.type == "iron_cage_pii_blocked"
    assert_block_message(err.message, ["EMAIL", "CREDIT_CARD"], [EMAIL, CARD])
    assert_block_message(err.response.text, ["EMAIL"], [EMAIL, CARD])
    assert err.response.headers.get("x-iron-request-id")

    with pytest.raises(openai.BadRequestError) as ei:  # a stream is refused before it starts
        client.responses.create(model=OAI_MODEL, input=[{"type": "function_call_output", "call_id": "c1",
                                                         "output": "ssn %s" % SSN}], stream=True)
    assert ei.value.code == "pii_blocked"
    assert_block_message(ei.value.message, ["US_SSN"], [SSN])

    with pytest.raises(anthropic.BadRequestError) as ei:
        ant_client(router).messages.create(model=ANT_MODEL, max_tokens=10, system="key %s" % OAI_SECRET,
                                           messages=HELLO)
    body = ei.value.body
    assert body["type"] == "error" and body["error"]["type"] == "iron_cage_pii_blocked"
    assert_block_message(body["error"]["message"], ["OPENAI_KEY"], [OAI_SECRET])
    assert_block_message(ei.value.response.text, ["OPENAI_KEY"], [OAI_SECRET])

    assert oai_up.requests == [] and ant_up.requests == []  # nothing left the machine
    # a clean request goes through as usual
    assert client.chat.completions.create(model=OAI_MODEL, messages=HELLO).choices[0].message.content == "echo: hello"
    m = settled(router, 1)
    assert m["pii_blocked_requests"] == 3 and m["pii_action"] == "blocked"
    assert m["pii_detections_by_type"] == {"EMAIL": 1, "CREDIT_CARD": 1, "US_SSN": 1, "OPENAI_KEY": 1}
    rows = audit_rows(router)
    assert len(rows) == 4 and {r["action"] for r in rows} == {"blocked"}


BLOCK_CHUNKS = ["Your ", "contact ", "is jane", ".doe@exa", "mple.com", " as ", "agreed."]


@pytest.mark.parametrize("api", ["chat", "responses", "anthropic", "anthropic-tool"])
def test_block_mode_ends_a_stream_with_an_error_before_the_value(new_router, ups, api):
    router = new_router(pii="block")
    got: List[str] = []
    if api == "chat":
        stream = oai_client(router).chat.completions.create(model=OAI_MODEL, messages=HELLO, stream=True,
                                                            extra_headers=reply(BLOCK_CHUNKS))
        with pytest.raises(openai.APIError) as ei:
            for ch in stream:
                got.append(json.dumps(ch.model_dump()))
        message = ei.value.message
        assert ei.value.code == "pii_blocked"
    elif api == "responses":
        with pytest.raises(openai.APIError) as ei:
            with oai_client(router).responses.stream(model=OAI_MODEL, input="hi",
                                                     extra_headers=reply(BLOCK_CHUNKS)) as s:
                for e in s:
                    got.append(e.model_dump_json(warnings=False))
        message = ei.value.message
    else:
        h = reply(BLOCK_CHUNKS) if api == "anthropic" else reply(tool=['{"who": "', "jane", '.doe@example.com"}'])
        with pytest.raises(anthropic.APIError) as ei:
            with ant_client(router).messages.stream(model=ANT_MODEL, max_tokens=100, messages=HELLO,
                                                    extra_headers=h) as s:
                for e in s:
                    got.append(e.model_dump_json(warnings=False))
        message = ei.value.message
    assert_block_message(message, ["EMAIL"], [EMAIL])
    seen = "\n".join(got)
    assert_nothing_leaked(seen, [EMAIL])
    assert ".doe@" not in seen and "example.com" not in seen
    m = settled(router, 1)
    assert m["pii_blocked_responses"] == 1 and m["pii_blocked_requests"] == 0


@pytest.mark.parametrize("api", ["chat", "responses", "anthropic"])
def test_block_mode_withholds_a_whole_response_body(new_router, ups, api):
    router = new_router(pii="block", pii_scope="response")
    answer = ["Card on file: ", CARD, "."]
    if api == "anthropic":
        with pytest.raises(anthropic.BadRequestError) as ei:
            ant_client(router).messages.create(model=ANT_MODEL, max_tokens=100, messages=HELLO,
                                               extra_headers=reply(answer))
        assert ei.value.body["error"]["type"] == "iron_cage_pii_blocked"
        message = ei.value.body["error"]["message"]
    else:
        with pytest.raises(openai.BadRequestError) as ei:
            if api == "chat":
                oai_client(router).chat.completions.create(model=OAI_MODEL, messages=HELLO, extra_headers=reply(answer))
            else:
                oai_client(router).responses.create(model=OAI_MODEL, input="hi", extra_headers=reply(answer))
        assert ei.value.code == "pii_blocked"
        message = ei.value.message
    assert_block_message(message, ["CREDIT_CARD"], [CARD])
    assert CARD not in ei.value.response.text and "1111 1111" not in ei.value.response.text
    m = settled(router, 1)
    assert m["pii_blocked_responses"] == 1


# ---------------------------------------------------------------------------------------------
# audit: database rows, events, metrics; never a value


def test_audit_rows_events_and_metrics_and_no_value_in_the_database(new_router, ups):
    router = new_router(pii_patterns=[EMP_PATTERN])
    events: List[Dict[str, Any]] = []
    router.on_pii_detected(events.append)

    # request: chat, two values in the second text part of the second message
    sent = "Contact me at %s or %s." % (EMAIL, PHONE)
    raw_c = oai_client(router).chat.completions.with_raw_response.create(
        model=OAI_MODEL, messages=[{"role": "system", "content": "be brief"},
                                   {"role": "user", "content": [{"type": "text", "text": "hi"},
                                                                {"type": "text", "text": sent}]}])
    chat_id = raw_c.headers["x-iron-request-id"]
    # response: a chat stream whose values arrive split
    answer = "Your card %s and id %s, twice: %s" % (CARD, EMP, EMAIL)
    stream = oai_client(router).chat.completions.with_raw_response.create(
        model=OAI_MODEL, messages=HELLO, stream=True, extra_headers=reply(pieces_of(answer, 3)))
    stream_id = stream.headers["x-iron-request-id"]
    text = "".join(ch.choices[0].delta.content or "" for ch in stream.parse() if ch.choices)
    assert text == "Your card [CREDIT_CARD_REDACTED] and id [EMPLOYEE_ID_REDACTED], twice: [EMAIL_REDACTED]"
    # request: an Anthropic tool_use input, nested
    raw_a = ant_client(router).messages.with_raw_response.create(
        model=ANT_MODEL, max_tokens=50, messages=[
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_A", "name": "lookup",
                                               "input": {"who": {"ssn": SSN}}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_A", "content": "ok"}]}])
    ant_id = raw_a.headers["x-iron-request-id"]
    assert len({chat_id, stream_id, ant_id}) == 3

    rows = audit_rows(router)
    got = sorted((r["request_id"], r["direction"], r["entity_type"], r["action"], r["field"],
                  r["start_offset"], r["end_offset"]) for r in rows)
    e0 = sent.index(EMAIL)
    p0 = sent.index(PHONE)
    c0, m0, e1 = answer.index(CARD), answer.index(EMP), answer.rindex(EMAIL)
    assert got == sorted([
        (chat_id, "request", "EMAIL", "redacted", "messages[1].content[1].text", e0, e0 + len(EMAIL)),
        (chat_id, "request", "PHONE", "redacted", "messages[1].content[1].text", p0, p0 + len(PHONE)),
        (stream_id, "response", "CREDIT_CARD", "redacted", "choices[0].content", c0, c0 + len(CARD)),
        (stream_id, "response", "EMPLOYEE_ID", "redacted", "choices[0].content", m0, m0 + len(EMP)),
        (stream_id, "response", "EMAIL", "redacted", "choices[0].content", e1, e1 + len(EMAIL)),
        (ant_id, "request", "US_SSN", "redacted", "messages[0].content[0].input.who.ssn", 0, len(SSN)),
    ])
    hashes = {}
    for r in rows:
        assert re.fullmatch(r"[0-9a-f]{16}", r["value_hash"]), r["value_hash"]
        assert r["ts_ms"] > 1_600_000_000_000
        hashes.setdefault(r["entity_type"], set()).add(r["value_hash"])
    assert len(hashes["EMAIL"]) == 1  # the same address in a request and an answer: one fingerprint
    assert len({h for hs in hashes.values() for h in hs}) == 5

    # the events say the same, with the same fingerprints
    assert wait_for(lambda: len(events) >= 6), events
    assert len(events) == 6
    for e in events:
        assert e["type"] == "pii_detected" and e["event_id"] and e["timestamp_ms"] > 1_600_000_000_000
        assert e["value_hash"] in hashes[e["entity_type"]]
    assert sorted((e["request_id"], e["direction"], e["entity_type"], e["action"], e["field"], e["start"], e["end"])
                  for e in events) == got

    m = router.metrics()
    assert m["pii_detections"] == 6
    assert m["pii_detections_by_type"] == {"EMAIL": 2, "PHONE": 1, "CREDIT_CARD": 1, "EMPLOYEE_ID": 1, "US_SSN": 1}
    assert m["pii_blocked_requests"] == m["pii_blocked_responses"] == m["pii_failed_responses"] == 0
    assert m["pii_max_held_chars"] >= len("4111 1111 1111")  # a grouped card was held while it could grow

    # no value anywhere: database files, events, metrics
    files = database_bytes(router)
    assert b"pii_audit" in files and chat_id.encode() in files
    blob = files + json.dumps(events).encode() + json.dumps(m).encode()
    for v in (EMAIL, PHONE, CARD, CARD_DIGITS, EMP, SSN, "415 555 2671", "doe@example", "1111 1111"):
        assert v.encode() not in blob, v
        assert v.encode("utf-16-le") not in blob, v


def test_audit_covers_every_field_kind_and_mode_label(new_router, ups):
    """Responses and Anthropic answers, hash mode: fields of output items and content blocks."""
    router = new_router(pii="hash")
    r = oai_client(router).responses.create(model=OAI_MODEL, input="hi", tools=RESP_TOOLS,
                                            extra_headers=reply(["mail ", EMAIL], ['{"ssn": "%s"}' % SSN]))
    tok = re.fullmatch(r"mail (\[EMAIL_[0-9a-f]{8}\])", r.output_text).group(1)
    assert re.fullmatch(r'\{"ssn": "\[US_SSN_[0-9a-f]{8}\]"\}', r.output[1].arguments)
    h = reply(["to ", EMAIL[:5], EMAIL[5:]], ['{"n": ', CARD_DIGITS[:7], CARD_DIGITS[7:], "}"])
    with ant_client(router).messages.stream(model=ANT_MODEL, max_tokens=100, messages=HELLO, tools=ANT_TOOLS,
                                            extra_headers=h) as s:
        list(s)
        final = s.get_final_message()
    assert final.content[0].text == "to " + tok  # the same token in both APIs
    assert re.fullmatch(r"\[CREDIT_CARD_[0-9a-f]{8}\]", final.content[1].input["n"])
    rows = audit_rows(router)
    # (offsets of tool-call arguments: test_audit_offsets_of_tool_call_arguments_point_at_the_value)
    got = sorted((r["direction"], r["entity_type"], r["action"], r["field"].split(".input")[0].split(".arguments")[0])
                 + ((r["start_offset"], r["end_offset"]) if r["field"].endswith(".text") else ()) for r in rows)
    assert got == sorted([
        ("response", "EMAIL", "hashed", "output[0].content[0].text", 5, 5 + len(EMAIL)),
        ("response", "US_SSN", "hashed", "output[1]"),
        ("response", "EMAIL", "hashed", "content[0].text", 3, 3 + len(EMAIL)),
        ("response", "CREDIT_CARD", "hashed", "content[1]"),
    ])
    assert len({r["value_hash"] for r in rows if r["entity_type"] == "EMAIL"}) == 1
    for v in (EMAIL, SSN, CARD_DIGITS):
        assert v.encode() not in database_bytes(router)


def value_at(arguments: str, base: str, field: str, start: int, end: int) -> str:
    """The text an audit row points at in tool-call arguments: either the arguments' JSON source
    itself (field == base) or a string inside them named by a path (``base.note``, ``base.tags[1]``)."""
    if field == base:
        return arguments[start:end]
    assert field.startswith(base + ".") or field.startswith(base + "["), (field, base)
    obj: Any = json.loads(arguments)
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", field[len(base):]):
        obj = obj[name] if name else obj[int(index)]
    assert isinstance(obj, (str, int)), obj
    return str(obj)[start:end]


def test_audit_offsets_of_tool_call_arguments_point_at_the_value(new_router, ups):
    """An audit row names a field and the offsets of the value in that field's text. For tool-call
    arguments (JSON source) that must hold too, for every string inside, both directions."""
    router = new_router()
    args = '{"a": "mail %s", "note": "Call me\\n%s", "n": %s}' % (EMAIL, PHONE, CARD_DIGITS)
    r = oai_client(router).chat.completions.with_raw_response.create(model=OAI_MODEL, messages=[
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"}])
    chat_id = r.headers["x-iron-request-id"]
    r = oai_client(router).responses.with_raw_response.create(model=OAI_MODEL, input="hi", tools=RESP_TOOLS,
                                                              extra_headers=reply(tool=[args]))
    resp_id = r.headers["x-iron-request-id"]
    with ant_client(router).messages.stream(model=ANT_MODEL, max_tokens=100, messages=HELLO, tools=ANT_TOOLS,
                                            extra_headers=reply(tool=[args[:20], args[20:]])) as s:
        list(s)
        ant_id = s.response.headers["x-iron-request-id"]
    rows = audit_rows(router)
    bases = {chat_id: "messages[0].tool_calls[0].function.arguments", resp_id: "output[0].arguments",
             ant_id: "content[0].input"}
    expected = {"EMAIL": EMAIL, "PHONE": PHONE, "CREDIT_CARD": CARD_DIGITS}
    found = []
    for row in rows:
        base = bases[row["request_id"]]
        at = value_at(args, base, row["field"], row["start_offset"], row["end_offset"])
        found.append((row["request_id"], row["entity_type"], at))
    assert sorted(found) == sorted((rid, t, v) for rid in bases for t, v in expected.items())


@pytest.mark.parametrize("api", ["chat", "responses", "anthropic"])
def test_a_unicode_escape_pair_split_between_argument_pieces_survives(split_router, ups, api):
    """A model writing JSON with \\u escapes: an emoji is a surrogate pair, and a piece may end between
    the two escapes. The client must get the emoji back (as it does from one piece), not '??'."""
    pieces = ['{"note": "call \\ud83d', '\\udcde %s"}' % PHONE]
    want = {"note": "call \U0001F4DE [PHONE_REDACTED]"}
    if api == "chat":
        seen = chat_tool(oai_client(split_router), pieces)
    elif api == "responses":
        seen = responses_tool(oai_client(split_router), pieces)
        for r in seen.repeats:
            assert json.loads(r) == want
    else:
        seen = anthropic_tool(ant_client(split_router), pieces)
    assert json.loads(seen.streamed) == want
    assert json.loads(seen.final) == want


@pytest.mark.parametrize("api", ["chat", "anthropic"])
def test_a_compressed_response_is_never_passed_on_unchecked(new_router, ups, api):
    """The router asks for identity encoding; an upstream (or a proxy in between) may compress
    anyway. Whatever the router does with such a body (decompress and redact, or refuse it), the
    value must not reach the client unchecked."""
    oai_up, ant_up = ups
    router = new_router()
    h = reply(["Write to ", EMAIL, " today."])
    h["x-fake-scenario"] = "gzipalways"
    try:
        if api == "chat":
            got = oai_client(router).chat.completions.create(model=OAI_MODEL, messages=HELLO, extra_headers=h)
        else:
            got = ant_client(router).messages.create(model=ANT_MODEL, max_tokens=50, messages=HELLO, extra_headers=h)
        seen = got.model_dump_json(warnings=False)
    except (openai.APIStatusError, anthropic.APIStatusError) as e:
        seen = e.response.text
    up = oai_up if api == "chat" else ant_up
    assert up.last.response_headers.get("content-encoding") == "gzip"  # the fake did compress
    assert EMAIL not in seen, seen
    # a gzip JSON body is unpacked, checked, and sent on plain: the answer arrives redacted
    assert "Write to [EMAIL_REDACTED] today." in seen, seen
    assert router.metrics()["pii_detections_by_type"] == {"EMAIL": 1}


def test_responses_stream_sequence_numbers_stay_increasing(split_router, ups):
    """A held tail flushed as an extra delta event must not reuse an earlier event's
    sequence_number: clients order, resume (starting_after) and de-duplicate by it."""
    events = list(oai_client(split_router).responses.create(
        model=OAI_MODEL, input="hi", stream=True, tools=RESP_TOOLS,
        extra_headers=reply(["Call ", "+1 415 555 ", "2671"], ['{"n": "+1 415 ', '555 2671"}'])))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Call [PHONE_REDACTED]"
    numbers = [e.sequence_number for e in events]
    assert all(a < b for a, b in zip(numbers, numbers[1:])), numbers


@pytest.mark.parametrize("api", ["chat", "responses", "anthropic"])
def test_text_then_a_tool_call_in_one_stream(split_router, ups, api):
    """The text's held tail is complete once the tool call starts; unterminated arguments (a reply
    cut short) are redacted up to where they stop."""
    text = "Calling %s now, card %s" % (EMAIL, CARD)
    want_text = "Calling [EMAIL_REDACTED] now, card [CREDIT_CARD_REDACTED]"
    args = '{"phone": "%s", "note": "ssn %s' % (PHONE, SSN)  # no closing quote and brace
    want_args = '{"phone": "[PHONE_REDACTED]", "note": "ssn [US_SSN_REDACTED]'
    for k in range(0, len(text) + 1, 8):
        j = (k * 7) % (len(args) + 1)
        h = reply(two_way(text, k), two_way(args, j))
        if api == "chat":
            with oai_client(split_router).chat.completions.stream(model=OAI_MODEL, messages=HELLO,
                                                                  extra_headers=h) as s:
                chunks = [e.chunk for e in s if e.type == "chunk"]
                final = s.get_final_completion()
            streamed = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
            streamed_args = "".join(tc.function.arguments or "" for ch in chunks if ch.choices
                                    for tc in ch.choices[0].delta.tool_calls or [] if tc.function)
            final_text = final.choices[0].message.content
            final_args = final.choices[0].message.tool_calls[0].function.arguments
        elif api == "responses":
            with oai_client(split_router).responses.stream(model=OAI_MODEL, input="hi", extra_headers=h) as s:
                evs = list(s)
                final = s.get_final_response()
            streamed = "".join(e.delta for e in evs if e.type == "response.output_text.delta")
            streamed_args = "".join(e.delta for e in evs if e.type == "response.function_call_arguments.delta")
            final_text, final_args = final.output_text, final.output[1].arguments
        else:
            with ant_client(split_router).messages.stream(model=ANT_MODEL, max_tokens=4096, messages=HELLO,
                                                          extra_headers=h) as s:
                evs = list(s)
                final_text = s.get_final_text()
            streamed = "".join(e.delta.text for e in evs if e.type == "content_block_delta"
                               and e.delta.type == "text_delta")
            streamed_args = "".join(e.delta.partial_json for e in evs if e.type == "content_block_delta"
                                    and e.delta.type == "input_json_delta")
            final_args = streamed_args
        where = "text split at %d, arguments at %d" % (k, j)
        assert streamed == final_text == want_text, where
        assert streamed_args == final_args == want_args, where


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_under_another_content_type_does_not_leave_unscanned(new_router, ups, content_type):
    """Request-side scanning protects what leaves the machine. A JSON body sent with a content type
    that does not say JSON (a misconfigured client) must not reach the provider with its values:
    scan it anyway, or refuse it."""
    oai_up, _ = ups
    router = new_router(pii_scope="request")
    try:
        oai_client(router).chat.completions.create(model=OAI_MODEL, messages=[
            {"role": "user", "content": "mail %s" % EMAIL}], extra_headers={"Content-Type": content_type})
    except openai.APIStatusError:
        pass
    for rec in oai_up.requests:
        assert rec.headers.get("content-type") == content_type
        assert EMAIL.encode() not in rec.body, rec.body[:200]


@pytest.mark.parametrize("api", ["chat", "chat-stream", "responses", "responses-stream"])
def test_log_probabilities_never_spell_out_a_redacted_value(split_router, ups, api):
    """Log probabilities carry the text token by token: once the text is rewritten they must go
    (nulled or emptied) everywhere the text appears, or they give the value back."""
    chunks = ["Mail ", "jane.doe", "@example.com", " or ", "+1 415", " 555 2671", " now"]
    want = "Mail [EMAIL_REDACTED] or [PHONE_REDACTED] now"
    h = reply(chunks, logprobs=True)
    client = oai_client(split_router)
    if api == "chat":
        c = client.chat.completions.create(model=OAI_MODEL, messages=HELLO, extra_headers=h)
        text, seen = c.choices[0].message.content, c.model_dump_json(warnings=False)
    elif api == "chat-stream":
        got = list(client.chat.completions.create(model=OAI_MODEL, messages=HELLO, stream=True, extra_headers=h))
        text = "".join(ch.choices[0].delta.content or "" for ch in got if ch.choices)
        seen = "\n".join(ch.model_dump_json(warnings=False) for ch in got)
    elif api == "responses":
        r = client.responses.create(model=OAI_MODEL, input="hi", extra_headers=h)
        text, seen = r.output_text, r.model_dump_json(warnings=False)
    else:
        with client.responses.stream(model=OAI_MODEL, input="hi", extra_headers=h) as s:
            events = list(s)
            final = s.get_final_response()
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert final.output_text == want
        seen = "\n".join(e.model_dump_json(warnings=False) for e in events) + final.model_dump_json(warnings=False)
    assert text == want
    for fragment in ("jane.doe", "@example.com", "+1 415", " 555 2671"):
        assert fragment not in seen, (fragment, seen[:2000])
