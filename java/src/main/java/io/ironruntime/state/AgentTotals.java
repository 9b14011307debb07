package io.ironruntime.state;

/**
 * What one agent's requests added up to, from the {@code ledger} and {@code pii_audit} rows that carry
 * its id (all runs, all writers of the file).
 *
 * @param spentPicos    the sum of its requests' cost, in pico-dollars
 * @param requests      its ledger rows, answered or not
 * @param inputTokens   input tokens including cache reads and cache writes
 * @param piiDetections its audit rows (each detected value once)
 */
public record AgentTotals(String agentId, long spentPicos, long requests, long inputTokens, long outputTokens,
        long piiDetections) {
    public static AgentTotals none(String agentId) {
        return new AgentTotals(agentId, 0, 0, 0, 0, 0);
    }
}
