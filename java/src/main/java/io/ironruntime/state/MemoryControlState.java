package io.ironruntime.state;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Control-server state without a database ({@code persist=False}): lost with the process, never adopted. */
public final class MemoryControlState implements ControlState {
    private final List<Owed> outbox = new ArrayList<>();
    private final Map<String, LeaseRow> leases = new LinkedHashMap<>();
    private long nextId = 1;

    private static final class Owed {
        final long id;
        final OutboxRow row;
        String leaseId;
        String result;
        int attempts;

        Owed(long id, OutboxRow row) {
            this.id = id;
            this.row = row;
            this.leaseId = row.leaseId();
        }

        OutboxItem item() {
            return new OutboxItem(id, row.kind(), row.itemId(), leaseId, row.costMicros(), row.body(), attempts);
        }
    }

    @Override
    public synchronized void record(LedgerRow row, List<OutboxRow> owed) {
        for (OutboxRow o : owed) {
            outbox.add(new Owed(nextId++, o));
        }
    }

    @Override
    public int adoptLeftovers() {
        return 0;
    }

    @Override
    public void flushWrites(long timeoutMillis) {
        // recorded rows are readable at once
    }

    @Override
    public void prune(long cutoffMs) {
        // finished rows are not kept
    }

    @Override
    public void release() {
        // nothing outlives this process
    }

    @Override
    public synchronized List<OutboxItem> pending(String kind, int limit) {
        List<OutboxItem> out = new ArrayList<>();
        for (Owed o : outbox) {
            if (o.result == null && o.row.kind().equals(kind) && out.size() < limit) {
                out.add(o.item());
            }
        }
        return out;
    }

    @Override
    public synchronized int countPending(String kind) {
        return (int) outbox.stream().filter(o -> o.result == null && o.row.kind().equals(kind)).count();
    }

    @Override
    public synchronized void finish(List<Long> ids, String result, long nowMs) {
        // Finished rows are dropped: memory holds only what is still owed.
        outbox.removeIf(o -> {
            if (ids.contains(o.id) && o.result == null) {
                o.result = result;
                return !o.row.kind().equals(OutboxRow.REPORT) || !result.equals("acked");
            }
            return false;
        });
    }

    @Override
    public synchronized void attempted(long id, String leaseId) {
        for (Owed o : outbox) {
            if (o.id == id) {
                o.attempts++;
                if (leaseId != null) {
                    o.leaseId = leaseId;
                }
            }
        }
    }

    @Override
    public synchronized void leaseGranted(LeaseRow lease) {
        leases.putIfAbsent(lease.leaseId(), lease);
    }

    @Override
    public synchronized void leaseEnded(String leaseId, String state, long nowMs, Long returnedMicros) {
        LeaseRow l = leases.get(leaseId);
        if (l != null) {
            leases.put(leaseId, new LeaseRow(l.leaseId(), l.scope(), l.provider(), l.grantedMicros(), state,
                    l.createdMs(), nowMs, returnedMicros));
        }
        // Acknowledged reports were kept only to sum the lease's charges.
        outbox.removeIf(o -> o.result != null && leaseId.equals(o.leaseId));
    }

    @Override
    public synchronized List<LeaseRow> activeLeases() {
        return leases.values().stream().filter(l -> l.state().equals(LeaseRow.ACTIVE)).toList();
    }

    @Override
    public synchronized long chargedMicros(String leaseId) {
        long sum = 0;
        for (Owed o : outbox) {
            if (o.row.kind().equals(OutboxRow.REPORT) && leaseId.equals(o.leaseId)
                    && (o.result == null || o.result.equals("acked"))) {
                sum += o.row.costMicros();
            }
        }
        return sum;
    }
}
