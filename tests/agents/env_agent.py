"""Writes what it was started with as JSON to the file named by its first argument, then exits 0:
``{"env": {...}, "cwd": ..., "argv": [...], "executable": ..., "pid": ..., "pgid": ...}``.

    env_agent.py OUT.json [more args...]
"""
import json
import os
import sys

seen = {"env": dict(os.environ), "cwd": os.getcwd(), "argv": sys.argv, "executable": sys.executable,
        "pid": os.getpid(), "pgid": os.getpgid(0)}
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump(seen, f)
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
print("wrote", sys.argv[1], flush=True)
