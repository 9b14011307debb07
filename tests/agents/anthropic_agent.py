"""An unmodified Anthropic SDK agent: ``anthropic.Anthropic()`` with no base URL or key in its code.

    anthropic_agent.py [--model M] [--text T]

Makes one Messages call and prints ``ok <reply>``.
"""
import argparse
import warnings

import anthropic

warnings.simplefilter("ignore", DeprecationWarning)
ap = argparse.ArgumentParser()
ap.add_argument("--model", default="claude-haiku-4-5")
ap.add_argument("--text", default="hello from an agent, call me on 555-123-4567 or mail jane.doe@example.com")
a = ap.parse_args()

client = anthropic.Anthropic(max_retries=0, timeout=20)
r = client.messages.create(model=a.model, max_tokens=100, messages=[{"role": "user", "content": a.text}])
print("ok %s" % r.content[0].text, flush=True)
