"""An unmodified LangChain agent: ``ChatOpenAI(model=...)`` with no base URL or key in its code
(LangChain reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` like the SDK does).

    langchain_agent.py [--model M] [--text T]

Makes one ``invoke`` and prints ``ok <reply>``.
"""
import argparse

from langchain_openai import ChatOpenAI

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="gpt-4o-mini")
ap.add_argument("--text", default="hello from a langchain agent, mail me at jane.doe@example.com")
a = ap.parse_args()

llm = ChatOpenAI(model=a.model, max_retries=0, timeout=20)
r = llm.invoke(a.text)
print("ok %s" % r.content, flush=True)
