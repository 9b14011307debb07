package io.ironruntime.router;

import io.ironruntime.state.LedgerRow;
import java.util.ArrayList;
import java.util.List;

/**
 * The last settled requests in memory, for {@code GET /iron/api/requests} of a router without a
 * database. Settlement adds one under a short lock; the oldest fall out.
 */
final class RecentRequests {
    /** As many as one read may ask for. */
    static final int CAPACITY = RequestsEndpoint.MAX_LIMIT;

    private final LedgerRow[] ring;
    /** Rows added so far; the newest is at {@code (added - 1) % ring.length}. */
    private long added;

    RecentRequests(int capacity) {
        this.ring = new LedgerRow[capacity];
    }

    synchronized void add(LedgerRow row) {
        ring[(int) (added % ring.length)] = row;
        added++;
    }

    /** The newest {@code limit} rows, newest first; only the agent's when {@code agentId} is not null. */
    synchronized List<LedgerRow> newest(int limit, String agentId) {
        List<LedgerRow> out = new ArrayList<>(Math.min(limit, ring.length));
        for (long i = added - 1; i >= 0 && i >= added - ring.length && out.size() < limit; i--) {
            LedgerRow row = ring[(int) (i % ring.length)];
            if (agentId == null || agentId.equals(row.agentId())) {
                out.add(row);
            }
        }
        return out;
    }
}
