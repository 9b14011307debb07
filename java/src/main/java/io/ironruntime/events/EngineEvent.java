package io.ironruntime.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.util.UUID;

/**
 * Something that happened in the engine, for users and monitoring. The payload is a small JSON
 * object whose fields depend on the type; it never carries a secret or raw PII.
 *
 * @param agentId   the agent it concerns, or null
 * @param requestId the request it concerns, or null
 */
public record EngineEvent(String eventId, String type, long timestampMs, String agentId, String requestId,
        ObjectNode payload) {

    public static final String BUDGET_THRESHOLD_REACHED = "budget_threshold_reached";

    public static EngineEvent of(String type, String agentId, String requestId, ObjectNode payload) {
        return new EngineEvent("evt_" + UUID.randomUUID().toString().replace("-", ""), type,
                System.currentTimeMillis(), agentId, requestId, payload);
    }

    /** The flat JSON form users see: the envelope fields with the payload's fields beside them. */
    public ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("event_id", eventId);
        o.put("type", type);
        o.put("timestamp_ms", timestampMs);
        o.put("agent_id", agentId);
        o.put("request_id", requestId);
        o.setAll(payload);
        return o;
    }
}
