"""Build hook: put the engine jar into the wheel (metadata lives in pyproject.toml).

``build_py`` makes sure ``target/iron-runtime-<version>.jar`` is current, running
``mvn -B -q -DskipTests package`` when it is missing or older than the Java sources or
pom.xml, then copies it to ``iron_runtime/_jars/iron-runtime.jar`` in the build.
``IRON_RUNTIME_SKIP_MAVEN=1`` uses the existing jar as is.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

try:  # reported by setuptools as one "error: ..." line, without a traceback
    from setuptools.errors import SetupError as _SetupError
except ImportError:  # pragma: no cover - very old setuptools
    from distutils.errors import DistutilsSetupError as _SetupError

ROOT = Path(__file__).resolve().parent
POM = ROOT / "pom.xml"
JAVA_MAIN = ROOT / "java" / "src" / "main"
SOURCE_JAR = ROOT / "python" / "iron_runtime" / "_jars" / "iron-runtime.jar"
JAR_IN_PACKAGE = Path("iron_runtime") / "_jars" / "iron-runtime.jar"


class BuildError(_SetupError):
    """The engine jar cannot be built or found."""


def _project_version() -> str:
    text = POM.read_text(encoding="utf-8")
    # The project's own <version>, i.e. the first one after its artifactId (a <parent>
    # block or dependencies elsewhere have versions too).
    match = re.search(
        r"<artifactId>iron-runtime</artifactId>.*?<version>\s*([^<\s]+)\s*</version>", text, re.S
    )
    if not match:
        raise BuildError(f"cannot read the iron-runtime <version> from {POM}")
    return match.group(1)


def _newest_source_mtime() -> float:
    newest = POM.stat().st_mtime
    for path in JAVA_MAIN.rglob("*"):
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
    return newest


def _ensure_jar() -> Path:
    """Return a current engine jar, building it with Maven if needed."""
    if not POM.is_file():
        # Not a source tree (e.g. an unpacked wheel-like layout): use a shipped jar.
        if SOURCE_JAR.is_file():
            return SOURCE_JAR
        raise BuildError(f"no pom.xml in {ROOT} and no prebuilt jar at {SOURCE_JAR}")
    jar = ROOT / "target" / f"iron-runtime-{_project_version()}.jar"
    if os.environ.get("IRON_RUNTIME_SKIP_MAVEN") == "1":
        if not jar.is_file():
            raise BuildError(f"IRON_RUNTIME_SKIP_MAVEN=1 but {jar} does not exist")
        return jar
    if jar.is_file() and jar.stat().st_mtime >= _newest_source_mtime():
        return jar
    mvn = shutil.which("mvn")
    if mvn is None:
        if jar.is_file():
            print(f"warning: mvn not found; using {jar}, which is older than the Java sources")
            return jar
        raise BuildError(
            "building iron-runtime from source needs Maven and a JDK 17+ to build the engine "
            "jar (e.g. `apt-get install maven openjdk-17-jdk-headless` or "
            "`brew install maven openjdk@17`); or install a prebuilt wheel instead"
        )
    print(f"building the engine jar: {mvn} -B -q -DskipTests package")
    result = subprocess.run([mvn, "-B", "-q", "-DskipTests", "package"], cwd=ROOT)
    if result.returncode != 0:
        raise BuildError(f"Maven failed (exit {result.returncode}) building {jar.name}")
    if not jar.is_file():
        raise BuildError(f"Maven succeeded but {jar} was not produced")
    return jar


class BuildPyWithJar(build_py):
    """build_py that also places the engine jar in the package."""

    def run(self) -> None:
        super().run()
        jar = _ensure_jar()
        target = Path(self.build_lib) / JAR_IN_PACKAGE
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(jar, target)
        if getattr(self, "editable_mode", False) and jar != SOURCE_JAR:
            # Editable installs import from python/: keep a copy there too (gitignored).
            SOURCE_JAR.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(jar, SOURCE_JAR)

    def get_outputs(self, include_bytecode: bool = True) -> "list[str]":
        outputs = list(super().get_outputs(include_bytecode))
        jar = str(Path(self.build_lib) / JAR_IN_PACKAGE)
        if jar not in outputs:
            outputs.append(jar)
        return outputs


setup(cmdclass={"build_py": BuildPyWithJar})
