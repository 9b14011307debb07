package io.ironruntime.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Something that happened in the engine, for users and monitoring. The payload is a small JSON
 * object whose fields depend on the type; it never carries a secret or raw PII (types, counts,
 * salted hashes, never values or keys). Immutable.
 *
 * <p>The id is unique across processes: a random per-process prefix and a sequence number. It is
 * spelled out only when first read (by a consumer thread), so the publishing I/O thread pays for a
 * sequence number, not for building a string.
 */
public final class EngineEvent {

    public static final String ROUTER_STARTED = "router_started";
    public static final String ROUTER_STOPPED = "router_stopped";
    public static final String REQUEST_COMPLETED = "request_completed";
    public static final String REQUEST_FAILED = "request_failed";
    public static final String BUDGET_THRESHOLD_REACHED = "budget_threshold_reached";
    public static final String BUDGET_EXCEEDED = "budget_exceeded";
    public static final String PII_DETECTED = "pii_detected";
    public static final String CIRCUIT_STATE_CHANGED = "circuit_state_changed";
    public static final String RATE_LIMITED = "rate_limited";
    // Control-server mode.
    public static final String PROVIDER_KEY_FETCHED = "provider_key_fetched";
    public static final String CONTROL_SERVER_ERROR = "control_server_error";
    public static final String LEASE_ACQUIRED = "lease_acquired";
    public static final String LEASE_REFRESH_DENIED = "lease_refresh_denied";
    public static final String LEASE_RETURNED = "lease_returned";
    public static final String LEASE_LOST = "lease_lost";
    public static final String CONTROL_REPORT_REJECTED = "control_report_rejected";

    /** Every type the engine emits (the agent runtime's included), in no particular order. */
    public static final java.util.Set<String> TYPES = java.util.Set.of(ROUTER_STARTED, ROUTER_STOPPED,
            REQUEST_COMPLETED, REQUEST_FAILED, BUDGET_THRESHOLD_REACHED, BUDGET_EXCEEDED, PII_DETECTED,
            CIRCUIT_STATE_CHANGED, RATE_LIMITED, "agent_started", "agent_paused", "agent_resumed", "agent_stopped",
            "agent_restarted", "agent_failed", "agent_completed", PROVIDER_KEY_FETCHED, CONTROL_SERVER_ERROR,
            LEASE_ACQUIRED, LEASE_REFRESH_DENIED, LEASE_RETURNED, LEASE_LOST, CONTROL_REPORT_REJECTED);

    /** A UUID per event costs a SecureRandom call (about 1 µs under contention); a sequence costs 10 ns. */
    private static final String ID_PREFIX = "evt_" + Long.toHexString(new SecureRandom().nextLong() & 0xffff_ffff_ffffL)
            + "_";
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private final long sequence;
    /** Null until first read for events made here; set for events read back from the database. */
    private volatile String eventId;
    private final String type;
    private final long timestampMs;
    private final String agentId;
    private final String requestId;
    private final ObjectNode payload;

    /**
     * An event with a known id (read back from storage).
     *
     * @param agentId   the agent it concerns, or null
     * @param requestId the request it concerns, or null
     */
    public EngineEvent(String eventId, String type, long timestampMs, String agentId, String requestId,
            ObjectNode payload) {
        this(0, eventId, type, timestampMs, agentId, requestId, payload);
    }

    private EngineEvent(long sequence, String eventId, String type, long timestampMs, String agentId,
            String requestId, ObjectNode payload) {
        this.sequence = sequence;
        this.eventId = eventId;
        this.type = type;
        this.timestampMs = timestampMs;
        this.agentId = agentId;
        this.requestId = requestId;
        this.payload = payload;
    }

    public static EngineEvent of(String type, String agentId, String requestId, ObjectNode payload) {
        return at(System.currentTimeMillis(), type, agentId, requestId, payload);
    }

    public static EngineEvent at(long timestampMs, String type, String agentId, String requestId, ObjectNode payload) {
        return new EngineEvent(SEQUENCE.incrementAndGet(), null, type, timestampMs, agentId, requestId, payload);
    }

    public String eventId() {
        String id = eventId;
        if (id == null) {
            id = ID_PREFIX + Long.toHexString(sequence); // the same string whichever thread builds it first
            eventId = id;
        }
        return id;
    }

    public String type() {
        return type;
    }

    public long timestampMs() {
        return timestampMs;
    }

    public String agentId() {
        return agentId;
    }

    public String requestId() {
        return requestId;
    }

    public ObjectNode payload() {
        return payload;
    }

    /** The flat JSON form users see: the envelope fields with the payload's fields beside them. */
    public ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("event_id", eventId());
        o.put("type", type);
        o.put("timestamp_ms", timestampMs);
        o.put("agent_id", agentId);
        o.put("request_id", requestId);
        o.setAll(payload);
        return o;
    }

    /** Events are the same when their ids are (an id is never reused). */
    @Override
    public boolean equals(Object o) {
        return o instanceof EngineEvent e && eventId().equals(e.eventId());
    }

    @Override
    public int hashCode() {
        return eventId().hashCode();
    }

    @Override
    public String toString() {
        return "EngineEvent[" + eventId() + " " + type + " at " + timestampMs + "]";
    }
}
