"""Starting and stopping routers: context manager, start=False, stop/start, port release,
two routers at once, fixed ports, repr."""

import re
import threading
import time

import openai
import pytest

from fakes.upstream import reply_text
from helpers import (
    ANTHROPIC_KEY, MSG, OPENAI_KEY, assert_no_secret, can_bind, free_port, oai_client, raw,
    refuses_connections,
)

ECHO = reply_text("hello router")


def ask(r):
    return oai_client(r).chat.completions.create(model="gpt-4o", messages=MSG).choices[0].message.content


def test_base_url_port_and_token(make_router, oai_up):
    r = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    assert r.is_running
    assert isinstance(r.port, int) and 0 < r.port < 65536
    assert r.base_url == "http://127.0.0.1:%d/v1" % r.port
    assert r.mode == "direct" and r.provider == "openai"
    assert isinstance(r.api_key, str) and len(r.api_key) >= 16
    assert r.api_key != OPENAI_KEY and OPENAI_KEY not in r.api_key
    assert ask(r) == ECHO


def test_each_router_gets_a_fresh_token(make_router, oai_up):
    a = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, start=False)
    b = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, start=False)
    assert a.api_key and b.api_key and a.api_key != b.api_key


def test_context_manager(oai_up):
    from iron_runtime import LlmRouter

    with LlmRouter(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin) as r:
        assert r.is_running
        port = r.port
        assert ask(r) == ECHO
    assert not r.is_running
    assert refuses_connections(port)
    assert can_bind(port)


def test_context_manager_stops_on_exception(oai_up):
    from iron_runtime import LlmRouter

    with pytest.raises(RuntimeError, match="boom"):
        with LlmRouter(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin) as r:
            port = r.port
            raise RuntimeError("boom")
    assert not r.is_running
    assert refuses_connections(port)


def test_context_manager_with_start_false(oai_up):
    from iron_runtime import LlmRouter

    r = LlmRouter(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, start=False)
    assert not r.is_running
    with r:
        assert r.is_running
        assert ask(r) == ECHO
    assert not r.is_running


def test_start_false_then_start(make_router, oai_up):
    port = free_port()
    r = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, port=port, start=False)
    assert not r.is_running
    assert refuses_connections(port)
    r.start()
    assert r.is_running and r.port == port
    assert ask(r) == ECHO
    r.start()  # no-op while running
    assert r.is_running and r.port == port
    assert ask(r) == ECHO


def test_stop_start_stop_frees_port_at_once(make_router, oai_up):
    port = free_port()
    r = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, port=port)
    token = r.api_key
    assert ask(r) == ECHO
    t0 = time.monotonic()
    r.stop()
    assert time.monotonic() - t0 < 2
    assert not r.is_running
    assert refuses_connections(port)
    assert can_bind(port), "the port is still taken right after stop()"
    r.start()
    assert r.is_running and r.port == port
    assert r.api_key == token  # same router, same token
    assert ask(r) == ECHO
    r.stop()
    assert can_bind(port)
    r.start()
    assert ask(r) == ECHO


def test_restart_with_random_port(make_router, oai_up):
    r = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    r.stop()
    r.start()
    assert r.is_running
    assert r.base_url == "http://127.0.0.1:%d/v1" % r.port
    assert ask(r) == ECHO


def test_stop_is_idempotent(make_router, oai_up):
    r = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    r.stop()
    r.stop()
    assert not r.is_running
    never = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, start=False)
    never.stop()
    never.stop()
    assert not never.is_running


def test_stop_with_open_stream_does_not_hang(make_router, oai_up):
    oai_up.event_delay = 0.05
    r = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    s = oai_client(r).chat.completions.create(model="gpt-4o-fake-long-500", messages=MSG, stream=True)
    it = iter(s)
    next(it)
    t0 = time.monotonic()
    r.stop()
    assert time.monotonic() - t0 < 3, "stop() waited for an open stream"
    # the client's stream ends (cleanly or with an error), it does not hang
    done = threading.Event()

    def drain():
        try:
            for _ in it:
                pass
        except Exception:
            pass
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    assert done.wait(5), "the client's stream kept going after stop()"
    assert oai_up.wait_until(lambda: oai_up.open_streams == 0, 5)


def test_two_routers_at_once(make_router, oai_up, ant_up):
    a = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    b = make_router(provider_key={"openai": "sk-other-key-B", "anthropic": ANTHROPIC_KEY},
                    openai_base_url=ant_up.origin, anthropic_base_url=ant_up.origin)
    assert a.port != b.port and a.api_key != b.api_key
    assert ask(a) == ECHO and ask(b) == ECHO
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY
    assert ant_up.last.headers["authorization"] == "Bearer sk-other-key-B"
    # a's token does not open b
    with pytest.raises(openai.AuthenticationError):
        oai_client(b, api_key=a.api_key).chat.completions.create(model="gpt-4o", messages=MSG)
    a.stop()
    assert not a.is_running and b.is_running
    assert ask(b) == ECHO
    assert refuses_connections(a.port) if a.port else True


def test_many_requests_keep_alive(make_router, oai_up):
    r = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    c = oai_client(r)
    for i in range(30):
        assert c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": str(i)}]) \
            .choices[0].message.content == reply_text(str(i))
    assert len(oai_up.requests) == 30


def test_port_in_use_raises_router_start_error(make_router, oai_up):
    from iron_runtime import IronRuntimeError, RouterStartError

    a = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    with pytest.raises(RouterStartError) as ei:
        make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, port=a.port)
    assert isinstance(ei.value, IronRuntimeError)
    assert str(a.port) in str(ei.value)
    assert_no_secret(str(ei.value), OPENAI_KEY)
    assert ask(a) == ECHO  # the first router is unaffected


def test_repr_is_useful_and_safe(make_router, oai_up):
    r = make_router(provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}, openai_base_url=oai_up.origin)
    text = repr(r)
    assert str(r.port) in text and "running" in text
    assert_no_secret(text, OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
    r.stop()
    assert "stopped" in repr(r) or "running" not in repr(r)


def test_health_reports_ok_over_time(make_router):
    r = make_router(provider_key=OPENAI_KEY, openai_base_url="http://127.0.0.1:9")
    for _ in range(3):
        resp = raw(r, "GET", "/iron/health", auth=None)
        assert resp.status == 200 and resp.json()["status"] == "ok"
    assert re.match(r"^http://127\.0\.0\.1:\d+/v1$", r.base_url)
