package io.ironruntime.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.nio.charset.StandardCharsets;

/**
 * One message of the live feed, serialized once and shared by every subscriber it goes to; its wire
 * forms (UTF-8 for WebSocket, the SSE block for event streams) are made once too, on first use, by
 * the feed thread.
 */
public final class FeedMessage {
    private final String type;
    private final String json;
    private byte[] utf8;
    private byte[] sseBody;

    /**
     * @param type the message's {@code type}: a dashboard protocol type ({@code STATE_UPDATE}) or an
     *             engine event type ({@code request_completed})
     * @param json the message as one line of JSON (Jackson escapes line breaks inside strings)
     */
    public FeedMessage(String type, String json) {
        this.type = type;
        this.json = json;
    }

    public static FeedMessage of(ObjectNode message) {
        try {
            return new FeedMessage(message.path("type").asText(), Json.MAPPER.writeValueAsString(message));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    public String type() {
        return type;
    }

    public String json() {
        return json;
    }

    /** The JSON as UTF-8 (a WebSocket text frame's payload). Feed thread only. */
    byte[] utf8() {
        if (utf8 == null) {
            utf8 = json.getBytes(StandardCharsets.UTF_8);
        }
        return utf8;
    }

    /** The SSE block after its {@code id:} line. Feed thread only. */
    byte[] sseBody() {
        if (sseBody == null) {
            sseBody = SseFrames.body(type, json);
        }
        return sseBody;
    }
}
