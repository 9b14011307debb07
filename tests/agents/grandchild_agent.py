"""Starts a grandchild (``sleep 300``) with subprocess, prints ``grandchild <pid>`` and
``agent <pid>``, then sleeps.

    grandchild_agent.py [--ignore-term]

With ``--ignore-term`` it ignores SIGTERM (and prints ``ignoring SIGTERM``), so only SIGKILL
ends it; the grandchild keeps the default action.
"""
import os
import signal
import subprocess
import sys
import time

if "--ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ignoring SIGTERM", flush=True)
child = subprocess.Popen(["sleep", "300"], restore_signals=True,
                         preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
print("grandchild %d" % child.pid, flush=True)
print("agent %d" % os.getpid(), flush=True)
while True:
    time.sleep(1)
