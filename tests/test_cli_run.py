"""``iron-runtime run agent.py``, run as a real process in both front ends (``python -m iron_runtime``,
the console script, ``java -jar``) against the fake upstream: the agent's exit code becomes the
command's, its output reaches the command's stdout/stderr in order, the summary tells spend and
requests, budgets answer 402, restarts happen, SIGINT stops the agent, bad input is one line and
exit status 2, and on a terminal a status line is drawn and redrawn in place.
"""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

from children import CHILD_CWD, child_env
from test_cli import Child, REAL_KEY, assert_no_secret, assert_one_error_line, java_cli, python_cli, run_to_end

RUN_TIMEOUT = 90.0  # JVM start, router start, agent start and the SDK import, on a shared 2-core box
FRONT_ENDS = ["python", "java"]

AGENT = '''
import sys, openai
print("args", sys.argv[1:], flush=True)
client = openai.OpenAI(max_retries=0, timeout=20)
for i in range(2):
    try:
        r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi %d" % i}])
        print("answer", r.choices[0].message.content, flush=True)
    except openai.APIStatusError as e:
        print("status", e.status_code, flush=True)
for i in range(50):
    print("line", i)
print("to stderr", file=sys.stderr)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0)
'''

SLEEPER = '''
import os, sys, time
print("pid", os.getpid(), flush=True)
for i in range(600):
    print("tick", i, flush=True)
    time.sleep(0.1)
'''


def command(front_end: str) -> List[str]:
    return java_cli() if front_end == "java" else python_cli("python -m")


def script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def env_with_key() -> Dict[str, str]:
    return child_env(OPENAI_API_KEY=REAL_KEY)


def run(front_end: str, args: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess:
    return run_to_end(command(front_end) + ["run"] + args, env, timeout=RUN_TIMEOUT)


def summary_value(stderr: str, name: str) -> str:
    m = re.search(r"^  %s +(.*)$" % re.escape(name), stderr, re.M)
    assert m, "no %r in the summary\n%s" % (name, stderr)
    return m.group(1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes (its parent, the CLI, has exited).
    try:
        return Path("/proc/%d/stat" % pid).read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_run_passes_output_exit_code_and_summary(oai_up, tmp_path, front_end):
    agent = script(tmp_path, "agent.py", AGENT)
    proc = run(front_end, [agent, "--openai-base-url", oai_up.origin, "--budget", "5", "--", "3", "--verbose"],
               env_with_key())
    assert proc.returncode == 3, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "args ['3', '--verbose']", proc.stdout
    assert [l.split(" ")[0] for l in out[1:3]] == ["answer", "answer"], proc.stdout
    assert out[3:] == ["line %d" % i for i in range(50)], "stdout lost, duplicated or reordered:\n" + proc.stdout
    assert "to stderr\n" in proc.stderr
    assert re.search(r"^iron-runtime: agent\.py failed, exit code 3$", proc.stderr, re.M), proc.stderr
    assert summary_value(proc.stderr, "requests") == "2"
    spend = summary_value(proc.stderr, "spend")
    assert re.fullmatch(r"\$0\.0*[1-9]\d* of \$5\.00", spend), spend
    assert re.fullmatch(r"[1-9]\d* in, [1-9]\d* out", summary_value(proc.stderr, "tokens"))
    assert summary_value(proc.stderr, "restarts") == "0"
    assert len(oai_up.requests) == 2
    assert all(r.headers.get("authorization") == "Bearer " + REAL_KEY for r in oai_up.requests)
    assert_no_secret(proc.stdout + proc.stderr, REAL_KEY)


def test_console_script_runs_an_agent(oai_up, tmp_path):
    agent = script(tmp_path, "agent.py", AGENT)
    proc = run_to_end(python_cli("console script") + ["run", "--openai-base-url", oai_up.origin, agent, "7"],
                      env_with_key(), timeout=RUN_TIMEOUT)
    assert proc.returncode == 7, proc.stderr
    assert proc.stdout.splitlines()[0] == "args ['7']"
    assert summary_value(proc.stderr, "requests") == "2"


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_run_spent_budget_answers_402(oai_up, tmp_path, front_end):
    agent = script(tmp_path, "agent.py", AGENT)
    proc = run(front_end, [agent, "--budget", "0", "--openai-base-url", oai_up.origin], env_with_key())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1:3] == ["status 402", "status 402"], proc.stdout
    assert summary_value(proc.stderr, "requests") == "0 (2 refused: budget spent)"
    assert summary_value(proc.stderr, "spend") == "$0.00 of $0.00"
    assert oai_up.requests == []


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_run_restarts_on_failure_then_fails(tmp_path, front_end):
    crash = script(tmp_path, "crash.py", "import sys\nprint('boom', file=sys.stderr)\nsys.exit(5)\n")
    proc = run(front_end, [crash, "--restart", "on-failure", "--max-restarts", "2"], env_with_key())
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.count("boom\n") >= 3, proc.stderr  # the summary's last error may quote it too
    assert re.search(r"^iron-runtime: crash\.py failed, exit code 5$", proc.stderr, re.M), proc.stderr
    assert summary_value(proc.stderr, "restarts") == "2"
    assert "exited with code 5" in summary_value(proc.stderr, "last error")


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_sigint_stops_the_agent_and_exits_130(tmp_path, front_end):
    sleeper = script(tmp_path, "sleeper.py", SLEEPER)
    child = Child(command(front_end) + ["run", sleeper, "--stop-timeout", "5"], env_with_key())
    try:
        pid = int(child.wait_for_line(r"^pid (\d+)$", timeout=RUN_TIMEOUT).group(1))
        child.wait_for_line(r"^tick 2$")  # output keeps coming while it runs
        assert pid_alive(pid)
        rc, _ = child.stop(signal.SIGINT, timeout=30)
        assert rc == 130, child.output()
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pid_alive(pid), "the agent outlived the command"
        text = "\n".join(child.stderr_lines)
        assert re.search(r"^iron-runtime: sleeper\.py stopped, exit code \d+ \(stopped on SIGINT\)$", text, re.M), text
        ticks = [l for l in child.stdout_lines if l.startswith("tick ")]
        assert ticks == ["tick %d" % i for i in range(len(ticks))]
    finally:
        child.kill()


@pytest.mark.parametrize("front_end", FRONT_ENDS)
@pytest.mark.parametrize("case", ["missing-script", "bad-flag", "no-provider-key", "no-script"])
def test_run_bad_input_is_one_line_and_exit_2(tmp_path, front_end, case):
    agent = script(tmp_path, "agent.py", AGENT)
    args, env, words = {
        "missing-script": ([str(tmp_path / "nothere.py")], env_with_key(), ["not found", "nothere.py"]),
        "bad-flag": ([agent, "--restarts", "3"], env_with_key(), ["--restarts"]),
        "no-provider-key": ([agent], child_env(), ["OPENAI_API_KEY"]),
        "no-script": (["--budget", "1"], env_with_key(), ["run"]),
    }[case]
    proc = run(front_end, args, env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = assert_one_error_line(proc)
    for word in words:
        assert word in line, line
    assert proc.stdout == ""
    assert_no_secret(proc.stderr, REAL_KEY)


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_status_line_is_drawn_and_redrawn_on_a_terminal(tmp_path, front_end):
    agent = script(tmp_path, "slow.py", "import time\nfor i in range(6):\n    print('step', i, flush=True)\n"
                                        "    time.sleep(0.5)\n")
    master, slave = pty.openpty()
    env = env_with_key()
    env["COLUMNS"] = "200"
    proc = subprocess.Popen(command(front_end) + ["run", agent, "--budget", "1"], env=env, stdin=slave,
                            stdout=slave, stderr=slave, cwd=CHILD_CWD, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not data:
                    break
                seen += data
            elif proc.poll() is not None:
                break
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert rc == 0, text
    draws = re.findall(r"\r\x1b\[Kiron-runtime \| slow\.py (\w+) \| \$0\.00 of \$1\.00 \| 0 requests \| 0 tokens \| 0 PII",
                       text)
    assert len(draws) >= 3, "status line drawn %d times:\n%r" % (len(draws), text)
    assert "running" in draws
    for i in range(6):
        assert "step %d" % i in text
    # Output is never glued to a status line: each agent line starts after an erase or a line break.
    for m in re.finditer(r"step \d", text):
        assert m.start() == 0 or text[:m.start()].endswith(("\r\x1b[K", "\n")), repr(text[max(0, m.start() - 80):m.end()])
    assert "iron-runtime: slow.py completed, exit code 0" in text
