"""The budget: never overspent under concurrency and streaming, refusals the SDKs understand,
set_budget, alerts, and spend that survives restarts and SIGKILL (budget_id)."""

import concurrent.futures
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import anthropic
import openai
import pytest

from children import CHILD_CWD, child_env
from fakes.upstream import FakeUpstream
from helpers import ANTHROPIC_KEY, OPENAI_KEY, ant_client, oai_client
from iron_runtime import ConfigurationError, LlmRouter

PICOS = 10**12
MODEL = "gpt-4o-mini"
# About 40 words: the fake answers with about as many tokens, so each request costs a little.
WORDS = " ".join("word%d" % i for i in range(40))


def ledger(router, budget_id=None):
    """(rows, sum of cost_picos) of the router's ledger database, once every request has settled."""
    budget_picos(router)  # a stream settles when the provider's response ends, just after the client's read
    assert router.flush(10)
    with sqlite3.connect("file:%s?mode=ro" % router.database_path, uri=True) as db:
        db.row_factory = sqlite3.Row
        if budget_id is None:
            rows = db.execute("SELECT * FROM ledger").fetchall()
        else:
            rows = db.execute("SELECT * FROM ledger WHERE budget_id = ?", (budget_id,)).fetchall()
    return rows, sum(r["cost_picos"] for r in rows)


def budget_picos(router):
    """(spent picos, reserved dollars) once nothing is reserved any more: a request settles when the
    provider's response ends, which may trail the client's last read by a moment."""
    deadline = time.monotonic() + 5
    m = router.metrics()
    while m["budget_reserved"] and time.monotonic() < deadline:
        time.sleep(0.02)
        m = router.metrics()
    return m["budget_spent_picos"], m["budget_reserved"]


@pytest.fixture(scope="module")
def _up_module():
    with FakeUpstream(event_delay=0.005, name="budget") as fake:
        yield fake


@pytest.fixture
def up(_up_module):
    yield _up_module.fresh(0.005)


def make(tmp_path, up, **kw):
    kw.setdefault("state_dir", tmp_path)
    return LlmRouter(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=up.origin,
                     anthropic_base_url=up.origin, read_timeout=30, **kw)


def one_request(router, up, *, stream, max_tokens):
    """One chat request through the SDK; returns (status, error body or None)."""
    client = oai_client(router, timeout=30)
    kw = {"max_tokens": max_tokens} if max_tokens else {}
    try:
        if stream:
            with client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": WORDS}],
                                                stream=True, **kw) as s:
                text = "".join(c.choices[0].delta.content or "" for c in s if c.choices)
        else:
            r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": WORDS}], **kw)
            text = r.choices[0].message.content
        assert text.startswith("echo:")
        return 200, None
    except openai.APIStatusError as e:
        return e.status_code, (e.body, e.response.headers.get("x-should-retry"))


# ---------------------------------------------------------------- concurrency


@pytest.mark.parametrize("max_tokens", [30, None], ids=["max_tokens", "no_bound"])
def test_200_concurrent_requests_never_overspend(tmp_path, up, max_tokens):
    # What one request costs at most, measured: a budget that covers about 20 of them.
    with make(tmp_path / "probe", up, unknown_model="block") as probe:
        one_request(probe, up, stream=False, max_tokens=max_tokens)
        cost = probe.metrics()["budget_spent_picos"]
    assert cost > 0
    budget_usd = 20 * cost / PICOS
    up.clear()
    router = make(tmp_path, up, budget=budget_usd)
    limit = router._budget()["limit_picos"]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
            futures = [pool.submit(one_request, router, up, stream=i % 2 == 0, max_tokens=max_tokens)
                       for i in range(200)]
            results = [f.result(timeout=120) for f in futures]
        statuses = [s for s, _ in results]
        assert set(statuses) <= {200, 402}, statuses
        ok, refused = statuses.count(200), statuses.count(402)
        # Without a bound a request may take all that is left (then bounded to it), so fewer run at once.
        assert ok >= (5 if max_tokens else 1) and refused >= 100, (ok, refused)
        for status, detail in results:
            if status == 402:
                body, should_retry = detail
                assert should_retry == "false"
                assert body["type"] in ("iron_cage_budget_exceeded", "iron_cage_insufficient_budget"), body
        spent, reserved = budget_picos(router)
        assert spent <= limit, "overspent: %d > %d" % (spent, limit)
        assert reserved == 0
        rows, total = ledger(router)
        assert total == spent
        assert router.total_spent() == pytest.approx(spent / PICOS, rel=1e-12)
        assert len(rows) == ok, "one ledger row per request that went upstream"
        assert all(r["outcome"] == "completed" and r["usage_estimated"] == 0 for r in rows)
        assert len(up.requests) == ok, "refused requests never reached the provider"
        if max_tokens is None:
            # The router bounded every request itself so the provider stops within the budget.
            assert all(rec.output_bound is not None for rec in up.requests)
        else:
            assert all(rec.output_bound == max_tokens for rec in up.requests)
    finally:
        router.close()


def test_unbounded_request_gets_the_bound_the_budget_pays_for(tmp_path, up):
    # gpt-4o-mini output: $0.60 per million tokens = 600_000 picos per token.
    router = make(tmp_path, up, budget=0.001)  # 1e9 picos: about 1600 output tokens after input
    try:
        client = oai_client(router)
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        bound = up.last.output_bound
        assert 1000 < bound < 1667, bound
        assert up.last.json["max_completion_tokens"] == bound
        # Unlimited: the request goes as the client wrote it.
        router.set_budget(None)
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        assert "max_completion_tokens" not in up.last.json and up.last.output_bound is None
    finally:
        router.close()


# ---------------------------------------------------------------- refusals through the SDKs


def test_openai_sdk_raises_402_after_one_call_and_never_retries(tmp_path, up):
    router = make(tmp_path, up, budget=0)
    try:
        client = openai.OpenAI(base_url=router.base_url, api_key=router.api_key)  # SDK default: 2 retries
        before = router.metrics()["requests"]
        with pytest.raises(openai.APIStatusError) as ei:
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        assert ei.value.status_code == 402
        assert ei.value.body["type"] == "iron_cage_budget_exceeded"
        assert ei.value.body["code"] == "budget_exceeded"
        assert "set_budget" in ei.value.body["message"]
        assert router.metrics()["requests"] - before == 1, "the SDK retried a 402"
        assert up.requests == []
    finally:
        router.close()


def test_anthropic_sdk_insufficient_budget_402(tmp_path, up):
    # claude-haiku-4-5 output: $5 per million tokens; 4000 output tokens cost $0.02 > the $0.001 budget.
    router = make(tmp_path, up, budget=0.001)
    up.clear()
    try:
        client = anthropic.Anthropic(base_url=router.base_url[:-3], api_key=router.api_key)
        before = router.metrics()["requests"]
        with pytest.raises(anthropic.APIStatusError) as ei:
            client.messages.create(model="claude-haiku-4-5", max_tokens=4000,
                                   messages=[{"role": "user", "content": "hi"}])
        assert ei.value.status_code == 402
        assert ei.value.body["error"]["type"] == "iron_cage_insufficient_budget"
        assert "max_tokens" in ei.value.body["error"]["message"]
        assert router.metrics()["requests"] - before == 1
        assert up.requests == []
        # A smaller bound fits and goes through.
        ant_client(router).messages.create(model="claude-haiku-4-5", max_tokens=50,
                                           messages=[{"role": "user", "content": "hi"}])
        assert len(up.requests) == 1
    finally:
        router.close()


def test_first_request_spends_the_budget_then_402(tmp_path, up):
    with make(tmp_path / "probe", up) as probe:
        one_request(probe, up, stream=False, max_tokens=20)
        cost = probe.metrics()["budget_spent_picos"]
    up.clear()
    # Enough for a few requests: then every later one is refused.
    router = make(tmp_path, up, budget=3 * cost / PICOS)
    try:
        results = [one_request(router, up, stream=False, max_tokens=20)[0] for _ in range(6)]
        assert results[0] == 200 and 402 in results
        first_refusal = results.index(402)
        assert all(s == 402 for s in results[first_refusal:])
        assert len(up.requests) == results.count(200)
        spent, _ = budget_picos(router)
        assert spent <= router._budget()["limit_picos"]
    finally:
        router.close()


# ---------------------------------------------------------------- set_budget


def test_set_budget_takes_effect_at_once(tmp_path, up):
    router = make(tmp_path, up, budget=0)
    try:
        assert router.budget == 0.0 and router.budget_status == (0.0, 0.0)
        assert one_request(router, up, stream=False, max_tokens=10)[0] == 402
        router.set_budget(1.5)
        assert router.budget == 1.5
        assert one_request(router, up, stream=True, max_tokens=10)[0] == 200
        budget_picos(router)  # the stream settles when the provider's response ends
        spent, limit = router.budget_status
        assert limit == 1.5 and 0 < spent == router.total_spent()
        router.set_budget(spent / 2)  # below what is already spent: nothing more goes
        status, (body, _) = one_request(router, up, stream=False, max_tokens=10)
        assert status == 402 and body["type"] == "iron_cage_budget_exceeded"
        router.set_budget(None)
        assert router.budget is None and router.budget_status[1] is None
        assert one_request(router, up, stream=False, max_tokens=10)[0] == 200
        with pytest.raises(ConfigurationError):
            router.set_budget(-1)
        with pytest.raises(ConfigurationError):
            router.set_budget(float("nan"))
        with pytest.raises(TypeError):
            router.set_budget("10")
        assert router.budget is None
    finally:
        router.close()


def test_concurrent_set_budget_calls_leave_one_of_the_values(tmp_path, up):
    router = make(tmp_path, up, budget=1, persist=False)
    try:
        values = [round(0.01 * i, 2) for i in range(1, 101)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(router.set_budget, values))
        assert router.budget in values
        router.set_budget(0.25)
        assert router.budget == 0.25
        assert router._budget()["limit_picos"] == 250_000_000_000
    finally:
        router.close()


# ---------------------------------------------------------------- alerts


def test_budget_alerts_fire_once_per_crossing_in_order(tmp_path, up):
    with make(tmp_path / "probe", up) as probe:
        one_request(probe, up, stream=False, max_tokens=20)
        cost = probe.metrics()["budget_spent_picos"]
    router = make(tmp_path, up, budget=10 * cost / PICOS, budget_alerts=[0.25, 0.5, 1.0])
    got = []
    done = threading.Event()

    @router.on_budget_alert
    def alert(a):
        got.append(a)
        if a["threshold"] == 0.5:
            done.set()

    def broken(a):
        raise RuntimeError("a broken callback must not stop delivery")

    router.on_budget_alert(broken)
    try:
        for _ in range(6):  # 60% of the budget
            assert one_request(router, up, stream=False, max_tokens=20)[0] == 200
        assert done.wait(5), got
        time.sleep(0.3)
        assert [a["threshold"] for a in got] == [0.25, 0.5]
        a = got[1]
        assert a["type"] == "budget_threshold_reached" and a["event_id"].startswith("evt_")
        assert a["budget_limit"] == pytest.approx(10 * cost / PICOS)
        assert a["budget_spent"] >= 0.5 * a["budget_limit"]
        # Raising the limit re-arms thresholds now below the spend; crossing again fires again.
        router.set_budget(100 * cost / PICOS)
        router.set_budget(10 * cost / PICOS)
        deadline = time.monotonic() + 5
        while len(got) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [a["threshold"] for a in got] == [0.25, 0.5, 0.25, 0.5]
    finally:
        router.close()
    with pytest.raises(TypeError):
        router.on_budget_alert("not callable")


# ---------------------------------------------------------------- persistence


def test_budget_id_spend_accumulates_across_routers(tmp_path, up):
    first = make(tmp_path, up, budget_id="team-a")
    for i in range(3):
        assert one_request(first, up, stream=i == 1, max_tokens=20)[0] == 200
    spent_a = first.metrics()["budget_spent_picos"]
    path = first.database_path
    first.close()
    assert path == str(tmp_path / "iron_runtime.db")

    second = make(tmp_path, up, budget_id="team-a")
    try:
        assert second.metrics()["budget_spent_picos"] == spent_a
        assert one_request(second, up, stream=False, max_tokens=20)[0] == 200
        rows, total = ledger(second, "team-a")
        assert len(rows) == 4 and total == second.metrics()["budget_spent_picos"]
        assert {r["budget_id"] for r in rows} == {"team-a"}
        # Another id, and no id, start from zero.
        with make(tmp_path, up, budget_id="team-b") as other:
            assert other.total_spent() == 0
        with make(tmp_path, up) as anonymous:
            assert anonymous.total_spent() == 0
        # The budget applies to the accumulated spend.
        with make(tmp_path, up, budget_id="team-a", budget=total / PICOS) as capped:
            status, (body, _) = one_request(capped, up, stream=False, max_tokens=20)
            assert status == 402 and body["type"] == "iron_cage_budget_exceeded"
    finally:
        second.close()


def wait_spent(router, picos, timeout=5.0):
    deadline = time.monotonic() + timeout
    while router.metrics()["budget_spent_picos"] != picos and time.monotonic() < deadline:
        time.sleep(0.05)
    return router.metrics()["budget_spent_picos"]


def test_running_routers_sharing_a_budget_id_count_each_others_spend(tmp_path, up):
    a = make(tmp_path, up, budget_id="shared")
    b = make(tmp_path, up, budget_id="shared")
    try:
        for _ in range(3):
            assert one_request(a, up, stream=False, max_tokens=20)[0] == 200
        spent_a, _ = budget_picos(a)
        assert spent_a > 0
        assert wait_spent(b, spent_a) == spent_a, "b never counted what a spent"
        assert one_request(b, up, stream=True, max_tokens=20)[0] == 200
        spent_b, _ = budget_picos(b)
        assert spent_b > spent_a
        assert wait_spent(a, spent_b) == spent_b, "a never counted what b spent"
        # One budget for both: once it is spent through a, b refuses too.
        for r in (a, b):
            r.set_budget(spent_b / PICOS)
        status, (body, _) = one_request(b, up, stream=False, max_tokens=20)
        assert status == 402 and body["type"] == "iron_cage_budget_exceeded"
        rows, total = ledger(a, "shared")
        assert len(rows) == 4 and total == spent_b
    finally:
        a.close()
        b.close()


def test_ledger_rows_are_readable_with_sqlite3(tmp_path, up):
    with make(tmp_path, up, budget_id="readable") as router:
        one_request(router, up, stream=True, max_tokens=20)
        rows, total = ledger(router, "readable")
    (row,) = rows
    assert row["request_id"].startswith("req_") and row["provider"] == "openai" and row["model"] == MODEL
    assert row["status"] == 200 and row["outcome"] == "completed" and row["attempts"] == 1
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    assert row["cost_picos"] == total and row["cost_usd"] == pytest.approx(total / PICOS)
    assert row["cost_known"] == 1 and row["latency_ms"] >= 0 and row["ts_ms"] > 0
    # No secret ever reaches the database.
    raw = (tmp_path / "iron_runtime.db").read_bytes()
    assert OPENAI_KEY.encode() not in raw and ANTHROPIC_KEY.encode() not in raw


def test_persist_false_writes_no_database(tmp_path, up):
    with make(tmp_path, up, persist=False) as router:
        assert router.database_path is None
        one_request(router, up, stream=False, max_tokens=20)
        assert router.total_spent() > 0
    assert not (tmp_path / "iron_runtime.db").exists()
    with pytest.raises(ConfigurationError, match="budget_id"):
        make(tmp_path, up, persist=False, budget_id="x")


def test_unwritable_state_dir_is_a_clear_error(tmp_path, up):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    from iron_runtime import RouterStartError

    with pytest.raises(RouterStartError, match="state_dir"):
        make(tmp_path, up, state_dir=blocker / "sub")


CHILD = textwrap.dedent("""
    import sys, threading, openai
    from iron_runtime import LlmRouter
    origin, state_dir = sys.argv[1], sys.argv[2]
    router = LlmRouter(provider_key="%s", openai_base_url=origin, budget_id="crash", state_dir=state_dir)
    client = openai.OpenAI(base_url=router.base_url, api_key=router.api_key, max_retries=0)
    def work(i):
        while True:
            client.chat.completions.create(model="gpt-4o-mini", max_tokens=20, stream=i %% 2 == 0,
                                           messages=[{"role": "user", "content": "crash test %%d" %% i}])
    for i in range(8):
        threading.Thread(target=work, args=(i,), daemon=True).start()
    print("running", flush=True)
    threading.Event().wait()
""") % OPENAI_KEY


def test_sigkill_mid_load_loses_no_committed_row(tmp_path, up):
    child = subprocess.Popen([sys.executable, "-c", CHILD, up.origin, str(tmp_path)], cwd=CHILD_CWD,
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db_file = tmp_path / "iron_runtime.db"
    try:
        assert child.stdout.readline().strip() == b"running", child.stderr.read().decode()[-2000:]
        deadline = time.monotonic() + 60
        rows = 0
        while time.monotonic() < deadline and rows < 40:
            time.sleep(0.1)
            if db_file.exists():
                with sqlite3.connect(db_file, timeout=10) as db:
                    rows = db.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
        assert rows >= 40, "the child settled too few requests"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    with sqlite3.connect(db_file) as db:
        count, total = db.execute("SELECT COUNT(*), SUM(cost_picos) FROM ledger WHERE budget_id='crash'").fetchone()
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert count >= 40 and total > 0
    with make(tmp_path, up, budget_id="crash") as restarted:
        assert restarted.metrics()["budget_spent_picos"] == total
        assert restarted.total_spent() == pytest.approx(total / PICOS)
