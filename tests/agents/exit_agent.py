"""Appends a line to a run counter file, prints some lines to stdout and stderr, and exits with
the given code.

    exit_agent.py CODE COUNTER_FILE [SLEEP]

Prints ``run <n> stdout`` and, on stderr, ``run <n> crashing with <CODE>`` plus
``boom-marker-<n>`` (for the tail of stderr in ``last_error``); sleeps SLEEP seconds (default 0)
before exiting.
"""
import sys
import time

code, counter = int(sys.argv[1]), sys.argv[2]
with open(counter, "a") as f:
    f.write("run\n")
with open(counter) as f:
    n = len(f.read().splitlines())
print("run %d stdout" % n, flush=True)
sys.stderr.write("run %d crashing with %d\nboom-marker-%d\n" % (n, code, n))
sys.stderr.flush()
if len(sys.argv) > 3:
    time.sleep(float(sys.argv[3]))
sys.exit(code)
