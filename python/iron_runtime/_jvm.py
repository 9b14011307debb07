"""Find the engine jar and start the embedded JVM: once per process, lazily, thread-safely.

The JVM is never shut down by this package: a JVM cannot be restarted in the same
process, and every thread the engine creates is a daemon, so interpreter exit is not
held up. ``fork()`` after the JVM started is unsupported (use the "spawn" start method
for multiprocessing).
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any, List, Optional, Tuple

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
_archive_to_adopt: Optional[Tuple[Path, Path]] = None
# atexit runs hooks last-registered-first: registered now, before this package imports JPype,
# ours runs after JPype's own exit hook.
_JPYPE_IMPORTED_FIRST = "jpype" in sys.modules


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

    The first process writes an archive of the classes it loaded when its JVM exits (under
    a temporary name, renamed once complete, so concurrent first runs cannot leave a torn
    file); later processes map it. The archive is keyed by the jar and the JVM, so an
    upgrade of either starts a new one. ``IRON_RUNTIME_CDS=0`` turns this off; user flags
    that manage CDS themselves win. A stale or broken archive is ignored by the JVM.
    """
    if os.environ.get("IRON_RUNTIME_CDS", "1") == "0":
        return []
    if any(o.startswith(("-XX:SharedArchiveFile", "-XX:ArchiveClassesAtExit", "-Xshare:off"))
           for o in user_opts):
        return []
    try:
        identity = "|".join(
            f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in (jar, Path(jvm_path))
        )
    except OSError:
        return []
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    cache = _cache_dir()
    archive = cache / f"engine-{key}.jsa"
    quiet = "-Xlog:cds*=off"  # CDS reports every class it skips; none of it is actionable
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}", quiet]
    if _JPYPE_IMPORTED_FIRST:
        # JPype's exit hook (which writes the archive) would run after ours.
        return []
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for stale in cache.glob("engine-*.tmp.jsa"):
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
    except OSError:
        return []
    global _archive_to_adopt
    partial = cache / f"engine-{key}.{os.getpid()}.tmp.jsa"
    _archive_to_adopt = (partial, archive)
    return [f"-XX:ArchiveClassesAtExit={partial}", quiet]


def _adopt_archive() -> None:
    """At exit, after JPype's hook shut the JVM down (which wrote the archive): publish it."""
    if _archive_to_adopt is None:
        return
    partial, archive = _archive_to_adopt
    try:
        if partial.is_file() and partial.stat().st_size > 0:
            os.replace(partial, archive)
    except OSError:
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


atexit.register(_adopt_archive)
