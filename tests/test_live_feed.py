"""Issue 7, live feed: the WebSocket at ``router.events_url`` (the ``websockets`` client) and the
Server-Sent Events of ``GET /iron/events`` (plain ``http.client``) both carry a scripted scenario
through the real ``openai`` SDK against the fake upstream (a call, budget alerts, a PII detection,
a 402), in order and with the right payloads, next to the dashboard protocol's STATE_UPDATE /
AGENT_EVENT / COST_ALERT; clients without the admin token are refused; subscribers that never read
do not change what the proxy answers, and are dropped and counted.
"""
import http.client
import json
import socket
import threading
import time
import urllib.parse

import openai
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from helpers import ANTHROPIC_KEY, OPENAI_KEY, oai_client, refuses_connections, wait_for
from iron_runtime import LlmRouter

MODEL = "gpt-4o-mini"
EMAIL = "jane.doe@example.com"
SCENARIO = ["request_completed", "budget_threshold_reached", "pii_detected", "request_completed",
            "budget_threshold_reached", "budget_exceeded"]


def make(tmp_path, oai_up, **kw):
    kw.setdefault("state_dir", tmp_path / "state")
    return LlmRouter(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=oai_up.origin,
                     read_timeout=20, max_retries=0, **kw)


def chat(router, content):
    """One chat call through the SDK; the status code (200 or the error's)."""
    try:
        oai_client(router).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}],
                                                   max_tokens=20)
        return 200
    except openai.APIStatusError as e:
        return e.status_code


class WsFeed:
    """A WebSocket subscriber reading on its own thread: every message parsed, and the close it got."""

    def __init__(self, router, *, bearer=None, first_message=None, origin=None):
        headers = {"Authorization": "Bearer " + bearer} if bearer else None
        # Entered like `with connect(...) as ws:`, which websockets wants; closed by close().
        self.ws = connect(router.events_url, additional_headers=headers, origin=origin, proxy=None,
                          open_timeout=20).__enter__()
        if first_message is not None:
            self.ws.send(first_message)
        self.raw = []
        self.lock = threading.Lock()
        self.closed = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for text in self.ws:
                with self.lock:
                    self.raw.append(text)
        except ConnectionClosed:
            pass
        self.closed = (self.ws.close_code, self.ws.close_reason)

    def messages(self):
        with self.lock:
            return [json.loads(t) for t in self.raw]

    def close(self):
        self.ws.close()


class SseFeed:
    """An SSE subscriber over http.client: the blocks as dicts of their fields, read on its own thread."""

    def __init__(self, router, query="", headers=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", router.port, timeout=60)
        self.conn.request("GET", "/iron/events" + query, headers=headers or {})
        self.response = self.conn.getresponse()
        self.blocks = []
        self.lock = threading.Lock()
        self.ended = False
        if self.response.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        block = {}
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                line = line.decode("utf-8").rstrip("\n")
                if not line:
                    with self.lock:
                        self.blocks.append(block)
                    block = {}
                    continue
                name, _, value = line.partition(":")
                block[name] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError, http.client.HTTPException):
            pass
        self.ended = True

    def events(self):
        """The blocks that carry a message (not the ``retry:`` one)."""
        with self.lock:
            return [b for b in self.blocks if "data" in b]

    def messages(self):
        return [json.loads(b["data"]) for b in self.events()]

    def close(self):
        if self.conn.sock is not None:  # unblocks the reading thread
            try:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conn.close()


def engine(messages):
    """The engine events among the messages (their types are lower case; the protocol's upper case)."""
    return [m for m in messages if m["type"].islower()]


def after(messages, event_id):
    """The message right after the engine event ``event_id``."""
    i = next(i for i, m in enumerate(messages) if m.get("event_id") == event_id)
    return messages[i + 1]


def test_the_scenario_reaches_both_feeds_in_order_with_its_payloads(tmp_path, oai_up):
    router = make(tmp_path, oai_up, budget=1.0, budget_alerts=[0.000001, 0.95])
    ws = sse = None
    try:
        token = router.admin_token
        ws = WsFeed(router, bearer=token)
        # A browser's EventSource cannot send headers: the token rides in the query.
        sse = SseFeed(router, "?token=" + urllib.parse.quote(token))
        assert sse.response.status == 200
        assert sse.response.getheader("Content-Type") == "text/event-stream"
        wait_for(lambda: ws.messages() and sse.messages(), what="both greetings")
        for hello in (ws.messages()[0], sse.messages()[0]):
            assert (hello["type"], hello["state"], hello["agent_id"]) == ("STATE_UPDATE", "running", None)
            assert hello["data"]["budget_limit"] == 1.0 and hello["data"]["budget_spent"] == 0
            assert hello["data"]["feed_subscribers"] >= 1
            assert hello["timestamp"].endswith("Z") and abs(hello["timestamp_ms"] - time.time() * 1000) < 60_000

        assert chat(router, "hello there") == 200                  # request_completed + the first alert
        assert chat(router, "write to %s please" % EMAIL) == 200   # pii_detected + request_completed
        router.set_budget(0.000000001)                             # crosses 0.95 at once: a critical alert
        assert chat(router, "one more") == 402                     # budget_exceeded

        for feed in (ws, sse):
            wait_for(lambda: [m["type"] for m in engine(feed.messages())] == SCENARIO,
                     what="the scenario on the %s feed" % type(feed).__name__)
        stored = [e for e in router.events() if e["type"] != "router_started"]
        assert [e["type"] for e in stored] == SCENARIO
        for feed in (ws, sse):
            got = feed.messages()
            assert engine(got) == stored, "the engine events as router.events() has them, in order"

            completed = [e for e in stored if e["type"] == "request_completed"]
            for e in completed:
                call = after(got, e["event_id"])
                assert (call["type"], call["event"], call["agent_id"]) == ("AGENT_EVENT", "llm_call", None)
                assert call["data"]["model"] == MODEL
                assert call["data"]["tokens"] == e["input_tokens"] + e["output_tokens"] > 0
                assert call["data"]["cost_usd"] == e["cost"] > 0
                assert call["data"]["request_id"] == e["request_id"]
                assert call["timestamp_ms"] == e["timestamp_ms"]

            first_alert, second_alert = [e for e in stored if e["type"] == "budget_threshold_reached"]
            warning = after(got, first_alert["event_id"])
            assert (warning["type"], warning["severity"], warning["agent_id"]) == ("COST_ALERT", "warning", None)
            assert warning["data"]["budget_limit"] == 1.0
            assert warning["data"]["budget_spent"] == first_alert["budget_spent"] > 0
            assert warning["data"]["percentage"] == round(first_alert["budget_spent"] * 100, 2)
            critical = after(got, second_alert["event_id"])
            assert (critical["type"], critical["severity"]) == ("COST_ALERT", "critical")
            assert critical["data"]["threshold"] == 0.95 and critical["data"]["percentage"] > 100
            (refused,) = [e for e in stored if e["type"] == "budget_exceeded"]
            exceeded = after(got, refused["event_id"])
            assert (exceeded["type"], exceeded["severity"]) == ("COST_ALERT", "critical")
            assert exceeded["data"]["reason"] == "exhausted"

            (pii,) = [e for e in stored if e["type"] == "pii_detected"]
            assert pii["entity_type"] == "EMAIL" and pii["direction"] == "request"
            assert after(got, pii["event_id"])["type"] != "COST_ALERT"

            states = [m for m in got if m["type"] == "STATE_UPDATE"]
            assert len(states) >= 2, "one at connect, more after the spend"
            assert states[-1]["data"]["budget_spent"] == pytest.approx(router.metrics()["budget_spent"])
            assert states[-1]["data"]["budget_limit"] == pytest.approx(0.000000001)

        # Both feeds carry the same messages; only the coalesced snapshots may fall in different places.
        def without_snapshots(msgs):
            return [m for m in msgs if m["type"] not in ("STATE_UPDATE", "HEARTBEAT")]
        assert without_snapshots(ws.messages()) == without_snapshots(sse.messages())

        # SSE framing: ids count up per connection, the event name is the message's type.
        blocks = sse.events()
        assert [int(b["id"]) for b in blocks] == list(range(1, len(blocks) + 1))
        assert all(b["event"] == json.loads(b["data"])["type"] for b in blocks)
        dump = json.dumps(ws.raw) + json.dumps([b["data"] for b in blocks])
        for secret in (EMAIL, OPENAI_KEY, ANTHROPIC_KEY):
            assert secret not in dump
        m = router.metrics()
        assert m["feed_subscribers"] == 2 and m["feed_subscribers_dropped"] == 0
        assert m["feed_messages_sent"] >= len(ws.raw) + len(blocks)

        url = router.events_url
        router.stop()
        wait_for(lambda: ws.closed, what="the WebSocket to close")
        assert ws.closed == (1001, "router stopped")
        assert engine(ws.messages())[-1]["type"] == "router_stopped", "the last event before the close"
        wait_for(lambda: sse.ended, what="the SSE stream to end")
        assert router.events_url is None
        assert refuses_connections(int(url.rsplit(":", 1)[1].split("/")[0])), "the WebSocket port is free"
    finally:
        for feed in (ws, sse):
            if feed is not None:
                feed.close()
        router.close()


def test_clients_without_the_admin_token_are_refused(make_router, oai_up):
    router = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, persist=False)
    token = router.admin_token
    assert router.events_url.startswith("ws://127.0.0.1:") and router.events_url.endswith("/iron/ws")
    assert int(router.events_url.rsplit(":", 1)[1].split("/")[0]) != router.port

    for query, headers in (("", {}), ("?token=wrong", {}), ("", {"Authorization": "Bearer wrong"})):
        refused = SseFeed(router, query, headers)
        assert refused.response.status == 401
        body = json.loads(refused.response.read())
        assert body["error"]["type"] == "authentication_error"
        assert token not in json.dumps(body)
        refused.close()
    bad_filter = SseFeed(router, "?types=request_completed,nope", {"Authorization": "Bearer " + token})
    assert bad_filter.response.status == 400
    assert "Unknown type 'nope'" in json.loads(bad_filter.response.read())["error"]["message"]
    bad_filter.close()

    wrong_header = WsFeed(router, bearer="wrong")
    wrong_message = WsFeed(router, first_message=json.dumps({"type": "AUTH", "token": "wrong"}))
    for feed in (wrong_header, wrong_message):
        wait_for(lambda: feed.closed, what="the server to close the connection")
        code, reason = feed.closed
        assert code == 4401 and "invalid token" in reason
        assert feed.messages() == [], "nothing reaches a client without the token"
    with pytest.raises(InvalidStatus) as refused_origin:
        WsFeed(router, bearer=token, origin="http://evil.example")
    assert refused_origin.value.response.status_code == 404

    plain = WsFeed(router, first_message=token)
    auth_json = WsFeed(router, first_message=json.dumps({"type": "AUTH", "token": token}))
    for feed in (plain, auth_json):
        wait_for(lambda: feed.messages(), what="the greeting after a first-message token")
        assert feed.messages()[0]["type"] == "STATE_UPDATE"
    m = router.metrics()
    assert m["feed_auth_failures"] == 2 and m["feed_subscribers"] == 2
    for feed in (plain, auth_json):
        feed.close()
    wait_for(lambda: router.metrics()["feed_subscribers"] == 0, what="the subscribers to leave")
    assert router.metrics()["feed_subscribers_dropped"] == 0


def _stuck_client(port, request):
    """A connection that sends ``request``, reads the status line, and never reads again."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
    s.settimeout(20)
    s.connect(("127.0.0.1", port))
    s.sendall(request.encode("ascii"))
    status = b""
    while not status.endswith(b"\r\n"):
        status += s.recv(1)
    return s, status.decode("ascii")


def test_subscribers_that_never_read_do_not_change_the_proxy_and_are_dropped(make_router, oai_up):
    router = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, persist=False)
    token = router.admin_token
    ws_port = int(router.events_url.rsplit(":", 1)[1].split("/")[0])
    stuck_ws, ws_status = _stuck_client(ws_port, (
        "GET /iron/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Authorization: Bearer %s\r\n\r\n") % (ws_port, token))
    stuck_sse, sse_status = _stuck_client(router.port, (
        "GET /iron/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n\r\n") % (router.port, token))
    try:
        assert ws_status.startswith("HTTP/1.1 101") and sse_status.startswith("HTTP/1.1 200")
        wait_for(lambda: router.metrics()["feed_subscribers"] == 2, what="both stuck subscribers")
        # Each request carries many addresses: one pii_detected event apiece, so the feeds carry
        # about 100 KB per request and the stuck clients' buffers fill within a few dozen calls.
        content = " ".join("user%d@example.com" % i for i in range(300))
        statuses = []
        while router.metrics()["feed_subscribers_dropped"] < 2 and len(statuses) < 300:
            statuses.append(chat(router, content))
        assert statuses and set(statuses) == {200}, "every request succeeded while the subscribers were stuck"
        m = router.metrics()
        assert m["feed_subscribers_dropped"] == 2, (len(statuses), m["feed_subscribers"])
        assert m["feed_subscribers"] == 0
        # After the drop the proxy goes on as before.
        assert [chat(router, "hello") for _ in range(3)] == [200, 200, 200]
        conn = http.client.HTTPConnection("127.0.0.1", router.port, timeout=20)
        conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
        scrape = conn.getresponse().read().decode()
        conn.close()
        assert "iron_feed_subscribers_dropped_total 2.0" in scrape
        assert "iron_feed_subscribers 0.0" in scrape
    finally:
        stuck_ws.close()
        stuck_sse.close()
