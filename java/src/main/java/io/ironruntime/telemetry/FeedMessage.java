package io.ironruntime.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;

/**
 * One message of the live feed, serialized once and shared by every subscriber it goes to.
 *
 * @param type the message's {@code type}: a dashboard protocol type ({@code STATE_UPDATE}) or an engine
 *             event type ({@code request_completed})
 * @param json the message as one line of JSON (Jackson escapes line breaks inside strings)
 */
public record FeedMessage(String type, String json) {

    public static FeedMessage of(ObjectNode message) {
        try {
            return new FeedMessage(message.path("type").asText(), Json.MAPPER.writeValueAsString(message));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }
}
