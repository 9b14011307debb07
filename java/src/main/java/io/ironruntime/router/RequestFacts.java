package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.cost.Money;
import io.ironruntime.state.LedgerRow;
import io.ironruntime.telemetry.TraceParent;

/**
 * The fields every view of a finished request shares (its event, {@code GET /iron/api/requests}, the
 * request log), so they name and count things the same way. Input tokens are all kinds together, as
 * the provider bills them; {@code cached_tokens} is the cache-read part. Never a key, a token or text.
 */
final class RequestFacts {
    private RequestFacts() {
    }

    static void write(LedgerRow row, ObjectNode o) {
        o.put("provider", row.provider());
        o.put("model", row.model());
        o.put("status", row.status());
        o.put("outcome", row.outcome());
        o.put("input_tokens", row.totalInputTokens());
        o.put("cached_tokens", row.cacheReadTokens());
        o.put("output_tokens", row.outputTokens());
        o.put("cost", Money.picosToDollars(row.costPicos()));
        o.put("cost_picos", row.costPicos());
        o.put("latency_ms", row.latencyMs());
        o.put("attempts", row.attempts());
        o.put("pii_detections", row.piiDetections());
        if (row.stream() == null) {
            o.putNull("stream");
        } else {
            o.put("stream", row.stream());
        }
        o.put("trace_id", TraceParent.traceIdOf(row.traceparent()));
        o.put("traceparent", row.traceparent());
    }
}
