"""A fake LLM provider: a real HTTP/1.1 server on loopback that speaks the
OpenAI (Chat Completions, Responses, Embeddings, Models) and Anthropic
(Messages, count_tokens, Models) wire formats, including SSE streams with
real delays between events, usage in the final events and provider-shaped
errors.

    with FakeUpstream() as up:
        client = openai.OpenAI(base_url=up.origin + "/v1", api_key="x")
        client.chat.completions.create(model="gpt-4o", messages=[...])
        up.requests[-1].json["model"]

Scenarios are chosen per request, either with a header
``x-fake-scenario: drop:3,delay:0.05`` or through the model name
(``gpt-4o-fake-error-500``, ``claude-x-fake-slow-2``). Known scenarios:

    delay:S      seconds between SSE events (default: FakeUpstream(event_delay=...))
    error:N      answer with HTTP status N and a provider-shaped error body
    ratelimit    same as error:429 (with retry-after and x-ratelimit-* headers)
    retry:S      value of the retry-after header on error responses (default 2 for 429/503/529;
                 an explicit value always wins, ``retry:0`` sends "0")
    retryms:MS   error:N / ratelimit: also send ``retry-after-ms: MS`` (OpenAI style); retry-after
                 is still sent as above
    slow:S       sleep S seconds before sending the response head
    stall:S      stream: send the head and the first event, then go silent for S seconds
    drop:N       stream: send N events, then close the socket (no terminating chunk)
    reset:N      stream: send N events, then reset the connection (RST)
    long:N       stream: N content deltas (default 200), for client-disconnect tests
    chunks:N     stream: split the reply into N content deltas
    sseerror:N   stream: after N events send a provider-shaped error event and end
    cached:N     report N cached input tokens in usage
    cachewrite_hour:N Anthropic: of the cache writes, N with the 1-hour lifetime (usage.cache_creation)
    service_tier Chat/Responses answer with the request's "service_tier" when it is priority or flex
    cachewrite:N Anthropic: report N cache_creation_input_tokens (taken out of input_tokens,
                 like cached:N; never below 0). Ignored by the OpenAI endpoints
    nousage      no usage at all: no ``usage`` key (Anthropic: no usage object), no usage
                 chunk even with include_usage, ``usage: null`` in Responses' final event
    gzip         gzip JSON responses when the request accepts gzip (as the real APIs do)
    gzipalways   gzip JSON responses even when the request did not ask for it
    closedelim   stream: no chunked framing; the body ends when the server closes the connection
    abort        after reading the request, reset the connection (RST, SO_LINGER 0) without
                 sending a byte of a response (outcome "aborted"; after slow:S when both are given)
    hangup       after reading the request, close the connection cleanly (FIN) without sending
                 a byte of a response (outcome "hung_up"; after slow:S when both are given)

Scripted scenarios: ``up.script("error:503,retry:0.2", "abort", None)`` queues
scenarios for the next requests. Each request that arrives (any path, in arrival
order) takes the first queued entry and uses it *instead of* its own header/model
scenario; ``None`` or ``""`` means "answer this one normally, with its own
scenario". Once the queue is empty requests use their own scenarios again.
``up.scripted_left`` is the number of entries still queued; ``clear()`` and
``fresh()`` empty the queue. ``rec.scenario`` is the scenario applied and
``rec.scripted`` the queued entry it came from (None: the request's own).

``up.count(path=None)`` is the number of requests recorded (only those whose path
equals ``path`` when given).

Connect timeouts: ``with FakeUpstream.blackhole() as origin:`` yields
``"http://127.0.0.1:PORT"`` of a listener whose accept backlog is full and which
never accepts, so a new connect() gets no answer to its SYN and hangs until the
client's connect timeout (Linux; the helper checks that a probe connect does not
complete within 0.2 s and raises RuntimeError otherwise).

Output bounds are honoured like the real APIs do: Chat Completions
``max_completion_tokens`` (else ``max_tokens``), Responses ``max_output_tokens``,
Anthropic ``max_tokens``. The fake's output tokens are its content deltas, so a
bound below their number keeps the first ``bound`` deltas, reports ``bound``
output tokens and ends "truncated": chat ``finish_reason: "length"``, Anthropic
``stop_reason: "max_tokens"``, Responses ``status: "incomplete"`` with
``incomplete_details.reason == "max_output_tokens"`` (the stream ends with
``response.incomplete``). A bound that is not an integer counts as absent.
``rec.output_bound`` is the bound seen (None when absent), ``rec.truncated``
whether it cut the reply, ``rec.usage`` exactly the usage object sent (None
when none was).

Exact replies: a request header ``x-fake-reply`` holding base64url (padding
optional) of the JSON object ``{"chunks": ["...", ...], "tool": {"name": "lookup",
"chunks": ["{\"a\":", ...]}}`` makes the fake answer with exactly those text
deltas (the text is ``"".join(chunks)``) and/or one tool call whose arguments
stream as exactly those pieces (arguments = ``"".join(tool["chunks"])``; ``name``
defaults to ``"lookup"``). Both keys are optional; a reply without ``chunks`` (or
with an empty list) has no text, one without ``tool`` no tool call; ``{}`` answers
as usual. ``fake_reply_header(chunks=..., tool_name=..., tool_chunks=...)`` builds the
value. In every API, streaming or not:

    chat       text in ``message.content`` / ``delta.content``; the tool call in
               ``message.tool_calls`` (non-stream), or streamed as a delta with
               ``tool_calls=[{index: 0, id, type: "function", function: {name,
               arguments: ""}}]`` followed by one delta per argument piece;
               ``finish_reason: "tool_calls"``
    Responses  a ``message`` output item for the text, then a ``function_call`` item
               (``call_id``, ``name``, ``arguments``): ``output_item.added`` ->
               ``function_call_arguments.delta`` per piece -> ``.done`` ->
               ``output_item.done``; both items in ``response.completed``
    Anthropic  a ``text`` block for the text, a ``tool_use`` block at the next index
               (``input_json_delta`` with each piece as ``partial_json``; non-stream
               ``input`` is the parsed arguments); ``stop_reason: "tool_use"``

Usage reports the number of pieces (text deltas + argument pieces) as output
tokens. Output bounds are recorded but do not cut an exact reply. What was sent is
on the record: ``rec.reply`` (the text, "" without text), ``rec.reply_chunks``,
``rec.tool_name``, ``rec.tool_call_id``, ``rec.tool_chunks`` and
``rec.tool_arguments`` (None without a tool call). A header that does not decode
is answered with HTTP 400 (``invalid_request_error``). With ``"logprobs": true`` in
the object, the text carries log probabilities, one entry per delta whose
``token`` is the delta's text: chat ``choices[].logprobs.content`` (per chunk when
streaming), Responses ``logprobs`` of each ``output_text.delta``, of
``output_text.done`` and of the ``output_text`` part (in ``content_part.done``,
``output_item.done``, ``response.completed`` and the non-stream body).

Request bodies are checked like the real APIs check them (``fakes/wire_rules.py``), so a badly
built or badly translated request fails loudly: a ``POST /v1/messages`` or ``POST
/v1/chat/completions`` body that breaks a structural rule is answered with HTTP 400 in the
provider's own error shape and wording, before any scenario (slow, error:N, abort, ...) is
applied. Anthropic: ``{"type": "error", "error": {"type": "invalid_request_error", "message":
"messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: ..."}}``;
OpenAI: ``{"error": {"message": ..., "type": "invalid_request_error", "param": "messages.[1].role",
"code": null}}``. The rules:

    Messages   only known top-level fields ("<field>: Extra inputs are not permitted"); model
               string, max_tokens integer >= 1, messages a non-empty list; roles user/assistant
               (a "system" role is refused: the system prompt goes in the top-level field);
               consecutive same-role turns and a leading assistant turn are accepted, as the
               real API combines them; content a string or known blocks (text with non-empty
               text, image with a base64/url/file source, tool_use, tool_result, ...), non-empty
               except in a final assistant message; every tool_result answers a tool_use of the
               turn just before and comes before other blocks of its turn, every tool_use is
               answered in the next user turn (when there is one), tool_use ids are unique;
               system a string or text blocks; temperature and top_p in 0..1; stop_sequences
               strings; tools with name + input_schema of type object (an OpenAI
               ``{"type": "function"}`` tool is refused); tool_choice an object of type
               auto/any/tool/none (tool needs name); metadata holds only user_id
    Chat       no unknown top-level field ("Unrecognized request argument supplied: X"); model
               string; messages a non-empty list; roles system/developer/user/assistant/tool/
               function; user content a string or text/image_url(url)/input_audio/file parts,
               assistant content a string, text/refusal parts, or null with tool_calls (id, type
               function, function name + arguments string); a tool message's tool_call_id names
               a tool_call of the assistant message before it (tool messages may follow each
               other), and every tool_call is answered before the next non-tool message;
               temperature 0..2, top_p 0..1, n >= 1, stop a string or at most 4 strings, tools of
               type function with function.name, tool_choice none/auto/required or
               {type: function, function: {name}}, stream_options only with stream: true

Rules that depend on the model or the API version (prefill, thinking budgets, the sampling
fields later versions refuse) are not checked. ``rec.invalid`` is the message of the rule a
request broke (None when it passed or was not checked). ``FakeUpstream(validate=False)`` (or
``up.validate = False``) turns the checks off, for tests about the fake's own tolerance.

Every request is recorded (``up.requests``); every response's outcome
("completed", "client_gone", "dropped", "reset", "aborted", "hung_up", "stopped")
is recorded on it, so a test can see that the client went away mid-stream
(``up.wait_stream_closed(timeout)``).
"""

from __future__ import annotations

import base64
import collections
import contextlib
import errno
import gzip
import http.server
import json
import os
import re
import select
import socket
import struct
import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from . import wire_rules

__all__ = ["FakeUpstream", "RecordedRequest", "fake_reply_header", "output_bound", "parse_scenario", "reply_text",
           "split_chunks"]

DEFAULT_EVENT_DELAY = 0.02
CREATED = 1_700_000_000

_NUMBER = re.compile(r"^\d+(\.\d+)?$")


# --------------------------------------------------------------------------- helpers


def parse_scenario(header_value: Optional[str], model: Optional[str] = None) -> Dict[str, Optional[str]]:
    """Scenario options from the ``x-fake-scenario`` header and/or the model name.

    Header: ``name[:value]`` items separated by ``,`` or ``;`` (``=`` works too).
    Model:  everything after ``fake-``: ``name-value-name-value`` (values numeric).
    Header values win over model values.
    """
    out: Dict[str, Optional[str]] = {}
    if model and isinstance(model, str) and "fake-" in model:
        tokens = model.split("fake-", 1)[1].split("-")
        i = 0
        while i < len(tokens):
            name = tokens[i].strip().lower()
            value = None
            if i + 1 < len(tokens) and _NUMBER.match(tokens[i + 1]):
                value = tokens[i + 1]
                i += 1
            if name and not _NUMBER.match(name):
                out[name] = value
            i += 1
    if header_value:
        for item in re.split(r"[,;]", header_value):
            item = item.strip()
            if not item:
                continue
            m = re.match(r"^([A-Za-z_]+)\s*(?:[:=]\s*(.*))?$", item)
            if m:
                out[m.group(1).lower()] = (m.group(2) or "").strip() or None
    if "ratelimit" in out and "error" not in out:
        out["error"] = "429"
    return out


def _num(opts: Dict[str, Optional[str]], name: str, default: float) -> float:
    v = opts.get(name)
    if v is None:
        return default
    try:
        return float(v)
    except ValueError:
        return default


def reply_text(user_text: str) -> str:
    """The text the fake answers with (so tests can check which request went through)."""
    return "echo: " + (user_text or "")


def split_chunks(text: str, n: Optional[int] = None) -> List[str]:
    """Split ``text`` into content deltas: by words by default (at least 3 pieces),
    or into exactly ``n`` non-empty pieces. ``"".join(result) == text`` always."""
    if n is not None and n > 0:
        if len(text) < n:
            text = text + "." * (n - len(text))  # pragma: no cover - only tiny texts
        size, extra = divmod(len(text), n)
        out, pos = [], 0
        for i in range(n):
            step = size + (1 if i < extra else 0)
            out.append(text[pos:pos + step])
            pos += step
        return out
    pieces = re.findall(r"\S+\s*|\s+", text)
    if len(pieces) >= 3:
        return pieces
    return split_chunks(text, 3) if len(text) >= 3 else [text]


def _long_text(n: int) -> str:
    return "".join("tick %d " % i for i in range(n))


def _text_of(content: Any) -> str:
    """Plain text of an OpenAI/Anthropic message content (str or list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
        return " ".join(parts)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    return ""


def _last_user_text(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role", "user") == "user":
            return _text_of(m.get("content"))
    return ""


def _all_text(obj: Any) -> str:
    """Every string inside a JSON value (for a deterministic token count)."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, list):
        return " ".join(_all_text(x) for x in obj)
    if isinstance(obj, dict):
        return " ".join(_all_text(v) for k, v in obj.items() if k not in ("model",))
    return ""


def output_bound(body: Any, *fields: str) -> Optional[int]:
    """The first integer value among ``body[field]`` (bools, floats, strings... count as absent)."""
    if not isinstance(body, dict):
        return None
    for f in fields:
        v = body.get(f)
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return None


def count_tokens(text: str) -> int:
    """The fake's deterministic 'tokenizer': words + a fixed overhead."""
    return len(text.split()) + 7


class _BadFakeReply(ValueError):
    pass


class _FakeReply:
    """A decoded ``x-fake-reply`` header: exact text deltas and/or one tool call's argument pieces."""

    def __init__(self, chunks: Optional[List[str]], tool_name: Optional[str], tool_chunks: Optional[List[str]],
                 logprobs: bool = False):
        self.chunks = chunks or []
        self.tool_name = tool_name
        self.tool_chunks = tool_chunks
        self.logprobs = logprobs

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def has_tool(self) -> bool:
        return self.tool_chunks is not None

    @property
    def arguments(self) -> str:
        return "".join(self.tool_chunks or [])

    def parsed_arguments(self) -> Any:
        """The arguments as JSON (Anthropic's non-stream ``input``); ``{}`` when empty."""
        args = self.arguments
        if not args.strip():
            return {}
        try:
            return json.loads(args)
        except ValueError as e:
            raise _BadFakeReply("tool chunks are not a JSON document: %s" % e) from None


def fake_reply_header(chunks: Optional[List[str]] = None, tool_name: str = "lookup",
                      tool_chunks: Optional[List[str]] = None, logprobs: bool = False) -> str:
    """The ``x-fake-reply`` header value for these text deltas and/or tool-call argument pieces."""
    obj: Dict[str, Any] = {}
    if chunks is not None:
        obj["chunks"] = list(chunks)
    if tool_chunks is not None:
        obj["tool"] = {"name": tool_name, "chunks": list(tool_chunks)}
    if logprobs:
        obj["logprobs"] = True
    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _parse_fake_reply(value: Optional[str]) -> Optional[_FakeReply]:
    if value is None:
        return None
    v = value.strip()
    try:
        raw = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
        obj = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise _BadFakeReply("x-fake-reply is not base64url JSON: %s" % e) from None
    if not isinstance(obj, dict):
        raise _BadFakeReply("x-fake-reply must be a JSON object")
    chunks = obj.get("chunks")
    if chunks is not None and not (isinstance(chunks, list) and all(isinstance(c, str) for c in chunks)):
        raise _BadFakeReply("x-fake-reply: chunks must be a list of strings")
    tool = obj.get("tool")
    tool_name = tool_chunks = None
    if tool is not None:
        if not isinstance(tool, dict):
            raise _BadFakeReply("x-fake-reply: tool must be an object")
        tool_name = tool.get("name", "lookup")
        tool_chunks = tool.get("chunks", [])
        if not isinstance(tool_name, str) or not (
                isinstance(tool_chunks, list) and all(isinstance(c, str) for c in tool_chunks)):
            raise _BadFakeReply("x-fake-reply: tool needs a str name and a list of str chunks")
    if chunks is None and tool is None:
        return None  # {}: the usual reply
    return _FakeReply(chunks, tool_name, tool_chunks, obj.get("logprobs") is True)


def _chat_logprob(token: str) -> Dict[str, Any]:
    return {"token": token, "logprob": -0.25, "bytes": list(token.encode("utf-8")),
            "top_logprobs": [{"token": token, "logprob": -0.25, "bytes": list(token.encode("utf-8"))}]}


def _responses_logprob(token: str) -> Dict[str, Any]:
    return {"token": token, "logprob": -0.25, "top_logprobs": [{"token": token, "logprob": -0.25}]}


# Ids spelled with letters g-v only: a random hex id can hold a run like "411111" or "111111"
# (about once in a few hundred PII-split test runs), which the leak checks would take for a
# fragment of the test card or phone number.
_ID_LETTERS = str.maketrans("0123456789abcdef", "ghijklmnopqrstuv")


def _rid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24].translate(_ID_LETTERS)


class Headers:
    """Case-insensitive, multi-valued, ordered header view."""

    def __init__(self, items: List[Tuple[str, str]]):
        self._items = list(items)

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        name = name.lower()
        for k, v in self._items:
            if k.lower() == name:
                return v
        return default

    def get_all(self, name: str) -> List[str]:
        name = name.lower()
        return [v for k, v in self._items if k.lower() == name]

    def __getitem__(self, name: str) -> str:
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def items(self) -> List[Tuple[str, str]]:
        return list(self._items)

    def keys(self) -> List[str]:
        return [k for k, _ in self._items]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._items)

    def to_dict(self) -> Dict[str, str]:
        return {k.lower(): v for k, v in self._items}

    def __repr__(self) -> str:
        return "Headers(%r)" % (self._items,)


class RecordedRequest:
    """One request the fake received, and what it did with it."""

    def __init__(self, method: str, target: str, headers: Headers, body: bytes, client: Tuple[str, int]):
        self.method = method
        self.target = target
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.client = client
        self.received_at = time.monotonic()
        try:
            self.json: Any = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            self.json = None
        # filled in by the handler
        self.scenario: Dict[str, Optional[str]] = {}
        self.status: Optional[int] = None
        self.response_headers: Dict[str, str] = {}
        self.reply: Optional[str] = None
        self.reply_chunks: Optional[List[str]] = None  # the text deltas sent (x-fake-reply or the usual split)
        self.tool_name: Optional[str] = None  # x-fake-reply: the tool call sent (None: no tool call)
        self.tool_call_id: Optional[str] = None
        self.tool_chunks: Optional[List[str]] = None
        self.tool_arguments: Optional[str] = None
        self.fake_reply: Optional[_FakeReply] = None  # the decoded x-fake-reply header
        self.usage: Optional[Dict[str, Any]] = None  # exactly the usage object sent (None: none sent)
        self.output_bound: Optional[int] = None  # max_completion_tokens / max_tokens / max_output_tokens seen
        self.truncated = False  # the output bound cut the reply short
        self.stream = False
        self.events_sent = 0
        self.event_times: List[float] = []
        self.events: List[str] = []  # raw SSE text of every event sent
        self.started_at: Optional[float] = None
        self.ended_at: Optional[float] = None
        self.outcome: Optional[str] = None  # completed | client_gone | dropped | reset | aborted | hung_up | stopped
        self.scripted: Optional[str] = None  # the up.script(...) entry applied (None: the request's own scenario)
        self.invalid: Optional[str] = None  # the wire rule the body broke (answered 400), None when it passed

    @property
    def query_params(self) -> Dict[str, List[str]]:
        from urllib.parse import parse_qs

        return parse_qs(self.query, keep_blank_values=True)

    @property
    def model(self) -> Optional[str]:
        return self.json.get("model") if isinstance(self.json, dict) else None

    def __repr__(self) -> str:
        return "<RecordedRequest %s %s status=%s outcome=%s events=%d>" % (
            self.method, self.target, self.status, self.outcome, self.events_sent)


class _ClientGone(Exception):
    pass


class _Stopped(Exception):
    pass


# --------------------------------------------------------------------------- server


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, fake: "FakeUpstream"):
        self.fake = fake
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):  # pragma: no cover - keep test output clean
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, OSError, _Stopped, _ClientGone)):
            return
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-upstream/1.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections go away eventually

    server: _Server

    # -- plumbing ---------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, False)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, _ClientGone, _Stopped, socket.timeout):
            self.close_connection = True
        except OSError:
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            parts = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    # -- writing ----------------------------------------------------------

    def _send_head(self, rec: RecordedRequest, status: int, headers: List[Tuple[str, str]]) -> None:
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()  # flushes
        rec.status = status
        rec.response_headers = {k.lower(): v for k, v in headers}

    def _send_json(self, rec: RecordedRequest, status: int, obj: Any, extra: List[Tuple[str, str]]) -> None:
        data = json.dumps(obj).encode("utf-8")
        headers = [("Content-Type", "application/json")] + extra
        accepts_gzip = "gzip" in (rec.headers.get("accept-encoding") or "").lower()
        if ("gzip" in rec.scenario and accepts_gzip) or "gzipalways" in rec.scenario:
            data = gzip.compress(data)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(data))))
        self._send_head(rec, status, headers)
        if self.command != "HEAD":
            self.wfile.write(data)
        rec.outcome = "completed"
        rec.ended_at = time.monotonic()

    def _client_gone(self) -> bool:
        """True when the peer closed its side (readable + EOF, or an error)."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            data = self.connection.recv(1, socket.MSG_PEEK)
            return data == b""
        except (OSError, ValueError):
            return True

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` while watching for the client going away / server stop."""
        fake = self.server.fake
        deadline = time.monotonic() + seconds
        while True:
            if fake._stopping.is_set():
                raise _Stopped()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                r, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            except (OSError, ValueError):
                raise _ClientGone()
            if r:
                try:
                    data = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    raise _ClientGone()
                if data == b"":
                    raise _ClientGone()
                # the peer sent something (pipelining?) - just keep sleeping
                time.sleep(min(max(deadline - time.monotonic(), 0), 0.05))

    def _write_chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except OSError as e:
            raise _ClientGone() from e

    # -- dispatch ---------------------------------------------------------

    def _dispatch(self) -> None:
        fake = self.server.fake
        body = self._read_body()
        headers = Headers(list(self.headers.items()))
        rec = RecordedRequest(self.command, self.path, headers, body, self.client_address)
        fake._record(rec)
        try:
            self._handle(rec)
        except _ClientGone:
            rec.outcome = "client_gone"
            self.close_connection = True
        except _Stopped:
            rec.outcome = rec.outcome or "stopped"
            self.close_connection = True
        except ConnectionError:
            rec.outcome = "client_gone"
            self.close_connection = True
        finally:
            if rec.ended_at is None:
                rec.ended_at = time.monotonic()
            if rec.outcome is None:
                rec.outcome = "completed"
            fake._changed()

    def _provider_for(self, rec: RecordedRequest) -> str:
        if rec.path.startswith("/v1/messages") or rec.path.startswith("/v1/complete"):
            return "anthropic"
        if "anthropic-version" in rec.headers and not rec.path.startswith(("/v1/chat/", "/v1/responses", "/v1/embeddings")):
            return "anthropic"
        return "openai"

    def _base_headers(self, rec: RecordedRequest, provider: str) -> List[Tuple[str, str]]:
        fake = self.server.fake
        h: List[Tuple[str, str]] = [("x-fake-upstream", fake.name)]
        if provider == "anthropic":
            h += [
                ("request-id", _rid("req_")),
                ("anthropic-organization-id", "00000000-0000-0000-0000-000000000000"),
                ("anthropic-ratelimit-requests-limit", "4000"),
                ("anthropic-ratelimit-requests-remaining", "3999"),
                ("anthropic-ratelimit-requests-reset", "2030-01-01T00:00:00Z"),
                ("x-ratelimit-limit-requests", "4000"),
                ("x-ratelimit-remaining-requests", "3999"),
            ]
        else:
            h += [
                ("x-request-id", _rid("req_")),
                ("openai-organization", "fake-org"),
                ("openai-processing-ms", "12"),
                ("openai-version", "2020-10-01"),
                ("x-ratelimit-limit-requests", "10000"),
                ("x-ratelimit-remaining-requests", "9999"),
                ("x-ratelimit-limit-tokens", "30000000"),
                ("x-ratelimit-remaining-tokens", "29999990"),
                ("x-ratelimit-reset-requests", "6ms"),
                ("x-ratelimit-reset-tokens", "0s"),
            ]
        return h

    def _error(self, rec: RecordedRequest, provider: str, status: int, message: str,
               retry_after: Optional[str] = None, etype: Optional[str] = None,
               retry_after_ms: Optional[str] = None, param: Optional[str] = None) -> None:
        extra = self._base_headers(rec, provider)
        if retry_after is None and status in (429, 503, 529):
            retry_after = "2"
        if retry_after is not None:  # an explicit value ("0" included) wins over the default
            extra.append(("retry-after", retry_after))
        if retry_after_ms is not None:
            extra.append(("retry-after-ms", retry_after_ms))
        if status == 429:
            extra = [(k, "0" if k == "x-ratelimit-remaining-requests" else v) for k, v in extra]
        if provider == "anthropic":
            etype = etype or {
                400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                429: "rate_limit_error", 504: "timeout_error", 529: "overloaded_error",
            }.get(status, "api_error")
            body: Dict[str, Any] = {"type": "error", "error": {"type": etype, "message": message},
                                    "request_id": dict(extra).get("request-id")}
        else:
            etype, code = {
                400: ("invalid_request_error", None),
                401: ("invalid_request_error", "invalid_api_key"),
                403: ("invalid_request_error", "unsupported_country_region_territory"),
                404: ("invalid_request_error", "unknown_url"),
                429: ("requests", "rate_limit_exceeded"),
            }.get(status, ("server_error", None))
            body = {"error": {"message": message, "type": etype, "param": param, "code": code}}
        self._send_json(rec, status, body, extra)

    def _handle(self, rec: RecordedRequest) -> None:
        fake = self.server.fake
        provider = self._provider_for(rec)
        body = rec.json if isinstance(rec.json, dict) else {}
        if rec.scripted is not None:  # up.script(...): instead of the request's own scenario
            opts = parse_scenario(rec.scripted)
        else:
            opts = parse_scenario(rec.headers.get("x-fake-scenario"), body.get("model"))
        rec.scenario = opts

        if fake.handler is not None:
            if fake.handler(self, rec):
                return

        if fake.validate and self._refused(rec, provider):
            return

        slow = _num(opts, "slow", 0.0)
        if slow > 0:
            self._wait(slow)

        if "abort" in opts or "hangup" in opts:  # not a byte of a response: RST or FIN
            rst = "abort" in opts
            rec.outcome = "aborted" if rst else "hung_up"
            self._abort(rst=rst)
            rec.ended_at = time.monotonic()
            return

        if "error" in opts:
            status = int(_num(opts, "error", 500))
            retry = opts.get("retry")
            self._error(rec, provider, status, "fake upstream error %d (scenario)" % status, retry_after=retry,
                        retry_after_ms=opts.get("retryms"))
            return

        try:
            rec.fake_reply = _parse_fake_reply(rec.headers.get("x-fake-reply"))
        except _BadFakeReply as e:
            self._error(rec, provider, 400, str(e))
            return

        is_json = "json" in (rec.headers.get("content-type") or "application/json").lower()
        if rec.method == "POST" and rec.body and rec.json is None and is_json:
            if provider == "anthropic":
                msg = "There was an error parsing the body of your request."
            else:
                msg = ("We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                       "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                       "sent was not valid JSON.)")
            self._error(rec, provider, 400, msg)
            return

        route = (rec.method, rec.path)
        if route == ("POST", "/v1/chat/completions"):
            self._chat(rec, body, opts, provider)
        elif route == ("POST", "/v1/responses"):
            self._responses(rec, body, opts, provider)
        elif route == ("POST", "/v1/embeddings"):
            self._embeddings(rec, body, provider)
        elif route == ("POST", "/v1/messages"):
            self._messages(rec, body, opts)
        elif route == ("POST", "/v1/messages/count_tokens"):
            n = count_tokens(_all_text(body.get("messages")) + " " + _all_text(body.get("system")))
            rec.usage = {"input_tokens": n}
            self._send_json(rec, 200, {"input_tokens": n}, self._base_headers(rec, "anthropic"))
        elif rec.method in ("GET", "HEAD") and rec.path == "/v1/models":
            self._models(rec, provider)
        elif rec.method in ("GET", "HEAD") and rec.path.startswith("/v1/models/"):
            self._model(rec, provider, rec.path[len("/v1/models/"):])
        else:
            if provider == "anthropic":
                msg = "Not Found"
            else:
                msg = "Invalid URL (%s %s)" % (rec.method, rec.path)
            self._error(rec, provider, 404, msg)

    _WIRE_RULES = {
        "/v1/messages": wire_rules.anthropic_messages,
        "/v1/chat/completions": wire_rules.openai_chat,
    }

    def _refused(self, rec: RecordedRequest, provider: str) -> bool:
        """Answer 400 when the body breaks a rule the real API enforces (see wire_rules)."""
        rules = self._WIRE_RULES.get(rec.path)
        if rec.method != "POST" or rules is None or not isinstance(rec.json, dict):
            return False  # other endpoints, and bodies that are not JSON objects (answered below)
        problem = rules(rec.json)
        if problem is None:
            return False
        param, message = problem
        rec.invalid = message
        self._error(rec, provider, 400, message, param=param)
        return True

    # -- streaming --------------------------------------------------------

    def _stream(self, rec: RecordedRequest, provider: str, events: Iterator[Tuple[Optional[str], Any]],
                opts: Dict[str, Optional[str]], error_event: Callable[[], Tuple[Optional[str], Any]]) -> None:
        """Send an SSE response, one chunk per event, with delays between events."""
        fake = self.server.fake
        rec.stream = True
        delay = _num(opts, "delay", fake.event_delay)
        drop_after = int(_num(opts, "drop", -1))
        reset_after = int(_num(opts, "reset", -1))
        stall = _num(opts, "stall", 0.0)
        sse_error_after = int(_num(opts, "sseerror", -1))

        close_delimited = "closedelim" in opts
        headers = self._base_headers(rec, provider) + [
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-cache"),
        ]
        if close_delimited:  # no framing: the body ends when the connection closes
            headers.append(("Connection", "close"))
            self.close_connection = True
        else:
            headers.append(("Transfer-Encoding", "chunked"))
        self._send_head(rec, 200, headers)

        def write(data: bytes) -> None:
            if close_delimited:
                try:
                    self.wfile.write(data)
                except OSError as e:
                    raise _ClientGone() from e
            else:
                self._write_chunk(data)
        rec.started_at = time.monotonic()
        fake._changed()

        def emit(ev: Optional[str], data: Any) -> None:
            payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
            text = ("event: %s\n" % ev if ev else "") + "data: %s\n\n" % payload
            write(text.encode("utf-8"))
            rec.events.append(text)
            rec.events_sent += 1
            rec.event_times.append(time.monotonic())
            fake._changed()

        first = True
        for ev, data in events:
            if not first:
                self._wait(delay)
            if rec.events_sent == drop_after:
                rec.outcome = "dropped"
                self._abort(rst=False)
                return
            if rec.events_sent == reset_after:
                rec.outcome = "reset"
                self._abort(rst=True)
                return
            if rec.events_sent == sse_error_after:
                emit(*error_event())
                break
            emit(ev, data)
            if first and stall > 0:
                self._wait(stall)
            first = False
        if close_delimited:
            self._abort(rst=False)
        else:
            try:
                self.wfile.write(b"0\r\n\r\n")
            except OSError as e:
                raise _ClientGone() from e
        rec.outcome = "completed"
        rec.ended_at = time.monotonic()

    def _abort(self, rst: bool) -> None:
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    # -- OpenAI -----------------------------------------------------------

    def _usage_numbers(self, prompt_source: Any, reply_chunks: List[str], opts) -> Tuple[int, int, int]:
        prompt = count_tokens(_all_text(prompt_source))
        completion = len(reply_chunks)
        cached = int(_num(opts, "cached", 0))
        return prompt, completion, min(cached, prompt)

    def _reply(self, user_text: str, opts) -> Tuple[str, List[str]]:
        if "long" in opts:
            n = int(_num(opts, "long", 200))
            text = _long_text(n)
            return text, split_chunks(text, n)
        text = reply_text(user_text)
        if "chunks" in opts:
            return text, split_chunks(text, int(_num(opts, "chunks", 3)))
        return text, split_chunks(text)

    def _bounded(self, rec: RecordedRequest, body: dict, fields: Tuple[str, ...], text: str,
                 chunks: List[str]) -> Tuple[str, List[str]]:
        """Apply the request's output bound: keep the first ``bound`` deltas (one delta = one token).
        An exact reply (``x-fake-reply``) is recorded as it is and never cut."""
        bound = output_bound(body, *fields)
        rec.output_bound = bound
        fr = rec.fake_reply
        if fr is not None:
            rec.reply_chunks = list(fr.chunks)
            if fr.has_tool:
                rec.tool_name, rec.tool_chunks, rec.tool_arguments = fr.tool_name, list(fr.tool_chunks), fr.arguments
            return fr.text, list(fr.chunks)
        if bound is not None and len(chunks) > max(bound, 0):
            chunks = chunks[:max(bound, 0)]
            text = "".join(chunks)
            rec.truncated = True
        rec.reply_chunks = list(chunks)
        return text, chunks

    def _chat(self, rec: RecordedRequest, body: dict, opts, provider: str) -> None:
        model = body.get("model") or "gpt-4o-mini"
        tier = body.get("service_tier") if body.get("service_tier") in ("priority", "flex") else "default"
        text, chunks = self._reply(_last_user_text(body.get("messages")), opts)
        text, chunks = self._bounded(rec, body, ("max_completion_tokens", "max_tokens"), text, chunks)
        fr = rec.fake_reply
        tool = fr is not None and fr.has_tool
        finish = "tool_calls" if tool else ("length" if rec.truncated else "stop")
        p, c, cached = self._usage_numbers(body.get("messages"), chunks + (rec.tool_chunks or []), opts)
        usage: Optional[dict] = None if "nousage" in opts else {
            "prompt_tokens": p,
            "completion_tokens": c,
            "total_tokens": p + c,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        }
        rec.reply, rec.usage = text, usage
        cid = _rid("chatcmpl-")
        call_id = _rid("call_") if tool else None
        rec.tool_call_id = call_id
        # an exact reply with only a tool call has no text: content null, as the real API sends it
        has_text = not (fr is not None and not fr.chunks)
        lp = fr is not None and fr.logprobs
        if not body.get("stream"):
            message: Dict[str, Any] = {"role": "assistant", "content": text if has_text else None, "refusal": None,
                                       "annotations": []}
            if tool:
                message["tool_calls"] = [{"id": call_id, "type": "function",
                                          "function": {"name": rec.tool_name, "arguments": rec.tool_arguments}}]
            obj = {
                "id": cid,
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "choices": [{
                    "index": 0,
                    "message": message,
                    "logprobs": {"content": [_chat_logprob(p) for p in chunks], "refusal": None} if lp else None,
                    "finish_reason": finish,
                }],
                "service_tier": tier,
                "system_fingerprint": "fp_fake",
            }
            if usage is not None:
                obj["usage"] = usage
            self._send_json(rec, 200, obj, self._base_headers(rec, provider))
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict, finish: Optional[str], logprobs: Optional[dict] = None) -> dict:
            d = {
                "id": cid, "object": "chat.completion.chunk", "created": CREATED, "model": model,
                "service_tier": tier, "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}],
            }
            if include_usage:
                d["usage"] = None
            return d

        def events():
            yield None, chunk({"role": "assistant", "content": "" if has_text else None, "refusal": None}, None)
            for piece in chunks:
                yield None, chunk({"content": piece}, None,
                                  {"content": [_chat_logprob(piece)], "refusal": None} if lp else None)
            if tool:
                yield None, chunk({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                                   "function": {"name": rec.tool_name, "arguments": ""}}]}, None)
                for piece in rec.tool_chunks or []:
                    yield None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}, None)
            yield None, chunk({}, finish)
            if include_usage and usage is not None:
                yield None, {
                    "id": cid, "object": "chat.completion.chunk", "created": CREATED, "model": model,
                    "service_tier": tier, "system_fingerprint": "fp_fake", "choices": [], "usage": usage,
                }
            yield None, "[DONE]"

        def error_event():
            return None, {"error": {"message": "fake mid-stream error", "type": "server_error",
                                    "param": None, "code": None}}

        self._stream(rec, provider, events(), opts, error_event)

    def _responses(self, rec: RecordedRequest, body: dict, opts, provider: str) -> None:
        model = body.get("model") or "gpt-4o-mini"
        tier = body.get("service_tier") if body.get("service_tier") in ("priority", "flex") else "default"
        inp = body.get("input")
        user = inp if isinstance(inp, str) else _last_user_text(
            [x for x in (inp or []) if isinstance(x, dict) and x.get("type", "message") == "message"])
        text, chunks = self._reply(user, opts)
        text, chunks = self._bounded(rec, body, ("max_output_tokens",), text, chunks)
        final_status = "incomplete" if rec.truncated else "completed"
        fr = rec.fake_reply
        tool = fr is not None and fr.has_tool
        has_text = not (fr is not None and not fr.chunks)
        all_lp = [_responses_logprob(piece) for piece in chunks] if fr is not None and fr.logprobs else []
        p, c, cached = self._usage_numbers([inp, body.get("instructions")], chunks + (rec.tool_chunks or []), opts)
        usage: Optional[dict] = None if "nousage" in opts else {
            "input_tokens": p,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": c,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": p + c,
        }
        rec.reply, rec.usage = text, usage
        resp_id = _rid("resp_")
        msg_id = _rid("msg_")
        fc_id = _rid("fc_")
        call_id = _rid("call_") if tool else None
        rec.tool_call_id = call_id
        fc_index = 1 if has_text else 0

        def response_obj(status: str, output: list, usage_value: Optional[dict]) -> dict:
            return {
                "id": resp_id, "object": "response", "created_at": CREATED,
                "status": status, "background": False, "error": None,
                "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
                "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
                "max_tool_calls": None, "model": model, "output": output, "parallel_tool_calls": True,
                "previous_response_id": body.get("previous_response_id"),
                "reasoning": {"effort": None, "summary": None}, "service_tier": tier,
                "store": True, "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tool_choice": "auto", "tools": [], "top_logprobs": 0, "top_p": 1.0,
                "truncation": "disabled", "usage": usage_value, "user": None, "metadata": {},
            }

        def message(status: str, content_text: Optional[str]) -> dict:
            content = [] if content_text is None else [
                {"type": "output_text", "annotations": [], "logprobs": all_lp, "text": content_text}]
            return {"id": msg_id, "type": "message", "status": status, "content": content, "role": "assistant"}

        def function_call(status: str, arguments: str) -> dict:
            return {"id": fc_id, "type": "function_call", "status": status, "arguments": arguments,
                    "call_id": call_id, "name": rec.tool_name}

        def final_output() -> list:
            out = [message(final_status, text)] if has_text else []
            if tool:
                out.append(function_call("completed", rec.tool_arguments or ""))
            return out

        if not body.get("stream"):
            obj = response_obj(final_status, final_output(), usage)
            if usage is None:
                del obj["usage"]
            self._send_json(rec, 200, obj, self._base_headers(rec, provider))
            return

        def events():
            seq = iter(range(10**9))
            yield "response.created", {"type": "response.created", "sequence_number": next(seq),
                                       "response": response_obj("in_progress", [], None)}
            yield "response.in_progress", {"type": "response.in_progress", "sequence_number": next(seq),
                                           "response": response_obj("in_progress", [], None)}
            if has_text:
                yield "response.output_item.added", {"type": "response.output_item.added",
                                                     "sequence_number": next(seq),
                                                     "output_index": 0, "item": message("in_progress", None)}
                yield "response.content_part.added", {
                    "type": "response.content_part.added", "sequence_number": next(seq), "item_id": msg_id,
                    "output_index": 0, "content_index": 0,
                    "part": {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}}
                for piece in chunks:
                    yield "response.output_text.delta", {
                        "type": "response.output_text.delta", "sequence_number": next(seq), "item_id": msg_id,
                        "output_index": 0, "content_index": 0, "delta": piece,
                        "logprobs": [_responses_logprob(piece)] if all_lp else []}
                yield "response.output_text.done", {
                    "type": "response.output_text.done", "sequence_number": next(seq), "item_id": msg_id,
                    "output_index": 0, "content_index": 0, "text": text, "logprobs": all_lp}
                yield "response.content_part.done", {
                    "type": "response.content_part.done", "sequence_number": next(seq), "item_id": msg_id,
                    "output_index": 0, "content_index": 0,
                    "part": {"type": "output_text", "annotations": [], "logprobs": all_lp, "text": text}}
                yield "response.output_item.done", {"type": "response.output_item.done",
                                                    "sequence_number": next(seq),
                                                    "output_index": 0, "item": message(final_status, text)}
            if tool:
                yield "response.output_item.added", {"type": "response.output_item.added",
                                                     "sequence_number": next(seq), "output_index": fc_index,
                                                     "item": function_call("in_progress", "")}
                for piece in rec.tool_chunks or []:
                    yield "response.function_call_arguments.delta", {
                        "type": "response.function_call_arguments.delta", "sequence_number": next(seq),
                        "item_id": fc_id, "output_index": fc_index, "delta": piece}
                yield "response.function_call_arguments.done", {
                    "type": "response.function_call_arguments.done", "sequence_number": next(seq),
                    "item_id": fc_id, "output_index": fc_index, "name": rec.tool_name,
                    "arguments": rec.tool_arguments}
                yield "response.output_item.done", {"type": "response.output_item.done",
                                                    "sequence_number": next(seq), "output_index": fc_index,
                                                    "item": function_call("completed", rec.tool_arguments or "")}
            yield "response." + final_status, {
                "type": "response." + final_status, "sequence_number": next(seq),
                "response": response_obj(final_status, final_output(), usage)}

        def error_event():
            return "error", {"type": "error", "code": "server_error", "message": "fake mid-stream error",
                             "param": None, "sequence_number": rec.events_sent}

        self._stream(rec, provider, events(), opts, error_event)

    def _embeddings(self, rec: RecordedRequest, body: dict, provider: str) -> None:
        inp = body.get("input")
        items = inp if isinstance(inp, list) and inp and not isinstance(inp[0], int) else [inp]
        dims = int(body.get("dimensions") or 8)
        data = []
        for i, item in enumerate(items):
            s = _all_text(item) if not isinstance(item, list) else " ".join(map(str, item))
            vec = [round(((hash((s, j)) % 2000) - 1000) / 1000.0, 3) for j in range(dims)]
            vec[0] = float(len(s))  # recognisable
            if body.get("encoding_format") == "base64":
                emb: Any = base64.b64encode(struct.pack("<%df" % dims, *vec)).decode("ascii")
            else:
                emb = vec
            data.append({"object": "embedding", "index": i, "embedding": emb})
        p = count_tokens(_all_text(items))
        usage = {"prompt_tokens": p, "total_tokens": p}
        rec.usage = usage
        self._send_json(rec, 200, {"object": "list", "data": data, "model": body.get("model") or "text-embedding-3-small",
                                   "usage": usage}, self._base_headers(rec, provider))

    _OPENAI_MODELS = ["gpt-4o", "gpt-4o-mini", "o3-mini", "text-embedding-3-small"]
    _ANTHROPIC_MODELS = ["claude-sonnet-4-5", "claude-3-5-haiku-latest"]

    def _models(self, rec: RecordedRequest, provider: str) -> None:
        if provider == "anthropic":
            data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
                    for m in self._ANTHROPIC_MODELS]
            obj = {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        else:
            obj = {"object": "list", "data": [{"id": m, "object": "model", "created": CREATED, "owned_by": "system"}
                                              for m in self._OPENAI_MODELS]}
        self._send_json(rec, 200, obj, self._base_headers(rec, provider))

    def _model(self, rec: RecordedRequest, provider: str, model_id: str) -> None:
        if provider == "anthropic":
            obj: dict = {"type": "model", "id": model_id, "display_name": model_id,
                         "created_at": "2025-01-01T00:00:00Z"}
        else:
            obj = {"id": model_id, "object": "model", "created": CREATED, "owned_by": "system"}
        self._send_json(rec, 200, obj, self._base_headers(rec, provider))

    # -- Anthropic --------------------------------------------------------

    def _messages(self, rec: RecordedRequest, body: dict, opts) -> None:
        model = body.get("model") or "claude-sonnet-4-5"
        text, chunks = self._reply(_last_user_text(body.get("messages")), opts)
        text, chunks = self._bounded(rec, body, ("max_tokens",), text, chunks)
        fr = rec.fake_reply
        tool = fr is not None and fr.has_tool
        has_text = not (fr is not None and not fr.chunks)
        stop_reason = "tool_use" if tool else ("max_tokens" if rec.truncated else "end_turn")
        tool_input: Any = None
        if tool and not body.get("stream"):
            try:
                tool_input = fr.parsed_arguments()
            except _BadFakeReply as e:
                self._error(rec, "anthropic", 400, str(e))
                return
        p, c, cached = self._usage_numbers([body.get("messages"), body.get("system")],
                                           chunks + (rec.tool_chunks or []), opts)
        written = max(0, min(int(_num(opts, "cachewrite", 0)), p - cached))
        written_1h = max(0, min(int(_num(opts, "cachewrite_hour", 0)), written))
        usage: Optional[dict] = None if "nousage" in opts else {
            "input_tokens": p - cached - written,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": cached,
            "cache_creation": {"ephemeral_5m_input_tokens": written - written_1h,
                               "ephemeral_1h_input_tokens": written_1h},
            "output_tokens": c,
            "service_tier": "standard",
        }
        rec.reply, rec.usage = text, usage
        mid = _rid("msg_01")
        tool_id = _rid("toolu_01") if tool else None
        rec.tool_call_id = tool_id
        tool_index = 1 if has_text else 0
        if not body.get("stream"):
            content: List[dict] = [{"type": "text", "text": text}] if has_text else []
            if tool:
                content.append({"type": "tool_use", "id": tool_id, "name": rec.tool_name, "input": tool_input})
            obj = {
                "id": mid, "type": "message", "role": "assistant", "model": model,
                "content": content,
                "stop_reason": stop_reason, "stop_sequence": None,
            }
            if usage is not None:
                obj["usage"] = usage
            self._send_json(rec, 200, obj, self._base_headers(rec, "anthropic"))
            return

        def events():
            start: dict = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
                           "stop_reason": None, "stop_sequence": None}
            if usage is not None:
                start["usage"] = dict(usage, output_tokens=1)
            yield "message_start", {"type": "message_start", "message": start}
            if has_text:
                yield "content_block_start", {"type": "content_block_start", "index": 0,
                                              "content_block": {"type": "text", "text": ""}}
                yield "ping", {"type": "ping"}
                for piece in chunks:
                    yield "content_block_delta", {"type": "content_block_delta", "index": 0,
                                                  "delta": {"type": "text_delta", "text": piece}}
                yield "content_block_stop", {"type": "content_block_stop", "index": 0}
            if tool:
                yield "content_block_start", {"type": "content_block_start", "index": tool_index,
                                              "content_block": {"type": "tool_use", "id": tool_id,
                                                                "name": rec.tool_name, "input": {}}}
                for piece in rec.tool_chunks or []:
                    yield "content_block_delta", {"type": "content_block_delta", "index": tool_index,
                                                  "delta": {"type": "input_json_delta", "partial_json": piece}}
                yield "content_block_stop", {"type": "content_block_stop", "index": tool_index}
            delta: dict = {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}}
            if usage is not None:
                delta["usage"] = {k: usage[k] for k in ("input_tokens", "cache_creation_input_tokens",
                                                        "cache_read_input_tokens", "output_tokens")}
            yield "message_delta", delta
            yield "message_stop", {"type": "message_stop"}

        def error_event():
            return "error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

        self._stream(rec, "anthropic", events(), opts, error_event)


# --------------------------------------------------------------------------- public class


class FakeUpstream:
    """A fake OpenAI + Anthropic upstream on loopback. Use as a context manager."""

    def __init__(self, event_delay: float = DEFAULT_EVENT_DELAY, *, host: str = "127.0.0.1", port: int = 0,
                 name: str = "fake", handler: Optional[Callable[[_Handler, RecordedRequest], bool]] = None,
                 validate: bool = True):
        self.event_delay = event_delay
        self.validate = validate  # check Messages / Chat Completions bodies like the real APIs (wire_rules)
        self.host = host
        self.name = name
        self.handler = handler  # optional hook: return True when it answered the request itself
        self._requested_port = port
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.RLock()  # predicates of wait_until may read the records again
        self._cond = threading.Condition(self._lock)
        self._requests: List[RecordedRequest] = []
        self._script: "collections.deque[Optional[str]]" = collections.deque()  # up.script(...) entries
        self._conns: set = set()
        self._stopping = threading.Event()

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> "FakeUpstream":
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self._requested_port), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-upstream-%s" % self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    close = stop

    def __enter__(self) -> "FakeUpstream":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeUpstream is not running"
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return "http://%s:%d" % (self.host, self.port)

    @property
    def base_url(self) -> str:
        """The OpenAI SDK style base URL (origin + /v1)."""
        return self.origin + "/v1"

    # -- records ------------------------------------------------------------

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def _record(self, rec: RecordedRequest) -> None:
        with self._cond:
            if self._script:  # the next scripted scenario, taken in arrival order
                rec.scripted = self._script.popleft() or None
            self._requests.append(rec)
            self._cond.notify_all()

    def _changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    @property
    def requests(self) -> List[RecordedRequest]:
        """A snapshot of every request received so far (oldest first)."""
        with self._lock:
            return list(self._requests)

    @property
    def last(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise AssertionError("the fake upstream received no request")
            return self._requests[-1]

    def clear(self) -> None:
        """Forget the recorded requests and empty the scripted queue."""
        with self._lock:
            self._requests.clear()
            self._script.clear()

    def script(self, *scenarios: Optional[str]) -> "FakeUpstream":
        """Queue scenarios for the next requests (one entry per request, in arrival order, any path).

        An entry (``"error:503,retry:0.2"``, header syntax) replaces the request's own
        header/model scenario; ``None`` or ``""`` lets that request use its own.
        """
        for s in scenarios:
            if s is not None and not isinstance(s, str):
                raise TypeError("script entries are scenario strings or None, not %r" % (s,))
        with self._lock:
            self._script.extend(scenarios)
        return self

    @property
    def scripted_left(self) -> int:
        """How many scripted entries are still queued."""
        with self._lock:
            return len(self._script)

    def count(self, path: Optional[str] = None) -> int:
        """The number of recorded requests (only those whose path equals ``path`` when given)."""
        with self._lock:
            return sum(1 for r in self._requests if path is None or r.path == path)

    def fresh(self, event_delay: float) -> "FakeUpstream":
        """Ready for the next test: the last one's streams over, no recorded requests, the given pacing."""
        self.wait_idle(2)
        self.clear()
        self.event_delay = event_delay
        return self

    @property
    def streams(self) -> List[RecordedRequest]:
        return [r for r in self.requests if r.stream]

    @property
    def open_streams(self) -> int:
        return sum(1 for r in self.requests if r.stream and r.ended_at is None)

    @property
    def streams_closed_by_client(self) -> int:
        return sum(1 for r in self.requests if r.stream and r.outcome == "client_gone")

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if predicate():
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))

    def wait_for_requests(self, n: int = 1, timeout: float = 5.0) -> bool:
        return self.wait_until(lambda: len(self._requests) >= n, timeout)

    def wait_stream_started(self, timeout: float = 5.0) -> bool:
        return self.wait_until(lambda: any(r.stream and r.started_at is not None for r in self._requests), timeout)

    def wait_stream_closed(self, timeout: float = 5.0) -> bool:
        """Wait until a stream ended early because the client went away."""
        return self.wait_until(lambda: any(r.stream and r.outcome == "client_gone" for r in self._requests), timeout)

    def wait_client_gone(self, timeout: float = 5.0) -> bool:
        """Wait until any request (stream or a slow head) ended because the client went away."""
        return self.wait_until(lambda: any(r.outcome == "client_gone" for r in self._requests), timeout)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every request has been answered (or abandoned)."""
        return self.wait_until(lambda: all(r.ended_at is not None for r in self._requests), timeout)

    @staticmethod
    @contextlib.contextmanager
    def blackhole(host: str = "127.0.0.1", probe_timeout: float = 0.2) -> Iterator[str]:
        """A listener whose connect() attempts hang (for connect-timeout tests); yields its origin.

        The socket listens with a backlog of 0 and never accepts. Probe connects fill the
        accept queue until one does not complete within ``probe_timeout``: from then on the
        kernel drops new SYNs (Linux), so clients wait until their connect timeout. Raises
        RuntimeError when the kernel answers instead (refuses, or keeps accepting).
        """
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        fillers: List[socket.socket] = []
        try:
            listener.bind((host, 0))
            listener.listen(0)
            addr = listener.getsockname()[:2]
            for _ in range(16):
                probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                probe.setblocking(False)
                err = probe.connect_ex(addr)
                if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                    probe.close()
                    raise RuntimeError("blackhole: the kernel answered a connect to the full listener "
                                       "(%s) instead of dropping it" % (os.strerror(err),))
                _, w, _ = select.select([], [probe], [], probe_timeout)
                if not w:  # no answer to the SYN: the backlog is full
                    probe.close()
                    break
                err = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    probe.close()
                    raise RuntimeError("blackhole: the kernel answered a connect to the full listener "
                                       "(%s) instead of dropping it" % (os.strerror(err),))
                fillers.append(probe)  # connected: it sits in the accept queue
            else:
                raise RuntimeError("blackhole: %d connects completed and the listener's backlog never filled "
                                   "(not Linux?)" % len(fillers))
            yield "http://%s:%d" % addr
        finally:
            for s in fillers:
                try:
                    s.close()
                except OSError:
                    pass
            listener.close()

    def __repr__(self) -> str:
        state = self.origin if self._server else "stopped"
        return "<FakeUpstream %s %s requests=%d>" % (self.name, state, len(self._requests))


def main(argv: Optional[List[str]] = None) -> None:  # pragma: no cover - manual use / benchmarks
    import argparse

    ap = argparse.ArgumentParser(description="Run the fake OpenAI/Anthropic upstream.")
    ap.add_argument("--port", type=int, default=8900)
    ap.add_argument("--delay", type=float, default=DEFAULT_EVENT_DELAY)
    a = ap.parse_args(argv)
    with FakeUpstream(a.delay, port=a.port) as up:
        print("fake upstream on", up.origin, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
