package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An Anthropic Messages response as an OpenAI {@code chat.completion}: pure, no I/O, no clock.
 * <p>
 * Text blocks are joined into {@code content}; {@code tool_use} blocks become {@code tool_calls} with the
 * input as a compact JSON string. Thinking, redacted thinking and server-tool blocks have no place in a
 * Chat message and are left out. A {@code refusal} stop keeps its text as {@code content} (it is what
 * Claude said before stopping) and is told by {@code finish_reason: content_filter}; OpenAI's
 * {@code message.refusal} is for structured-output refusals and stays null. Missing fields give nulls
 * and zeros, never an exception.
 */
public final class MessageToCompletion {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private MessageToCompletion() {
    }

    /** @param createdEpochSeconds the completion's {@code created} (Anthropic gives no timestamp) */
    public static ObjectNode translate(JsonNode anthropicMessage, long createdEpochSeconds) {
        JsonNode m = anthropicMessage == null ? F.missingNode() : anthropicMessage;
        ObjectNode out = F.objectNode();
        out.set("id", JsonValues.textOrNull(m.path("id")));
        out.put("object", "chat.completion");
        out.put("created", createdEpochSeconds);
        out.set("model", JsonValues.textOrNull(m.path("model")));
        ObjectNode choice = out.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("message", message(m.path("content")));
        choice.putNull("logprobs");
        JsonNode stop = m.path("stop_reason");
        choice.put("finish_reason", StopReasons.toOpenAi(stop.isTextual() ? stop.asText() : null));
        out.set("usage", UsageTranslation.toOpenAi(m.get("usage")));
        return out;
    }

    private static ObjectNode message(JsonNode content) {
        StringBuilder text = null;
        ArrayNode calls = F.arrayNode();
        for (JsonNode block : content.isArray() ? content : F.arrayNode()) {
            switch (block.path("type").asText("")) {
                case "text" -> {
                    if (text == null) {
                        text = new StringBuilder();
                    }
                    text.append(block.path("text").asText(""));
                }
                case "tool_use" -> calls.add(toolCall(block));
                default -> {
                    // thinking, redacted_thinking, server tools: nothing in a Chat message carries them
                }
            }
        }
        ObjectNode message = F.objectNode();
        message.put("role", "assistant");
        message.put("content", text == null ? null : text.toString());
        message.putNull("refusal");
        if (!calls.isEmpty()) {
            message.set("tool_calls", calls);
        }
        return message;
    }

    private static ObjectNode toolCall(JsonNode block) {
        ObjectNode call = F.objectNode();
        call.set("id", JsonValues.textOrNull(block.path("id")));
        call.put("type", "function");
        ObjectNode function = call.putObject("function");
        function.set("name", JsonValues.textOrNull(block.path("name")));
        JsonNode input = block.path("input");
        function.put("arguments", input.isObject() ? input.toString() : "{}");
        return call;
    }
}
