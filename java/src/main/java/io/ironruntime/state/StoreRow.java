package io.ironruntime.state;

/**
 * A row the store's writer thread commits: a request's ledger entry, a PII audit entry, an agent's
 * row (upserted) or a change of its status.
 */
public sealed interface StoreRow permits LedgerRow, PiiAuditRow, AgentRow, AgentStatusRow {
}
