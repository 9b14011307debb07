package io.ironruntime.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The answer of an admin endpoint: a whole body, a stream that stays open (Server-Sent Events), or
 * one that another thread completes later ({@link #later}).
 *
 * @param stream null for a whole body; otherwise the source of the streamed body
 * @param later  null for an answer given now; otherwise the answer that completes on another thread
 */
public record AdminReply(int status, String contentType, byte[] body, Map<String, String> headers,
        StreamSource stream, CompletionStage<AdminReply> later) {

    public static final String JSON = "application/json";

    public AdminReply {
        headers = Map.copyOf(headers);
    }

    public static AdminReply json(int status, JsonNode node) {
        try {
            return new AdminReply(status, JSON, Json.MAPPER.writeValueAsBytes(node), Map.of(), null, null);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    public static AdminReply ok(JsonNode node) {
        return json(200, node);
    }

    /**
     * An error in the shape the OpenAI SDKs and most HTTP clients read:
     * {@code {"error": {"type", "code", "message"}}}.
     */
    public static AdminReply error(int status, String code, String message) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode e = o.putObject("error");
        e.put("type", errorType(status));
        e.put("code", code);
        e.put("message", message);
        return json(status, o);
    }

    public static AdminReply bytes(int status, String contentType, byte[] body) {
        return new AdminReply(status, contentType, body, Map.of(), null, null);
    }

    public static AdminReply text(int status, String contentType, String body) {
        return bytes(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** An open-ended 200 response fed by {@code source} until either side ends it. */
    public static AdminReply stream(String contentType, StreamSource source) {
        return new AdminReply(200, contentType, null, Map.of(), source, null);
    }

    /**
     * The answer {@code reply} completes with, sent when it does (see {@link AdminWorkers}); its
     * failure is answered like a handler's exception (400 for an IllegalArgumentException).
     */
    public static AdminReply later(CompletionStage<AdminReply> reply) {
        return new AdminReply(0, null, null, Map.of(), null, reply);
    }

    public AdminReply withHeader(String name, String value) {
        if (later != null) {
            throw new IllegalStateException("add headers to the reply the deferred answer completes with");
        }
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new AdminReply(status, contentType, body, h, stream, null);
    }

    private static String errorType(int status) {
        switch (status) {
            case 401:
                return "authentication_error";
            case 403:
                return "permission_error";
            case 404:
                return "not_found_error";
            case 405:
            case 400:
            case 413:
                return "invalid_request_error";
            case 409:
                return "conflict_error";
            default:
                return status >= 500 ? "server_error" : "invalid_request_error";
        }
    }
}
