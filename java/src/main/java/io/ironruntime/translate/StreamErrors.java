package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.provider.SseEvent;

/**
 * An error that arrives in the middle of a stream, as the event each client format expects: OpenAI
 * streams {@code data: {"error":{...}}} (the SDK raises {@code APIError} on it), Anthropic streams
 * {@code event: error} (the SDK raises on it). Either way it is the last event of the stream.
 */
final class StreamErrors {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private StreamErrors() {
    }

    /** An OpenAI error chunk; the Anthropic error type is kept as {@code code}. */
    static SseEvent openAi(String message, String anthropicType) {
        ObjectNode root = F.objectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", openAiType(anthropicType));
        error.putNull("param");
        error.put("code", anthropicType);
        return SseEvent.of(null, root.toString());
    }

    /** An Anthropic {@code event: error}. */
    static SseEvent anthropic(String message, String anthropicType) {
        ObjectNode root = F.objectNode();
        root.put("type", "error");
        ObjectNode error = root.putObject("error");
        error.put("type", anthropicType);
        error.put("message", message);
        return SseEvent.of("error", root.toString());
    }

    /** The Anthropic error type for an OpenAI stream error object, read from its {@code type} and {@code code}. */
    static String anthropicType(JsonNode openAiError) {
        String type = JsonValues.text(openAiError.path("type"));
        String code = JsonValues.text(openAiError.path("code"));
        if (type.contains("rate_limit") || code.contains("rate_limit") || type.equals("requests") || type.equals("tokens")) {
            return "rate_limit_error";
        }
        if (type.equals("overloaded_error") || code.equals("overloaded_error")) {
            return "overloaded_error"; // an Anthropic error that went through OpenAI's shape and back
        }
        if (type.equals("invalid_request_error")) {
            return "invalid_request_error";
        }
        return "api_error"; // server_error and anything unknown
    }

    /** OpenAI's {@code error.type} for an Anthropic error type: the same words as for a whole error body. */
    static String openAiType(String anthropicType) {
        return ErrorTranslation.openAiType(anthropicType);
    }
}
