package io.ironruntime.state;

import java.sql.SQLException;
import java.util.List;

/**
 * Where control-server mode keeps its leases and its outbox: the router's database ({@link ControlStore}),
 * or memory when persistence is off ({@link MemoryControlState}: nothing survives the process then).
 */
public interface ControlState {
    /** Records a settled request with what it owes the server (written together, or not at all). */
    void record(LedgerRow row, List<OutboxRow> owed);

    /** Waits (at most {@code timeoutMillis}) until every recorded row is committed, so it can be read back. */
    void flushWrites(long timeoutMillis);

    /** Takes over what sessions of this scope left behind (released, or their process died); returns how much. */
    int adoptLeftovers() throws SQLException;

    /** Forgets finished outbox rows older than {@code cutoffMs}. */
    void prune(long cutoffMs) throws SQLException;

    /** Lets go of this session's unfinished rows and active leases, for the next session to adopt. */
    void release() throws SQLException;

    List<OutboxItem> pending(String kind, int limit) throws SQLException;

    int countPending(String kind) throws SQLException;

    /** The server acknowledged the rows ({@code "acked"}) or refused them for good ({@code "rejected ..."}). */
    void finish(List<Long> ids, String result, long nowMs) throws SQLException;

    /** A send that did not finish the row; {@code leaseId} (when not null) is the lease it is now charged to. */
    void attempted(long id, String leaseId) throws SQLException;

    void leaseGranted(LeaseRow lease) throws SQLException;

    void leaseEnded(String leaseId, String state, long nowMs, Long returnedMicros) throws SQLException;

    /** This session's active leases, oldest first. */
    List<LeaseRow> activeLeases() throws SQLException;

    /** What was charged to a lease: its report rows not refused, sent or not. */
    long chargedMicros(String leaseId) throws SQLException;
}
