"""Fake servers the tests start on loopback (real HTTP, real wire formats): the LLM
providers (``upstream``) and the Iron Cage control server (``iron_cage``)."""

from .iron_cage import FakeIronCage
from .upstream import FakeUpstream, RecordedRequest, parse_scenario, reply_text, split_chunks

__all__ = ["FakeIronCage", "FakeUpstream", "RecordedRequest", "parse_scenario", "reply_text", "split_chunks"]
