"""The dashboard in real headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by
Selenium), against a real router in front of the fake upstreams, real ``openai``/``anthropic`` SDK calls
and a real agent process run by ``Runtime``.

The browser resolves no host name but 127.0.0.1 (``--host-resolver-rules``), so a page that needed
anything from outside would break here, as it would offline. Waits poll with deadlines; nothing
asserts how fast the page is.
"""

import html
import html.parser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap

import anthropic
import pytest

from helpers import ANTHROPIC_KEY, OPENAI_KEY, ant_client, oai_client, raw, wait_for
from iron_runtime import LlmRouter, Runtime
from iron_runtime._dashboard import usd

AGENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agents")
OPENAI_AGENT = os.path.join(AGENTS, "openai_agent.py")
EMAIL = "jane.doe@example.com"
# A model name is the client's text: the page must show it as text, never as markup.
HTML_MODEL = 'gpt-4o-mini-<img src="x">'
WAIT = 30.0  # generous: two cores shared by several engineers


# ----------------------------------------------------------------------------- the browser


def chromium_paths():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, (
        "the dashboard tests need Debian's chromium and chromium-driver (README command 2 and .ci/run "
        "install them: apt-get install chromium chromium-driver)")
    return chromium, driver


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = chromium_paths()
    opts = Options()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                "--disable-domain-reliability", "--disable-features=Translate,OptimizationHints,MediaRouter",
                # Nothing but loopback resolves: the page must need nothing from outside.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        opts.add_argument(arg)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver's path is given, so Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def q(driver, css):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def text_of(driver, element_id):
    found = q(driver, "#" + element_id)
    return found[0].text if found else None


def value_of(driver, element_id):
    found = q(driver, "#" + element_id)
    return found[0].get_attribute("data-value") if found else None


def open_page(driver, url):
    driver.get("about:blank")  # a fresh document: from the page itself, only the fragment would change
    driver.get(url)
    wait_for(lambda: driver.execute_script("return document.readyState") == "complete", WAIT, "the page to load")


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


# ----------------------------------------------------------------------------- the scenario


class Scene:
    def __init__(self, router, runtime):
        self.router = router
        self.runtime = runtime
        self.request_ids = []
        self.agent_pids = []

    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self.router.port


@pytest.fixture(scope="module")
def scene(_oai_up_module, _ant_up_module, tmp_path_factory):
    """One router for the module: a $5 budget, circuits that open after two failures and stay open,
    and a runtime on it. Every agent process a test started is SIGKILLed at the end if still there."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "IC_TOKEN", "IC_SERVER", "OPENAI_BASE_URL"):
            mp.delenv(name, raising=False)
        router = LlmRouter(
            provider_key={"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY},
            openai_base_url=_oai_up_module.origin, anthropic_base_url=_ant_up_module.origin,
            budget=5.0, state_dir=str(tmp_path_factory.mktemp("dashboard-state")),
            read_timeout=20, connect_timeout=5, max_retries=0, unknown_model="allow",
            circuit_breaker={"failure_threshold": 2, "recovery_timeout": 600},
        )
    runtime = Runtime(router=router, stop_timeout=5.0)
    s = Scene(router, runtime)
    try:
        # The scenario the page must show: OpenAI calls with an e-mail address in them (PII), one of
        # them streamed, one for a model whose name is markup, and two Anthropic failures that open
        # the Anthropic circuit.
        client = oai_client(router)
        for i in range(3):
            r = client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", max_tokens=20,
                messages=[{"role": "user", "content": "call %d: write to %s" % (i, EMAIL)}])
            s.request_ids.append(r.headers["x-iron-request-id"])
        with client.chat.completions.with_streaming_response.create(
                model="gpt-4o-mini", max_tokens=20, stream=True, stream_options={"include_usage": True},
                messages=[{"role": "user", "content": "streamed, to %s" % EMAIL}]) as r:
            s.request_ids.append(r.headers["x-iron-request-id"])
            for _ in r.iter_lines():
                pass
        r = client.chat.completions.with_raw_response.create(
            model=HTML_MODEL, max_tokens=20, messages=[{"role": "user", "content": "hello"}])
        s.request_ids.append(r.headers["x-iron-request-id"])
        for _ in range(2):
            with pytest.raises(anthropic.InternalServerError):
                ant_client(router).messages.create(model="claude-x-fake-error-500", max_tokens=20,
                                                   messages=[{"role": "user", "content": "boom"}])
        circuits = router.metrics()["circuits"]
        assert {c["provider"]: c["state"] for c in circuits.values()} == {"openai": "closed", "anthropic": "open"}
        assert router.flush(10)
        yield s
    finally:
        for pid in s.agent_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        runtime.shutdown()
        router.close()


def proc_state(pid):
    """The state letter of ``pid`` in /proc, or None when there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def engine_requests(router):
    """request_id -> the engine's request_completed/request_failed event."""
    events = router.events(types=["request_completed", "request_failed"], limit=10_000)
    return {e["request_id"]: e for e in events}


def wait_for_router_numbers(driver, router):
    """Waits until the page's headline numbers equal ``router.metrics()`` (read again each time)."""
    last = []

    def same():
        m = router.metrics()
        expected = {
            "requests-total": "{:,}".format(m["requests"]),
            "budget-spent": usd(m["budget_spent"]),
            "budget-limit": usd(m["budget_limit"]),
            "pii-total": "{:,}".format(m["pii_detections"]),
        }
        shown = {k: text_of(driver, k) for k in expected}
        last[:] = [shown, expected]
        return shown == expected

    try:
        wait_for(same, WAIT, "the page to show router.metrics()")
    except AssertionError:
        raise AssertionError("the page shows %r, the router says %r" % tuple(last)) from None


def row_cells(row):
    from selenium.webdriver.common.by import By

    return {td.get_attribute("data-field"): td for td in row.find_elements(By.CSS_SELECTOR, "td[data-field]")}


def request_row(driver, request_id):
    rows = q(driver, 'tr[data-request-id="%s"]' % request_id)
    return rows[0] if rows else None


def agent_row(driver, agent_id):
    rows = q(driver, 'tr[data-agent-id="%s"]' % agent_id)
    return rows[0] if rows else None


def click(row, action):
    from selenium.webdriver.common.by import By

    row.find_element(By.CSS_SELECTOR, 'button[data-action="%s"]' % action).click()


def enabled_actions(row):
    from selenium.webdriver.common.by import By

    return sorted(b.get_attribute("data-action") for b in row.find_elements(By.CSS_SELECTOR, "button[data-action]")
                  if b.is_enabled())


# ----------------------------------------------------------------------------- tests in the browser


def test_the_page_shows_the_routers_numbers(browser, scene):
    router = scene.router
    open_page(browser, router.dashboard_url)
    # The token went from the fragment into sessionStorage; the address bar no longer shows it.
    assert "#" not in browser.current_url and router.admin_token not in browser.current_url
    assert browser.execute_script("return window.sessionStorage.length") == 1

    wait_for_router_numbers(browser, router)
    m = router.metrics()
    assert text_of(browser, "budget-limit") == "$5.00"
    assert float(value_of(browser, "budget-spent")) == m["budget_spent"]  # the same number, not just its text
    assert m["budget_spent"] > 0 and m["requests"] >= 7 and m["errors"] >= 2
    assert text_of(browser, "budget-reserved") == usd(m["budget_reserved"])
    assert text_of(browser, "requests-errors") == "{:,}".format(m["errors"])

    # PII by type: the scenario's four e-mail addresses, one bar each type.
    by_type = m["pii_detections_by_type"]
    assert by_type.get("EMAIL", 0) >= 4
    for entity, n in by_type.items():
        row = q(browser, '[data-testid="pii-%s"]' % entity)
        assert row and row[0].get_attribute("data-count") == str(n), entity

    # Circuits: Anthropic's opened after two failures, OpenAI's is closed.
    for upstream, c in m["circuits"].items():
        wait_for(lambda: (q(browser, '[data-testid="circuit"][data-upstream="%s"]' % upstream) or [None])[0],
                 WAIT, "the circuit row of " + upstream)
        row = q(browser, '[data-testid="circuit"][data-upstream="%s"]' % upstream)[0]
        assert row.get_attribute("data-state") == c["state"], upstream
    states = sorted(r.get_attribute("data-state") for r in q(browser, '[data-testid="circuit"]'))
    assert states == ["closed", "open"]

    # The requests table holds the scenario's calls with the engine's own figures.
    recorded = engine_requests(router)
    for rid in scene.request_ids:
        wait_for(lambda: request_row(browser, rid), WAIT, "the row of " + rid)
        cells = row_cells(request_row(browser, rid))
        e = recorded[rid]
        assert cells["model"].text == e["model"]
        assert cells["input_tokens"].text == "{:,}".format(e["input_tokens"])
        assert cells["output_tokens"].text == "{:,}".format(e["output_tokens"])
        assert cells["cost"].text == usd(e["cost"])
        assert float(cells["cost"].get_attribute("data-value")) == e["cost"]
        assert cells["status"].text.startswith(str(e["status"]))
    failed = [r for r in q(browser, 'tr[data-testid="request"]') if row_cells(r)["status"].text.startswith("500")]
    assert len(failed) == 2
    pii_cells = [int(row_cells(request_row(browser, rid))["pii_detections"].text) for rid in scene.request_ids[:4]]
    assert all(n >= 1 for n in pii_cells), pii_cells

    # The markup in the model name is text in the page, not an element.
    html_row = request_row(browser, scene.request_ids[4])
    assert row_cells(html_row)["model"].text == HTML_MODEL
    assert not q(browser, "#requests-table img")
    assert not console_errors(browser), console_errors(browser)


def test_a_request_made_after_loading_arrives_live(browser, scene):
    router = scene.router
    open_page(browser, router.dashboard_url)
    wait_for(lambda: q(browser, '#feed-state[data-state="live"]'), WAIT, "the live feed")
    r = oai_client(router).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", max_tokens=20, messages=[{"role": "user", "content": "live, to %s" % EMAIL}])
    rid = r.headers["x-iron-request-id"]
    usage = r.parse().usage
    # data-via="feed": the page learnt of it from the SSE feed, not only from its next REST read.
    wait_for(lambda: q(browser, 'tr[data-request-id="%s"][data-via="feed"]' % rid), WAIT, "the live row")
    cells = row_cells(request_row(browser, rid))
    event = engine_requests(router)[rid]
    assert cells["input_tokens"].text == "{:,}".format(usage.prompt_tokens)
    assert cells["output_tokens"].text == "{:,}".format(usage.completion_tokens)
    assert cells["cost"].text == usd(event["cost"])
    assert cells["pii_detections"].text == "1"
    assert cells["latency_ms"].text.endswith(("ms", "s"))
    # The first row is the newest.
    first = q(browser, 'tr[data-testid="request"]')[0]
    assert first.get_attribute("data-request-id") == rid
    wait_for_router_numbers(browser, router)
    assert int(browser.find_element("id", "feed-state").get_attribute("data-events")) >= 1


def test_pause_resume_and_stop_buttons_control_a_real_agent(browser, scene):
    router, rt = scene.router, scene.runtime
    h = rt.start_agent(OPENAI_AGENT, args=["--calls", "0", "--interval", "0.2"], name="looping-agent")
    pid = rt.get_metrics(h)["pid"]
    scene.agent_pids.append(pid)
    open_page(browser, router.dashboard_url)
    aid = str(h)

    def row_status(status):
        row = agent_row(browser, aid)
        return row if row is not None and row.get_attribute("data-status") == status else None

    row = wait_for(lambda: row_status("running"), WAIT, "the agent's row, running")
    assert row.find_element("css selector", ".agent-name").text == "looping-agent"
    assert row_cells(row)["pid"].text == str(pid)
    assert enabled_actions(row) == ["pause", "stop"]
    wait_for(lambda: rt.get_metrics(h)["requests"] >= 1, WAIT, "the agent's first call")
    wait_for(lambda: int(row_cells(agent_row(browser, aid))["requests"].text.replace(",", "")) >= 1, WAIT,
             "the agent's calls in its row")

    click(row, "pause")
    wait_for(lambda: rt.get_metrics(h)["status"] == "paused", WAIT, "the agent to be paused")
    wait_for(lambda: proc_state(pid) == "T", WAIT, "the process to be stopped by SIGSTOP")
    row = wait_for(lambda: row_status("paused"), WAIT, "the row to say paused")
    assert enabled_actions(row) == ["resume", "stop"]
    paused_at = rt.get_metrics(h)["requests"]

    click(row, "resume")
    wait_for(lambda: rt.get_metrics(h)["status"] == "running", WAIT, "the agent to run again")
    wait_for(lambda: proc_state(pid) in ("R", "S"), WAIT, "the process to continue")
    wait_for(lambda: rt.get_metrics(h)["requests"] > paused_at, WAIT, "the agent to call again")
    row = wait_for(lambda: row_status("running"), WAIT, "the row to say running")

    # Stop asks for a second click; the first one only arms the button.
    click(row, "stop")
    assert rt.get_metrics(h)["status"] == "running"
    click(row, "stop")
    wait_for(lambda: rt.get_metrics(h)["status"] == "stopped", WAIT, "the agent to stop")
    wait_for(lambda: proc_state(pid) in (None, "Z"), WAIT, "the process to end")
    row = wait_for(lambda: row_status("stopped"), WAIT, "the row to say stopped")
    assert enabled_actions(row) == []
    assert [li.text for li in q(browser, '#alerts li[data-type="agent_paused"]')], "the pause is in the alerts"
    assert not console_errors(browser), console_errors(browser)


def test_without_a_token_the_page_asks_for_one_and_shows_nothing(browser, scene):
    router = scene.router
    open_page(browser, scene.origin + "/iron/dashboard")
    browser.execute_script("window.sessionStorage.clear()")
    open_page(browser, scene.origin + "/iron/dashboard")
    form = q(browser, "#login")[0]
    assert form.is_displayed()
    assert not q(browser, "#dashboard")[0].is_displayed()
    shown = q(browser, "#requests-total")[0].get_attribute("textContent")  # .text is empty while hidden
    assert shown == "—" and not q(browser, 'tr[data-testid="request"]')
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert not [u for u in fetched if "/iron/api" in u or "/iron/events" in u], fetched

    field = q(browser, "#token-input")[0]
    field.send_keys("iron_not-the-token-at-all")
    q(browser, "#token-submit")[0].click()
    wait_for(lambda: "did not accept" in (text_of(browser, "login-error") or ""), WAIT, "the refusal")
    assert not q(browser, "#dashboard")[0].is_displayed()

    field.clear()
    field.send_keys(router.admin_token)
    q(browser, "#token-submit")[0].click()
    wait_for(lambda: q(browser, "#dashboard")[0].is_displayed(), WAIT, "the dashboard after the right token")
    wait_for_router_numbers(browser, router)
    # The 401 of the wrong token is the only error the browser saw.
    errors = console_errors(browser)
    assert all("401" in e["message"] for e in errors), errors


def test_the_link_opened_over_the_token_form_signs_in(browser, scene):
    """Following the link in a tab that shows the page changes only the fragment: no reload."""
    open_page(browser, scene.origin + "/iron/dashboard")
    browser.execute_script("window.sessionStorage.clear()")
    open_page(browser, scene.origin + "/iron/dashboard")
    assert q(browser, "#login")[0].is_displayed()
    browser.execute_script("window.location.hash = arguments[0]", scene.router.dashboard_url.split("#", 1)[1])
    wait_for(lambda: q(browser, "#dashboard")[0].is_displayed(), WAIT, "the dashboard")
    wait_for_router_numbers(browser, scene.router)
    assert "#" not in browser.current_url


def test_the_page_loads_nothing_from_outside(browser, scene):
    r = raw(scene.router.port, "GET", "/iron/dashboard", auth=None)
    assert r.status == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "unsafe" not in csp, csp
    assert not re.search(r"(?i)\b(?:https?|wss?|ftp):", r.text), "an absolute URL in the page"
    assert not re.search(r"(?i)\b(?:src|href)\s*=\s*\"(?!data:)", r.text)
    assert "url(" not in r.text and "@import" not in r.text

    open_page(browser, scene.router.dashboard_url)
    wait_for_router_numbers(browser, scene.router)
    entries = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert entries, "the page read the API"
    assert all(u.startswith(scene.origin + "/iron/") for u in entries), entries
    assert not [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]


# ----------------------------------------------------------------------------- Python side


def test_dashboard_url_and_the_printed_link(make_router, capsys, monkeypatch):
    router = make_router(provider_key=OPENAI_KEY, persist=False)
    url = router.dashboard_url
    assert url == "http://127.0.0.1:%d/iron/dashboard#token=%s" % (router.port, router.admin_token)
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    router.open_dashboard()  # no display: nothing to open, the link is printed
    assert capsys.readouterr().out == "iron-runtime dashboard: %s\n" % url
    router.open_dashboard(browser=False)
    assert capsys.readouterr().out == "iron-runtime dashboard: %s\n" % url
    assert router.admin_token not in repr(router)
    with pytest.raises(TypeError):
        router.open_dashboard(browser="yes")
    router.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        router.open_dashboard()


def test_open_dashboard_starts_the_browser_without_the_token_on_its_command_line(tmp_path):
    """In a process of its own (webbrowser reads BROWSER once): the 'browser' records its arguments
    and the launcher page it was given."""
    record = tmp_path / "browser.json"
    fake_browser = tmp_path / "browser.py"
    fake_browser.write_text(textwrap.dedent("""
        import json, os, stat, sys
        path = sys.argv[1][len("file://"):]
        info = {"argv": sys.argv[1:], "page": open(path).read(), "mode": stat.S_IMODE(os.stat(path).st_mode),
                "path": path}
        open(%r, "w").write(json.dumps(info))
    """ % str(record)))
    script = textwrap.dedent("""
        import os
        from iron_runtime import LlmRouter
        r = LlmRouter(provider_key="sk-test-key-000000000000", persist=False)
        r.open_dashboard()
        print("URL", r.dashboard_url)
        r.close()
    """)
    env = dict(os.environ, BROWSER="%s %s %%s" % (sys.executable, fake_browser))
    env.pop("DISPLAY", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.dirname(os.path.dirname(os.path.abspath(
        __import__("iron_runtime").__file__))), env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    url = done.stdout.split("URL ", 1)[1].strip()
    assert done.stdout.splitlines()[0] == "iron-runtime dashboard: %s (opened in your browser)" % url
    info = json.loads(record.read_text())
    token = url.split("#token=", 1)[1]
    assert len(info["argv"]) == 1 and info["argv"][0].startswith("file://") and token not in info["argv"][0]
    assert info["mode"] == 0o600
    assert 'content="0;url=%s"' % html.escape(url, quote=True) in info["page"]
    assert not os.path.exists(info["path"]), "close() deletes the launcher page"


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.links, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_data(self, data):
        self.text.append(data)


def parse(markup):
    p = _Tags()
    p.feed(markup)
    p.close()
    return p


def test_rich_display_shows_the_link_and_totals_escaped(make_router, oai_up, tmp_path):
    budget_id = '<script>alert("x")</script> & \'co\''
    router = make_router(provider_key=OPENAI_KEY, openai_base_url=oai_up.origin, budget=2.5, budget_id=budget_id,
                         state_dir=str(tmp_path))
    oai_client(router).chat.completions.create(model="gpt-4o-mini", max_tokens=20,
                                               messages=[{"role": "user", "content": "to %s" % EMAIL}])
    m = router.metrics()
    page = parse(router._repr_html_())
    assert "script" not in page.tags
    assert page.links == [router.dashboard_url]
    text = " ".join(" ".join(page.text).split())
    assert budget_id in text  # shown as text, after unescaping
    assert "Requests 1" in text and "PII detections 1" in text
    assert "Spent %s of $2.50" % usd(m["budget_spent"]) in text
    assert "LlmRouter running" in text
    assert router._repr_html_().count(router.admin_token) == 1  # in the link only

    router.stop()
    stopped = parse(router._repr_html_())
    assert stopped.links == [] and "LlmRouter stopped" in " ".join(" ".join(stopped.text).split())
    assert router.admin_token not in repr(router)


@pytest.mark.parametrize("amount, text", [
    (0, "$0.00"), (5, "$5.00"), (0.1, "$0.10"), (12.3, "$12.30"), (1.234567, "$1.234567"),
    (0.000045, "$0.000045"), (1.5e-07, "$0.00000015"), (4.5e-07, "$0.00000045"), (1e-12, "$0.000000000001"),
    (1234.5, "$1234.50"), (None, "—"),
])
def test_dollars_are_written_like_the_page_writes_them(amount, text):
    assert usd(amount) == text

