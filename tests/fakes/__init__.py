"""Fake servers the tests start on loopback (real HTTP, real wire formats)."""

from .upstream import FakeUpstream, RecordedRequest, parse_scenario, reply_text, split_chunks

__all__ = ["FakeUpstream", "RecordedRequest", "parse_scenario", "reply_text", "split_chunks"]
