package io.ironruntime.provider;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The text a model produced, gathered from a response body or stream events, for charging output
 * when the provider reported no output usage (a stream that ended early, a body without usage).
 * Reads OpenAI Chat Completions and legacy Completions, Responses and Anthropic Messages: visible
 * text, refusals, reasoning and tool-call arguments. Not thread-safe.
 */
public final class ResponseText {
    /** Past this many characters the text is not kept longer; a cut stream rarely gets near it. */
    static final int MAX_CHARS = 8 * 1024 * 1024;

    private final StringBuilder text = new StringBuilder();

    /** One parsed stream event. */
    public void acceptEvent(JsonNode root) {
        if (root == null || !root.isObject()) {
            return;
        }
        String type = root.path("type").asText("");
        if (type.equals("content_block_delta")) { // Anthropic
            JsonNode d = root.path("delta");
            add(d.get("text"));
            add(d.get("partial_json"));
            add(d.get("thinking"));
        } else if (type.startsWith("response.") && type.endsWith(".delta")) { // Responses
            add(root.get("delta"));
        } else if (type.isEmpty()) { // Chat Completions chunks and legacy completions
            for (JsonNode choice : root.path("choices")) {
                JsonNode d = choice.path("delta");
                add(d.get("content"));
                add(d.get("refusal"));
                add(d.get("reasoning_content"));
                for (JsonNode call : d.path("tool_calls")) {
                    add(call.path("function").get("name"));
                    add(call.path("function").get("arguments"));
                }
                add(choice.get("text"));
            }
        }
    }

    /** A whole parsed response body. */
    public void acceptBody(JsonNode root) {
        if (root == null || !root.isObject()) {
            return;
        }
        for (JsonNode choice : root.path("choices")) {
            JsonNode m = choice.path("message");
            add(m.get("content"));
            add(m.get("refusal"));
            for (JsonNode call : m.path("tool_calls")) {
                add(call.path("function").get("name"));
                add(call.path("function").get("arguments"));
            }
            add(choice.get("text"));
        }
        for (JsonNode block : root.path("content")) { // Anthropic
            add(block.get("text"));
            add(block.get("thinking"));
            if (block.has("input")) {
                add(block.get("input").toString());
            }
        }
        for (JsonNode item : root.path("output")) { // Responses
            add(item.get("arguments"));
            for (JsonNode part : item.path("content")) {
                add(part.get("text"));
            }
            for (JsonNode part : item.path("summary")) {
                add(part.get("text"));
            }
        }
    }

    public String text() {
        return text.toString();
    }

    private void add(JsonNode n) {
        if (n != null && n.isTextual()) {
            add(n.asText());
        }
    }

    private void add(String s) {
        if (text.length() < MAX_CHARS) {
            text.append(s, 0, Math.min(s.length(), MAX_CHARS - text.length()));
        }
    }
}
