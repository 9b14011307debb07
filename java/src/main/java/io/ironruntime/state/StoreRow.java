package io.ironruntime.state;

/**
 * A row the store's writer thread commits: a request's ledger entry, a PII audit entry, an agent's
 * row (upserted), a change of its status, a control-server outbox row, or a group of these
 * committed together.
 */
public sealed interface StoreRow permits LedgerRow, PiiAuditRow, AgentRow, AgentStatusRow, OutboxRow, RowGroup {
}
