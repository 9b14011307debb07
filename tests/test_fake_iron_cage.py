"""The fake Iron Cage control server itself, spoken to over real HTTP (no router).

If these fail, the control-server tests of the router mean nothing: the fake must answer as
/work/shared/docs/iron-cage-wire.md and the fake's spec say, error for error.
"""

import base64
import http.client
import json
import re
import threading
import time
import uuid

import pytest

from fakes.iron_cage import ENDPOINTS, FakeIronCage, encode_jwt
from helpers import raw, refuses_connections, wait_for

DIGIT = re.compile(r"[0-9]")


@pytest.fixture
def cage():
    with FakeIronCage(owner_budget=100_000_000) as c:
        yield c


def post(cage, endpoint, body, headers=None):
    """POST ``body`` (a JSON-able object, or bytes as they are) to one of the fake's endpoints."""
    return raw(cage.port, "POST", ENDPOINTS[endpoint], body, headers, auth=None, timeout=10)


def bearer(token):
    return {"Authorization": "Bearer " + token}


def handshake(cage, token=None, provider="openai", **extra):
    token = token or cage.token()
    return post(cage, "handshake", dict({"ic_token": token, "provider": provider}, **extra), bearer(token))


def lease_of(cage, requested=None):
    extra = {} if requested is None else {"requested_budget": requested}
    r = handshake(cage, **extra)
    assert r.status == 200, r
    return r.json()["lease_id"]


def report_body(lease_id, request_id=None, cost=1000):
    return {"lease_id": lease_id, "request_id": request_id or "req-" + uuid.uuid4().hex, "tokens": 42,
            "cost_microdollars": cost, "model": "gpt-4o", "provider": "openai"}


def event_body(cage, event_id=None, **extra):
    body = {"ic_token": cage.token(), "event_id": event_id or str(uuid.uuid4()), "timestamp_ms": 1_700_000_000_000,
            "event_type": "llm_request_completed", "model": "gpt-4o", "provider": "openai", "input_tokens": 10,
            "output_tokens": 5, "cost_micros": 250}
    body.update(extra)
    return body


def b64json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def assert_error(r, status, error=None, code=None, secret=None):
    assert r.status == status, r
    assert r.headers["content-type"] == "application/json", r
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    if error is not None:
        assert body["error"] == error, body
    if code is not None:
        assert body.get("code") == code, body
    if secret:
        assert secret not in r.text, "the token was echoed: %s" % r.text
    return body


# --------------------------------------------------------------------------- tokens


def test_token_is_an_hs256_jwt_of_the_control_panel(cage):
    token = cage.token(7)
    parts = token.split(".")
    assert len(parts) == 3 and "=" not in token
    assert b64json(parts[0]) == {"alg": "HS256", "typ": "JWT"}
    claims = b64json(parts[1])
    assert claims["sub"] == claims["agent_id"] == "agent_7"
    assert claims["iss"] == "iron-control-panel"
    assert claims["exp"] - claims["iat"] == 3600 and abs(claims["iat"] - time.time()) < 60
    expired = b64json(cage.token(expired=True).split(".")[1])
    assert expired["exp"] < time.time() - 3000


def test_a_token_signed_like_the_fake_but_with_another_secret_is_refused(cage):
    good = cage.token()
    claims = b64json(good.split(".")[1])
    forged = encode_jwt(claims, b"not the fake's secret")
    assert forged.split(".")[:2] == good.split(".")[:2]  # same header and payload, other signature
    assert post(cage, "provider-key", {"ic_token": good}).status == 200
    assert_error(post(cage, "provider-key", {"ic_token": forged}), 400, code="INVALID_TOKEN", secret=forged)


# --------------------------------------------------------------------------- provider key


def test_provider_key_answers_the_agents_key_without_base_url(cage):
    r = post(cage, "provider-key", {"ic_token": cage.token()})
    assert r.status == 200, r
    assert r.json() == {"provider_key": cage.provider_key, "provider": "openai"}
    assert re.fullmatch(r"sk-fake-[a-z]+", cage.provider_key)
    fetch = cage.key_fetches[-1]
    assert fetch["status"] == 200 and fetch["response"]["provider_key"] == cage.provider_key


def test_provider_key_with_base_url_and_constructor_settings():
    with FakeIronCage(provider="anthropic", provider_key="sk-ant-given", base_url="http://127.0.0.1:9/x") as c:
        r = post(c, "provider-key", {"ic_token": c.token()})
        assert r.json() == {"provider_key": "sk-ant-given", "provider": "anthropic",
                            "base_url": "http://127.0.0.1:9/x"}


def _tampered_signature(token):
    head, payload, sig = token.split(".")
    return head + "." + payload + "." + ("A" if sig[0] != "A" else "B") + sig[1:]


@pytest.mark.parametrize("make_body, status, code", [
    (lambda c: b"{not json", 400, "INVALID_TOKEN"),
    (lambda c: {}, 400, "INVALID_TOKEN"),
    (lambda c: {"ic_token": ""}, 400, "INVALID_TOKEN"),
    (lambda c: {"ic_token": 12}, 400, "INVALID_TOKEN"),
    (lambda c: {"ic_token": "not-a-jwt"}, 400, "INVALID_TOKEN"),
    (lambda c: {"ic_token": "a.b.c"}, 400, "INVALID_TOKEN"),
    (lambda c: {"ic_token": _tampered_signature(c.token())}, 400, "INVALID_TOKEN"),
    (lambda c: {"ic_token": c.token(claims={"iss": "someone-else"})}, 400, "INVALID_TOKEN"),
    (lambda c: {"ic_token": c.token(expired=True)}, 401, "UNAUTHORIZED"),
    (lambda c: {"ic_token": c.token(99)}, 401, "UNAUTHORIZED"),
], ids=["not-json", "missing", "empty", "not-a-string", "not-a-jwt", "garbage-parts", "bad-signature",
        "wrong-issuer", "expired", "unknown-agent"])
def test_provider_key_token_errors(cage, make_body, status, code):
    body = make_body(cage)
    r = post(cage, "provider-key", body)
    token = body.get("ic_token") if isinstance(body, dict) else None
    assert_error(r, status, code=code, secret=token if isinstance(token, str) and len(token) > 8 else None)
    assert cage.provider_key not in r.text


def test_provider_key_assignment_errors(cage):
    cage.set_agent(2, provider=None, provider_key="sk-orphan")
    assert_error(post(cage, "provider-key", {"ic_token": cage.token(2)}), 403, code="NO_PROVIDER_ASSIGNED")
    cage.set_agent(3, provider="openai", provider_key="sk-disabled", key_enabled=False)
    assert_error(post(cage, "provider-key", {"ic_token": cage.token(3)}), 403, code="NO_PROVIDER_ASSIGNED")
    cage.set_agent(4, provider="anthropic")
    assert_error(post(cage, "provider-key", {"ic_token": cage.token(4)}), 404, code="PROVIDER_NOT_FOUND")
    cage.set_agent(3, key_enabled=True)  # a change keeps the other fields
    assert post(cage, "provider-key", {"ic_token": cage.token(3)}).json()["provider_key"] == "sk-disabled"
    assert [f["status"] for f in cage.key_fetches] == [403, 403, 404, 200]


# --------------------------------------------------------------------------- handshake


def test_handshake_grants_the_default_and_opens_a_lease(cage):
    token = cage.token()
    r = post(cage, "handshake", {"ic_token": token, "provider": "openai", "provider_key_id": 3}, bearer(token))
    assert r.status == 200, r
    body = r.json()
    assert body["budget_granted"] == 10_000_000 and body["budget_remaining"] == 90_000_000
    assert body["expires_at"] is None
    assert re.fullmatch(r"ip_v1:[a-z]+", body["ip_token"])
    assert re.fullmatch(r"lease_[g-v]{8}-[g-v]{4}-[g-v]{4}-[g-v]{4}-[g-v]{12}", body["lease_id"])
    assert cage.owner_remaining == 90_000_000
    lease = cage.lease(body["lease_id"])
    assert (lease.agent_id, lease.provider, lease.granted, lease.spent, lease.status) == (1, "openai", 10_000_000, 0,
                                                                                       "active")
    assert cage.handshakes[-1]["authorization"] == "Bearer " + token
    assert cage.handshakes[-1]["body"]["provider_key_id"] == 3


def test_handshake_grant_is_capped_by_the_owner_budget(cage):
    assert handshake(cage, requested_budget=100_000_000).json()["budget_granted"] == 100_000_000
    cage.owner_remaining = 2_500
    r = handshake(cage, requested_budget=5_000)
    assert (r.json()["budget_granted"], r.json()["budget_remaining"]) == (2_500, 0)
    assert_error(handshake(cage), 403, "Budget limit exceeded")
    assert len(cage.leases) == 2


@pytest.mark.parametrize("change", [
    {"ic_token": None}, {"provider": "gemini"}, {"provider": None}, {"requested_budget": 0},
    {"requested_budget": 100_000_001}, {"requested_budget": "5"}, {"requested_budget": True},
    {"requested_budget": 1.5}, {"provider_key_id": "x"},
], ids=["no-token", "unknown-provider", "no-provider", "budget-0", "budget-too-big", "budget-string",
        "budget-bool", "budget-float", "key-id-string"])
def test_handshake_validation_errors(cage, change):
    token = cage.token()
    body = {"ic_token": token, "provider": "openai"}
    body.update(change)
    assert_error(post(cage, "handshake", body, bearer(token)), 400, secret=token)
    assert cage.owner_remaining == 100_000_000 and not cage.leases


def test_handshake_authorization_and_token_errors(cage):
    token = cage.token()
    body = {"ic_token": token, "provider": "openai"}
    assert_error(post(cage, "handshake", body), 401, "Missing authorization")
    assert_error(post(cage, "handshake", body, {"Authorization": "Basic " + token}), 401, "Missing authorization")
    assert_error(post(cage, "handshake", body, bearer(cage.token(1, claims={"nonce": "other"}))), 401,
                 "Invalid IC Token", secret=token)
    for bad in (cage.token(expired=True), cage.token(42), _tampered_signature(token),
                cage.token(claims={"iss": "someone-else"})):
        assert_error(handshake(cage, token=bad), 401, "Invalid IC Token", secret=bad)
    assert_error(handshake(cage, provider="anthropic"), 403, "No provider key assigned for anthropic")
    assert cage.owner_remaining == 100_000_000 and not cage.leases


# --------------------------------------------------------------------------- report


def test_report_charges_the_lease_once_per_request_id(cage):
    first, second = lease_of(cage), lease_of(cage)
    r = post(cage, "report", report_body(first, "req-a", cost=1_234))
    assert r.status == 200 and r.json() == {"success": True, "budget_remaining": 80_000_000}
    assert post(cage, "report", report_body(first, "req-a", cost=1_234)).json()["success"] is True
    assert post(cage, "report", report_body(second, "req-a", cost=1_234)).status == 200  # any lease: a duplicate
    assert cage.lease(first).spent == 1_234 and cage.lease(second).spent == 0
    assert cage.lease(first).request_ids == ["req-a"]
    assert [r["request_id"] for r in cage.reports] == ["req-a"]
    assert [r["lease_id"] for r in cage.duplicate_reports] == [first, second]
    assert cage.owner_remaining == 80_000_000  # reports spend the lease, not the owner


def test_report_may_spend_the_lease_exactly_and_no_further(cage):
    lease = lease_of(cage, requested=1_000)
    assert post(cage, "report", report_body(lease, cost=600)).status == 200
    assert_error(post(cage, "report", report_body(lease, cost=401)), 403, "Insufficient lease budget")
    assert post(cage, "report", report_body(lease, cost=400)).status == 200
    assert post(cage, "report", report_body(lease, cost=0)).status == 200
    assert cage.lease(lease).spent == 1_000 and len(cage.reports) == 3


@pytest.mark.parametrize("field, value", [
    ("lease_id", None), ("lease_id", ""), ("request_id", None), ("request_id", 5), ("tokens", None),
    ("tokens", -1), ("tokens", "4"), ("cost_microdollars", None), ("cost_microdollars", -5),
    ("cost_microdollars", 2.5), ("cost_microdollars", False), ("model", ""), ("provider", None),
])
def test_report_validation_errors(cage, field, value):
    body = report_body(lease_of(cage))
    if value is None:
        del body[field]
    else:
        body[field] = value
    assert_error(post(cage, "report", body), 400)
    assert not cage.reports


def test_report_lease_errors(cage):
    assert_error(post(cage, "report", report_body("lease_unknown")), 404, "Lease not found")
    expired, revoked, closed = lease_of(cage), lease_of(cage), lease_of(cage)
    cage.expire(expired)
    cage.revoke(revoked)
    assert post(cage, "return", {"lease_id": closed, "spent_microdollars": 0}).status == 200
    assert_error(post(cage, "report", report_body(expired)), 403, "Lease expired")
    assert_error(post(cage, "report", report_body(revoked)), 403, "Lease has been revoked")
    assert_error(post(cage, "report", report_body(closed)), 403, "Lease is not active")
    assert_error(post(cage, "report", b"[1, 2]"), 400)
    assert not cage.reports and not cage.duplicate_reports


def test_concurrent_reports_are_all_counted(cage):
    lease = lease_of(cage)
    statuses = []

    def send(i):
        statuses.append(post(cage, "report", report_body(lease, "req-%s" % uuid.uuid4().hex, cost=10)).status)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert statuses == [200] * 40
    assert cage.lease(lease).spent == 400 and len(cage.reports) == 40


# --------------------------------------------------------------------------- refresh


def test_refresh_opens_a_new_lease_and_expires_the_old_without_credit(cage):
    old = lease_of(cage, requested=4_000_000)
    assert post(cage, "report", report_body(old, cost=1_000_000)).status == 200
    body = {"ic_token": cage.token(), "current_lease_id": old, "requested_budget": 6_000_000}
    r = post(cage, "refresh", body)
    assert r.status == 200, r
    answer = r.json()
    assert answer["status"] == "approved" and answer["reason"] is None
    assert answer["budget_granted"] == 6_000_000
    assert answer["budget_remaining"] == cage.owner_remaining == 100_000_000 - 4_000_000 - 6_000_000
    new = cage.lease(answer["lease_id"])
    assert (new.status, new.granted, new.provider, new.agent_id) == ("active", 6_000_000, "openai", 1)
    assert cage.lease(old).status == "expired"  # its 3,000,000 unspent are gone
    assert_error(post(cage, "report", report_body(old)), 403, "Lease expired")
    assert post(cage, "report", report_body(answer["lease_id"])).status == 200
    assert cage.refreshes[-1] == {"body": body, "status": 200, "response": answer}
    # default amount
    assert post(cage, "refresh", {"ic_token": cage.token(), "current_lease_id": new.lease_id}).json()[
        "budget_granted"] == 10_000_000


def test_refresh_is_denied_when_the_owner_has_nothing_left(cage):
    old = lease_of(cage)
    cage.owner_remaining = 0
    r = post(cage, "refresh", {"ic_token": cage.token(), "current_lease_id": old})
    assert r.status == 200
    assert r.json() == {"status": "denied", "budget_granted": None, "budget_remaining": 0, "lease_id": None,
                        "reason": "insufficient_budget"}
    assert cage.lease(old).status == "active" and len(cage.leases) == 1
    cage.owner_remaining = 700
    assert post(cage, "refresh", {"ic_token": cage.token(), "current_lease_id": old}).json()["budget_granted"] == 700


def test_refresh_errors(cage):
    mine = lease_of(cage)
    cage.set_agent(2, provider="openai", provider_key="sk-two")
    theirs = lease_of_agent(cage, 2)
    token = cage.token()
    assert_error(post(cage, "refresh", {"current_lease_id": mine}), 400)
    assert_error(post(cage, "refresh", {"ic_token": token}), 400, secret=token)
    assert_error(post(cage, "refresh", {"ic_token": token, "current_lease_id": mine, "requested_budget": 0}), 400)
    assert_error(post(cage, "refresh", {"ic_token": cage.token(expired=True), "current_lease_id": mine}), 401,
                 "Invalid IC Token")
    assert_error(post(cage, "refresh", {"ic_token": token, "current_lease_id": "lease_nope"}), 404,
                 "Lease not found")
    assert_error(post(cage, "refresh", {"ic_token": token, "current_lease_id": theirs}), 403)
    expired, revoked, closed = lease_of(cage), lease_of(cage), lease_of(cage)
    cage.expire(expired)
    cage.revoke(revoked)
    post(cage, "return", {"lease_id": closed, "spent_microdollars": 0})
    for lease, message in ((expired, "Lease expired"), (revoked, "Lease has been revoked"),
                           (closed, "Lease is not active")):
        assert_error(post(cage, "refresh", {"ic_token": token, "current_lease_id": lease}), 403, message)
    assert cage.owner_remaining == 100_000_000 - 5 * 10_000_000 + 10_000_000  # only the return credited
    assert [r["status"] for r in cage.refreshes] == [400, 400, 400, 401, 404, 403, 403, 403, 403]


def lease_of_agent(cage, agent_id):
    token = cage.token(agent_id)
    r = post(cage, "handshake", {"ic_token": token, "provider": "openai"}, bearer(token))
    assert r.status == 200, r
    return r.json()["lease_id"]


# --------------------------------------------------------------------------- return


def test_return_credits_the_unspent_part_and_closes_the_lease(cage):
    lease = lease_of(cage, requested=5_000_000)
    r = post(cage, "return", {"lease_id": lease, "spent_microdollars": 1_250_000})
    assert r.status == 200 and r.json() == {"success": True, "returned": 3_750_000}
    assert cage.owner_remaining == 100_000_000 - 1_250_000
    snap = cage.lease(lease)
    assert (snap.status, snap.return_spent, snap.returned) == ("closed", 1_250_000, 3_750_000)
    assert cage.returns == [{"lease_id": lease, "spent_microdollars": 1_250_000, "returned": 3_750_000}]
    assert_error(post(cage, "return", {"lease_id": lease, "spent_microdollars": 0}), 400, "Lease is not active")
    assert cage.owner_remaining == 100_000_000 - 1_250_000


def test_return_of_more_than_granted_credits_nothing(cage):
    lease = lease_of(cage, requested=1_000)
    assert post(cage, "return", {"lease_id": lease, "spent_microdollars": 5_000}).json()["returned"] == 0
    assert cage.owner_remaining == 100_000_000 - 1_000


def test_return_errors(cage):
    lease = lease_of(cage)
    for body in ({"lease_id": lease}, {"lease_id": lease, "spent_microdollars": -1},
                 {"lease_id": lease, "spent_microdollars": "1"}, {"spent_microdollars": 1}, b"nope"):
        assert_error(post(cage, "return", body), 400)
    assert_error(post(cage, "return", {"lease_id": "lease_nope", "spent_microdollars": 1}), 404, "Lease not found")
    cage.expire(lease)
    assert_error(post(cage, "return", {"lease_id": lease, "spent_microdollars": 1}), 400, "Lease is not active")
    assert not cage.returns and cage.owner_remaining == 90_000_000


# --------------------------------------------------------------------------- analytics


def test_analytics_stores_each_event_id_once(cage):
    event = event_body(cage)
    assert post(cage, "analytics", event).json() == {"success": True}
    again = dict(event, cost_micros=999)
    r = post(cage, "analytics", again)
    assert r.status == 200 and r.json() == {"success": True}
    failed = event_body(cage, event_type="llm_request_failed", input_tokens=None, output_tokens=None,
                        cost_micros=None, error_code="rate_limited", error_message="429 upstream",
                        provider_id="ip_openai")
    assert post(cage, "analytics", failed).status == 200
    assert [e["event_id"] for e in cage.analytics] == [event["event_id"], failed["event_id"]]
    assert cage.analytics[0]["cost_micros"] == 250
    assert cage.duplicate_events == [again]


@pytest.mark.parametrize("change", [
    {"event_id": "not-a-uuid"}, {"event_id": "0123456789abcdef0123456789abcdef"}, {"event_id": None},
    {"timestamp_ms": "1700000000000"}, {"timestamp_ms": None}, {"event_type": "router_started"},
    {"model": ""}, {"provider": None}, {"input_tokens": -1}, {"cost_micros": "5"}, {"error_code": 7},
    {"ic_token": None},
])
def test_analytics_validation_errors(cage, change):
    body = event_body(cage)
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(post(cage, "analytics", body), 400, secret=body.get("ic_token"))
    assert not cage.analytics


def test_analytics_token_errors(cage):
    for token in (cage.token(expired=True), _tampered_signature(cage.token()), cage.token(5)):
        assert_error(post(cage, "analytics", event_body(cage, ic_token=token)), 401, "Invalid IC Token",
                     secret=token)
    assert not cage.analytics and not cage.duplicate_events


# --------------------------------------------------------------------------- HTTP surface


def test_unknown_paths_and_methods_answer_json(cage):
    r = raw(cage.port, "POST", "/api/v1/nothing", {}, auth=None)
    assert_error(r, 404)
    r = raw(cage.port, "GET", ENDPOINTS["provider-key"], auth=None)
    assert_error(r, 405)
    assert cage.calls("provider-key") == 1 and not cage.key_fetches


def test_query_strings_and_chunked_bodies_are_understood(cage):
    r = raw(cage.port, "POST", ENDPOINTS["provider-key"] + "?x=1", {"ic_token": cage.token()}, auth=None,
            chunked=True)
    assert r.status == 200 and r.json()["provider_key"] == cage.provider_key


def test_random_ids_hold_no_digits(cage):
    assert not DIGIT.search(cage.provider_key)
    for _ in range(20):
        body = handshake(cage, requested_budget=1).json()
        assert body["ip_token"].startswith("ip_v1:"), body
        assert not DIGIT.search(body["lease_id"]) and not DIGIT.search(body["ip_token"][6:]), body


# --------------------------------------------------------------------------- controls


def test_fail_answers_the_next_calls_and_changes_nothing(cage):
    cage.fail("handshake", status=503, times=2)
    for _ in range(2):
        assert_error(handshake(cage), 503, "injected failure", code="INTERNAL_ERROR")
    assert cage.owner_remaining == 100_000_000 and not cage.leases and not cage.handshakes
    assert handshake(cage).status == 200
    assert cage.calls("handshake") == 3 and len(cage.handshakes) == 1
    assert post(cage, "provider-key", {"ic_token": cage.token()}).status == 200  # other endpoints unaffected


def test_fail_until_cleared(cage):
    lease = lease_of(cage)
    cage.fail("report", times=None)
    for _ in range(4):
        assert_error(post(cage, "report", report_body(lease)), 500, "injected failure")
    cage.fail("analytics", status=502, times=0)
    assert post(cage, "analytics", event_body(cage)).status == 502
    cage.clear_failures()
    assert post(cage, "report", report_body(lease)).status == 200
    assert post(cage, "analytics", event_body(cage)).status == 200
    assert cage.calls("report") == 5 and len(cage.reports) == 1


def test_controls_refuse_unknown_names_and_bad_values(cage):
    with pytest.raises(ValueError, match="unknown endpoint"):
        cage.fail("budget")
    with pytest.raises(ValueError):
        cage.fail("report", status=42)
    with pytest.raises(ValueError):
        cage.delay("report", -1)
    with pytest.raises(ValueError):
        cage.calls("nope")
    with pytest.raises(ValueError):
        cage.owner_remaining = -1
    with pytest.raises(KeyError):
        cage.revoke("lease_nope")


def _in_thread(fn):
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", fn()), daemon=True)
    t.start()
    return t, result


def test_a_delayed_endpoint_blocks_only_its_own_calls(cage):
    cage.delay("handshake", 60)
    t, result = _in_thread(lambda: handshake(cage))
    wait_for(lambda: cage.calls("handshake") == 1, 10, "the delayed handshake to arrive")
    assert post(cage, "provider-key", {"ic_token": cage.token()}).status == 200
    assert post(cage, "analytics", event_body(cage)).status == 200
    assert t.is_alive() and not cage.leases  # still waiting (60 s) while the others were answered
    cage.delay("handshake", 0)  # clears the delay and releases the waiting call
    t.join(10)
    assert result["r"].status == 200 and len(cage.leases) == 1


def test_a_short_delay_elapses_by_itself(cage):
    cage.delay("return", 0.2)
    lease = lease_of(cage)
    assert post(cage, "return", {"lease_id": lease, "spent_microdollars": 0}).status == 200


def test_down_refuses_connections_and_up_listens_again_with_the_same_state(cage):
    lease = lease_of(cage)
    port = cage.port
    cage.down()
    assert not cage.is_up and refuses_connections(port)
    with pytest.raises(ConnectionRefusedError):
        post(cage, "report", report_body(lease))
    assert cage.url == "http://127.0.0.1:%d" % port
    cage.up()
    assert cage.port == port
    assert post(cage, "report", report_body(lease, cost=5)).status == 200
    assert cage.lease(lease).spent == 5


def test_down_closes_idle_keep_alive_connections(cage):
    conn = http.client.HTTPConnection("127.0.0.1", cage.port, timeout=10)
    try:
        data = json.dumps({"ic_token": cage.token()})
        conn.request("POST", ENDPOINTS["provider-key"], data, {"Content-Type": "application/json"})
        assert conn.getresponse().read() and conn.sock is not None  # kept alive
        cage.down()
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.request("POST", ENDPOINTS["provider-key"], data, {"Content-Type": "application/json"})
            conn.getresponse().read()
    finally:
        conn.close()
    assert cage.calls("provider-key") == 1


def test_a_request_read_before_down_still_gets_its_answer(cage):
    cage.delay("handshake", 60)
    t, result = _in_thread(lambda: handshake(cage))
    wait_for(lambda: cage.calls("handshake") == 1, 10, "the delayed handshake to arrive")
    cage.down()
    cage.delay("handshake", 0)
    t.join(10)
    assert result["r"].status == 200 and result["r"].headers.get("connection") == "close"
    assert refuses_connections(cage.port)
    cage.up()
    assert handshake(cage).status == 200


def test_stop_releases_delayed_calls_and_frees_the_port():
    cage = FakeIronCage().start()
    cage.delay("refresh", 60)
    t, result = _in_thread(lambda: _swallow(lambda: post(cage, "refresh", {})))
    wait_for(lambda: cage.calls("refresh") == 1, 10, "the delayed refresh to arrive")
    cage.stop()
    t.join(10)
    assert not t.is_alive() and isinstance(result["r"], Exception)
    assert refuses_connections(cage.port)


def _swallow(fn):
    try:
        return fn()
    except Exception as e:  # the connection closed without an answer
        return e


def test_concurrent_handshakes_never_grant_more_than_the_owner_has():
    with FakeIronCage(owner_budget=25_000_000) as cage:
        results = []
        threads = [threading.Thread(target=lambda: results.append(handshake(cage, requested_budget=3_000_000)))
                   for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        granted = [r.json()["budget_granted"] for r in results if r.status == 200]
        assert sorted(r.status for r in results) == [200] * 9 + [403] * 3
        assert sum(granted) == 25_000_000 and cage.owner_remaining == 0
        assert sum(lease.granted for lease in cage.leases.values()) == 25_000_000
