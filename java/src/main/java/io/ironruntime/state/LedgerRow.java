package io.ironruntime.state;

/**
 * One settled request as the ledger keeps it. Money is exact: {@code costPicos} in pico-dollars
 * (1e-12 USD); {@code costKnown} is false for a model without a price.
 *
 * @param usageEstimated true when the provider reported no usage and the tokens were counted by the router
 * @param outcome        {@code completed}, {@code upstream_error}, {@code client_disconnected},
 *                       {@code upstream_failed} or {@code not_answered}
 * @param traceparent    the W3C trace context sent upstream (the client's, or one the router started);
 *                       null in rows written before schema 5
 * @param piiDetections  PII detections in the request and its response
 * @param stream         whether the request asked for a stream; null in rows written before schema 5
 */
public record LedgerRow(long timestampMs, String requestId, String budgetId, String agentId, String provider,
        String model, long inputTokens, long cacheReadTokens, long cacheWriteTokens, long outputTokens,
        long costPicos, boolean costKnown, boolean usageEstimated, int status, String outcome, long latencyMs,
        int attempts, String traceparent, int piiDetections, Boolean stream) implements StoreRow {

    /** Input tokens of every billing kind: uncached, cache reads and cache writes. */
    public long totalInputTokens() {
        return inputTokens + cacheReadTokens + cacheWriteTokens;
    }
}
