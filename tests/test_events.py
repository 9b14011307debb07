"""Issue 7, events: one scripted scenario through a real router (the openai SDK against the fake
upstream, a real agent through Runtime) whose events appear in order, with the right payloads,
through both ``router.events()`` (the SQLite database) and ``router.on_event()`` (batches on a
Python thread); events survive a restart on the same state_dir; the retention setting is checked.
"""
import json
import os
import threading
import time

import openai
import pytest

from helpers import ANTHROPIC_KEY, OPENAI_KEY, oai_client, wait_for
from iron_runtime import EVENT_TYPES, ConfigurationError, LlmRouter, Runtime

HERE = os.path.dirname(os.path.abspath(__file__))
LINES_AGENT = os.path.join(HERE, "agents", "lines_agent.py")
MODEL = "gpt-4o-mini"
EMAIL = "jane.doe@example.com"
ENVELOPE = {"event_id", "type", "timestamp_ms", "agent_id", "request_id"}
REQUEST_FIELDS = {"provider", "model", "status", "outcome", "input_tokens", "cached_tokens", "output_tokens", "cost",
                  "cost_picos", "cost_known", "latency_ms", "attempts", "usage_estimated"}




def make(tmp_path, oai_up, **kw):
    kw.setdefault("state_dir", tmp_path / "state")
    return LlmRouter(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=oai_up.origin,
                     anthropic_base_url=oai_up.origin, read_timeout=20, max_retries=0, **kw)


class Batches:
    """What on_event delivered: the batches, and the thread each came on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.batches = []
        self.threads = set()

    def __call__(self, batch):
        with self.lock:
            self.batches.append(list(batch))
            self.threads.add(threading.current_thread().name)

    def events(self):
        with self.lock:
            return [e for b in self.batches for e in b]


def chat(router, content, scenario=None):
    """One chat call through the SDK (``scenario``: the fake upstream's); the status code (200 or the error's)."""
    headers = {"x-fake-scenario": scenario} if scenario else None
    try:
        oai_client(router).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}],
                                                   max_tokens=20, extra_headers=headers)
        return 200
    except openai.APIStatusError as e:
        return e.status_code


def log_has(rt, h, prefix):
    return any(line.startswith(prefix) for line in rt.logs(h, tail=1000).splitlines())


def test_scripted_scenario_in_order_through_events_and_on_event(tmp_path, oai_up):
    router = make(tmp_path, oai_up, budget=1.0, budget_alerts=[0.000001],
                  circuit_breaker={"failure_threshold": 2, "recovery_timeout": 60}, start=False)
    everything = Batches()
    failures = Batches()
    router.on_event(everything)
    router.on_event(failures, types=["request_failed"])
    rt = None
    try:
        router.start()
        assert chat(router, "hello there") == 200                           # request_completed + threshold
        assert chat(router, "write to %s please" % EMAIL) == 200            # pii_detected + request_completed
        assert chat(router, "boom", scenario="error:500") == 500  # request_failed
        assert chat(router, "boom", scenario="error:500") == 500  # request_failed + circuit opens
        rt = Runtime(router=router, stop_timeout=5.0)
        h = rt.start_agent(LINES_AGENT, args=["1", "--stay"], name="evented")
        wait_for(lambda: log_has(rt, h, "ready"), what="the agent's ready line")
        rt.pause_agent(h)
        rt.resume_agent(h)
        rt.stop_agent(h, timeout=5)
        router.set_budget(0.000000001)  # below what is spent: the next request is refused with 402
        assert chat(router, "one more") == 402                              # budget_exceeded
        router.stop()                                                       # router_stopped

        stored = router.events()
        types = [e["type"] for e in stored]
        # The circuit opens while the second failing request is answered: before or after its settlement.
        circuit = types.index("circuit_state_changed")
        assert types.index("request_failed") < circuit
        without_circuit = types[:circuit] + types[circuit + 1:]
        assert without_circuit == [
            "router_started", "request_completed", "budget_threshold_reached", "pii_detected", "request_completed",
            "request_failed", "request_failed", "agent_started", "agent_paused", "agent_resumed", "agent_stopped",
            "budget_exceeded", "router_stopped"], types
        for e in stored:
            assert ENVELOPE <= set(e), e
            assert e["event_id"].startswith("evt_") and e["type"] in EVENT_TYPES
        assert len({e["event_id"] for e in stored}) == len(stored)
        stamps = [e["timestamp_ms"] for e in stored]
        assert all(abs(stamps[i + 1] - stamps[i]) < 60_000 for i in range(len(stamps) - 1))
        assert abs(stamps[-1] - time.time() * 1000) < 120_000

        by_type = {}
        for e in stored:
            by_type.setdefault(e["type"], []).append(e)
        ok = by_type["request_completed"][0]
        assert REQUEST_FIELDS <= set(ok), ok
        assert (ok["provider"], ok["model"], ok["status"], ok["outcome"]) == ("openai", MODEL, 200, "completed")
        assert ok["input_tokens"] > 0 and ok["output_tokens"] > 0 and ok["attempts"] == 1
        assert ok["cost"] > 0 and ok["cost_picos"] > 0 and ok["cost_known"] is True
        assert ok["usage_estimated"] is False and ok["latency_ms"] >= 0 and ok["request_id"]
        assert ok["agent_id"] is None
        failed = by_type["request_failed"][0]
        assert (failed["status"], failed["outcome"]) == (500, "upstream_error") and failed["request_id"]
        alert = by_type["budget_threshold_reached"][0]
        assert alert["threshold"] == pytest.approx(0.000001) and alert["request_id"] == ok["request_id"]
        (pii,) = by_type["pii_detected"]
        assert (pii["entity_type"], pii["direction"]) == ("EMAIL", "request")
        assert pii["request_id"] == by_type["request_completed"][1]["request_id"]
        (opened,) = by_type["circuit_state_changed"]
        assert (opened["from"], opened["to"], opened["provider"]) == ("closed", "open", "openai")
        agent_events = [e for e in stored if e["type"].startswith("agent_")]
        assert {e["agent_id"] for e in agent_events} == {h.agent_id}
        assert agent_events[0]["name"] == "evented" and agent_events[-1]["exit_code"] == 143
        (refused,) = by_type["budget_exceeded"]
        assert (refused["scope"], refused["reason"], refused["model"]) == ("router", "exhausted", MODEL)
        assert refused["budget_limit"] == pytest.approx(0.000000001) and refused["budget_spent"] > 0
        assert refused["request_id"]
        started, stopped = by_type["router_started"][0], by_type["router_stopped"][0]
        assert started["port"] == router.port and started["base_url"] == router.base_url
        assert stopped["port"] == router.port and stopped["requests"] == 5
        dump = json.dumps(stored)
        for secret in (EMAIL, OPENAI_KEY, ANTHROPIC_KEY, router.api_key):
            assert secret not in dump

        # on_event saw the very same events in the same order, in batches on the delivery thread.
        wait_for(lambda: len(everything.events()) >= len(stored), what="on_event to catch up")
        assert everything.events() == stored
        assert everything.threads == {"iron-runtime-events"}
        wait_for(lambda: len(failures.events()) == 2, what="the filtered subscription")
        assert [e["event_id"] for e in failures.events()] == [e["event_id"] for e in by_type["request_failed"]]

        # Filters: types, the newest limit (oldest first), since as ms (inclusive) and as an event_id (exclusive).
        assert router.events(types=["request_completed", "request_failed"]) == \
            by_type["request_completed"] + by_type["request_failed"]
        assert router.events(limit=3) == stored[-3:]
        assert router.events(since=stored[5]["timestamp_ms"])[0]["timestamp_ms"] >= stored[5]["timestamp_ms"]
        assert stored[5] in router.events(since=stored[5]["timestamp_ms"])
        assert router.events(since=stored[5]["event_id"]) == stored[6:]
        assert router.events(since=stored[-1]["timestamp_ms"] + 1) == []
        m = router.metrics()
        assert m["events_dropped"] == 0 and m["events_published"] >= len(stored)
        assert m["events_dropped_by_consumer"] == {"store": 0, "python": 0}
    finally:
        if rt is not None:
            rt.shutdown()
        router.close()

    # The same state_dir after a restart: the events are still there, the new router's come after them.
    again = make(tmp_path, oai_up)
    try:
        assert again.events(since=stored[0]["event_id"])[:len(stored) - 1] == stored[1:]
        later = again.events(types=["router_started"])
        assert [e["event_id"] for e in later][:1] == [stored[0]["event_id"]] and len(later) == 2
    finally:
        again.close()


def test_events_without_persistence_come_from_memory(make_router, oai_up):
    router = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, persist=False, max_retries=0)
    assert chat(router, "hello") == 200
    got = wait_for(lambda: router.events(types=["request_completed"]), what="the event in memory")
    assert got[0]["model"] == MODEL and got[0]["status"] == 200
    assert [e["type"] for e in router.events()] == ["router_started", "request_completed"]
    assert router.database_path is None


def test_event_arguments_are_checked(make_router, oai_up):
    router = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, persist=False, start=False)
    with pytest.raises(ValueError, match="unknown event type 'nope'"):
        router.events(types=["nope"])
    with pytest.raises(TypeError):
        router.events(types="request_completed")
    with pytest.raises(TypeError, match="ms since the epoch"):
        router.events(since=time.time())
    with pytest.raises(ValueError):
        router.events(since="not-an-id")
    with pytest.raises(ValueError):
        router.events(limit=0)
    with pytest.raises(TypeError):
        router.on_event("not callable")
    with pytest.raises(ValueError):
        router.on_event(print, types=["nope"])


@pytest.mark.parametrize("value, error", [(0, ConfigurationError), (3651, ConfigurationError), (-1, ConfigurationError),
                                          ("30", TypeError), (1.5, TypeError), (True, TypeError)])
def test_event_retention_days_is_validated(tmp_path, oai_up, value, error):
    with pytest.raises(error, match="event_retention_days"):
        make(tmp_path, oai_up, event_retention_days=value, start=False)


def test_event_retention_days_accepts_its_range(tmp_path, oai_up):
    for days in (1, 30, 3650):
        make(tmp_path, oai_up, event_retention_days=days, start=False).close()
