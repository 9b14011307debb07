package io.ironruntime.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.Version;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code GET /iron/api/status}: the router, its budget, its totals, PII, circuits, agents and events
 * in one object, regrouped from {@code router.metrics()} (so both always agree) for a dashboard.
 * Pure: the caller reads the router and the clock.
 */
public final class StatusReport {
    private StatusReport() {
    }

    /**
     * What the report says of the router itself.
     *
     * @param provider    the provider of bare paths, or null
     * @param startedAtMs when the current (or last) run started, or 0 before the first start
     */
    public record RouterFacts(String mode, String host, int port, String baseUrl, String provider, boolean running,
            long startedAtMs) {
    }

    /** The totals that are copied from the metrics as they are. */
    private static final String[] TOTALS = {"requests", "proxied", "errors", "in_flight", "input_tokens",
        "output_tokens", "cached_tokens", "cost", "pii_detections", "rate_limited", "retries", "queued"};

    /**
     * @param metrics {@code router.metrics()}
     * @param agents  every agent as {@code /iron/api/agents} lists it
     */
    public static ObjectNode of(RouterFacts router, ObjectNode metrics, List<? extends JsonNode> agents, long nowMs) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.set("router", router(router, nowMs));
        o.set("budget", budget(metrics));
        ObjectNode totals = o.putObject("totals");
        for (String k : TOTALS) {
            totals.set(k, metrics.get(k));
        }
        o.set("pii", pii(metrics));
        o.set("circuits", circuits(metrics));
        o.set("agents", agents(agents));
        ObjectNode events = o.putObject("events");
        events.set("published", metrics.get("events_published"));
        events.set("dropped", metrics.get("events_dropped"));
        events.set("dropped_by_consumer", metrics.get("events_dropped_by_consumer"));
        return o;
    }

    private static ObjectNode router(RouterFacts r, long nowMs) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("version", Version.VERSION);
        o.put("mode", r.mode());
        o.put("host", r.host());
        o.put("port", r.port());
        o.put("base_url", r.baseUrl());
        o.put("provider", r.provider());
        o.put("running", r.running());
        if (r.startedAtMs() == 0) {
            o.putNull("started_at_ms");
            o.putNull("uptime_s");
        } else {
            o.put("started_at_ms", r.startedAtMs());
            o.put("uptime_s", r.running() ? Math.max(0, nowMs - r.startedAtMs()) / 1000.0 : 0.0);
        }
        return o;
    }

    /** Dollars as in the metrics; limit, remaining and fraction_used are null without a limit. */
    private static ObjectNode budget(ObjectNode m) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        JsonNode limit = m.get("budget_limit");
        o.set("limit", limit);
        o.set("spent", m.get("budget_spent"));
        o.set("reserved", m.get("budget_reserved"));
        o.set("remaining", m.get("budget_remaining"));
        if (limit == null || limit.isNull()) {
            o.putNull("fraction_used");
        } else {
            double l = limit.asDouble();
            double spent = m.get("budget_spent").asDouble();
            // A $0 budget allows nothing: it is used up from the start.
            o.put("fraction_used", l > 0 ? spent / l : 1.0);
        }
        o.set("spent_picos", m.get("budget_spent_picos"));
        o.set("budget_id", m.get("budget_id"));
        o.set("refused_requests", Json.MAPPER.getNodeFactory().numberNode(
                m.path("refused_budget_exhausted").asLong() + m.path("refused_insufficient_budget").asLong()));
        return o;
    }

    /** By type as counted; by action: the router's one action (its PII mode) with every detection. */
    private static ObjectNode pii(ObjectNode m) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        String action = m.path("pii_action").asText("off");
        o.put("action", action);
        o.set("total", m.get("pii_detections"));
        o.set("by_type", m.get("pii_detections_by_type"));
        ObjectNode byAction = o.putObject("by_action");
        if (!action.equals("off")) {
            byAction.set(action, m.get("pii_detections"));
        }
        o.set("blocked_requests", m.get("pii_blocked_requests"));
        o.set("blocked_responses", m.get("pii_blocked_responses"));
        return o;
    }

    /** {@code metrics()["circuits"]} (an object by upstream) as a list, each with its {@code upstream}. */
    private static ArrayNode circuits(ObjectNode m) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        JsonNode all = m.path("circuits");
        for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            ObjectNode c = out.addObject();
            c.put("upstream", e.getKey());
            c.setAll((ObjectNode) e.getValue());
        }
        return out;
    }

    /** Counts: {@code running} is what runs now (paused agents are not), {@code by_status} every status. */
    private static ObjectNode agents(List<? extends JsonNode> agents) {
        Map<String, Integer> byStatus = new TreeMap<>();
        for (JsonNode a : agents) {
            byStatus.merge(a.path("status").asText(), 1, Integer::sum);
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("total", agents.size());
        o.put("running", byStatus.getOrDefault("running", 0));
        ObjectNode s = o.putObject("by_status");
        byStatus.forEach(s::put);
        return o;
    }
}
