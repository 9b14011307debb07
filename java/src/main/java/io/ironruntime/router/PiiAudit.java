package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventSink;
import io.ironruntime.pii.Finding;
import io.ironruntime.pii.PiiMode;
import io.ironruntime.state.LedgerStore;
import io.ironruntime.state.PiiAuditRow;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where detections go: counters for {@code metrics()}, a {@code pii_detected} event each, and an
 * audit row each in the router's database. Only the type, the place and a salted fingerprint travel;
 * the value never leaves the text it was found in. Thread-safe.
 */
final class PiiAudit {
    static final String EVENT = "pii_detected";
    /** The counters of a router with PII handling off: all zero, for the same metrics keys. */
    static final PiiAudit OFF = new PiiAudit(PiiMode.OFF, event -> { }, null);

    private final String action;
    private final EventSink events;
    /** Null when persistence is off. */
    private final LedgerStore store;
    private final Map<String, LongAdder> byType = new ConcurrentHashMap<>();
    private final LongAdder total = new LongAdder();
    final LongAdder blockedRequests = new LongAdder();
    final LongAdder blockedResponses = new LongAdder();
    /** Responses (streams or bodies) cut because the rewriting failed. */
    final LongAdder failedResponses = new LongAdder();
    /** Requests refused because scanning them failed. */
    final LongAdder failedScans = new LongAdder();
    /** The most characters one stream held back at once. */
    final LongAccumulator maxHeld = new LongAccumulator(Math::max, 0);

    PiiAudit(PiiMode mode, EventSink events, LedgerStore store) {
        this.action = switch (mode) {
            case REDACT -> "redacted";
            case MASK -> "masked";
            case HASH -> "hashed";
            case BLOCK -> "blocked";
            case DETECT -> "detected";
            case OFF -> "off";
        };
        this.events = events;
        this.store = store;
    }

    /** One detection in the request {@code r} or its response; counted for the request too. */
    void record(ProxyRequest r, String direction, String field, Finding f) {
        total.increment();
        r.piiDetections.incrementAndGet();
        String requestId = r.id;
        AgentAccount agent = r.agent;
        String agentId = null;
        if (agent != null) {
            agent.piiDetections.increment();
            agentId = agent.agentId();
        }
        byType.computeIfAbsent(f.type(), t -> new LongAdder()).increment();
        long now = System.currentTimeMillis();
        if (store != null) {
            store.append(new PiiAuditRow(now, requestId, agentId, direction, f.type(), action, f.fingerprint(), field,
                    f.start(), f.end()));
        }
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("direction", direction);
        p.put("entity_type", f.type());
        p.put("action", action);
        p.put("field", field);
        p.put("start", f.start());
        p.put("end", f.end());
        p.put("value_hash", f.fingerprint());
        events.publish(EngineEvent.of(EVENT, agentId, requestId, p));
    }

    /** What a detection does in this router's mode ({@code redacted}, {@code blocked}, ...). */
    String action() {
        return action;
    }

    /** Detections so far by entity type (a fixed set of detector names, never the values). */
    Map<String, Long> byType() {
        Map<String, Long> out = new TreeMap<>();
        byType.forEach((t, n) -> out.put(t, n.sum()));
        return out;
    }

    long total() {
        return total.sum();
    }

    void addTo(ObjectNode metrics) {
        metrics.put("pii_detections", total.sum());
        ObjectNode types = metrics.putObject("pii_detections_by_type");
        new TreeMap<>(byType).forEach((t, n) -> types.put(t, n.sum()));
        metrics.put("pii_action", action);
        metrics.put("pii_blocked_requests", blockedRequests.sum());
        metrics.put("pii_blocked_responses", blockedResponses.sum());
        metrics.put("pii_failed_responses", failedResponses.sum());
        metrics.put("pii_failed_requests", failedScans.sum());
        metrics.put("pii_max_held_chars", maxHeld.get());
    }
}
