"""The command lines, run as real processes: ``python -m iron_runtime router`` (and the
``iron-runtime`` console script) and ``java -jar <engine jar> router``.

Each run listens on a real port in front of the fake upstream, prints its banner, proxies a real
``openai`` SDK request with the real key taken from the environment, and stops on SIGTERM/SIGINT,
freeing its port. Bad flags give exit status 2 and one ``iron-runtime: error:`` line.
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import openai
import pytest

import iron_runtime
from fakes.upstream import reply_text
from children import CHILD_CWD, child_env
from helpers import IC_TOKEN, MSG, assert_no_secret, can_bind, free_port, refuses_connections, wait_for

REAL_KEY = "sk-test-CLIrealKEY-0123456789abcdefXYZ"  # what the fake must see, and no printed line
ANTHROPIC_REAL_KEY = "sk-ant-api03-CLIrealKEY-0123456789abcdef"
FIXED_TOKEN = "cli-fixed-token-0123456789abcdef"  # IRON_RUNTIME_TOKEN for the Java CLI
ECHO = reply_text("hello router")
START_TIMEOUT = 60.0  # bound on reaching the banner (JVM start is 1-3 s; the machine is shared)
STOP_TIMEOUT = 15.0  # bound on exiting after a signal
PROMPT_STOP = 5.0  # what "promptly" means

class Child:
    """A command running in the background; its output is collected line by line by threads."""

    def __init__(self, argv: List[str], env: Dict[str, str]):
        self.argv = argv
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1, cwd=CHILD_CWD)
        self.stdout_lines: List[str] = []
        self.stderr_lines: List[str] = []
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines, True), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines, False), daemon=True),
        ]
        for t in self._readers:
            t.start()

    def _pump(self, stream, sink: List[str], notify: bool) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))
            if notify:
                self._lines.put(line.rstrip("\n"))
        if notify:
            self._lines.put(None)  # EOF

    def wait_for_line(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match:
        """The first stdout line matching ``pattern`` (bounded wait)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no stdout line matching %r within %.0fs\n%s" % (pattern, timeout, self.output()))
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=STOP_TIMEOUT)
                self.join_output()
                raise AssertionError("the process exited (rc=%s) before printing a line matching %r\n%s"
                                     % (self.proc.returncode, pattern, self.output()))
            m = rx.search(line)
            if m:
                return m

    def banner_value(self, prefix: str, timeout: float = 10.0) -> str:
        """The rest of the stdout line starting with ``prefix`` (the banner is printed in one go)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stdout_lines):
                if line.startswith(prefix):
                    return line[len(prefix):]
            time.sleep(0.02)
        raise AssertionError("no %r line in the banner\n%s" % (prefix, self.output()))

    def stop(self, signum: int, timeout: float = STOP_TIMEOUT) -> Tuple[int, float]:
        """Send ``signum``; return (exit status, seconds it took to exit)."""
        t0 = time.monotonic()
        self.proc.send_signal(signum)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("still running %.0fs after signal %d\n%s" % (timeout, signum, self.output()))
        elapsed = time.monotonic() - t0
        self.join_output()
        return rc, elapsed

    def join_output(self) -> None:
        for t in self._readers:
            t.join(timeout=5)

    def output(self) -> str:
        return "--- stdout:\n%s\n--- stderr:\n%s" % ("\n".join(self.stdout_lines), "\n".join(self.stderr_lines))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        self.join_output()
        for s in (self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except Exception:
                pass


def run_to_end(argv: List[str], env: Dict[str, str], timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                          cwd=CHILD_CWD)


def python_cli(variant: str) -> List[str]:
    if variant == "python -m":
        return [sys.executable, "-m", "iron_runtime"]
    script = Path(sys.executable).parent / "iron-runtime"
    if not script.is_file():
        pytest.skip("no iron-runtime console script next to %s" % sys.executable)
    return [str(script)]


def java_exe() -> str:
    """The ``java`` launcher of the Java the package uses (JAVA_HOME first, like the package)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    try:
        from iron_runtime import _jvm

        for parent in Path(_jvm.find_jvm()).resolve().parents:
            if (parent / "bin" / "java").is_file():
                return str(parent / "bin" / "java")
    except Exception:
        pass
    found = shutil.which("java")
    if not found:
        pytest.skip("no java launcher found")
    return found


def java_cli() -> List[str]:
    from iron_runtime import _jvm

    return [java_exe(), "-jar", str(_jvm.find_jar())]


def ask(base_url: str, token: str) -> str:
    client = openai.OpenAI(base_url=base_url, api_key=token, max_retries=0, timeout=20)
    return client.chat.completions.create(model="gpt-4o", messages=MSG).choices[0].message.content


def assert_port_released(port: int) -> None:
    assert refuses_connections(port), "port %d still accepts connections after the router exited" % port
    assert can_bind(port), "port %d is still taken after the router exited" % port


def assert_one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, "expected exactly one stderr line, got:\n%s" % proc.stderr
    assert lines[0].startswith("iron-runtime: error: "), lines[0]
    return lines[0]


# ----------------------------------------------------------------------------- Python CLI


@pytest.mark.parametrize("variant, signum", [
    ("python -m", signal.SIGTERM),
    ("python -m", signal.SIGINT),
    ("console script", signal.SIGTERM),
], ids=["python-m-SIGTERM", "python-m-SIGINT", "console-script-SIGTERM"])
def test_python_cli_serves_and_stops_on_signal(oai_up, variant, signum):
    port = free_port()
    child = Child(python_cli(variant) + ["router", "--port", str(port), "--openai-base-url", oai_up.origin],
                  child_env(OPENAI_API_KEY=REAL_KEY))
    try:
        base_url = child.wait_for_line(r"^iron-runtime router listening on (\S+)$").group(1)
        assert base_url == "http://127.0.0.1:%d/v1" % port
        token = child.banner_value("client token: ")
        assert child.banner_value("mode: ").startswith("direct")
        assert token and token != REAL_KEY and REAL_KEY not in token
        assert child.banner_value("export OPENAI_BASE_URL=") == base_url
        assert child.banner_value("export OPENAI_API_KEY=") == token

        assert ask(base_url, token) == ECHO
        rec = oai_up.last
        assert rec.path == "/v1/chat/completions"
        assert rec.headers.get("authorization") == "Bearer " + REAL_KEY
        with pytest.raises(openai.AuthenticationError):  # the real key is not a client token
            ask(base_url, REAL_KEY)

        rc, elapsed = child.stop(signum)
        assert rc == 0, "exit status %s after signal %d\n%s" % (rc, signum, child.output())
        assert elapsed < PROMPT_STOP, "took %.2fs to exit after signal %d" % (elapsed, signum)
        assert_port_released(port)
        assert child.stderr_lines == [], child.output()
        assert_no_secret(child.output(), REAL_KEY)
    finally:
        child.kill()


def test_python_cli_version_needs_no_java():
    proc = run_to_end([sys.executable, "-c",
                       "import sys\nfrom iron_runtime.cli import main\n"
                       "try:\n    main(['--version'])\nexcept SystemExit as e:\n    code = e.code\n"
                       "print('jpype loaded' if 'jpype' in sys.modules else 'no jpype', code)"],
                      child_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["iron-runtime %s" % iron_runtime.__version__, "no jpype 0"]


@pytest.mark.parametrize("flags, env, words", [
    (["--port", "99999"], {}, ["port", "99999"]),
    (["--server-url", "ftp://x"], {}, ["server_url"]),
    (["--server-url", "ftp://x"], {"IC_TOKEN": IC_TOKEN}, ["server_url", "ftp://x"]),
    (["--budget", "-5"], {}, ["budget", "negative"]),
    (["--budget-id", " "], {}, ["budget_id"]),
    (["--event-retention-days", "0"], {}, ["event_retention_days", "0"]),
    (["--event-retention-days", "week"], {}, ["--event-retention-days", "week"]),
    (["--log-level", "loud"], {}, ["--log-level", "loud"]),
    (["--verbose=yes"], {}, ["--verbose"]),
    (["--model-alias", "fast"], {}, ["--model-alias", "NAME=MODEL"]),
    (["--model-alias", "a=b", "--model-alias", "b=claude-haiku-4-5"], {}, ["model_aliases", "itself an alias"]),
], ids=["port-99999", "server-url-ftp-without-token", "server-url-ftp-with-token", "budget-negative", "budget-id-blank",
        "retention-0", "retention-week", "log-level-loud", "verbose-with-value", "alias-without-model", "alias-chain"])
def test_python_cli_bad_input(flags, env, words):
    port_flags = [] if "--port" in flags else ["--port", str(free_port())]
    proc = run_to_end([sys.executable, "-m", "iron_runtime", "router"] + port_flags + flags,
                      child_env(OPENAI_API_KEY=REAL_KEY, **env))
    assert_bad_input_rejected(proc, words)


# ----------------------------------------------------------------------------- Java CLI


def test_java_cli_serves_with_fixed_token_and_stops_on_sigterm(oai_up):
    port = free_port()
    child = Child(java_cli() + ["router", "--port", str(port), "--openai-base-url", oai_up.origin],
                  child_env(OPENAI_API_KEY=REAL_KEY, IRON_RUNTIME_TOKEN=FIXED_TOKEN))
    try:
        base_url = child.wait_for_line(r"^iron-runtime router listening on (\S+)$").group(1)
        assert base_url == "http://127.0.0.1:%d/v1" % port
        assert child.banner_value("client token: ") == FIXED_TOKEN
        assert child.banner_value("mode: ").startswith("direct")

        assert ask(base_url, FIXED_TOKEN) == ECHO
        rec = oai_up.last
        assert rec.headers.get("authorization") == "Bearer " + REAL_KEY
        assert_no_secret("\n".join("%s: %s" % kv for kv in rec.headers.items()), FIXED_TOKEN)
        with pytest.raises(openai.AuthenticationError):
            ask(base_url, FIXED_TOKEN + "x")

        rc, elapsed = child.stop(signal.SIGTERM)
        # The JVM reports a SIGTERM-initiated shutdown as 143 (128 + 15) after the shutdown hook ran.
        assert rc in (0, 128 + signal.SIGTERM), "exit status %s\n%s" % (rc, child.output())
        assert elapsed < PROMPT_STOP, "took %.2fs to exit after SIGTERM" % elapsed
        assert_port_released(port)
        assert child.stderr_lines == [], child.output()
        assert_no_secret(child.output(), REAL_KEY)
    finally:
        child.kill()


@pytest.mark.parametrize("cli", ["java", "python"])
def test_cli_budget_flags_refuse_with_402_and_keep_the_ledger(oai_up, tmp_path, cli):
    argv = java_cli() if cli == "java" else [sys.executable, "-m", "iron_runtime"]
    port = free_port()
    child = Child(argv + ["router", "--port", str(port), "--openai-base-url", oai_up.origin, "--budget", "0",
                          "--budget-id", "cli", "--state-dir", str(tmp_path)],
                  child_env(OPENAI_API_KEY=REAL_KEY))
    try:
        base_url = child.wait_for_line(r"^iron-runtime router listening on (\S+)$").group(1)
        token = child.banner_value("client token: ")
        budget_line = child.banner_value("budget: ")
        assert budget_line.startswith("$0") and str(tmp_path / "iron_runtime.db") in budget_line, budget_line
        with pytest.raises(openai.APIStatusError) as ei:
            openai.OpenAI(base_url=base_url, api_key=token, timeout=20).chat.completions.create(
                model="gpt-4o-mini", messages=MSG)
        assert ei.value.status_code == 402 and ei.value.body["code"] == "budget_exceeded"
        assert oai_up.requests == []
        rc, _ = child.stop(signal.SIGTERM)
        assert rc in (0, 128 + signal.SIGTERM), child.output()
        assert (tmp_path / "iron_runtime.db").is_file()
    finally:
        child.kill()


def assert_bad_input_rejected(proc, words) -> None:
    """Exit status 2, one `iron-runtime: error:` line naming ``words``, nothing on stdout, no secret."""
    assert proc.returncode == 2, "exit status %s\n%s%s" % (proc.returncode, proc.stdout, proc.stderr)
    line = assert_one_error_line(proc)
    for word in words:
        assert word in line, line
    assert proc.stdout == ""
    assert_no_secret(proc.stdout + proc.stderr, REAL_KEY, IC_TOKEN)


@pytest.mark.parametrize("flags, env, words", [
    (["--port", "nope"], {}, ["--port", "nope"]),
    (["--port", "99999"], {}, ["port", "99999"]),
    (["--server-url", "ftp://x"], {"IC_TOKEN": IC_TOKEN}, ["server_url", "ftp://x"]),
    (["--budget", "lots"], {}, ["budget", "dollars"]),
    (["--unknown-model", "maybe"], {}, ["unknown_model"]),
    (["--event-retention-days", "0"], {}, ["event_retention_days", "0"]),
    (["--event-retention-days", "week"], {}, ["--event-retention-days", "week"]),
    (["--log-level", "loud"], {}, ["log_level", "loud"]),
    (["--verbose=yes"], {}, ["--verbose"]),
    (["--model-alias", "fast="], {}, ["--model-alias", "NAME=MODEL"]),
    (["--model-alias", "a=b", "--model-alias", "b=claude-haiku-4-5"], {}, ["model_aliases", "itself an alias"]),
], ids=["port-nope", "port-99999", "server-url-ftp", "budget-lots", "unknown-model-maybe", "retention-0",
        "retention-week", "log-level-loud", "verbose-with-value", "alias-without-model", "alias-chain"])
def test_java_cli_bad_input(flags, env, words):
    port_flags = [] if "--port" in flags else ["--port", str(free_port())]
    proc = run_to_end(java_cli() + ["router"] + port_flags + flags, child_env(OPENAI_API_KEY=REAL_KEY, **env))
    assert_bad_input_rejected(proc, words)


@pytest.mark.parametrize("cli", ["java", "python"])
def test_cli_verbose_logs_each_request_as_a_json_line(oai_up, tmp_path, cli):
    argv = java_cli() if cli == "java" else [sys.executable, "-m", "iron_runtime"]
    port = free_port()
    child = Child(argv + ["router", "--port", str(port), "--openai-base-url", oai_up.origin, "--verbose",
                          "--event-retention-days", "3", "--state-dir", str(tmp_path)],
                  child_env(OPENAI_API_KEY=REAL_KEY))
    try:
        base_url = child.wait_for_line(r"^iron-runtime router listening on (\S+)$").group(1)
        token = child.banner_value("client token: ")
        assert ask(base_url, token) == ECHO
        deadline = time.monotonic() + 20
        while not child.stderr_lines and time.monotonic() < deadline:
            time.sleep(0.02)
        rc, _ = child.stop(signal.SIGTERM)
        assert rc in (0, 128 + signal.SIGTERM), child.output()
        assert len(child.stderr_lines) == 1, child.output()
        line = json.loads(child.stderr_lines[0])
        assert line["status"] == 200 and line["model"] == "gpt-4o" and line["outcome"] == "completed"
        assert line["trace_id"] == oai_up.last.headers.get("traceparent").split("-")[1]
        assert_no_secret(child.output().replace("client token: " + token, ""), REAL_KEY)
        assert token not in "\n".join(child.stderr_lines)
    finally:
        child.kill()


@pytest.mark.parametrize("cli", ["java", "python"])
def test_cli_log_level_info_reports_start_and_stop(tmp_path, cli):
    """At info the engine's own lines appear, the last one written as the router stops on SIGTERM."""
    argv = java_cli() if cli == "java" else [sys.executable, "-m", "iron_runtime"]
    port = free_port()
    child = Child(argv + ["router", "--port", str(port), "--log-level", "info", "--state-dir", str(tmp_path)],
                  child_env(OPENAI_API_KEY=REAL_KEY))
    try:
        child.wait_for_line(r"^iron-runtime router listening on ")
        rc, _ = child.stop(signal.SIGTERM)
        assert rc in (0, 128 + signal.SIGTERM), child.output()
        err = "\n".join(child.stderr_lines)
        assert re.search(r"^\S+ INFO LlmRouter - iron-runtime router listening on http://127\.0\.0\.1:%d/v1 " % port,
                         err, re.M), child.output()
        assert re.search(r"^\S+ INFO LlmRouter - iron-runtime router on port %d stopped$" % port, err, re.M), \
            child.output()
        assert_no_secret(child.output(), REAL_KEY)
    finally:
        child.kill()


@pytest.mark.parametrize("cli", ["java", "python"])
def test_cli_model_alias_translates_and_logs_dropped_fields(oai_up, ant_up, cli):
    """An alias for a Claude model, used by an OpenAI client: translated, and the dropped field named on stderr."""
    argv = java_cli() if cli == "java" else [sys.executable, "-m", "iron_runtime"]
    port = free_port()
    child = Child(argv + ["router", "--port", str(port), "--openai-base-url", oai_up.origin,
                          "--anthropic-base-url", ant_up.origin, "--model-alias", "fast=claude-haiku-4-5"],
                  child_env(OPENAI_API_KEY=REAL_KEY, ANTHROPIC_API_KEY=ANTHROPIC_REAL_KEY))
    try:
        base_url = child.wait_for_line(r"^iron-runtime router listening on (\S+)$").group(1)
        token = child.banner_value("client token: ")
        client = openai.OpenAI(base_url=base_url, api_key=token, max_retries=0, timeout=20)
        answer = client.chat.completions.create(model="fast", messages=MSG, seed=7)
        assert answer.choices[0].message.content == ECHO
        rec = ant_up.last
        assert (rec.path, rec.json["model"]) == ("/v1/messages", "claude-haiku-4-5") and "seed" not in rec.json
        assert rec.headers.get("x-api-key") == ANTHROPIC_REAL_KEY and not oai_up.requests
        note = re.compile(r"^\S+ WARN\S* ModelRouting - Translating a request for claude-haiku-4-5 to anthropic: "
                          r"dropped seed \(no counterpart in that format\)$")
        wait_for(lambda: any(note.search(l) for l in child.stderr_lines), what="the dropped-field warning")
        rc, _ = child.stop(signal.SIGTERM)
        assert rc in (0, 128 + signal.SIGTERM), child.output()
        assert_no_secret(child.output(), REAL_KEY, ANTHROPIC_REAL_KEY)
    finally:
        child.kill()


def test_java_cli_version_matches_package():
    proc = run_to_end(java_cli() + ["--version"], child_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "iron-runtime %s" % iron_runtime.__version__


@pytest.mark.parametrize("cli", ["python", "java"])
def test_the_banner_names_the_dashboard_and_a_passthrough_routers_admin_token(oai_up, cli):
    import urllib.request

    argv = (python_cli("python -m") if cli == "python" else java_cli()) + [
        "router", "--port", "0", "--openai-base-url", oai_up.origin]
    child = Child(argv, child_env())
    try:
        base_url = child.wait_for_line(r"^iron-runtime router listening on (\S+)$").group(1)
        assert child.banner_value("mode: ").startswith("passthrough")
        token = child.banner_value("admin token (metrics, REST API, live feed): ")
        dashboard = child.banner_value("dashboard: ")
        origin = base_url[:-len("/v1")]
        assert dashboard == origin + "/iron/dashboard#token=" + token
        req = urllib.request.Request(origin + "/metrics", headers={"Authorization": "Bearer " + token})
        assert urllib.request.urlopen(req, timeout=10).status == 200
        page = urllib.request.urlopen(dashboard.split("#")[0], timeout=10)
        assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
        rc, _ = child.stop(signal.SIGTERM)
        assert rc == 0, child.output()
    finally:
        child.kill()


@pytest.mark.parametrize("cli", ["java", "python"])
def test_cli_control_server_serves_with_the_servers_key_and_returns_the_lease(oai_up, tmp_path, cli):
    from fakes.iron_cage import FakeIronCage

    argv = java_cli() if cli == "java" else [sys.executable, "-m", "iron_runtime"]
    with FakeIronCage(base_url=oai_up.origin) as cage:
        token = cage.token()
        child = Child(argv + ["router", "--port", str(free_port()), "--lease-budget", "2.5", "--cache-ttl", "60",
                              "--strict", "--state-dir", str(tmp_path)],
                      child_env(IC_TOKEN=token, IC_SERVER=cage.url))
        try:
            base_url = child.wait_for_line(r"^iron-runtime router listening on (\S+)$").group(1)
            assert ask(base_url, child.banner_value("client token: ")) == reply_text("hello router")
            assert oai_up.last.headers["authorization"] == "Bearer " + cage.provider_key
            assert cage.handshakes[0]["body"]["requested_budget"] == 2_500_000
            rc, _ = child.stop(signal.SIGTERM)
            assert rc in (0, 128 + signal.SIGTERM), child.output()
        finally:
            child.kill()
        assert len(cage.reports) == 1 and len(cage.returns) == 1, "reported and returned at stop"
        assert_no_secret(child.output(), token, cage.provider_key)


@pytest.mark.parametrize("cli", ["java", "python"])
def test_cli_strict_control_server_refusal_is_one_line(tmp_path, cli):
    from fakes.iron_cage import FakeIronCage

    argv = java_cli() if cli == "java" else [sys.executable, "-m", "iron_runtime"]
    with FakeIronCage() as cage:
        cage.set_agent(1, key_enabled=False)
        token = cage.token()
        proc = run_to_end(argv + ["router", "--strict", "--state-dir", str(tmp_path)],
                          child_env(IC_TOKEN=token, IC_SERVER=cage.url))
    assert proc.returncode != 0
    line = assert_one_error_line(proc)
    assert "NO_PROVIDER_ASSIGNED" in line and "strict" in line
    assert_no_secret(proc.stdout + proc.stderr, token)
