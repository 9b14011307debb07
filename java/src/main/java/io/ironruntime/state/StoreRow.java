package io.ironruntime.state;

/** A row the store's writer thread commits: a request's ledger entry or a PII audit entry. */
public sealed interface StoreRow permits LedgerRow, PiiAuditRow {
}
