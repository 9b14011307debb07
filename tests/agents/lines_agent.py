"""Prints ``out <i>`` on stdout for i in 1..N, then ``err <i>`` on stderr for i in 1..N, then
``ready`` on stdout; then sleeps (``--stay``) or exits 0.

    lines_agent.py N [--stay] [--graceful]

With ``--graceful`` a SIGTERM makes it print ``bye`` and exit 0.
"""
import signal
import sys
import time


def bye(signum, frame):
    print("bye", flush=True)
    sys.exit(0)


if "--graceful" in sys.argv:
    signal.signal(signal.SIGTERM, bye)

n = int(sys.argv[1])
for i in range(1, n + 1):
    print("out %d" % i, flush=True)
time.sleep(0.1)
for i in range(1, n + 1):
    sys.stderr.write("err %d\n" % i)
    sys.stderr.flush()
time.sleep(0.1)
print("ready", flush=True)
if "--stay" in sys.argv:
    while True:
        time.sleep(1)
