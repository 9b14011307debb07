package io.ironruntime.control;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.state.LedgerRow;

/**
 * A settled request as the Iron Cage server's analytics takes it ({@code POST /api/v1/analytics/events}),
 * without the token (added when sending). A failed request's error is described by status and outcome
 * only: a provider's error text can quote the request.
 */
final class AnalyticsEvent {
    static final String COMPLETED = "llm_request_completed";
    static final String FAILED = "llm_request_failed";

    private AnalyticsEvent() {
    }

    static ObjectNode of(String eventId, LedgerRow row, long costMicros) {
        boolean failed = row.status() >= 400 || !row.outcome().equals("completed");
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("event_id", eventId);
        e.put("timestamp_ms", row.timestampMs());
        e.put("event_type", failed ? FAILED : COMPLETED);
        e.put("model", row.model() == null ? "unknown" : row.model());
        e.put("provider", row.provider());
        e.put("input_tokens", row.totalInputTokens());
        e.put("output_tokens", row.outputTokens());
        e.put("cost_micros", costMicros);
        if (failed) {
            e.put("error_code", row.status() >= 400 ? "http_" + row.status() : row.outcome());
            e.put("error_message", row.status() >= 400 ? "the provider answered HTTP " + row.status()
                    : "the request ended as " + row.outcome() + " (HTTP " + row.status() + ")");
        }
        return e;
    }
}
