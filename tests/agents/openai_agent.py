"""An unmodified OpenAI SDK agent: ``openai.OpenAI()`` with no base URL or key in its code.

    openai_agent.py [--calls N] [--interval S] [--model M] [--text T] [--stream] [--exit-on-402 CODE]

Makes ``--calls`` chat completions (0: for ever), ``--interval`` seconds apart, printing
``call <i> ok <reply>`` after each (``--stream``: streamed, the reply joined from its deltas). An ``openai.APIStatusError`` is printed as
``call <i> status <code> <error code> <exception class>`` and ``message <its message>``; with ``--exit-on-402`` a 402 ends the script with
that exit code. Prints ``done`` and exits 0 after the last call.
"""
import argparse
import sys
import time

import openai

ap = argparse.ArgumentParser()
ap.add_argument("--calls", type=int, default=1)
ap.add_argument("--interval", type=float, default=0.0)
ap.add_argument("--model", default="gpt-4o-mini")
ap.add_argument("--text", default="hello from an agent, mail me at jane.doe@example.com")
ap.add_argument("--stream", action="store_true")
ap.add_argument("--exit-on-402", type=int, default=None)
a = ap.parse_args()

client = openai.OpenAI(max_retries=0, timeout=20)
i = 0
while a.calls == 0 or i < a.calls:
    i += 1
    try:
        r = client.chat.completions.create(model=a.model, messages=[{"role": "user", "content": a.text}],
                                           stream=a.stream)
        reply = ("".join(c.choices[0].delta.content or "" for c in r if c.choices) if a.stream
                 else r.choices[0].message.content)
        print("call %d ok %s" % (i, reply), flush=True)
    except openai.APIStatusError as e:
        code = (e.body or {}).get("code") if isinstance(e.body, dict) else None
        print("call %d status %d %s %s" % (i, e.status_code, code, type(e).__name__), flush=True)
        print("message %s" % e.message, flush=True)
        if e.status_code == 402 and a.exit_on_402 is not None:
            sys.exit(a.exit_on_402)
    if a.interval:
        time.sleep(a.interval)
print("done", flush=True)
