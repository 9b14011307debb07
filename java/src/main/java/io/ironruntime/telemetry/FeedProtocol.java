package io.ironruntime.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What the live feed says: every engine event as its own message ({@link EngineEvent#toJson()}),
 * plus the Iron Cage dashboard protocol ("protocol 003") derived from them. Pure: the caller passes
 * the clock reading and the figures a message needs.
 * <ul>
 * <li>{@code STATE_UPDATE {timestamp, timestamp_ms, agent_id, state, data}}: the router's snapshot
 * ({@code agent_id} null, {@code data} = {@code router.metrics()}), or an agent's new status.</li>
 * <li>{@code AGENT_EVENT {..., event: "llm_call", data: {model, tokens, cost_usd, ...}}} per completed request.</li>
 * <li>{@code COST_ALERT {..., severity, data: {budget_spent, budget_limit, percentage, ...}}}.</li>
 * <li>{@code HEARTBEAT {timestamp, timestamp_ms}}.</li>
 * </ul>
 * The original's {@code timestamp} unit was ambiguous; here it is ISO-8601 UTC with milliseconds
 * ({@code 2026-11-21T10:15:30.123Z}) and {@code timestamp_ms} carries the same instant as epoch
 * milliseconds, like the engine events.
 */
public final class FeedProtocol {
    public static final String STATE_UPDATE = "STATE_UPDATE";
    public static final String AGENT_EVENT = "AGENT_EVENT";
    public static final String COST_ALERT = "COST_ALERT";
    public static final String HEARTBEAT = "HEARTBEAT";
    public static final Set<String> TYPES = Set.of(STATE_UPDATE, AGENT_EVENT, COST_ALERT, HEARTBEAT);

    /** The type of a client's authentication message on the WebSocket. */
    public static final String AUTH = "AUTH";

    /** A budget alert at or above this fraction of the limit is {@code critical}; below, {@code warning}. */
    public static final double CRITICAL_FRACTION = 0.9;

    /** An agent's status after each agent event, in the runtime's own words. */
    private static final Map<String, String> AGENT_STATES = Map.of(
            "agent_started", "running",
            "agent_resumed", "running",
            "agent_restarted", "running",
            "agent_paused", "paused",
            "agent_stopped", "stopped",
            "agent_failed", "failed",
            "agent_completed", "completed");

    /** Engine events after which the router's totals or state differ: a fresh router STATE_UPDATE follows. */
    private static final Set<String> ROUTER_CHANGES = Set.of(EngineEvent.ROUTER_STARTED, EngineEvent.ROUTER_STOPPED,
            EngineEvent.REQUEST_COMPLETED, EngineEvent.REQUEST_FAILED, EngineEvent.BUDGET_THRESHOLD_REACHED,
            EngineEvent.BUDGET_EXCEEDED);

    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private FeedProtocol() {
    }

    /**
     * The messages one engine event becomes, in this order: the event itself, then what the
     * dashboard protocol derives from it (an {@code AGENT_EVENT}, a {@code COST_ALERT}, or an agent's
     * {@code STATE_UPDATE}).
     *
     * @param agentFigures an agent's figures ({@code budget_spent}, ...) by id, or null when unknown
     */
    public static List<FeedMessage> messages(EngineEvent e, Function<String, ObjectNode> agentFigures) {
        List<FeedMessage> out = new ArrayList<>(2);
        out.add(FeedMessage.of(e.toJson()));
        ObjectNode derived = derive(e, agentFigures);
        if (derived != null) {
            out.add(FeedMessage.of(derived));
        }
        return out;
    }

    private static ObjectNode derive(EngineEvent e, Function<String, ObjectNode> agentFigures) {
        switch (e.type()) {
            case EngineEvent.REQUEST_COMPLETED:
                return llmCall(e);
            case EngineEvent.BUDGET_THRESHOLD_REACHED:
                return costAlert(e, e.payload().path("threshold").asDouble() >= CRITICAL_FRACTION);
            case EngineEvent.BUDGET_EXCEEDED:
                return costAlert(e, true);
            default:
                String state = AGENT_STATES.get(e.type());
                return state == null || e.agentId() == null ? null : agentState(e, state, agentFigures.apply(e.agentId()));
        }
    }

    /** True when the router's snapshot changed with this event (spend, budget, running or not). */
    public static boolean changesRouterState(EngineEvent e) {
        return ROUTER_CHANGES.contains(e.type());
    }

    /** The router's snapshot: {@code state} {@code running} or {@code stopped}, {@code data} its metrics. */
    public static FeedMessage routerState(long nowMs, boolean running, ObjectNode metrics) {
        ObjectNode o = envelope(STATE_UPDATE, nowMs, null);
        o.put("state", running ? "running" : "stopped");
        o.set("data", metrics);
        return FeedMessage.of(o);
    }

    public static FeedMessage heartbeat(long nowMs) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("type", HEARTBEAT);
        o.put("timestamp", isoTime(nowMs));
        o.put("timestamp_ms", nowMs);
        return FeedMessage.of(o);
    }

    /**
     * The token in a WebSocket client's authentication message: the bare token, or
     * {@code {"type":"AUTH","token":"..."}}; null when it is neither.
     */
    public static String authToken(String message) {
        String m = message.strip();
        if (m.isEmpty()) {
            return null;
        }
        if (!m.startsWith("{")) {
            return m;
        }
        JsonNode n = Json.readOrNull(m);
        if (n == null || !n.path("type").asText().equalsIgnoreCase(AUTH) || !n.path("token").isTextual()) {
            return null;
        }
        return n.get("token").asText();
    }

    private static ObjectNode llmCall(EngineEvent e) {
        JsonNode p = e.payload();
        ObjectNode o = envelope(AGENT_EVENT, e.timestampMs(), e.agentId());
        o.put("event", "llm_call");
        ObjectNode d = o.putObject("data");
        d.put("model", p.path("model").asText());
        long input = p.path("input_tokens").asLong();
        long output = p.path("output_tokens").asLong();
        d.put("tokens", input + output);
        copy(d, "cost_usd", p, "cost");
        d.put("input_tokens", input);
        d.put("output_tokens", output);
        copy(d, "provider", p, "provider");
        copy(d, "latency_ms", p, "latency_ms");
        d.put("request_id", e.requestId());
        return o;
    }

    /** A threshold alert or a refusal: the budget it concerns (the router's, or the event's agent's). */
    private static ObjectNode costAlert(EngineEvent e, boolean critical) {
        JsonNode p = e.payload();
        ObjectNode o = envelope(COST_ALERT, e.timestampMs(), e.agentId());
        o.put("severity", critical ? "critical" : "warning");
        ObjectNode d = o.putObject("data");
        double spent = p.path("budget_spent").asDouble();
        double limit = p.path("budget_limit").asDouble();
        d.put("budget_spent", spent);
        d.put("budget_limit", limit);
        d.put("percentage", limit > 0 ? Math.round(spent / limit * 10_000) / 100.0 : 100.0);
        d.put("alert", e.type());
        if (p.has("threshold")) {
            d.set("threshold", p.get("threshold"));
        }
        if (p.has("reason")) {
            d.set("reason", p.get("reason"));
        }
        d.put("request_id", e.requestId());
        return o;
    }

    private static ObjectNode agentState(EngineEvent e, String state, ObjectNode figures) {
        ObjectNode o = envelope(STATE_UPDATE, e.timestampMs(), e.agentId());
        o.put("state", state);
        ObjectNode d = o.putObject("data");
        d.put("event", e.type());
        d.setAll(e.payload());
        if (figures != null) {
            d.setAll(figures);
        }
        if (!d.has("budget_spent")) {
            d.put("budget_spent", 0.0);
        }
        return o;
    }

    private static ObjectNode envelope(String type, long timestampMs, String agentId) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("type", type);
        o.put("timestamp", isoTime(timestampMs));
        o.put("timestamp_ms", timestampMs);
        o.put("agent_id", agentId);
        return o;
    }

    /** {@code from.name} as {@code to.as}, null when absent (a missing node would not serialize). */
    private static void copy(ObjectNode to, String as, JsonNode from, String name) {
        JsonNode v = from.get(name);
        if (v == null) {
            to.putNull(as);
        } else {
            to.set(as, v);
        }
    }

    static String isoTime(long epochMs) {
        return ISO.format(Instant.ofEpochMilli(epochMs));
    }
}
