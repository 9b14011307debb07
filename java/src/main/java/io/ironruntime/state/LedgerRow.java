package io.ironruntime.state;

/**
 * One settled request as the ledger keeps it. Money is exact: {@code costPicos} in pico-dollars
 * (1e-12 USD); {@code costKnown} is false for a model without a price.
 *
 * @param usageEstimated true when the provider reported no usage and the tokens were counted by the router
 * @param outcome        {@code completed}, {@code upstream_error}, {@code client_disconnected},
 *                       {@code upstream_failed} or {@code not_answered}
 */
public record LedgerRow(long timestampMs, String requestId, String budgetId, String agentId, String provider,
        String model, long inputTokens, long cacheReadTokens, long cacheWriteTokens, long outputTokens,
        long costPicos, boolean costKnown, boolean usageEstimated, int status, String outcome, long latencyMs,
        int attempts) implements StoreRow {
}
