"""Environment for the child processes the package and CLI tests start."""
import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, Optional

import iron_runtime

# Children run in an empty directory of their own: a JVM crash file (hs_err_pid*.log) must not land in the
# checkout, and nothing in a shared directory may shadow a module (sys.path[0] is the cwd for -c and -m).
CHILD_CWD = tempfile.mkdtemp(prefix="iron-runtime-test-")
atexit.register(shutil.rmtree, CHILD_CWD, True)

# The directory the tests import iron_runtime from (site-packages, or python/ in a source checkout).
_PKG_PARENT = str(Path(iron_runtime.__file__).resolve().parent.parent)

# Variables that would change what a child process does; each test sets what it needs.
_CHILD_ENV_DROP = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "IC_TOKEN", "IC_SERVER", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
    "IRON_RUNTIME_JAR", "IRON_RUNTIME_JVM_OPTS", "IRON_RUNTIME_TOKEN",
    "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",  # the JVM would print "Picked up ..."
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
)


def child_env(**extra: Optional[str]) -> Dict[str, str]:
    """This process's environment without the variables above; ``extra`` sets (or, with None, drops) more."""
    env = {k: v for k, v in os.environ.items() if k not in _CHILD_ENV_DROP}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PKG_PARENT, env.get("PYTHONPATH")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env
