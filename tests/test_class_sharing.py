"""The engine's classes are shared between processes (CDS): the first process writes the archive
at exit, later ones map it. Each case runs in fresh interpreters with a private cache directory."""
import os
import subprocess
import sys

SCRIPT = r"""
import json
from iron_runtime import LlmRouter   # before jpype: its exit hook must run before ours
import jpype
r = LlmRouter(provider_key="sk-test-cds")
args = [str(a) for a in jpype.JClass("java.lang.management.ManagementFactory").getRuntimeMXBean().getInputArguments()]
print(json.dumps(args))
r.stop()
"""


def run(env):
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "[cds]" not in out.stdout + out.stderr, "CDS chatter must be silenced"
    return __import__("json").loads(out.stdout.strip().splitlines()[-1])


def test_first_process_writes_the_archive_and_the_next_maps_it(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    env.pop("IRON_RUNTIME_JVM_OPTS", None)
    env.pop("IRON_RUNTIME_CDS", None)
    first = run(env)
    assert any(a.startswith("-XX:ArchiveClassesAtExit=") for a in first)
    archives = list((tmp_path / "iron-runtime").glob("engine-*.jsa"))
    assert len(archives) == 1 and not archives[0].name.endswith(".tmp.jsa"), archives
    assert archives[0].stat().st_size > 1_000_000

    second = run(env)
    assert "-XX:SharedArchiveFile=%s" % archives[0] in second
    assert not any(a.startswith("-XX:ArchiveClassesAtExit=") for a in second)


def test_switched_off_and_broken_archives(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), IRON_RUNTIME_CDS="0")
    env.pop("IRON_RUNTIME_JVM_OPTS", None)
    args = run(env)
    assert not any("Archive" in a for a in args)
    assert not (tmp_path / "iron-runtime").exists()

    # a torn or foreign archive is ignored by the JVM: the router still starts
    env.pop("IRON_RUNTIME_CDS")
    run(env)  # writes the archive
    archive = next((tmp_path / "iron-runtime").glob("engine-*.jsa"))
    archive.chmod(0o644)
    archive.write_bytes(b"not an archive")
    args = run(env)
    assert "-XX:SharedArchiveFile=%s" % archive in args
