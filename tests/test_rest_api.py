"""The REST endpoints (``/iron/api/...``) from outside: plain HTTP with the router's admin token,
a real router driven from Python, real ``openai`` SDK calls against the fake upstream, and a real
``Runtime`` agent controlled over HTTP (its process really stops: /proc says ``T``).
"""

import time

import pytest

from helpers import OPENAI_KEY, oai_client, raw, wait_for
from test_runtime import OPENAI_AGENT, chat_calls, make_runtime, proc_state  # noqa: F401 (make_runtime: a fixture)

EMAIL = "jane.doe@example.com"


def api(router, method, path, token="__admin__"):
    """A request to the router's own endpoints with its admin token (or ``token``; None: no token)."""
    headers = {}
    if token == "__admin__":
        token = router.admin_token
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    return raw(router, method, path, headers=headers, auth=None)


def settled_metrics(router, requests):
    """``router.metrics()`` once ``requests`` requests are settled and nothing is in flight or reserved."""
    def check():
        m = router.metrics()
        ok = m["settled_requests"] >= requests and m["in_flight"] == 0 and m["budget_reserved"] == 0
        return m if ok else None
    return wait_for(check, 15, "%d settled requests" % requests)


@pytest.fixture
def budget_router(make_router, oai_up, tmp_path):
    return make_router(provider_key={"openai": OPENAI_KEY}, openai_base_url=oai_up.origin, budget=5.0,
                       state_dir=tmp_path / "state", max_retries=0)


def test_status_matches_the_routers_metrics(budget_router):
    router = budget_router
    client = oai_client(router)
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "mail " + EMAIL}])
    m = settled_metrics(router, 3)
    r = api(router, "GET", "/iron/api/status")
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json")
    s = r.json()

    assert s["router"]["port"] == router.port
    assert s["router"]["base_url"] == router.base_url
    assert s["router"]["provider"] == router.provider == "openai"
    assert s["router"]["running"] is True
    assert s["router"]["uptime_s"] >= 0

    b = s["budget"]
    assert b["limit"] == 5.0
    assert b["spent"] == m["budget_spent"] > 0
    assert b["reserved"] == m["budget_reserved"] == 0
    assert b["remaining"] == m["budget_remaining"]
    assert b["fraction_used"] == pytest.approx(m["budget_spent"] / 5.0)
    assert b["budget_id"] == m["budget_id"]

    for key in ("requests", "proxied", "errors", "in_flight", "input_tokens", "output_tokens", "cost",
                "pii_detections", "rate_limited"):
        assert s["totals"][key] == m[key], key
    assert s["totals"]["requests"] == 3
    assert s["pii"]["by_type"] == m["pii_detections_by_type"] and s["pii"]["by_type"]["EMAIL"] >= 3
    assert s["pii"]["by_action"] == {"redacted": m["pii_detections"]}
    assert [c["state"] for c in s["circuits"]] == ["closed"]
    assert s["circuits"][0]["upstream"].startswith("openai@")
    assert s["agents"] == {"total": 0, "running": 0, "by_status": {}}
    assert s["events"]["dropped"] == m["events_dropped"]


def test_events_are_what_router_events_returns(budget_router):
    router = budget_router
    client = oai_client(router)
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    settled_metrics(router, 2)

    expected = router.events(types=["request_completed", "router_started"])
    got = api(router, "GET", "/iron/api/events?type=request_completed,router_started").json()["events"]
    assert got == expected
    assert [e["type"] for e in got] == ["router_started", "request_completed", "request_completed"]
    first = got[0]["event_id"]
    after = api(router, "GET", "/iron/api/events?type=request_completed&since=" + first).json()["events"]
    assert after == router.events(since=first, types=["request_completed"]) == got[1:]
    newest = api(router, "GET", "/iron/api/events?limit=1&type=request_completed").json()["events"]
    assert newest == got[2:]
    since_ms = api(router, "GET", "/iron/api/events?since=%d" % got[1]["timestamp_ms"]).json()["events"]
    assert since_ms == router.events(since=got[1]["timestamp_ms"])

    for query, param in (("since=last-week", "since"), ("type=request_done", "type"), ("limit=0", "limit"),
                         ("limit=many", "limit")):
        bad = api(router, "GET", "/iron/api/events?" + query)
        assert bad.status == 400, (query, bad)
        assert bad.json()["error"]["message"].startswith(param), bad.json()


def test_every_rest_endpoint_needs_the_admin_token(budget_router):
    router = budget_router
    for method, path in (("GET", "/iron/api/status"), ("GET", "/iron/api/agents"), ("GET", "/iron/api/events"),
                         ("POST", "/iron/api/agents/agent_x/pause"), ("POST", "/iron/api/agents/agent_x/stop")):
        for token in (None, "not-the-token"):
            r = api(router, method, path, token=token)
            assert r.status == 401, (method, path, token, r)
            assert r.json()["error"]["code"] == "invalid_api_key"
    # A POST never takes the token from the URL (a link must not be able to stop an agent).
    r = api(router, "POST", "/iron/api/agents/agent_x/stop?token=" + router.admin_token, token=None)
    assert r.status == 401


def test_an_agent_is_listed_paused_resumed_and_stopped_over_http(make_runtime, oai_up):
    rt = make_runtime()
    router = rt.router
    h = rt.start_agent(OPENAI_AGENT, args=["--calls", "0", "--interval", "0.05"], name="looper")
    wait_for(lambda: len(chat_calls(oai_up)) >= 2, 30, "the agent's first requests")
    pid = h.pid

    listed = api(router, "GET", "/iron/api/agents").json()["agents"]
    assert [a["agent_id"] for a in listed] == [h.agent_id]
    assert set(listed[0]) == set(rt.get_metrics(h)), "the keys of get_metrics"
    assert listed[0]["name"] == "looper" and listed[0]["status"] == "running" and listed[0]["pid"] == pid
    status = api(router, "GET", "/iron/api/status").json()
    assert status["agents"]["total"] == 1 and status["agents"]["running"] == 1

    r = api(router, "POST", "/iron/api/agents/%s/pause" % h.agent_id)
    assert r.status == 200, r
    assert r.json()["agent"]["status"] == "paused"
    assert rt.get_metrics(h)["status"] == "paused"
    wait_for(lambda: proc_state(pid) == "T", 5, "the agent's process stopped (T)")
    time.sleep(0.3)  # a request already on the wire when the signal came may still land
    paused_calls = len(chat_calls(oai_up))
    time.sleep(1.0)
    assert len(chat_calls(oai_up)) == paused_calls, "a paused agent made a request"
    assert proc_state(pid) == "T"
    again = api(router, "POST", "/iron/api/agents/%s/pause" % h.agent_id)
    assert again.status == 409 and again.json()["error"]["code"] == "agent_state", again

    r = api(router, "POST", "/iron/api/agents/%s/resume" % h.agent_id)
    assert r.status == 200, r
    assert r.json()["agent"]["status"] == "running" == rt.get_metrics(h)["status"]
    wait_for(lambda: len(chat_calls(oai_up)) >= paused_calls + 2, 20, "requests after resume")
    assert proc_state(pid) in ("R", "S")

    r = api(router, "POST", "/iron/api/agents/%s/stop" % h.agent_id)
    assert r.status == 200, r
    assert r.json()["agent"]["status"] in ("stopping", "stopped")
    assert rt.wait_agent(h, timeout=20) == 143, "ended by the SIGTERM"
    assert rt.get_metrics(h)["status"] == "stopped"
    twice = api(router, "POST", "/iron/api/agents/%s/stop" % h.agent_id)
    assert twice.status == 409, twice
    assert "stopped" in twice.json()["error"]["message"]
    missing = api(router, "POST", "/iron/api/agents/agent_nope/resume")
    assert missing.status == 404 and "agent_nope" in missing.json()["error"]["message"], missing

    kinds = [e["type"] for e in router.events(types=["agent_paused", "agent_resumed", "agent_stopped"])]
    assert kinds == ["agent_paused", "agent_resumed", "agent_stopped"]
    assert api(router, "GET", "/iron/api/agents").json()["agents"][0]["status"] == "stopped"
