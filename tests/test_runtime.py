"""The Runtime end to end: real agent processes (the scripts in ``tests/agents/``) using the real
``openai``/``anthropic``/LangChain SDKs with no base URL or key in their code, a real router, the
fake upstreams on loopback, real signals, and the SQLite database read back with ``sqlite3``.

Nothing of ours is mocked. Waits poll with deadlines (``wait_for``); no test asserts an upper
time bound. Every agent process a test learns of is SIGKILLed at its end if it is still there,
so a failing test leaves nothing running.
"""

import json
import os
import queue
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
from decimal import Decimal

import pytest

import iron_runtime
from helpers import ANTHROPIC_KEY, OPENAI_KEY, oai_client, raw, wait_for
from iron_runtime import (AgentHandle, AgentLaunchError, AgentNotFoundError, AgentStateError, ConfigurationError,
                          Runtime)
from test_cost import PRICES, cost_of, price_of, tokens_from_usage

AGENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agents")
OPENAI_AGENT = os.path.join(AGENTS, "openai_agent.py")
ANTHROPIC_AGENT = os.path.join(AGENTS, "anthropic_agent.py")
LANGCHAIN_AGENT = os.path.join(AGENTS, "langchain_agent.py")
ENV_AGENT = os.path.join(AGENTS, "env_agent.py")
GRANDCHILD_AGENT = os.path.join(AGENTS, "grandchild_agent.py")
EXIT_AGENT = os.path.join(AGENTS, "exit_agent.py")
LINES_AGENT = os.path.join(AGENTS, "lines_agent.py")
OWNER = os.path.join(AGENTS, "owner.py")

GOVERNED = ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY",
            "IRON_RUNTIME_AGENT_ID")
EMAIL = "jane.doe@example.com"


# ----------------------------------------------------------------------------- helpers




def proc_state(pid):
    """The state letter of ``pid`` in /proc, or None when there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data.rsplit(")", 1)[1].split()[0]


def alive(pid):
    """Running, sleeping or stopped; a zombie (dead, waiting to be reaped by whoever adopted it) is not."""
    return proc_state(pid) not in (None, "Z", "X")


def log_value(rt, h, prefix, timeout=20.0):
    """The rest of the first line of the agent's output that starts with ``prefix``."""
    def find():
        for line in rt.logs(h, tail=1000).splitlines():
            if line.startswith(prefix):
                return line[len(prefix):].strip() or "<empty>"
        return None
    return wait_for(find, timeout, "a line %r in the logs of %s" % (prefix, h))


def db_rows(path, sql, *params):
    """Rows of ``sql`` on the engine's database, opened read-only (see test_cost.read_rows why)."""
    conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(str(path)), uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def settled(rt, h, requests):
    """The agent's metrics once ``requests`` of its requests are settled and nothing is reserved."""
    def check():
        m = rt.get_metrics(h)
        return m if m["requests"] >= requests and m["budget_reserved"] == 0 else None
    return wait_for(check, 15, "%d settled requests of %s" % (requests, h))


def chat_calls(up):
    return [r for r in up.requests if r.path == "/v1/chat/completions"]


@pytest.fixture
def pids():
    """Pids a test saw; whatever of them is still alive at the end is SIGKILLed (never leak a ``sleep 300``)."""
    seen = []
    yield seen
    for pid in seen:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def make_runtime(oai_up, ant_up, tmp_path):
    """Runtimes in front of both fakes, their database under ``tmp_path/state``; all shut down afterwards."""
    made = []

    def make(**kw):
        if "router" not in kw:
            kw.setdefault("provider_key", {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY})
            kw.setdefault("openai_base_url", oai_up.origin)
            kw.setdefault("anthropic_base_url", ant_up.origin)
            kw.setdefault("state_dir", tmp_path / "state")
            kw.setdefault("read_timeout", 20)
            kw.setdefault("max_retries", 0)
            kw.setdefault("circuit_breaker", False)
        kw.setdefault("stop_timeout", 3.0)
        rt = Runtime(**kw)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.shutdown()


def expected_chat_cost(model, recs):
    return sum(cost_of(price_of(PRICES[model]), tokens_from_usage("chat", r.usage)) for r in recs)


# ----------------------------------------------------------------------------- spending through the router


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_openai_sdk_agent_spends_through_the_router(make_runtime, oai_up, stream):
    rt = make_runtime()
    h = rt.start_agent(OPENAI_AGENT, args=["--calls", "2"] + (["--stream"] if stream else []))
    assert rt.wait_agent(h, timeout=60) == 0, rt.logs(h)

    recs = chat_calls(oai_up)
    assert len(recs) == 2
    for rec in recs:
        # The router made the call with the real key; the agent never had it.
        assert rec.headers["authorization"] == "Bearer " + OPENAI_KEY
        assert rec.json["model"] == "gpt-4o-mini"
        assert rec.stream == stream
        assert EMAIL not in rec.body.decode()  # redacted on the way out
    expected = expected_chat_cost("gpt-4o-mini", recs)
    assert expected > 0

    m = settled(rt, h, 2)
    assert m["status"] == "completed" and m["exit_code"] == 0 and m["last_error"] is None
    assert m["requests"] == 2
    assert m["budget_spent_picos"] == expected
    assert m["budget_spent"] == pytest.approx(expected / 1e12, rel=1e-9)
    assert m["input_tokens"] == sum(r.usage["prompt_tokens"] for r in recs)
    assert m["output_tokens"] == sum(r.usage["completion_tokens"] for r in recs)
    assert m["pii_detections"] == 2  # one e-mail address per request
    assert m["budget_limit"] is None
    assert m["ended_at"] >= m["started_at"] > 0
    assert "call 2 ok echo:" in rt.logs(h)

    assert rt.router.flush(10)
    db = rt.router.database_path
    rows = db_rows(db, "SELECT * FROM ledger WHERE agent_id = ?", h.agent_id)
    assert len(rows) == 2
    assert sum(r["cost_picos"] for r in rows) == expected
    assert {r["model"] for r in rows} == {"gpt-4o-mini"}
    assert db_rows(db, "SELECT COUNT(*) AS n FROM ledger WHERE agent_id IS NULL OR agent_id <> ?",
                   h.agent_id)[0]["n"] == 0
    assert db_rows(db, "SELECT COUNT(*) AS n FROM pii_audit WHERE agent_id = ?", h.agent_id)[0]["n"] == 2
    agent_row = db_rows(db, "SELECT * FROM agents WHERE agent_id = ?", h.agent_id)[0]
    assert agent_row["status"] == "completed" and agent_row["exit_code"] == 0
    assert agent_row["script"] == OPENAI_AGENT
    assert json.loads(agent_row["args_json"]) == ["--calls", "2"] + (["--stream"] if stream else [])
    # the runtime's total is the agent's
    assert rt.router.metrics()["budget_spent_picos"] == expected


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_anthropic_sdk_agent_spends_through_the_router(make_runtime, ant_up):
    rt = make_runtime()
    h = rt.start_agent(ANTHROPIC_AGENT, args=["--text", "hello from an agent, mail me at " + EMAIL])
    assert rt.wait_agent(h, timeout=60) == 0, rt.logs(h)

    recs = [r for r in ant_up.requests if r.path == "/v1/messages"]
    assert len(recs) == 1
    rec = recs[0]
    assert rec.headers["x-api-key"] == ANTHROPIC_KEY
    assert EMAIL not in rec.body.decode()
    expected = cost_of(price_of(PRICES["claude-haiku-4-5"]), tokens_from_usage("messages", rec.usage))
    assert expected > 0

    m = settled(rt, h, 1)
    assert m["status"] == "completed"
    assert m["budget_spent_picos"] == expected
    assert m["input_tokens"] == rec.usage["input_tokens"] + rec.usage["cache_read_input_tokens"] + \
        rec.usage["cache_creation_input_tokens"]
    assert m["output_tokens"] == rec.usage["output_tokens"]
    assert m["pii_detections"] == 1
    assert rt.logs(h).startswith("ok echo:")
    assert rt.router.flush(10)
    rows = db_rows(rt.router.database_path, "SELECT * FROM ledger WHERE agent_id = ?", h.agent_id)
    assert [(r["provider"], r["model"], r["cost_picos"]) for r in rows] == [("anthropic", "claude-haiku-4-5", expected)]


def test_langchain_chat_openai_agent_spends_through_the_router(make_runtime, oai_up):
    rt = make_runtime()
    h = rt.start_agent(LANGCHAIN_AGENT)
    assert rt.wait_agent(h, timeout=90) == 0, rt.logs(h)
    recs = chat_calls(oai_up)
    assert len(recs) == 1
    assert recs[0].headers["authorization"] == "Bearer " + OPENAI_KEY
    expected = expected_chat_cost("gpt-4o-mini", recs)
    m = settled(rt, h, 1)
    assert m["budget_spent_picos"] == expected > 0
    assert m["input_tokens"] == recs[0].usage["prompt_tokens"]
    assert m["output_tokens"] == recs[0].usage["completion_tokens"]
    assert m["pii_detections"] == 1
    assert "ok echo:" in rt.logs(h)


def test_concurrent_agents_are_each_charged_for_their_own_calls(make_runtime, oai_up):
    rt = make_runtime()
    handles = []
    lock = threading.Lock()

    def start(i):
        h = rt.start_agent(OPENAI_AGENT, args=["--calls", str(i + 1), "--stream"] if i % 2 else ["--calls", str(i + 1)])
        with lock:
            handles.append((i + 1, h))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(handles) == 4 and len({h.pid for _, h in handles}) == 4
    for calls, h in handles:
        assert rt.wait_agent(h, timeout=90) == 0, rt.logs(h)
    one = expected_chat_cost("gpt-4o-mini", chat_calls(oai_up)[:1])  # every call has the same text and usage
    assert rt.router.flush(10)
    for calls, h in handles:
        m = settled(rt, h, calls)
        assert m["requests"] == calls and m["budget_spent_picos"] == calls * one and m["pii_detections"] == calls
        rows = db_rows(rt.router.database_path, "SELECT cost_picos FROM ledger WHERE agent_id = ?", h.agent_id)
        assert [r["cost_picos"] for r in rows] == [one] * calls
    assert len(chat_calls(oai_up)) == 1 + 2 + 3 + 4


# ----------------------------------------------------------------------------- the child's environment


def test_child_environment(make_runtime, tmp_path, monkeypatch):
    # Provider keys under names of the user's choosing, whole or inside a longer value.
    monkeypatch.setenv("MY_KEY", OPENAI_KEY)
    monkeypatch.setenv("MY_WRAPPED", "Authorization: Bearer " + ANTHROPIC_KEY + " (prod)")
    monkeypatch.setenv("IRT_TEST_INHERITED", "inherited-value")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "sk-ant-oat-other-credential-0123456789")
    rt = make_runtime()
    # Set after the router took its keys: the agent must get its own token, not these.
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    monkeypatch.setenv("OPENAI_API_BASE", "https://api.openai.com/v1")
    monkeypatch.setenv("MY_ROUTER_TOKEN", rt.router.api_key)
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "seen.json"
    h = rt.start_agent(ENV_AGENT, args=[str(out), "two words", "--flag", "h\u00e9llo \u2713"],
                       env={"MY_SETTING": "from-env-arg", "MY_UNICODE": "caf\u00e9"}, cwd=str(work))
    assert rt.wait_agent(h, timeout=30) == 0, rt.logs(h)
    seen = json.loads(out.read_text())
    env = seen["env"]

    assert env["OPENAI_BASE_URL"] == env["OPENAI_API_BASE"] == rt.router.base_url
    assert env["ANTHROPIC_BASE_URL"] == rt.router.base_url[: -len("/v1")]
    token = env["OPENAI_API_KEY"]
    assert token.startswith("irt_agent_") and env["ANTHROPIC_API_KEY"] == token
    assert token != rt.router.api_key
    assert env["IRON_RUNTIME_AGENT_ID"] == h.agent_id
    assert env["MY_SETTING"] == "from-env-arg" and env["MY_UNICODE"] == "caf\u00e9"
    assert env["IRT_TEST_INHERITED"] == "inherited-value"
    for dropped in ("MY_KEY", "MY_WRAPPED", "MY_ROUTER_TOKEN", "ANTHROPIC_AUTH_TOKEN", "IRON_RUNTIME_PARENT_PID"):
        assert dropped not in env, dropped
    everything = json.dumps(seen)
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, rt.router.api_key):
        assert secret not in everything

    # Started as `python script args` in its own process group, in the given directory.
    assert seen["argv"] == [ENV_AGENT, str(out), "two words", "--flag", "h\u00e9llo \u2713"]
    assert seen["cwd"] == str(work)
    assert os.path.realpath(seen["executable"]) == os.path.realpath(sys.executable)
    assert seen["pgid"] == seen["pid"] == rt.get_metrics(h)["pid"]
    assert seen["pgid"] != os.getpgid(0)

    # Each agent has a token of its own, and it stops working when the agent is over.
    out2 = tmp_path / "seen2.json"
    h2 = rt.start_agent("env_agent.py", args=[str(out2)], cwd=AGENTS)  # relative to cwd
    assert rt.wait_agent(h2, timeout=30) == 0, rt.logs(h2)
    env2 = json.loads(out2.read_text())["env"]
    assert env2["OPENAI_API_KEY"] != token and env2["IRON_RUNTIME_AGENT_ID"] == h2.agent_id
    r = raw(rt.router.port, "POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": []},
            headers={"Authorization": "Bearer " + token}, auth=None)
    assert r.status == 401, r


@pytest.mark.parametrize("name", GOVERNED)
def test_env_may_not_set_governed_variables(make_runtime, name):
    rt = make_runtime()
    with pytest.raises(ConfigurationError, match=name):
        rt.start_agent(ENV_AGENT, args=["/nonexistent/out.json"], env={name: "x"})
    assert rt.list_agents() == []


def test_env_may_not_hand_over_a_key(make_runtime):
    rt = make_runtime()
    for value in (OPENAI_KEY, "prefix-" + ANTHROPIC_KEY, rt.router.api_key):
        with pytest.raises(ConfigurationError) as e:
            rt.start_agent(ENV_AGENT, args=["/nonexistent/out.json"], env={"HANDY": value})
        assert value not in str(e.value)
    assert rt.list_agents() == []


# ----------------------------------------------------------------------------- budgets


def test_two_agents_with_separate_budgets(make_runtime, oai_up):
    rt = make_runtime()
    # About 2.5 calls' worth (one call costs 7.8e-6 with the fake's usage at gpt-4o-mini's prices).
    a = rt.start_agent(OPENAI_AGENT, args=["--calls", "0", "--exit-on-402", "3"], budget=0.00002, name="thrifty")
    b = rt.start_agent(OPENAI_AGENT, args=["--calls", "0", "--interval", "0.05"], budget=1.0, name="rich")
    assert rt.wait_agent(a, timeout=60) == 3, rt.logs(a)
    logs = rt.logs(a)
    assert "status 402" in logs and "APIStatusError" in logs, logs
    assert "call 1 ok" in logs

    ma = rt.get_metrics(a)
    assert ma["status"] == "failed" and ma["exit_code"] == 3
    assert ma["budget_limit"] == pytest.approx(0.00002)
    assert ma["refused_requests"] >= 1
    assert ma["requests"] >= 1
    limit = round(ma["budget_limit"] * 1e12)
    assert 0 < ma["budget_spent_picos"] <= limit  # never more than its budget
    # The 402 says why: what is left cannot pay for the least the next request may cost (its prompt and
    # a minimum of output), and what is left is exactly the limit minus the spend.
    m = re.search(r"may cost up to \$([0-9.]+); agent (\S+) has only \$([0-9.]+) left", logs)
    assert m, logs
    assert m.group(2) == a.agent_id
    assert Decimal(m.group(3)) < Decimal(m.group(1))
    assert Decimal(m.group(3)) * 10**12 == limit - ma["budget_spent_picos"]

    # The other agent keeps working after the first one ran out.
    n0 = rt.get_metrics(b)["requests"]
    wait_for(lambda: rt.get_metrics(b)["requests"] >= n0 + 3, 20, "the second agent to keep spending")
    mb = rt.get_metrics(b)
    assert mb["status"] == "running" and mb["refused_requests"] == 0
    assert "status 402" not in rt.logs(b, tail=100000)
    assert rt.stop_agent(b, timeout=5) == 143

    mb = settled(rt, b, mb["requests"])
    assert rt.router.flush(10)
    db = rt.router.database_path
    for m in (ma, mb):
        rows = db_rows(db, "SELECT cost_picos FROM ledger WHERE agent_id = ?", m["agent_id"])
        assert len(rows) == rt.get_metrics(m["agent_id"])["requests"]
        assert sum(r["cost_picos"] for r in rows) == rt.get_metrics(m["agent_id"])["budget_spent_picos"]
    assert rt.router.metrics()["budget_spent_picos"] == (rt.get_metrics(a)["budget_spent_picos"]
                                                        + rt.get_metrics(b)["budget_spent_picos"])


def test_exhausted_agent_is_stopped_with_the_stop_policy(make_runtime):
    rt = make_runtime(on_budget_exhausted="stop", stop_timeout=2.0)
    spender = rt.start_agent(OPENAI_AGENT, args=["--calls", "0"], budget=0.00002)
    bystander = rt.start_agent(LINES_AGENT, args=["1", "--stay"])
    code = rt.wait_agent(spender, timeout=60)
    m = rt.get_metrics(spender)
    assert m["status"] == "stopped", m
    assert code == m["exit_code"] == 143  # SIGTERM
    assert "budget" in m["last_error"], m
    assert m["budget_spent_picos"] <= round(m["budget_limit"] * 1e12)
    assert rt.get_metrics(bystander)["status"] == "running"


# ----------------------------------------------------------------------------- pause, resume, stop


def test_pause_stops_requests_and_resume_continues(make_runtime, oai_up):
    rt = make_runtime()
    h = rt.start_agent(OPENAI_AGENT, args=["--calls", "0", "--interval", "0.05"])
    wait_for(lambda: len(chat_calls(oai_up)) >= 2, 30, "the agent's first requests")
    rt.pause_agent(h)
    pid = h.pid
    assert h.status == "paused"
    wait_for(lambda: proc_state(pid) == "T", 5, "state T")
    assert rt.get_metrics(h)["process_state"] == "T"
    with pytest.raises(AgentStateError):
        rt.pause_agent(h)
    # A request already on the wire when the signal came may still land; after that, silence.
    time.sleep(0.3)
    paused_count = len(chat_calls(oai_up))
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert len(chat_calls(oai_up)) == paused_count, "a paused agent made a request"
        assert proc_state(pid) == "T"
        time.sleep(0.05)

    rt.resume_agent(h)
    assert h.status == "running"
    with pytest.raises(AgentStateError):
        rt.resume_agent(h)
    wait_for(lambda: len(chat_calls(oai_up)) >= paused_count + 2, 20, "requests after resume")
    assert proc_state(pid) in ("R", "S")
    assert rt.stop_agent(h, timeout=5) == 143


def test_stop_reaches_a_grandchild(make_runtime, pids):
    rt = make_runtime()
    h = rt.start_agent(GRANDCHILD_AGENT)
    grandchild = int(log_value(rt, h, "grandchild "))
    pids.extend([h.pid, grandchild])
    agent_pid = h.pid
    assert alive(grandchild) and os.getpgid(grandchild) == agent_pid

    assert rt.stop_agent(h, timeout=5) == 143
    assert not alive(agent_pid)
    wait_for(lambda: not alive(grandchild), 10, "the grandchild to be gone")
    m = rt.get_metrics(h)
    assert m["status"] == "stopped" and m["exit_code"] == 143
    assert rt.wait_agent(h, timeout=1) == 143

    with pytest.raises(AgentStateError):
        rt.stop_agent(h)
    with pytest.raises(AgentStateError):
        rt.pause_agent(h)
    with pytest.raises(AgentStateError):
        rt.resume_agent(h)

def test_an_agent_that_ends_gracefully_on_sigterm(make_runtime):
    rt = make_runtime()
    h = rt.start_agent(LINES_AGENT, args=["1", "--stay", "--graceful"])
    log_value(rt, h, "ready")
    assert rt.stop_agent(h, timeout=10) == 0
    m = rt.get_metrics(h)
    assert m["status"] == "stopped" and m["exit_code"] == 0  # stopped, not completed: it was asked to end
    assert rt.logs(h, tail=1) == "bye\n"  # what it printed on its way out is kept



def test_agent_ignoring_sigterm_is_killed_after_the_timeout(make_runtime, pids):
    rt = make_runtime()
    h = rt.start_agent(GRANDCHILD_AGENT, args=["--ignore-term"])
    grandchild = int(log_value(rt, h, "grandchild "))
    pids.extend([h.pid, grandchild])
    agent_pid = h.pid
    t0 = time.monotonic()
    assert rt.stop_agent(h, timeout=0.5) == 137  # SIGKILL
    assert time.monotonic() - t0 >= 0.45  # it was given its grace first
    assert not alive(agent_pid)
    wait_for(lambda: not alive(grandchild), 10, "the grandchild to be gone")
    assert rt.get_metrics(h)["status"] == "stopped"


def test_a_paused_agent_can_be_stopped(make_runtime, pids):
    rt = make_runtime()
    h = rt.start_agent(GRANDCHILD_AGENT)
    grandchild = int(log_value(rt, h, "grandchild "))
    pids.extend([h.pid, grandchild])
    rt.pause_agent(h)
    wait_for(lambda: proc_state(grandchild) == "T", 5, "the grandchild paused with its agent")
    assert rt.stop_agent(h, timeout=5) == 143
    wait_for(lambda: not alive(grandchild), 10, "the grandchild to be gone")


def test_unknown_agent_id(make_runtime):
    rt = make_runtime()
    for call in (rt.pause_agent, rt.resume_agent, rt.stop_agent, rt.wait_agent, rt.logs):
        with pytest.raises(AgentNotFoundError):
            call("agent_does-not-exist")
    assert rt.get_metrics("agent_does-not-exist") is None
    with pytest.raises(TypeError):
        rt.pause_agent(42)
    with pytest.raises(TypeError):
        rt.get_metrics(None)


# ----------------------------------------------------------------------------- restart policies


def history(rt, agent_id):
    assert rt.router.flush(10)
    return db_rows(rt.router.database_path, "SELECT * FROM agent_status_history WHERE agent_id = ? ORDER BY id",
                   agent_id)


def runs(counter):
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_on_failure_restarts_up_to_the_limit_then_fails(make_runtime, tmp_path):
    rt = make_runtime()
    events = []
    rt.on_agent_event(lambda e: events.append(e) if e["type"] in ("agent_restarted", "agent_failed") else None)
    counter = tmp_path / "runs"
    h = rt.start_agent(EXIT_AGENT, args=["3", str(counter)], restart="on-failure", max_restarts=2,
                       restart_delay=0.1)
    assert rt.wait_agent(h, timeout=60) == 3
    assert runs(counter) == 3
    m = rt.get_metrics(h)
    assert m["status"] == "failed" and m["exit_code"] == 3 and m["restarts"] == 2
    assert "exited with code 3" in m["last_error"]
    assert "boom-marker-3" in m["last_error"]  # the tail of the last run's stderr
    assert "max_restarts=2" in m["last_error"]
    assert m["last_error"].count("exited with code 3") == 1, m["last_error"]  # said once, clearly

    wait_for(lambda: len(events) >= 3, 10, "the agent events")
    restarted = [e for e in events if e["type"] == "agent_restarted"]
    assert len(restarted) == 2
    assert [e["type"] for e in events][-1] == "agent_failed"
    assert all(e["agent_id"] == h.agent_id for e in events)
    assert [e["restarts"] for e in restarted] == [1, 2]
    assert restarted[0]["reason"].startswith("exited with code 3; restart 1 in 0.1 s")

    rows = history(rt, h.agent_id)
    assert [r["status"] for r in rows] == ["running", "restarting", "starting", "running", "restarting",
                                           "starting", "running", "failed"]
    # exponential backoff: 0.1 s, then 0.2 s between the exit and the next start
    gaps = [rows[i + 1]["ts_ms"] - rows[i]["ts_ms"] for i, r in enumerate(rows) if r["status"] == "restarting"]
    assert gaps[0] >= 90 and gaps[1] >= 190, gaps
    assert "run 3 stdout" in rt.logs(h)


def test_always_restarts_a_clean_exit_too(make_runtime, tmp_path):
    rt = make_runtime()
    counter = tmp_path / "runs"
    h = rt.start_agent(EXIT_AGENT, args=["0", str(counter)], restart="always", max_restarts=2, restart_delay=0.05)
    assert rt.wait_agent(h, timeout=60) == 0
    assert runs(counter) == 3
    m = rt.get_metrics(h)
    assert m["status"] == "completed" and m["restarts"] == 2


@pytest.mark.parametrize("policy,code,status,expected_runs", [
    ("never", 4, "failed", 1),
    ("never", 0, "completed", 1),
    ("on-failure", 0, "completed", 1),
])
def test_no_restart(make_runtime, tmp_path, policy, code, status, expected_runs):
    rt = make_runtime()
    counter = tmp_path / "runs"
    h = rt.start_agent(EXIT_AGENT, args=[str(code), str(counter)], restart=policy, restart_delay=0.05)
    assert rt.wait_agent(h, timeout=60) == code
    m = rt.get_metrics(h)
    assert m["status"] == status and m["restarts"] == 0
    time.sleep(0.2)  # a restart would have been scheduled after 0.05 s
    assert runs(counter) == expected_runs
    if code:
        assert "exited with code %d" % code in m["last_error"] and "boom-marker-1" in m["last_error"]
        assert m["last_error"].count("exited with code") == 1, m["last_error"]
    else:
        assert m["last_error"] is None


def test_stop_while_waiting_to_restart(make_runtime, tmp_path):
    rt = make_runtime()
    counter = tmp_path / "runs"
    h = rt.start_agent(EXIT_AGENT, args=["5", str(counter)], restart="on-failure", restart_delay=5)
    wait_for(lambda: h.status == "restarting", 30, "the agent to wait for its restart")
    assert rt.stop_agent(h) == 5
    assert h.status == "stopped"
    assert rt.wait_agent(h, timeout=1) == 5
    assert runs(counter) == 1


def test_always_does_not_restart_an_agent_that_was_stopped(make_runtime, tmp_path):
    rt = make_runtime()
    counter = tmp_path / "runs"
    h = rt.start_agent(EXIT_AGENT, args=["0", str(counter), "300"], restart="always", restart_delay=0.05)
    wait_for(lambda: runs(counter) == 1, 30, "the first run")
    assert rt.stop_agent(h, timeout=5) == 143
    time.sleep(0.3)  # a restart would have come after 0.05 s
    assert runs(counter) == 1
    m = rt.get_metrics(h)
    assert m["status"] == "stopped" and m["restarts"] == 0 and m["pid"] is not None and not alive(m["pid"])


def test_an_agent_killed_from_outside_is_restarted_and_says_so(make_runtime, tmp_path):
    rt = make_runtime()
    counter = tmp_path / "runs"
    h = rt.start_agent(EXIT_AGENT, args=["0", str(counter), "300"], restart="on-failure", max_restarts=1,
                       restart_delay=0.05)
    wait_for(lambda: runs(counter) == 1, 30, "the first run")
    first = h.pid
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: runs(counter) == 2, 30, "the restart")
    wait_for(lambda: h.status == "running" and h.pid != first, 10, "the second run")
    m = rt.get_metrics(h)
    assert m["restarts"] == 1
    assert m["last_error"].startswith("killed by signal 9 (exit code 137)"), m["last_error"]
    os.kill(h.pid, signal.SIGKILL)
    assert rt.wait_agent(h, timeout=30) == 137
    m = rt.get_metrics(h)
    assert m["status"] == "failed"
    assert m["last_error"].startswith("killed by signal 9 (exit code 137); restarted 1 times"), m["last_error"]


def test_an_agents_budget_holds_across_its_restarts(make_runtime):
    rt = make_runtime()
    # Enough for one call: the first run spends it and exits 0; the next runs get 402 and exit 3.
    h = rt.start_agent(OPENAI_AGENT, args=["--calls", "1", "--exit-on-402", "3"], budget=0.00002,
                       restart="always", max_restarts=2, restart_delay=0.05)
    assert rt.wait_agent(h, timeout=90) == 3, rt.logs(h)
    m = rt.get_metrics(h)
    assert m["status"] == "failed" and m["restarts"] == 2
    assert m["requests"] == 1 and m["refused_requests"] == 2
    assert 0 < m["budget_spent_picos"] <= round(m["budget_limit"] * 1e12)


def test_lifecycle_events(make_runtime):
    rt = make_runtime()
    events = []
    rt.on_agent_event(events.append)
    h = rt.start_agent(LINES_AGENT, args=["1", "--stay"], name="evented")
    log_value(rt, h, "ready")
    rt.pause_agent(h)
    rt.resume_agent(h)
    rt.stop_agent(h, timeout=5)
    done = rt.start_agent(LINES_AGENT, args=["1"])
    assert rt.wait_agent(done, timeout=30) == 0
    wait_for(lambda: len(events) >= 6, 10, "six events")
    assert [(e["type"], e["agent_id"]) for e in events] == [
        ("agent_started", h.agent_id), ("agent_paused", h.agent_id), ("agent_resumed", h.agent_id),
        ("agent_stopped", h.agent_id), ("agent_started", done.agent_id), ("agent_completed", done.agent_id)]
    assert events[0]["name"] == "evented"
    assert events[3]["exit_code"] == 143 and events[5]["exit_code"] == 0


# ----------------------------------------------------------------------------- wait, logs, handles


def test_wait_and_logs(make_runtime, tmp_path):
    rt = make_runtime()
    h = rt.start_agent(LINES_AGENT, args=["30", "--stay"])
    log_value(rt, h, "ready")
    with pytest.raises(TimeoutError):
        rt.wait_agent(h, timeout=0.5)
    everything = rt.logs(h, tail=1000).splitlines()
    assert sorted(everything) == sorted(["out %d" % i for i in range(1, 31)] + ["err %d" % i for i in range(1, 31)]
                                        + ["ready"])
    assert everything.index("out 30") < everything.index("err 1") < everything.index("ready")
    assert rt.logs(h, tail=3).splitlines() == everything[-3:] == ["err 29", "err 30", "ready"]
    assert rt.logs(h, tail=0) == ""
    log_file = rt.get_metrics(h)["log_file"]
    assert log_file.startswith(str(tmp_path / "state"))
    with open(log_file) as f:
        assert sorted(f.read().splitlines()) == sorted(everything)
    assert len(rt.logs(h).splitlines()) == 61
    with pytest.raises(ConfigurationError):
        rt.logs(h, tail=-1)
    with pytest.raises(TypeError):
        rt.logs(h, tail="3")
    assert rt.stop_agent(h, timeout=5) == 143

    done = rt.start_agent(EXIT_AGENT, args=["7", str(tmp_path / "runs")])
    assert rt.wait_agent(done) == 7
    assert rt.wait_agent(done, timeout=0) == 7


def test_handles(make_runtime):
    rt = make_runtime()
    first = rt.start_agent(LINES_AGENT, args=["1", "--stay"])
    second = rt.start_agent(LINES_AGENT, args=["1", "--stay"], name="worker-2")
    assert isinstance(first, AgentHandle)
    assert str(first) == first.agent_id and first.agent_id.startswith("agent_")
    assert first == first.agent_id and first != second and len({first, second, first.agent_id}) == 2
    assert first.agent_id in repr(first)
    m = rt.get_metrics(first)
    assert m["name"] == "lines_agent.py" and rt.get_metrics(second)["name"] == "worker-2"
    assert first.pid == m["pid"] and alive(first.pid)
    assert first.status == "running"
    assert [a["agent_id"] for a in rt.list_agents()] == [second.agent_id, first.agent_id]
    for key in ("agent_id", "name", "status", "pid", "exit_code", "restarts", "budget_spent", "budget_limit",
                "requests", "input_tokens", "output_tokens", "pii_detections", "started_at", "last_error"):
        assert key in m, key
    assert rt.stop_agent(first.agent_id, timeout=5) == 143
    assert rt.stop_agent(second, timeout=5) == 143


# ----------------------------------------------------------------------------- no agent outlives its owner


def test_shutdown_leaves_no_agent_process(make_runtime, pids, tmp_path):
    rt = make_runtime(stop_timeout=1.0)
    with rt:
        handles = [rt.start_agent(GRANDCHILD_AGENT), rt.start_agent(GRANDCHILD_AGENT, args=["--ignore-term"]),
                   rt.start_agent(GRANDCHILD_AGENT)]
        for h in handles:
            pids.extend([h.pid, int(log_value(rt, h, "grandchild "))])
        rt.pause_agent(handles[2])
        assert all(alive(p) for p in pids)
        counter = tmp_path / "runs"
        waiting = rt.start_agent(EXIT_AGENT, args=["1", str(counter)], restart="on-failure", restart_delay=1)
        wait_for(lambda: waiting.status == "restarting", 30, "an agent waiting for its restart")
    for p in pids:
        wait_for(lambda: not alive(p), 10, "process %d to be gone" % p)
    assert [rt.get_metrics(h)["status"] for h in handles + [waiting]] == ["stopped"] * 4
    time.sleep(1.3)  # past the restart it was waiting for
    assert runs(counter) == 1
    assert not rt.router.is_running
    with pytest.raises(AgentStateError):
        rt.start_agent(GRANDCHILD_AGENT)
    rt.shutdown()  # idempotent


class Owner:
    """owner.py in a process of its own; its lines are read on a thread."""

    def __init__(self, state_dir, script, mode):
        self.proc = subprocess.Popen([sys.executable, OWNER, str(state_dir), script, mode], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.agent_id = self.agent_pid = self.grandchild = None
        seen = []
        deadline = time.monotonic() + 60
        while "ready" not in seen:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                raise AssertionError("owner.py did not get ready: %r" % seen)
            if line is None:
                raise AssertionError("owner.py ended early: %r" % seen)
            seen.append(line)
            if line.startswith("agent "):
                _, self.agent_id, pid = line.split()
                self.agent_pid = int(pid)
            elif line.startswith("grandchild "):
                self.grandchild = int(line.split()[1])

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)


def find_db(state_dir):
    """The database a router with ``state_dir=state_dir`` keeps (BudgetConfig.DATABASE_FILE)."""
    path = os.path.join(state_dir, "iron_runtime.db")
    assert os.path.exists(path), os.listdir(state_dir)
    return path


def agent_row(state_dir, agent_id, timeout=10):
    """The agent's row, once the engine's writer thread has committed it (it commits every ~20 ms)."""
    rows = []
    wait_for(lambda: rows.extend(db_rows(find_db(state_dir), "SELECT * FROM agents WHERE agent_id = ?", agent_id))
             or rows, timeout, "the agents row of " + agent_id)
    return rows[0]


def test_owner_killed_with_sigkill_leaves_no_agent_and_the_next_runtime_records_it(make_runtime, tmp_path, pids):
    state = tmp_path / "owned"
    owner = Owner(state, GRANDCHILD_AGENT, "sleep")
    pids.extend([owner.proc.pid, owner.agent_pid, owner.grandchild])
    assert alive(owner.agent_pid) and alive(owner.grandchild)
    before = agent_row(state, owner.agent_id)
    assert before["status"] == "running" and before["pid"] == owner.agent_pid
    # A runtime opening the same database while the owner lives leaves its agent alone.
    beside = make_runtime(state_dir=state)
    assert beside.get_metrics(owner.agent_id)["status"] == "running"
    assert agent_row(state, owner.agent_id)["status"] == "running"

    os.kill(owner.proc.pid, signal.SIGKILL)
    owner.proc.wait(timeout=10)
    wait_for(lambda: not alive(owner.agent_pid), 10, "the agent to die with its owner (PR_SET_PDEATHSIG)")
    # what the agent started is reached by the runtime's watchdog, which sees its pipe from the engine close
    wait_for(lambda: not alive(owner.grandchild), 10, "the agent's own child to die with the owner (GroupReaper)")
    assert agent_row(state, owner.agent_id)["status"] == "running"  # nobody could record its end

    rt = make_runtime(state_dir=state)
    m = rt.get_metrics(owner.agent_id)
    assert m["status"] == "stopped", m
    assert m["last_error"] == "its runtime ended before it did"
    assert m["ended_at"] is not None
    assert m["runtime_id"] == before["runtime_id"]
    runtimes = db_rows(find_db(state), "SELECT runtime_id FROM runtimes")
    assert len(runtimes) == 3 and before["runtime_id"] in {r["runtime_id"] for r in runtimes}
    assert [a["agent_id"] for a in rt.list_agents()] == [owner.agent_id]


def test_owner_exiting_without_shutdown_leaves_no_agent_process(tmp_path, pids):
    state = tmp_path / "owned"
    owner = Owner(state, GRANDCHILD_AGENT, "exit")
    pids.extend([owner.agent_pid, owner.grandchild])
    assert owner.proc.wait(timeout=60) == 0
    wait_for(lambda: not alive(owner.agent_pid), 10, "the agent to be gone")
    wait_for(lambda: not alive(owner.grandchild), 10, "the grandchild to be gone")
    assert agent_row(state, owner.agent_id)["status"] == "stopped"


# ----------------------------------------------------------------------------- state across runtimes


def test_a_new_runtime_lists_the_earlier_agents_as_ended(make_runtime, tmp_path):
    state = tmp_path / "kept"
    rt = make_runtime(state_dir=state)
    done = rt.start_agent(OPENAI_AGENT, args=["--calls", "2"], budget=0.5, name="spender")
    left = rt.start_agent(LINES_AGENT, args=["1", "--stay"])
    assert rt.wait_agent(done, timeout=60) == 0
    final = settled(rt, done, 2)
    rt.shutdown()

    again = make_runtime(state_dir=state)
    listed = {a["agent_id"]: a for a in again.list_agents()}
    assert set(listed) == {done.agent_id, left.agent_id}
    old = listed[done.agent_id]
    assert old["status"] == "completed" and old["exit_code"] == 0 and old["name"] == "spender"
    for key in ("budget_spent_picos", "requests", "input_tokens", "output_tokens", "pii_detections"):
        assert old[key] == final[key], key
    assert old["budget_spent"] == pytest.approx(final["budget_spent"])
    assert old["budget_limit"] == pytest.approx(0.5)
    assert listed[left.agent_id]["status"] == "stopped"
    assert again.get_metrics(done)["budget_spent_picos"] == final["budget_spent_picos"]
    # A new agent comes first, the earlier ones after it.
    h = again.start_agent(LINES_AGENT, args=["1"])
    assert [a["agent_id"] for a in again.list_agents()][0] == h.agent_id


# ----------------------------------------------------------------------------- bad input


def test_bad_start_agent_arguments(make_runtime, tmp_path):
    rt = make_runtime()
    with pytest.raises(FileNotFoundError):
        rt.start_agent(str(tmp_path / "missing.py"))
    with pytest.raises(FileNotFoundError):
        rt.start_agent(LINES_AGENT, cwd=str(tmp_path / "no-such-dir"))
    with pytest.raises(FileNotFoundError):
        rt.start_agent("lines_agent.py", cwd=str(tmp_path))  # relative to cwd, not here
    with pytest.raises(AgentLaunchError, match="not found"):
        rt.start_agent(LINES_AGENT, args=["1"], python="/nonexistent/python")
    plain = tmp_path / "python-not-executable"
    plain.write_text("#!/bin/sh\nexit 0\n")
    plain.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with pytest.raises(AgentLaunchError, match="not an executable"):
        rt.start_agent(LINES_AGENT, args=["1"], python=str(plain))
    with pytest.raises(AgentLaunchError):
        rt.start_agent(LINES_AGENT, args=["1"], python=str(tmp_path))  # a directory
    with pytest.raises(AgentLaunchError):
        rt.start_agent(LINES_AGENT, args=["1"], python="no-such-python-on-path")
    broken = tmp_path / "broken_agent.py"
    broken.write_text("print('about to fail')\ndef oops(:\n")
    h = rt.start_agent(str(broken))  # Python itself refuses it: the agent starts and fails, saying why
    assert rt.wait_agent(h, timeout=30) == 1
    m = rt.get_metrics(h)
    assert m["status"] == "failed" and "SyntaxError" in m["last_error"], m
    with pytest.raises(ConfigurationError):
        rt.start_agent(LINES_AGENT, restart="sometimes")
    with pytest.raises(ConfigurationError):
        rt.start_agent(LINES_AGENT, budget=-1)
    with pytest.raises(ConfigurationError):
        rt.start_agent(LINES_AGENT, max_restarts=-1)
    with pytest.raises(ConfigurationError):
        rt.start_agent(LINES_AGENT, restart_delay=-0.5)
    for bad in ({"script": 42}, {"args": "1"}, {"args": [1]}, {"env": {"A": 1}}, {"env": ["A=1"]},
                {"budget": "lots"}, {"name": 5}, {"restart": None}, {"max_restarts": 1.5},
                {"max_restarts": True}, {"python": 3}):
        kw = dict({"script": LINES_AGENT}, **bad)
        with pytest.raises(TypeError):
            rt.start_agent(**kw)
    assert [a["agent_id"] for a in rt.list_agents()] == [h.agent_id]  # nothing was kept of the failed starts


def test_bad_runtime_arguments(make_runtime):
    with pytest.raises(ConfigurationError):
        make_runtime(on_budget_exhausted="sometimes")
    with pytest.raises(ConfigurationError):
        make_runtime(stop_timeout=-1)
    with pytest.raises(TypeError):
        make_runtime(verbose="yes")
    with pytest.raises(AgentLaunchError, match="not found"):
        make_runtime(python="/nonexistent/python").start_agent(LINES_AGENT, args=["1"])
    with pytest.raises(ConfigurationError):
        Runtime(budget=-5, provider_key={"openai": OPENAI_KEY})


# ----------------------------------------------------------------------------- routers


def test_runtime_over_an_existing_router(make_runtime, make_router, oai_up, tmp_path):
    r = make_router(provider_key={"openai": OPENAI_KEY}, openai_base_url=oai_up.origin, state_dir=tmp_path / "r",
                    max_retries=0)
    with pytest.raises(ConfigurationError):
        Runtime(router=r, budget=5)
    with pytest.raises(TypeError):
        Runtime(router=r, pii="off")
    with pytest.raises(TypeError):
        Runtime(router="http://127.0.0.1:1")
    assert r.is_running

    with make_runtime(router=r) as rt:
        assert rt.router is r
        h = rt.start_agent(OPENAI_AGENT)
        assert rt.wait_agent(h, timeout=60) == 0, rt.logs(h)
        spent = settled(rt, h, 1)["budget_spent_picos"]
        assert spent > 0
    assert r.is_running  # not the runtime's to stop
    assert r.metrics()["budget_spent_picos"] == spent
    reply = oai_client(r).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content.startswith("echo:")
    assert r.flush(10)
    assert len(db_rows(r.database_path, "SELECT * FROM ledger WHERE agent_id = ?", h.agent_id)) == 1


def test_a_router_without_provider_keys_cannot_serve_agents(make_router, oai_up):
    passthrough = make_router(openai_base_url=oai_up.origin)
    assert passthrough.mode == "passthrough"
    with pytest.raises(ConfigurationError, match="passthrough"):
        Runtime(router=passthrough)
    assert passthrough.is_running
    with pytest.raises(ConfigurationError):
        Runtime(openai_base_url=oai_up.origin)  # no key anywhere: the runtime's own router would be passthrough


def test_iron_cage_exposes_the_runtime():
    import iron_cage

    for name in ("Runtime", "AgentHandle", "AgentNotFoundError", "AgentStateError", "AgentLaunchError"):
        assert getattr(iron_cage, name) is getattr(iron_runtime, name)
        assert name in iron_cage.__all__
