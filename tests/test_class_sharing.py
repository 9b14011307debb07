"""The engine's classes are shared between processes (CDS). The first process with a new jar starts a
detached training JVM that writes the archive; it never dumps classes itself (a dump inside JPype's
JVM shutdown could crash a process whose work was done). Later processes map the archive. Each case
runs in fresh interpreters with a private cache directory."""
import json
import os
import subprocess
import sys
import time

SCRIPT = r"""
import json
from iron_runtime import LlmRouter
import jpype
r = LlmRouter(provider_key="sk-test-cds")
args = [str(a) for a in jpype.JClass("java.lang.management.ManagementFactory").getRuntimeMXBean().getInputArguments()]
print(json.dumps(args))
r.stop()
"""


def run(env, **extra):
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=dict(env, **extra), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "[cds]" not in out.stdout + out.stderr, "CDS chatter must be silenced"
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_env(tmp_path, **extra):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), **extra)
    env.pop("IRON_RUNTIME_JVM_OPTS", None)
    env.pop("IRON_RUNTIME_CDS", None)
    env.update(extra)
    return env


def cache_files(tmp_path):
    return sorted(p.name for p in (tmp_path / "iron-runtime").iterdir())


def wait_for_archive(tmp_path, timeout=90):
    """The training run's archive, once it is published (the run and its files gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = cache_files(tmp_path)
        if len(names) == 1 and names[0].endswith(".jsa") and not names[0].endswith(".tmp.jsa"):
            return tmp_path / "iron-runtime" / names[0]
        time.sleep(0.2)
    log = [p.read_text() for p in (tmp_path / "iron-runtime").glob("*.log")]
    raise AssertionError("no archive after %ss: %r %r" % (timeout, cache_files(tmp_path), log))


def engine_classes_by_source(log_file):
    """{source: count} of the engine's classes in a -Xlog:class+load file."""
    sources = {}
    for line in log_file.read_text().splitlines():
        if " io.ironruntime." in line and " source: " in line:
            source = line.split(" source: ", 1)[1]
            sources[source] = sources.get(source, 0) + 1
    return sources


def test_first_process_trains_the_archive_apart_and_the_next_maps_it(tmp_path):
    env = fresh_env(tmp_path)
    first = run(env)
    assert not any("Archive" in a for a in first), "the user's own process never dumps classes: %r" % first
    archive = wait_for_archive(tmp_path)
    assert archive.stat().st_size > 1_000_000

    # every engine class the next process loads comes from the archive, none from the jar
    log = tmp_path / "class-load.log"
    second = run(env, IRON_RUNTIME_JVM_OPTS="-Xlog:class+load=info:file=%s" % log)
    assert "-XX:SharedArchiveFile=%s" % archive in second
    assert not any(a.startswith("-XX:ArchiveClassesAtExit=") for a in second)
    sources = engine_classes_by_source(log)
    assert sources.get("shared objects file (top)", 0) > 500, sources
    assert set(sources) == {"shared objects file (top)"}, sources
    assert cache_files(tmp_path) == [archive.name], "the training run leaves only the archive"


def test_concurrent_first_processes_train_once(tmp_path):
    env = fresh_env(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    names = cache_files(tmp_path)
    # one marker (or, already done, the archive): never a second training run's partial file
    assert sum(n.endswith(".training") for n in names) <= 1, names
    archive = wait_for_archive(tmp_path)
    assert "-XX:SharedArchiveFile=%s" % archive in run(env)


def test_switched_off_and_broken_archives(tmp_path):
    env = fresh_env(tmp_path, IRON_RUNTIME_CDS="0")
    args = run(env)
    assert not any("Archive" in a for a in args)
    assert not (tmp_path / "iron-runtime").exists()

    # a torn or foreign archive is ignored by the JVM: the router still starts
    env.pop("IRON_RUNTIME_CDS")
    run(env)  # starts the training run
    archive = wait_for_archive(tmp_path)
    archive.chmod(0o644)
    archive.write_bytes(b"not an archive")
    args = run(env)
    assert "-XX:SharedArchiveFile=%s" % archive in args


def test_a_failed_training_run_leaves_a_log_and_is_not_retried_at_once(tmp_path, monkeypatch):
    """A training run that writes no archive (here its output path is taken by a directory) publishes
    nothing and says so in its log; the processes that follow neither map anything nor start another
    run until the marker is older than the grace period."""
    from iron_runtime import _jvm

    env = fresh_env(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    archive = _jvm._archive_path(_jvm.find_jar(), _jvm.find_jvm())
    partial, marker, log = (archive.with_suffix(s) for s in (".tmp.jsa", ".training", ".log"))
    (partial / "in-the-way").mkdir(parents=True)  # a non-empty directory: HotSpot cannot replace it

    assert not any("Archive" in a for a in run(env))
    deadline = time.monotonic() + 90
    while not (log.exists() and "training run failed" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "no archive was written" in log.read_text()
    assert marker.exists() and not archive.exists()

    log.unlink()
    assert not any("Archive" in a for a in run(env))
    time.sleep(1)
    assert not log.exists(), "a second training run started within the grace period"

    old = time.time() - _jvm._TRAINING_GRACE - 60
    os.utime(marker, (old, old))
    (partial / "in-the-way").rmdir()
    partial.rmdir()
    run(env)
    assert wait_for_archive(tmp_path) == archive
