"""Shared fixtures: fake upstreams on loopback and routers pointed at them.

The router tests use the package as installed (``pip install .``); in a source
checkout without an install they fall back to ``python/`` (the engine jar is then
found in ``target/``).
"""

import os
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:  # the installed package first
    import iron_runtime  # noqa: F401
except ImportError:  # pragma: no cover - source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))

from fakes.upstream import FakeUpstream  # noqa: E402

# Routers keep a ledger database under $IRON_RUNTIME_HOME: never the user's real one in tests.
os.environ["IRON_RUNTIME_HOME"] = tempfile.mkdtemp(prefix="iron-runtime-test-home-")
from helpers import ANTHROPIC_KEY, OPENAI_KEY  # noqa: E402

# Variables that change what a router or an SDK does; the tests control them.
_ENV_TO_CLEAR = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "IC_TOKEN", "IC_SERVER",
    "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Every test starts without provider keys, Iron Cage settings or proxies in the environment."""
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield monkeypatch


@pytest.fixture(scope="module")
def _oai_up_module():
    with FakeUpstream(event_delay=0.02, name="openai") as up:
        yield up


@pytest.fixture(scope="module")
def _ant_up_module():
    with FakeUpstream(event_delay=0.02, name="anthropic") as up:
        yield up


@pytest.fixture
def oai_up(_oai_up_module):
    """The fake OpenAI upstream (shared by the module, emptied for each test)."""
    yield _oai_up_module.fresh(0.02)


@pytest.fixture
def ant_up(_ant_up_module):
    """The fake Anthropic upstream (shared by the module, emptied for each test)."""
    yield _ant_up_module.fresh(0.02)


def _module_router(oai, ant, **extra):
    from iron_runtime import LlmRouter

    with pytest.MonkeyPatch.context() as mp:
        for name in _ENV_TO_CLEAR:
            mp.delenv(name, raising=False)
        return LlmRouter(
            provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
            openai_base_url=oai.origin,
            anthropic_base_url=ant.origin,
            read_timeout=20,
            connect_timeout=5,
            unknown_model="allow",  # scenario models like gpt-4o-fake-slow-5 have no price
            # Shared by a whole module: one test's error storm must not open a circuit for the next,
            # and errors pass straight through. test_resilience.py covers both with routers of its own.
            max_retries=0,
            circuit_breaker=False,
            **extra,
        )


@pytest.fixture(scope="module")
def router(_oai_up_module, _ant_up_module):
    """A direct-mode router holding both real keys, in front of the two fakes (one per module),
    with the default settings (PII redaction on in both directions)."""
    r = _module_router(_oai_up_module, _ant_up_module)
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture(scope="module")
def plain_router(_oai_up_module, _ant_up_module):
    """Like ``router`` but with PII handling off: for tests that check the stream is passed on
    event for event and byte for byte (redaction re-cuts streamed text; see test_pii.py)."""
    r = _module_router(_oai_up_module, _ant_up_module, pii="off")
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def make_router():
    """Factory for routers with special settings; every router it made is stopped afterwards."""
    from iron_runtime import LlmRouter

    made = []

    def make(**kwargs):
        kwargs.setdefault("unknown_model", "allow")  # scenario models like gpt-4o-fake-slow-5 have no price
        r = LlmRouter(**kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        try:
            r.stop()
        except Exception:
            pass
