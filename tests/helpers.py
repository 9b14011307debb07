"""Small helpers shared by the router tests."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any, Dict, Iterable, Optional, Tuple

import anthropic
import openai

# Fake "real" provider keys. They must never be seen by a client or a log.
OPENAI_KEY = "sk-proj-REALopenaiKEY-0123456789abcdefABCDEF"
ANTHROPIC_KEY = "sk-ant-api03-REALanthropicKEY-0123456789abcdef"
IC_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhZ2VudF9pZCI6ImFnZW50XzEifQ.SECRETicTOKENsig"

MSG = [{"role": "user", "content": "hello router"}]
TIMEOUT = 10.0


def origin(router) -> str:
    """``http://127.0.0.1:PORT`` (the Anthropic SDK's base URL has no ``/v1``)."""
    base = router.base_url
    assert base.endswith("/v1"), base
    return base[: -len("/v1")]


def oai_client(router, *, prefix: str = "", api_key: Optional[str] = "__router__", **kw) -> openai.OpenAI:
    key = router.api_key if api_key == "__router__" else api_key
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", TIMEOUT)
    return openai.OpenAI(base_url=origin(router) + prefix + "/v1", api_key=key, **kw)


def oai_async(router, *, prefix: str = "", api_key: Optional[str] = "__router__", **kw) -> openai.AsyncOpenAI:
    key = router.api_key if api_key == "__router__" else api_key
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", TIMEOUT)
    return openai.AsyncOpenAI(base_url=origin(router) + prefix + "/v1", api_key=key, **kw)


def ant_client(router, *, prefix: str = "", api_key: Optional[str] = "__router__", **kw) -> anthropic.Anthropic:
    key = router.api_key if api_key == "__router__" else api_key
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", TIMEOUT)
    return anthropic.Anthropic(base_url=origin(router) + prefix, api_key=key, **kw)


def ant_async(router, *, prefix: str = "", api_key: Optional[str] = "__router__", **kw) -> anthropic.AsyncAnthropic:
    key = router.api_key if api_key == "__router__" else api_key
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", TIMEOUT)
    return anthropic.AsyncAnthropic(base_url=origin(router) + prefix, api_key=key, **kw)


class RawResponse:
    def __init__(self, status: int, reason: str, headers: Dict[str, str], body: bytes, elapsed: float):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-cased names
        self.body = body
        self.elapsed = elapsed

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return "<RawResponse %d %r %s>" % (self.status, self.headers, self.body[:300])


def raw(router_or_port, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
        *, auth: Optional[str] = "bearer", host: Optional[str] = None, timeout: float = TIMEOUT,
        chunked: bool = False) -> RawResponse:
    """One HTTP/1.1 request with full control over the headers (including Host).

    ``auth``: "bearer" (Authorization: Bearer <router.api_key>), "x-api-key", or None.
    ``body``: bytes, str, or a JSON-able object.
    """
    port = router_or_port if isinstance(router_or_port, int) else router_or_port.port
    token = None if isinstance(router_or_port, int) else router_or_port.api_key
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.monotonic()
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else "127.0.0.1:%d" % port)
        hdrs = dict(headers or {})
        if auth == "bearer" and token:
            hdrs.setdefault("Authorization", "Bearer " + token)
        elif auth == "x-api-key" and token:
            hdrs.setdefault("x-api-key", token)
        data: Optional[bytes]
        if body is None:
            data = None
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = json.dumps(body).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        if data is not None and not chunked:
            hdrs["Content-Length"] = str(len(data))
        if chunked:
            hdrs["Transfer-Encoding"] = "chunked"
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if data is not None:
            if chunked:
                step = 16 * 1024
                for i in range(0, len(data), step):
                    part = data[i:i + step]
                    conn.send(b"%x\r\n%s\r\n" % (len(part), part))
                conn.send(b"0\r\n\r\n")
            else:
                conn.send(data)
        resp = conn.getresponse()
        payload = resp.read()
        return RawResponse(resp.status, resp.reason, {k.lower(): v for k, v in resp.getheaders()}, payload,
                           time.monotonic() - t0)
    finally:
        conn.close()


def assert_openai_error(body: Any) -> Dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}`` with a non-empty message."""
    assert isinstance(body, dict), body
    assert set(body) >= {"error"}, body
    err = body["error"]
    assert isinstance(err, dict), body
    assert {"message", "type", "param", "code"} <= set(err), body
    assert isinstance(err["message"], str) and err["message"], body
    assert isinstance(err["type"], str) and err["type"], body
    return err


def assert_anthropic_error(body: Any) -> Dict[str, Any]:
    """``{"type": "error", "error": {"type", "message"}}`` with a non-empty message."""
    assert isinstance(body, dict), body
    assert body.get("type") == "error", body
    err = body.get("error")
    assert isinstance(err, dict), body
    assert isinstance(err.get("type"), str) and err["type"], body
    assert isinstance(err.get("message"), str) and err["message"], body
    return err


def assert_no_secret(text: Any, *secrets: str) -> None:
    s = text if isinstance(text, str) else (text.decode("utf-8", "replace") if isinstance(text, bytes) else repr(text))
    for secret in secrets:
        if secret:
            assert secret not in s, "a secret leaked into: %s" % s[:500]


def all_header_values(rec) -> str:
    return "\n".join("%s: %s" % kv for kv in rec.headers.items())


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def can_bind(port: int) -> bool:
    """True when a plain listening socket can take ``port`` right now."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


def timed_iter(iterable: Iterable[Any]) -> Tuple[list, list]:
    """Consume ``iterable``; return (items, monotonic arrival times)."""
    items, times = [], []
    for x in iterable:
        items.append(x)
        times.append(time.monotonic())
    return items, times


def assert_incremental(arrivals: list, rec, min_early: int = 2) -> None:
    """The client saw events while the fake was still sending: the first item arrived
    well before the fake wrote its last event, and several items did."""
    sent = rec.event_times
    assert len(sent) >= 4, sent
    last_sent = sent[-1]
    early = [t for t in arrivals if t < last_sent - 0.05]
    assert arrivals and arrivals[0] < last_sent - 0.15, (
        "first event reached the client %.3fs after the fake wrote its last one (buffered?)" % (arrivals[0] - last_sent))
    assert len(early) >= min_early, "only %d events arrived before the stream ended upstream" % len(early)


def as_forwarded(event: str) -> str:
    """An OpenAI chat event as a client that did not ask for usage receives it: the router asked
    the provider for usage on its behalf and removes the ``"usage":null`` member it adds."""
    return event.replace(',"usage":null', "")


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (returned) or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s (last: %r)" % (timeout, what, value))
        time.sleep(0.02)
