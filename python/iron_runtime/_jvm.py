"""Find the engine jar and start the embedded JVM: once per process, lazily, thread-safely.

The JVM is never shut down by this package: a JVM cannot be restarted in the same
process, and every thread the engine creates is a daemon, so interpreter exit is not
held up. ``fork()`` after the JVM started is unsupported (use the "spawn" start method
for multiprocessing).
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any, List, Optional

from .errors import IronRuntimeError, JavaNotFoundError

__all__ = ["find_jar", "find_jvm", "start_jvm", "bridge_class"]

_BRIDGE_PACKAGE = "io.ironruntime.bridge"
_PROBE_CLASS = _BRIDGE_PACKAGE + ".RouterBridge"
_MIN_JAVA = 17
# Headless: the engine never opens a window, and this avoids loading AWT on macOS.
# -Xshare:auto keeps class-data sharing on (the default) for a fast start.
# -Xrs (with interrupt=False below) leaves SIGINT/SIGTERM/SIGHUP to Python: otherwise
# the JVM's handlers exit the process on Ctrl-C (130) instead of raising
# KeyboardInterrupt, and SIGTERM can crash the interpreter. Python code, including the
# CLI, sees signals exactly as it would without the engine.
_DEFAULT_JVM_OPTS = ("-Djava.awt.headless=true", "-Xshare:auto", "-Xrs")
_INSTALL_JAVA = (
    "Install a Java 17+ runtime, e.g. `apt-get install openjdk-17-jre-headless` "
    "or `brew install openjdk@17`, or set JAVA_HOME"
)
_LIBJVM_NAMES = ("libjvm.so", "libjvm.dylib", "jvm.dll")

_PACKAGE_DIR = Path(__file__).resolve().parent
_PACKAGED_JAR = _PACKAGE_DIR / "_jars" / "iron-runtime.jar"
_REPO_ROOT = _PACKAGE_DIR.parent.parent  # python/iron_runtime -> repository root

_lock = threading.Lock()
_started = False
_TRAINING_CLASS = _BRIDGE_PACKAGE + ".ClassSharingTraining"
_TRAINING_GRACE = 600  # seconds a training run may take before another process tries again
_ARCHIVE_LAYOUT_FLAG = re.compile(r"-Xm[sx]|-XX:[+-]?Use\w*(GC|Compressed)|-Xshare|-Djava.awt.headless")
_CDS_QUIET = "-Xlog:cds*=off"  # CDS reports every class it skips; none of it is actionable


def _dev_jars() -> List[Path]:
    """Jars Maven built in a source checkout (``target/iron-runtime-*.jar``)."""
    target = _REPO_ROOT / "target"
    if not target.is_dir():
        return []
    return [
        p
        for p in target.glob("iron-runtime-*.jar")
        if not p.name.endswith(("-sources.jar", "-javadoc.jar", "-tests.jar"))
    ]


def find_jar() -> Path:
    """Return the engine jar to put on the classpath.

    Order: ``$IRON_RUNTIME_JAR``; the jar shipped as package data; in a source checkout,
    the newest ``target/iron-runtime-*.jar``. In a source checkout (editable install) the
    newest of the packaged copy and the Maven build wins, so a rebuilt jar is never
    shadowed by a stale copy.
    """
    override = os.environ.get("IRON_RUNTIME_JAR")
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise IronRuntimeError(f"IRON_RUNTIME_JAR points to {path}, which is not a file")
        return path.resolve()
    candidates = _dev_jars()
    if _PACKAGED_JAR.is_file():
        if not candidates:
            return _PACKAGED_JAR
        candidates.append(_PACKAGED_JAR)
    if candidates:
        return max(candidates, key=lambda p: p.stat().st_mtime)
    raise IronRuntimeError(
        "the iron-runtime engine jar was not found: reinstall the package "
        "(`pip install iron-runtime`), build it with `mvn -B -DskipTests package` "
        "in a source checkout, or set IRON_RUNTIME_JAR to its path"
    )


def _libjvm_under(java_home: Path) -> Optional[str]:
    # The usual spots first (JDK 9+, JDK 8 JRE layout, Windows), then a full walk.
    for rel in ("lib/server", "jre/lib/server", "lib/amd64/server", "jre/lib/amd64/server",
                "bin/server", "jre/bin/server", "lib/client"):
        for name in _LIBJVM_NAMES:
            if (java_home / rel / name).is_file():
                return str(java_home / rel / name)
    for root, _dirs, files in os.walk(java_home):
        for name in _LIBJVM_NAMES:
            if name in files:
                return os.path.join(root, name)
    return None


def find_jvm() -> str:
    """Return the path of the JVM library, honouring JAVA_HOME strictly."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        # JPype silently falls back to other JVMs when JAVA_HOME is wrong; a user who
        # set JAVA_HOME wants that Java or an error saying why not.
        found = _libjvm_under(Path(java_home))
        if found:
            return found
        raise JavaNotFoundError(
            f"JAVA_HOME is set to {java_home!r} but has no JVM library "
            f"({', '.join(_LIBJVM_NAMES)}): point it at a Java 17+ installation or unset it"
        )
    import jpype

    try:
        return str(jpype.getDefaultJVMPath())
    except Exception:  # JVMNotFoundException / JVMNotSupportedException
        raise JavaNotFoundError(f"no Java runtime found. {_INSTALL_JAVA}.") from None


def _user_jvm_options() -> List[str]:
    try:
        return shlex.split(os.environ.get("IRON_RUNTIME_JVM_OPTS", ""))
    except ValueError as exc:
        raise IronRuntimeError(f"IRON_RUNTIME_JVM_OPTS cannot be parsed: {exc}") from None


def _jvm_options() -> List[str]:
    # User flags come last so they override the defaults.
    return [*_DEFAULT_JVM_OPTS, *_user_jvm_options()]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "iron-runtime"


def _cds_options(jar: Path, jvm_path: str, user_opts: List[str]) -> List[str]:
    """Class-data sharing for the engine's classes: about half of a cold start.

    When the archive for this jar and JVM exists, the JVM maps it. When it does not, a short
    training run of the engine in a separate, detached JVM writes it (under a temporary name,
    renamed once complete, so a torn file is never adopted) while this process starts without
    it. The archive is never written by this process: HotSpot's dump at exit, run inside
    JPype's JVM shutdown, could crash a process whose work was done. The archive is keyed by
    the jar and the JVM, so an upgrade of either trains a new one. ``IRON_RUNTIME_CDS=0``
    turns this off; user flags that manage CDS themselves win. A stale or broken archive is
    ignored by the JVM.
    """
    if os.environ.get("IRON_RUNTIME_CDS", "1") == "0" or os.name != "posix":
        return []
    if any(o.startswith(("-XX:SharedArchiveFile", "-XX:ArchiveClassesAtExit", "-Xshare:off"))
           for o in user_opts):
        return []
    archive = _archive_path(jar, jvm_path)
    if archive is None:
        return []
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}", _CDS_QUIET]
    _train_archive(jar, jvm_path, archive, user_opts)
    return []


def _archive_path(jar: Path, jvm_path: str) -> Optional[Path]:
    """Where the archive for this jar and this JVM lives (None when either cannot be read)."""
    try:
        identity = "|".join(
            f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in (jar, Path(jvm_path))
        )
    except OSError:
        return None
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return _cache_dir() / f"engine-{key}.jsa"


def _train_archive(jar: Path, jvm_path: str, archive: Path, user_opts: List[str]) -> None:
    """Start the training JVM that writes ``archive``, unless one started in the last
    ``_TRAINING_GRACE`` seconds (concurrent first processes train once; a failed training is
    tried again later). Best effort: any failure leaves the process without class sharing."""
    launcher = _java_launcher(jvm_path)
    if launcher is None:
        return
    marker = archive.with_suffix(".training")
    partial = archive.with_suffix(".tmp.jsa")
    try:
        archive.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if time.time() - marker.stat().st_mtime < _TRAINING_GRACE:
                return
            os.utime(marker)  # a stale marker: this process trains now
        else:
            os.close(fd)
    except OSError:
        return
    import subprocess

    # Only the flags an archive must agree with (heap layout, collector) go to the training JVM:
    # others (agents, log files, recordings) belong to the user's process alone.
    layout = [o for o in user_opts if _ARCHIVE_LAYOUT_FLAG.match(o)]
    java = [str(launcher), *layout, f"-XX:ArchiveClassesAtExit={partial}", _CDS_QUIET,
            "-cp", str(jar), _TRAINING_CLASS]
    # The shell backgrounds the run and exits at once, so the training JVM belongs to no one
    # (no zombie here, and it finishes even if this process ends first). The rename publishes
    # the archive only when the run succeeded; a failed run leaves its output in the log.
    script = ('("$@" && [ -f "$PARTIAL" ] && [ -s "$PARTIAL" ] && mv -f "$PARTIAL" "$ARCHIVE" && rm -f "$MARKER" "$LOG"'
              ' || echo "iron-runtime: the class-sharing training run failed; no archive was written"'
              ') >"$LOG" 2>&1 </dev/null &')
    env = dict(os.environ, PARTIAL=str(partial), ARCHIVE=str(archive), MARKER=str(marker),
               LOG=str(archive.with_suffix(".log")))
    try:
        subprocess.run(["/bin/sh", "-c", script, "sh", *java], env=env, start_new_session=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        pass


def _java_launcher(jvm_path: str) -> Optional[Path]:
    for parent in Path(jvm_path).resolve().parents:
        for name in ("java", "java.exe"):
            if (parent / "bin" / name).is_file():
                return parent / "bin" / name
    return None


def _check_user_options(jvm_path: str) -> None:
    """Try IRON_RUNTIME_JVM_OPTS in a throwaway ``java -version`` first.

    Some bad options (a heap too small, say) make HotSpot call exit() while the JVM is being
    created, which would end this Python process without an exception. The check costs a
    short child process, and only when the variable is set.
    """
    user_opts = _user_jvm_options()
    launcher = _java_launcher(jvm_path) if user_opts else None
    if launcher is None:
        return
    import subprocess

    try:
        probe = subprocess.run([str(launcher), *user_opts, "-version"], capture_output=True, text=True,
                               timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return  # cannot tell; the real start will report what it can
    if probe.returncode != 0:
        lines = [ln.strip() for ln in (probe.stderr + probe.stdout).splitlines() if ln.strip()]
        why = "; ".join(lines[-2:]) if lines else f"exit code {probe.returncode}"
        raise IronRuntimeError(f"Java rejects IRON_RUNTIME_JVM_OPTS {user_opts}: {why}")


def _check_java_version(jpype: Any, jvm_path: str) -> None:
    spec = str(jpype.JClass("java.lang.System").getProperty("java.specification.version"))
    major = int(spec.split(".")[1] if spec.startswith("1.") else spec.split(".")[0])
    if major < _MIN_JAVA:
        raise JavaNotFoundError(
            f"Java {spec} at {jvm_path} is too old: iron-runtime needs Java {_MIN_JAVA}+. "
            f"{_INSTALL_JAVA}."
        )


def _adopt_running_jvm(jpype: Any, jar: Path) -> None:
    """Another package started the JVM first: add our jar to its class loader."""
    try:
        jpype.addClassPath(str(jar))
        jpype.JClass(_PROBE_CLASS)
    except Exception:
        raise IronRuntimeError(
            "the JVM was started (by another package) before iron_runtime could add its jar, "
            f"and {_PROBE_CLASS} cannot be loaded. Import and use iron_runtime before the "
            f"other package starts the JVM, or add {jar} to that JVM's classpath "
            "(e.g. jpype.addClassPath before it starts)."
        ) from None


def _check_engine_jar(jpype: Any, jar: Path) -> None:
    try:
        jpype.JClass(_PROBE_CLASS)
    except Exception:
        source = " (from IRON_RUNTIME_JAR)" if os.environ.get("IRON_RUNTIME_JAR") else ""
        raise IronRuntimeError(
            f"{jar}{source} is not the iron-runtime engine jar: it has no {_PROBE_CLASS}. "
            "Point IRON_RUNTIME_JAR at target/iron-runtime-<version>.jar or unset it"
        ) from None


def start_jvm() -> None:
    """Start the JVM with the engine jar on its classpath, if not done already."""
    global _started
    if _started:
        return
    with _lock:
        if _started:
            return
        jar = find_jar()
        jvm_path = None
        cds: List[str] = []
        if "jpype" not in sys.modules or not sys.modules["jpype"].isJVMStarted():
            jvm_path = find_jvm()
            _check_user_options(jvm_path)
            cds = _cds_options(jar, jvm_path, _jvm_options())
        try:
            import jpype
        except ImportError:  # pragma: no cover - JPype1 is a hard dependency
            raise IronRuntimeError("JPype1 is not installed: pip install 'JPype1>=1.5'") from None
        if jpype.isJVMStarted():
            _adopt_running_jvm(jpype, jar)
        else:
            jvm_path = jvm_path or find_jvm()
            opts = [*cds, *_jvm_options()]
            try:
                jpype.startJVM(
                    *opts,
                    jvmpath=jvm_path,
                    classpath=[str(jar)],
                    convertStrings=False,
                    interrupt=False,
                )
            except OSError as exc:
                raise IronRuntimeError(f"cannot start the JVM: {exc}") from None
            except RuntimeError as exc:
                raise IronRuntimeError(
                    f"cannot start the JVM at {jvm_path} with options {opts} "
                    f"(extra ones come from IRON_RUNTIME_JVM_OPTS): {exc}"
                ) from None
            _check_java_version(jpype, jvm_path)
            _check_engine_jar(jpype, jar)
        _started = True


def bridge_class(name: str) -> Any:
    """Return the JClass ``io.ironruntime.bridge.<name>``, starting the JVM if needed."""
    start_jvm()
    import jpype

    return jpype.JClass(f"{_BRIDGE_PACKAGE}.{name}")


def jvm_running() -> bool:
    """True when the JVM is up (without importing JPype or starting anything)."""
    jpype = sys.modules.get("jpype")
    return bool(jpype is not None and jpype.isJVMStarted())

