package io.ironruntime.control;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventSink;
import io.ironruntime.state.ControlState;
import io.ironruntime.state.LeaseRow;
import io.ironruntime.state.OutboxItem;
import io.ironruntime.state.OutboxRow;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;

/**
 * The one thread that talks to the Iron Cage server about money: handshakes and refreshes when due,
 * reports of settled requests as soon as they are committed, analytics events on an interval, and at
 * stop the last reports and events and the return of the leases. Each outbox row is marked done once the
 * server acknowledged it (or refused it for good), so nothing is sent twice by this router; a row left
 * unsent by a crash is sent by the next session that adopts it.
 */
final class ControlSync {
    static final int BATCH = 100;
    static final long REPORT_LINGER_MILLIS = 50;
    static final long FLUSH_MILLIS = 2_000;
    static final long RETRY_BASE_NANOS = 1_000_000_000L;
    static final long RETRY_CAP_NANOS = 30_000_000_000L;

    private final ControlClient client;
    private final ControlState state;
    private final BudgetLeases leases;
    private final ProviderKeys keys;
    private final EventSink events;
    private final long analyticsIntervalNanos;
    final Lane reports = new Lane(OutboxRow.REPORT, this::report);
    final Lane analytics = new Lane(OutboxRow.ANALYTICS, this::sendEvent);

    private final Object lock = new Object();
    private boolean signalled;
    private boolean stopping;
    private Thread thread;
    private long nextAnalytics;
    /** Whether this session may hold a lease besides the current one (adopted, or left by a failed return). */
    private boolean leftovers;

    ControlSync(ControlClient client, ControlState state, BudgetLeases leases, ProviderKeys keys, EventSink events,
            long analyticsIntervalNanos) {
        this.client = client;
        this.state = state;
        this.leases = leases;
        this.keys = keys;
        this.events = events;
        this.analyticsIntervalNanos = analyticsIntervalNanos;
    }

    synchronized void start() {
        synchronized (lock) {
            stopping = false;
            signalled = true;
        }
        nextAnalytics = System.nanoTime() + analyticsIntervalNanos;
        leftovers = true;
        thread = new Thread(this::run, "iron-control-sync");
        thread.setDaemon(true);
        thread.start();
    }

    /** Something to do: a settled request to report, a lease to get or refresh. */
    void wake() {
        synchronized (lock) {
            signalled = true;
            lock.notifyAll();
        }
    }

    /**
     * Sends what is left, returns the leases whose charges are all acknowledged, and ends the thread;
     * waits at most {@code timeoutMillis}. What could not be sent stays in the outbox for the next start.
     */
    void stop(long timeoutMillis) {
        Thread t;
        synchronized (this) {
            t = thread;
            thread = null;
        }
        if (t == null) {
            return;
        }
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
        }
        try {
            t.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            t.interrupt(); // a blocked call: the rows stay queued for the next start
        }
    }

    private void run() {
        while (true) {
            boolean last;
            long wait = waitNanos(); // outside the lock: the leases' lock is taken by requests that then wake us
            synchronized (lock) {
                if (!signalled && !stopping && wait > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(lock, wait);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                signalled = false;
                last = stopping;
            }
            if (last) {
                finalRound();
                return;
            }
            if (leases.refreshDue()) {
                // The server expires the old lease when it grants a new one: report its charges first.
                state.flushWrites(FLUSH_MILLIS);
                drain(reports, false);
            }
            if (leases.due()) {
                leases.tick(keys);
            }
            sleepQuietly(REPORT_LINGER_MILLIS); // let a burst of settlements gather
            drain(reports, false);
            long now = System.nanoTime();
            if (now - nextAnalytics >= 0) {
                nextAnalytics = now + analyticsIntervalNanos;
                drain(analytics, false);
            }
            if (leftovers) {
                returnLeftovers(false);
            }
        }
    }

    /** How long to sleep before something is due (a wake-up comes sooner). */
    private long waitNanos() {
        long now = System.nanoTime();
        long next = nextAnalytics - now;
        next = Math.min(next, leases.nextRetryIn());
        if (reports.waiting(now)) {
            next = Math.min(next, reports.retryAt - now);
        }
        return Math.max(0, Math.min(next, TimeUnit.SECONDS.toNanos(1))); // at least once a second: leftovers
    }

    private void finalRound() {
        reports.retryAt = System.nanoTime();
        analytics.retryAt = reports.retryAt;
        drain(reports, true);
        drain(analytics, true);
        returnLeftovers(true);
        try {
            state.release();
        } catch (SQLException e) {
            ControlEvents.error(events, new ControlFailure("release", 0, "STATE", e.getMessage()), client.server());
        }
        leases.reset();
    }

    // ---- the outbox, one lane per kind ---------------------------------------------------------------

    private enum Outcome { DONE, FAILED, PAUSE }

    /** One kind of outbox row: how to send one, its counters, and its backoff after failures. */
    static final class Lane {
        final String kind;
        private final BiFunction<OutboxItem, ObjectNode, Outcome> send;
        final LongAdder sent = new LongAdder();
        final LongAdder rejected = new LongAdder();
        /** Rows not yet finished (adopted ones included). */
        final AtomicLong pending = new AtomicLong();
        /** When sends may be tried again after a failure (System.nanoTime). */
        private long retryAt;
        private int failures;

        Lane(String kind, BiFunction<OutboxItem, ObjectNode, Outcome> send) {
            this.kind = kind;
            this.send = send;
        }

        boolean waiting(long now) {
            return now - retryAt < 0;
        }

        void failed() {
            failures++;
            retryAt = System.nanoTime() + Retry.nanos(failures, RETRY_BASE_NANOS, RETRY_CAP_NANOS, ThreadLocalRandom.current());
        }
    }

    /** Sends the lane's rows, oldest first, until none is left, one fails (then it backs off) or one must wait. */
    private void drain(Lane lane, boolean stopping) {
        if (lane.waiting(System.nanoTime())) {
            return;
        }
        while (true) {
            List<OutboxItem> items = pending(lane.kind);
            if (items.isEmpty()) {
                return;
            }
            for (OutboxItem item : items) {
                ObjectNode body;
                try {
                    body = (ObjectNode) Json.MAPPER.readTree(item.body());
                } catch (IOException | ClassCastException e) {
                    finish(item, "rejected unreadable", lane, lane.rejected);
                    continue;
                }
                Outcome o = lane.send.apply(item, body);
                if (o == Outcome.PAUSE) {
                    return;
                }
                if (o == Outcome.FAILED) {
                    lane.failed();
                    return;
                }
                lane.failures = 0;
            }
            if (stopping && Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    // ---- reports -----------------------------------------------------------------------------------

    private Outcome report(OutboxItem item, ObjectNode body) {
        String current = leases.book.leaseId();
        String lease = item.leaseId() != null && !leases.dead.contains(item.leaseId()) ? item.leaseId() : current;
        if (lease == null) {
            leases.gate(); // no lease: make sure one is being sought, and wait for it
            return Outcome.PAUSE;
        }
        body.put("lease_id", lease);
        try {
            ControlClient.Reply reply = client.post(ControlClient.REPORT, body, true);
            if (reply.ok()) {
                if (!lease.equals(item.leaseId())) {
                    state.attempted(item.id(), lease);
                    if (lease.equals(current)) {
                        leases.absorb(item.costMicros()); // an older charge the current lease now carries
                    }
                }
                finish(item, "acked", reports, reports.sent);
                return Outcome.DONE;
            }
            ControlFailure f = ControlFailure.of("report", reply);
            if (reply.status() == 403 || reply.status() == 404) {
                // The lease is gone or spent on the server's books: charge this to the current lease instead.
                state.attempted(item.id(), null);
                if (lease.equals(current)) {
                    if (f.message().toLowerCase(java.util.Locale.ROOT).contains("insufficient")) {
                        leases.more(); // the server counts the lease spent: a refresh gives the charge a home
                        ControlEvents.error(events, f, client.server());
                        return Outcome.FAILED;
                    }
                    leases.lost(lease, f);
                    return Outcome.PAUSE;
                }
                leases.dead.add(lease);
                return Outcome.DONE; // retried at once against the current lease
            }
            if (f.retryable()) {
                ControlEvents.error(events, f, client.server());
                return Outcome.FAILED;
            }
            finish(item, "rejected " + reply.status() + " " + f.code(), reports, reports.rejected);
            rejected(OutboxRow.REPORT, item, f);
            return Outcome.DONE;
        } catch (IOException e) {
            ControlEvents.error(events, ControlFailure.unreachable("report", e), client.server());
            return Outcome.FAILED;
        } catch (SQLException e) {
            ControlEvents.error(events, new ControlFailure("report", 0, "STATE", e.getMessage()), client.server());
            return Outcome.FAILED;
        }
    }

    // ---- analytics ---------------------------------------------------------------------------------

    private Outcome sendEvent(OutboxItem item, ObjectNode body) {
        ObjectNode withToken = client.bodyWithToken();
        withToken.setAll(body);
        try {
            ControlClient.Reply reply = client.post(ControlClient.ANALYTICS, withToken, true);
            if (reply.ok()) {
                finish(item, "acked", analytics, analytics.sent);
                return Outcome.DONE;
            }
            ControlFailure f = ControlFailure.of("analytics", reply);
            if (f.retryable()) {
                ControlEvents.error(events, f, client.server());
                return Outcome.FAILED;
            }
            finish(item, "rejected " + reply.status() + " " + f.code(), analytics, analytics.rejected); // 4xx: do not resend
            rejected(OutboxRow.ANALYTICS, item, f);
            return Outcome.DONE;
        } catch (IOException e) {
            ControlEvents.error(events, ControlFailure.unreachable("analytics", e), client.server());
            return Outcome.FAILED;
        }
    }

    // ---- leases left behind --------------------------------------------------------------------------

    /**
     * Returns the leases this session holds but no longer charges (adopted from a session that died or
     * could not return them, and at stop the current one) once every report charged to them is acknowledged.
     */
    private void returnLeftovers(boolean all) {
        List<LeaseRow> active;
        try {
            active = state.activeLeases();
        } catch (SQLException e) {
            return;
        }
        String current = leases.book.leaseId();
        leftovers = active.stream().anyMatch(l -> !l.leaseId().equals(current));
        for (LeaseRow l : active) {
            if ((!all && l.leaseId().equals(current)) || reports.waiting(System.nanoTime())) {
                continue;
            }
            try {
                if (hasPendingReports(l.leaseId())) {
                    continue;
                }
                if (!leases.giveBack(l.leaseId(), state.chargedMicros(l.leaseId()))) {
                    reports.failed(); // the server is unreachable or failing: wait before asking again
                    return;
                }
            } catch (SQLException e) {
                return;
            }
        }
    }

    private boolean hasPendingReports(String leaseId) throws SQLException {
        for (OutboxItem i : state.pending(OutboxRow.REPORT, Integer.MAX_VALUE)) {
            if (leaseId.equals(i.leaseId()) && !leases.dead.contains(leaseId)) {
                return true;
            }
            if (i.leaseId() == null || leases.dead.contains(i.leaseId())) {
                return true; // it may yet be charged to this lease
            }
        }
        return false;
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private List<OutboxItem> pending(String kind) {
        try {
            return state.pending(kind, BATCH);
        } catch (SQLException e) {
            ControlEvents.error(events, new ControlFailure(kind, 0, "STATE", e.getMessage()), client.server());
            return List.of();
        }
    }

    private void finish(OutboxItem item, String result, Lane lane, LongAdder counter) {
        try {
            state.finish(List.of(item.id()), result, System.currentTimeMillis());
            counter.increment();
            lane.pending.decrementAndGet();
        } catch (SQLException e) {
            // Sent but not marked: the server's idempotency key makes a resend harmless.
            ControlEvents.error(events, new ControlFailure(item.kind(), 0, "STATE", e.getMessage()), client.server());
        }
    }

    private void rejected(String kind, OutboxItem item, ControlFailure f) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("kind", kind);
        p.put("item_id", item.itemId());
        p.put("status", f.status());
        p.put("code", f.code());
        p.put("message", f.message());
        ControlEvents.publish(events, EngineEvent.CONTROL_REPORT_REJECTED, p);
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
