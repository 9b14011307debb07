package io.ironruntime.state;

import java.sql.SQLException;
import java.util.List;

/**
 * Control-server mode's rows in the router's database: the leases it holds and the outbox of reports
 * and analytics events. Outbox rows are written by the store's writer with their ledger rows
 * ({@link RowGroup}); everything here runs on the caller's thread, between the writer's batches.
 */
public final class ControlStore implements ControlState {
    private final LedgerStore store;
    private final ControlScope scope;
    private final ControlOwner owner;

    public ControlStore(LedgerStore store, ControlScope scope, ControlOwner owner) {
        this.store = store;
        this.scope = scope;
        this.owner = owner;
    }

    /** Takes over what sessions of this scope left behind (released, or their process died); returns how much. */
    @Override
    public int adoptLeftovers() throws SQLException {
        return store.inTransaction(c -> ControlTables.adopt(c, scope.key(), owner));
    }

    /** Lets go of this session's unfinished rows and active leases, for the next session to adopt. */
    @Override
    public void flushWrites(long timeoutMillis) {
        try {
            store.flush(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void prune(long cutoffMs) throws SQLException {
        store.inTransaction(c -> ControlTables.prune(c, cutoffMs));
    }

    @Override
    public void release() throws SQLException {
        store.inTransaction(c -> {
            ControlTables.release(c, owner.id());
            return null;
        });
    }

    @Override
    public List<OutboxItem> pending(String kind, int limit) throws SQLException {
        return store.inTransaction(c -> ControlTables.pending(c, owner.id(), kind, limit));
    }

    @Override
    public int countPending(String kind) throws SQLException {
        return store.inTransaction(c -> ControlTables.countPending(c, owner.id(), kind));
    }

    /** The server acknowledged the rows ({@code "acked"}) or refused them for good ({@code "rejected ..."}). */
    @Override
    public void finish(List<Long> ids, String result, long nowMs) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        store.inTransaction(c -> {
            ControlTables.finish(c, ids, result, nowMs);
            return null;
        });
    }

    /** A send that did not finish the row; {@code leaseId} (when not null) is the lease it is now charged to. */
    @Override
    public void attempted(long id, String leaseId) throws SQLException {
        store.inTransaction(c -> {
            ControlTables.attempted(c, id, leaseId);
            return null;
        });
    }

    @Override
    public void leaseGranted(LeaseRow lease) throws SQLException {
        store.inTransaction(c -> {
            ControlTables.insertLease(c, lease, owner);
            return null;
        });
    }

    @Override
    public void leaseEnded(String leaseId, String state, long nowMs, Long returnedMicros) throws SQLException {
        store.inTransaction(c -> {
            ControlTables.endLease(c, leaseId, state, nowMs, returnedMicros);
            return null;
        });
    }

    @Override
    public List<LeaseRow> activeLeases() throws SQLException {
        return store.inTransaction(c -> ControlTables.activeLeases(c, owner.id()));
    }

    @Override
    public long chargedMicros(String leaseId) throws SQLException {
        return store.inTransaction(c -> ControlTables.chargedMicros(c, leaseId));
    }

    @Override
    public void record(LedgerRow row, List<OutboxRow> owed) {
        List<StoreRow> rows = new java.util.ArrayList<>(owed.size() + 1);
        rows.add(row);
        rows.addAll(owed);
        store.append(owed.isEmpty() ? row : new RowGroup(rows));
    }

    public ControlScope scope() {
        return scope;
    }

    public ControlOwner owner() {
        return owner;
    }
}
