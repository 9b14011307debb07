"""The Python package as a user meets it: lazy import (no JPype, no JVM), the iron_cage alias,
argument checks that need no Java, a missing or misconfigured Java (JAVA_HOME,
IRON_RUNTIME_JVM_OPTS, IRON_RUNTIME_JAR), interpreter exit with a router still running, and a
port that is already taken.

Anything that depends on the state of a fresh process (import side effects, the JVM's start
options, a JVM that must not start) runs in a real child interpreter; nothing is mocked.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

import iron_runtime
from fakes.upstream import reply_text
from children import CHILD_CWD, child_env
from helpers import OPENAI_KEY, assert_no_secret, can_bind

SECRET = OPENAI_KEY
PUBLIC_NAMES = ["LlmRouter", "EVENT_TYPES", "Runtime", "AgentHandle", "IronRuntimeError", "ConfigurationError", "JavaNotFoundError",
                "RouterStartError", "ControlServerError", "AgentNotFoundError", "AgentStateError", "AgentLaunchError", "__version__"]
CHILD_TIMEOUT = 60.0  # a bound for every child process; normal runs take 0.1 to 3 s
def run_child(code: str, args: Any = None, env: Optional[Dict[str, str]] = None,
              timeout: float = CHILD_TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter; ``args`` reaches it as JSON in ``ARGS``."""
    prelude = "import json, sys\nARGS = json.loads(sys.argv[1])\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code), json.dumps(args)],
        env=env if env is not None else child_env(), capture_output=True, text=True, timeout=timeout,
        cwd=CHILD_CWD,
    )


def result_of(proc: subprocess.CompletedProcess) -> Dict[str, Any]:
    """The JSON the child printed on its ``RESULT`` line."""
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise AssertionError("the child printed no RESULT line (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                         % (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:]))


def assert_no_java_trace(text: str) -> None:
    for marker in ("\tat ", "Exception in thread", "java.lang.", "io.ironruntime.", "hs_err_pid"):
        assert marker not in text, "a Java stack trace / class name leaked (%r) into:\n%s" % (marker, text[-3000:])


# ----------------------------------------------------------------------------- import


def test_import_starts_no_jvm_and_iron_cage_is_the_same_api():
    proc = run_child("""
        import iron_runtime
        import iron_cage
        from iron_runtime import _jvm
        names = ARGS
        print("RESULT " + json.dumps({
            "jpype_modules": sorted(m for m in sys.modules if m.split(".")[0] in ("jpype", "_jpype")),
            "jvm_running": _jvm.jvm_running(),
            "runtime_all": sorted(iron_runtime.__all__),
            "cage_all": sorted(iron_cage.__all__),
            "same_objects": {n: getattr(iron_cage, n) is getattr(iron_runtime, n) for n in names},
            "version": iron_runtime.__version__,
        }))
    """, PUBLIC_NAMES)
    assert proc.returncode == 0, proc.stderr
    res = result_of(proc)
    assert res["jpype_modules"] == [], "importing iron_runtime/iron_cage imported JPype: %s" % res["jpype_modules"]
    assert res["jvm_running"] is False
    assert res["runtime_all"] == sorted(PUBLIC_NAMES)
    assert res["cage_all"] == res["runtime_all"]
    assert res["same_objects"] == {n: True for n in PUBLIC_NAMES}
    assert res["version"] == iron_runtime.__version__
    assert proc.stderr == ""


def test_public_exception_hierarchy_and_version():
    import iron_cage
    from iron_runtime import (
        ConfigurationError, IronRuntimeError, JavaNotFoundError, LlmRouter, RouterStartError, __version__,
    )

    assert issubclass(ConfigurationError, IronRuntimeError) and issubclass(ConfigurationError, ValueError)
    assert issubclass(JavaNotFoundError, IronRuntimeError) and issubclass(JavaNotFoundError, RuntimeError)
    assert issubclass(RouterStartError, IronRuntimeError) and issubclass(RouterStartError, OSError)
    from iron_runtime import ControlServerError

    assert issubclass(ControlServerError, RouterStartError)
    assert issubclass(IronRuntimeError, Exception)
    assert iron_cage.LlmRouter is LlmRouter and iron_cage.RouterStartError is RouterStartError
    assert isinstance(__version__, str) and __version__.count(".") >= 2
    try:
        from importlib.metadata import PackageNotFoundError, version
        installed = version("iron-runtime")
    except PackageNotFoundError:  # pragma: no cover - source checkout without an install
        pytest.skip("iron-runtime is not installed as a distribution")
    assert __version__ == installed


# ----------------------------------------------------------------------------- argument checks

# id, keyword arguments (Python source, evaluated in the child with SECRET bound to a real-looking
# key), classes that must all be in the exception's MRO, words the message must contain.
ARG_CASES = [
    ("port-str", "port='80'", ["TypeError"], ["port", "str"]),
    ("port-float", "port=80.0", ["TypeError"], ["port", "float"]),
    ("port-bool", "port=True", ["TypeError"], ["port"]),
    ("port-too-big", "port=70000", ["ConfigurationError", "IronRuntimeError", "ValueError"], ["port", "65535"]),
    ("port-negative", "port=-1", ["ConfigurationError", "ValueError"], ["port"]),
    ("provider-key-unknown-provider", "provider_key={'gemini': SECRET}",
     ["ConfigurationError", "IronRuntimeError", "ValueError"], ["provider_key", "gemini", "openai", "anthropic"]),
    ("provider-key-dict-swapped", "provider_key={SECRET: 'openai'}",
     ["ConfigurationError", "ValueError"], ["provider_key"]),
    ("provider-key-value-not-str", "provider_key={'openai': 12345}", ["TypeError"], ["provider_key", "int"]),
    ("provider-key-list", "provider_key=[SECRET]", ["TypeError"], ["provider_key", "list"]),
    ("api-key-bytes", "api_key=SECRET.encode()", ["TypeError"], ["api_key", "bytes"]),
    ("server-url-int", "server_url=443", ["TypeError"], ["server_url"]),
    ("host-none", "host=None", ["TypeError"], ["host"]),
    ("openai-base-url-bytes", "openai_base_url=b'http://x'", ["TypeError"], ["openai_base_url"]),
    ("anthropic-base-url-int", "anthropic_base_url=1", ["TypeError"], ["anthropic_base_url"]),
    ("start-str", "start='yes'", ["TypeError"], ["start"]),
    ("read-timeout-zero", "read_timeout=0", ["ConfigurationError", "ValueError"], ["read_timeout"]),
    ("connect-timeout-nan", "connect_timeout=float('nan')", ["ConfigurationError", "ValueError"],
     ["connect_timeout"]),
    ("connect-timeout-str", "connect_timeout='5'", ["TypeError"], ["connect_timeout"]),
    ("max-request-bytes-zero", "max_request_bytes=0", ["ConfigurationError", "ValueError"], ["max_request_bytes"]),
    ("cache-ttl-negative", "cache_ttl_seconds=-1", ["ConfigurationError", "ValueError"], ["cache_ttl_seconds"]),
]


@pytest.fixture(scope="module")
def arg_check_results():
    """Every ARG_CASES construction, in ONE fresh interpreter, which must never load JPype."""
    proc = run_child("""
        from iron_runtime import LlmRouter
        SECRET = ARGS["secret"]
        out = {}
        for case_id, source in ARGS["cases"]:
            kwargs = {"provider_key": SECRET}  # a valid real key next to the bad argument
            kwargs.update(eval("dict(%s)" % source, {"SECRET": SECRET}))
            try:
                LlmRouter(**kwargs)
                out[case_id] = {"raised": None}
            except BaseException as exc:
                out[case_id] = {"raised": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
                                "str": str(exc), "repr": repr(exc)}
        out["__jpype_imported__"] = any(m.split(".")[0] in ("jpype", "_jpype") for m in sys.modules)
        print("RESULT " + json.dumps(out))
    """, {"secret": SECRET, "cases": [(c[0], c[1]) for c in ARG_CASES]})
    assert proc.returncode == 0, proc.stderr
    return result_of(proc)


def test_argument_checks_need_no_java(arg_check_results):
    assert arg_check_results["__jpype_imported__"] is False, "a bad argument was only caught after loading JPype"


@pytest.mark.parametrize("case_id, source, classes, words", ARG_CASES, ids=[c[0] for c in ARG_CASES])
def test_argument_check(arg_check_results, case_id, source, classes, words):
    res = arg_check_results[case_id]
    assert res["raised"] is not None, "LlmRouter(%s) did not raise" % source
    for cls in classes:
        assert cls in res["mro"], "LlmRouter(%s) raised %s (MRO %s), expected a %s" % (
            source, res["raised"], res["mro"], cls)
    for word in words:
        assert word in res["str"], "message for LlmRouter(%s) does not mention %r: %r" % (source, word, res["str"])
    assert_no_secret(res["str"], SECRET)
    assert_no_secret(res["repr"], SECRET)


# ----------------------------------------------------------------------------- JAVA_HOME


@pytest.mark.parametrize("layout", ["empty-dir", "missing-dir"])
def test_java_home_without_a_jvm_raises_java_not_found(tmp_path, layout):
    java_home = tmp_path / "jdk"
    if layout == "empty-dir":
        java_home.mkdir()
    proc = run_child("""
        from iron_runtime import IronRuntimeError, JavaNotFoundError, LlmRouter
        try:
            LlmRouter(provider_key=ARGS)
            caught = None
        except JavaNotFoundError as exc:
            caught = {"mro": [c.__name__ for c in type(exc).__mro__], "str": str(exc)}
        import jpype
        print("RESULT " + json.dumps({"caught": caught, "jvm_started": bool(jpype.isJVMStarted())}), flush=True)
        LlmRouter(provider_key=ARGS)  # uncaught this time: what a user's script shows
    """, SECRET, env=child_env(JAVA_HOME=str(java_home)))
    res = result_of(proc)
    caught = res["caught"]
    assert caught is not None, "no JavaNotFoundError"
    assert {"JavaNotFoundError", "IronRuntimeError", "RuntimeError"} <= set(caught["mro"])
    message = caught["str"]
    assert "JAVA_HOME" in message and str(java_home) in message, message
    assert "Java 17" in message, "the message should say which Java to install: %r" % message
    assert res["jvm_started"] is False
    # The uncaught error: a short Python traceback ending in the same message, nothing from Java.
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last == "iron_runtime.errors.JavaNotFoundError: " + message, proc.stderr
    assert_no_java_trace(proc.stderr)
    assert_no_secret(proc.stdout + proc.stderr, SECRET)


# ----------------------------------------------------------------------------- IRON_RUNTIME_JVM_OPTS


@pytest.mark.parametrize("bad_opt", ["-XX:+NoSuchFlagAtAll", "-Xss1"])
def test_invalid_jvm_opts_raise_iron_runtime_error(bad_opt):
    proc = run_child("""
        from iron_runtime import IronRuntimeError, LlmRouter
        try:
            LlmRouter(provider_key=ARGS)
            caught = None
        except IronRuntimeError as exc:
            caught = {"mro": [c.__name__ for c in type(exc).__mro__], "str": str(exc)}
        print("RESULT " + json.dumps({"caught": caught}))
    """, SECRET, env=child_env(IRON_RUNTIME_JVM_OPTS="-Dharmless=1 " + bad_opt))
    assert proc.returncode == 0, "the process did not survive a bad JVM option:\n" + proc.stderr[-3000:]
    caught = result_of(proc)["caught"]
    assert caught is not None, "a bad IRON_RUNTIME_JVM_OPTS did not raise IronRuntimeError"
    assert bad_opt in caught["str"], "the message does not show the option the JVM refused: %r" % caught["str"]
    assert "JVM" in caught["str"]
    assert_no_java_trace(proc.stderr)
    assert_no_secret(proc.stdout + proc.stderr + caught["str"], SECRET)


def construct_in_child(**env: str) -> Any:
    """Constructs a router in a fresh interpreter; the IronRuntimeError text it raised, if any, is in result_of."""
    return run_child("""
        from iron_runtime import IronRuntimeError, LlmRouter
        try:
            LlmRouter(provider_key=ARGS)
            caught = None
        except IronRuntimeError as exc:
            caught = str(exc)
        print("RESULT " + json.dumps({"caught": caught}))
    """, SECRET, env=child_env(**env))


def test_jvm_option_that_makes_hotspot_exit_raises_instead_of_killing_python():
    proc = construct_in_child(IRON_RUNTIME_JVM_OPTS="-Xmx1k")
    assert proc.returncode == 0, "process died (rc=%s): %s" % (proc.returncode, proc.stderr.strip())
    assert "-Xmx1k" in (result_of(proc)["caught"] or "")


def _java_home() -> Path:
    """The home of the Java the package would use (from its JVM library path)."""
    from iron_runtime import _jvm

    libjvm = Path(_jvm.find_jvm()).resolve()
    for parent in libjvm.parents:
        if (parent / "bin" / "java").exists() or (parent / "bin" / "java.exe").exists():
            return parent
    pytest.skip("cannot find the Java home of %s" % libjvm)


def test_valid_jvm_opts_and_java_home_reach_the_jvm_and_router_serves(oai_up):
    java_home = _java_home()
    opts = '-Dfoo=bar -Diron.test.words="two words" -Djava.awt.headless=false'
    proc = run_child("""
        import urllib.request
        import jpype
        from iron_runtime import LlmRouter
        r = LlmRouter(provider_key=ARGS["key"], openai_base_url=ARGS["origin"])
        System = jpype.JClass("java.lang.System")
        prop = lambda name: None if System.getProperty(name) is None else str(System.getProperty(name))
        req = urllib.request.Request(
            r.base_url + "/chat/completions",
            data=json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "opts"}]}).encode(),
            headers={"Authorization": "Bearer " + r.api_key, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=20) as resp:
            status, body = resp.status, json.loads(resp.read())
        r.stop()
        print("RESULT " + json.dumps({
            "status": status, "content": body["choices"][0]["message"]["content"],
            "foo": prop("foo"), "words": prop("iron.test.words"), "headless": prop("java.awt.headless"),
            "java_home": prop("java.home"),
        }))
    """, {"key": SECRET, "origin": oai_up.origin},
        env=child_env(IRON_RUNTIME_JVM_OPTS=opts, JAVA_HOME=str(java_home)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = result_of(proc)
    assert res["status"] == 200 and res["content"] == reply_text("opts")
    assert oai_up.last.headers.get("authorization") == "Bearer " + SECRET
    assert res["foo"] == "bar"
    assert res["words"] == "two words", "IRON_RUNTIME_JVM_OPTS is not split like a shell would"
    assert res["headless"] == "false", "user JVM options must come after (override) the package defaults"
    assert os.path.realpath(res["java_home"]) == os.path.realpath(str(java_home)), "JAVA_HOME was not honoured"
    assert_no_secret(proc.stdout + proc.stderr, SECRET)


# ----------------------------------------------------------------------------- IRON_RUNTIME_JAR


@pytest.mark.parametrize("kind", ["missing-file", "directory"])
def test_iron_runtime_jar_not_a_file(tmp_path, kind):
    target = tmp_path / "nope" / "iron-runtime.jar" if kind == "missing-file" else tmp_path
    proc = run_child("""
        from iron_runtime import IronRuntimeError, LlmRouter
        try:
            LlmRouter(provider_key=ARGS)
            caught = None
        except IronRuntimeError as exc:
            caught = {"mro": [c.__name__ for c in type(exc).__mro__], "str": str(exc)}
        print("RESULT " + json.dumps({
            "caught": caught, "jpype": any(m.split(".")[0] in ("jpype", "_jpype") for m in sys.modules)}))
    """, SECRET, env=child_env(IRON_RUNTIME_JAR=str(target)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = result_of(proc)
    assert res["caught"] is not None, "IRON_RUNTIME_JAR=%s did not raise IronRuntimeError" % target
    assert "IRON_RUNTIME_JAR" in res["caught"]["str"] and str(target) in res["caught"]["str"], res["caught"]
    assert res["jpype"] is False, "the jar should be checked before loading JPype / starting a JVM"
    assert_no_secret(res["caught"]["str"] + proc.stderr, SECRET)


def test_iron_runtime_jar_that_is_not_the_engine_raises_iron_runtime_error(tmp_path):
    bogus = tmp_path / "not-the-engine.jar"
    bogus.write_bytes(b"")
    proc = construct_in_child(IRON_RUNTIME_JAR=str(bogus))
    assert proc.returncode == 0, proc.stderr.strip().splitlines()[-1:]
    assert "IRON_RUNTIME_JAR" in (result_of(proc)["caught"] or "")


# ----------------------------------------------------------------------------- interpreter exit

_EXIT_SCRIPT = """
    import http.client
    from iron_runtime import LlmRouter
    r = LlmRouter(provider_key=ARGS["key"], openai_base_url=ARGS["origin"])
    if ARGS["stream"]:
        conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=30)
        conn.request("POST", "/v1/chat/completions",
                     json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "x"}]}),
                     {"Authorization": "Bearer " + r.api_key, "Content-Type": "application/json",
                      "x-fake-scenario": "long:2000,delay:0.02"})
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        first = resp.readline()
        assert first.startswith(b"data:"), first
    print("READY " + str(r.port), flush=True)
    # The script ends here, the router still running (and a stream open): nothing may hold up the exit.
"""


@pytest.mark.parametrize("stream", [False, True], ids=["router-running", "stream-in-flight"])
def test_interpreter_exit_is_not_held_up(oai_up, stream):
    proc = subprocess.Popen(
        [sys.executable, "-c", "import json, sys\nARGS = json.loads(sys.argv[1])\n" + textwrap.dedent(_EXIT_SCRIPT),
         json.dumps({"key": SECRET, "origin": oai_up.origin, "stream": stream})],
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=CHILD_CWD,
    )
    watchdog = threading.Timer(CHILD_TIMEOUT, proc.kill)  # bounds the blocking readline below
    watchdog.start()
    try:
        # The child prints READY and ends its script right away; the clock runs from when READY was read.
        line = proc.stdout.readline()
        t_ready = time.monotonic()
        assert line.startswith("READY "), "child failed before READY: %r\n%s" % (line, proc.stderr.read()[-3000:])
        port = int(line.split()[1])
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the interpreter did not exit within 30 s of the end of its script")
        elapsed = time.monotonic() - t_ready
        stderr = proc.stderr.read()
        assert rc == 0, "exit code %s\n%s" % (rc, stderr[-3000:])
        assert elapsed < 5.0, "the interpreter took %.2fs to exit after its script ended" % elapsed
        assert_no_java_trace(stderr)
        assert_no_secret(stderr, SECRET)
        assert can_bind(port)
        if stream:
            # The upstream stream did not outlive the process: its connection was closed.
            assert oai_up.wait_until(lambda: all(r.ended_at is not None for r in oai_up.requests), 10)
            assert oai_up.last.outcome == "client_gone", oai_up.last
            assert oai_up.last.events_sent < 2000
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


_SIGNAL_SCRIPT = """
    import time
    from iron_runtime import LlmRouter
    r = LlmRouter(provider_key=ARGS["key"], openai_base_url=ARGS["origin"])
    try:
        print("READY", flush=True)  # inside the try: the signal may arrive right after the flush
        time.sleep(60)
        print("SLEPT", flush=True)
    except KeyboardInterrupt:
        print("KEYBOARDINTERRUPT " + str(r.is_running), flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signals_are_left_to_python(oai_up, signum):
    """With a router running, Ctrl-C is a KeyboardInterrupt and SIGTERM kills the process the way it
    kills any Python script: the JVM installs no handlers of its own."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import json, sys\nARGS = json.loads(sys.argv[1])\n" + textwrap.dedent(_SIGNAL_SCRIPT),
         json.dumps({"key": SECRET, "origin": oai_up.origin})],
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=CHILD_CWD,
    )
    watchdog = threading.Timer(CHILD_TIMEOUT, proc.kill)  # bounds the blocking reads below
    watchdog.start()
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", "child failed before READY: %r\n%s" % (line, proc.stderr.read()[-3000:])
        proc.send_signal(signum)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("the child did not react to signal %d within 15 s" % signum)
        out, err = proc.stdout.read(), proc.stderr.read()
        if signum == signal.SIGINT:
            assert out.strip() == "KEYBOARDINTERRUPT True", (rc, out, err)
            assert rc == 0, (rc, err[-3000:])
        else:
            # Python's default for SIGTERM: the process dies of the signal (a JVM handler would exit 143).
            assert rc == -signal.SIGTERM, (rc, out, err[-3000:])
        assert_no_java_trace(err)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


# ----------------------------------------------------------------------------- port in use


@pytest.mark.parametrize("holder_host", ["127.0.0.1", "0.0.0.0"])
def test_port_held_by_a_listening_socket_raises_router_start_error(make_router, holder_host):
    from iron_runtime import IronRuntimeError, LlmRouter, RouterStartError

    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind((holder_host, 0))
        holder.listen(8)
        port = holder.getsockname()[1]
        with pytest.raises(RouterStartError) as ei:
            LlmRouter(provider_key=SECRET, port=port)
        err = ei.value
        assert isinstance(err, OSError) and isinstance(err, IronRuntimeError)
        assert str(port) in str(err), "the error does not name the port: %r" % str(err)
        assert_no_secret(str(err) + repr(err), SECRET)
        assert_no_java_trace(str(err))
        # The holder is untouched: it still accepts connections on that port.
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        holder.settimeout(5)
        conn, _ = holder.accept()
        # The client closes first, so no TIME_WAIT is left on the holder's side of the port.
        client.close()
        conn.settimeout(5)
        assert conn.recv(1) == b""
        conn.close()
    finally:
        holder.close()
    # Once the port is free, a router takes it (the failed one left nothing behind).
    r = make_router(provider_key=SECRET, port=port)
    assert r.is_running and r.port == port
