"""The structural rules the real APIs enforce on request bodies, as pure functions.

``anthropic_messages(body)`` checks a ``POST /v1/messages`` body, ``openai_chat(body)`` a
``POST /v1/chat/completions`` body. Each returns None when the body is acceptable, or
``(param, message)`` for the first problem found: ``param`` is the field path in the
provider's own spelling (Anthropic ``messages.2.content.0``, OpenAI ``messages[2].content``;
None where the real API sends none) and ``message`` is the text the real API answers with
(Anthropic messages start with the path, as the real ones do).

Only rules that do not depend on the model or the API version are checked (no prefill,
thinking or per-model sampling rules). The wording follows error messages the real APIs
were seen to send (GitHub issues quoting them); where none was found, it follows the same
validator's style (pydantic's for Anthropic, "Invalid value/type ..." for OpenAI).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

__all__ = ["Problem", "anthropic_messages", "openai_chat"]

Problem = Tuple[Optional[str], str]

# --------------------------------------------------------------------------- shared

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _first(problems: Iterable[Optional[Problem]]) -> Optional[Problem]:
    """The first problem of a lazily checked sequence (later checks do not run)."""
    return next((p for p in problems if p), None)


def _quoted(values: Sequence[str], last: str = "or", oxford: bool = False) -> str:
    """'a', 'b' or 'c' (pydantic's enumeration); with ``oxford`` OpenAI's 'a', 'b', and 'c'."""
    q = ["'%s'" % v for v in values]
    if len(q) == 1:
        return q[0]
    comma = "," if oxford and len(q) > 2 else ""
    return "%s%s %s %s" % (", ".join(q[:-1]), comma, last, q[-1])


# --------------------------------------------------------------------------- Anthropic Messages

# The body fields of Messages (the SDK's MessageCreateParams, its beta variant, and the
# sampling fields anthropic-version 2023-06-01 still accepts). Anything else is refused.
_ANT_FIELDS = frozenset((
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream",
    "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier",
    "container", "cache_control", "diagnostics", "inference_geo", "output_config", "output_format",
    "speed", "user_profile_id", "workspace_id", "mcp_servers", "context_management", "compaction",
    "billing_policy", "fallbacks", "fallback_credit_token", "thread",
))
_ANT_BLOCK_TYPES = (
    "text", "image", "document", "search_result", "thinking", "redacted_thinking", "tool_use",
    "tool_result", "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
    "code_execution_tool_result", "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result", "tool_search_tool_result", "container_upload",
)
_ANT_TOOL_RESULT_CONTENT = ("text", "image", "search_result", "document", "tool_reference", "browser_state")
_IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_ANT_TOOL_CHOICES = ("auto", "any", "tool", "none")
_ANT_ROLES = ("user", "assistant")

_SYSTEM_ROLE = ('Unexpected role "system". The Messages API accepts a top-level `system` parameter, '
                'not "system" as an input message role.')
_EMPTY_CONTENT = "all messages must have non-empty content except for the optional final assistant message"


def anthropic_messages(body: Any) -> Optional[Problem]:
    """The first rule of the Messages API this body breaks, or None."""
    if not isinstance(body, dict):
        return None, "Input should be a valid dictionary"
    return _first(check(body) for check in (_ant_fields, _ant_messages, _ant_system, _ant_sampling, _ant_tools,
                                            _ant_tool_choice, _ant_metadata))


def _ant(path: str, message: str) -> Problem:
    return path, "%s: %s" % (path, message)


def _ant_tag(path: str, tag: Any, expected: Sequence[str]) -> Problem:
    """A discriminated union's refusal of an unknown ``type``."""
    return _ant(path, "Input tag '%s' found using 'type' does not match any of the expected tags: %s"
                % (tag, ", ".join("'%s'" % t for t in expected)))


def _ant_fields(body: Dict[str, Any]) -> Optional[Problem]:
    for field in body:
        if field not in _ANT_FIELDS:
            return _ant(field, "Extra inputs are not permitted")
    for field in ("model", "max_tokens", "messages"):
        if field not in body:
            return _ant(field, "Field required")
    if not isinstance(body["model"], str):
        return _ant("model", "Input should be a valid string")
    if not _is_int(body["max_tokens"]):
        return _ant("max_tokens", "Input should be a valid integer")
    if body["max_tokens"] < 1:
        return _ant("max_tokens", "Input should be greater than or equal to 1")
    if "stream" in body and not isinstance(body["stream"], bool):
        return _ant("stream", "Input should be a valid boolean")
    return None


def _ant_messages(body: Dict[str, Any]) -> Optional[Problem]:
    messages = body["messages"]
    if not isinstance(messages, list):
        return _ant("messages", "Input should be a valid list")
    if not messages:
        return _ant("messages", "List should have at least 1 item after validation, not 0")
    problem = _first(_ant_message(m, "messages.%d" % i) for i, m in enumerate(messages))
    if problem:
        return problem
    for i, m in enumerate(messages):
        final_assistant = i == len(messages) - 1 and m["role"] == "assistant"
        if not m["content"] and not final_assistant:  # "" or []
            return _ant("messages.%d" % i, _EMPTY_CONTENT)
    return _ant_tool_pairs(messages)


def _ant_message(m: Any, path: str) -> Optional[Problem]:
    if not isinstance(m, dict):
        return _ant(path, "Input should be a valid dictionary")
    role = m.get("role")
    if role == "system":
        # Mid-conversation system messages exist for a few models only (claude-opus-4-8, with
        # placement rules); every other model refuses them, so a translated request must not
        # carry one: its system prompt belongs in the top-level `system` field.
        return path, "messages: " + _SYSTEM_ROLE
    if "role" not in m:
        return _ant(path + ".role", "Field required")
    if role not in _ANT_ROLES:
        return _ant(path + ".role", "Input should be %s" % _quoted(_ANT_ROLES))
    for key in m:
        if key not in ("role", "content"):
            return _ant("%s.%s" % (path, key), "Extra inputs are not permitted")
    if "content" not in m:
        return _ant(path + ".content", "Field required")
    content = m["content"]
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return _ant(path + ".content", "Input should be a valid string or a valid list")
    return _first(_ant_block(b, "%s.content.%d" % (path, j), _ANT_BLOCK_TYPES) for j, b in enumerate(content))


def _ant_block(block: Any, path: str, allowed: Sequence[str]) -> Optional[Problem]:
    if not isinstance(block, dict):
        return _ant(path, "Input should be a valid dictionary")
    btype = block.get("type")
    if not isinstance(btype, str):
        return _ant(path, "Unable to extract tag using discriminator 'type'")
    if btype not in allowed:
        return _ant_tag(path, btype, allowed)
    check = _ANT_BLOCK_CHECKS.get(btype)
    return check(block, "%s.%s" % (path, btype)) if check else None


def _ant_text_block(block: Dict[str, Any], path: str) -> Optional[Problem]:
    if "text" not in block:
        return _ant(path + ".text", "Field required")
    if not isinstance(block["text"], str):
        return _ant(path + ".text", "Input should be a valid string")
    if block["text"] == "":
        return path, "messages: text content blocks must be non-empty"
    return None


def _ant_image_block(block: Dict[str, Any], path: str) -> Optional[Problem]:
    source = block.get("source")
    if source is None:
        return _ant(path + ".source", "Field required")
    if not isinstance(source, dict):
        return _ant(path + ".source", "Input should be a valid dictionary")
    stype = source.get("type")
    if stype not in ("base64", "url", "file"):
        return _ant_tag(path + ".source", stype, ("base64", "url", "file"))
    spath = "%s.source.%s" % (path, stype)
    required = {"base64": ("media_type", "data"), "url": ("url",), "file": ("file_id",)}[stype]
    for field in required:
        if field not in source:
            return _ant("%s.%s" % (spath, field), "Field required")
        if not isinstance(source[field], str):
            return _ant("%s.%s" % (spath, field), "Input should be a valid string")
    if stype == "base64" and source["media_type"] not in _IMAGE_MEDIA_TYPES:
        return _ant(spath + ".media_type", "Input should be %s" % _quoted(_IMAGE_MEDIA_TYPES))
    return None


def _ant_tool_use_block(block: Dict[str, Any], path: str) -> Optional[Problem]:
    for field in ("id", "name", "input"):
        if field not in block:
            return _ant("%s.%s" % (path, field), "Field required")
    for field in ("id", "name"):
        if not isinstance(block[field], str):
            return _ant("%s.%s" % (path, field), "Input should be a valid string")
    if not isinstance(block["input"], dict):
        return _ant(path + ".input", "Input should be a valid dictionary")
    return None


def _ant_tool_result_block(block: Dict[str, Any], path: str) -> Optional[Problem]:
    if "tool_use_id" not in block:
        return _ant(path + ".tool_use_id", "Field required")
    if not isinstance(block["tool_use_id"], str):
        return _ant(path + ".tool_use_id", "Input should be a valid string")
    if "is_error" in block and not isinstance(block["is_error"], bool):
        return _ant(path + ".is_error", "Input should be a valid boolean")
    content = block.get("content")
    if content is None or isinstance(content, str):
        return None
    if not isinstance(content, list):
        return _ant(path + ".content", "Input should be a valid string or a valid list")
    return _first(_ant_block(b, "%s.content.%d" % (path, k), _ANT_TOOL_RESULT_CONTENT)
                  for k, b in enumerate(content))


def _ant_string_fields(*fields: str):
    def check(block: Dict[str, Any], path: str) -> Optional[Problem]:
        for field in fields:
            if field not in block:
                return _ant("%s.%s" % (path, field), "Field required")
            if not isinstance(block[field], str):
                return _ant("%s.%s" % (path, field), "Input should be a valid string")
        return None
    return check


def _ant_document_block(block: Dict[str, Any], path: str) -> Optional[Problem]:
    source = block.get("source")
    if source is None:
        return _ant(path + ".source", "Field required")
    if not isinstance(source, dict) or not isinstance(source.get("type"), str):
        return _ant(path + ".source", "Unable to extract tag using discriminator 'type'")
    return None


_ANT_BLOCK_CHECKS = {
    "text": _ant_text_block,
    "image": _ant_image_block,
    "document": _ant_document_block,
    "tool_use": _ant_tool_use_block,
    "tool_result": _ant_tool_result_block,
    "thinking": _ant_string_fields("thinking", "signature"),
    "redacted_thinking": _ant_string_fields("data"),
}


class _Turn:
    """Consecutive messages of one role: the API combines them into a single turn."""

    def __init__(self, role: str, first: int):
        self.role = role
        self.first = first  # index of its first message
        self.blocks: List[Tuple[int, int, Dict[str, Any]]] = []  # (message index, block index, block)


def _turns(messages: List[Dict[str, Any]]) -> List[_Turn]:
    # Consecutive same-role turns are merged, not refused: the Messages reference says
    # "Consecutive `user` or `assistant` turns in your request will be combined into a single
    # turn" (SDK MessageCreateParams docstring), and the API has accepted a leading assistant
    # turn since late 2024 (anthropics/anthropic-sdk-typescript#622: it succeeds on the first-party
    # API); the old "roles must alternate" / "first message must use the user role" errors are gone.
    turns: List[_Turn] = []
    for i, m in enumerate(messages):
        if not turns or turns[-1].role != m["role"]:
            turns.append(_Turn(m["role"], i))
        content = m["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        turns[-1].blocks.extend((i, j, b) for j, b in enumerate(blocks))
    return turns


def _ant_tool_pairs(messages: List[Dict[str, Any]]) -> Optional[Problem]:
    """tool_use ids are unique; each tool_result answers a tool_use of the turn just before it and
    comes before any other block of its turn; every tool_use is answered in the next user turn."""
    turns = _turns(messages)
    seen: set = set()
    for i, j, b in (x for t in turns if t.role == "assistant" for x in t.blocks):
        if b["type"] == "tool_use":
            if b["id"] in seen:
                return _ant("messages.%d.content.%d" % (i, j), "`tool_use` ids must be unique")
            seen.add(b["id"])
    return _first(_ant_tool_results(turn, turns[n - 1] if n > 0 else None)
                  for n, turn in enumerate(turns) if turn.role == "user")


def _ant_tool_results(turn: _Turn, before: Optional[_Turn]) -> Optional[Problem]:
    asked = [b["id"] for _, _, b in (before.blocks if before else []) if b["type"] == "tool_use"]
    results = [(i, j, b) for i, j, b in turn.blocks if b["type"] == "tool_result"]
    for i, j, b in results:
        if b["tool_use_id"] not in asked:
            return _ant("messages.%d.content.%d" % (i, j),
                        "unexpected `tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block "
                        "must have a corresponding `tool_use` block in the previous message." % b["tool_use_id"])
    leading = 0
    while leading < len(turn.blocks) and turn.blocks[leading][2]["type"] == "tool_result":
        leading += 1
    if leading < len(results):  # a tool_result after some other block
        return _ant("messages.%d" % turn.first,
                    "Did not find %d `tool_result` block(s) at the beginning of this message. Messages following "
                    "`tool_use` blocks must begin with a matching number of `tool_result` blocks." % len(asked))
    answered = {b["tool_use_id"] for _, _, b in results}
    missing = [tid for tid in asked if tid not in answered]
    if missing:
        return _ant("messages.%d" % before.first,
                    "`tool_use` ids were found without `tool_result` blocks immediately after: %s. Each `tool_use` "
                    "block must have a corresponding `tool_result` block in the next message." % ", ".join(missing))
    return None


def _ant_system(body: Dict[str, Any]) -> Optional[Problem]:
    system = body.get("system")
    if system is None or isinstance(system, str):
        return None
    if not isinstance(system, list):
        return _ant("system", "Input should be a valid string or a valid list")
    for j, block in enumerate(system):
        path = "system.%d" % j
        if not isinstance(block, dict):
            return _ant(path, "Input should be a valid dictionary")
        if block.get("type") != "text":
            return _ant(path + ".type", "Input should be 'text'")
        if not isinstance(block.get("text"), str):
            return _ant(path + ".text", "Field required" if "text" not in block else "Input should be a valid string")
    return None


def _ant_sampling(body: Dict[str, Any]) -> Optional[Problem]:
    for field in ("temperature", "top_p"):
        if field not in body:
            continue
        v = body[field]
        if not _is_number(v):
            return _ant(field, "Input should be a valid number")
        if v < 0:
            return _ant(field, "Input should be greater than or equal to 0")
        if v > 1:
            return _ant(field, "Input should be less than or equal to 1")
    if "top_k" in body and not _is_int(body["top_k"]):
        return _ant("top_k", "Input should be a valid integer")
    stops = body.get("stop_sequences")
    if "stop_sequences" in body:
        if not isinstance(stops, list):
            return _ant("stop_sequences", "Input should be a valid list")
        for j, s in enumerate(stops):
            if not isinstance(s, str):
                return _ant("stop_sequences.%d" % j, "Input should be a valid string")
    return None


def _ant_tools(body: Dict[str, Any]) -> Optional[Problem]:
    if "tools" not in body:
        return None
    tools = body["tools"]
    if not isinstance(tools, list):
        return _ant("tools", "Input should be a valid list")
    return _first(_ant_tool(tool, "tools.%d" % j) for j, tool in enumerate(tools))


def _ant_tool(tool: Any, path: str) -> Optional[Problem]:
    if not isinstance(tool, dict):
        return _ant(path, "Input should be a valid dictionary")
    ttype = tool.get("type", "custom")
    if ttype == "function":  # an OpenAI tool; server tools carry dated types (web_search_20250305, ...)
        return _ant_tag(path, ttype, ("custom", "bash_20250124", "text_editor_20250124", "web_search_20250305"))
    if ttype != "custom":
        return None
    for field in ("name", "input_schema"):
        if field not in tool:
            return _ant("%s.custom.%s" % (path, field), "Field required")
    if not isinstance(tool["name"], str) or not _TOOL_NAME.match(tool["name"]):
        return _ant(path + ".custom.name", "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'")
    schema = tool["input_schema"]
    if not isinstance(schema, dict):
        return _ant(path + ".custom.input_schema", "Input should be a valid dictionary")
    if schema.get("type") != "object":
        return _ant(path + ".custom.input_schema.type", "Input should be 'object'")
    return None


def _ant_tool_choice(body: Dict[str, Any]) -> Optional[Problem]:
    if "tool_choice" not in body:
        return None
    choice = body["tool_choice"]
    if not isinstance(choice, dict):  # "auto" / "required" strings are OpenAI's spelling
        return _ant("tool_choice", "Input should be a valid dictionary or object to extract fields from")
    ctype = choice.get("type")
    if ctype not in _ANT_TOOL_CHOICES:
        return _ant_tag("tool_choice", ctype, _ANT_TOOL_CHOICES)
    if ctype == "tool" and not isinstance(choice.get("name"), str):
        return _ant("tool_choice.tool.name", "Field required")
    allowed = ("type", "name", "disable_parallel_tool_use") if ctype == "tool" else (
        ("type",) if ctype == "none" else ("type", "disable_parallel_tool_use"))
    for key in choice:
        if key not in allowed:
            return _ant("tool_choice.%s.%s" % (ctype, key), "Extra inputs are not permitted")
    return None


def _ant_metadata(body: Dict[str, Any]) -> Optional[Problem]:
    if "metadata" not in body:
        return None
    metadata = body["metadata"]
    if not isinstance(metadata, dict):
        return _ant("metadata", "Input should be a valid dictionary")
    for key, value in metadata.items():
        if key != "user_id":
            return _ant("metadata." + key, "Extra inputs are not permitted")
        if value is not None and not isinstance(value, str):
            return _ant("metadata.user_id", "Input should be a valid string")
    return None


# --------------------------------------------------------------------------- OpenAI Chat Completions

# The body fields of Chat Completions (the SDK's CompletionCreateParams plus stream). The real
# API refuses anything else with "Unrecognized request argument supplied: <name>".
_OAI_FIELDS = frozenset((
    "model", "messages", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "moderation", "n", "parallel_tool_calls",
    "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "reasoning_effort", "response_format", "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
    "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity",
    "web_search_options",
))
_OAI_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_OAI_USER_PARTS = ("text", "image_url", "input_audio", "file")
_OAI_ASSISTANT_PARTS = ("text", "refusal")
_OAI_TOOL_CHOICES = ("none", "auto", "required")


def openai_chat(body: Any) -> Optional[Problem]:
    """The first rule of Chat Completions this body breaks, or None."""
    if not isinstance(body, dict):
        return None, "Invalid type for body: expected an object, but got %s instead." % _json_type(body)
    return _first(check(body) for check in (_oai_fields, _oai_messages, _oai_sampling, _oai_tools,
                                            _oai_tool_choice, _oai_stream_options))


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a decimal"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def _oai_type(param: str, expected: str, got: Any) -> Problem:
    return param, "Invalid type for '%s': expected %s, but got %s instead." % (param, expected, _json_type(got))


def _oai_missing(param: str) -> Problem:
    return param, "Missing required parameter: '%s'." % param


def _oai_value(param: str, value: Any, supported: Sequence[str]) -> Problem:
    return param, "Invalid value: '%s'. Supported values are: %s." % (value, _quoted(supported, "and", oxford=True))


def _oai_empty(param: str) -> Problem:
    return param, ("Invalid '%s': empty array. Expected an array with minimum length 1, but got an empty array "
                   "instead." % param)


def _oai_fields(body: Dict[str, Any]) -> Optional[Problem]:
    for field in body:
        if field not in _OAI_FIELDS:
            return None, "Unrecognized request argument supplied: %s" % field
    if not isinstance(body.get("model"), str):
        return "model", "you must provide a model parameter"
    if "stream" in body and body["stream"] is not None and not isinstance(body["stream"], bool):
        return _oai_type("stream", "a boolean", body["stream"])
    return None


def _oai_messages(body: Dict[str, Any]) -> Optional[Problem]:
    if "messages" not in body:
        return _oai_missing("messages")
    messages = body["messages"]
    if not isinstance(messages, list):
        return _oai_type("messages", "an array", messages)
    if not messages:
        return _oai_empty("messages")
    return _first(_oai_message(m, i) for i, m in enumerate(messages)) or _oai_tool_sequence(messages)


def _oai_message(m: Any, i: int) -> Optional[Problem]:
    path = "messages[%d]" % i
    if not isinstance(m, dict):
        return _oai_type(path, "an object", m)
    if "role" not in m:
        return _oai_missing(path + ".role")
    role = m["role"]
    if role not in _OAI_ROLES:
        return _oai_value(path + ".role", role, _OAI_ROLES)
    content = m.get("content")
    if role == "assistant":
        if content is None:
            if not (m.get("tool_calls") or m.get("function_call") or m.get("audio")):
                return "messages.[%d].content" % i, "Invalid value for 'content': expected a string, got null."
        else:
            problem = _oai_content(content, path + ".content", _OAI_ASSISTANT_PARTS)
            if problem:
                return problem
        return _oai_tool_calls(m, path) if "tool_calls" in m else None
    if "content" not in m:
        return _oai_missing(path + ".content")
    if role == "function":
        if not isinstance(m.get("name"), str):
            return _oai_missing(path + ".name")
        return None if content is None or isinstance(content, str) else _oai_type(path + ".content", "a string",
                                                                                  content)
    if role == "tool" and not isinstance(m.get("tool_call_id"), str):
        return _oai_missing(path + ".tool_call_id") if "tool_call_id" not in m else _oai_type(
            path + ".tool_call_id", "a string", m["tool_call_id"])
    parts = _OAI_USER_PARTS if role == "user" else ("text",)
    return _oai_content(content, path + ".content", parts)


def _oai_content(content: Any, path: str, parts: Sequence[str]) -> Optional[Problem]:
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return _oai_type(path, "one of a string or array of objects", content)
    if not content:
        return _oai_empty(path)
    return _first(_oai_part(part, "%s[%d]" % (path, k), parts) for k, part in enumerate(content))


def _oai_part(part: Any, path: str, allowed: Sequence[str]) -> Optional[Problem]:
    if not isinstance(part, dict):
        return _oai_type(path, "an object", part)
    ptype = part.get("type")
    if ptype is None:
        return _oai_missing(path + ".type")
    if ptype not in allowed:
        return _oai_value(path + ".type", ptype, allowed)
    if ptype in ("text", "refusal"):
        if ptype not in part:
            return _oai_missing("%s.%s" % (path, ptype))
        return None if isinstance(part[ptype], str) else _oai_type("%s.%s" % (path, ptype), "a string", part[ptype])
    inner = part.get(ptype)
    if inner is None:
        return _oai_missing("%s.%s" % (path, ptype))
    if not isinstance(inner, dict):
        return _oai_type("%s.%s" % (path, ptype), "an object", inner)
    if ptype == "image_url":
        if "url" not in inner:
            return _oai_missing(path + ".image_url.url")
        if not isinstance(inner["url"], str):
            return _oai_type(path + ".image_url.url", "a string", inner["url"])
        detail = inner.get("detail")
        if detail is not None and detail not in ("auto", "low", "high"):
            return _oai_value(path + ".image_url.detail", detail, ("auto", "low", "high"))
    elif ptype == "input_audio":
        for field in ("data", "format"):
            if field not in inner:
                return _oai_missing("%s.input_audio.%s" % (path, field))
        if inner["format"] not in ("wav", "mp3"):
            return _oai_value(path + ".input_audio.format", inner["format"], ("wav", "mp3"))
    elif ptype == "file" and not any(k in inner for k in ("file_data", "file_id")):
        return path + ".file", "Invalid '%s.file': one of 'file_data' or 'file_id' must be provided." % path
    return None


def _oai_tool_calls(m: Dict[str, Any], path: str) -> Optional[Problem]:
    calls = m["tool_calls"]
    tpath = path + ".tool_calls"
    if not isinstance(calls, list):
        return _oai_type(tpath, "an array", calls)
    if not calls:
        return _oai_empty(tpath)
    for k, call in enumerate(calls):
        cpath = "%s[%d]" % (tpath, k)
        if not isinstance(call, dict):
            return _oai_type(cpath, "an object", call)
        for field in ("id", "type"):
            if field not in call:
                return _oai_missing("%s.%s" % (cpath, field))
        if not isinstance(call["id"], str):
            return _oai_type(cpath + ".id", "a string", call["id"])
        if call["type"] not in ("function", "custom"):
            return _oai_value(cpath + ".type", call["type"], ("function", "custom"))
        fn = call.get(call["type"])
        fpath = "%s.%s" % (cpath, call["type"])
        if fn is None:
            return _oai_missing(fpath)
        if not isinstance(fn, dict):
            return _oai_type(fpath, "an object", fn)
        payload = "arguments" if call["type"] == "function" else "input"
        for field in ("name", payload):
            if field not in fn:
                return _oai_missing("%s.%s" % (fpath, field))
            if not isinstance(fn[field], str):
                return _oai_type("%s.%s" % (fpath, field), "a string", fn[field])
    return None


def _oai_tool_sequence(messages: List[Dict[str, Any]]) -> Optional[Problem]:
    """Tool messages answer the tool_calls of the assistant message before them (other tool messages
    may come between); every tool_call is answered before the next non-tool message."""
    pending: Optional[Tuple[int, List[str]]] = None  # (assistant index, tool_call ids not yet answered)
    asked: List[str] = []
    for i, m in enumerate(messages):
        if m["role"] == "tool":
            if pending is None:
                return ("messages.[%d].role" % i, "Invalid parameter: messages with role 'tool' must be a response to "
                        "a preceeding message with 'tool_calls'.")
            if m["tool_call_id"] not in asked:
                return ("messages.[%d].tool_call_id" % i, "Invalid parameter: 'tool_call_id' of '%s' not found in "
                        "'tool_calls' of previous message." % m["tool_call_id"])
            if m["tool_call_id"] in pending[1]:
                pending[1].remove(m["tool_call_id"])
            continue
        if pending is not None and pending[1]:
            return ("messages.[%d].role" % pending[0], "An assistant message with 'tool_calls' must be followed by "
                    "tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have "
                    "response messages: %s" % ", ".join(pending[1]))
        pending, asked = None, []
        if m["role"] == "assistant" and m.get("tool_calls"):
            asked = [c["id"] for c in m["tool_calls"]]
            pending = (i, list(asked))
    return None


def _oai_range(body: Dict[str, Any], field: str, low: float, high: Optional[float]) -> Optional[Problem]:
    v = body.get(field)
    if v is None:
        return None
    if not _is_number(v):
        return _oai_type(field, "a decimal", v)
    if v < low:
        return field, ("Invalid '%s': decimal below minimum value. Expected a value >= %g, but got %g instead."
                       % (field, low, v))
    if high is not None and v > high:
        return field, ("Invalid '%s': decimal above maximum value. Expected a value <= %g, but got %g instead."
                       % (field, high, v))
    return None


def _oai_sampling(body: Dict[str, Any]) -> Optional[Problem]:
    problem = _oai_range(body, "temperature", 0, 2) or _oai_range(body, "top_p", 0, 1)
    if problem:
        return problem
    n = body.get("n")
    if n is not None:
        if not _is_int(n):
            return _oai_type("n", "an integer", n)
        if n < 1:
            return "n", "Invalid 'n': integer below minimum value. Expected a value >= 1, but got %d instead." % n
    stop = body.get("stop")
    if stop is None or isinstance(stop, str):
        return None
    if not isinstance(stop, list):
        return _oai_type("stop", "one of a string or array of strings", stop)
    if len(stop) > 4:
        return "stop", ("Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array "
                        "with length %d instead." % len(stop))
    for k, s in enumerate(stop):
        if not isinstance(s, str):
            return _oai_type("stop[%d]" % k, "a string", s)
    return None


def _oai_tools(body: Dict[str, Any]) -> Optional[Problem]:
    tools = body.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list):
        return _oai_type("tools", "an array", tools)
    for k, tool in enumerate(tools):
        path = "tools[%d]" % k
        if not isinstance(tool, dict):
            return _oai_type(path, "an object", tool)
        if "type" not in tool:
            return _oai_missing(path + ".type")
        if tool["type"] not in ("function", "custom"):
            return _oai_value(path + ".type", tool["type"], ("function", "custom"))
        inner = tool.get(tool["type"])
        ipath = "%s.%s" % (path, tool["type"])
        if inner is None:
            return _oai_missing(ipath)
        if not isinstance(inner, dict):
            return _oai_type(ipath, "an object", inner)
        if "name" not in inner:
            return _oai_missing(ipath + ".name")
        if not isinstance(inner["name"], str) or not re.match(r"^[a-zA-Z0-9_-]{1,64}$", inner["name"]):
            return ipath + ".name", ("Invalid '%s.name': string does not match pattern. Expected a string that "
                                     "matches the pattern '^[a-zA-Z0-9_-]+$'." % ipath)
        params = inner.get("parameters")
        if params is not None and not isinstance(params, dict):
            return _oai_type(ipath + ".parameters", "an object", params)
    return None


def _oai_tool_choice(body: Dict[str, Any]) -> Optional[Problem]:
    choice = body.get("tool_choice")
    if choice is None:
        return None
    if isinstance(choice, str):
        return None if choice in _OAI_TOOL_CHOICES else _oai_value("tool_choice", choice, _OAI_TOOL_CHOICES)
    if not isinstance(choice, dict):
        return _oai_type("tool_choice", "one of a string or an object", choice)
    ctype = choice.get("type")
    if ctype not in ("function", "custom", "allowed_tools"):
        return _oai_value("tool_choice.type", ctype, ("function", "custom", "allowed_tools"))
    inner = choice.get(ctype)
    if inner is None:
        return _oai_missing("tool_choice.%s" % ctype)
    if not isinstance(inner, dict):
        return _oai_type("tool_choice.%s" % ctype, "an object", inner)
    if ctype != "allowed_tools" and not isinstance(inner.get("name"), str):
        return _oai_missing("tool_choice.%s.name" % ctype)
    return None


def _oai_stream_options(body: Dict[str, Any]) -> Optional[Problem]:
    if body.get("stream_options") is not None and body.get("stream") is not True:
        return "stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    return None
