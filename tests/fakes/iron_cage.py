"""A fake Iron Cage control server: a real HTTP/1.1 server on loopback that answers the
provider-key, budget lease (handshake, report, refresh, return) and analytics endpoints as
the real server does (see ``/work/shared/docs/iron-cage-wire.md``), with HS256 JWT IC
tokens, integer micro-dollar (µ$) amounts and JSON error bodies.

    with FakeIronCage(owner_budget=20_000_000) as cage:
        router = LlmRouter(api_key=cage.token(), server_url=cage.url)
        ...                                  # requests through the router
        cage.handshakes[-1]["response"]["budget_granted"]
        sum(r["cost_microdollars"] for r in cage.reports)
        cage.fail("report", status=500, times=2)   # the next two reports answer 500
        cage.delay("refresh", 30)                  # refreshes hang until delay("refresh", 0)
        cage.down(); cage.up()                     # refuse connections, then listen again

State: agents (agent 1 is built from the constructor's ``provider``, ``provider_key`` and
``base_url``; ``set_agent`` adds or changes others), one owner budget shared by all agents
(``owner_remaining``, readable and settable) and leases (``leases``, ``lease(id)``,
``revoke(id)``, ``expire(id)``). ``token(agent_id, expired)`` signs an IC token with the
fake's secret; ``token(..., claims={"iss": "other"})`` overrides claims (bad tokens).

Records (snapshots, oldest first): ``key_fetches``, ``handshakes`` and ``refreshes`` hold
every call that was processed (not those answered by ``fail``) as
``{"body", "status", "response"}`` (handshakes also ``"authorization"``); ``reports`` and
``analytics`` the accepted bodies, ``duplicate_reports`` and ``duplicate_events`` the bodies
answered as duplicates; ``returns`` ``{"lease_id", "spent_microdollars", "returned"}``.
``calls(endpoint)`` counts every HTTP request that reached an endpoint's path, injected
failures, delayed calls and other methods than POST (405) included.

Endpoint names for ``fail``, ``delay`` and ``calls``: "provider-key", "handshake",
"report", "refresh", "return", "analytics". A call is delayed first, then answered by an
injected failure if one is pending, then processed. Clearing a delay (``delay(name, 0)``)
also releases the calls already waiting on it.

Random ids (lease ids, ip tokens, provider keys) are spelled with letters only: the PII
tests search outputs for digit runs of their test card and phone number.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import http
import http.server
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse
import uuid
from typing import Any, Dict, List, Optional, Tuple

from .upstream import _Handler as _UpstreamHandler
from .upstream import _Server, _Stopped

__all__ = ["Agent", "FakeIronCage", "Lease", "encode_jwt", "ENDPOINTS", "ISSUER"]

ISSUER = "iron-control-panel"
DEFAULT_GRANT = 10_000_000  # µ$ granted when the request names no amount ($10)
MAX_REQUESTED = 100_000_000  # the largest requested_budget the server accepts ($100)
TOKEN_LIFETIME = 3600  # seconds

ENDPOINTS: Dict[str, str] = {
    "provider-key": "/api/v1/agents/provider-key",
    "handshake": "/api/v1/budget/handshake",
    "report": "/api/v1/budget/report",
    "refresh": "/api/v1/budget/refresh",
    "return": "/api/v1/budget/return",
    "analytics": "/api/v1/analytics/events",
}
_ENDPOINT_AT = {path: name for name, path in ENDPOINTS.items()}
_PROVIDERS = ("openai", "anthropic")
_EVENT_TYPES = ("llm_request_completed", "llm_request_failed")
_AGENT_CLAIM = re.compile(r"^agent_([0-9]+)$")
_HEX_AS_LETTERS = str.maketrans("0123456789abcdef", "ghijklmnopqrstuv")
_UNSET: Any = object()

Answer = Tuple[int, Dict[str, Any]]


def _letters(n: int) -> str:
    """``n`` random letters (g-v): no digit run a PII check could mistake for a card or phone."""
    return secrets.token_hex((n + 1) // 2)[:n].translate(_HEX_AS_LETTERS)


def _lease_id() -> str:
    """``lease_`` + a uuid4 in its usual 8-4-4-4-12 shape, its hex digits spelled as letters."""
    return "lease_" + str(uuid.uuid4()).translate(_HEX_AS_LETTERS)


# --------------------------------------------------------------------------- tokens


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(payload: Dict[str, Any], secret: bytes) -> str:
    """An HS256 JWT of ``payload`` (base64url without padding), as the control panel issues them."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    signing_input = (header + "." + body).encode("ascii")
    return header + "." + body + "." + _b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())


class _TokenRejected(Exception):
    """``kind`` "invalid" (not a JWT, bad signature, wrong issuer, no agent claim) or
    "unauthorized" (expired, unknown agent): the provider-key endpoint answers them apart."""

    def __init__(self, kind: str, why: str):
        super().__init__(why)
        self.kind = kind


def _claims(token: str, secret: bytes) -> Dict[str, Any]:
    """The payload of a well-formed, correctly signed token of the right issuer."""
    parts = token.split(".")
    if len(parts) != 3:
        raise _TokenRejected("invalid", "not a JWT")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        payload = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except ValueError:
        raise _TokenRejected("invalid", "not a JWT") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(payload, dict):
        raise _TokenRejected("invalid", "not an HS256 JWT")
    expected = hmac.new(secret, (parts[0] + "." + parts[1]).encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise _TokenRejected("invalid", "bad signature")
    if payload.get("iss") != ISSUER:
        raise _TokenRejected("invalid", "wrong issuer")
    return payload


# --------------------------------------------------------------------------- state


@dataclasses.dataclass
class Agent:
    """An agent as the control panel knows it (a snapshot when read from the fake)."""

    provider: Optional[str]
    provider_key: Optional[str]
    base_url: Optional[str] = None
    key_enabled: bool = True


@dataclasses.dataclass
class Lease:
    """A budget lease (a snapshot when read from the fake). Amounts in µ$."""

    lease_id: str
    agent_id: int
    provider: str
    granted: int
    spent: int = 0
    status: str = "active"  # active | expired | closed | revoked
    request_ids: List[str] = dataclasses.field(default_factory=list)
    return_spent: Optional[int] = None  # spent_microdollars of the return that closed it
    returned: Optional[int] = None  # what that return credited to the owner

    def snapshot(self) -> "Lease":
        return dataclasses.replace(self, request_ids=list(self.request_ids))


class _Invalid(Exception):
    """A request the endpoint answers with an error instead of processing it."""

    def __init__(self, status: int, body: Dict[str, Any]):
        super().__init__(body.get("error"))
        self.status = status
        self.body = body


def _bad(message: str) -> _Invalid:
    return _Invalid(400, {"error": message})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(body: Dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _bad("%s must be a non-empty string" % name)
    return value


def _count(body: Dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not _is_int(value) or value < 0:
        raise _bad("%s must be an integer >= 0" % name)
    return value


def _optional_text(body: Dict[str, Any], name: str) -> None:
    if body.get(name) is not None and not isinstance(body[name], str):
        raise _bad("%s must be a string" % name)


def _requested_budget(body: Dict[str, Any]) -> int:
    value = body.get("requested_budget")
    if value is None:
        return DEFAULT_GRANT
    if not _is_int(value) or not 1 <= value <= MAX_REQUESTED:
        raise _bad("requested_budget must be an integer between 1 and %d micro-dollars" % MAX_REQUESTED)
    return value


def _event_id(body: Dict[str, Any]) -> str:
    value = _text(body, "event_id")
    try:
        canonical = str(uuid.UUID(value))
    except ValueError:
        canonical = None
    if canonical != value.lower():
        raise _bad("event_id must be a UUID")
    return value


class _ControlPanel:
    """The control server's state and its answer to each endpoint: no sockets, one lock.

    Each endpoint method takes the parsed JSON body (None when it was not a JSON object) and
    returns (status, JSON body). Error bodies name fields, never their values (no token echo).
    """

    def __init__(self, agent: Agent, owner_budget: int):
        self.lock = threading.Lock()
        self.secret = secrets.token_bytes(32)
        self.agents: Dict[int, Agent] = {1: agent}
        self.owner_remaining = owner_budget
        self.leases: Dict[str, Lease] = {}
        self.reported: Dict[str, str] = {}  # request_id -> lease_id
        self.event_ids: set = set()
        self.key_fetches: List[Dict[str, Any]] = []
        self.handshakes: List[Dict[str, Any]] = []
        self.refreshes: List[Dict[str, Any]] = []
        self.reports: List[Dict[str, Any]] = []
        self.duplicate_reports: List[Dict[str, Any]] = []
        self.returns: List[Dict[str, Any]] = []
        self.analytics: List[Dict[str, Any]] = []
        self.duplicate_events: List[Dict[str, Any]] = []

    def token(self, agent_id: int, expired: bool, claims: Optional[Dict[str, Any]]) -> str:
        now = int(time.time())
        iat, exp = (now - 2 * TOKEN_LIFETIME, now - TOKEN_LIFETIME) if expired else (now, now + TOKEN_LIFETIME)
        payload = {"sub": "agent_%d" % agent_id, "agent_id": "agent_%d" % agent_id, "iss": ISSUER,
                   "iat": iat, "exp": exp}
        payload.update(claims or {})
        return encode_jwt(payload, self.secret)

    def agent_of(self, token: str) -> int:
        """The id of the known agent a valid token names; raises _TokenRejected."""
        payload = _claims(token, self.secret)
        exp = payload.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise _TokenRejected("invalid", "no expiry")
        if exp <= time.time():
            raise _TokenRejected("unauthorized", "expired")
        claim = payload.get("agent_id")
        match = _AGENT_CLAIM.match(claim) if isinstance(claim, str) else None
        if match is None:
            raise _TokenRejected("invalid", "no agent_id claim")
        agent_id = int(match.group(1))
        if agent_id not in self.agents:
            raise _TokenRejected("unauthorized", "unknown agent")
        return agent_id

    def _token_agent(self, token: str) -> int:
        """agent_of for the budget and analytics endpoints, which answer every bad token alike."""
        try:
            return self.agent_of(token)
        except _TokenRejected:
            raise _Invalid(401, {"error": "Invalid IC Token"}) from None

    def _known_lease(self, lease_id: str) -> Lease:
        lease = self.leases.get(lease_id)
        if lease is None:
            raise _Invalid(404, {"error": "Lease not found"})
        return lease

    @staticmethod
    def _usable(lease: Lease) -> None:
        """403 unless the lease is active (report and refresh)."""
        if lease.status == "expired":
            raise _Invalid(403, {"error": "Lease expired"})
        if lease.status == "revoked":
            raise _Invalid(403, {"error": "Lease has been revoked"})
        if lease.status != "active":
            raise _Invalid(403, {"error": "Lease is not active"})

    def _draw(self, requested: int) -> int:
        """Take up to ``requested`` from the owner's budget; returns what was taken (0: nothing left)."""
        grant = min(requested, self.owner_remaining)
        if grant <= 0:
            return 0
        self.owner_remaining -= grant
        return grant

    def _new_lease(self, agent_id: int, provider: str, granted: int) -> Lease:
        lease = Lease(_lease_id(), agent_id, provider, granted)
        self.leases[lease.lease_id] = lease
        return lease

    # -- endpoints --------------------------------------------------------------

    def provider_key(self, body: Optional[Dict[str, Any]], authorization: Optional[str]) -> Answer:
        token = (body or {}).get("ic_token")
        if not isinstance(token, str) or not token:
            return 400, {"error": "ic_token must be a non-empty string", "code": "INVALID_TOKEN"}
        try:
            agent_id = self.agent_of(token)
        except _TokenRejected as e:
            if e.kind == "unauthorized":
                return 401, {"error": "IC Token is expired or names an unknown agent", "code": "UNAUTHORIZED"}
            return 400, {"error": "Invalid IC Token", "code": "INVALID_TOKEN"}
        agent = self.agents[agent_id]
        if agent.provider is None or not agent.key_enabled:
            return 403, {"error": "No provider assigned to this agent", "code": "NO_PROVIDER_ASSIGNED"}
        if agent.provider_key is None:
            return 404, {"error": "Provider key not found", "code": "PROVIDER_NOT_FOUND"}
        answer: Dict[str, Any] = {"provider_key": agent.provider_key, "provider": agent.provider}
        if agent.base_url is not None:
            answer["base_url"] = agent.base_url
        return 200, answer

    def handshake(self, body: Optional[Dict[str, Any]], authorization: Optional[str]) -> Answer:
        scheme, _, bearer = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            return 401, {"error": "Missing authorization"}
        if body is None:
            raise _bad("the body must be a JSON object")
        token = _text(body, "ic_token")
        provider = body.get("provider")
        if provider not in _PROVIDERS:
            raise _bad("provider must be one of: %s" % ", ".join(_PROVIDERS))
        if body.get("provider_key_id") is not None and not _is_int(body["provider_key_id"]):
            raise _bad("provider_key_id must be an integer")
        requested = _requested_budget(body)
        if bearer.strip() != token:
            return 401, {"error": "Invalid IC Token"}
        agent_id = self._token_agent(token)
        agent = self.agents[agent_id]
        if agent.provider != provider or agent.provider_key is None or not agent.key_enabled:
            return 403, {"error": "No provider key assigned for %s" % provider}
        grant = self._draw(requested)
        if grant == 0:
            return 403, {"error": "Budget limit exceeded"}
        lease = self._new_lease(agent_id, provider, grant)
        return 200, {"ip_token": "ip_v1:" + _letters(32), "lease_id": lease.lease_id, "budget_granted": grant,
                     "budget_remaining": self.owner_remaining, "expires_at": None}

    def report(self, body: Optional[Dict[str, Any]], authorization: Optional[str]) -> Answer:
        if body is None:
            raise _bad("the body must be a JSON object")
        lease_id, request_id = _text(body, "lease_id"), _text(body, "request_id")
        _text(body, "model")
        _text(body, "provider")
        _count(body, "tokens")
        cost = _count(body, "cost_microdollars")
        lease = self._known_lease(lease_id)
        if request_id in self.reported:
            self.duplicate_reports.append(body)
            return 200, {"success": True, "budget_remaining": self.owner_remaining}
        self._usable(lease)
        if lease.granted - lease.spent < cost:
            return 403, {"error": "Insufficient lease budget"}
        lease.spent += cost
        lease.request_ids.append(request_id)
        self.reported[request_id] = lease_id
        self.reports.append(body)
        return 200, {"success": True, "budget_remaining": self.owner_remaining}

    def refresh(self, body: Optional[Dict[str, Any]], authorization: Optional[str]) -> Answer:
        if body is None:
            raise _bad("the body must be a JSON object")
        token, lease_id = _text(body, "ic_token"), _text(body, "current_lease_id")
        requested = _requested_budget(body)
        agent_id = self._token_agent(token)
        old = self._known_lease(lease_id)
        if old.agent_id != agent_id:
            return 403, {"error": "Lease belongs to another agent"}
        self._usable(old)
        grant = self._draw(requested)
        if grant == 0:
            return 200, {"status": "denied", "budget_granted": None, "budget_remaining": self.owner_remaining,
                         "lease_id": None, "reason": "insufficient_budget"}
        lease = self._new_lease(agent_id, old.provider, grant)
        old.status = "expired"  # its unspent remainder is not credited back, as on the real server
        return 200, {"status": "approved", "budget_granted": grant, "budget_remaining": self.owner_remaining,
                     "lease_id": lease.lease_id, "reason": None}

    def return_lease(self, body: Optional[Dict[str, Any]], authorization: Optional[str]) -> Answer:
        if body is None:
            raise _bad("the body must be a JSON object")
        lease_id = _text(body, "lease_id")
        spent = _count(body, "spent_microdollars")
        lease = self._known_lease(lease_id)
        if lease.status != "active":
            return 400, {"error": "Lease is not active"}
        returned = max(0, lease.granted - spent)
        self.owner_remaining += returned
        lease.status, lease.return_spent, lease.returned = "closed", spent, returned
        self.returns.append({"lease_id": lease_id, "spent_microdollars": spent, "returned": returned})
        return 200, {"success": True, "returned": returned}

    def analytics_event(self, body: Optional[Dict[str, Any]], authorization: Optional[str]) -> Answer:
        if body is None:
            raise _bad("the body must be a JSON object")
        token, event_id = _text(body, "ic_token"), _event_id(body)
        if not _is_int(body.get("timestamp_ms")):
            raise _bad("timestamp_ms must be an integer")
        if body.get("event_type") not in _EVENT_TYPES:
            raise _bad("event_type must be one of: %s" % ", ".join(_EVENT_TYPES))
        _text(body, "model")
        _text(body, "provider")
        for name in ("input_tokens", "output_tokens", "cost_micros"):
            if body.get(name) is not None:
                _count(body, name)
        for name in ("provider_id", "error_code", "error_message"):
            _optional_text(body, name)
        self._token_agent(token)
        if event_id in self.event_ids:
            self.duplicate_events.append(body)
        else:
            self.event_ids.add(event_id)
            self.analytics.append(body)
        return 200, {"success": True}

    def answer(self, endpoint: str, body: Optional[Dict[str, Any]], authorization: Optional[str]) -> Answer:
        handler = {"provider-key": self.provider_key, "handshake": self.handshake, "report": self.report,
                   "refresh": self.refresh, "return": self.return_lease, "analytics": self.analytics_event}[endpoint]
        with self.lock:
            try:
                status, answer = handler(body, authorization)
            except _Invalid as e:
                status, answer = e.status, e.body
            record = {"body": body, "status": status, "response": answer}
            if endpoint == "provider-key":
                self.key_fetches.append(record)
            elif endpoint == "handshake":
                self.handshakes.append(dict(record, authorization=authorization))
            elif endpoint == "refresh":
                self.refreshes.append(record)
            return status, answer


# --------------------------------------------------------------------------- HTTP


class _Handler(_UpstreamHandler):
    """The fake upstream's connection plumbing (keep-alive, tracking, quiet errors, body
    reading) with the control server's dispatch."""

    server_version = "fake-iron-cage/1.0"

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Malformed requests get a JSON error too."""
        self.close_connection = True
        self._send(code, {"error": message or http.HTTPStatus(code).phrase})

    def _send(self, status: int, answer: Dict[str, Any]) -> None:
        data = json.dumps(answer).encode("utf-8")
        if self.server.fake._listening is not self.server:  # down() or stop(): finish this one, then close
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _dispatch(self) -> None:
        cage = self.server.fake
        if not cage._begin(self.server, self.connection):  # arrived after down(): no answer
            self.close_connection = True
            return
        try:
            path = urllib.parse.urlsplit(self.path).path
            body = self._read_body()
            endpoint = _ENDPOINT_AT.get(path)
            if endpoint is None:
                self._send(404, {"error": "Not found"})
                return
            status, answer = cage._serve(endpoint, self.command, self.headers.get("Authorization"), body)
            self._send(status, answer)
        finally:
            cage._end(self.connection)


class _Record:
    """A record list of the control panel, read as a snapshot (a copy taken under its lock)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, cage: Optional["FakeIronCage"], owner: Optional[type] = None) -> List[Dict[str, Any]]:
        if cage is None:
            return self  # type: ignore[return-value]
        with cage._panel.lock:
            return list(getattr(cage._panel, self.name))


def _json_object(data: bytes) -> Optional[Dict[str, Any]]:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class FakeIronCage:
    """A fake Iron Cage control server on loopback. Use as a context manager."""

    def __init__(self, provider: Optional[str] = "openai", provider_key: Optional[str] = None,
                 base_url: Optional[str] = None, owner_budget: int = 100_000_000, *, host: str = "127.0.0.1"):
        if not _is_int(owner_budget) or owner_budget < 0:
            raise ValueError("owner_budget must be an integer >= 0 (micro-dollars)")
        key = provider_key if provider_key is not None else "sk-fake-" + _letters(40)
        self._panel = _ControlPanel(Agent(provider, key, base_url), owner_budget)
        self.host = host
        self._port = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # delay settings (waiting calls re-check them)
        self._listening: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._conns: Dict[socket.socket, bool] = {}  # open connection -> a request is being answered
        self._stopping = threading.Event()
        self._calls: Dict[str, int] = {name: 0 for name in ENDPOINTS}
        self._failures: Dict[str, List[Any]] = {}  # endpoint -> [status, calls left or None]
        self._delays: Dict[str, float] = {}

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> "FakeIronCage":
        if self._listening is None:
            self._stopping.clear()
            self._listen()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()  # delayed calls give up
        self._close_listener(cut_busy=True)

    close = stop

    def __enter__(self) -> "FakeIronCage":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def down(self) -> None:
        """Stop listening: new connections are refused and idle keep-alive connections are
        closed; requests already being answered still get their answers, then their
        connections close."""
        self._close_listener(cut_busy=False)

    def up(self) -> None:
        """Listen again on the same port (state and records are kept)."""
        if self._listening is None and not self._stopping.is_set():
            self._listen()

    def _listen(self) -> None:
        try:
            server = _Server((self.host, self._port), _Handler, self)
        except OSError as e:
            raise RuntimeError("FakeIronCage cannot listen on %s:%d again: %s" % (self.host, self._port, e)) from e
        self._port = server.server_address[1]
        self._listening = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-iron-cage-%d" % self._port, daemon=True)
        self._thread.start()

    def _close_listener(self, cut_busy: bool) -> None:
        server, thread = self._listening, self._thread
        self._listening = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        # Idle keep-alive connections are cut (the client sees them closed, as when a server
        # dies); one whose request was read finishes it and closes after the answer, unless
        # everything stops.
        with self._lock:
            conns = [c for c, busy in self._conns.items() if cut_busy or not busy]
            for conn in conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _begin(self, server: _Server, conn: socket.socket) -> bool:
        """A request was read on ``conn``: False when its server no longer listens."""
        with self._lock:
            if self._listening is not server:
                return False
            self._conns[conn] = True
            return True

    def _end(self, conn: socket.socket) -> None:
        with self._lock:
            if conn in self._conns:
                self._conns[conn] = False

    def _track(self, conn: socket.socket, add: bool) -> None:
        """A connection opened (``add``) or closed; called by the handlers."""
        with self._lock:
            if not add:
                self._conns.pop(conn, None)
            else:
                self._conns[conn] = False

    # -- addresses ----------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._port, "FakeIronCage was never started"
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the router's ``server_url``); the same while down."""
        return "http://%s:%d" % (self.host, self.port)

    @property
    def is_up(self) -> bool:
        return self._listening is not None

    # -- serving ------------------------------------------------------------

    def _serve(self, endpoint: str, method: str, authorization: Optional[str], data: bytes) -> Answer:
        with self._changed:
            self._calls[endpoint] += 1
            seconds = self._delays.get(endpoint, 0)
            deadline = time.monotonic() + seconds
            while seconds and self._delays.get(endpoint, 0) and not self._stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            if self._stopping.is_set():
                raise _Stopped()
            failure = self._failures.get(endpoint)
            if failure is not None:
                if failure[1] is not None:
                    failure[1] -= 1
                    if failure[1] <= 0:
                        del self._failures[endpoint]
                return failure[0], {"error": "injected failure", "code": "INTERNAL_ERROR"}
        if method != "POST":
            return 405, {"error": "Method not allowed"}
        return self._panel.answer(endpoint, _json_object(data), authorization)

    # -- controls -----------------------------------------------------------

    @staticmethod
    def _endpoint(name: str) -> str:
        if name not in ENDPOINTS:
            raise ValueError("unknown endpoint %r (one of: %s)" % (name, ", ".join(ENDPOINTS)))
        return name

    def fail(self, endpoint: str, status: int = 500, times: Optional[int] = 1) -> None:
        """The next ``times`` calls of ``endpoint`` (None or 0: all until ``clear_failures()``)
        answer ``status`` with ``{"error": "injected failure", "code": "INTERNAL_ERROR"}``."""
        self._endpoint(endpoint)
        if not _is_int(status) or not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        if times is not None and (not _is_int(times) or times < 0):
            raise ValueError("times must be an integer >= 0 or None")
        with self._lock:
            self._failures[endpoint] = [status, times or None]

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def delay(self, endpoint: str, seconds: float) -> None:
        """Sleep ``seconds`` before answering each call of ``endpoint``; 0 clears the delay and
        releases the calls waiting on it."""
        self._endpoint(endpoint)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError("seconds must be a number >= 0")
        with self._changed:
            if seconds:
                self._delays[endpoint] = float(seconds)
            else:
                self._delays.pop(endpoint, None)
            self._changed.notify_all()

    def calls(self, endpoint: str) -> int:
        """How many HTTP requests reached ``endpoint`` (injected failures and delayed ones included)."""
        self._endpoint(endpoint)
        with self._lock:
            return self._calls[endpoint]

    def token(self, agent_id: int = 1, expired: bool = False, *, claims: Optional[Dict[str, Any]] = None) -> str:
        """A signed IC token for ``agent_<agent_id>``, valid for an hour (or expired an hour ago);
        ``claims`` replace or add payload claims (e.g. ``{"iss": "someone-else"}``)."""
        return self._panel.token(agent_id, expired, claims)

    def set_agent(self, agent_id: int, provider: Any = _UNSET, provider_key: Any = _UNSET, base_url: Any = _UNSET,
                  key_enabled: Any = _UNSET) -> None:
        """Create or change an agent; a new agent's unnamed fields are None (key_enabled True)."""
        if not _is_int(agent_id) or agent_id < 0:
            raise ValueError("agent_id must be an integer >= 0")
        with self._panel.lock:
            agent = self._panel.agents.setdefault(agent_id, Agent(None, None))
            if provider is not _UNSET:
                agent.provider = provider
            if provider_key is not _UNSET:
                agent.provider_key = provider_key
            if base_url is not _UNSET:
                agent.base_url = base_url
            if key_enabled is not _UNSET:
                agent.key_enabled = bool(key_enabled)

    def agent(self, agent_id: int = 1) -> Agent:
        with self._panel.lock:
            return dataclasses.replace(self._panel.agents[agent_id])

    @property
    def provider_key(self) -> Optional[str]:
        """Agent 1's provider key (the one the router should end up sending upstream)."""
        return self.agent(1).provider_key

    def revoke(self, lease_id: str) -> None:
        self._set_status(lease_id, "revoked")

    def expire(self, lease_id: str) -> None:
        self._set_status(lease_id, "expired")

    def _set_status(self, lease_id: str, status: str) -> None:
        with self._panel.lock:
            self._panel.leases[lease_id].status = status

    @property
    def owner_remaining(self) -> int:
        """The owner's unallocated budget in µ$ (what leases are drawn from)."""
        with self._panel.lock:
            return self._panel.owner_remaining

    @owner_remaining.setter
    def owner_remaining(self, value: int) -> None:
        if not _is_int(value) or value < 0:
            raise ValueError("owner_remaining must be an integer >= 0 (micro-dollars)")
        with self._panel.lock:
            self._panel.owner_remaining = value

    # -- records ------------------------------------------------------------

    @property
    def leases(self) -> Dict[str, Lease]:
        with self._panel.lock:
            return {lease_id: lease.snapshot() for lease_id, lease in self._panel.leases.items()}

    def lease(self, lease_id: str) -> Lease:
        with self._panel.lock:
            return self._panel.leases[lease_id].snapshot()

    key_fetches = _Record()
    handshakes = _Record()
    reports = _Record()
    duplicate_reports = _Record()
    refreshes = _Record()
    returns = _Record()
    analytics = _Record()
    duplicate_events = _Record()

    def __repr__(self) -> str:
        state = "up" if self.is_up else "down"
        return "<FakeIronCage %s %s leases=%d>" % (self._port and self.url, state, len(self.leases))
