"""Key modes: direct (argument or environment), control server (construction and validation
only), passthrough; and the real key never showing up anywhere a user can see it."""

import anthropic
import openai
import pytest

from fakes.upstream import reply_text
from helpers import (
    ANTHROPIC_KEY, IC_TOKEN, MSG, OPENAI_KEY, all_header_values, ant_client, assert_no_secret, oai_client, origin, raw,
)

ECHO = reply_text("hello router")
CLAUDE = "claude-opus-4-1"


def LlmRouter(**kw):
    from iron_runtime import LlmRouter as _R

    return _R(**kw)


@pytest.fixture
def routers():
    made = []
    yield made
    for r in made:
        try:
            r.stop()
        except Exception:
            pass


def mk(routers, *args, **kw):
    from iron_runtime import LlmRouter as _R

    r = _R(*args, **kw)
    routers.append(r)
    return r


def chat(r, **kw):
    return oai_client(r, **kw).chat.completions.create(model="gpt-4o", messages=MSG).choices[0].message.content


def msg(r, **kw):
    return ant_client(r, **kw).messages.create(model=CLAUDE, max_tokens=10, messages=MSG).content[0].text


# ----------------------------------------------------------------------------- direct


def test_direct_provider_key_openai(routers, oai_up):
    r = mk(routers, provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    assert (r.mode, r.provider) == ("direct", "openai")
    assert r.api_key and r.api_key != OPENAI_KEY
    assert chat(r) == ECHO
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY
    assert_no_secret(all_header_values(oai_up.last), r.api_key)


def test_direct_provider_key_anthropic(routers, ant_up):
    r = mk(routers, provider_key=ANTHROPIC_KEY, anthropic_base_url=ant_up.origin)
    assert (r.mode, r.provider) == ("direct", "anthropic")
    assert msg(r) == ECHO
    rec = ant_up.last
    assert rec.headers.get("x-api-key") == ANTHROPIC_KEY
    assert_no_secret(all_header_values(rec), r.api_key)


def test_direct_provider_key_dict_both(routers, oai_up, ant_up):
    r = mk(routers, provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
           openai_base_url=oai_up.origin, anthropic_base_url=ant_up.origin)
    assert r.mode == "direct"
    assert chat(r) == ECHO and msg(r) == ECHO
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY
    assert ant_up.last.headers["x-api-key"] == ANTHROPIC_KEY
    assert_no_secret(all_header_values(oai_up.last), ANTHROPIC_KEY, r.api_key)
    assert_no_secret(all_header_values(ant_up.last), OPENAI_KEY, r.api_key)


def test_direct_api_key_without_server_url(routers, oai_up):
    r = mk(routers, OPENAI_KEY, openai_base_url=oai_up.origin)
    assert (r.mode, r.provider) == ("direct", "openai")
    assert r.api_key != OPENAI_KEY
    assert chat(r) == ECHO
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY


def test_direct_api_key_anthropic_detected(routers, ant_up):
    r = mk(routers, api_key=ANTHROPIC_KEY, anthropic_base_url=ant_up.origin)
    assert (r.mode, r.provider) == ("direct", "anthropic")
    assert msg(r) == ECHO
    assert ant_up.last.headers["x-api-key"] == ANTHROPIC_KEY


def test_direct_from_env_openai(routers, oai_up, clean_env):
    clean_env.setenv("OPENAI_API_KEY", OPENAI_KEY)
    r = mk(routers, openai_base_url=oai_up.origin)
    assert (r.mode, r.provider) == ("direct", "openai")
    assert r.api_key and r.api_key != OPENAI_KEY
    assert chat(r) == ECHO
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY


def test_direct_from_env_anthropic(routers, ant_up, clean_env):
    clean_env.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    r = mk(routers, anthropic_base_url=ant_up.origin)
    assert (r.mode, r.provider) == ("direct", "anthropic")
    assert msg(r) == ECHO
    assert ant_up.last.headers["x-api-key"] == ANTHROPIC_KEY


def test_direct_from_env_both(routers, oai_up, ant_up, clean_env):
    clean_env.setenv("OPENAI_API_KEY", OPENAI_KEY)
    clean_env.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    r = mk(routers, openai_base_url=oai_up.origin, anthropic_base_url=ant_up.origin)
    assert r.mode == "direct"
    assert chat(r) == ECHO and msg(r) == ECHO
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY
    assert ant_up.last.headers["x-api-key"] == ANTHROPIC_KEY


def test_argument_beats_environment(routers, oai_up, clean_env):
    clean_env.setenv("OPENAI_API_KEY", "sk-from-env-should-lose")
    r = mk(routers, provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    chat(r)
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY
    r2 = mk(routers, api_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    chat(r2)
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY


def test_environment_read_at_construction(routers, oai_up, clean_env):
    clean_env.setenv("OPENAI_API_KEY", OPENAI_KEY)
    r = mk(routers, openai_base_url=oai_up.origin)
    clean_env.setenv("OPENAI_API_KEY", "sk-changed-later")
    chat(r)
    assert oai_up.last.headers["authorization"] == "Bearer " + OPENAI_KEY


# ----------------------------------------------------------------------------- control server


def test_control_server_mode_from_arguments(routers):
    r = mk(routers, api_key=IC_TOKEN, server_url="http://127.0.0.1:9", start=False)
    assert r.mode == "control_server"
    assert r.api_key != IC_TOKEN
    assert_no_secret(repr(r), IC_TOKEN)


def test_control_server_https_url_ok(routers):
    r = mk(routers, api_key=IC_TOKEN, server_url="https://ironcage.example.com", start=False)
    assert r.mode == "control_server"


def test_control_server_mode_from_env(routers, clean_env):
    clean_env.setenv("IC_TOKEN", IC_TOKEN)
    clean_env.setenv("IC_SERVER", "http://127.0.0.1:9")
    r = mk(routers, start=False)
    assert r.mode == "control_server"
    assert_no_secret(repr(r), IC_TOKEN)


@pytest.mark.parametrize("url", ["ftp://ironcage.example.com", "ironcage.example.com", "not a url", "file:///etc/passwd",
                                 "http://", ""])
def test_control_server_bad_url(routers, url):
    from iron_runtime import ConfigurationError, IronRuntimeError

    with pytest.raises(ConfigurationError) as ei:
        mk(routers, api_key=IC_TOKEN, server_url=url, start=False)
    assert isinstance(ei.value, IronRuntimeError)
    assert str(ei.value)
    assert_no_secret(str(ei.value), IC_TOKEN)


def test_control_server_bad_url_from_env(routers, clean_env):
    from iron_runtime import ConfigurationError

    clean_env.setenv("IC_TOKEN", IC_TOKEN)
    clean_env.setenv("IC_SERVER", "gopher://x")
    with pytest.raises(ConfigurationError) as ei:
        mk(routers, start=False)
    assert_no_secret(str(ei.value), IC_TOKEN)


def test_server_url_without_token(routers):
    from iron_runtime import ConfigurationError

    with pytest.raises(ConfigurationError) as ei:
        mk(routers, server_url="https://ironcage.example.com", start=False)
    assert "api_key" in str(ei.value) or "IC_TOKEN" in str(ei.value) or "token" in str(ei.value).lower()


def test_server_url_without_token_env(routers, clean_env):
    from iron_runtime import ConfigurationError

    clean_env.setenv("IC_SERVER", "https://ironcage.example.com")
    with pytest.raises(ConfigurationError):
        mk(routers, start=False)


def test_configuration_errors_do_not_show_keys(routers):
    from iron_runtime import ConfigurationError

    with pytest.raises((ConfigurationError, TypeError)) as ei:
        mk(routers, provider_key={"openai": OPENAI_KEY, "bogus": ANTHROPIC_KEY}, start=False)
    assert_no_secret(str(ei.value), OPENAI_KEY, ANTHROPIC_KEY)
    with pytest.raises(ConfigurationError) as ei:
        mk(routers, api_key=OPENAI_KEY, server_url="ftp://bad", start=False)
    assert_no_secret(str(ei.value), OPENAI_KEY)
    with pytest.raises(ConfigurationError) as ei:
        mk(routers, provider_key=OPENAI_KEY, openai_base_url="not-a-url", start=False)
    assert_no_secret(str(ei.value), OPENAI_KEY)


# ----------------------------------------------------------------------------- passthrough


def test_passthrough_openai(routers, oai_up):
    r = mk(routers, openai_base_url=oai_up.origin)
    assert r.mode == "passthrough"
    assert r.api_key is None
    assert chat(r, api_key="sk-client-own-key") == ECHO
    rec = oai_up.last
    assert rec.headers.get_all("authorization") == ["Bearer sk-client-own-key"]


def test_passthrough_anthropic(routers, ant_up):
    r = mk(routers, anthropic_base_url=ant_up.origin)
    assert r.mode == "passthrough" and r.api_key is None
    assert msg(r, api_key="sk-ant-client-own") == ECHO
    rec = ant_up.last
    # anthropic 2.x sends its key as a bearer token, older SDKs as x-api-key: whatever it sent arrives unchanged
    sent = {"authorization": rec.headers.get_all("authorization"), "x-api-key": rec.headers.get_all("x-api-key")}
    assert sent in ({"authorization": ["Bearer sk-ant-client-own"], "x-api-key": []},
                    {"authorization": [], "x-api-key": ["sk-ant-client-own"]}), sent
    resp = raw(r.port, "POST", "/v1/messages", {"model": CLAUDE, "max_tokens": 5, "messages": MSG},
               {"x-api-key": "sk-ant-raw-own", "anthropic-version": "2023-06-01"}, auth=None)
    assert resp.status == 200, resp
    assert ant_up.last.headers.get_all("x-api-key") == ["sk-ant-raw-own"]
    assert ant_up.last.headers.get("authorization") is None


def test_passthrough_streaming(routers, oai_up):
    r = mk(routers, openai_base_url=oai_up.origin)
    text = "".join(c.choices[0].delta.content or "" for c in oai_client(r, api_key="sk-own").chat.completions.create(
        model="gpt-4o", messages=MSG, stream=True))
    assert text == ECHO
    assert oai_up.last.headers["authorization"] == "Bearer sk-own"


def test_passthrough_upstream_401_passes_back(routers, oai_up):
    """In passthrough the router does not judge the client's key; the upstream does."""
    r = mk(routers, openai_base_url=oai_up.origin)
    with pytest.raises(openai.AuthenticationError) as ei:
        oai_client(r, api_key="sk-own").chat.completions.create(
            model="gpt-4o", messages=MSG, extra_headers={"x-fake-scenario": "error:401"})
    assert ei.value.body["code"] == "invalid_api_key"
    assert len(oai_up.requests) == 1


def test_passthrough_with_host_check(routers, oai_up):
    r = mk(routers, openai_base_url=oai_up.origin)
    resp = raw(r.port, "POST", "/v1/chat/completions", {"model": "gpt-4o", "messages": MSG},
               {"Authorization": "Bearer sk-own"}, auth=None, host="evil.example.com")
    assert resp.status in (403, 421)
    assert not oai_up.requests


# ----------------------------------------------------------------------------- secrets


def test_real_key_never_visible(routers, oai_up, ant_up):
    r = mk(routers, provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
           openai_base_url=oai_up.origin, anthropic_base_url=ant_up.origin)
    texts = [repr(r), str(r), r.base_url, str(r.api_key), origin(r)]
    if hasattr(r, "describe"):
        texts.append(repr(r.describe()))
    for t in texts:
        assert_no_secret(t, OPENAI_KEY, ANTHROPIC_KEY)
    # error bodies and exceptions from every error the router makes
    for exc_type, call in [
        (openai.AuthenticationError, lambda: chat(r, api_key="wrong")),
        (anthropic.AuthenticationError, lambda: msg(r, api_key="wrong")),
        (openai.NotFoundError, lambda: oai_client(r, prefix="/nowhere").models.list()),
    ]:
        with pytest.raises(exc_type) as ei:
            call()
        assert_no_secret(str(ei.value), OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
        assert_no_secret(ei.value.response.text, OPENAI_KEY, ANTHROPIC_KEY, r.api_key)
    # upstream answers never carry the router's token either
    resp = raw(r, "POST", "/v1/chat/completions", {"model": "gpt-4o", "messages": MSG})
    assert_no_secret(repr(resp.headers) + resp.text, OPENAI_KEY, ANTHROPIC_KEY)


def test_passthrough_routers_protect_their_own_endpoints_with_an_admin_token(routers, oai_up):
    import urllib.error
    import urllib.request

    r = mk(routers, openai_base_url=oai_up.origin)
    assert r.api_key is None
    token = r.admin_token
    assert isinstance(token, str) and len(token) >= 16
    assert token not in (OPENAI_KEY, ANTHROPIC_KEY)

    def scrape(bearer):
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % r.port)
        if bearer:
            req.add_header("Authorization", "Bearer " + bearer)
        return urllib.request.urlopen(req, timeout=10)

    for bearer in (None, "sk-client-own-key"):
        with pytest.raises(urllib.error.HTTPError) as e:
            scrape(bearer)
        assert e.value.code == 401
    assert scrape(token).status == 200
    # The admin token is not a client token: the proxy still passes the client's own key through.
    assert chat(r, api_key="sk-client-own-key") == ECHO


def test_direct_routers_use_their_client_token_as_admin_token(routers, oai_up):
    r = mk(routers, provider_key=OPENAI_KEY, openai_base_url=oai_up.origin)
    assert r.admin_token == r.api_key
