package io.ironruntime.state;

/**
 * One settled request as the ledger keeps it. Money is exact: {@code costPicos} in pico-dollars
 * (1e-12 USD); {@code costKnown} is false for a model without a price.
 */
public record LedgerRow(long timestampMs, String requestId, String budgetId, String agentId, String provider,
        String model, long inputTokens, long cacheReadTokens, long cacheWriteTokens, long outputTokens,
        long costPicos, boolean costKnown, int status, long latencyMs, int attempts) {
}
