"""Not an agent: a Python program that owns a Runtime, for the tests of what happens to agents
when their owner goes away.

    owner.py STATE_DIR AGENT_SCRIPT MODE

Starts a Runtime (a router holding a made-up OpenAI key, its database in STATE_DIR) and one
agent running AGENT_SCRIPT, prints ``agent <agent_id> <pid>``, the agent's own
``grandchild <pid>`` line once it printed one, and ``ready``; then, by MODE:
``sleep`` sleeps until it is killed; ``exit`` returns normally without calling shutdown.
"""
import sys
import time

from iron_runtime import Runtime

state_dir, script, mode = sys.argv[1], sys.argv[2], sys.argv[3]
rt = Runtime(provider_key={"openai": "sk-proj-OWNERfakeKEY-0123456789abcdef"}, state_dir=state_dir)
h = rt.start_agent(script)
print("agent %s %d" % (h.agent_id, h.pid), flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:  # pass on what the agent says about its own children
    said = [line for line in rt.logs(h).splitlines() if line.startswith("grandchild ")]
    if said:
        print(said[0], flush=True)
        break
    time.sleep(0.05)
print("ready", flush=True)
if mode == "sleep":
    while True:
        time.sleep(1)
