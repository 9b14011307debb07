"""GET /metrics: Prometheus text that a Prometheus parser reads, whose counters match the ledger in SQLite.

A real router (through a Runtime, for a runtime agent), the real openai and anthropic SDKs, the fake
upstreams, and the database read back with the standard sqlite3 module.
"""
import json
import os
import sqlite3
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict

import anthropic
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import ANTHROPIC_KEY, OPENAI_KEY

AGENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agents")
OPENAI_AGENT = os.path.join(AGENTS, "openai_agent.py")
EMAIL = "jane.doe@example.com"


def get(router, path, token=None, accept=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (router.port, path))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if accept:
        req.add_header("Accept", accept)
    return urllib.request.urlopen(req, timeout=10)


def samples(router):
    """{(sample name, sorted label items): value} of one scrape, parsed by prometheus_client."""
    body = get(router, "/metrics", router.api_key).read().decode()
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def series(scrape, name):
    """{labels dict as sorted tuple: value} of one sample name."""
    return {labels: v for (n, labels), v in scrape.items() if n == name}


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


@pytest.fixture
def runtime(oai_up, ant_up, tmp_path):
    from iron_runtime import Runtime

    rt = Runtime(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=oai_up.origin,
                 anthropic_base_url=ant_up.origin, state_dir=tmp_path / "state", read_timeout=20, max_retries=0,
                 circuit_breaker=False, pii="redact", budget=5.0, stop_timeout=3.0)
    yield rt
    rt.shutdown()


def test_metrics_need_the_router_token(runtime):
    router = runtime.router
    for path in ("/metrics", "/iron/metrics"):
        for token in (None, "not-the-token"):
            with pytest.raises(urllib.error.HTTPError) as e:
                get(router, path, token)
            assert e.value.code == 401
            body = json.loads(e.value.read())
            assert body["error"]["type"], body  # provider-shaped, like the proxy routes' errors
        r = get(router, path, router.api_key)
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    om = get(router, "/metrics", router.api_key, accept="application/openmetrics-text; version=1.0.0")
    assert om.headers["Content-Type"].startswith("application/openmetrics-text")
    assert om.read().decode().rstrip().endswith("# EOF")


def test_counters_match_the_ledger(runtime, oai_up, ant_up):
    router = runtime.router
    oai = openai.OpenAI(base_url=router.base_url, api_key=router.api_key, max_retries=0)
    ant = anthropic.Anthropic(base_url=router.base_url[:-len("/v1")], api_key=router.api_key, max_retries=0)
    msg = [{"role": "user", "content": "hello there"}]
    oai.chat.completions.create(model="gpt-4o-mini", messages=msg)
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "mail me at " + EMAIL}])
    for chunk in oai.chat.completions.create(model="gpt-4o", messages=msg, stream=True):
        pass
    ant.messages.create(model="claude-opus-4-1", max_tokens=64, messages=msg)
    # A runtime agent with a tiny budget of its own: one call goes through, the next gets 402 and it exits 3.
    h = runtime.start_agent(OPENAI_AGENT, args=["--calls", "0", "--exit-on-402", "3"], budget=0.00002)
    assert runtime.wait_agent(h, timeout=60) == 3, runtime.logs(h)
    assert router.flush(10)

    with sqlite3.connect("file:%s?mode=ro" % router.database_path, uri=True) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM ledger").fetchall()
        audit = db.execute("SELECT entity_type, action FROM pii_audit").fetchall()
    assert {(r["provider"], r["model"]) for r in rows} >= {
        ("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-opus-4-1")}
    assert audit, "the email was detected"
    agent_rows = [r for r in rows if r["agent_id"] == h.agent_id]
    assert agent_rows

    def settled():
        s = samples(router)
        # Counters land just after a response's last byte: wait until every ledger row is counted.
        counted = sum(v for labels, v in series(s, "iron_requests_total").items() if dict(labels)["status"] != "402")
        return s if counted == len(rows) else None
    s = wait_for(settled, 10, "%d requests counted" % len(rows))

    by_status = Counter((r["provider"], r["model"] or "", str(r["status"])) for r in rows)
    requests = {(dict(l)["provider"], dict(l)["model"], dict(l)["status"]): v
                for l, v in series(s, "iron_requests_total").items()}
    refused = requests.pop(("openai", "gpt-4o-mini", "402"))
    assert refused >= 1, "the agent's 402 is counted (it has no ledger row)"
    assert requests == {k: float(n) for k, n in by_status.items()}

    tokens = defaultdict(float)
    cost = defaultdict(float)
    for r in rows:
        key = (r["provider"], r["model"])
        for kind in ("input", "cache_read", "cache_write", "output"):
            tokens[key + (kind,)] += r[kind + "_tokens"]
        cost[key] += r["cost_picos"] / 1e12
    got_tokens = {(dict(l)["provider"], dict(l)["model"], dict(l)["kind"]): v for l, v in series(s, "iron_tokens_total").items()}
    assert got_tokens == dict(tokens)
    got_cost = {(dict(l)["provider"], dict(l)["model"]): v for l, v in series(s, "iron_cost_usd_total").items()}
    assert got_cost.keys() == cost.keys()
    for k in cost:
        assert got_cost[k] == pytest.approx(cost[k], rel=1e-9, abs=1e-15)
    assert s[("iron_budget_spent_usd", ())] == pytest.approx(sum(cost.values()), rel=1e-9)
    assert s[("iron_budget_limit_usd", ())] == 5.0
    assert s[("iron_budget_reserved_usd", ())] == 0

    pii = Counter((a["entity_type"], a["action"]) for a in audit)
    got_pii = {(dict(l)["type"], dict(l)["action"]): v for l, v in series(s, "iron_pii_detections_total").items()}
    assert got_pii == {k: float(n) for k, n in pii.items()}

    agent = (("agent_id", h.agent_id),)
    assert s[("iron_agent_requests_total", agent)] == len(agent_rows)
    assert s[("iron_agent_cost_usd_total", agent)] == pytest.approx(sum(r["cost_picos"] for r in agent_rows) / 1e12)
    assert s[("iron_agent_budget_limit_usd", agent)] == pytest.approx(0.00002)
    assert s[("iron_agent_pii_detections_total", agent)] >= 1  # its default text carries an email
    assert s[("iron_agent_refused_requests_total", agent)] >= 1

    # One upstream call per ledger row here (no retries): the histograms saw each once.
    per_provider = Counter(r["provider"] for r in rows)
    for provider, n in per_provider.items():
        p = (("provider", provider),)
        assert s[("iron_upstream_response_head_seconds_count", p)] == n
        assert s[("iron_upstream_duration_seconds_count", p)] == n
        assert s[("iron_router_added_seconds_count", p)] == n
