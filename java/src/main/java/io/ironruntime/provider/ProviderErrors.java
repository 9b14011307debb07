package io.ironruntime.provider;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ironruntime.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/** Renders {@link ErrorReply}s as the provider's own error JSON, so the SDKs raise their usual errors. */
public final class ProviderErrors {
    private static final ObjectMapper JSON = Json.MAPPER;

    private ProviderErrors() {
    }

    /** The response body: OpenAI {@code {"error":{...}}} or Anthropic {@code {"type":"error","error":{...}}}. */
    public static byte[] body(Provider provider, ErrorReply reply) {
        return fields(provider, reply).toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The same error as one SSE event, for a stream that already started and must end with an error. */
    public static SseEvent streamEvent(Provider provider, ErrorReply reply) {
        String data = fields(provider, reply).toString();
        return SseEvent.of(provider == Provider.ANTHROPIC ? "error" : null, data);
    }

    private static ObjectNode fields(Provider provider, ErrorReply reply) {
        ObjectNode root = JSON.createObjectNode();
        if (provider == Provider.ANTHROPIC) {
            root.put("type", "error");
            ObjectNode error = root.putObject("error");
            error.put("type", reply.anthropicType());
            error.put("message", reply.message());
            return root;
        }
        ObjectNode error = root.putObject("error");
        error.put("message", reply.message());
        error.put("type", reply.openaiType());
        error.putNull("param");
        error.put("code", reply.code());
        return root;
    }
}
