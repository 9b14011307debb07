"""Control-server mode against a fake Iron Cage server (tests/fakes/iron_cage.py) on loopback:
the provider key (cache, single flight, expiry, backoff, errors), budget leases (handshake, refresh
granted and refused, return at stop and on the next start), reports and analytics exactly once,
across outages, a server 500 and a SIGKILL; with the real ``openai`` SDK as the client."""

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import openai
import pytest

from children import CHILD_CWD, child_env
from fakes.iron_cage import FakeIronCage
from fakes.upstream import reply_text
from helpers import MSG, assert_no_secret, oai_client, raw, wait_for

MODEL = "gpt-4o-mini"


@pytest.fixture
def cage(oai_up):
    """A fake Iron Cage whose agent 1 has an OpenAI key pointing at the fake OpenAI upstream."""
    with FakeIronCage(base_url=oai_up.origin + "/v1") as c:
        c.ic = c.token()  # the token the routers of the test use (each token() call signs a new one)
        yield c


def control_router(make_router, cage, state_dir, **kw):
    kw.setdefault("analytics_interval", 0.2)
    return make_router(api_key=cage.ic, server_url=cage.url, state_dir=str(state_dir), **kw)


def chat(router, content="hello router", **kw):
    kw.setdefault("max_tokens", 20)
    return oai_client(router, max_retries=0).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}], **kw)


def ledger(state_dir):
    with sqlite3.connect(str(state_dir / "iron_runtime.db"), timeout=10) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT request_id, cost_picos, input_tokens, cache_read_tokens,"
                                            " cache_write_tokens, output_tokens, status FROM ledger ORDER BY id")]


def outbox(state_dir, kind):
    with sqlite3.connect(str(state_dir / "iron_runtime.db"), timeout=10) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM control_outbox WHERE kind = ? ORDER BY id", (kind,))]


def reported_ids(cage):
    return [r["request_id"] for r in cage.reports]


def control(router):
    return router.metrics()["control"]


# ----------------------------------------------------------------------------- end to end


def test_openai_sdk_end_to_end_key_lease_reports_analytics_and_return(make_router, cage, oai_up, tmp_path):
    router = control_router(make_router, cage, tmp_path)
    assert router.mode == "control_server" and router.provider == "openai"
    assert router.api_key != cage.ic

    reply = chat(router)
    assert reply.choices[0].message.content == reply_text("hello router")
    stream = oai_client(router).chat.completions.create(model=MODEL, messages=MSG, max_tokens=20, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == reply_text("hello router")
    # The provider key came from the server and went to the upstream its base_url named.
    assert oai_up.count() == 2
    assert oai_up.last.headers["authorization"] == "Bearer " + cage.provider_key
    (hs,) = cage.handshakes
    assert hs["body"]["provider"] == "openai" and hs["body"]["requested_budget"] == 10_000_000
    assert hs["authorization"] == "Bearer " + cage.ic
    m = control(router)
    assert m["lease_state"] == "active" and m["lease_granted"] == 10.0 and m["key_state"] == "valid"
    assert router.budget_status[1] == pytest.approx(10.0)

    wait_for(lambda: len(cage.reports) == 2 and len(cage.analytics) == 2, what="reports and analytics")
    router.stop()
    rows = ledger(tmp_path)
    assert sorted(reported_ids(cage)) == sorted(r["request_id"] for r in rows)
    total_picos = sum(r["cost_picos"] for r in rows)
    reported = sum(r["cost_microdollars"] for r in cage.reports)
    assert reported == total_picos // 1_000_000, "micro-dollars exact to within the last fraction"
    for rep, row in zip(sorted(cage.reports, key=lambda r: r["request_id"]), sorted(rows, key=lambda r: r["request_id"])):
        assert rep["tokens"] == row["input_tokens"] + row["cache_read_tokens"] + row["cache_write_tokens"] + row["output_tokens"]
        assert rep["model"] == MODEL and rep["provider"] == "openai"
    assert {e["event_type"] for e in cage.analytics} == {"llm_request_completed"}
    assert len({e["event_id"] for e in cage.analytics}) == 2 and not cage.duplicate_events
    # At stop the unused lease went back: the owner is charged exactly what was reported.
    (ret,) = cage.returns
    assert ret["lease_id"] == hs["response"]["lease_id"]
    assert ret["spent_microdollars"] == reported
    assert cage.owner_remaining == 100_000_000 - reported
    data = (tmp_path / "iron_runtime.db").read_bytes()
    assert cage.ic.encode() not in data and cage.provider_key.encode() not in data


def test_anthropic_key_sets_provider_and_other_provider_is_refused(make_router, cage, ant_up, tmp_path):
    cage.set_agent(1, provider="anthropic", provider_key="sk-ant-fakeKEYfromCAGE", base_url=ant_up.origin)
    router = control_router(make_router, cage, tmp_path)
    assert router.provider == "anthropic"
    assert cage.handshakes[0]["body"]["provider"] == "anthropic"
    from helpers import ant_client

    msg = ant_client(router).messages.create(model="claude-opus-4-1", max_tokens=10, messages=MSG)
    assert msg.content[0].text == reply_text("hello router")
    assert ant_up.last.headers["x-api-key"] == "sk-ant-fakeKEYfromCAGE"
    r = raw(router, "POST", "/v1/chat/completions", {"model": MODEL, "messages": MSG})
    assert r.status == 400 and r.json()["error"]["code"] == "provider_not_configured"
    assert "anthropic" in r.json()["error"]["message"]


def test_openai_client_uses_claude_through_the_servers_anthropic_key(make_router, cage, ant_up, tmp_path):
    """Translation in control-server mode: the key the server gave is the target provider's."""
    cage.set_agent(1, provider="anthropic", provider_key="sk-ant-fakeKEYfromCAGE", base_url=ant_up.origin)
    router = control_router(make_router, cage, tmp_path)
    c = oai_client(router, max_retries=0).chat.completions.create(model="claude-haiku-4-5", messages=MSG, max_tokens=20)
    assert c.choices[0].message.content == reply_text("hello router")
    rec = ant_up.last
    assert rec.path == "/v1/messages" and rec.headers["x-api-key"] == "sk-ant-fakeKEYfromCAGE"
    router.stop()
    reports = cage.reports
    assert len(reports) == 1 and reports[0]["provider"] == "anthropic" and reports[0]["model"] == "claude-haiku-4-5"
    assert reports[0]["cost_microdollars"] == ledger(tmp_path)[0]["cost_picos"] // 1_000_000


def test_explicit_base_url_wins_over_the_servers(make_router, cage, oai_up, ant_up, tmp_path):
    router = control_router(make_router, cage, tmp_path, openai_base_url=ant_up.origin)
    chat(router)
    assert ant_up.count() == 1 and oai_up.count() == 0
    assert control(router)["upstream"] == oai_up.origin


# ----------------------------------------------------------------------------- provider key


def _burst(router, n):
    """Starts ``n`` concurrent requests; returns a function that waits for them and gives their statuses."""
    results = [None] * n

    def one(i):
        try:
            results[i] = raw(router, "POST", "/v1/chat/completions",
                             {"model": MODEL, "messages": MSG, "max_tokens": 5}, timeout=60).status
        except Exception as e:  # pragma: no cover - reported by the assertion below
            results[i] = repr(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()

    def join():
        for t in threads:
            t.join(90)
        return results

    return join


def test_expired_key_is_fetched_once_for_100_concurrent_requests(make_router, cage, tmp_path):
    router = control_router(make_router, cage, tmp_path, cache_ttl_seconds=1)
    assert cage.calls("provider-key") == 1
    time.sleep(1.2)  # expired, and no request came to refresh it ahead
    cage.delay("provider-key", 60)  # the fetch is held until released below
    join = _burst(router, 100)
    wait_for(lambda: router.metrics()["in_flight"] == 100, what="all 100 requests waiting for the key")
    assert cage.calls("provider-key") == 2, "single flight: one fetch however many requests wait"
    cage.delay("provider-key", 0)
    assert join() == [200] * 100


def test_key_is_refreshed_in_the_background_before_expiry(make_router, cage, tmp_path):
    ttl = 20
    router = control_router(make_router, cage, tmp_path, cache_ttl_seconds=ttl)
    # Past 80% of the time to live by the router's own clock, with seconds of validity left.
    wait_for(lambda: control(router)["key_expires_in"] <= ttl * 0.2 - 0.2, timeout=ttl,
             what="the key to be due for a refresh")
    assert control(router)["key_expires_in"] > 1.0, "still valid when the request arrives"
    cage.delay("provider-key", 60)  # the refresh is held until released below
    done = []
    first = threading.Thread(target=lambda: done.append(chat(router, content="finds the key due")))
    first.start()
    first.join(30)
    assert done, "the request went on with the cached key while the refresh was held"
    wait_for(lambda: cage.calls("provider-key") == 2, what="the background refresh to start")
    assert _burst(router, 20)() == [200] * 20
    assert cage.calls("provider-key") == 2, "one background refresh, however many requests found it due"
    cage.delay("provider-key", 0)
    wait_for(lambda: control(router)["key_expires_in"] > ttl * 0.5, what="the refreshed key")


def test_key_refused_gives_502_naming_the_code_and_backs_off(make_router, cage, tmp_path):
    cage.set_agent(1, key_enabled=False)
    router = control_router(make_router, cage, tmp_path)
    for _ in range(5):
        r = raw(router, "POST", "/v1/chat/completions", {"model": MODEL, "messages": MSG})
        assert r.status == 502, r
        err = r.json()["error"]
        assert err["code"] == "control_server_refused" and "NO_PROVIDER_ASSIGNED" in err["message"]
        assert r.headers["x-iron-control-code"] == "NO_PROVIDER_ASSIGNED" and int(r.headers["retry-after"]) >= 1
        assert_no_secret(r.text, cage.ic)
    assert cage.calls("provider-key") == 1, "a refusal is not asked again within seconds"
    m = control(router)
    assert m["key_state"] == "none" and m["last_error"]["code"] == "NO_PROVIDER_ASSIGNED"
    errors = router.events(types=["control_server_error"])
    assert errors and errors[0]["code"] == "NO_PROVIDER_ASSIGNED"
    assert_no_secret(json.dumps(errors), cage.ic)


@pytest.mark.parametrize("problem, code", [("disabled", "NO_PROVIDER_ASSIGNED"), ("expired", "UNAUTHORIZED"),
                                           ("down", "unreachable")])
def test_strict_start_fails_with_the_servers_answer(make_router, cage, tmp_path, problem, code):
    from iron_runtime import ControlServerError, RouterStartError

    token = cage.ic
    if problem == "disabled":
        cage.set_agent(1, key_enabled=False)
    elif problem == "expired":
        token = cage.token(expired=True)
    else:
        cage.down()
    with pytest.raises(ControlServerError) as ei:
        make_router(api_key=token, server_url=cage.url, state_dir=str(tmp_path), strict=True)
    assert isinstance(ei.value, RouterStartError)
    assert code in str(ei.value) and cage.url.split("//")[1] in str(ei.value)
    assert_no_secret(str(ei.value), token)


# ----------------------------------------------------------------------------- outages


def test_server_down_at_start_then_back(make_router, cage, tmp_path):
    cage.down()
    t0 = time.monotonic()
    router = control_router(make_router, cage, tmp_path)
    assert time.monotonic() - t0 < 10, "a non-strict start does not hang on a server that is down"
    m = control(router)
    assert m["lease_state"] in ("unavailable", "acquiring") and m["last_error"]["code"] == "UNREACHABLE"
    r = raw(router, "POST", "/v1/chat/completions", {"model": MODEL, "messages": MSG})
    assert r.status == 503 and r.json()["error"]["code"] == "control_server_unavailable"
    assert "unreachable" in r.json()["error"]["message"]
    cage.up()
    wait_for(lambda: raw(router, "POST", "/v1/chat/completions",
                         {"model": MODEL, "messages": MSG, "max_tokens": 5}).status == 200,
             timeout=30, what="serving once the server is back")
    assert control(router)["lease_state"] == "active"


def test_server_down_mid_run_keeps_serving_and_reports_later_exactly_once(make_router, cage, tmp_path):
    router = control_router(make_router, cage, tmp_path)
    chat(router)
    wait_for(lambda: len(cage.reports) == 1, what="first report")
    cage.down()
    for i in range(5):
        chat(router, content="while down %d" % i)  # cached key, local lease: no server needed
    wait_for(lambda: control(router)["reports_pending"] == 5, what="reports waiting")
    cage.up()
    wait_for(lambda: control(router)["reports_pending"] == 0, timeout=60, what="reports delivered")
    router.stop()
    ids = reported_ids(cage)
    assert len(ids) == 6 and len(set(ids)) == 6 and not cage.duplicate_reports
    assert sorted(ids) == sorted(r["request_id"] for r in ledger(tmp_path))


def test_server_down_at_stop_then_the_next_start_reports_and_returns(make_router, cage, tmp_path):
    router = control_router(make_router, cage, tmp_path)
    chat(router)
    lease = control(router)["lease_id"]
    cage.down()
    chat(router, content="unreported")
    router.stop()
    assert cage.returns == []
    with sqlite3.connect(str(tmp_path / "iron_runtime.db")) as db:
        assert db.execute("SELECT state, owner FROM control_leases WHERE lease_id = ?", (lease,)).fetchone() == ("active", None)
    assert len([r for r in outbox(tmp_path, "report") if r["done_ms"] is None]) >= 1
    cage.up()
    again = control_router(make_router, cage, tmp_path)
    wait_for(lambda: any(r["lease_id"] == lease for r in cage.returns), timeout=30, what="the old lease returned")
    ids = reported_ids(cage)
    assert sorted(ids) == sorted(r["request_id"] for r in ledger(tmp_path)) and len(set(ids)) == len(ids)
    (ret,) = [r for r in cage.returns if r["lease_id"] == lease]
    assert ret["spent_microdollars"] == cage.lease(lease).spent
    assert control(again)["lease_id"] != lease


# ----------------------------------------------------------------------------- leases


def test_lease_refreshed_ahead_of_need_so_the_agent_never_stalls(make_router, cage, tmp_path):
    router = control_router(make_router, cage, tmp_path, lease_budget=0.00005)  # 50 micro-dollars a lease
    for i in range(30):
        chat(router, content="long running agent %d" % i)
    approved = [r for r in cage.refreshes if r["response"]["status"] == "approved"]
    assert len(approved) >= 2
    assert all(r["body"]["requested_budget"] == 50 for r in cage.refreshes)
    m = control(router)
    assert m["refreshes_denied"] == 0 and m["lease_state"] == "active"
    router.stop()
    assert sum(r["cost_microdollars"] for r in cage.reports) == sum(r["cost_picos"] for r in ledger(tmp_path)) // 1_000_000


def test_lease_refresh_refused_ends_in_402_naming_the_server(make_router, cage, tmp_path):
    cage.owner_remaining = 150  # the handshake gets 100, a refresh 50, then nothing
    router = control_router(make_router, cage, tmp_path, lease_budget=0.0001)
    statuses = []
    for i in range(40):
        r = raw(router, "POST", "/v1/chat/completions",
                {"model": MODEL, "messages": [{"role": "user", "content": "spend %d" % i}], "max_tokens": 20})
        statuses.append(r.status)
        if r.status == 402:
            err = r.json()["error"]
            assert err["code"] in ("budget_exceeded", "insufficient_budget")
            assert "Iron Cage" in err["message"] and "insufficient_budget" in err["message"]
            break
    assert statuses[-1] == 402 and set(statuses[:-1]) == {200}
    assert any(r["response"]["status"] == "denied" for r in cage.refreshes)
    assert router.events(types=["lease_refresh_denied"])
    spent = router.budget_status[0]
    assert spent * 1_000_000 <= 150 + 1e-6, "never spent more than the server granted"


def test_budget_argument_caps_spend_below_the_lease(make_router, cage, tmp_path):
    router = control_router(make_router, cage, tmp_path, budget=0.00005)
    assert cage.handshakes[0]["body"]["requested_budget"] == 50
    for i in range(40):
        r = raw(router, "POST", "/v1/chat/completions",
                {"model": MODEL, "messages": [{"role": "user", "content": "cap %d" % i}], "max_tokens": 20})
        if r.status == 402:
            break
    assert r.status == 402
    assert router.budget_status[0] <= 0.00005
    assert not cage.refreshes, "the user's cap binds: no refresh asked"


def test_revoked_lease_is_replaced_by_a_new_handshake(make_router, cage, tmp_path):
    router = control_router(make_router, cage, tmp_path)
    chat(router)
    first = control(router)["lease_id"]
    cage.revoke(first)
    chat(router, content="after revoke")
    wait_for(lambda: control(router)["lease_id"] not in (None, first), what="a new lease")
    wait_for(lambda: control(router)["reports_pending"] == 0, what="the report charged to the new lease")
    assert len(cage.handshakes) == 2
    assert router.events(types=["lease_lost"])
    assert sorted(reported_ids(cage)) == sorted(r["request_id"] for r in ledger(tmp_path))


# ----------------------------------------------------------------------------- reports and analytics


def test_report_retried_after_a_server_500(make_router, cage, tmp_path):
    cage.fail("report", 500, times=3)
    router = control_router(make_router, cage, tmp_path)
    for i in range(3):
        chat(router, content="retry %d" % i)
    wait_for(lambda: len(cage.reports) == 3, timeout=30, what="all three reports accepted")
    assert cage.calls("report") >= 6 and not cage.duplicate_reports
    assert sorted(reported_ids(cage)) == sorted(r["request_id"] for r in ledger(tmp_path))
    assert router.events(types=["control_server_error"])


def test_analytics_posted_exactly_once_and_a_4xx_is_not_resent(make_router, cage, oai_up, tmp_path):
    router = control_router(make_router, cage, tmp_path)
    for i in range(4):
        chat(router, content="event %d" % i)
    with pytest.raises(openai.InternalServerError):
        oai_client(router, max_retries=0).chat.completions.create(model="gpt-4o-mini-fake-error-500", messages=MSG,
                                                                  max_tokens=5)
    wait_for(lambda: len(cage.analytics) == 5, what="five events")
    time.sleep(1.0)  # five more intervals: nothing is sent again
    assert len(cage.analytics) == 5 and not cage.duplicate_events and cage.calls("analytics") == 5
    types = sorted(e["event_type"] for e in cage.analytics)
    assert types == ["llm_request_completed"] * 4 + ["llm_request_failed"]
    failed = [e for e in cage.analytics if e["event_type"] == "llm_request_failed"][0]
    assert failed["error_code"] == "http_500" and failed["ic_token"] == cage.ic
    cage.fail("analytics", 400, times=1)
    chat(router, content="rejected event")
    wait_for(lambda: control(router)["analytics_rejected"] == 1, what="the rejection counted")
    calls = cage.calls("analytics")
    time.sleep(1.0)
    assert cage.calls("analytics") == calls, "a 4xx means do not resend"
    assert control(router)["analytics_pending"] == 0


CRASH_CHILD = textwrap.dedent("""
    import sys, openai
    from iron_runtime import LlmRouter
    token, server, state_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    router = LlmRouter(api_key=token, server_url=server, state_dir=state_dir)
    client = openai.OpenAI(base_url=router.base_url, api_key=router.api_key, max_retries=0)
    for i in range(5):
        client.chat.completions.create(model="gpt-4o-mini", max_tokens=20,
                                       messages=[{"role": "user", "content": "crash %d" % i}])
    print("done", flush=True)
    sys.stdin.read()
""")


def test_sigkill_with_unreported_charges_then_restart_reports_them_exactly_once(make_router, cage, tmp_path):
    cage.fail("report", 500, times=0)  # nothing is acknowledged before the crash
    child = subprocess.Popen([sys.executable, "-c", CRASH_CHILD, cage.ic, cage.url, str(tmp_path)],
                             cwd=CHILD_CWD, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == b"done", child.stderr.read().decode()[-3000:]
        wait_for(lambda: len(outbox(tmp_path, "report")) == 5, what="the owed reports committed")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    assert cage.reports == []
    (crashed_lease,) = [lease_id for lease_id, l in cage.leases.items() if l.status == "active"]
    cage.clear_failures()
    router = control_router(make_router, cage, tmp_path)
    wait_for(lambda: any(r["lease_id"] == crashed_lease for r in cage.returns), timeout=30,
             what="the crashed session's lease returned")
    ids = reported_ids(cage)
    assert sorted(ids) == sorted(r["request_id"] for r in ledger(tmp_path)) and len(ids) == 5
    assert not cage.duplicate_reports
    assert all(r["lease_id"] == crashed_lease for r in cage.reports), "charged to the lease they were reserved under"
    wait_for(lambda: len(cage.analytics) == 5, what="the crashed session's analytics")
    router.stop()
    assert len(cage.analytics) == 5 and not cage.duplicate_events
    (ret,) = [r for r in cage.returns if r["lease_id"] == crashed_lease]
    assert ret["spent_microdollars"] == sum(r["cost_microdollars"] for r in cage.reports)


# ----------------------------------------------------------------------------- agents


def test_runtime_agents_spend_the_lease_and_their_calls_are_reported(make_router, cage, oai_up, tmp_path):
    """An unmodified openai agent under a Runtime whose router is in control-server mode: its calls use the
    server's key, and each is reported and posted once; the agent never sees the key or the token."""
    import os

    from iron_runtime import Runtime

    agent = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agents", "openai_agent.py")
    router = control_router(make_router, cage, tmp_path)
    with Runtime(router=router) as rt:
        h = rt.start_agent(agent, args=["--calls", "3", "--text", "hello from a governed agent"], budget=1.0)
        assert rt.wait_agent(h, timeout=90) == 0, rt.logs(h)
        logs = rt.logs(h)
        assert_no_secret(json.dumps(logs), cage.ic, cage.provider_key)
        assert rt.get_metrics(h.agent_id)["requests"] == 3
    assert all(r.headers["authorization"] == "Bearer " + cage.provider_key for r in oai_up.requests)
    wait_for(lambda: len(cage.reports) == 3 and len(cage.analytics) == 3, what="the agent's calls reported")
    with sqlite3.connect(str(tmp_path / "iron_runtime.db")) as db:
        ids = [r[0] for r in db.execute("SELECT request_id FROM ledger WHERE agent_id = ?", (h.agent_id,))]
    assert sorted(ids) == sorted(reported_ids(cage))


def test_analytics_wait_for_the_interval_and_are_posted_at_stop(make_router, cage, tmp_path):
    router = control_router(make_router, cage, tmp_path, analytics_interval=60)
    chat(router)
    chat(router, content="second")
    wait_for(lambda: len(cage.reports) == 2, what="the reports, which do not wait")
    assert cage.analytics == [], "events wait for the interval"
    router.stop()
    assert len(cage.analytics) == 2 and not cage.duplicate_events, "posted at stop"
    assert control(router)["analytics_pending"] == 0
